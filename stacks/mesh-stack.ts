import { Construct } from "constructs";
import { Fn, TerraformOutput } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { MeshBaseStack } from "./base-stack";
import { MeshVariables } from "../lib/constructs/mesh-variables";
import { MeshNetwork } from "../lib/constructs/network";
import { ConsulServer } from "../lib/constructs/consul-server";
import { EcsHosts } from "../lib/constructs/ecs-hosts";
import { MeshCluster } from "../lib/constructs/mesh-cluster";
import { MeshService } from "../lib/constructs/mesh-service";
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
  public readonly consulServer: ConsulServer;
  public readonly cluster: MeshCluster;
  public readonly ecsHosts: EcsHosts;
  public readonly services: readonly MeshService[];

  constructor(scope: Construct, id: string, model: MeshModel) {
    super(scope, id);
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
    const partition = new DataAwsPartition(this, "partition").partition;
    const zones = new DataAwsAvailabilityZones(this, "available_zones", { state: "available" });
    const namePrefix = vars.clusterName;

    this.network = new MeshNetwork(this, "network", {
      name: vars.clusterName,
      vpcCidr: spec.network.vpcCidr,
      publicSubnetCidr: spec.network.publicSubnetCidr,
      availabilityZone: Fn.coalesce([vars.availabilityZone.value, Fn.element(zones.names, 0)]),
    });
    const vpcId = this.network.vpc.id;
    const subnetId = this.network.publicSubnet.id;

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
    });

    this.cluster = new MeshCluster(this, "ecs", {
      clusterName: vars.clusterName,
      namePrefix,
      vpcId,
      vpcCidr: spec.network.vpcCidr,
      partition,
      services: model.services,
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
    this.services = model.services.map(
      (service) =>
        new MeshService(this, `service_${service.name}`, {
          service,
          clusterName: vars.clusterName,
          clusterArn: this.cluster.cluster.arn,
          namePrefix,
          region: vars.region,
          partition,
          subnetIds: [subnetId],
          securityGroupIds: [this.cluster.taskSecurityGroup.id],
          executionRoleArn: this.cluster.executionRole.role.arn,
          consulImage: CONSUL.image,
          envoyImage: ENVOY.image,
          envoyVersion: ENVOY.version,
          agentConfig,
          logRetentionDays: spec.logRetentionDays,
        }),
    );

    // outputs.tf of the original, plus what a reviewer or a script needs to find the mesh.
    this.output("consul_ui_url", `http://${this.consulServer.instance.publicIp}:${CONSUL_PORTS.http}`, "Consul UI (reachable only from admin_cidr)");
    this.output("consul_server_private_ip", this.consulServer.instance.privateIp, "Private address the agents join");
    this.ecsHosts.instances.forEach((host, i) => this.output(`ecs_host_${i + 1}_public_ip`, host.publicIp, `Public IP of ECS host ${i + 1}`));
    this.output("ecs_cluster_name", this.cluster.cluster.name, "ECS cluster running the mesh");
    this.output("ecs_service_names", this.services.map((s) => s.ecsService.name), "ECS services, one per mesh service");
  }

  private output(name: string, value: unknown, description: string): void {
    new TerraformOutput(this, name, { value, description }).overrideLogicalId(name);
  }
}
