// Golden signals from the mesh's proxies (spec `observability`): the one metric catalogue the
// collector config, the dashboard and the alarms read, the collector container of an agent task,
// and the dashboard's and alarms' plan, from the call edges lib/plan/traffic.ts works out.
//
// How a signal gets to CloudWatch: Envoy serves GET /stats/prometheus on a loopback listener that
// forwards nothing else to its admin socket (agent tasks: templates/envoy/envoy-stats-listener.partial.hbs)
// or to consul-dataplane's merged metrics server (dataplane tasks: dataplaneProxyConfig); the AWS Distro for OpenTelemetry collector scrapes it with histogram_buckets=summary (Envoy then
// prints each histogram as quantiles over its last stats flush, which the overlay sets to the
// scrape interval), keeps only the catalogue's metrics and writes them as Embedded Metric Format
// to one log group of the mesh, which CloudWatch turns into metrics. A classic Prometheus
// histogram would reach CloudWatch as count and sum only (awsemfexporter datapoint.go): no p99.
//
// With observability.metrics.prometheus, a second pipeline of the same collector sends the same
// catalogue-filtered metrics by Prometheus remote write to Amazon Managed Service for Prometheus,
// signed with SigV4 as the task role; each task's series carry its ECS task ID as `instance`.
import { APP_DROPPED_CAPABILITIES, ENVOY_PORTS } from "../facts";
import { type MeshSpec, type ObservabilitySpec, PROMETHEUS_WORKSPACE_ARN, type ServiceProtocol } from "../spec/schema";
import { imageSlot } from "./images";
import { type Slot, slot } from "./text";
import { collectorConfig } from "./texts";
import type { AwsApiCall, ContainerPlan, EdgeSignals, ObservabilityPlan, PrometheusPlan, ProxyDefaultsEntry, TrafficEdge } from "./types";

// The plan types live in ./types (which every stage reads); re-exported for the constructs.
export type { EdgeSignals, ObservabilityPlan, PrometheusPlan, ServiceSignals } from "./types";

/** The collector's container name in every task that ships metrics. */
export const COLLECTOR_CONTAINER = "metrics-collector";

/** The slot of the mesh's EMF log group (the stack binds it to the log group's name). */
export const METRICS_LOG_GROUP_SLOT = "metricsLogGroup";

/** The slot of the remote-write URL of the workspace the mesh creates (the stack binds it to remoteWriteUrlOf its prometheus_endpoint). */
export const PROMETHEUS_REMOTE_WRITE_SLOT = "prometheusRemoteWrite";

/** The remote-write path under a workspace's Prometheus endpoint (AMP API reference, RemoteWrite: POST /workspaces/<id>/api/v1/remote_write). */
const REMOTE_WRITE_PATH = "api/v1/remote_write";

/** A workspace's remote-write URL from its Prometheus endpoint (https://aps-workspaces.<region>.<dns suffix>/workspaces/<id>/, the provider's prometheus_endpoint). */
export function remoteWriteUrlOf(prometheusEndpoint: string): string {
  return `${prometheusEndpoint}${REMOTE_WRITE_PATH}`;
}

/** The workspace of spec observability.metrics.prometheus; an existing one's URL from its ARN (its region and ID). */
export function planPrometheus(spec: ObservabilitySpec): PrometheusPlan | undefined {
  const prometheus = spec.metrics.enabled ? spec.metrics.prometheus : undefined;
  if (!prometheus) return undefined;
  if (prometheus.workspace === "create") return { workspace: "create" };
  const [, region, , id] = PROMETHEUS_WORKSPACE_ARN.exec(prometheus.workspace)!;
  const dnsSuffix = prometheus.workspace.startsWith("arn:aws-cn:") ? "amazonaws.com.cn" : "amazonaws.com";
  return { workspace: "existing", arn: prometheus.workspace, region: region!, remoteWriteUrl: remoteWriteUrlOf(`https://aps-workspaces.${region}.${dnsSuffix}/workspaces/${id}/`) };
}

/** What the collector calls on Amazon Managed Service for Prometheus (the task role's grant is on the workspace's ARN: MeshService). */
export const PROMETHEUS_REMOTE_WRITE_CALL: AwsApiCall = {
  api: "aps-workspaces",
  why: "the collector's remote write of the golden signals: aps:RemoteWrite on the mesh's workspace",
};

/** The CloudWatch namespace of a mesh's proxy metrics. */
export function metricsNamespace(cluster: string): string {
  return `ConsulEcsMesh/${cluster}`;
}

/**
 * Envoy's stats-only listener on loopback, the one the collector scrapes in every task: GET
 * /stats/prometheus, nothing else of the admin API (agent tasks: the overlay's listener; dataplane
 * tasks: consul-dataplane's envoy_prometheus_bind_addr listener, dataplaneProxyConfig).
 */
export const STATS_LISTENER = { listener: "envoy_stats", port: ENVOY_PORTS.stats, path: "/stats/prometheus" } as const;

/**
 * What a dataplane service registers in its proxy's Config (consul-ecs `proxy.config`, v0.10.0
 * config/types.go: the sidecar registration's Proxy.Config) for metrics. consul-dataplane 2.0.1
 * reads it only with -telemetry-use-central-config (pkg/consuldp/bootstrap.go: WeakDecode into its
 * BootstrapConfig), and then:
 * - envoy_prometheus_bind_addr: an Envoy listener on 127.0.0.1:<stats> whose one route, the path
 *   -telemetry-prom-scrape-path (STATS_LISTENER.path here, so both architectures scrape the same
 *   URL), is rewritten to /stats/prometheus and sent to the "prometheus_backend" cluster, the
 *   merged metrics server on -telemetry-prom-merge-port; every other path is a 404
 *   (internal/bootstrap/bootstrap_config.go generateListenerConfig);
 * - the merged server answers GET /stats/prometheus only, with consul-dataplane's own metrics
 *   (consul_dataplane_*, go_*) followed by Envoy admin's /stats/prometheus with the request's
 *   query (histogram_buckets=summary, usedonly) passed through (pkg/consuldp/metrics.go
 *   retainQueryUrlFn): Envoy's metrics with the same names and labels as an agent sidecar's
 *   (the same Consul tag extractors, internal/bootstrap; consul.destination.service is not one of
 *   the deprecated tags), which the collector's filter keeps; it drops the dataplane's own;
 * - envoy_stats_flush_interval: the histogram window, as stats_flush_interval in the agent's overlay.
 */
export function dataplaneProxyConfig(intervalSeconds: number): { readonly envoy_prometheus_bind_addr: string; readonly envoy_stats_flush_interval: string } {
  return { envoy_prometheus_bind_addr: `127.0.0.1:${STATS_LISTENER.port}`, envoy_stats_flush_interval: `${intervalSeconds}s` };
}

/** The label the collector adds to every sample: the service whose proxy it scraped. */
const SERVICE_LABEL = "service";

/** Consul's HTTP connection manager stat prefix of a service's public listener (its inbound requests). */
export const PUBLIC_LISTENER_PREFIX = "public_listener";

/**
 * Every metric the mesh ships, with the dimensions CloudWatch gets it under. Names and labels are
 * Envoy's Prometheus stats with Consul's tag extractors (consul.destination.service, from the
 * upstream cluster name; envoy.response_code_class; envoy.http_conn_manager_prefix), and the
 * service label the collector adds. `quantile` comes from a summary (awsemfexporter detailed_metrics).
 */
export const METRIC_CATALOGUE = {
  /** Responses of the service's own proxy to its callers, by status class (1..5). */
  serviceResponses: { name: "envoy_http_downstream_rq_xx", dimensions: [SERVICE_LABEL, "envoy_http_conn_manager_prefix", "envoy_response_code_class"] },
  /** Latency quantiles of those responses, per task over one interval. */
  serviceLatency: { name: "envoy_http_downstream_rq_time", dimensions: [SERVICE_LABEL, "envoy_http_conn_manager_prefix", "quantile"] },
  /** A caller's requests to one destination, by status class, as its proxy saw them. */
  edgeResponses: { name: "envoy_cluster_upstream_rq_xx", dimensions: [SERVICE_LABEL, "consul_destination_service", "envoy_response_code_class"] },
  edgeLatency: { name: "envoy_cluster_upstream_rq_time", dimensions: [SERVICE_LABEL, "consul_destination_service", "quantile"] },
  /** Destination instances the caller's proxy ejected (outlier detection, the passive health check). */
  edgeEjections: { name: "envoy_cluster_outlier_detection_ejections_active", dimensions: [SERVICE_LABEL, "consul_destination_service"] },
  /** Destination instances the caller's proxy sees healthy: 0 means every request fails (no healthy upstream). */
  edgeHealthy: { name: "envoy_cluster_membership_healthy", dimensions: [SERVICE_LABEL, "consul_destination_service"] },
} as const satisfies Readonly<Record<string, CatalogueMetric>>;

export interface CatalogueMetric {
  readonly name: string;
  readonly dimensions: readonly string[];
}

export type CatalogueKey = keyof typeof METRIC_CATALOGUE;

/** Status classes Envoy counts requests in (envoy_response_code_class). */
export const RESPONSE_CLASSES = ["1", "2", "3", "4", "5"] as const;

/** Quantiles the dashboard and alarms read (Envoy's summary prints 0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1). */
export const QUANTILES = { p50: "0.5", p99: "0.99" } as const;

/** What the collector of one service's task emits: each catalogue metric it scrapes, with the service dimension's value. */
export interface CollectorPlanContext {
  readonly service: string;
  readonly region: string;
  readonly namespace: string;
  readonly intervalSeconds: number;
  /** The remote-write URL (a slot: the workspace the mesh creates). @default none (CloudWatch only) */
  readonly prometheusRemoteWrite?: string | Slot;
}

/** The collector context of a service's task in a mesh whose spec turns metrics on. */
export function collectorContextOf(spec: Pick<MeshSpec, "name" | "region" | "observability">, service: string): CollectorPlanContext {
  const prometheus = planPrometheus(spec.observability);
  return {
    service,
    region: spec.region,
    namespace: metricsNamespace(spec.name),
    intervalSeconds: spec.observability.metrics.intervalSeconds,
    ...(prometheus ? { prometheusRemoteWrite: prometheus.workspace === "create" ? slot(PROMETHEUS_REMOTE_WRITE_SLOT) : prometheus.remoteWriteUrl } : {}),
  };
}

/**
 * The collector's configuration (AOT_CONFIG_CONTENT): the prometheus receiver on the stats
 * listener, a filter that keeps only the catalogue, and the EMF exporter with one declaration per
 * catalogue metric. Judged against tools/judges/otel-collector-reference.ts.
 */
export function collectorConfigOf(ctx: CollectorPlanContext) {
  const metrics = Object.values(METRIC_CATALOGUE);
  return collectorConfig({
    scrape: {
      interval: `${ctx.intervalSeconds}s`,
      target: `127.0.0.1:${STATS_LISTENER.port}`,
      path: STATS_LISTENER.path,
      labels: { [SERVICE_LABEL]: ctx.service },
    },
    metricNames: metrics.map((m) => m.name),
    batchTimeout: `${ctx.intervalSeconds}s`,
    emf: {
      region: ctx.region,
      namespace: ctx.namespace,
      logGroup: slot(METRICS_LOG_GROUP_SLOT),
      logStream: ctx.service,
      declarations: metrics.map((m) => ({
        selector: `^${m.name}`,
        dimensions: [...m.dimensions],
        // The service's own inbound requests only (not the proxy's other listeners); a prefix, as "$" is the collector's expansion.
        labelMatcher: (m.dimensions as readonly string[]).includes("envoy_http_conn_manager_prefix")
          ? { label: "envoy_http_conn_manager_prefix", regex: `^${PUBLIC_LISTENER_PREFIX}` }
          : null,
      })),
    },
    // SigV4 in the mesh's region: an existing workspace in another is the observability rule's error.
    prometheus: ctx.prometheusRemoteWrite === undefined ? null : { endpoint: ctx.prometheusRemoteWrite, region: ctx.region },
  });
}

/** Memory the collector reserves (MiB): one scrape target and six metrics (ADOT's ECS examples reserve 256 for whole-host collection). */
const COLLECTOR_MEMORY = 64;

/**
 * The collector container of a task whose proxy serves STATS_LISTENER: essential (a task whose
 * metrics stop is visible as missing data rather than silently absent), confined like the app (it
 * parses what the network sends, so it reaches no credential and no admin endpoint).
 */
export function collectorContainer(ctx: CollectorPlanContext, after: string): ContainerPlan {
  return {
    name: COLLECTOR_CONTAINER,
    image: imageSlot("otelCollector"),
    essential: true,
    command: ["--config", "env:AOT_CONFIG_CONTENT"],
    environment: [{ name: "AOT_CONFIG_CONTENT", value: collectorConfigOf(ctx) }],
    dependsOn: [{ containerName: after, condition: "START" }],
    memoryReservation: COLLECTOR_MEMORY,
    dropCapabilities: APP_DROPPED_CAPABILITIES,
    confined: "third-party code that parses what the proxy serves: it may reach the stats listener only",
    calls: [
      { api: "logs", why: "the collector's EMF metrics (PutLogEvents on the mesh's metrics log group)" },
      ...(ctx.prometheusRemoteWrite === undefined ? [] : [PROMETHEUS_REMOTE_WRITE_CALL]),
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Access logs (spec observability.accessLogs): one JSON format for every proxy of the mesh.
// ---------------------------------------------------------------------------------------------

/**
 * The JSON access log of every mesh proxy: field name -> Envoy command operator (every operator is
 * in tools/judges/envoy-format-operators.ts). Envoy's json_format renders an operator alone in a
 * value with its type (RESPONSE_CODE, DURATION and the byte counts as numbers), so Logs Insights
 * compares them as numbers. A field nobody filters by costs ingestion on every request: no user
 * agent, no X-Forwarded-For. The path keeps its query string (Envoy's :path does).
 */
export const ACCESS_LOG_FIELDS = {
  start_time: "%START_TIME%",
  method: "%REQ(:METHOD)%",
  // The path before any prefix rewrite (Envoy's own default format reads it the same way).
  path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
  authority: "%REQ(:AUTHORITY)%",
  protocol: "%PROTOCOL%",
  response_code: "%RESPONSE_CODE%",
  // UH no healthy upstream, UF connect failure, UT timeout, URX retries exhausted, NR no route, ...
  response_flags: "%RESPONSE_FLAGS%",
  response_code_details: "%RESPONSE_CODE_DETAILS%",
  duration: "%DURATION%",
  upstream_service_time: "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
  bytes_received: "%BYTES_RECEIVED%",
  bytes_sent: "%BYTES_SENT%",
  request_id: "%REQ(X-REQUEST-ID)%",
  // Consul names an upstream's cluster after its destination service (<service>.default.<dc>.internal...).
  upstream_cluster: "%UPSTREAM_CLUSTER%",
  upstream_host: "%UPSTREAM_HOST%",
  upstream_transport_failure_reason: "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
  downstream_remote_address: "%DOWNSTREAM_REMOTE_ADDRESS%",
  downstream_local_address: "%DOWNSTREAM_LOCAL_ADDRESS%",
  connection_termination_details: "%CONNECTION_TERMINATION_DETAILS%",
} as const satisfies Readonly<Record<string, string>>;

export type AccessLogField = keyof typeof ACCESS_LOG_FIELDS;

/**
 * Consul's proxy-defaults entry that turns on the access logs of every proxy it configures (agent
 * sidecars and consul-dataplane): Consul 2.0.1 agent/xds/accesslogs MakeAccessLogs puts a
 * StdoutAccessLog with this json_format on every listener filter and, for connections no filter
 * chain matches (response flag NR), on the listener (DisableListenerLogs unset). Type stdout: the
 * proxy container's stdout, which its awslogs driver ships. No Config: the service protocol stays
 * each service's service-defaults (tcp without one), as before.
 */
export function proxyDefaultsEntry(spec: ObservabilitySpec): ProxyDefaultsEntry | undefined {
  if (!spec.accessLogs.enabled) return undefined;
  return { Kind: "proxy-defaults", Name: "global", AccessLogs: { Enabled: true, Type: "stdout", JSONFormat: JSON.stringify(ACCESS_LOG_FIELDS) } };
}

// ---------------------------------------------------------------------------------------------
// Dashboard and alarms: from the plan's services and call edges.
// ---------------------------------------------------------------------------------------------

/** One metric a widget or alarm reads: a catalogue entry and a value for each of its dimensions but `envoy_response_code_class`/`quantile` where it sums or picks them. */
export interface MetricRef {
  readonly metric: CatalogueKey;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: "Sum" | "Maximum" | "Minimum" | "Average";
}

const isL7 = (protocol: ServiceProtocol) => protocol !== "tcp";

/** The metrics of one class or quantile of a catalogue entry. */
export function ref(metric: CatalogueKey, dimensions: Readonly<Record<string, string>>, stat: MetricRef["stat"]): MetricRef {
  return { metric, dimensions, stat };
}

/** Per status class, a service's responses (its public listener). */
export function serviceResponses(service: string): MetricRef[] {
  return RESPONSE_CLASSES.map((c) =>
    ref("serviceResponses", { [SERVICE_LABEL]: service, envoy_http_conn_manager_prefix: PUBLIC_LISTENER_PREFIX, envoy_response_code_class: c }, "Sum"),
  );
}

export function serviceLatency(service: string, quantile: string): MetricRef {
  return ref("serviceLatency", { [SERVICE_LABEL]: service, envoy_http_conn_manager_prefix: PUBLIC_LISTENER_PREFIX, quantile }, "Maximum");
}

export function edgeResponses(edge: EdgeSignals): MetricRef[] {
  return RESPONSE_CLASSES.map((c) => ref("edgeResponses", { [SERVICE_LABEL]: edge.source, consul_destination_service: edge.destination, envoy_response_code_class: c }, "Sum"));
}

export function edgeLatency(edge: EdgeSignals, quantile: string): MetricRef {
  return ref("edgeLatency", { [SERVICE_LABEL]: edge.source, consul_destination_service: edge.destination, quantile }, "Maximum");
}

export function edgeEjections(edge: EdgeSignals): MetricRef {
  return ref("edgeEjections", { [SERVICE_LABEL]: edge.source, consul_destination_service: edge.destination }, "Maximum");
}

export function edgeHealthy(edge: EdgeSignals): MetricRef {
  return ref("edgeHealthy", { [SERVICE_LABEL]: edge.source, consul_destination_service: edge.destination }, "Minimum");
}

/** Whether a service's proxy reports request metrics (an HTTP connection manager: L7 protocols only). */
export const reportsRequests = isL7;

/**
 * The observability plan of a mesh: its services (every proxy ships metrics: agent sidecars and
 * consul-dataplane alike) and the call edges between them the intentions allow, or undefined when
 * metrics are off.
 */
export function planObservability(
  spec: ObservabilitySpec,
  cluster: string,
  services: readonly { readonly name: string; readonly protocol: ServiceProtocol }[],
  edges: readonly TrafficEdge[],
): ObservabilityPlan | undefined {
  if (!spec.metrics.enabled) return undefined;
  const shipping = new Set(services.map((s) => s.name));
  // A denied edge has no allowed method ("-"); an edge to an unknown service is the references rule's error.
  const allowed = edges.filter((e) => e.allowed !== "-" && shipping.has(e.source) && services.some((s) => s.name === e.destination));
  const { enabled: alarmsOn, ...alarms } = spec.alarms;
  const prometheus = planPrometheus(spec);
  return {
    namespace: metricsNamespace(cluster),
    intervalSeconds: spec.metrics.intervalSeconds,
    services: services
      .filter((s) => shipping.has(s.name))
      .map((s) => ({ service: s.name, protocol: s.protocol, callers: [...new Set(allowed.filter((e) => e.destination === s.name).map((e) => e.source))].sort() })),
    edges: allowed.map((e) => ({ source: e.source, destination: e.destination, protocol: e.protocol })),
    ...(alarmsOn ? { alarms } : {}),
    ...(prometheus ? { prometheus } : {}),
  };
}

/** CloudWatch's period for the dashboard and alarms: EMF metrics are standard resolution (60 s). */
export function periodOf(plan: ObservabilityPlan): number {
  return Math.max(60, plan.intervalSeconds);
}

/** A metric as a CloudWatch dashboard widget lists it: namespace, name, dimension pairs, options. */
function widgetMetric(namespace: string, m: MetricRef, id: string, period: number, label?: string): unknown[] {
  const metric = METRIC_CATALOGUE[m.metric];
  const pairs = metric.dimensions.flatMap((d) => {
    const value = m.dimensions[d];
    if (value === undefined) throw new Error(`${m.metric}: no value for its dimension ${d}`);
    return [d, value];
  });
  return [namespace, metric.name, ...pairs, { id, stat: m.stat, period, visible: label !== undefined, ...(label ? { label } : {}) }];
}

/** Requests per second and the 5xx percent over a set of per-class metrics (ids c1..c5). */
function rateExpressions(prefix: string): { total: string; rate: string; errors: string } {
  const classes = RESPONSE_CLASSES.map((c) => `${prefix}c${c}`).join(", ");
  return { total: `SUM([${classes}])`, rate: `SUM([${classes}])/PERIOD(${prefix}c1)`, errors: `IF(SUM([${classes}]) > 0, 100*${prefix}c5/SUM([${classes}]), 0)` };
}

type Widget = { readonly type: "metric" | "text"; readonly width: number; readonly height: number; readonly properties: Record<string, unknown> };

/** The widgets of one set of signals: requests/s, 5xx %, p50/p99 latency (and more, passed in). */
function signalWidgets(namespace: string, period: number, region: string, title: string, responses: readonly MetricRef[], latency: (q: string) => MetricRef): Widget[] {
  const rate = rateExpressions("");
  const classMetrics = responses.map((m, i) => widgetMetric(namespace, m, `c${RESPONSE_CLASSES[i]}`, period));
  const props = (t: string, metrics: unknown[][], extra: Record<string, unknown> = {}) => ({
    title: `${title}: ${t}`,
    region,
    view: "timeSeries",
    stat: "Sum",
    period,
    metrics,
    ...extra,
  });
  return [
    { type: "metric", width: 8, height: 6, properties: props("requests/s", [[{ expression: rate.rate, label: "requests/s", id: "rate" }], ...classMetrics]) },
    {
      type: "metric",
      width: 8,
      height: 6,
      properties: props("5xx %", [[{ expression: rate.errors, label: "5xx %", id: "errors" }], ...classMetrics], { yAxis: { left: { min: 0, max: 100 } } }),
    },
    {
      type: "metric",
      width: 8,
      height: 6,
      properties: props("latency (ms, slowest task)", [
        widgetMetric(namespace, latency(QUANTILES.p50), "p50", period, "p50"),
        widgetMetric(namespace, latency(QUANTILES.p99), "p99", period, "p99"),
      ]),
    },
  ];
}

/** The mesh's dashboard (CloudWatch dashboard body): per service, then per allowed call edge, from the caller's side. */
export function dashboardBody(plan: ObservabilityPlan, region: string): { widgets: Widget[] } {
  const { namespace } = plan;
  const period = periodOf(plan);
  const widgets: Widget[] = [];
  const text = (markdown: string): Widget => ({ type: "text", width: 24, height: 1, properties: { markdown } });
  for (const s of plan.services) {
    widgets.push(text(`## ${s.service} (${s.protocol})`));
    if (reportsRequests(s.protocol)) widgets.push(...signalWidgets(namespace, period, region, s.service, serviceResponses(s.service), (q) => serviceLatency(s.service, q)));
    const callers = plan.edges.filter((e) => e.destination === s.service);
    if (callers.length > 0) {
      widgets.push({
        type: "metric",
        width: 24,
        height: 4,
        properties: {
          title: `${s.service}: instances ejected by callers (outlier detection)`,
          region,
          view: "timeSeries",
          period,
          metrics: callers.map((e, i) => widgetMetric(namespace, edgeEjections(e), `ej${i}`, period, `seen by ${e.source}`)),
        },
      });
    }
  }
  for (const e of plan.edges) {
    const title = `${e.source} -> ${e.destination}`;
    widgets.push(text(`### ${title} (${e.protocol}, caller's side)`));
    if (reportsRequests(e.protocol)) widgets.push(...signalWidgets(namespace, period, region, title, edgeResponses(e), (q) => edgeLatency(e, q)));
    widgets.push({
      type: "metric",
      width: 24,
      height: 4,
      properties: {
        title: `${title}: healthy and ejected instances`,
        region,
        view: "timeSeries",
        period,
        metrics: [widgetMetric(namespace, edgeHealthy(e), "healthy", period, "healthy"), widgetMetric(namespace, edgeEjections(e), "ejected", period, "ejected")],
      },
    });
  }
  return { widgets };
}

/** One query of a metric math alarm (aws_cloudwatch_metric_alarm metric_query). */
export interface AlarmQuery {
  readonly id: string;
  readonly expression?: string;
  readonly label?: string;
  readonly returnData: boolean;
  readonly metric?: {
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Readonly<Record<string, string>>;
    readonly stat: string;
    readonly period: number;
  };
}

export interface AlarmPlan {
  readonly service: string;
  readonly kind: "errorRate" | "p99Latency" | "noHealthyUpstream";
  readonly description: string;
  readonly comparison: "GreaterThanThreshold" | "LessThanThreshold";
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly queries: readonly AlarmQuery[];
}

function alarmQuery(namespace: string, m: MetricRef, id: string, period: number): AlarmQuery {
  const metric = METRIC_CATALOGUE[m.metric];
  return { id, returnData: false, metric: { namespace, metricName: metric.name, dimensions: { ...m.dimensions }, stat: m.stat, period } };
}

/** Per service: its 5xx rate and p99 latency (L7 services), and no healthy instance as its callers see it (services with callers). */
export function alarmsOf(plan: ObservabilityPlan): AlarmPlan[] {
  const thresholds = plan.alarms;
  if (!thresholds) return [];
  const { namespace } = plan;
  const period = periodOf(plan);
  const alarms: AlarmPlan[] = [];
  for (const s of plan.services) {
    const common = { service: s.service, evaluationPeriods: thresholds.evaluationPeriods };
    if (reportsRequests(s.protocol)) {
      const rate = rateExpressions("");
      alarms.push({
        ...common,
        kind: "errorRate",
        description: `${s.service}: more than ${thresholds.errorRatePercent}% of its responses are 5xx (its own proxy's count)`,
        comparison: "GreaterThanThreshold",
        threshold: thresholds.errorRatePercent,
        queries: [
          { id: "errors", expression: rate.errors, label: "5xx %", returnData: true },
          ...serviceResponses(s.service).map((m, i) => alarmQuery(namespace, m, `c${RESPONSE_CLASSES[i]}`, period)),
        ],
      });
      alarms.push({
        ...common,
        kind: "p99Latency",
        description: `${s.service}: the 99th percentile of its response time is above ${thresholds.p99LatencyMs} ms on its slowest task`,
        comparison: "GreaterThanThreshold",
        threshold: thresholds.p99LatencyMs,
        queries: [{ ...alarmQuery(namespace, serviceLatency(s.service, QUANTILES.p99), "p99", period), returnData: true }],
      });
    }
    const callers = plan.edges.filter((e) => e.destination === s.service);
    if (callers.length > 0) {
      alarms.push({
        ...common,
        kind: "noHealthyUpstream",
        description: `${s.service}: a caller's proxy sees no healthy instance of it (requests fail with 503 UH)`,
        comparison: "LessThanThreshold",
        threshold: 1,
        queries: [
          { id: "healthy", expression: `MIN([${callers.map((_, i) => `h${i}`).join(", ")}])`, label: "fewest healthy instances a caller sees", returnData: true },
          ...callers.map((e, i) => alarmQuery(namespace, edgeHealthy(e), `h${i}`, period)),
        ],
      });
    }
  }
  return alarms;
}
