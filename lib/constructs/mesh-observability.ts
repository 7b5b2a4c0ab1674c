import { Construct } from "constructs";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { PrometheusWorkspace } from "@cdktf/provider-aws/lib/prometheus-workspace";
import { type AlarmPlan, alarmsOf, dashboardBody, type ObservabilityPlan, remoteWriteUrlOf } from "../plan/observability";
import type { MeshPlan } from "../plan/types";

export interface MeshObservabilityProps {
  /** The mesh's plan: its observability plan, names, region and log retention. */
  readonly plan: MeshPlan & { readonly observability: ObservabilityPlan };
  /** The mesh's KMS key: the metrics log group's encryption. */
  readonly kmsKeyArn: string;
}

/**
 * The mesh's golden signals in CloudWatch: the log group every task's collector writes its EMF
 * metrics to, one dashboard, and per service its alarms (spec observability), all from the plan's
 * metric catalogue (lib/plan/observability.ts).
 */
export class MeshObservability extends Construct {
  /** Where the collectors write Embedded Metric Format events (CloudWatch extracts the metrics). */
  public readonly metricsLogGroup: CloudwatchLogGroup;
  public readonly dashboard: CloudwatchDashboard;
  public readonly alarms: readonly CloudwatchMetricAlarm[];
  /** The workspace the mesh creates (observability.metrics.prometheus.workspace: create). */
  public readonly prometheusWorkspace?: PrometheusWorkspace;
  /** Where the collectors remote-write, and the workspace's ARN the task roles may aps:RemoteWrite to (spec observability.metrics.prometheus). */
  public readonly prometheus?: { readonly workspaceArn: string; readonly remoteWriteUrl: string };

  constructor(scope: Construct, id: string, props: MeshObservabilityProps) {
    super(scope, id);
    const { plan } = props;
    const names = plan.names.observability;
    if (!names) throw new Error(`${this.node.path}: the plan has observability but its names do not`);
    this.metricsLogGroup = new CloudwatchLogGroup(this, "metrics_log_group", {
      name: names.metricsLogGroup,
      retentionInDays: plan.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    const { prometheus } = plan.observability;
    if (prometheus?.workspace === "create") {
      if (!names.prometheusWorkspaceAlias) throw new Error(`${this.node.path}: the plan creates a Prometheus workspace but names no alias`);
      // No kms_key_arn: AMP then encrypts with an AWS owned key. The mesh's key would need a key policy
      // letting AMP create grants, and every reader (Grafana, a shared account) its own grant; the
      // proxies' request counts and latencies hold no secret.
      this.prometheusWorkspace = new PrometheusWorkspace(this, "prometheus_workspace", {
        alias: names.prometheusWorkspaceAlias,
        tags: { Name: names.prometheusWorkspaceAlias },
      });
      this.prometheus = { workspaceArn: this.prometheusWorkspace.arn, remoteWriteUrl: remoteWriteUrlOf(this.prometheusWorkspace.prometheusEndpoint) };
    } else if (prometheus) {
      this.prometheus = { workspaceArn: prometheus.arn, remoteWriteUrl: prometheus.remoteWriteUrl };
    }
    this.dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: names.dashboard,
      // The TLS edge's row too: its collector writes to its own stack's log group, under this namespace.
      dashboardBody: JSON.stringify(dashboardBody(plan.observability, plan.region, plan.tlsEdge?.metrics)),
    });
    const topic = plan.observability.alarms?.snsTopicArn;
    this.alarms = alarmsOf(plan.observability).map((alarm) => {
      const alarmName = names.alarms.get(alarm.service)?.[alarm.kind];
      if (!alarmName) throw new Error(`${this.node.path}: no alarm name for ${alarm.kind} of ${alarm.service}`);
      return metricAlarm(this, `${alarm.kind}_${alarm.service}`, alarmName, alarm, topic);
    });
  }
}

/** The CloudWatch alarm of one planned alarm (the mesh's, or the TLS edge's stack's), paging `topic` when given. */
export function metricAlarm(scope: Construct, id: string, alarmName: string, alarm: AlarmPlan<string>, topic: string | undefined): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName,
    alarmDescription: alarm.description,
    comparisonOperator: alarm.comparison,
    threshold: alarm.threshold,
    evaluationPeriods: alarm.evaluationPeriods,
    // No requests or no callers running is not a failure.
    treatMissingData: "notBreaching",
    metricQuery: alarm.queries.map((q) => ({
      id: q.id,
      returnData: q.returnData,
      ...(q.expression ? { expression: q.expression } : {}),
      ...(q.label ? { label: q.label } : {}),
      ...(q.metric
        ? { metric: { namespace: q.metric.namespace, metricName: q.metric.metricName, dimensions: { ...q.metric.dimensions }, stat: q.metric.stat, period: q.metric.period } }
        : {}),
    })),
    ...(topic ? { alarmActions: [topic], okActions: [topic] } : {}),
  });
}
