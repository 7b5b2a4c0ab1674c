// The TLS edge's Envoy ships metrics (spec observability.metrics with a tlsEdge): its stats-only
// listener, the mesh's collector in its task, the catalogue rows of its golden signals, its own
// EMF log group and alarms, and its row of the mesh's dashboard, proved consistent across the
// synthesized stacks.
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as fs from "node:fs";
import path from "node:path";
import type { MeshSpecInput } from "../lib/spec/schema";
import { COLLECTOR_CONTAINER, METRIC_CATALOGUE, SHIPPED_METRICS, STATS_LISTENER } from "../lib/plan/observability";
import { TLS_EDGE_LISTENER } from "../lib/plan/tls-edge";
import type { MeshPlan } from "../lib/plan/types";
import { checkPorts } from "../lib/rules/ports";
import { checkTlsEdge } from "../lib/rules/tls-edge";
import { checkTrust } from "../lib/rules/trust";
import { judgeEnvoyBootstrap } from "../tools/judges/envoy";
import { emittedMetrics, judgeCollectorConfig } from "../tools/judges/otel-collector";
import { evaluateIam } from "../tools/judges/iam";
import { meshCalls } from "../tools/judges/iam-calls";
import { planOf, synthAllStacks } from "./support/synth";
import { specIssues } from "./support/spec-issues";
import { runPushImages } from "./support/push-images";
import { collectorConfigOf, containersOf, edgeEnvoyConfigText } from "./support/telemetry";

type Doc = Record<string, any>;

const EXAMPLE = parse(fs.readFileSync(path.join(__dirname, "..", "examples", "tls-edge.yaml"), "utf8")) as MeshSpecInput;
/** The example without its observability section: metrics off. */
const TLS_EDGE: MeshSpecInput = (() => {
  const { observability: _, ...spec } = EXAMPLE;
  return spec;
})();
const OBSERVED: MeshSpecInput = {
  ...TLS_EDGE,
  observability: { metrics: { enabled: true }, alarms: { enabled: true, errorRatePercent: 2, p99LatencyMs: 750, snsTopicArn: "arn:aws:sns:us-east-1:123456789012:oncall" } },
};
const EDGE = "envoy-ssl-tutorial";

function edgeOf(plan: MeshPlan) {
  return plan.tlsEdge!;
}

function envoyConfigOf(plan: MeshPlan): Doc {
  return parse(edgeEnvoyConfigText(plan)) as Doc;
}

/**
 * What a request reaches through one listener of a static Envoy config: the cluster of the first
 * route whose path match (exact `path`, or `prefix`) and header matches (exact) hold, or none.
 */
function routeOf(listener: Doc, method: string, requestPath: string): string | undefined {
  const hcm = listener.filter_chains[0].filters[0].typed_config;
  for (const host of hcm.route_config.virtual_hosts) {
    for (const route of host.routes as Doc[]) {
      const m = route.match;
      const pathOnly = requestPath.split("?")[0]!;
      const pathOk = m.path !== undefined ? m.path === pathOnly : m.prefix !== undefined ? pathOnly.startsWith(m.prefix) : false;
      const headersOk = (m.headers ?? []).every((h: Doc) => (h.name === ":method" ? h.string_match?.exact === method : false));
      if (pathOk && headersOk) return route.route?.cluster;
    }
  }
  return undefined;
}

/** Every metric a dashboard widget or alarm of the stacks reads for the TLS edge (service label = the edge's name). */
function edgeReads(stacks: Record<string, Doc>): { where: string; namespace: string; name: string; dimensions: Record<string, string> }[] {
  const out: ReturnType<typeof edgeReads> = [];
  for (const [stack, doc] of Object.entries(stacks)) {
    for (const [id, dashboard] of Object.entries<Doc>(doc.resource?.aws_cloudwatch_dashboard ?? {})) {
      for (const widget of JSON.parse(dashboard.dashboard_body).widgets as Doc[]) {
        for (const m of (widget.properties.metrics ?? []) as unknown[][]) {
          if (typeof m[0] !== "string") continue;
          const [namespace, name, ...rest] = m as string[];
          const pairs = rest.filter((x) => typeof x === "string");
          const dimensions = Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i]!, pairs[2 * i + 1]!]));
          if (dimensions.service === EDGE) out.push({ where: `${stack} ${id}: ${widget.properties.title}`, namespace: namespace!, name: name!, dimensions });
        }
      }
    }
    for (const [id, alarm] of Object.entries<Doc>(doc.resource?.aws_cloudwatch_metric_alarm ?? {})) {
      for (const q of alarm.metric_query as Doc[]) {
        if (q.metric?.dimensions?.service === EDGE)
          out.push({ where: `${stack} alarm ${id}`, namespace: q.metric.namespace, name: q.metric.metric_name, dimensions: q.metric.dimensions });
      }
    }
  }
  return out;
}

/** A read the edge's collector does not emit: its metric name, namespace, or dimension set. */
function unemittedByEdge(stacks: Record<string, Doc>): string[] {
  const emitted = emittedMetrics(collectorConfigOf(stacks["tls-edge"]!));
  return edgeReads(stacks).flatMap((m) => {
    if (emitted.labels.service !== m.dimensions.service) return [`${m.where}: the collector labels its samples service=${emitted.labels.service}`];
    if (emitted.namespace !== m.namespace) return [`${m.where}: namespace ${m.namespace}, the collector writes ${emitted.namespace}`];
    if (!emitted.names.has(m.name)) return [`${m.where}: ${m.name} is not a metric the edge's collector keeps`];
    const keys = Object.keys(m.dimensions).sort().join(",");
    if (!emitted.dimensions.get(m.name)!.some((set) => [...set].sort().join(",") === keys)) return [`${m.where}: ${m.name} has no dimension set {${keys}} in the EMF declarations`];
    return [];
  });
}

describe("examples/tls-edge.yaml ships the edge's metrics, so CI's render and policy judges see its collector", () => {
  it("turns on metrics and alarms, and its edge runs the collector", () => {
    const edge = edgeOf(planOf(EXAMPLE));
    expect(edge.metrics?.alarms).toBeDefined();
    expect(edge.task.containers.map((c) => c.name)).toContain(COLLECTOR_CONTAINER);
    expect(specIssues(EXAMPLE).errors).toEqual([]);
  });
});

describe("TLS edge metrics off (the default)", () => {
  it("the edge's task, Envoy config and names are as before: no collector, no stats listener, no metrics names", () => {
    const edge = edgeOf(planOf(TLS_EDGE));
    expect(edge.task.containers.map((c) => c.name)).toEqual(["certificate-init", "app", "envoy"]);
    expect(edge.metrics).toBeUndefined();
    expect(edge.names.metrics).toBeUndefined();
    const config = envoyConfigOf(planOf(TLS_EDGE));
    expect(config.static_resources.listeners.map((l: Doc) => l.name)).toEqual(["tls_ingress", "envoy_ready"]);
    expect(config.stats_flush_interval).toBeUndefined();
  });
});

describe("TLS edge metrics on (examples/tls-edge.yaml with metrics and alarms)", () => {
  const plan = planOf(OBSERVED);
  const edge = edgeOf(plan);
  const stacks = synthAllStacks(OBSERVED) as Record<string, Doc>;
  const edgeDoc = stacks["tls-edge"]!;

  it("is accepted: no error from any rule, and no warning the example without metrics lacks", () => {
    expect(specIssues(OBSERVED)).toEqual({ errors: [], warnings: specIssues(TLS_EDGE).warnings });
  });

  it("its Envoy serves GET /stats/prometheus on loopback and no other admin path; the judge passes the config", () => {
    const config = envoyConfigOf(plan);
    expect(judgeEnvoyBootstrap(edgeEnvoyConfigText(plan))).toEqual([]);
    const stats = config.static_resources.listeners.find((l: Doc) => l.name === STATS_LISTENER.listener);
    expect(stats.address.socket_address).toEqual({ address: "127.0.0.1", port_value: STATS_LISTENER.port });
    expect(routeOf(stats, "GET", "/stats/prometheus?histogram_buckets=summary&usedonly")).toBe("envoy_admin");
    for (const [method, p] of [
      ["POST", "/stats/prometheus"],
      ["GET", "/stats"],
      ["GET", "/config_dump"],
      ["POST", "/quitquitquit"],
      ["GET", "/clusters"],
      ["GET", "/stats/prometheus/../config_dump"],
      ["POST", "/logging"],
    ] as const) {
      expect(routeOf(stats, method, p), `${method} ${p}`).toBeUndefined();
    }
    // The TLS listener still sends everything to the app, never to the admin cluster.
    const tls = config.static_resources.listeners.find((l: Doc) => l.name === TLS_EDGE_LISTENER.name);
    expect(routeOf(tls, "GET", "/config_dump")).toBe("local_service");
    expect(tls.filter_chains[0].filters[0].typed_config.stat_prefix).toBe(TLS_EDGE_LISTENER.httpStatPrefix);
    expect(config.stats_flush_interval).toBe("60s");
  });

  it("runs the mesh's collector first: essential, before the app (so before Envoy), within the task's memory", () => {
    const names = edge.task.containers.map((c) => c.name);
    expect(names).toEqual(["certificate-init", COLLECTOR_CONTAINER, "app", "envoy"]);
    const collector = edge.task.containers.find((c) => c.name === COLLECTOR_CONTAINER)!;
    expect(collector.essential).toBe(true);
    expect(collector.dependsOn).toBeUndefined();
    expect(edge.task.containers.find((c) => c.name === "app")!.dependsOn).toEqual([{ containerName: COLLECTOR_CONTAINER, condition: "START" }]);
    const reserved = edge.task.containers.reduce((sum, c) => sum + (c.memoryReservation ?? 0), 0);
    expect(reserved).toBeLessThanOrEqual(edge.memory);
  });

  it("the memory rule fails when the containers outgrow the task", () => {
    const errors: { path: string; message: string }[] = [];
    checkTlsEdge({ ...plan, tlsEdge: { ...edge, memory: 256 } }, { errors, warnings: [] } as never);
    expect(errors).toContainEqual({ path: "tlsEdge.memory", message: expect.stringMatching(/reserve 288 MiB .*metrics-collector 64.* but the task has 256 MiB; raise memory/) });
  });

  it("the ports rule keeps the app off the stats listener", () => {
    const moved = planOf({ ...OBSERVED, tlsEdge: { ...OBSERVED.tlsEdge!, appPort: STATS_LISTENER.port } });
    const errors: { path: string; message: string }[] = [];
    checkPorts(moved, { errors, warnings: [] } as never);
    expect(errors).toEqual([{ path: "tlsEdge.appPort", message: expect.stringMatching(/19101 is envoy's Envoy stats listener .* in every TLS edge task/) }]);
  });

  it("the trust rule holds, and fails when the collector could capture loopback traffic", () => {
    const ok = { errors: [] as unknown[], warnings: [] };
    checkTrust(plan, ok as never);
    expect(ok.errors).toEqual([]);
    // With a credential on loopback (an endpoint that carries the key), a collector keeping NET_RAW reaches it.
    const containers = edge.task.containers.map((c) =>
      c.name === COLLECTOR_CONTAINER
        ? { ...c, dropCapabilities: [] }
        : c.name === "envoy"
          ? { ...c, serves: [...(c.serves ?? []), { name: "test endpoint", on: { tcp: 9999 }, reveals: [], controls: false, carries: ["edge-tls-key" as const] }] }
          : c,
    );
    const broken = { errors: [] as { message: string }[], warnings: [] };
    checkTrust({ ...plan, tlsEdge: { ...edge, task: { ...edge.task, containers } } }, broken as never);
    expect(broken.errors.map((e) => e.message).join("\n")).toMatch(/metrics-collector .*reaches edge-tls-key/);
  });

  it("its collector config passes the judge and keeps exactly the edge's catalogue rows, under its own prefix", () => {
    const config = collectorConfigOf(edgeDoc);
    expect(judgeCollectorConfig(config)).toEqual([]);
    const emitted = emittedMetrics(config);
    expect([...emitted.names].sort()).toEqual(SHIPPED_METRICS.tlsEdge.map((k) => METRIC_CATALOGUE[k].name).sort());
    expect(emitted.names.has("envoy_listener_ssl_connection_error")).toBe(true);
    expect(emitted.labels).toEqual({ service: EDGE });
    expect(config.exporters.awsemf.metric_declarations.find((d: Doc) => d.metric_name_selectors[0] === "^envoy_http_downstream_rq_xx").label_matchers).toEqual([
      { label_names: ["envoy_http_conn_manager_prefix"], regex: "^ingress_https" },
    ]);
  });

  it("writes its EMF to the edge stack's own log group, under the edge's key", () => {
    const groups = Object.values<Doc>(edgeDoc.resource.aws_cloudwatch_log_group).map((g) => g.name);
    expect(groups).toEqual([`/ecs/${EDGE}`, `/ecs/${EDGE}/proxy-metrics`]);
    const emf = collectorConfigOf(edgeDoc).exporters.awsemf;
    expect(emf.log_group_name).toMatch(/^\$\{aws_cloudwatch_log_group\.tls_edge_metrics_log_group[_A-F0-9]*\.name\}$/);
    expect(emf.log_stream_name).toBe(EDGE);
    const keyPolicy = JSON.parse(Object.values<Doc>(edgeDoc.resource.aws_kms_key)[0]!.policy);
    const logsArns = JSON.stringify(keyPolicy.Statement);
    expect(logsArns).toContain(`log-group:/ecs/${EDGE}/proxy-metrics`);
  });

  it("the task role may write only its own stream of the metrics log group; the IAM judge agrees", async () => {
    const policies = Object.values<Doc>(edgeDoc.resource.aws_iam_role_policy ?? {}).filter((p) => String(p.name_prefix ?? p.name).startsWith("proxy-metrics"));
    expect(policies).toHaveLength(1);
    const statements = JSON.parse(policies[0]!.policy).Statement as Doc[];
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    expect(String(statements[0]!.Resource)).toMatch(new RegExp(`^\\$\\{aws_cloudwatch_log_group\\.tls_edge_metrics_log_group[_A-F0-9]*\\.arn\\}:log-stream:${EDGE}$`));
    const calls = meshCalls(stacks, plan);
    expect(calls.filter((c) => c.stack === "tls-edge" && c.action === "logs:PutLogEvents" && String(c.resource).includes("proxy-metrics"))).toHaveLength(1);
    const report = await evaluateIam(stacks, calls);
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
    expect(report.unused).toEqual([]);
  });

  it("alarms on 5xx rate, p99 latency and TLS errors with the spec's thresholds and topic", () => {
    const alarms = Object.values<Doc>(edgeDoc.resource.aws_cloudwatch_metric_alarm);
    expect(alarms.map((a) => a.alarm_name).sort()).toEqual([`${EDGE}-tls-edge-5xx-rate`, `${EDGE}-tls-edge-p99-latency`, `${EDGE}-tls-edge-tls-errors`]);
    const threshold = (name: string) => alarms.find((a) => a.alarm_name === `${EDGE}-tls-edge-${name}`)!.threshold;
    expect([threshold("5xx-rate"), threshold("p99-latency"), threshold("tls-errors")]).toEqual([2, 750, 2]);
    for (const a of alarms) expect(a.alarm_actions).toEqual(["arn:aws:sns:us-east-1:123456789012:oncall"]);
  });

  it("the mesh's dashboard has the edge's row: requests, 5xx, latency and TLS", () => {
    const [dashboard] = Object.values<Doc>(stacks.mesh.resource.aws_cloudwatch_dashboard);
    const titles = (JSON.parse(dashboard!.dashboard_body).widgets as Doc[]).map((w) => w.properties.title ?? w.properties.markdown);
    expect(titles.slice(-5)).toEqual([
      `## TLS edge ${EDGE} (https, its Envoy)`,
      `${EDGE} (TLS edge): requests/s`,
      `${EDGE} (TLS edge): 5xx %`,
      `${EDGE} (TLS edge): latency (ms, slowest task)`,
      `${EDGE} (TLS edge): TLS handshakes and errors`,
    ]);
  });

  it("every metric and dimension a widget or alarm reads for the edge is one its collector emits", () => {
    const reads = edgeReads(stacks);
    // Widgets: 5 classes twice, p50, p99, errors, handshakes; alarms: 5 classes, p99, errors, handshakes.
    expect(reads).toHaveLength(14 + 8);
    expect(unemittedByEdge(stacks)).toEqual([]);
  });

  it("fails when an alarm's metric name is changed, or a widget reads a dimension the collector does not declare", () => {
    const alarms = edgeDoc.resource.aws_cloudwatch_metric_alarm as Doc;
    const [id, alarm] = Object.entries<Doc>(alarms).find(([, a]) => a.alarm_name.endsWith("tls-errors"))!;
    const renamed = alarm.metric_query.map((q: Doc) => (q.metric ? { ...q, metric: { ...q.metric, metric_name: `${q.metric.metric_name}_total` } } : q));
    const broken = {
      ...stacks,
      "tls-edge": { ...edgeDoc, resource: { ...edgeDoc.resource, aws_cloudwatch_metric_alarm: { ...alarms, [id]: { ...alarm, metric_query: renamed } } } },
    };
    expect(unemittedByEdge(broken)).toContainEqual(expect.stringMatching(/envoy_listener_ssl_connection_error_total is not a metric the edge's collector keeps/));
    const redimensioned = alarm.metric_query.map((q: Doc) => (q.metric ? { ...q, metric: { ...q.metric, dimensions: { ...q.metric.dimensions, envoy_listener: "x" } } } : q));
    const broken2 = {
      ...stacks,
      "tls-edge": { ...edgeDoc, resource: { ...edgeDoc.resource, aws_cloudwatch_metric_alarm: { ...alarms, [id]: { ...alarm, metric_query: redimensioned } } } },
    };
    expect(unemittedByEdge(broken2)).toContainEqual(expect.stringMatching(/has no dimension set/));
  });

  it("the collector image is the pinned one, mirrored into the edge's own repository under its tag", () => {
    const outputs = edgeDoc.output;
    expect(outputs.collector_source_image.value).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v/);
    expect(outputs.collector_image_tag.value).toBe(outputs.collector_source_image.value.split(":").pop());
    const collector = containersOf(edgeDoc).find((c) => c.name === COLLECTOR_CONTAINER)!;
    expect(collector.image).toBe(
      `\${aws_ecr_repository.${Object.keys(edgeDoc.resource.aws_ecr_repository).find((k) => k.includes("collector"))}.repository_url}:${outputs.collector_image_tag.value}`,
    );
  });
});

describe("scripts/push-images.sh mirrors the collector when the stack ships metrics", () => {
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  const run = (outputs: Record<string, string>) => runPushImages(outputs, temporary);

  const registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
  const base = {
    ecr_repository_url: `${registry}/edge/flask-app`,
    envoy_repository_url: `${registry}/edge/envoy`,
    envoy_source_image: "envoyproxy/envoy:v1.37.0",
    envoy_image_tag: "v1.37.0",
    cpu_architecture: "X86_64",
  };

  it("without metrics: mirrors Envoy only", () => {
    const result = run(base);
    expect(result.status, result.stderr).toBe(0);
    expect(result.docker.filter((l) => l.startsWith("buildx imagetools create"))).toEqual([
      `buildx imagetools create --tag ${registry}/edge/envoy:v1.37.0 envoyproxy/envoy:v1.37.0`,
    ]);
  });

  it("with metrics: mirrors Envoy and the collector into its repository under its own tag", () => {
    const source = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0";
    const result = run({ ...base, collector_repository_url: `${registry}/edge/otel-collector`, collector_source_image: source, collector_image_tag: "v0.49.0" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.docker.filter((l) => l.startsWith("buildx imagetools create"))).toEqual([
      `buildx imagetools create --tag ${registry}/edge/envoy:v1.37.0 envoyproxy/envoy:v1.37.0`,
      `buildx imagetools create --tag ${registry}/edge/otel-collector:v0.49.0 ${source}`,
    ]);
    expect(result.registry[`${registry}/edge/otel-collector:v0.49.0`]).toEqual(["linux/amd64", "linux/arm64"]);
  });
});
