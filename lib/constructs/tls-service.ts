import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { AwsServiceRole, allow, policyDocument } from "./aws-service-role";
import { MeshSecurityGroup } from "./security-group";
import { TLS_EDGE_PORTS } from "../facts";
import { containerCalls } from "../plan/aws-apis";
import { EMF_ACTIONS, METRICS_LOG_GROUP_SLOT, PROMETHEUS_ACTIONS, PROMETHEUS_REMOTE_WRITE_SLOT, tlsEdgeAlarmsOf } from "../plan/observability";
import { TLS_EDGE_SLOTS } from "../plan/tls-edge";
import type { TlsEdgePlan } from "../plan/types";
import { renderContainerDefinitions } from "../render/containers";
import { escapeForTerraform } from "../render/quoting";
import { UNTAGGED_IMAGE_EXPIRY } from "./mesh-images";
import { ECS_SERVICE_SETTINGS } from "./mesh-service";
import { metricAlarm } from "./mesh-observability";
import type { TlsEdgeCertificate } from "./tls-edge-certificate";

/** How tasks reach ECR, CloudWatch Logs and Secrets Manager (always HTTPS, the only egress). */
export type AwsApiAccess = { readonly type: "internet" } | { readonly type: "vpc-endpoints"; readonly endpointSecurityGroupId: string; readonly s3PrefixListId: string };

export interface TlsEdgeServiceProps {
  /** The service as the plan resolved it: names, sizes, allowed networks, its task. */
  readonly edge: TlsEdgePlan;
  readonly vpcId: string;
  /** The VPC's CIDR: the HTTPS clients allowed when the plan lists no allowedCidrs. */
  readonly vpcCidr: string;
  /** Subnets of the tasks. */
  readonly subnetIds: string[];
  /** KMS key of the log group (CKV_AWS_158; its policy must let CloudWatch Logs use it) and the certificate secrets. */
  readonly kmsKeyArn: string;
  /** Tag of the app image in the app repository (e.g. a reference to var.app_image_tag). */
  readonly appImageTag: string;
  /** The edge CA's secrets: the init container receives the pinned generation's certificate and key (execution role only). */
  readonly certificate: TlsEdgeCertificate;
  /** Desired tasks (may be a Terraform expression). @default edge.desiredCount */
  readonly desiredCount?: number;
  /** Where tasks reach AWS APIs on 443: the stack's VPC endpoints when the plan lists any. @default { type: "internet" } (a NAT gateway or the public IP) */
  readonly awsApiAccess?: AwsApiAccess;
  /** What the ECS service waits for: the plan's startsAfter, bound by the stack. @default none */
  readonly dependsOn?: readonly ITerraformDependable[];
  /** Conditions the ECS service checks before each plan and apply (the plan's startsAfter that Terraform does not create). @default none */
  readonly preconditions?: readonly { readonly condition: string; readonly errorMessage: string }[];
  /**
   * The Prometheus workspace the collector remote-writes to (edge.metrics.prometheus): its ARN, the
   * only one the task role may aps:RemoteWrite to, and its remote-write URL; the stack resolves them.
   * @default none (required when the plan remote-writes)
   */
  readonly prometheus?: { readonly workspaceArn: string; readonly remoteWriteUrl: string };
}

/**
 * System 2 of the original (envoy-ssl-tutorial): a Fargate service whose Envoy sidecar
 * terminates TLS inside the task and forwards plain HTTP over loopback to the app, found
 * through Cloud Map private DNS as <serviceName>.<namespace>.
 *
 * Fixed against the original: no public IP; 443 only from the VPC (or listed networks) and
 * only HTTPS out; separate least-privilege execution and task roles; each task's certificate is
 * signed at start by a CA clients can trust (an init container makes the key) instead of being
 * self-signed; Envoy v3 config on the official pinned
 * image (mirrored into ECR) with its admin interface on 127.0.0.1; immutable, scanned images;
 * KMS-encrypted logs with retention, in the spec's region.
 */
export class TlsEdgeService extends Construct {
  public readonly appRepository: EcrRepository;
  public readonly envoyRepository: EcrRepository;
  public readonly namespace: ServiceDiscoveryPrivateDnsNamespace;
  public readonly discoveryService: ServiceDiscoveryService;
  public readonly cluster: EcsCluster;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly securityGroup: MeshSecurityGroup;
  public readonly executionRole: AwsServiceRole;
  public readonly taskRole: AwsServiceRole;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly ecsService: EcsService;
  /** With metrics or traces (edge.collectorImage): the collector image's mirror. */
  public readonly collectorRepository?: EcrRepository;
  /** With metrics: where the task's collector writes its Embedded Metric Format events. */
  public readonly metricsLogGroup?: CloudwatchLogGroup;
  /** With metrics and alarms: 5xx rate, p99 latency and TLS errors of the edge. */
  public readonly alarms: readonly CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: TlsEdgeServiceProps) {
    super(scope, id);
    const { edge } = props;
    const access = props.awsApiAccess ?? { type: "internet" };
    // The spec's region (the provider's too); the partition from the provider.
    const { region } = edge;
    const partition = new DataAwsPartition(this, "partition").partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;

    // Images: the app, and the official Envoy image mirrored unchanged (tasks without internet
    // access cannot pull from Docker Hub, and ECR scans it on push).
    this.appRepository = repository(this, "app_repository", edge.names.appRepository);
    this.envoyRepository = repository(this, "envoy_repository", edge.names.envoyRepository);
    const metricsNames = edge.names.metrics;
    if (edge.metrics && !metricsNames) throw new Error(`${this.node.path}: the plan has metrics but its names do not`);
    const { collectorRepository } = edge.names;
    if (edge.collectorImage && collectorRepository === undefined) throw new Error(`${this.node.path}: the plan runs a collector but its names have no repository for it`);
    if (edge.collectorImage && collectorRepository !== undefined) this.collectorRepository = repository(this, "collector_repository", collectorRepository);
    const remoteWrites = edge.metrics?.prometheus !== undefined;
    if (remoteWrites && !props.prometheus) throw new Error(`${this.node.path}: its collector remote-writes to Prometheus, which needs prometheus`);
    const prometheus = remoteWrites ? props.prometheus : undefined;

    this.namespace = new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
      name: edge.namespace,
      vpc: props.vpcId,
      description: `Private DNS of ${edge.dnsName} (Cloud Map)`,
    });
    this.discoveryService = new ServiceDiscoveryService(this, "discovery_service", {
      name: edge.serviceName,
      description: `A records of the ${edge.serviceName} tasks`,
      dnsConfig: {
        namespaceId: this.namespace.id,
        dnsRecords: [{ ttl: 10, type: "A" }],
        routingPolicy: "MULTIVALUE",
      },
      // ECS reports task health (container health checks) to Cloud Map.
      healthCheckCustomConfig: { failureThreshold: 1 },
    });

    this.cluster = new EcsCluster(this, "cluster", {
      name: edge.serviceName,
      setting: [{ name: "containerInsights", value: "enabled" }],
    });
    this.logGroup = new CloudwatchLogGroup(this, "log_group", {
      // The one log group the edge's key lets CloudWatch Logs use (stacks/tls-edge-stack.ts).
      name: edge.names.logGroup,
      retentionInDays: edge.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    if (edge.metrics && metricsNames) {
      this.metricsLogGroup = new CloudwatchLogGroup(this, "metrics_log_group", {
        // Listed with the edge's log group in the key's policy (stacks/tls-edge-stack.ts).
        name: metricsNames.metricsLogGroup,
        retentionInDays: edge.logRetentionDays,
        kmsKeyId: props.kmsKeyArn,
      });
    }

    this.securityGroup = this.taskSecurityGroup(props, access);

    this.executionRole = new AwsServiceRole(this, "execution_role", {
      namePrefix: edge.names.executionRolePrefix,
      description: `ECS task execution of ${edge.serviceName}: pull its two images, write its log group, read its TLS CA for the init container`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition,
      inlinePolicies: {
        // Exactly what ECS needs to start the task: no "*" action, "*" resource only where AWS allows nothing else.
        "pull-log-read-certificate": policyDocument(
          // The registry login token has no resource type: "*" is the only choice.
          allow(["ecr:GetAuthorizationToken"], "*"),
          allow(
            ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            [this.appRepository.arn, this.envoyRepository.arn, ...(this.collectorRepository ? [this.collectorRepository.arn] : [])],
          ),
          allow(["logs:CreateLogStream", "logs:PutLogEvents"], [`${this.logGroup.arn}:*`]),
          // The CA secret only: clients' copy of the certificate is not the tasks' to read.
          allow(["secretsmanager:GetSecretValue"], [props.certificate.caSecret.arn]),
          // The secret is encrypted with the stack's own key.
          allow(["kms:Decrypt"], [props.kmsKeyArn]),
        ),
      },
    });
    const metrics = edge.metrics && this.metricsLogGroup ? { plan: edge.metrics, logGroup: this.metricsLogGroup } : undefined;
    // What the containers call on "*" themselves (the plan's list): the collector's X-Ray calls, which have no resource-level permissions.
    const ownActions = [...new Set(containerCalls(edge.task).flatMap((call) => call.actions ?? []))];
    this.taskRole = new AwsServiceRole(this, "task_role", {
      namePrefix: edge.names.taskRolePrefix,
      description: edge.traces
        ? `Task role of ${edge.serviceName}: the collector writes its ${metrics ? "metrics and spans" : "spans"}; the app and Envoy call no AWS API`
        : metrics
          ? `Task role of ${edge.serviceName}: the metrics collector writes its log stream; the app and Envoy call no AWS API`
          : `Task role of ${edge.serviceName}: the app and Envoy call no AWS API, so it has no permission`,
      assumedBy: "ecs-tasks.amazonaws.com",
      partition,
      // Only ECS tasks of this account and region get it (ECS task IAM role docs: confused deputy).
      assumedFor: { account: accountId, arnLike: `arn:${partition}:ecs:${region}:${accountId}:*` },
      ...(metrics || ownActions.length > 0
        ? {
            inlinePolicies: {
              // The collector's EMF exporter: its own stream (log_stream_name, the service label) of the edge's metrics log group.
              ...(metrics ? { "proxy-metrics": policyDocument(allow(EMF_ACTIONS, [`${metrics.logGroup.arn}:log-stream:${metrics.plan.service}`])) } : {}),
              ...(ownActions.length > 0 ? { [edge.names.containerCallsPolicy]: policyDocument(allow(ownActions, "*")) } : {}),
              // The collector's remote write, to the mesh's workspace only (aps:RemoteWrite is authorized on the workspace).
              ...(prometheus ? { "prometheus-remote-write": policyDocument(allow(PROMETHEUS_ACTIONS, [prometheus.workspaceArn])) } : {}),
            },
          }
        : {}),
    });

    const containers = renderContainerDefinitions(edge.task, {
      [TLS_EDGE_SLOTS.appImage]: `${this.appRepository.repositoryUrl}:${props.appImageTag}`,
      // The plan's official Envoy image, mirrored into envoyRepository.
      [TLS_EDGE_SLOTS.envoyImage]: `${this.envoyRepository.repositoryUrl}:${edge.envoyImage.mirrorTag}`,
      [TLS_EDGE_SLOTS.caCertificate]: props.certificate.caCertificateValueFrom,
      [TLS_EDGE_SLOTS.caPrivateKey]: props.certificate.caPrivateKeyValueFrom,
      [TLS_EDGE_SLOTS.logGroup]: this.logGroup.name,
      ...(this.collectorRepository && edge.collectorImage ? { [TLS_EDGE_SLOTS.collectorImage]: `${this.collectorRepository.repositoryUrl}:${edge.collectorImage.mirrorTag}` } : {}),
      ...(this.metricsLogGroup ? { [METRICS_LOG_GROUP_SLOT]: this.metricsLogGroup.name } : {}),
      ...(prometheus ? { [PROMETHEUS_REMOTE_WRITE_SLOT]: prometheus.remoteWriteUrl } : {}),
    });
    this.taskDefinition = new EcsTaskDefinition(this, "task_definition", {
      family: edge.serviceName,
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: String(edge.cpu),
      memory: String(edge.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: edge.cpuArchitecture },
      executionRoleArn: this.executionRole.role.arn,
      taskRoleArn: this.taskRole.role.arn,
      containerDefinitions: escapeForTerraform(JSON.stringify(containers)),
      volume: edge.task.volumes.map((name) => ({ name })),
    });

    this.ecsService = new EcsService(this, "service", {
      name: edge.serviceName,
      cluster: this.cluster.arn,
      // The ARN pins the exact revision (no max(revision) workaround for drift).
      taskDefinition: this.taskDefinition.arn,
      desiredCount: props.desiredCount ?? edge.desiredCount,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      networkConfiguration: {
        subnets: props.subnetIds,
        securityGroups: [this.securityGroup.id],
        assignPublicIp: edge.assignPublicIp,
      },
      serviceRegistries: { registryArn: this.discoveryService.arn },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      ...ECS_SERVICE_SETTINGS,
      ...(props.dependsOn?.length ? { dependsOn: [...props.dependsOn] } : {}),
      ...(props.preconditions?.length ? { lifecycle: { precondition: [...props.preconditions] } } : {}),
    });

    const alarmNames = metricsNames?.alarms;
    const topic = edge.metrics?.alarms?.snsTopicArn;
    this.alarms = edge.metrics
      ? tlsEdgeAlarmsOf(edge.metrics).map((alarm) => {
          if (!alarmNames) throw new Error(`${this.node.path}: the plan has alarms but its names do not`);
          return metricAlarm(this, `${alarm.kind}_alarm`, alarmNames[alarm.kind], alarm, topic);
        })
      : [];
  }

  /** 443 in from the allowed networks only; 443 out to AWS APIs only. */
  private taskSecurityGroup(props: TlsEdgeServiceProps, access: AwsApiAccess): MeshSecurityGroup {
    const { edge } = props;
    const sg = new MeshSecurityGroup(this, "security_group", {
      vpcId: props.vpcId,
      namePrefix: edge.names.securityGroupPrefix,
      description: `${edge.serviceName} tasks: HTTPS to Envoy from ${edge.allowedCidrs.length ? "the listed networks" : "the VPC"} only, HTTPS out to AWS APIs only`,
    });
    const clients = edge.allowedCidrs.length
      ? edge.allowedCidrs.map((cidr, i) => ({ id: `https_from_allowed_${i}`, cidr, who: `${cidr} (allowedCidrs[${i}])` }))
      : [{ id: "https_from_vpc", cidr: props.vpcCidr, who: `the VPC (clients of ${edge.dnsName})` }];
    for (const client of clients) {
      sg.allowIngress(client.id, {
        description: `HTTPS to the Envoy TLS listener from ${client.who}`,
        fromPort: TLS_EDGE_PORTS.listener,
        peer: { cidr: client.cidr },
      });
    }
    if (access.type === "internet") {
      sg.allowEgress("https_to_aws_apis", {
        description: "HTTPS to ECR, CloudWatch Logs and Secrets Manager (image pulls, logs, TLS secrets) through the NAT gateway or public IP",
        fromPort: 443,
        peer: { cidr: "0.0.0.0/0" },
      });
    } else {
      sg.allowEgress("https_to_aws_endpoints", {
        description: "HTTPS to the VPC endpoints of ECR, CloudWatch Logs and Secrets Manager",
        fromPort: 443,
        peer: { securityGroupId: access.endpointSecurityGroupId },
      });
      sg.allowEgress("https_to_s3", {
        description: "HTTPS to S3 through the gateway endpoint (ECR image layers)",
        fromPort: 443,
        peer: { prefixListId: access.s3PrefixListId },
      });
    }
    return sg;
  }
}

function repository(scope: Construct, id: string, name: string): EcrRepository {
  const repo = new EcrRepository(scope, id, {
    name,
    imageTagMutability: "IMMUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: [{ encryptionType: "KMS" }],
  });
  // Immutable tags leave only failed or interrupted pushes untagged: clear those after a week.
  new EcrLifecyclePolicy(scope, `${id}_lifecycle`, {
    repository: repo.name,
    policy: UNTAGGED_IMAGE_EXPIRY,
  });
  return repo;
}
