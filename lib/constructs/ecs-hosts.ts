import { Construct } from "constructs";
import { Fn, TerraformLocal } from "cdktf";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { CPU_ARCHITECTURES } from "../aws-limits";
import { type AwsAccount, AwsServiceRole, sessionManagerPolicy } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { INSTANCE_SETTINGS, LAUNCH_TEMPLATE_SETTINGS } from "./ec2-settings";
import type { MeshVariables } from "./mesh-variables";
import type { MeshPlan } from "../plan/types";
import { HOST_CLUSTER_SLOT } from "../plan/text";
import { escapeForTerraform } from "../render/quoting";
import { renderText } from "../render/text";

export interface EcsHostsProps extends AwsAccount {
  /** Placement, architecture and boot script of the hosts, and their resources' names, as the plan resolved them; the original demo's exposure (network.publicInstances): hosts with public IPs. */
  readonly plan: MeshPlan;
  /** The ECS cluster to join (a Terraform reference). */
  readonly clusterName: string;
  readonly vpcId: string;
  /** Subnets of the hosts, in zone order (fixed hosts go to the subnet holding their address). */
  readonly subnetIds: readonly string[];
  /** For fixed hosts: the subnet of an address. */
  readonly subnetIdOf: (privateIp: string) => string;
  /** Who may SSH to the hosts (admin_cidr, with a key pair), and the EC2 key pair. */
  readonly variables: MeshVariables;
}

/**
 * The ECS container hosts (main.tf): ECS-optimized Amazon Linux 2023 from its public SSM
 * parameter, joined to the cluster by user data. Fixed hosts keep the original's addresses; an
 * Auto Scaling group spreads hosts across the zones behind an ECS capacity provider (managed
 * scaling, managed termination protection and draining), and a new AMI or user data rolls the
 * hosts by instance refresh, new ones first. Unlike the original, no SSH provisioner copies
 * Consul files onto the hosts: tasks carry their own config, so a service change never touches
 * a host.
 */
export class EcsHosts extends Construct {
  public readonly securityGroup: MeshSecurityGroup;
  public readonly role: AwsServiceRole;
  /** Fixed hosts, one per address. */
  public readonly instances: readonly Instance[];
  public readonly autoScalingGroup?: AutoscalingGroup;
  public readonly capacityProvider?: EcsCapacityProvider;
  /** The capacity provider's association with the cluster: services on it are created after it, and destroyed before it. */
  public readonly clusterCapacityProviders?: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: EcsHostsProps) {
    super(scope, id);
    const { hosts, network } = props.plan;
    const names = props.plan.names.hosts;
    this.securityGroup = new MeshSecurityGroup(this, "security_group", {
      vpcId: props.vpcId,
      namePrefix: names.securityGroupPrefix,
      description: "ECS hosts: no inbound traffic except SSH from admin_cidr when a key pair is set",
    });
    props.variables.allowSsh(this.securityGroup);
    this.securityGroup.allowEgress("vpc", { description: "Everything inside the VPC (VPC endpoints, DNS)", protocol: "-1", peer: { cidr: network.vpcCidr } });
    this.securityGroup.allowEgress("https", {
      description: "HTTPS to the ECS, ECR, CloudWatch and SSM APIs and to image registries (NAT gateway)",
      fromPort: 443,
      peer: { cidr: "0.0.0.0/0" },
    });

    this.role = new AwsServiceRole(this, "instance_role", {
      namePrefix: names.rolePrefix,
      description: "ECS container hosts: ECS agent and SSM Session Manager",
      assumedBy: "ec2.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["service-role/AmazonEC2ContainerServiceforEC2Role"],
      inlinePolicies: { "ssm-sessions": sessionManagerPolicy(props) },
      instanceProfile: true,
    });

    const ami = new DataAwsSsmParameter(this, "ami", { name: `/aws/service/ecs/optimized-ami/${CPU_ARCHITECTURES[hosts.architecture].ecsAmiPath}/recommended/image_id` });
    const userData = escapeForTerraform(renderText(hosts.userData, { [HOST_CLUSTER_SLOT]: props.clusterName }));
    const publicIp = network.publicInstances;
    const { placement } = hosts;

    if (placement.kind === "fixed") {
      if (placement.privateIps.length === 0) throw new Error(`${this.node.path}: fixed hosts need at least one address`);
      this.instances = placement.privateIps.map(
        (ip, index) =>
          new Instance(this, `host_${index + 1}`, {
            ami: ami.value,
            instanceType: hosts.instanceType,
            subnetId: props.subnetIdOf(ip),
            privateIp: ip,
            associatePublicIpAddress: publicIp,
            vpcSecurityGroupIds: [this.securityGroup.id],
            iamInstanceProfile: this.role.instanceProfile!.name,
            keyName: props.variables.keyName.stringValue,
            userData,
            ...INSTANCE_SETTINGS,
            tags: { Name: names.hosts[index]! },
            // A new ECS AMI must not replace running hosts on the next apply; roll them deliberately.
            lifecycle: { ignoreChanges: ["ami"] },
          }),
      );
      return;
    }

    this.instances = [];
    const template = new LaunchTemplate(this, "launch_template", {
      namePrefix: names.launchTemplatePrefix,
      imageId: ami.value,
      instanceType: hosts.instanceType,
      keyName: props.variables.keyName.stringValue,
      iamInstanceProfile: { name: this.role.instanceProfile!.name },
      networkInterfaces: [{ associatePublicIpAddress: String(publicIp), securityGroups: [this.securityGroup.id], deleteOnTermination: "true" }],
      // Through a local: Terraform renders the escaped script, then encodes it.
      userData: Fn.base64encode(new TerraformLocal(this, "user_data", userData).asString),
      ...LAUNCH_TEMPLATE_SETTINGS,
      tagSpecifications: [{ resourceType: "instance", tags: { Name: names.instanceTag } }],
    });
    this.autoScalingGroup = new AutoscalingGroup(this, "group", {
      namePrefix: names.autoScalingGroupPrefix,
      minSize: placement.minSize,
      maxSize: placement.maxSize,
      vpcZoneIdentifier: [...props.subnetIds],
      // An explicit version, so a new template version (AMI or user data) starts an instance refresh.
      launchTemplate: { id: template.id, version: Fn.tostring(template.latestVersion) },
      // Managed termination protection needs it: ECS decides which hosts may go (those without tasks).
      protectFromScaleIn: true,
      // Destroy terminates the hosts instead of waiting for a drain to zero that protected hosts never finish.
      forceDelete: true,
      instanceRefresh: {
        strategy: "Rolling",
        // New hosts first; hosts running tasks are refreshed too (they are all scale-in protected),
        // their tasks drained by ECS managed draining.
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200, instanceWarmup: "300", scaleInProtectedInstances: "Refresh" },
      },
      // ECS adds this tag when the capacity provider takes the group; declaring it avoids a perpetual diff.
      tag: [{ key: "AmazonECSManaged", value: "true", propagateAtLaunch: true }],
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });
    this.capacityProvider = new EcsCapacityProvider(this, "capacity_provider", {
      // Capacity provider names may not start with aws, ecs or fargate: the cluster name might.
      name: names.capacityProvider,
      autoScalingGroupProvider: {
        autoScalingGroupArn: this.autoScalingGroup.arn,
        managedTerminationProtection: "ENABLED",
        managedDraining: "ENABLED",
        managedScaling: { status: "ENABLED", targetCapacity: placement.targetCapacityPercent, minimumScalingStepSize: 1, maximumScalingStepSize: 10 },
      },
    });
    this.clusterCapacityProviders = new EcsClusterCapacityProviders(this, "cluster_capacity_providers", {
      clusterName: props.clusterName,
      capacityProviders: [this.capacityProvider.name],
      defaultCapacityProviderStrategy: [{ capacityProvider: this.capacityProvider.name, weight: 1, base: 0 }],
    });
  }
}
