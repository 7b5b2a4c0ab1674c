import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { AwsServiceRole } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { CONSUL_PORTS, ENVOY_PORTS, type ServiceModel } from "../model";

export interface MeshClusterProps {
  readonly clusterName: string;
  readonly namePrefix: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly partition: string;
  /** The services whose secrets the execution role may read, and nothing else. */
  readonly services: readonly ServiceModel[];
}

/**
 * The ECS cluster and what every mesh task shares: the task execution role (image pulls,
 * logs, the services' secrets) and the security group of the task ENIs.
 */
export class MeshCluster extends Construct {
  public readonly cluster: EcsCluster;
  public readonly executionRole: AwsServiceRole;
  public readonly taskSecurityGroup: MeshSecurityGroup;

  constructor(scope: Construct, id: string, props: MeshClusterProps) {
    super(scope, id);
    this.cluster = new EcsCluster(this, "cluster", {
      name: props.clusterName,
      setting: [{ name: "containerInsights", value: "enabled" }],
    });

    this.executionRole = new AwsServiceRole(this, "task_execution_role", {
      namePrefix: `${props.namePrefix}-task-exec-`,
      description: "ECS task execution: pull images, write logs, read the services' secrets",
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["service-role/AmazonECSTaskExecutionRolePolicy"],
      inlinePolicies: secretsPolicy(props.services),
    });

    const sg = new MeshSecurityGroup(this, "task_security_group", {
      vpcId: props.vpcId,
      namePrefix: `${props.namePrefix}-mesh-tasks-`,
      description: "Mesh tasks: Consul gossip from the VPC, Envoy sidecars from other mesh tasks",
    });
    for (const protocol of ["tcp", "udp"] as const) {
      sg.allowIngress(`serf_lan_${protocol}`, {
        description: `Consul Serf LAN gossip (${protocol}) between agents in the VPC`,
        protocol,
        fromPort: CONSUL_PORTS.serfLan,
        peer: { cidr: props.vpcCidr },
      });
    }
    sg.allowIngress("envoy_public", {
      description: "Envoy sidecar public listeners (mTLS) from other mesh tasks only",
      protocol: "tcp",
      fromPort: ENVOY_PORTS.publicListener,
      toPort: ENVOY_PORTS.publicRangeEnd,
      peer: { securityGroupId: sg.id },
    });
    sg.allowEgress("vpc", { description: "Everything inside the VPC (Consul server, other sidecars, DNS)", protocol: "-1", peer: { cidr: props.vpcCidr } });
    sg.allowEgress("https", {
      description: "HTTPS to image registries and AWS APIs (Fargate pulls and logs through the task ENI)",
      protocol: "tcp",
      fromPort: 443,
      peer: { cidr: "0.0.0.0/0" },
    });
    this.taskSecurityGroup = sg;
  }
}

/** Read access to exactly the secrets the spec names; no policy at all when there are none. */
function secretsPolicy(services: readonly ServiceModel[]): Record<string, object> {
  const refs = services.flatMap((s) => Object.values(s.secrets));
  const secretArns = [...new Set(refs.flatMap((r) => (r.secretsManagerArn ? [secretArnWithoutKey(r.secretsManagerArn)] : [])))].sort();
  const parameterArns = [...new Set(refs.flatMap((r) => (r.ssmParameterArn ? [r.ssmParameterArn] : [])))].sort();
  const statements = [
    ...(secretArns.length ? [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns }] : []),
    ...(parameterArns.length ? [{ Effect: "Allow", Action: ["ssm:GetParameters"], Resource: parameterArns }] : []),
  ];
  return statements.length ? { "read-service-secrets": { Version: "2012-10-17", Statement: statements } } : {};
}

/** ECS accepts "<secret arn>:<json key>:<stage>:<version>"; IAM needs the secret's own ARN. */
function secretArnWithoutKey(valueFrom: string): string {
  return valueFrom.split(":").slice(0, 7).join(":");
}
