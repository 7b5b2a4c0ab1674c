import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { AwsServiceRole } from "./aws-service-role";
import { LOG_SLOTS, MESH_SECRET_SLOTS } from "../plan/containers";
import type { ServicePlan } from "../plan/types";
import { renderContainerDefinitions } from "../render/containers";
import { escapeForTerraform } from "../render/quoting";

/** ECS `valueFrom` references of the mesh secrets a task receives, by the plan's slot names. */
export type MeshSecretRefs = { readonly [slot in (typeof MESH_SECRET_SLOTS)[keyof typeof MESH_SECRET_SLOTS]]: string };

export interface MeshServiceProps {
  /** The service as the plan resolved it: its task's containers, counts, deployment bounds. */
  readonly service: ServicePlan;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly namePrefix: string;
  readonly region: string;
  readonly partition: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** ECS references of the mesh secrets this service's tasks receive. */
  readonly meshSecrets: MeshSecretRefs;
  /** ARNs of those secrets: the execution role may read exactly these, and the app's own. */
  readonly meshSecretArns: readonly string[];
  readonly logRetentionDays: number;
  readonly logKmsKeyArn: string;
  /** Log group of ECS Exec sessions, which the task role writes when ECS Exec is on. */
  readonly execLogGroupArn: string;
  /** ARN pattern of this account's log groups in the region (ECS Exec lists them). */
  readonly logGroupsArnPattern: string;
}

/**
 * One service of the mesh (ecs.tf): its log group, roles, task definition (Consul agent,
 * Envoy bootstrap, Envoy sidecar and the app, started in that order) and ECS service.
 * The definitions use only task-scoped volumes, so the same task runs on EC2 and Fargate.
 */
export class MeshService extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  public readonly executionRole: AwsServiceRole;
  public readonly taskRole: AwsServiceRole;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly ecsService: EcsService;

  constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const { service } = props;
    const name = `${props.clusterName}-${service.name}`;
    // IAM name prefixes hold 38 characters: cluster (<= 20) + "-" + 16 of the service + "-".
    const rolePrefix = `${props.namePrefix}-${service.name.slice(0, 16)}-`;
    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      name: `/ecs/${props.clusterName}/${service.name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logKmsKeyArn,
    });

    // Roles of its own per service: one service's token or AWS permission is no other's.
    this.executionRole = new AwsServiceRole(this, "execution_role", {
      namePrefix: rolePrefix,
      description: `ECS task execution of ${service.name}: pull images, write logs, read its own secrets`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["service-role/AmazonECSTaskExecutionRolePolicy"],
      inlinePolicies: { "read-task-secrets": secretsPolicy(service, props.meshSecretArns) },
    });
    this.taskRole = new AwsServiceRole(this, "task_role", {
      namePrefix: rolePrefix,
      description: `Task role of ${service.name}: the app's own AWS permissions (ECS Exec only when enabled)`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
      inlinePolicies: service.enableExecuteCommand ? { "ecs-exec": execPolicy(props.execLogGroupArn, props.logGroupsArnPattern) } : {},
    });

    const containers = renderContainerDefinitions(service.task, {
      ...props.meshSecrets,
      [LOG_SLOTS.group]: this.logGroup.name,
      [LOG_SLOTS.region]: props.region,
    });
    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: name,
      networkMode: "awsvpc",
      requiresCompatibilities: [service.launchType],
      cpu: String(service.cpu),
      memory: String(service.memory),
      executionRoleArn: this.executionRole.role.arn,
      taskRoleArn: this.taskRole.role.arn,
      containerDefinitions: escapeForTerraform(JSON.stringify(containers)),
      volume: service.task.volumes.map((name) => ({ name })),
    });
    this.ecsService = new EcsService(this, "service", {
      name,
      cluster: props.clusterArn,
      // The ARN pins the exact revision: no max(revision) workaround for drift.
      taskDefinition: this.taskDefinition.arn,
      desiredCount: service.count,
      launchType: service.launchType,
      networkConfiguration: {
        subnets: [...props.subnetIds],
        securityGroups: [...props.securityGroupIds],
        assignPublicIp: service.assignPublicIp,
      },
      deploymentMinimumHealthyPercent: service.deployment.minimumHealthyPercent,
      deploymentMaximumPercent: service.deployment.maximumPercent,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: service.enableExecuteCommand,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
    });
  }
}

/** Read access to exactly the secrets this service's containers receive. */
function secretsPolicy(service: ServicePlan, meshSecretArns: readonly string[]): object {
  const app = Object.values(service.secrets);
  const secretArns = [...meshSecretArns, ...app.flatMap((r) => (r.secretsManagerArn ? [secretArnWithoutKey(r.secretsManagerArn)] : []))];
  const parameterArns = app.flatMap((r) => (r.ssmParameterArn ? [r.ssmParameterArn] : []));
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [...new Set(secretArns)] },
      ...(parameterArns.length ? [{ Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [...new Set(parameterArns)].sort() }] : []),
    ],
  };
}

/** ECS accepts "<secret arn>:<json key>:<stage>:<version>"; IAM wants the secret's own ARN. */
function secretArnWithoutKey(valueFrom: string): string {
  return valueFrom.replace(/^(arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:[^:]+)(:.*)?$/, "$1");
}

/** ECS Exec: the SSM channels (which support only Resource "*") and the session audit log. */
function execPolicy(execLogGroupArn: string, logGroupsArnPattern: string): object {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        // AWS offers no resource-level permissions for these actions: "*" is the only choice.
        Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
        Resource: "*",
      },
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [`${execLogGroupArn}:*`] },
      // The agent checks the log group exists before it streams the session there.
      { Effect: "Allow", Action: ["logs:DescribeLogGroups"], Resource: [logGroupsArnPattern] },
    ],
  };
}
