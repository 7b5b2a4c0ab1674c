import type { Construct } from "constructs";
import { Fn, TerraformOutput } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { MeshBaseStack, type StateBackend } from "./base-stack";
import { addMovedBlocks, MOVED_SINCE_0_1_0 } from "./moved";
import { MeshVariables } from "../lib/constructs/mesh-variables";
import { MeshNetwork } from "../lib/constructs/network";
import { ConsulServers } from "../lib/constructs/consul-server";
import { EcsHosts } from "../lib/constructs/ecs-hosts";
import { MeshCluster } from "../lib/constructs/mesh-cluster";
import { MeshService } from "../lib/constructs/mesh-service";
import { MeshObservability } from "../lib/constructs/mesh-observability";
import { ConsulSecrets, type SecretRef } from "../lib/constructs/consul-secrets";
import { MeshKey } from "../lib/constructs/mesh-key";
import { MeshImages } from "../lib/constructs/mesh-images";
import { SnapshotBucket } from "../lib/constructs/snapshot-bucket";
import { CONSUL_PORTS } from "../lib/facts";
import { zoneOfAddress } from "../lib/plan/network";
import { MESH_SECRET_SLOTS, type MeshSecretSlot, meshSecretsOf } from "../lib/plan/containers";
import { SERVER_TAG_KEY } from "../lib/plan/server";
import { ecsServicesOf, keepsOwnNames } from "../lib/plan/names";
import { runsAsServiceIdentity } from "../lib/plan/dataplane";
import type { MeshPlan } from "../lib/plan/types";

/**
 * System 1: the Consul service mesh on ECS (network.tf, main.tf, ecs.tf of the original),
 * generated from the plan: a service added to the spec gets its task definition, ECS
 * service, Consul registration and log group here without a change to this file.
 */
export class MeshStack extends MeshBaseStack {
  public readonly variables: MeshVariables;
  public readonly network: MeshNetwork;
  public readonly key: MeshKey;
  public readonly secrets: ConsulSecrets;
  public readonly images: MeshImages;
  public readonly snapshots?: SnapshotBucket;
  public readonly consulServers: ConsulServers;
  public readonly cluster: MeshCluster;
  public readonly ecsHosts: EcsHosts;
  public readonly services: readonly MeshService[];
  /** The proxy metrics log group, dashboard and alarms, when the spec turns metrics on. */
  public readonly observability?: MeshObservability;
  /** With a TLS edge in this network: the parameters it finds the VPC and its subnets by (IDs, no secret). */
  public readonly tlsEdgeNetwork?: { readonly vpcId: SsmParameter; readonly subnetIds: SsmParameter };
  /** When the TLS edge remote-writes to the workspace the mesh creates: its ARN and remote-write URL, for the edge's stack. */
  public readonly tlsEdgePrometheus?: { readonly workspaceArn: SsmParameter; readonly remoteWriteUrl: SsmParameter };

  constructor(scope: Construct, id: string, plan: MeshPlan, backend?: StateBackend) {
    super(scope, id, backend);
    const { network, names } = plan;
    // Deploy-time variables only for what no rule checks (admin access); everything else is the spec's.
    const vars = new MeshVariables(this, "variables");
    this.variables = vars;

    new AwsProvider(this, "aws", {
      region: plan.region,
      defaultTags: [{ tags: { Terraform: "true", Project: "consul-ecs-mesh", Cluster: plan.name } }],
    });
    new RandomProvider(this, "random");
    const awsPartition = new DataAwsPartition(this, "partition");
    const partition = awsPartition.partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;
    const availabilityZones = this.availabilityZones(network.zones.map((zone) => zone.availabilityZone));
    const region = plan.region;

    this.key = new MeshKey(this, "kms_key", {
      alias: names.keyAlias,
      purpose: "the mesh's logs, secrets, Consul snapshots and data volumes, and ECS Exec sessions",
      accountId,
      region,
      partition,
      logGroups: [`${names.logGroupDirs.ecs}/*`, `${names.logGroupDirs.vpc}/*`],
    });
    const kmsKeyArn = this.key.key.arn;

    this.network = new MeshNetwork(this, "network", {
      plan,
      availabilityZones,
      flowLogs: { kmsKeyArn, partition },
    });
    const vpcId = this.network.vpc.id;
    const edgeNetwork = plan.tlsEdge?.meshNetwork;
    if (edgeNetwork) {
      this.tlsEdgeNetwork = {
        vpcId: this.tlsEdgeParameter("tls_edge_vpc_id_parameter", edgeNetwork.parameters.vpcId, vpcId, "The VPC of the mesh, for the tls-edge stack (IDs, no secret)"),
        subnetIds: this.tlsEdgeParameter(
          "tls_edge_subnet_ids_parameter",
          edgeNetwork.parameters.subnetIds,
          Fn.join(",", this.network.subnetIds(edgeNetwork.subnets)),
          `The ${edgeNetwork.subnets} subnets (comma-separated) of the mesh, for the tls-edge stack (IDs, no secret)`,
        ),
      };
    }
    const instanceSubnets = network.publicInstances ? "public" : "private";
    // A fixed address lives in the zone whose subnet holds it (the rules checked that one does).
    const subnetIdOf = (ip: string): string => this.network.subnetOf(zoneOfAddress(network, ip) ?? 0, instanceSubnets).id;

    this.secrets = new ConsulSecrets(this, "consul_secrets", {
      names: names.consulSecrets,
      // Tokens for the tasks that read one (agent tasks; dataplane tasks log in with their IAM role).
      serviceNames: plan.services.filter((s) => meshSecretsOf(s.task).includes(MESH_SECRET_SLOTS.serviceToken)).map((s) => s.name),
      kmsKeyArn,
    });

    this.images = new MeshImages(this, "images", {
      plan,
      partition,
      region,
      accountId,
      dnsSuffix: awsPartition.dnsSuffix,
    });

    if (plan.server.snapshots) {
      this.snapshots = new SnapshotBucket(this, "snapshots", {
        names: names.snapshots,
        kmsKeyArn,
        retentionDays: plan.server.snapshots.retentionDays,
        partition,
        region,
        accountId,
      });
    }

    this.consulServers = new ConsulServers(this, "consul_servers", {
      plan,
      vpcId,
      subnets: {
        subnetIdOfZone: (zone) => this.network.subnetOf(zone, instanceSubnets).id,
        availabilityZoneOf: (zone) => availabilityZones[zone]!,
      },
      partition,
      region,
      accountId,
      variables: vars,
      secrets: this.secrets,
      kmsKeyArn,
      ...(this.snapshots ? { snapshots: { bucketName: this.snapshots.bucket.bucket, bucketArn: this.snapshots.bucket.arn } } : {}),
    });

    this.cluster = new MeshCluster(this, "ecs", { plan, vpcId, kmsKeyArn });

    this.ecsHosts = new EcsHosts(this, "ecs_hosts", {
      plan,
      clusterName: this.cluster.cluster.name,
      vpcId,
      subnetIds: this.network.subnetIds(instanceSubnets),
      subnetIdOf,
      partition,
      region,
      accountId,
      variables: vars,
    });

    if (plan.server.agents) this.consulServers.allowAgentsFrom(this.cluster.taskSecurityGroup);
    if (plan.dataplane) {
      this.consulServers.securityGroup.allowIngress("grpc_tls_from_tasks", {
        description: "Consul gRPC over TLS (xDS, IAM login) from mesh tasks only (dataplane tasks)",
        fromPort: plan.dataplane.grpcTlsPort,
        peer: { securityGroupId: this.cluster.taskSecurityGroup.id },
      });
    }

    // One ECS service per version of a service with versions (the same Consul service and token).
    const { observability } = plan;
    if (observability) this.observability = new MeshObservability(this, "observability", { plan: { ...plan, observability }, kmsKeyArn });
    // The workspace the mesh creates, for the TLS edge's collector (its stack reads no remote state).
    const edgePrometheus = plan.tlsEdge?.metrics?.prometheus;
    if (edgePrometheus?.workspace === "create") {
      const created = this.observability?.prometheus;
      if (!created) throw new Error(`${id}: the TLS edge remote-writes to the workspace the mesh creates, but the mesh has none`);
      const description = (what: string) => `${what} of the mesh's Prometheus workspace, for the tls-edge stack (no secret)`;
      this.tlsEdgePrometheus = {
        workspaceArn: this.tlsEdgeParameter("tls_edge_prometheus_workspace_arn_parameter", edgePrometheus.parameters.workspaceArn, created.workspaceArn, description("The ARN")),
        remoteWriteUrl: this.tlsEdgeParameter(
          "tls_edge_prometheus_remote_write_url_parameter",
          edgePrometheus.parameters.remoteWriteUrl,
          created.remoteWriteUrl,
          description("The remote-write URL"),
        ),
      };
    }
    // The default version comes first (ecsServicesOf): a dataplane service's other versions run as its task role.
    const defaults = new Map<string, MeshService>();
    this.services = plan.services.flatMap(ecsServicesOf).map((service) => {
      const serviceToken = this.secrets.serviceTokens.get(service.name);
      const secretOf: Readonly<Record<MeshSecretSlot, SecretRef | undefined>> = {
        [MESH_SECRET_SLOTS.gossipKey]: this.secrets.gossipKey,
        [MESH_SECRET_SLOTS.caCert]: this.secrets.caCert,
        [MESH_SECRET_SLOTS.agentToken]: this.secrets.agentToken,
        [MESH_SECRET_SLOTS.serviceToken]: serviceToken,
      };
      // Exactly the mesh secrets the task's containers read (the plan's list).
      const taskSecrets = meshSecretsOf(service.task).map((slot) => ({ slot, ref: secretOf[slot]! }));
      // The default version keeps its service's id (and names): adding versions rolls it in place.
      const serviceTaskRole = runsAsServiceIdentity(service) ? defaults.get(service.name)?.taskRole : undefined;
      const construct = new MeshService(this, keepsOwnNames(service) ? `service_${service.name}_${service.version}` : `service_${service.name}`, {
        service,
        ...(serviceTaskRole ? { serviceTaskRole } : {}),
        plan,
        cluster: this.cluster,
        region,
        partition,
        accountId,
        subnetIds: this.network.subnetIds(service.subnets),
        images: this.images,
        ...(this.ecsHosts.capacityProvider ? { capacityProviderName: this.ecsHosts.capacityProvider.name } : {}),
        meshSecrets: taskSecrets,
        kmsKeyArn,
        ...(this.observability ? { metricsLogGroup: this.observability.metricsLogGroup } : {}),
        ...(this.observability?.prometheus ? { prometheus: this.observability.prometheus } : {}),
        // Tasks start once what the plan lists exists (the boot-order rule reads the same list).
        dependsOn: service.startsAfter.flatMap((prerequisite) => {
          switch (prerequisite) {
            case "consul-servers":
              return this.consulServers.dependables;
            case "mesh-secrets":
              return this.secrets.versionsOf(taskSecrets.map((s) => s.ref));
            case "service-token":
              return serviceToken ? [serviceToken.parameter] : [];
            case "capacity-provider":
              return this.ecsHosts.clusterCapacityProviders ? [this.ecsHosts.clusterCapacityProviders] : [];
            case "edge-ca":
              throw new Error(`${service.name}: only the TLS edge's tasks wait for its CA`);
          }
        }),
      });
      if (!keepsOwnNames(service)) defaults.set(service.name, construct);
      return construct;
    });

    this.consulServers.bootAfter(this.services.flatMap((s) => (s.loginRoleParameter ? [s.loginRoleParameter] : [])));

    // outputs.tf of the original, plus what a reviewer or a script needs to find the mesh.
    this.output(
      "consul_ui_url",
      `https://localhost:${CONSUL_PORTS.https}/ui/`,
      "Consul UI over HTTPS through scripts/consul-port-forward.sh (the server certificate covers localhost); log in with the management token",
    );
    this.output(
      "consul_ca_cert_secret_arn",
      this.secrets.caCert.secret.arn,
      "Secrets Manager ARN of the CA that signed the Consul server certificates, which the first server writes (aws secretsmanager get-secret-value, README)",
    );
    this.output(
      "consul_gossip_key_secret_arn",
      this.secrets.gossipKey.secret.arn,
      "Secrets Manager ARN of the gossip key (the ARN, not the key): scripts/roll-consul-servers.sh --rotate-gossip-key writes the next key there",
    );
    this.output("consul_management_token_secret_arn", this.secrets.managementToken.secret.arn, "Secrets Manager ARN of the Consul management token (the ARN, not the token)");
    this.output("consul_server_tag", `${SERVER_TAG_KEY}=${plan.name}`, "EC2 tag of the Consul servers (port forwarding and cloud auto-join find them by it)");
    const fixedServers = this.consulServers.nodes.flatMap((n) => (n.instance ? [n.instance] : []));
    if (fixedServers.length > 0) {
      this.output(
        "consul_server_private_ips",
        fixedServers.map((i) => i.privateIp),
        "Private addresses the agents join",
      );
    }
    const groups = this.consulServers.nodes.flatMap((n) => (n.autoScalingGroup ? [n.autoScalingGroup.name] : []));
    if (groups.length > 0) this.output("consul_server_groups", groups, "Auto Scaling group of each server (scripts/roll-consul-servers.sh replaces them one at a time)");
    this.ecsHosts.instances.forEach((host, i) => this.output(`ecs_host_${i + 1}_private_ip`, host.privateIp, `Private IP of ECS host ${i + 1}`));
    this.output("ecs_cluster_name", this.cluster.cluster.name, "ECS cluster running the mesh");
    this.output(
      "ecs_service_names",
      this.services.map((s) => s.ecsService.name),
      "ECS services, one per mesh service",
    );
    if (this.snapshots) {
      this.output("consul_snapshot_bucket", this.snapshots.bucket.bucket, "S3 bucket of the Consul snapshots (README: restore)");
      this.output("consul_snapshot_restore_role_arn", this.snapshots.restoreRole.arn, "The only role that may read snapshots: assume it to restore (README: restore)");
    }
    addMovedBlocks(this, MOVED_SINCE_0_1_0);
  }

  /**
   * Each zone's availability zone: the one the spec names, else the region's next available zone
   * that the spec does not name (by name: the data source lists them sorted, and setsubtract's set
   * is sorted again explicitly).
   */
  private availabilityZones(named: readonly (string | undefined)[]): string[] {
    if (named.every((zone): zone is string => zone !== undefined)) return [...named];
    const taken = named.filter((zone): zone is string => zone !== undefined);
    const needed = named.length - taken.length;
    const zones = new DataAwsAvailabilityZones(this, "available_zones", {
      state: "available",
      // Without it, a region with too few zones would put two of the spec's zones in one.
      lifecycle: {
        postcondition: [
          {
            condition: `\${length(setsubtract(self.names, ${JSON.stringify(taken)})) >= ${needed}}`,
            errorMessage: `The region has too few available zones for the ${needed} zone(s) network.zones leaves unnamed: name them (network.zones[].availabilityZone) or use fewer zones.`,
          },
        ],
      },
    });
    const available = zones.names;
    const free = taken.length === 0 ? available : Fn.sort(Fn.setsubtract(available, taken));
    let next = 0;
    return named.map((zone) => zone ?? Fn.element(free, next++));
  }

  /** A String parameter the tls-edge stack reads instead of this stack's state (IDs and URLs, no secret). */
  private tlsEdgeParameter(id: string, name: string, value: string, description: string): SsmParameter {
    return new SsmParameter(this, id, { name, description, type: "String", tier: "Standard", value });
  }

  private output(name: string, value: unknown, description: string): void {
    new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
  }
}
