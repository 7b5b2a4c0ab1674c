import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { type AwsAccount, AwsServiceRole, SSM_SESSION_CHANNELS, allow, policyDocument } from "./aws-service-role";
import { LOG_SLOTS, type MeshSecretSlot } from "../plan/containers";
import { containerCalls } from "../plan/aws-apis";
import { imageSlot, type MeshImageKey } from "../plan/images";
import { COLLECTOR_CONTAINER, EMF_ACTIONS, METRICS_LOG_GROUP_SLOT, PROMETHEUS_ACTIONS, PROMETHEUS_REMOTE_WRITE_SLOT } from "../plan/observability";
import { scalingPolicyOf } from "../plan/autoscaling";
import { runsAsServiceIdentity } from "../plan/dataplane";
import { ecsServiceNamesOf } from "../plan/names";
import type { MeshPlan, ServicePlan } from "../plan/types";
import { renderContainerDefinitions } from "../render/containers";
import { escapeForTerraform } from "../render/quoting";
import type { SecretRef } from "./consul-secrets";
import type { MeshCluster } from "./mesh-cluster";
import type { MeshImages } from "./mesh-images";

/** What every ECS service here has: a failed deployment rolls back (unless a mesh service's plan turns the breaker off: ServicePlan.circuitBreaker), and tasks carry ECS's and the service's tags. */
export const ECS_SERVICE_SETTINGS = { deploymentCircuitBreaker: { enable: true, rollback: true }, enableEcsManagedTags: true, propagateTags: "SERVICE" } as const;

export interface MeshServiceProps extends AwsAccount {
  /** The service as the plan resolved it: its task's containers, counts, deployment bounds. */
  readonly service: ServicePlan;
  /**
   * The mesh's plan: the cluster name (the servers' auto-join tag value, the folder of login role
   * parameters), the service's names, the log retention, and the dataplane tasks' IAM login.
   */
  readonly plan: MeshPlan;
  /** The cluster the service runs in, with the task security group and the ECS Exec session log (which the task role writes when ECS Exec is on). */
  readonly cluster: MeshCluster;
  /** Subnets of the tasks (the plan says private or public). */
  readonly subnetIds: readonly string[];
  /** The mesh images: the URI bound to each image slot, and what an execution role needs to pull them (pull-through cache imports). */
  readonly images: MeshImages;
  /** The capacity provider of the EC2 hosts, when the plan runs the service on it. */
  readonly capacityProviderName?: string;
  /** What must exist before the service starts tasks (the servers, the service's token). */
  readonly dependsOn?: readonly ITerraformDependable[];
  /**
   * The mesh secrets this service's tasks read (meshSecretsOf its task), each with the plan's slot:
   * their ECS `valueFrom` references are bound to the slots, and the execution role may read exactly these and the app's own.
   */
  readonly meshSecrets: readonly { readonly slot: MeshSecretSlot; readonly ref: SecretRef }[];
  /** The mesh's KMS key: log group encryption, the mesh secrets, ECS Exec sessions. */
  readonly kmsKeyArn: string;
  /** The mesh's proxy metrics log group, which the task's collector writes (needed when the task has one). @default none */
  readonly metricsLogGroup?: CloudwatchLogGroup;
  /**
   * The Prometheus workspace the task's collector remote-writes to (MeshObservability.prometheus):
   * the URL bound to its slot, and the ARN the task role may aps:RemoteWrite to.
   * @default none (needed when the collector calls aps-workspaces)
   */
  readonly prometheus?: { readonly workspaceArn: string; readonly remoteWriteUrl: string };
  /**
   * A dataplane version with an ECS service of its own (runsAsServiceIdentity): the task role of its
   * service's default version, which it runs as (the service's one Consul identity).
   * @default a task role of its own (and, on dataplane tasks, its login role parameter)
   */
  readonly serviceTaskRole?: AwsServiceRole;
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
  /**
   * Dataplane services: the parameter that gives this service's Consul identity to its task role only
   * (consul-acl-sync reads it); its default version's only, whose task role the other versions share.
   */
  public readonly loginRoleParameter?: SsmParameter;
  /** With autoscaling: the ECS service's desired count as Application Auto Scaling's scalable target (its service-linked role). */
  public readonly scalableTarget?: AppautoscalingTarget;
  /** With autoscaling: the target tracking policy on the plan's metric. */
  public readonly scalingPolicy?: AppautoscalingPolicy;

  constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const { service, plan } = props;
    const names = ecsServiceNamesOf(plan.names, service);
    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      name: names.logGroup,
      retentionInDays: plan.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    // Roles of its own per service: one service's token or AWS permission is no other's.
    this.executionRole = new AwsServiceRole(this, "execution_role", {
      namePrefix: names.rolePrefix,
      description: `ECS task execution of ${service.name}: pull images, write logs, read its own secrets`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
      managedPolicies: ["service-role/AmazonECSTaskExecutionRolePolicy"],
      inlinePolicies: {
        "read-task-secrets": secretsPolicy(props),
      },
    });
    // A collector with a metrics pipeline writes EMF (its logs call); one with only traces does not.
    const collector = service.task.containers.some((c) => c.name === COLLECTOR_CONTAINER && (c.calls ?? []).some((call) => call.api === "logs"));
    if (collector && !props.metricsLogGroup) throw new Error(`${this.node.path}: its task runs a metrics collector, which needs metricsLogGroup`);
    const remoteWrites = containerCalls(service.task).some((call) => call.api === "aps-workspaces");
    if (remoteWrites && !props.prometheus) throw new Error(`${this.node.path}: its collector remote-writes to Prometheus, which needs prometheus`);
    const dataplane = service.architecture === "dataplane" ? plan.dataplane : undefined;
    if (service.architecture === "dataplane" && !dataplane) throw new Error(`${this.node.path}: a dataplane service needs plan.dataplane (the auth method's role path and tag)`);
    // A second role of a dataplane service could not log in: consul-acl-sync binds the service's name to one role ID.
    const shared = runsAsServiceIdentity(service);
    if (shared !== (props.serviceTaskRole !== undefined))
      throw new Error(
        `${this.node.path}: serviceTaskRole goes exactly to a dataplane version besides its service's default (runsAsServiceIdentity), which runs as the default version's task role`,
      );
    this.taskRole =
      props.serviceTaskRole ?? this.ownTaskRole(props, names.rolePrefix, dataplane, collector ? props.metricsLogGroup : undefined, remoteWrites ? props.prometheus : undefined);

    if (dataplane && !shared) {
      this.loginRoleParameter = new SsmParameter(this, "login_role_parameter", {
        name: names.loginRoleParameter,
        description: `The unique ID of ${service.name}'s task role: the only role the Consul servers let log in as ${service.name} (no secret)`,
        type: "String",
        tier: "Standard",
        value: this.taskRole.role.uniqueId,
      });
    }

    const containers = renderContainerDefinitions(service.task, {
      ...Object.fromEntries(props.meshSecrets.map((s) => [s.slot, s.ref.valueFrom])),
      ...Object.fromEntries([...props.images.uris].map(([key, uri]) => [imageSlot(key as MeshImageKey).slot, uri])),
      [LOG_SLOTS.group]: this.logGroup.name,
      ...(props.metricsLogGroup ? { [METRICS_LOG_GROUP_SLOT]: props.metricsLogGroup.name } : {}),
      ...(props.prometheus ? { [PROMETHEUS_REMOTE_WRITE_SLOT]: props.prometheus.remoteWriteUrl } : {}),
    });
    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: names.ecsService,
      networkMode: "awsvpc",
      requiresCompatibilities: [service.launchType],
      // Fargate on ARM64 only: an EC2 task runs on its hosts' architecture, and an X86_64 Fargate task
      // definition keeps its shape (and its revision).
      ...(service.launchType === "FARGATE" && service.cpuArchitecture === "ARM64" ? { runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" } } : {}),
      cpu: String(service.cpu),
      memory: String(service.memory),
      executionRoleArn: this.executionRole.role.arn,
      taskRoleArn: this.taskRole.role.arn,
      containerDefinitions: escapeForTerraform(JSON.stringify(containers)),
      volume: service.task.volumes.map((name) => ({ name })),
    });
    this.ecsService = new EcsService(this, "service", {
      name: names.ecsService,
      cluster: props.cluster.cluster.arn,
      // The ARN pins the exact revision: no max(revision) workaround for drift.
      taskDefinition: this.taskDefinition.arn,
      desiredCount: service.count,
      // A capacity provider strategy replaces the launch type (ECS allows one or the other).
      ...(service.capacity === "capacity-provider"
        ? { capacityProviderStrategy: [{ capacityProvider: props.capacityProviderName!, weight: 1, base: 0 }] }
        : { launchType: service.launchType }),
      // Tasks spread over the zones first (EC2 only: Fargate spreads by itself).
      ...(service.capacity === "FARGATE" ? {} : { orderedPlacementStrategy: [{ type: "spread", field: "attribute:ecs.availability-zone" }] }),
      networkConfiguration: {
        subnets: [...props.subnetIds],
        securityGroups: [props.cluster.taskSecurityGroup.id],
        assignPublicIp: service.assignPublicIp,
      },
      deploymentMinimumHealthyPercent: service.deployment.minimumHealthyPercent,
      deploymentMaximumPercent: service.deployment.maximumPercent,
      enableExecuteCommand: service.enableExecuteCommand,
      ...ECS_SERVICE_SETTINGS,
      // Its tasks inherit it (propagateTags): the task reaper reads their Consul service from it, since their group names the version's ECS service.
      ...(shared && dataplane ? { tags: { [dataplane.serviceNameTag]: service.name } } : {}),
      // The plan turns it off only for a fixed-server mesh's tasks, which may start before the RPC CA exists.
      deploymentCircuitBreaker: { enable: service.circuitBreaker, rollback: service.circuitBreaker },
      dependsOn: [...(props.dependsOn ?? []), ...this.executionRole.policies, ...this.taskRole.policies],
      // The scaler owns the desired count after creation: an apply must not reset it to the spec's count
      // (the AWS provider's "ignoring changes to desired count"; aws-cdk-lib leaves DesiredCount out instead).
      ...(service.autoscaling ? { lifecycle: { ignoreChanges: ["desired_count"] } } : {}),
    });

    const policy = scalingPolicyOf(plan, service);
    if (policy) {
      // No role_arn: Application Auto Scaling uses (and on first use creates) its ECS service-linked role.
      this.scalableTarget = new AppautoscalingTarget(this, "autoscaling_target", {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: `service/${props.cluster.cluster.name}/${this.ecsService.name}`,
        minCapacity: policy.minCapacity,
        maxCapacity: policy.maxCapacity,
      });
      this.scalingPolicy = new AppautoscalingPolicy(this, "autoscaling_policy", {
        name: policy.name,
        policyType: "TargetTrackingScaling",
        serviceNamespace: this.scalableTarget.serviceNamespace,
        scalableDimension: this.scalableTarget.scalableDimension,
        resourceId: this.scalableTarget.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: policy.targetValue,
          scaleInCooldown: policy.scaleInCooldown,
          scaleOutCooldown: policy.scaleOutCooldown,
          ...("predefined" in policy.metric
            ? { predefinedMetricSpecification: { predefinedMetricType: policy.metric.predefined } }
            : {
                customizedMetricSpecification: {
                  metrics: policy.metric.queries.map((q) => ({
                    id: q.id,
                    returnData: q.returnData,
                    ...(q.expression ? { expression: q.expression } : {}),
                    ...(q.label ? { label: q.label } : {}),
                    ...(q.metric
                      ? {
                          metricStat: {
                            stat: q.metric.stat,
                            metric: {
                              namespace: q.metric.namespace,
                              metricName: q.metric.metricName,
                              dimensions: Object.entries(q.metric.dimensions).map(([name, value]) => ({ name, value })),
                            },
                          },
                        }
                      : {}),
                  })),
                },
              }),
        },
      });
    }
  }

  /** The service's task role (every version's on dataplane tasks: their one Consul identity). */
  private ownTaskRole(
    props: MeshServiceProps,
    namePrefix: string,
    dataplane: MeshPlan["dataplane"],
    metricsLogGroup: CloudwatchLogGroup | undefined,
    prometheus: MeshServiceProps["prometheus"],
  ): AwsServiceRole {
    const { service, plan } = props;
    const ownActions = [...new Set(containerCalls(service.task).flatMap((call) => call.actions ?? []))];
    return new AwsServiceRole(this, "task_role", {
      namePrefix,
      description: `Task role of ${service.name}: the app's own AWS permissions (ECS Exec only when enabled${dataplane ? "; Consul IAM login" : ""})`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition: props.partition,
      // Only ECS tasks of this account and region get it (ECS task IAM role docs: confused deputy).
      assumedFor: { account: props.accountId, arnLike: `arn:${props.partition}:ecs:${props.region}:${props.accountId}:*` },
      // The auth method trusts the roles under this path; the service's binding rule pins this role's
      // unique ID (loginRoleParameter). The tag is what servers before that bound by, kept for a server roll.
      ...(dataplane ? { path: dataplane.taskRolePath, tags: { [dataplane.serviceNameTag]: service.name } } : {}),
      inlinePolicies: {
        ...(service.enableExecuteCommand ? { "ecs-exec": execPolicy(props.cluster.execLogGroup.arn, props.kmsKeyArn) } : {}),
        // What the task's containers call themselves (the plan's list): finding the servers by their EC2 tag, which has no resource-level permissions.
        ...(ownActions.length ? { [plan.names.containerCallsPolicy]: policyDocument(allow(ownActions, "*")) } : {}),
        // The IAM login signs iam:GetRole on the task's own role; the server sends it to AWS to read the role's path and ID.
        ...(dataplane ? { "consul-login": (roleArn: string) => policyDocument(allow(["iam:GetRole"], [roleArn])) } : {}),
        // The collector writes its EMF events to its own stream (the service's name) of the mesh's metrics log group, nothing else.
        ...(metricsLogGroup ? { "proxy-metrics": policyDocument(allow(EMF_ACTIONS, [`${metricsLogGroup.arn}:log-stream:${service.name}`])) } : {}),
        // The collector's remote write, to the mesh's workspace only (aps:RemoteWrite is authorized on the workspace).
        ...(prometheus ? { "prometheus-remote-write": policyDocument(allow(PROMETHEUS_ACTIONS, [prometheus.workspaceArn])) } : {}),
      },
    });
  }
}

/** Read access to exactly the secrets this service's containers receive (and its registry credentials), and the image cache imports. */
function secretsPolicy({ service, meshSecrets, kmsKeyArn, images }: MeshServiceProps): object {
  const app = Object.values(service.secrets);
  const secretArns = [
    ...meshSecrets.map((s) => s.ref.secret.arn),
    ...app.flatMap((r) => (r.secretsManagerArn ? [secretArnWithoutKey(r.secretsManagerArn)] : [])),
    ...(service.imageCredentialsSecretArn ? [service.imageCredentialsSecretArn] : []),
  ];
  const parameterArns = app.flatMap((r) => (r.ssmParameterArn ? [r.ssmParameterArn] : []));
  return policyDocument(
    allow(["secretsmanager:GetSecretValue"], [...new Set(secretArns)]),
    // The mesh's secrets are encrypted with its own key.
    allow(["kms:Decrypt"], [kmsKeyArn]),
    ...(parameterArns.length ? [allow(["ssm:GetParameters"], [...new Set(parameterArns)].sort())] : []),
    ...images.pullPolicyStatements,
  );
}

/** ECS accepts "<secret arn>:<json key>:<stage>:<version>"; IAM wants the secret's own ARN. */
function secretArnWithoutKey(valueFrom: string): string {
  return valueFrom.replace(/^(arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:[^:]+)(:.*)?$/, "$1");
}

/** ECS Exec: the SSM channels (which support only Resource "*") and the session audit log. */
function execPolicy(execLogGroupArn: string, kmsKeyArn: string): object {
  return policyDocument(
    // AWS offers no resource-level permissions for these actions: "*" is the only choice.
    allow(SSM_SESSION_CHANNELS, "*"),
    // Streams are resources under the group's ARN; DescribeLogStreams is authorized on the group itself.
    allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [execLogGroupArn, `${execLogGroupArn}:*`]),
    // Sessions are encrypted with the mesh's key (the cluster's executeCommandConfiguration).
    allow(["kms:Decrypt"], [kmsKeyArn]),
    // The agent checks the log group exists before it streams the session there; the action has
    // no resource-level permissions (Service Authorization Reference, CloudWatch Logs).
    allow(["logs:DescribeLogGroups"], "*"),
  );
}
