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
import { APP_DROPPED_CAPABILITIES, COLLECTOR_PORTS, ENVOY_PORTS } from "../facts";
import { type MeshSpec, type ObservabilitySpec, PROMETHEUS_WORKSPACE_ARN, type ServiceProtocol } from "../spec/schema";
import { imageSlot } from "./images";
import { type Slot, slot } from "./text";
import { collectorConfig } from "./texts";
import type {
  AwsApiCall,
  ContainerPlan,
  EdgeSignals,
  ObservabilityPlan,
  PrometheusPlan,
  ProxyDefaultsEntry,
  RoleCredential,
  TlsEdgeMetricsPlan,
  TlsEdgePrometheusPlan,
  TrafficEdge,
} from "./types";

// The plan types live in ./types (which every stage reads); re-exported for the constructs.
export type { EdgeSignals, ObservabilityPlan, PrometheusPlan, ServiceSignals, TlsEdgeMetricsPlan } from "./types";

/** The collector's container name in every task that ships metrics or traces. */
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
function planPrometheus(spec: ObservabilitySpec): PrometheusPlan | undefined {
  const prometheus = spec.metrics.enabled ? spec.metrics.prometheus : undefined;
  if (!prometheus) return undefined;
  if (prometheus.workspace === "create") return { workspace: "create" };
  const [, region, , id] = PROMETHEUS_WORKSPACE_ARN.exec(prometheus.workspace)!;
  const dnsSuffix = prometheus.workspace.startsWith("arn:aws-cn:") ? "amazonaws.com.cn" : "amazonaws.com";
  return { workspace: "existing", arn: prometheus.workspace, region: region!, remoteWriteUrl: remoteWriteUrlOf(`https://aps-workspaces.${region}.${dnsSuffix}/workspaces/${id}/`) };
}

/** What the collector calls on Amazon Managed Service for Prometheus (the task role's grant is on the workspace's ARN: MeshService). */
const PROMETHEUS_REMOTE_WRITE_CALL: AwsApiCall = {
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
  /**
   * TLS errors on the TLS edge's listener: handshakes that failed (a client that does not trust the
   * edge CA, or offers no common TLS version or cipher) and TLS read/write errors after one. Envoy's
   * listener.<address>.ssl.connection_error, its address extracted as envoy_listener_address
   * (source/common/config/well_known_names.cc LISTENER_ADDRESS: "0.0.0.0_443").
   */
  tlsErrors: { name: "envoy_listener_ssl_connection_error", dimensions: [SERVICE_LABEL, "envoy_listener_address"] },
  /** Successful TLS handshakes on that listener (listener.<address>.ssl.handshake): the error rate's denominator. */
  tlsHandshakes: { name: "envoy_listener_ssl_handshake", dimensions: [SERVICE_LABEL, "envoy_listener_address"] },
} as const satisfies Readonly<Record<string, CatalogueMetric>>;

export interface CatalogueMetric {
  readonly name: string;
  readonly dimensions: readonly string[];
}

export type CatalogueKey = keyof typeof METRIC_CATALOGUE;

/**
 * What the collector of each kind of task keeps of the catalogue: a mesh task's proxy reports its
 * service's requests and its calls; the TLS edge's Envoy its requests (its HTTP connection manager,
 * as a mesh service's public listener) and its TLS listener.
 */
export const SHIPPED_METRICS = {
  mesh: ["serviceResponses", "serviceLatency", "edgeResponses", "edgeLatency", "edgeEjections", "edgeHealthy"],
  tlsEdge: ["serviceResponses", "serviceLatency", "tlsErrors", "tlsHandshakes"],
} as const satisfies Readonly<Record<string, readonly CatalogueKey[]>>;

/** Status classes Envoy counts requests in (envoy_response_code_class). */
export const RESPONSE_CLASSES = ["1", "2", "3", "4", "5"] as const;

/** Quantiles the dashboard and alarms read (Envoy's summary prints 0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1). */
export const QUANTILES = { p50: "0.5", p99: "0.99" } as const;

/** What the collector of one service's task ships: its metrics (or null) and whether its traces. */
export interface CollectorPlanContext {
  readonly service: string;
  readonly region: string;
  /** The metrics pipeline (spec observability.metrics), or null. */
  readonly metrics: {
    readonly namespace: string;
    readonly intervalSeconds: number;
    /** The remote-write URL (a slot: the workspace the mesh creates). @default none (CloudWatch only) */
    readonly prometheusRemoteWrite?: string | Slot;
  } | null;
  /** The traces pipeline (spec observability.traces). */
  readonly traces: boolean;
  /** Which proxy it scrapes: the catalogue rows it keeps. @default "mesh" */
  readonly shipped?: keyof typeof SHIPPED_METRICS;
  /** The stat prefix of the HTTP connection manager whose requests are the service's own. @default PUBLIC_LISTENER_PREFIX */
  readonly httpStatPrefix?: string;
}

/** Where the collector receives spans: OTLP/gRPC on loopback only, so nothing outside the task can send it spans. */
export const OTLP_RECEIVER = { address: "127.0.0.1", port: COLLECTOR_PORTS.otlpGrpc } as const;

/**
 * The collector's configuration (AOT_CONFIG_CONTENT), one pipeline per signal. Metrics: the
 * prometheus receiver on the stats listener, a filter that keeps only the catalogue, and the EMF
 * exporter with one declaration per catalogue metric. Traces: the OTLP receiver on OTLP_RECEIVER,
 * the Consul service as every span's service.name (the proxies' tracer is mesh-wide, so it cannot
 * name the service), and the X-Ray exporter (PutTraceSegments; with telemetry on, PutTelemetryRecords
 * reports the segments it sent, rejected or spilled). X-Ray needs no X-Ray-format trace ID from
 * Envoy: the exporter's exporter.awsxray.skiptimestampvalidation gate is beta, so on, in v0.49.0
 * (vendor/.../awsxrayexporter/factory.go). Judged against tools/judges/otel-collector-reference.ts.
 */
export function collectorConfigOf(ctx: CollectorPlanContext) {
  const metrics = SHIPPED_METRICS[ctx.shipped ?? "mesh"].map((key) => METRIC_CATALOGUE[key]);
  const httpStatPrefix = ctx.httpStatPrefix ?? PUBLIC_LISTENER_PREFIX;
  const m = ctx.metrics;
  return collectorConfig({
    metrics: m && {
      scrape: {
        interval: `${m.intervalSeconds}s`,
        target: `127.0.0.1:${STATS_LISTENER.port}`,
        path: STATS_LISTENER.path,
        labels: { [SERVICE_LABEL]: ctx.service },
      },
      metricNames: metrics.map((metric) => metric.name),
      batchTimeout: `${m.intervalSeconds}s`,
      emf: {
        region: ctx.region,
        namespace: m.namespace,
        logGroup: slot(METRICS_LOG_GROUP_SLOT),
        logStream: ctx.service,
        declarations: metrics.map((metric) => ({
          selector: `^${metric.name}`,
          dimensions: [...metric.dimensions],
          // The service's own inbound requests only (not the proxy's other listeners); a prefix, as "$" is the collector's expansion.
          labelMatcher: (metric.dimensions as readonly string[]).includes("envoy_http_conn_manager_prefix")
            ? { label: "envoy_http_conn_manager_prefix", regex: `^${httpStatPrefix}` }
            : null,
        })),
      },
      // SigV4 in the mesh's region: an existing workspace in another is the observability rule's error.
      prometheus: m.prometheusRemoteWrite === undefined ? null : { endpoint: m.prometheusRemoteWrite, region: ctx.region },
    },
    // A batch a second: X-Ray takes up to 50 segments a call (awsxray.go maxSegmentsPerPut).
    traces: ctx.traces ? { endpoint: `${OTLP_RECEIVER.address}:${OTLP_RECEIVER.port}`, service: ctx.service, region: ctx.region, batchTimeout: "1s" } : null,
  });
}

/**
 * Memory the collector reserves (MiB): one scrape target and six metrics (ADOT's ECS examples
 * reserve 256 for whole-host collection), and with traces the span batches and the X-Ray
 * exporter's sending queue besides.
 */
const COLLECTOR_MEMORY = { base: 64, traces: 32 } as const;

/** The IAM actions of the collector's X-Ray exporter: X-Ray has no resource-level permissions, so they are granted on "*". */
export const XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] as const;

/** The IAM actions of the collector's EMF exporter, granted on its own log stream of the metrics log group (MeshService, TlsService). */
export const EMF_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"] as const;

/** The IAM action of the collector's remote write, granted on the workspace (MeshService, TlsService). */
export const PROMETHEUS_ACTIONS = ["aps:RemoteWrite"] as const;

/** The task role's grant behind each AWS API the collector calls: the trust model records each as what the app reaches. */
const COLLECTOR_GRANTS: Readonly<Partial<Record<AwsApiCall["api"], readonly string[]>>> = {
  logs: EMF_ACTIONS,
  "aps-workspaces": PROMETHEUS_ACTIONS,
  xray: XRAY_ACTIONS,
};

/**
 * Why the app of a task with a collector can write the mesh's telemetry (lib/rules/trust.ts). No
 * cheap mitigation: CloudWatch, AMP and X-Ray record no writer a query could filter on, and the
 * alarms' metric math cannot tell a forged sample from a real one.
 */
const TELEMETRY_BOUNDARY =
  "ECS serves the task role's credentials to every container and a task has one task role, so the app can write what the collector writes: EMF events name their own namespace and dimensions (the stream-scoped grant does not limit what they say), remote write takes any labels, X-Ray any segment; the mesh's series and spans are only as trustworthy as each task's app, which can forge or dilute any service's and so fire or hide its alarms. Closing it takes a collector with a role the app does not hold: a task of its own (ECS has one task role per task)";

/** What the task role yields the app because the task runs this collector: its grants, one per AWS API it calls. */
export function collectorRoleCredentials(collector: readonly ContainerPlan[]): RoleCredential[] {
  return collector.flatMap((c) =>
    (c.calls ?? []).map((call): RoleCredential => {
      const actions = COLLECTOR_GRANTS[call.api];
      // A call with no grant here would be a grant the trust model does not see.
      if (actions === undefined) throw new Error(`${c.name} calls ${call.api}, which the trust model's COLLECTOR_GRANTS does not name (lib/plan/observability.ts)`);
      return { credential: "telemetry-write", how: `${actions.join(", ")}, for ${call.why}`, actions, boundary: TELEMETRY_BOUNDARY };
    }),
  );
}

/**
 * The collector container of a task whose proxy serves STATS_LISTENER (metrics) or sends spans to
 * OTLP_RECEIVER (traces): essential (a task whose signals stop is visible as missing data rather
 * than silently absent), confined like the app (it parses what the network sends, so it reaches no
 * credential and no admin endpoint).
 */
export function collectorContainer(ctx: CollectorPlanContext, after?: string, image: Slot = imageSlot("otelCollector")): ContainerPlan {
  return {
    name: COLLECTOR_CONTAINER,
    image,
    essential: true,
    command: ["--config", "env:AOT_CONFIG_CONTENT"],
    environment: [{ name: "AOT_CONFIG_CONTENT", value: collectorConfigOf(ctx) }],
    // Without `after`, it starts first: its scrape retries each interval until the proxy listens.
    ...(after === undefined ? {} : { dependsOn: [{ containerName: after, condition: "START" as const }] }),
    memoryReservation: COLLECTOR_MEMORY.base + (ctx.traces ? COLLECTOR_MEMORY.traces : 0),
    dropCapabilities: APP_DROPPED_CAPABILITIES,
    confined: "third-party code that parses what the proxy serves: it may reach the stats listener only",
    ...(ctx.traces
      ? // The task's proxy sends its spans here; a span the app sends would be its own service's.
        { serves: [{ name: "OTLP/gRPC receiver (spans)", on: { tcp: OTLP_RECEIVER.port }, reveals: [], controls: false }] }
      : {}),
    calls: [
      ...(ctx.metrics ? [{ api: "logs", why: "the collector's EMF metrics (PutLogEvents on its own stream of the metrics log group)" } as const] : []),
      ...(ctx.metrics?.prometheusRemoteWrite === undefined ? [] : [PROMETHEUS_REMOTE_WRITE_CALL]),
      ...(ctx.traces
        ? [
            {
              api: "xray",
              actions: XRAY_ACTIONS,
              why: "the collector's spans (awsxray exporter)",
              source:
                "aws-otel-collector v0.49.0 vendor/.../awsxrayexporter: awsxray.go PutTraceSegments; internal/aws/xray/telemetry/sender.go PutTelemetryRecords (telemetry.enabled)",
            } as const,
          ]
        : []),
    ],
  };
}

/**
 * Where a task's collector remote-writes (a mesh task's or the TLS edge's): an existing workspace's
 * URL as is, the created one's as a slot its stack binds (MeshObservability, or the parameter the edge reads).
 */
export function collectorRemoteWrite(prometheus: PrometheusPlan | TlsEdgePrometheusPlan | undefined): { readonly prometheusRemoteWrite?: string | Slot } {
  if (!prometheus) return {};
  return { prometheusRemoteWrite: prometheus.workspace === "create" ? slot(PROMETHEUS_REMOTE_WRITE_SLOT) : prometheus.remoteWriteUrl };
}

/** The collector of one service's task, as the spec's observability asks (none when metrics and traces are off), started after `after` (its proxy). */
export function taskCollector(spec: MeshSpec, service: string, after: string): ContainerPlan[] {
  const { metrics, traces } = spec.observability;
  if (!metrics.enabled && !traces.enabled) return [];
  return [
    collectorContainer(
      {
        service,
        region: spec.region,
        metrics: metrics.enabled
          ? { namespace: metricsNamespace(spec.name), intervalSeconds: metrics.intervalSeconds, ...collectorRemoteWrite(planPrometheus(spec.observability)) }
          : null,
        traces: traces.enabled,
      },
      after,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Traces (spec observability.traces): Envoy's OpenTelemetry tracer on every mesh proxy.
// ---------------------------------------------------------------------------------------------

/** The static Envoy cluster every mesh proxy sends its spans over: OTLP/gRPC to its task's collector. */
export const TRACES_CLUSTER = "otel_collector";

/**
 * TRACES_CLUSTER as an Envoy v3 Cluster (JSON): HTTP/2 to OTLP_RECEIVER. Each task puts it in its
 * own proxy's bootstrap, so it exists before any listener's tracer names it, whenever the
 * intentions stack writes proxy-defaults (a listener whose tracer names a missing cluster would be
 * refused, and with it every later listener update, intentions included): the agent sidecar's
 * overlay (--config-yaml), and for consul-dataplane a file mesh-init writes that its Envoy merges
 * (--config-path beside the --config-yaml consul-dataplane 2.0.1 passes, pkg/envoy/proxy.go
 * buildCommand; Envoy appends repeated fields when it merges the two).
 */
export function tracesClusterJson(): string {
  return JSON.stringify(tracesCluster());
}

/** TRACES_CLUSTER as an Envoy v3 Cluster object (the TLS edge's static config lists it as is). */
export function tracesCluster() {
  return {
    name: TRACES_CLUSTER,
    type: "STATIC",
    connect_timeout: "1s",
    // OTLP/gRPC is HTTP/2.
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: TRACES_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: OTLP_RECEIVER.address, port_value: OTLP_RECEIVER.port } } } }] }],
    },
  };
}

/** A change that needs one stack applied, and its deployments finished, before the other. */
export interface StackOrder {
  readonly first: "mesh" | "intentions";
  readonly second: "mesh" | "intentions";
  readonly why: string;
}

/**
 * The stack order turning traces on or off needs (none when they stay as they are). The tracer is in
 * proxy-defaults (the intentions stack) and its cluster in each task's bootstrap (the mesh stack: only
 * new tasks change), and a proxy refuses every listener update that names a cluster it lacks,
 * intentions included. On: the mesh first, its deployments finished; off: the intentions first.
 */
export function tracesStackOrder(before: boolean, after: boolean): StackOrder | undefined {
  if (before === after) return undefined;
  return after
    ? {
        first: "mesh",
        second: "intentions",
        why: `traces turn on: every task must boot with the ${TRACES_CLUSTER} cluster (let the mesh's deployments finish) before proxy-defaults names it in the tracer`,
      }
    : {
        first: "intentions",
        second: "mesh",
        why: `traces turn off: proxy-defaults must drop the tracer before tasks boot without the ${TRACES_CLUSTER} cluster, or their proxies refuse every listener update naming it`,
      };
}

/**
 * The tracer's Consul escape hatch, in the proxy-defaults entry's Config (every proxy of the
 * datacenter reads it; all are mesh tasks, each with its collector and TRACES_CLUSTER):
 * envoy_listener_tracing_json, read by the servers' xDS and applied live, is the HCM Tracing of the
 * public listener and every upstream listener (hashicorp/consul agent/xds/listeners.go
 * listenersFromSnapshotConnectProxy, makeTracingFromUserConfig: an Any with @type): the
 * OpenTelemetry provider and random_sampling. consul-dataplane's proxies get it the same way (their
 * xDS is the servers'). Not envoy_tracing_json: the bootstrap's `tracing` is deprecated in favour
 * of HttpConnectionManager.Tracing.provider (Envoy 1.37 bootstrap.proto, field 9). Not in each
 * service's registration: since hashicorp/consul#23901 (backported to 2.0.x) an escape hatch in a
 * registration needs mesh:write, which no service token has; proxy-defaults needs it anyway, and
 * the intentions stack writes it with its own token. Only L7 services (an HTTP connection manager)
 * make spans.
 */
export function tracingProxyConfig(samplingPercent: number): { readonly envoy_listener_tracing_json: string } {
  const tracing = {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing",
    ...listenerTracing(samplingPercent),
  };
  return { envoy_listener_tracing_json: JSON.stringify(tracing) };
}

/**
 * An HTTP connection manager's Tracing (HttpConnectionManager.tracing): the OpenTelemetry tracer
 * to TRACES_CLUSTER, sampling `samplingPercent` of the requests that come without a trace context.
 * The mesh's proxies get it through proxy-defaults (tracingProxyConfig), the TLS edge's Envoy in
 * its static config.
 */
export function listenerTracing(samplingPercent: number) {
  return {
    // A request without a trace context starts one at this rate; one with a W3C traceparent follows its sampled flag.
    random_sampling: { value: samplingPercent },
    provider: {
      name: "envoy.tracers.opentelemetry",
      typed_config: {
        "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
        grpc_service: { envoy_grpc: { cluster_name: TRACES_CLUSTER }, timeout: "0.250s" },
      },
    },
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
 * Consul's proxy-defaults entry of the mesh, when access logs or traces are on.
 * Access logs, on every proxy it configures (agent sidecars and consul-dataplane): Consul 2.0.1
 * agent/xds/accesslogs MakeAccessLogs puts a StdoutAccessLog with this json_format on every
 * listener filter and, for connections no filter chain matches (response flag NR), on the listener
 * (DisableListenerLogs unset). Type stdout: the proxy container's stdout, which its awslogs driver
 * ships. Traces: tracingProxyConfig in its Config. Its Config holds no `protocol`: the service
 * protocol stays each service's service-defaults (tcp without one), as before.
 */
export function proxyDefaultsEntry(spec: ObservabilitySpec): ProxyDefaultsEntry | undefined {
  if (!spec.accessLogs.enabled && !spec.traces.enabled) return undefined;
  return {
    Kind: "proxy-defaults",
    Name: "global",
    ...(spec.traces.enabled ? { Config: tracingProxyConfig(spec.traces.samplingPercent) } : {}),
    ...(spec.accessLogs.enabled ? { AccessLogs: { Enabled: true, Type: "stdout", JSONFormat: JSON.stringify(ACCESS_LOG_FIELDS) } as const } : {}),
  };
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

/** Per status class, a service's responses (its public listener; the TLS edge's: its HTTP connection manager's prefix). */
export function serviceResponses(service: string, httpStatPrefix: string = PUBLIC_LISTENER_PREFIX): MetricRef[] {
  return RESPONSE_CLASSES.map((c) => ref("serviceResponses", { [SERVICE_LABEL]: service, envoy_http_conn_manager_prefix: httpStatPrefix, envoy_response_code_class: c }, "Sum"));
}

export function serviceLatency(service: string, quantile: string, httpStatPrefix: string = PUBLIC_LISTENER_PREFIX): MetricRef {
  return ref("serviceLatency", { [SERVICE_LABEL]: service, envoy_http_conn_manager_prefix: httpStatPrefix, quantile }, "Maximum");
}

/** The TLS edge listener's TLS errors and successful handshakes. */
function tlsEdgeTls(edge: TlsEdgeMetricsPlan): { readonly errors: MetricRef; readonly handshakes: MetricRef } {
  const dimensions = { [SERVICE_LABEL]: edge.service, envoy_listener_address: edge.listenerAddress };
  return { errors: ref("tlsErrors", dimensions, "Sum"), handshakes: ref("tlsHandshakes", dimensions, "Sum") };
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

/**
 * The TLS edge's signals when the mesh ships metrics: its Envoy's collector writes under the mesh's
 * namespace (the dashboard's), its service name as the service label; the HTTP connection
 * manager's stat prefix keeps its requests apart from a mesh service of the same name.
 */
export function planTlsEdgeMetrics(
  mesh: ObservabilityPlan | undefined,
  edge: { readonly service: string; readonly httpStatPrefix: string; readonly listenerAddress: string },
  prometheusParameters?: { readonly workspaceArn: string; readonly remoteWriteUrl: string },
): TlsEdgeMetricsPlan | undefined {
  if (!mesh) return undefined;
  const prometheus = tlsEdgePrometheusOf(mesh.prometheus, prometheusParameters);
  return { ...edge, namespace: mesh.namespace, intervalSeconds: mesh.intervalSeconds, ...(mesh.alarms ? { alarms: mesh.alarms } : {}), ...(prometheus ? { prometheus } : {}) };
}

/** The mesh's workspace as the TLS edge's stack finds it: from the spec (an existing one), or from the parameters the mesh publishes (the one it creates). */
function tlsEdgePrometheusOf(
  prometheus: PrometheusPlan | undefined,
  parameters: { readonly workspaceArn: string; readonly remoteWriteUrl: string } | undefined,
): TlsEdgePrometheusPlan | undefined {
  if (!prometheus) return undefined;
  if (prometheus.workspace === "existing") return { workspace: "existing", arn: prometheus.arn, remoteWriteUrl: prometheus.remoteWriteUrl };
  if (!parameters) throw new Error("tlsEdge: the mesh creates a Prometheus workspace but gave no parameters to publish it under");
  return { workspace: "create", parameters };
}

/** CloudWatch's period for the dashboard and alarms: EMF metrics are standard resolution (60 s). */
export function periodOf(plan: Pick<ObservabilityPlan, "intervalSeconds">): number {
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

/** TLS errors as a percent of the TLS listener's handshakes (ids e and h; a counter Envoy has not used yet is absent). */
const TLS_ERROR_PERCENT = "IF(FILL(e, 0) + FILL(h, 0) > 0, 100*FILL(e, 0)/(FILL(e, 0) + FILL(h, 0)), 0)";

/** The TLS edge's row: its requests as a service's, and its TLS listener's handshakes and errors. */
function tlsEdgeWidgets(edge: TlsEdgeMetricsPlan, region: string): Widget[] {
  const period = periodOf(edge);
  const tls = tlsEdgeTls(edge);
  return [
    { type: "text", width: 24, height: 1, properties: { markdown: `## TLS edge ${edge.service} (https, its Envoy)` } },
    ...signalWidgets(edge.namespace, period, region, `${edge.service} (TLS edge)`, serviceResponses(edge.service, edge.httpStatPrefix), (q) =>
      serviceLatency(edge.service, q, edge.httpStatPrefix),
    ),
    {
      type: "metric",
      width: 24,
      height: 4,
      properties: {
        title: `${edge.service} (TLS edge): TLS handshakes and errors`,
        region,
        view: "timeSeries",
        period,
        metrics: [
          [{ expression: TLS_ERROR_PERCENT, label: "TLS errors %", id: "tlspct", yAxis: "right" }],
          widgetMetric(edge.namespace, tls.errors, "e", period, "TLS errors"),
          widgetMetric(edge.namespace, tls.handshakes, "h", period, "handshakes"),
        ],
      },
    },
  ];
}

/** The mesh's dashboard (CloudWatch dashboard body): per service, then per allowed call edge, from the caller's side, then the TLS edge when it ships metrics. */
export function dashboardBody(plan: ObservabilityPlan, region: string, tlsEdge?: TlsEdgeMetricsPlan): { widgets: Widget[] } {
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
  if (tlsEdge) widgets.push(...tlsEdgeWidgets(tlsEdge, region));
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

/** One alarm; `kind` is what its name is looked up by (a mesh service's, or the TLS edge's). */
export interface AlarmPlan<Kind extends string = "errorRate" | "p99Latency" | "noHealthyUpstream" | "tlsErrors"> {
  readonly service: string;
  readonly kind: Kind;
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

/** A service's (or the TLS edge's) 5xx rate and p99 latency alarms, from the responses of one HTTP connection manager. */
function requestAlarms(
  service: string,
  counter: string,
  httpStatPrefix: string,
  thresholds: NonNullable<ObservabilityPlan["alarms"]>,
  namespace: string,
  period: number,
): AlarmPlan<"errorRate" | "p99Latency">[] {
  const common = { service, evaluationPeriods: thresholds.evaluationPeriods };
  const rate = rateExpressions("");
  return [
    {
      ...common,
      kind: "errorRate",
      description: `${service}: more than ${thresholds.errorRatePercent}% of its responses are 5xx (${counter})`,
      comparison: "GreaterThanThreshold",
      threshold: thresholds.errorRatePercent,
      queries: [
        { id: "errors", expression: rate.errors, label: "5xx %", returnData: true },
        ...serviceResponses(service, httpStatPrefix).map((m, i) => alarmQuery(namespace, m, `c${RESPONSE_CLASSES[i]}`, period)),
      ],
    },
    {
      ...common,
      kind: "p99Latency",
      description: `${service}: the 99th percentile of its response time is above ${thresholds.p99LatencyMs} ms on its slowest task`,
      comparison: "GreaterThanThreshold",
      threshold: thresholds.p99LatencyMs,
      queries: [{ ...alarmQuery(namespace, serviceLatency(service, QUANTILES.p99, httpStatPrefix), "p99", period), returnData: true }],
    },
  ];
}

/**
 * The TLS edge's alarms with the mesh's thresholds: its 5xx rate and p99 latency as its Envoy
 * counts them, and its TLS errors as a percent of handshakes above the same error rate.
 */
export function tlsEdgeAlarmsOf(edge: TlsEdgeMetricsPlan): AlarmPlan<"errorRate" | "p99Latency" | "tlsErrors">[] {
  const thresholds = edge.alarms;
  if (!thresholds) return [];
  const period = periodOf(edge);
  const tls = tlsEdgeTls(edge);
  return [
    ...requestAlarms(edge.service, "its Envoy's count", edge.httpStatPrefix, thresholds, edge.namespace, period),
    {
      service: edge.service,
      evaluationPeriods: thresholds.evaluationPeriods,
      kind: "tlsErrors",
      description: `${edge.service}: more than ${thresholds.errorRatePercent}% of the TLS connections to it fail (a client that does not trust the edge CA, or shares no TLS version or cipher with it)`,
      comparison: "GreaterThanThreshold",
      threshold: thresholds.errorRatePercent,
      queries: [
        { id: "tlspct", expression: TLS_ERROR_PERCENT, label: "TLS errors %", returnData: true },
        alarmQuery(edge.namespace, tls.errors, "e", period),
        alarmQuery(edge.namespace, tls.handshakes, "h", period),
      ],
    },
  ];
}

/** Per service: its 5xx rate and p99 latency (L7 services), and no healthy instance as its callers see it (services with callers). */
export function alarmsOf(plan: ObservabilityPlan): AlarmPlan<"errorRate" | "p99Latency" | "noHealthyUpstream">[] {
  const thresholds = plan.alarms;
  if (!thresholds) return [];
  const { namespace } = plan;
  const period = periodOf(plan);
  const alarms: AlarmPlan<"errorRate" | "p99Latency" | "noHealthyUpstream">[] = [];
  for (const s of plan.services) {
    const common = { service: s.service, evaluationPeriods: thresholds.evaluationPeriods };
    if (reportsRequests(s.protocol)) alarms.push(...requestAlarms(s.service, "its own proxy's count", PUBLIC_LISTENER_PREFIX, thresholds, namespace, period));
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
