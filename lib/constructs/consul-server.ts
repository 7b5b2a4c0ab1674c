import { Construct } from "constructs";
import { Fn, TerraformLocal, dependable, type ITerraformDependable } from "cdktf";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { type AwsAccount, AwsServiceRole, allow, policyDocument, sessionManagerPolicy } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { INSTANCE_SETTINGS, LAUNCH_TEMPLATE_SETTINGS } from "./ec2-settings";
import { CONSUL_PORTS } from "../facts";
import { SERVER_LAUNCH_HOOK, SERVER_LAUNCH_HOOK_SECONDS, SERVER_SLOTS, SERVER_TAG_KEY, loginRolesArn } from "../plan/server";
import { loginRolePath } from "../plan/names";
import type { MeshPlan, ServerNodePlan } from "../plan/types";
import { escapeForTerraform } from "../render/quoting";
import { renderText } from "../render/text";
import type { ConsulSecrets } from "./consul-secrets";
import type { MeshVariables } from "./mesh-variables";

/** Where a server runs: its subnet per zone (a public one, with a public IP, in the original demo's exposure: network.publicInstances). */
export interface ServerSubnets {
  readonly subnetIdOfZone: (zone: number) => string;
  /** The availability zone of each plan zone (the data volume must be in the instance's zone). */
  readonly availabilityZoneOf: (zone: number) => string;
}

export interface ConsulServersProps extends AwsAccount {
  /**
   * The servers' count, placement, addresses and boot script, and their resources' names, as the
   * plan resolved them; its name is the value of the servers' auto-join tag.
   */
  readonly plan: MeshPlan;
  readonly vpcId: string;
  readonly subnets: ServerSubnets;
  /** Who may reach the UI and SSH (admin_cidr), and the EC2 key pair (null in Terraform means none: use SSM Session Manager). */
  readonly variables: MeshVariables;
  /** Keys, certificates and tokens the servers read from Secrets Manager at boot. */
  readonly secrets: ConsulSecrets;
  /** The KMS key of the secrets, the data volumes and the snapshots. */
  readonly kmsKeyArn: string;
  /** Where snapshots go. @default none (snapshots off in the plan) */
  readonly snapshots?: { readonly bucketName: string; readonly bucketArn: string };
}

/** One server: its instance (fixed address) or Auto Scaling group of one, its data volume and role. */
export interface ConsulServerNode {
  readonly index: number;
  readonly role: AwsServiceRole;
  readonly dataVolume: EbsVolume;
  readonly instance?: Instance;
  readonly autoScalingGroup?: AutoscalingGroup;
}

/**
 * The Consul servers on EC2 (main.tf): Amazon Linux 2023, Consul installed by user data from a
 * pinned, SHA-256-verified release and run by systemd, config and secrets at boot (Secrets
 * Manager, no SSH provisioner). Each server keeps its Raft state on its own encrypted EBS volume,
 * so a replaced instance rejoins with its data. A fixed address gives an EC2 instance whose user
 * data changes never replace it (roll it deliberately, README); without one, each server is an
 * Auto Scaling group of one whose launch template changes take effect only when
 * scripts/roll-consul-servers.sh replaces the servers one at a time, each new instance reporting
 * in service only once the cluster is healthy with it. ACLs (default deny), gossip encryption and
 * TLS with verify_incoming/verify_outgoing/verify_server_hostname are always on; the API and UI
 * are HTTPS only (8501).
 */
export class ConsulServers extends Construct {
  public readonly securityGroup: MeshSecurityGroup;
  public readonly nodes: readonly ConsulServerNode[];

  constructor(scope: Construct, id: string, props: ConsulServersProps) {
    super(scope, id);
    this.securityGroup = this.serverSecurityGroup(props);
    const ami = new DataAwsSsmParameter(this, "ami", {
      name: `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${props.plan.server.architecture}`,
    });
    this.nodes = props.plan.server.nodes.map((node) => this.node_(props, node, ami.value));
  }

  /** Agent tasks (in this security group) reach the servers' RPC and Serf LAN gossip, and the servers gossip back. */
  public allowAgentsFrom(taskSecurityGroup: MeshSecurityGroup): void {
    const tasks = { securityGroupId: taskSecurityGroup.id };
    this.securityGroup.allowIngress("agent_rpc_from_tasks", {
      description: "Consul server RPC from the agents in mesh tasks",
      fromPort: CONSUL_PORTS.serverRpc,
      peer: tasks,
    });
    for (const protocol of ["tcp", "udp"] as const) {
      taskSecurityGroup.allowIngress(`serf_lan_${protocol}_from_servers`, {
        description: `Consul Serf LAN gossip (${protocol}) from the servers to agent tasks`,
        protocol,
        fromPort: CONSUL_PORTS.serfLan,
        peer: { securityGroupId: this.securityGroup.id },
      });
      this.securityGroup.allowIngress(`agent_serf_lan_${protocol}_from_tasks`, {
        description: `Consul Serf LAN gossip (${protocol}) from the agents in mesh tasks`,
        protocol,
        fromPort: CONSUL_PORTS.serfLan,
        peer: tasks,
      });
    }
  }

  /** Every resource a mesh service must wait for: the servers exist and can read their secrets. */
  public get dependables(): ITerraformDependable[] {
    return this.nodes.flatMap((n) => [n.instance ?? n.autoScalingGroup!]);
  }

  /**
   * Boot the servers only once these exist: the dataplane services' login role parameters, which
   * a new server's first consul-acl-sync turns into binding rules before it reports in service.
   */
  public bootAfter(resources: readonly ITerraformDependable[]): void {
    if (resources.length === 0) return;
    for (const node of this.nodes) {
      const server = node.instance ?? node.autoScalingGroup!;
      server.dependsOn = [...(server.dependsOn ?? []), ...resources.map((r) => dependable(r))];
    }
  }

  private serverSecurityGroup(props: ConsulServersProps): MeshSecurityGroup {
    const sg = new MeshSecurityGroup(this, "security_group", {
      vpcId: props.vpcId,
      namePrefix: props.plan.names.servers.securityGroupPrefix,
      description: "Consul servers: agent RPC, gossip, API and DNS from the VPC only",
    });
    const vpc = { cidr: props.plan.network.vpcCidr };
    // Between the servers; agent tasks get their own rules (allowAgentsFrom), and nothing queries the servers' DNS.
    const servers = { securityGroupId: sg.id };
    sg.allowIngress("server_rpc", { description: "Consul server RPC between the servers", fromPort: CONSUL_PORTS.serverRpc, peer: servers });
    for (const protocol of ["tcp", "udp"] as const) {
      sg.allowIngress(`serf_lan_${protocol}`, { description: `Consul Serf LAN gossip (${protocol}) between the servers`, protocol, fromPort: CONSUL_PORTS.serfLan, peer: servers });
      // Servers flood-join each other's WAN pool even in one datacenter.
      sg.allowIngress(`serf_wan_${protocol}`, { description: `Consul Serf WAN gossip (${protocol}) between the servers`, protocol, fromPort: CONSUL_PORTS.serfWan, peer: servers });
    }
    sg.allowIngress("https_api", { description: "Consul HTTPS API (ACL token required) from the VPC", fromPort: CONSUL_PORTS.https, peer: vpc });
    sg.allowIngress("admin_ui", {
      description: "Consul UI and HTTPS API from admin_cidr",
      fromPort: CONSUL_PORTS.https,
      peer: { cidr: props.variables.adminCidr.stringValue },
      count: props.variables.adminAccessCount,
    });
    props.variables.allowSsh(sg);
    sg.allowEgress("vpc", { description: "Everything inside the VPC (agents, other servers, DNS resolver, VPC endpoints)", protocol: "-1", peer: vpc });
    sg.allowEgress("https", {
      description: "HTTPS to releases.hashicorp.com, package repositories and AWS APIs (NAT gateway)",
      fromPort: 443,
      peer: { cidr: "0.0.0.0/0" },
    });
    return sg;
  }

  private node_(props: ConsulServersProps, node: ServerNodePlan, ami: string): ConsulServerNode {
    const n = node.index + 1;
    const names = props.plan.names.servers.nodes[node.index]!;
    const { secrets } = props;
    const { server } = props.plan;
    const autoScaling = server.placement === "auto-scaling";
    const dataVolume = new EbsVolume(this, `server_${n}_data`, {
      availabilityZone: props.subnets.availabilityZoneOf(node.zone),
      size: server.dataVolumeGiB,
      type: "gp3",
      encrypted: true,
      kmsKeyId: props.kmsKeyArn,
      // Raft state: the catalog, ACLs, intentions and the Connect CA. The server tag lets only this mesh's servers attach it.
      tags: { Name: names.dataVolume, [SERVER_TAG_KEY]: props.plan.name },
    });
    const role = new AwsServiceRole(this, `server_${n}_role`, {
      namePrefix: names.rolePrefix,
      description: `Consul server ${n}: read its secrets, write the RPC CA's, describe the mesh's tasks, SSM sessions${autoScaling ? ", its data volume, auto-join, its lifecycle hook" : ""}${server.snapshots ? ", snapshots" : ""}`,
      assumedBy: "ec2.amazonaws.com",
      partition: props.partition,
      inlinePolicies: {
        "read-consul-secrets": policyDocument(
          allow(
            ["secretsmanager:GetSecretValue"],
            secrets.serverBootSecrets.map((s) => s.secret.arn),
          ),
          // The first server to boot writes the RPC CA (race-safe, under a fixed ClientRequestToken): only those
          // two secrets, and a data key of the mesh's KMS key for exactly them (PutSecretValue encrypts as the caller).
          allow(
            ["secretsmanager:PutSecretValue"],
            secrets.serverWrittenSecrets.map((s) => s.secret.arn),
          ),
          allow(["kms:GenerateDataKey"], [props.kmsKeyArn], {
            StringEquals: {
              "kms:ViaService": `secretsmanager.${props.region}.amazonaws.com`,
              "kms:EncryptionContext:SecretARN": secrets.serverWrittenSecrets.map((s) => s.secret.arn),
            },
          }),
          // The service tokens it keeps in sync, which only agent services have: exactly their secrets, so a
          // parameter naming a secret someone else created under the same prefix reads nothing.
          ...(secrets.serviceTokens.size > 0
            ? [
                allow(
                  ["secretsmanager:GetSecretValue"],
                  [...secrets.serviceTokens.values()].map((token) => token.secret.arn),
                ),
              ]
            : []),
          allow(
            ["ssm:GetParametersByPath"],
            [secrets.serviceTokenPath, ...(server.login ? [loginRolePath(props.plan.name)] : [])].map(
              (path) => `arn:${props.partition}:ssm:${props.region}:${props.accountId}:parameter${path}`,
            ),
          ),
          allow(["kms:Decrypt"], [props.kmsKeyArn]),
        ),
        // The task reaper asks ECS which of the mesh's dataplane tasks have stopped.
        ...(server.login
          ? { "describe-mesh-tasks": policyDocument(allow(["ecs:DescribeTasks"], [`arn:${props.partition}:ecs:${props.region}:${props.accountId}:task/${props.plan.name}/*`])) }
          : {}),
        "ssm-sessions": sessionManagerPolicy(props),
        ...(autoScaling ? { "server-placement": this.placementPolicy(props, dataVolume, names.server) } : {}),
        ...(props.snapshots ? { "save-snapshots": snapshotPolicy(props) } : {}),
        ...("s3Uri" in server.release ? { "read-consul-release": releasePolicy(props.partition, server.release.s3Uri) } : {}),
      },
      instanceProfile: true,
    });
    const userData = escapeForTerraform(
      renderText(node.userData, {
        [SERVER_SLOTS.gossipKey]: secrets.gossipKey.secret.arn,
        [SERVER_SLOTS.caCert]: secrets.caCert.secret.arn,
        [SERVER_SLOTS.rpcCaKey]: secrets.rpcCaKey.secret.arn,
        [SERVER_SLOTS.managementToken]: secrets.managementToken.secret.arn,
        [SERVER_SLOTS.agentToken]: secrets.agentToken.secret.arn,
        [SERVER_SLOTS.dataVolume]: dataVolume.id,
        [SERVER_SLOTS.autoScalingGroup]: names.server,
        [SERVER_SLOTS.snapshotBucket]: props.snapshots?.bucketName ?? "",
        [SERVER_SLOTS.snapshotKey]: props.kmsKeyArn,
        [SERVER_SLOTS.loginRoles]: loginRolesArn(props.partition, props.accountId, server.login?.taskRolePath ?? "/"),
        [SERVER_SLOTS.clusterArn]: `arn:${props.partition}:ecs:${props.region}:${props.accountId}:cluster/${props.plan.name}`,
      }),
    );
    // Through a local (the script as reviewers read it): Terraform renders it, then gzips it. cloud-init
    // unpacks gzip user data; compressed, the script stays far below EC2's 16 KB (lib/rules/artifacts.ts).
    const compressedUserData = Fn.base64gzip(new TerraformLocal(this, `server_${n}_user_data`, userData).asString);
    // First boot reads every secret version Terraform writes (and the secrets it writes itself) and needs its
    // role's policies: Terraform creates them first.
    const bootDependencies: ITerraformDependable[] = [
      ...secrets.versionsOf(secrets.serverBootSecrets),
      ...secrets.serverWrittenSecrets.map((s) => s.secret),
      ...role.policies,
      role.instanceProfile!,
    ];
    const tags = { Name: names.server, [SERVER_TAG_KEY]: props.plan.name };
    const subnetId = props.subnets.subnetIdOfZone(node.zone);

    if (!autoScaling) {
      const instance = new Instance(this, `server_${n}_instance`, {
        ami,
        instanceType: props.plan.server.instanceType,
        subnetId,
        privateIp: node.privateIp,
        associatePublicIpAddress: props.plan.network.publicInstances,
        vpcSecurityGroupIds: [this.securityGroup.id],
        iamInstanceProfile: role.instanceProfile!.name,
        keyName: props.variables.keyName.stringValue,
        userDataBase64: compressedUserData,
        // A user data change must not replace the only copy of the control plane: roll deliberately (README).
        userDataReplaceOnChange: false,
        ...INSTANCE_SETTINGS,
        tags,
        // A new AMI release must not replace the server on the next apply either.
        lifecycle: { ignoreChanges: ["ami", "user_data_base64"] },
        dependsOn: bootDependencies,
      });
      new VolumeAttachment(this, `server_${n}_data_attachment`, {
        deviceName: "/dev/sdf",
        volumeId: dataVolume.id,
        instanceId: instance.id,
        // A replaced server is stopped first, so XFS is unmounted cleanly before the detach (which
        // otherwise hangs while Consul holds /opt/consul open).
        stopInstanceBeforeDetaching: true,
      });
      return { index: node.index, role, dataVolume, instance };
    }

    const template = new LaunchTemplate(this, `server_${n}_launch_template`, {
      namePrefix: names.launchTemplatePrefix,
      imageId: ami,
      instanceType: props.plan.server.instanceType,
      keyName: props.variables.keyName.stringValue,
      iamInstanceProfile: { name: role.instanceProfile!.name },
      networkInterfaces: [{ associatePublicIpAddress: String(props.plan.network.publicInstances), securityGroups: [this.securityGroup.id], deleteOnTermination: "true" }],
      userData: compressedUserData,
      ...LAUNCH_TEMPLATE_SETTINGS,
      tagSpecifications: [{ resourceType: "instance", tags }],
    });
    const autoScalingGroup = new AutoscalingGroup(this, `server_${n}_group`, {
      name: names.server,
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      vpcZoneIdentifier: [subnetId],
      // A new template version takes effect only when scripts/roll-consul-servers.sh replaces this server.
      launchTemplate: { id: template.id, version: Fn.tostring(template.latestVersion) },
      healthCheckType: "EC2",
      // In service only once the cluster is healthy with the new server (the user data completes the hook).
      initialLifecycleHook: [
        { name: SERVER_LAUNCH_HOOK, lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING", defaultResult: "ABANDON", heartbeatTimeout: SERVER_LAUNCH_HOOK_SECONDS },
      ],
      // Terraform's default wait (10 minutes) is shorter than the hook: a slow first boot must not fail the apply.
      waitForCapacityTimeout: `${SERVER_LAUNCH_HOOK_SECONDS / 60 + 5}m`,
      tag: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      dependsOn: bootDependencies,
    });
    return { index: node.index, role, dataVolume, autoScalingGroup };
  }

  /** An Auto Scaling server attaches its own data volume, finds its peers by tag and completes its hook. */
  private placementPolicy(props: ConsulServersProps, dataVolume: EbsVolume, groupName: string): object {
    const { partition, region, accountId } = props;
    return policyDocument(
      // The attachment check, and cloud auto-join when there are peers: Describe calls have no resource-level permissions.
      allow([...(props.plan.server.count > 1 ? ["ec2:DescribeInstances"] : []), "ec2:DescribeVolumes"], "*"),
      // Only onto an instance of this mesh's servers.
      allow(["ec2:AttachVolume"], [dataVolume.arn, `arn:${partition}:ec2:${region}:${accountId}:instance/*`], {
        StringEquals: { [`aws:ResourceTag/${SERVER_TAG_KEY}`]: props.plan.name },
      }),
      // Attaching a volume encrypted with a customer managed key: EC2 creates a KMS grant for the
      // instance as the caller (EBS "Requirements for Amazon EBS encryption"; aws-cdk Volume.grantAttachVolume).
      allow(["kms:CreateGrant"], [props.kmsKeyArn], { Bool: { "kms:GrantIsForAWSResource": "true" }, StringEquals: { "kms:ViaService": `ec2.${region}.amazonaws.com` } }),
      allow(["autoscaling:CompleteLifecycleAction"], [`arn:${partition}:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/${groupName}`]),
    );
  }
}

/** Save snapshots under the bucket's snapshots/ prefix, encrypted with the mesh's key. */
function snapshotPolicy(props: ConsulServersProps): object {
  // Only through S3 (SSE-KMS calls KMS as the caller): unconditioned, this grant would also let the role
  // encrypt any secret of the mesh's key through Secrets Manager, around read-consul-secrets' SecretARN condition.
  return policyDocument(
    allow(["s3:PutObject"], [`${props.snapshots!.bucketArn}/snapshots/*`]),
    allow(["kms:GenerateDataKey"], [props.kmsKeyArn], { StringEquals: { "kms:ViaService": `s3.${props.region}.amazonaws.com` } }),
  );
}

/** Read the staged Consul release (servers without internet access). */
function releasePolicy(partition: string, s3Uri: string): object {
  return policyDocument(allow(["s3:GetObject"], [`arn:${partition}:s3:::${s3Uri.replace(/^s3:\/\//, "")}`]));
}
