import { Construct } from "constructs";
import { Fn, TerraformOutput } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { MeshBaseStack, type StateBackend } from "./base-stack";
import { MeshVariables } from "../lib/constructs/mesh-variables";
import { MeshNetwork } from "../lib/constructs/network";
import { ConsulServer } from "../lib/constructs/consul-server";
import { EcsHosts } from "../lib/constructs/ecs-hosts";
import { MeshCluster } from "../lib/constructs/mesh-cluster";
import { MeshService } from "../lib/constructs/mesh-service";
import { ConsulSecrets } from "../lib/constructs/consul-secrets";
import { LogEncryptionKey } from "../lib/constructs/log-encryption-key";
import { CONSUL_PORTS } from "../lib/facts";
import { MESH_SECRET_SLOTS } from "../lib/plan/containers";
import type { MeshPlan } from "../lib/plan/types";

/**
 * System 1: the Consul service mesh on ECS (network.tf, main.tf, ecs.tf of the original),
 * generated from the plan: a service added to the spec gets its task definition, ECS
 * service, Consul registration and log group here without a change to this file.
 */
export class MeshStack extends MeshBaseStack {
  public readonly variables: MeshVariables;
  public readonly network: MeshNetwork;
  public readonly secrets: ConsulSecrets;
  public readonly logKey: LogEncryptionKey;
  public readonly consulServer: ConsulServer;
  public readonly cluster: MeshCluster;
  public readonly ecsHosts: EcsHosts;
  public readonly services: readonly MeshService[];

  constructor(scope: Construct, id: string, plan: MeshPlan, backend?: StateBackend) {
    super(scope, id, backend);
    const vars = new MeshVariables(this, "variables", {
      clusterName: plan.name,
      region: plan.region,
      availabilityZone: plan.availabilityZone,
      consulInstanceType: plan.server.instanceType,
      ecsInstanceType: plan.hosts.instanceType,
      consulArchitecture: plan.server.architecture,
      ecsArchitecture: plan.hosts.architecture,
      ecsHostCount: plan.hosts.privateIps.length,
      ec2TaskCount: plan.ec2TaskCount,
    });
    this.variables = vars;

    new AwsProvider(this, "aws", {
      region: vars.region,
      defaultTags: [{ tags: { Terraform: "true", Environment: "dev", Project: "consul-ecs-mesh", Cluster: vars.clusterName } }],
    });
    new RandomProvider(this, "random");
    new TlsProvider(this, "tls");
    const partition = new DataAwsPartition(this, "partition").partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;
    const zones = new DataAwsAvailabilityZones(this, "available_zones", { state: "available" });
    const namePrefix = vars.clusterName;

    this.logKey = new LogEncryptionKey(this, "log_key", { alias: `${namePrefix}-logs`, accountId, region: vars.region, partition });
    const logKmsKeyArn = this.logKey.key.arn;

    this.network = new MeshNetwork(this, "network", {
      name: vars.clusterName,
      vpcCidr: plan.network.vpcCidr,
      publicSubnetCidr: plan.network.publicSubnetCidr,
      availabilityZone: Fn.coalesce([vars.availabilityZone.value, Fn.element(zones.names, 0)]),
      flowLogs: { kmsKeyArn: logKmsKeyArn, retentionInDays: plan.logRetentionDays, partition },
    });
    const vpcId = this.network.vpc.id;
    const subnetId = this.network.publicSubnet.id;

    this.secrets = new ConsulSecrets(this, "consul_secrets", {
      namePrefix,
      datacenter: plan.datacenter,
      serverPrivateIp: plan.server.privateIp,
      serviceNames: plan.services.map((s) => s.name),
    });

    this.consulServer = new ConsulServer(this, "consul_server", {
      server: plan.server,
      namePrefix,
      vpcId,
      vpcCidr: plan.network.vpcCidr,
      subnetId,
      instanceType: vars.consulInstanceType,
      partition,
      adminCidr: vars.adminCidr.stringValue,
      adminAccessCount: vars.adminAccessCount,
      sshAccessCount: vars.sshAccessCount,
      keyName: vars.keyName.stringValue,
      region: vars.region,
      secrets: this.secrets,
    });

    this.cluster = new MeshCluster(this, "ecs", {
      clusterName: vars.clusterName,
      namePrefix,
      vpcId,
      vpcCidr: plan.network.vpcCidr,
      logKmsKeyArn,
      logRetentionDays: plan.logRetentionDays,
    });

    this.ecsHosts = new EcsHosts(this, "ecs_hosts", {
      hosts: plan.hosts,
      namePrefix,
      clusterName: this.cluster.cluster.name,
      vpcId,
      vpcCidr: plan.network.vpcCidr,
      subnetId,
      instanceType: vars.ecsInstanceType,
      partition,
      adminCidr: vars.adminCidr.stringValue,
      sshAccessCount: vars.sshAccessCount,
      keyName: vars.keyName.stringValue,
    });

    const { gossipKey, caCert, agentToken } = this.secrets;
    this.services = plan.services.map((service) => {
      const serviceToken = this.secrets.serviceTokens.get(service.name)!;
      return new MeshService(this, `service_${service.name}`, {
          service,
          clusterName: vars.clusterName,
          clusterArn: this.cluster.cluster.arn,
          namePrefix,
          region: vars.region,
          partition,
          subnetIds: [subnetId],
          securityGroupIds: [this.cluster.taskSecurityGroup.id],
          meshSecrets: {
            [MESH_SECRET_SLOTS.gossipKey]: gossipKey.valueFrom,
            [MESH_SECRET_SLOTS.caCert]: caCert.valueFrom,
            [MESH_SECRET_SLOTS.agentToken]: agentToken.valueFrom,
            [MESH_SECRET_SLOTS.serviceToken]: serviceToken.valueFrom,
          },
          meshSecretArns: [gossipKey, caCert, agentToken, serviceToken].map((s) => s.secret.arn),
          logRetentionDays: plan.logRetentionDays,
          logKmsKeyArn,
          execLogGroupArn: this.cluster.execLogGroup.arn,
          logGroupsArnPattern: `arn:${partition}:logs:${vars.region}:${accountId}:log-group:*`,
      });
    });

    // outputs.tf of the original, plus what a reviewer or a script needs to find the mesh.
    this.output("consul_ui_url", `https://${this.consulServer.instance.publicIp}:${CONSUL_PORTS.https}/ui/`, "Consul UI over HTTPS (reachable only from admin_cidr; log in with the management token)");
    this.output("consul_ca_cert_pem", this.secrets.caCertPem, "CA that signed the Consul server certificate: pass it to curl --cacert or the browser");
    this.output("consul_management_token_secret_arn", this.secrets.managementToken.secret.arn, "Secrets Manager ARN of the Consul management token (the ARN, not the token)");
    this.output("consul_server_instance_id", this.consulServer.instance.id, "Consul server instance, the target of SSM sessions and port forwarding");
    this.output("consul_server_private_ip", this.consulServer.instance.privateIp, "Private address the agents join");
    this.ecsHosts.instances.forEach((host, i) => this.output(`ecs_host_${i + 1}_public_ip`, host.publicIp, `Public IP of ECS host ${i + 1}`));
    this.output("ecs_cluster_name", this.cluster.cluster.name, "ECS cluster running the mesh");
    this.output("ecs_service_names", this.services.map((s) => s.ecsService.name), "ECS services, one per mesh service");
  }

  private output(name: string, value: unknown, description: string): void {
    new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
  }
}
