import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { MeshSecurityGroup } from "./security-group";
import { CONSUL_PORTS } from "../facts";
import type { MeshPlan } from "../plan/types";

export interface MeshClusterProps {
  /** The names of the cluster, its ECS Exec log group and its task security group, the VPC's CIDR, the log retention, and the tasks. */
  readonly plan: MeshPlan;
  readonly vpcId: string;
  /** KMS key of the ECS Exec sessions and their logs (CKV_AWS_224). */
  readonly kmsKeyArn: string;
}

/**
 * The ECS cluster and what every mesh task shares: the security group of the task ENIs and
 * the audit log of ECS Exec sessions (the replacement for SSH into containers).
 */
export class MeshCluster extends Construct {
  public readonly cluster: EcsCluster;
  public readonly taskSecurityGroup: MeshSecurityGroup;
  public readonly execLogGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: MeshClusterProps) {
    super(scope, id);
    const { names } = props.plan;
    this.execLogGroup = new CloudwatchLogGroup(this, "exec_log_group", {
      name: names.execSessionsLogGroup,
      retentionInDays: props.plan.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    this.cluster = new EcsCluster(this, "cluster", {
      name: names.cluster,
      setting: [{ name: "containerInsights", value: "enabled" }],
      configuration: {
        executeCommandConfiguration: {
          // Sessions encrypted with the mesh's key (the task role decrypts, the caller needs kms:GenerateDataKey).
          kmsKeyId: props.kmsKeyArn,
          logging: "OVERRIDE",
          logConfiguration: { cloudWatchLogGroupName: this.execLogGroup.name, cloudWatchEncryptionEnabled: true },
        },
      },
    });

    const sg = new MeshSecurityGroup(this, "task_security_group", {
      vpcId: props.vpcId,
      namePrefix: names.tasksSecurityGroupPrefix,
      description: "Mesh tasks: proxies from other mesh tasks; Consul gossip from agents and servers to agent tasks",
    });
    // Agents gossip with each other and with the servers (whose group ConsulServers.allowAgentsFrom opens to these).
    for (const protocol of props.plan.server.agents ? (["tcp", "udp"] as const) : []) {
      sg.allowIngress(`serf_lan_${protocol}`, {
        description: `Consul Serf LAN gossip (${protocol}) between the agents of mesh tasks`,
        protocol,
        fromPort: CONSUL_PORTS.serfLan,
        peer: { securityGroupId: sg.id },
      });
    }
    // Every port a task's proxy listens on for other tasks: opened from mesh tasks only, nothing else.
    for (const port of [...new Set(props.plan.services.flatMap((s) => s.task.inboundPorts))].sort((a, b) => a - b)) {
      sg.allowIngress(`proxy_${port}`, {
        description: `Sidecar public listener ${port} (mTLS) from other mesh tasks only`,
        fromPort: port,
        peer: { securityGroupId: sg.id },
      });
    }
    sg.allowEgress("vpc", { description: "Everything inside the VPC (Consul server, other sidecars, DNS)", protocol: "-1", peer: { cidr: props.plan.network.vpcCidr } });
    sg.allowEgress("https", {
      description: "HTTPS to image registries and AWS APIs (Fargate pulls and logs through the task ENI)",
      fromPort: 443,
      peer: { cidr: "0.0.0.0/0" },
    });
    this.taskSecurityGroup = sg;
  }
}
