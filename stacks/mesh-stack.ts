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
import { architectureOf } from "../lib/aws-limits";
import type { MeshModel } from "../lib/model";
import { CONSUL_PORTS } from "../lib/model";
import { renderClientAgentConfig } from "../lib/render/artifacts";
import { CONSUL, ENVOY } from "../lib/versions";

/**
 * System 1: the Consul service mesh on ECS (network.tf, main.tf, ecs.tf of the original),
 * generated from the model: a service added to the spec gets its task definition, ECS
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

  constructor(scope: Construct, id: string, model: MeshModel, backend?: StateBackend) {
    super(scope, id, backend);
    const { spec } = model;
    const consulArchitecture = architectureOf(spec.consul.serverInstanceType);
    const ecsArchitecture = architectureOf(spec.ecsHosts.instanceType);

    const vars = new MeshVariables(this, "variables", {
      clusterName: spec.name,
      region: spec.region,
      availabilityZone: spec.availabilityZone,
      consulInstanceType: spec.consul.serverInstanceType,
      ecsInstanceType: spec.ecsHosts.instanceType,
      consulArchitecture,
      ecsArchitecture,
      ecsHostCount: spec.ecsHosts.privateIps.length,
      ec2TaskCount: model.ec2TaskCount,
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
      vpcCidr: spec.network.vpcCidr,
      publicSubnetCidr: spec.network.publicSubnetCidr,
      availabilityZone: Fn.coalesce([vars.availabilityZone.value, Fn.element(zones.names, 0)]),
      flowLogs: { kmsKeyArn: logKmsKeyArn, retentionInDays: spec.logRetentionDays, partition },
    });
    const vpcId = this.network.vpc.id;
    const subnetId = this.network.publicSubnet.id;

    this.secrets = new ConsulSecrets(this, "consul_secrets", {
      namePrefix,
      datacenter: spec.consul.datacenter,
      serverPrivateIp: spec.consul.serverPrivateIp,
      serviceNames: model.services.map((s) => s.name),
    });

    this.consulServer = new ConsulServer(this, "consul_server", {
      namePrefix,
      vpcId,
      vpcCidr: spec.network.vpcCidr,
      subnetId,
      privateIp: spec.consul.serverPrivateIp,
      instanceType: vars.consulInstanceType,
      architecture: consulArchitecture,
      datacenter: spec.consul.datacenter,
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
      vpcCidr: spec.network.vpcCidr,
      logKmsKeyArn,
      logRetentionDays: spec.logRetentionDays,
    });

    this.ecsHosts = new EcsHosts(this, "ecs_hosts", {
      namePrefix,
      clusterName: this.cluster.cluster.name,
      vpcId,
      vpcCidr: spec.network.vpcCidr,
      subnetId,
      privateIps: spec.ecsHosts.privateIps,
      instanceType: vars.ecsInstanceType,
      architecture: ecsArchitecture,
      partition,
      adminCidr: vars.adminCidr.stringValue,
      sshAccessCount: vars.sshAccessCount,
      keyName: vars.keyName.stringValue,
    });

    const agentConfig = renderClientAgentConfig({
      datacenter: spec.consul.datacenter,
      retryJoin: [spec.consul.serverPrivateIp],
    });
    const { gossipKey, caCert, agentToken } = this.secrets;
    this.services = model.services.map((service) => {
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
          consulImage: CONSUL.image,
          envoyImage: ENVOY.image,
          agentConfig,
          meshSecrets: { gossipKey: gossipKey.valueFrom, caCert: caCert.valueFrom, agentToken: agentToken.valueFrom, serviceToken: serviceToken.valueFrom },
          meshSecretArns: [gossipKey, caCert, agentToken, serviceToken].map((s) => s.secret.arn),
          logRetentionDays: spec.logRetentionDays,
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
