import { Construct } from "constructs";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { AwsServiceRole } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { HOST_SLOTS } from "../plan/build";
import type { HostsPlan } from "../plan/types";
import { escapeForTerraform } from "../render/quoting";
import { renderText } from "../render/text";

export interface EcsHostsProps {
  /** Addresses, architecture and boot script of the hosts, as the plan resolved them. */
  readonly hosts: HostsPlan;
  readonly namePrefix: string;
  readonly clusterName: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetId: string;
  /** The instance type (the ecs_instance_size variable; the plan's type is its default). */
  readonly instanceType: string;
  readonly partition: string;
  readonly adminCidr: string;
  /** Terraform count of the SSH rule: 1 only when both admin_cidr and a key pair are set. */
  readonly sshAccessCount: number;
  readonly keyName: string;
}

/**
 * The ECS container hosts (main.tf): ECS-optimized Amazon Linux 2023 from its public SSM
 * parameter, joined to the cluster by user data. Unlike the original, no SSH provisioner
 * copies Consul files onto the hosts: tasks carry their own config, so a service change never
 * touches a host.
 */
export class EcsHosts extends Construct {
  public readonly instances: Instance[];
  public readonly securityGroup: MeshSecurityGroup;
  public readonly role: AwsServiceRole;

  constructor(scope: Construct, id: string, props: EcsHostsProps) {
    super(scope, id);
    if (props.hosts.privateIps.length === 0) throw new Error(`${this.node.path}: hosts.privateIps must list at least one address`);
    this.securityGroup = new MeshSecurityGroup(this, "security_group", {
      vpcId: props.vpcId,
      namePrefix: `${props.namePrefix}-ecs-hosts-`,
      description: "ECS hosts: no inbound traffic except SSH from admin_cidr when a key pair is set",
    });
    this.securityGroup.allowIngress("ssh", {
      description: "SSH from admin_cidr (only with aws_ec2_key)",
      protocol: "tcp",
      fromPort: 22,
      peer: { cidr: props.adminCidr },
      count: props.sshAccessCount,
    });
    this.securityGroup.allowEgress("vpc", { description: "Everything inside the VPC", protocol: "-1", peer: { cidr: props.vpcCidr } });
    this.securityGroup.allowEgress("https", {
      description: "HTTPS to the ECS, ECR, CloudWatch and SSM APIs and to image registries",
      protocol: "tcp",
      fromPort: 443,
      peer: { cidr: "0.0.0.0/0" },
    });

    this.role = new AwsServiceRole(this, "instance_role", {
      namePrefix: `${props.namePrefix}-ecs-host-`,
      description: "ECS container hosts: ECS agent and SSM Session Manager",
      assumedBy: "ec2.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["service-role/AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"],
      instanceProfile: true,
    });

    const amiPath = props.hosts.architecture === "arm64" ? "amazon-linux-2023/arm64" : "amazon-linux-2023";
    const ami = new DataAwsSsmParameter(this, "ami", { name: `/aws/service/ecs/optimized-ami/${amiPath}/recommended/image_id` });
    const userData = escapeForTerraform(renderText(props.hosts.userData, { [HOST_SLOTS.clusterName]: props.clusterName }));
    // One host per address; fixed addresses as in the original, so hosts are easy to find.
    this.instances = props.hosts.privateIps.map(
      (ip, index) =>
        new Instance(this, `host_${index + 1}`, {
          ami: ami.value,
          instanceType: props.instanceType,
          subnetId: props.subnetId,
          privateIp: ip,
          associatePublicIpAddress: true,
          vpcSecurityGroupIds: [this.securityGroup.id],
          iamInstanceProfile: this.role.instanceProfile!.name,
          keyName: props.keyName,
          userData,
          // Hop limit 1 keeps containers in bridge mode away from the host's credentials; awsvpc
          // tasks are blocked from IMDS by ECS_AWSVPC_BLOCK_IMDS in the user data.
          metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
          rootBlockDevice: { encrypted: true, volumeType: "gp3" },
          monitoring: true,
          tags: { Name: `${props.namePrefix}-ecs-host-${index + 1}` },
          // A new ECS AMI must not replace running hosts on the next apply; roll it deliberately.
          lifecycle: { ignoreChanges: ["ami"] },
        }),
    );
  }
}
