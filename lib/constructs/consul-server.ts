import { Construct } from "constructs";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { AwsServiceRole } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { CONSUL_PORTS } from "../facts";
import { SERVER_SLOTS } from "../plan/build";
import type { ServerPlan } from "../plan/types";
import { escapeForTerraform } from "../render/quoting";
import { renderText } from "../render/text";
import type { ConsulSecrets } from "./consul-secrets";

export interface ConsulServerProps {
  /** Address, architecture and boot script of the server, as the plan resolved them. */
  readonly server: ServerPlan;
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly subnetId: string;
  /** The instance type (the consul_instance_size variable; the plan's type is its default). */
  readonly instanceType: string;
  readonly partition: string;
  /** CIDR allowed to the UI (the admin_cidr variable). */
  readonly adminCidr: string;
  /** Terraform count of the UI rule: 0 while admin_cidr is null. */
  readonly adminAccessCount: number;
  /** Terraform count of the SSH rule: 1 only when both admin_cidr and a key pair are set. */
  readonly sshAccessCount: number;
  /** EC2 key pair name (null in Terraform means none: use SSM Session Manager). */
  readonly keyName: string;
  readonly region: string;
  /** Keys, certificates and tokens the server reads from Secrets Manager at boot. */
  readonly secrets: ConsulSecrets;
}

/**
 * The Consul server on EC2 (main.tf): Amazon Linux 2023 instead of Ubuntu 16.04, Consul
 * installed by user data from a pinned, SHA-256-verified release and run by systemd, and
 * no SSH file provisioner: the config file is part of the user data, and its secrets come
 * from Secrets Manager at boot. ACLs (default deny), gossip encryption and TLS with
 * verify_incoming/verify_outgoing/verify_server_hostname are always on; the API and UI are
 * HTTPS only (8501).
 */
export class ConsulServer extends Construct {
  public readonly instance: Instance;
  public readonly securityGroup: MeshSecurityGroup;
  public readonly role: AwsServiceRole;

  constructor(scope: Construct, id: string, props: ConsulServerProps) {
    super(scope, id);
    this.securityGroup = new MeshSecurityGroup(this, "security_group", {
      vpcId: props.vpcId,
      namePrefix: `${props.namePrefix}-consul-server-`,
      description: "Consul server: agent RPC, gossip, API and DNS from the VPC only",
    });
    const vpc = { cidr: props.vpcCidr };
    const sg = this.securityGroup;
    sg.allowIngress("server_rpc", { description: "Consul server RPC from agents in the VPC", protocol: "tcp", fromPort: CONSUL_PORTS.serverRpc, peer: vpc });
    for (const protocol of ["tcp", "udp"] as const) {
      sg.allowIngress(`serf_lan_${protocol}`, { description: `Consul Serf LAN gossip (${protocol}) from agents in the VPC`, protocol, fromPort: CONSUL_PORTS.serfLan, peer: vpc });
      sg.allowIngress(`dns_${protocol}`, { description: `Consul DNS (${protocol}) from the VPC`, protocol, fromPort: CONSUL_PORTS.dns, peer: vpc });
    }
    sg.allowIngress("https_api", { description: "Consul HTTPS API (ACL token required) from the VPC", protocol: "tcp", fromPort: CONSUL_PORTS.https, peer: vpc });
    sg.allowIngress("admin_ui", {
      description: "Consul UI and HTTPS API from admin_cidr",
      protocol: "tcp",
      fromPort: CONSUL_PORTS.https,
      peer: { cidr: props.adminCidr },
      count: props.adminAccessCount,
    });
    sg.allowIngress("ssh", {
      description: "SSH from admin_cidr (only with aws_ec2_key)",
      protocol: "tcp",
      fromPort: 22,
      peer: { cidr: props.adminCidr },
      count: props.sshAccessCount,
    });
    sg.allowEgress("vpc", { description: "Everything inside the VPC (agents, DNS resolver)", protocol: "-1", peer: vpc });
    sg.allowEgress("https", { description: "HTTPS to releases.hashicorp.com, package repositories and AWS APIs", protocol: "tcp", fromPort: 443, peer: { cidr: "0.0.0.0/0" } });

    const { secrets } = props;
    this.role = new AwsServiceRole(this, "instance_role", {
      namePrefix: `${props.namePrefix}-consul-`,
      description: "Consul server instance: SSM Session Manager, and read its own secrets",
      assumedBy: "ec2.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["AmazonSSMManagedInstanceCore"],
      inlinePolicies: {
        "read-consul-secrets": {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secrets.serverReadableSecrets.map((s) => s.secret.arn) },
            { Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [secrets.serviceTokenManifest.arn] },
          ],
        },
      },
      instanceProfile: true,
    });

    const ami = new DataAwsSsmParameter(this, "ami", {
      name: `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${props.server.architecture}`,
    });
    const userData = renderText(props.server.userData, {
      [SERVER_SLOTS.region]: props.region,
      [SERVER_SLOTS.serviceTokenManifest]: secrets.serviceTokenManifest.name,
      [SERVER_SLOTS.gossipKey]: secrets.gossipKey.secret.arn,
      [SERVER_SLOTS.caCert]: secrets.caCert.secret.arn,
      [SERVER_SLOTS.serverCert]: secrets.serverCert.secret.arn,
      [SERVER_SLOTS.serverKey]: secrets.serverKey.secret.arn,
      [SERVER_SLOTS.managementToken]: secrets.managementToken.secret.arn,
      [SERVER_SLOTS.agentToken]: secrets.agentToken.secret.arn,
    });
    this.instance = new Instance(this, "instance", {
      ami: ami.value,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      privateIp: props.server.privateIp,
      associatePublicIpAddress: true,
      vpcSecurityGroupIds: [sg.id],
      iamInstanceProfile: this.role.instanceProfile!.name,
      keyName: props.keyName,
      userData: escapeForTerraform(userData),
      userDataReplaceOnChange: true,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      monitoring: true,
      tags: { Name: `${props.namePrefix}-consul-server` },
      // A new AMI release must not replace the server on the next apply; roll it deliberately.
      lifecycle: { ignoreChanges: ["ami"] },
    });
  }
}
