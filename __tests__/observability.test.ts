// Golden signals (spec observability): the collector's configuration against the pinned component
// table, and the cross-artifact proof that every metric and dimension the synthesized dashboard,
// alarms and scaling policies read is one the collector of that service emits (or, for a policy's
// task count, one Container Insights publishes for a service of the stack), that every allowed call edge has its
// widgets, and that nothing is plotted for an edge that cannot exist.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { COLLECTOR_CONTAINER, METRIC_CATALOGUE, SHIPPED_METRICS } from "../lib/plan/observability";
import { checkPlan } from "../lib/rules";
import { checkNetworkPaths } from "../lib/rules/network-paths";
import type { MeshPlan } from "../lib/plan/types";
import { ECS_RUNNING_TASKS } from "../lib/plan/autoscaling";
import { checkTrust } from "../lib/rules/trust";
import { renderText } from "../lib/render/text";
import { judgeCollectorConfig, emittedMetrics } from "../tools/judges/otel-collector";
import { evaluateIam, STAND_IN_ACCOUNT } from "../tools/judges/iam";
import { meshCalls } from "../tools/judges/iam-calls";
import { planOf, synthAllStacks, synthMeshStack } from "./support/synth";
import { rejectionOf, specIssues } from "./support/spec-issues";

const THREE_TIER = parse(readFileSync(path.join(__dirname, "..", "examples", "three-tier.yaml"), "utf8")) as MeshSpecInput;
const OBSERVED: MeshSpecInput = {
  ...THREE_TIER,
  observability: { metrics: { enabled: true }, alarms: { enabled: true, snsTopicArn: "arn:aws:sns:us-east-1:123456789012:oncall" } },
};

type Doc = Record<string, any>;

/** Every task's collector config, by the service label its scrape adds. */
function collectorConfigs(doc: Doc): Map<string, Doc> {
  const out = new Map<string, Doc>();
  for (const task of Object.values<Doc>(doc.resource.aws_ecs_task_definition)) {
    const containers = JSON.parse(task.container_definitions.replace(/\$\$\{/g, "${")) as Doc[];
    const collector = containers.find((c) => c.name === COLLECTOR_CONTAINER);
    if (!collector) continue;
    const config = JSON.parse(collector.environment.find((e: Doc) => e.name === "AOT_CONFIG_CONTENT").value);
    out.set(emittedMetrics(config).labels.service!, config);
  }
  return out;
}

/** Every metric a widget or alarm reads: [namespace, name, dimensions]. */
function readMetrics(doc: Doc): { where: string; namespace: string; name: string; dimensions: Record<string, string> }[] {
  const out: ReturnType<typeof readMetrics> = [];
  for (const [id, dashboard] of Object.entries<Doc>(doc.resource.aws_cloudwatch_dashboard ?? {})) {
    for (const widget of JSON.parse(dashboard.dashboard_body).widgets as Doc[]) {
      for (const m of (widget.properties.metrics ?? []) as unknown[][]) {
        if (typeof m[0] !== "string") continue;
        const [namespace, name, ...rest] = m as string[];
        const pairs = rest.filter((x) => typeof x === "string");
        out.push({
          where: `${id}: ${widget.properties.title}`,
          namespace: namespace!,
          name: name!,
          dimensions: Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i], pairs[2 * i + 1]])),
        });
      }
    }
  }
  for (const [id, alarm] of Object.entries<Doc>(doc.resource.aws_cloudwatch_metric_alarm ?? {})) {
    for (const q of alarm.metric_query as Doc[]) {
      if (q.metric) out.push({ where: `alarm ${id}`, namespace: q.metric.namespace, name: q.metric.metric_name, dimensions: q.metric.dimensions });
    }
  }
  for (const [id, policy] of Object.entries<Doc>(doc.resource.aws_appautoscaling_policy ?? {})) {
    for (const q of (policy.target_tracking_scaling_policy_configuration.customized_metric_specification?.metrics ?? []) as Doc[]) {
      const m = q.metric_stat?.metric;
      if (m)
        out.push({
          where: `scaling policy ${id}`,
          namespace: m.namespace,
          name: m.metric_name,
          dimensions: Object.fromEntries((m.dimensions as Doc[]).map((d) => [d.name, d.value])),
        });
    }
  }
  return out;
}

/** ECS's own metrics a scaling policy reads (Container Insights): published only with the cluster's setting on, under its ECS services' names. */
function unpublishedEcsMetric(doc: Doc, m: ReturnType<typeof readMetrics>[number]): string[] {
  const clusters = Object.values<Doc>(doc.resource.aws_ecs_cluster);
  const cluster = clusters.find((c) => c.name === m.dimensions.ClusterName);
  if (!cluster) return [`${m.where}: ${m.name} of cluster ${m.dimensions.ClusterName}, which this stack does not create`];
  if (!cluster.setting?.some((s: Doc) => s.name === "containerInsights" && s.value !== "disabled"))
    return [`${m.where}: ${m.name} is a Container Insights metric, and the cluster does not turn Container Insights on`];
  if (m.name !== ECS_RUNNING_TASKS.name || Object.keys(m.dimensions).sort().join() !== [...ECS_RUNNING_TASKS.dimensions].sort().join())
    return [`${m.where}: ${m.name} {${Object.keys(m.dimensions).join(",")}} is not Container Insights' service task count`];
  const services = Object.values<Doc>(doc.resource.aws_ecs_service).map((s) => s.name);
  return services.includes(m.dimensions.ServiceName) ? [] : [`${m.where}: ServiceName ${m.dimensions.ServiceName} is no ECS service of the stack`];
}

/** Problems of the cross-artifact proof: a read metric no collector emits under those dimensions for that service. */
function unemitted(doc: Doc): string[] {
  const collectors = collectorConfigs(doc);
  return readMetrics(doc).flatMap((m) => {
    if (m.namespace === ECS_RUNNING_TASKS.namespace) return unpublishedEcsMetric(doc, m);
    const config = collectors.get(m.dimensions.service ?? "");
    if (!config) return [`${m.where}: ${m.name} of service ${m.dimensions.service}: no collector ships that service's metrics`];
    const emitted = emittedMetrics(config);
    if (emitted.namespace !== m.namespace) return [`${m.where}: namespace ${m.namespace}, the collector writes ${emitted.namespace}`];
    if (!emitted.names.has(m.name)) return [`${m.where}: ${m.name} is not a metric the collector of ${m.dimensions.service} keeps`];
    const keys = Object.keys(m.dimensions).sort().join(",");
    if (!emitted.dimensions.get(m.name)!.some((set) => [...set].sort().join(",") === keys))
      return [`${m.where}: ${m.name} has no dimension set {${keys}} in the collector's EMF declarations`];
    return [];
  });
}

describe("observability spec", () => {
  it("alarms without metrics are an error naming the field and the fix", () => {
    const { errors } = rejectionOf({ ...DEFAULT_SPEC, observability: { alarms: { enabled: true } } });
    expect(errors).toContainEqual(expect.objectContaining({ path: "observability.alarms.enabled", message: expect.stringMatching(/set metrics.enabled: true/) }));
    expect(specIssues({ ...DEFAULT_SPEC, observability: { metrics: { enabled: true }, alarms: { enabled: true } } }).errors).toEqual([]);
  });

  it("no longer warns about a dataplane service: its proxy ships metrics too", () => {
    const dataplane = { ...DEFAULT_SPEC, architecture: "dataplane" as const, observability: { metrics: { enabled: true } } };
    const issues = specIssues(dataplane);
    expect(issues.errors).toEqual([]);
    expect(issues.warnings.map((w) => w.message).join()).not.toMatch(/observability|metrics/);
    expect(planOf(dataplane).observability!.services.map((s) => s.service)).toEqual(Object.keys(DEFAULT_SPEC.services ?? {}).sort());
  });
});

describe("observability off (the default)", () => {
  it("adds no collector, stats listener, dashboard or alarm", () => {
    const plan = planOf(DEFAULT_SPEC);
    expect(plan.observability).toBeUndefined();
    for (const s of plan.services) expect(s.task.containers.map((c) => c.name)).not.toContain(COLLECTOR_CONTAINER);
  });
});

describe("observability on (three-tier with metrics and alarms)", () => {
  const doc = synthMeshStack(OBSERVED) as Doc;
  const plan = planOf(OBSERVED);

  it("runs a collector in every agent task, started before the app, within the trust model", () => {
    for (const s of plan.services.flatMap((s) => (s.versions.length ? s.versions : [s]))) {
      const names = s.task.containers.map((c) => c.name);
      expect(names).toContain(COLLECTOR_CONTAINER);
      const app = s.task.containers.find((c) => c.untrusted)!;
      expect(app.dependsOn).toContainEqual({ containerName: COLLECTOR_CONTAINER, condition: "START" });
    }
    const result = { errors: [] as { path: string; message: string }[], warnings: [] as { path: string; message: string }[] };
    checkTrust(plan, result as never);
    expect(result.errors).toEqual([]);
  });

  it("fails the trust rule when the collector could capture the service token from loopback", () => {
    const s = plan.services.find((x) => x.name === "web")!;
    const task = { ...s.task, containers: s.task.containers.map((c) => (c.name === COLLECTOR_CONTAINER ? { ...c, dropCapabilities: [] } : c)) };
    const broken = { ...plan, services: plan.services.map((x) => (x.name === "web" ? { ...x, task } : x)) };
    const result = { errors: [] as { path: string; message: string }[], warnings: [] };
    checkTrust(broken, result as never);
    expect(result.errors.map((e) => e.message).join("\n")).toMatch(/metrics-collector .*reaches service-token/);
  });

  it("every collector config passes the judge against the pinned component table", () => {
    const configs = collectorConfigs(doc);
    expect([...configs.keys()].sort()).toEqual(["api", "db-proxy", "web"]);
    for (const config of configs.values()) expect(judgeCollectorConfig(config)).toEqual([]);
  });

  it("the judge fails a config that names an unknown component or key, or leaves one out of the pipeline", () => {
    const config = [...collectorConfigs(doc).values()][0]!;
    const unknownExporter = { ...config, exporters: { ...config.exporters, kafka: { brokers: ["x:9092"] } } };
    expect(judgeCollectorConfig(unknownExporter)).toContainEqual(expect.stringMatching(/exporters\.kafka: unknown component/));
    const unknownKey = { ...config, processors: { ...config.processors, batch: { timeout: "60s", flush_everything: true } } };
    expect(judgeCollectorConfig(unknownKey)).toContainEqual(expect.stringMatching(/processors\.batch\.flush_everything: unknown key/));
    const badDuration = { ...config, processors: { ...config.processors, batch: { timeout: "a minute" } } };
    expect(judgeCollectorConfig(badDuration)).toContainEqual(expect.stringMatching(/batch\.timeout: must be a duration/));
  });

  it("every metric and dimension a widget or alarm reads is one the collector of that service emits", () => {
    expect(readMetrics(doc).length).toBeGreaterThan(0);
    expect(unemitted(doc)).toEqual([]);
  });

  it("fails when an alarm's metric name is changed", () => {
    const alarms = doc.resource.aws_cloudwatch_metric_alarm as Doc;
    const [id, alarm] = Object.entries<Doc>(alarms).find(([, a]) => a.metric_query.some((q: Doc) => q.metric))!;
    const renamed = alarm.metric_query.map((q: Doc) => (q.metric ? { ...q, metric: { ...q.metric, metric_name: `${q.metric.metric_name}_total` } } : q));
    const broken = { ...doc, resource: { ...doc.resource, aws_cloudwatch_metric_alarm: { ...alarms, [id]: { ...alarm, metric_query: renamed } } } };
    expect(unemitted(broken)).toContainEqual(expect.stringMatching(/is not a metric the collector/));
  });

  it("every metric a scaling policy reads is one its service's collector emits, or its ECS services' task count", () => {
    const read = readMetrics(doc).filter((m) => m.where.startsWith("scaling policy"));
    // api scales on requests per task (its two versions' policies: 5 response classes and 2 task counts each); web on CPU (a predefined metric).
    expect(read.filter((m) => m.name === METRIC_CATALOGUE.serviceResponses.name)).toHaveLength(10);
    expect(read.filter((m) => m.namespace === ECS_RUNNING_TASKS.namespace).map((m) => m.dimensions.ServiceName)).toEqual([
      "three-tier-api",
      "three-tier-api-v2",
      "three-tier-api",
      "three-tier-api-v2",
    ]);
    expect(unemitted(doc)).toEqual([]);
  });

  it("fails when a scaling policy's metric name is changed, or its cluster stops publishing task counts", () => {
    const policies = doc.resource.aws_appautoscaling_policy as Doc;
    const [id, policy] = Object.entries<Doc>(policies).find(([, p]) => p.target_tracking_scaling_policy_configuration.customized_metric_specification)!;
    const spec = policy.target_tracking_scaling_policy_configuration.customized_metric_specification;
    const renamed = spec.metrics.map((q: Doc) =>
      q.metric_stat?.metric.namespace.startsWith("ConsulEcsMesh/")
        ? { ...q, metric_stat: { ...q.metric_stat, metric: { ...q.metric_stat.metric, metric_name: "envoy_http_downstream_rq_total" } } }
        : q,
    );
    const withPolicy = (metrics: Doc[]) => ({
      ...doc,
      resource: {
        ...doc.resource,
        aws_appautoscaling_policy: {
          ...policies,
          [id]: {
            ...policy,
            target_tracking_scaling_policy_configuration: { ...policy.target_tracking_scaling_policy_configuration, customized_metric_specification: { metrics } },
          },
        },
      },
    });
    expect(unemitted(withPolicy(renamed))).toContainEqual(expect.stringMatching(/scaling policy .*envoy_http_downstream_rq_total is not a metric the collector of api keeps/));
    const clusters = doc.resource.aws_ecs_cluster as Doc;
    const noInsights = Object.fromEntries(Object.entries<Doc>(clusters).map(([k, c]) => [k, { ...c, setting: [{ name: "containerInsights", value: "disabled" }] }]));
    expect(unemitted({ ...doc, resource: { ...doc.resource, aws_ecs_cluster: noInsights } })).toContainEqual(
      expect.stringMatching(/RunningTaskCount is a Container Insights metric, and the cluster does not turn Container Insights on/),
    );
  });

  it("fails when an alarm or widget reads a dimension the collector does not declare", () => {
    const alarms = doc.resource.aws_cloudwatch_metric_alarm as Doc;
    const [id, alarm] = Object.entries<Doc>(alarms).find(([, a]) => a.metric_query.some((q: Doc) => q.metric))!;
    const changed = alarm.metric_query.map((q: Doc) => (q.metric ? { ...q, metric: { ...q.metric, dimensions: { ...q.metric.dimensions, task: "x" } } } : q));
    const broken = { ...doc, resource: { ...doc.resource, aws_cloudwatch_metric_alarm: { ...alarms, [id]: { ...alarm, metric_query: changed } } } };
    expect(unemitted(broken)).toContainEqual(expect.stringMatching(/no dimension set/));
  });

  /** The call edges the dashboard plots from the caller's side (source -> destination). */
  function plottedEdges(d: Doc): Set<string> {
    return new Set(
      readMetrics(d)
        .filter((m) => m.dimensions.consul_destination_service !== undefined && m.where.includes("->"))
        .map((m) => `${m.dimensions.service} -> ${m.dimensions.consul_destination_service}`),
    );
  }

  it("has widgets for exactly the call edges the intentions allow", () => {
    const allowed = plan.traffic.edges.filter((e) => e.allowed !== "-").map((e) => `${e.source} -> ${e.destination}`);
    expect(allowed.length).toBeGreaterThan(0);
    expect([...plottedEdges(doc)].sort()).toEqual([...new Set(allowed)].sort());
  });

  it("a denied edge gets no widget; a dropped edge widget is caught", () => {
    const denied = synthMeshStack({ ...OBSERVED, intentions: [{ source: "web", destination: "api", action: "deny" }] }) as Doc;
    expect(plottedEdges(denied)).not.toContain("web -> api");
    const dashboards = doc.resource.aws_cloudwatch_dashboard as Doc;
    const [id, dashboard] = Object.entries<Doc>(dashboards)[0]!;
    const body = JSON.parse(dashboard.dashboard_body);
    const dropped = { widgets: body.widgets.filter((w: Doc) => !String(w.properties.title ?? "").startsWith("api -> db-proxy")) };
    const broken = { ...doc, resource: { ...doc.resource, aws_cloudwatch_dashboard: { [id]: { ...dashboard, dashboard_body: JSON.stringify(dropped) } } } };
    expect(plottedEdges(broken)).not.toContain("api -> db-proxy");
    expect([...plottedEdges(broken)].sort()).not.toEqual([...plottedEdges(doc)].sort());
  });

  it("alarms per service with the spec's thresholds and SNS topic", () => {
    const alarms = Object.values<Doc>(doc.resource.aws_cloudwatch_metric_alarm);
    const names = alarms.map((a) => a.alarm_name).sort();
    // api speaks http (5xx, p99) and has a caller (web); db-proxy is tcp with a caller (api); web has no caller.
    expect(names).toEqual(["three-tier-api-5xx-rate", "three-tier-api-no-healthy-upstream", "three-tier-api-p99-latency", "three-tier-db-proxy-no-healthy-upstream"]);
    const p99 = alarms.find((a) => a.alarm_name.endsWith("p99-latency"))!;
    expect(p99.threshold).toBe(1000);
    expect(p99.alarm_actions).toEqual(["arn:aws:sns:us-east-1:123456789012:oncall"]);
  });

  it("the task role may write only its own stream of the metrics log group", () => {
    const policies = Object.values<Doc>(doc.resource.aws_iam_role_policy ?? {}).filter((p) => String(p.name_prefix) === "proxy-metrics-");
    expect(policies.length).toBe(4); // web, api v1, api v2, db-proxy
    for (const p of policies) {
      const statements = JSON.parse(p.policy).Statement as Doc[];
      expect(statements).toHaveLength(1);
      expect(statements[0]!.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
      expect(String(statements[0]!.Resource)).toMatch(/^\$\{aws_cloudwatch_log_group\.observability_metrics_log_group\.arn\}:log-stream:[a-z-]+$/);
    }
  });

  it("the IAM judge agrees: every collector write is allowed and every metrics grant is used", async () => {
    const stacks = synthAllStacks(OBSERVED);
    const calls = meshCalls(stacks, plan);
    const emf = calls.filter((c) => c.action === "logs:PutLogEvents" && String(c.resource).includes("proxy-metrics"));
    expect(emf.length).toBe(4);
    const report = await evaluateIam(stacks, calls);
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
    expect(report.unused).toEqual([]);
  });

  it("Envoy's overlay adds the stats-only listener (GET /stats/prometheus) routed to the admin socket", () => {
    const web = plan.services.find((s) => s.name === "web")!;
    const envoy = web.task.containers.find((c) => c.name === "envoy-sidecar")!;
    const overlay = parse(renderText(envoy.command![3] as never, {})) as Doc;
    const stats = overlay.static_resources.listeners.find((l: Doc) => l.name === "envoy_stats");
    expect(stats.address.socket_address).toEqual({ address: "127.0.0.1", port_value: 19101 });
    const routes = stats.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    expect(routes).toEqual([{ match: { path: "/stats/prometheus", headers: [{ name: ":method", string_match: { exact: "GET" } }] }, route: { cluster: "envoy_admin" } }]);
    expect(overlay.stats_flush_interval).toBe("60s");
  });

  it("every catalogue metric a mesh task ships is in the collector's filter", () => {
    const config = [...collectorConfigs(doc).values()][0]!;
    expect([...emittedMetrics(config).names].sort()).toEqual(SHIPPED_METRICS.mesh.map((key) => METRIC_CATALOGUE[key].name).sort());
  });
});

describe("dataplane tasks ship metrics (examples/production.yaml)", () => {
  const PRODUCTION = parse(readFileSync(path.join(__dirname, "..", "examples", "production.yaml"), "utf8")) as MeshSpecInput;
  const doc = synthMeshStack(PRODUCTION) as Doc;
  const plan = planOf(PRODUCTION);

  /** Every task definition's containers, by the task's family. */
  function tasks(d: Doc): Map<string, Doc[]> {
    return new Map(Object.values<Doc>(d.resource.aws_ecs_task_definition).map((t) => [String(t.family), JSON.parse(t.container_definitions.replace(/\$\$\{/g, "${")) as Doc[]]));
  }
  const flag = (command: string[], name: string) => command[command.indexOf(name) + 1];

  it("is accepted with metrics, access logs and alarms on: no warning, the memory and capacity rules hold", () => {
    expect(PRODUCTION.observability).toMatchObject({ metrics: { enabled: true }, accessLogs: { enabled: true }, alarms: { enabled: true } });
    expect(specIssues(PRODUCTION)).toEqual({ errors: [], warnings: [] });
  });

  it("each collector scrapes the loopback listener its consul-dataplane is told to open, on the path it is told to serve", () => {
    const all = tasks(doc);
    expect(all.size).toBe(3);
    for (const [family, containers] of all) {
      const dataplane = containers.find((c) => c.name === "consul-dataplane")!;
      const consulEcs = JSON.parse(containers.find((c) => c.name === "consul-ecs-mesh-init")!.environment.find((e: Doc) => e.name === "CONSUL_ECS_CONFIG_JSON").value);
      const proxyConfig = consulEcs.proxy.config;
      const collector = containers.find((c) => c.name === COLLECTOR_CONTAINER);
      expect(collector, family).toBeDefined();
      const scrape = JSON.parse(collector!.environment.find((e: Doc) => e.name === "AOT_CONFIG_CONTENT").value).receivers.prometheus.config.scrape_configs[0];
      // consul-dataplane applies the proxy config only with central config, and serves Envoy's listener on its scrape path.
      expect(dataplane.command).toContain("-telemetry-use-central-config");
      expect(proxyConfig.envoy_prometheus_bind_addr).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(scrape.static_configs[0].targets).toEqual([proxyConfig.envoy_prometheus_bind_addr]);
      expect(scrape.metrics_path).toBe(flag(dataplane.command, "-telemetry-prom-scrape-path"));
      // Envoy's histogram window is one scrape interval, as in agent tasks.
      expect(proxyConfig.envoy_stats_flush_interval).toBe(scrape.scrape_interval);
      const app = containers.find((c) => c.name === "app")!;
      expect(app.dependsOn).toContainEqual({ containerName: COLLECTOR_CONTAINER, condition: "START" });
      expect(collector!.dependsOn).toEqual([{ containerName: "consul-dataplane", condition: "START" }]);
    }
  });

  it("every collector config passes the judge, and every metric a widget or alarm reads is one a collector emits", () => {
    const configs = collectorConfigs(doc);
    expect([...configs.keys()].sort()).toEqual(["api", "orders", "web"]);
    for (const config of configs.values()) expect(judgeCollectorConfig(config)).toEqual([]);
    expect(readMetrics(doc).length).toBeGreaterThan(0);
    expect(unemitted(doc)).toEqual([]);
    const alarms = Object.values<Doc>(doc.resource.aws_cloudwatch_metric_alarm).map((a) => a.alarm_name);
    expect(alarms).toContain("prod-mesh-orders-no-healthy-upstream");
    expect(alarms).toContain("prod-mesh-web-5xx-rate");
  });

  it("the stats and merged metrics ports are kept from the app and opened to no other task", () => {
    const api = plan.services.find((s) => s.name === "api")!;
    const served = api.task.containers.flatMap((c) => (c.serves ?? []).flatMap((e) => ("tcp" in e.on ? [e.on.tcp] : [])));
    expect(served).toEqual(expect.arrayContaining([19101, 20100, 20101]));
    expect(api.task.inboundPorts).toEqual([21000]);
    const clash = { ...PRODUCTION, services: { ...PRODUCTION.services, api: { ...PRODUCTION.services!.api!, port: 20100, command: ["-listen=127.0.0.1:20100"] } } };
    expect(
      rejectionOf(clash)
        .errors.map((e) => e.message)
        .join("\n"),
    ).toMatch(/20100/);
  });

  it("the collector reaches no file or secret that holds a credential; what it reaches on loopback is the app's boundary", () => {
    const result = { errors: [] as { path: string; message: string }[], warnings: [] };
    checkTrust(plan, result as never);
    expect(result.errors).toEqual([]);
    const s = plan.services.find((x) => x.name === "web")!;
    // Given the volume where mesh-init leaves the signed login, it would hold it: the trust rule refuses that for a confined container.
    const mounted = s.task.containers.map((c) =>
      c.name === COLLECTOR_CONTAINER ? { ...c, mountPoints: [{ sourceVolume: "consul_data", containerPath: "/consul", readOnly: true }] } : c,
    );
    const broken = { ...plan, services: plan.services.map((x) => (x.name === "web" ? { ...x, task: { ...s.task, containers: mounted } } : x)) };
    const failed = { errors: [] as { path: string; message: string }[], warnings: [] };
    checkTrust(broken, failed as never);
    expect(failed.errors.map((e) => e.message).join("\n")).toMatch(/metrics-collector .*holds signed-login/);
  });

  it("the IAM judge agrees: every collector write is allowed and every metrics grant is used", async () => {
    const stacks = synthAllStacks(PRODUCTION);
    const calls = meshCalls(stacks, plan);
    expect(calls.filter((c) => c.action === "logs:PutLogEvents" && String(c.resource).includes("proxy-metrics")).length).toBe(3);
    const report = await evaluateIam(stacks, calls);
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
    expect(report.unused).toEqual([]);
  });
});

describe("Amazon Managed Service for Prometheus (observability.metrics.prometheus)", () => {
  const WORKSPACE = "arn:aws:aps:us-east-1:123456789012:workspace/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789";
  const withPrometheus = (workspace: string, spec: MeshSpecInput = THREE_TIER): MeshSpecInput => ({
    ...spec,
    observability: { metrics: { enabled: true, prometheus: { workspace } } },
  });
  const created = withPrometheus("create");
  const doc = synthMeshStack(created) as Doc;
  const plan = planOf(created);

  it("off by default, and an error naming the field without metrics or in another region", () => {
    expect(planOf(OBSERVED).observability!.prometheus).toBeUndefined();
    expect(doc.resource.aws_prometheus_workspace).toBeDefined();
    expect((synthMeshStack(OBSERVED) as Doc).resource.aws_prometheus_workspace).toBeUndefined();
    const { errors } = rejectionOf({ ...THREE_TIER, observability: { metrics: { prometheus: { workspace: "create" } } } });
    expect(errors).toContainEqual(expect.objectContaining({ path: "observability.metrics.prometheus", message: expect.stringMatching(/set metrics.enabled: true/) }));
    const badArn = rejectionOf(withPrometheus("arn:aws:aps:us-east-1:123456789012:rulegroupsnamespace/ws-1/x")).errors;
    expect(badArn).toContainEqual(expect.objectContaining({ path: "observability.metrics.prometheus.workspace", message: expect.stringMatching(/workspace ARN/) }));
    const elsewhere = checkPlan(planOf(withPrometheus(WORKSPACE.replace("us-east-1", "eu-west-1")))).errors;
    expect(elsewhere).toContainEqual({
      path: "observability.metrics.prometheus.workspace",
      message: "the workspace is in eu-west-1, the mesh in us-east-1: give a workspace in us-east-1, or workspace: create",
    });
    expect(checkPlan(planOf(withPrometheus(WORKSPACE))).errors).toEqual([]);
  });

  it("creates a workspace with its alias and Name tag, under AMP's own key", () => {
    const [workspace] = Object.values<Doc>(doc.resource.aws_prometheus_workspace);
    expect(workspace).toEqual({ alias: "three-tier-mesh", tags: { Name: "three-tier-mesh" } });
  });

  it("every collector remote-writes the catalogue to the workspace's remote-write URL, signed for aps, and passes the judge", () => {
    const configs = collectorConfigs(doc);
    expect([...configs.keys()].sort()).toEqual(["api", "db-proxy", "web"]);
    for (const config of configs.values()) {
      expect(judgeCollectorConfig(config)).toEqual([]);
      expect(config.exporters.prometheusremotewrite.endpoint).toBe("${aws_prometheus_workspace.observability_prometheus_workspace.prometheus_endpoint}api/v1/remote_write");
      expect(config.extensions.sigv4auth).toEqual({ region: "us-east-1", service: "aps" });
      const pipeline = config.service.pipelines["metrics/prometheus"];
      expect(pipeline.exporters).toEqual(["prometheusremotewrite"]);
      // The same filter as CloudWatch's: what reaches AMP is the catalogue.
      expect(pipeline.processors).toContain("filter/golden-signals");
      expect(config.service.pipelines.metrics.exporters).toEqual(["awsemf"]);
    }
    // An existing workspace: its URL from its ARN, written by the plan.
    const existing = collectorConfigs(synthMeshStack(withPrometheus(WORKSPACE)) as Doc).get("web")!;
    expect(existing.exporters.prometheusremotewrite.endpoint).toBe(
      "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0a1b2c3d-4e5f-6789-abcd-ef0123456789/api/v1/remote_write",
    );
  });

  it("the judge knows every key used, and fails an unknown key, an unknown extension or an authenticator that is not running", () => {
    const config = collectorConfigs(doc).get("web")!;
    const unknownKey = { ...config, exporters: { ...config.exporters, prometheusremotewrite: { ...config.exporters.prometheusremotewrite, send_everything: true } } };
    expect(judgeCollectorConfig(unknownKey)).toContainEqual(expect.stringMatching(/exporters\.prometheusremotewrite\.send_everything: unknown key/));
    const badStrategy = { ...config, exporters: { ...config.exporters, prometheusremotewrite: { ...config.exporters.prometheusremotewrite, translation_strategy: "Raw" } } };
    expect(judgeCollectorConfig(badStrategy)).toContainEqual(expect.stringMatching(/translation_strategy: must be one of/));
    const unknownExtension = { ...config, extensions: { ...config.extensions, oauth2client: {} } };
    expect(judgeCollectorConfig(unknownExtension)).toContainEqual(expect.stringMatching(/extensions\.oauth2client: unknown component/));
    const notRunning = { ...config, service: { ...config.service, extensions: [] } };
    expect(judgeCollectorConfig(notRunning)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/prometheusremotewrite\.auth\.authenticator: sigv4auth is not an extension in service.extensions/),
        expect.stringMatching(/extensions\.sigv4auth: configured but not in service.extensions/),
      ]),
    );
  });

  it("the task role may aps:RemoteWrite to the workspace only", () => {
    const policies = Object.values<Doc>(doc.resource.aws_iam_role_policy ?? {}).filter((p) => String(p.name_prefix) === "prometheus-remote-write-");
    expect(policies.length).toBe(4); // web, api v1, api v2, db-proxy
    for (const p of policies) {
      expect(JSON.parse(p.policy).Statement).toEqual([
        { Effect: "Allow", Action: ["aps:RemoteWrite"], Resource: ["${aws_prometheus_workspace.observability_prometheus_workspace.arn}"] },
      ]);
    }
  });

  it("the IAM judge: every remote write is allowed, on the workspace its URL names, and every grant is used", async () => {
    // An existing workspace in the task roles' own account (the URL names no account: the signer's is the workspace's).
    for (const spec of [created, withPrometheus(WORKSPACE.replace("123456789012", STAND_IN_ACCOUNT))]) {
      const stacks = synthAllStacks(spec);
      const calls = meshCalls(stacks, planOf(spec));
      const writes = calls.filter((c) => c.action === "aps:RemoteWrite");
      expect(writes.length).toBe(4);
      expect(new Set(writes.map((c) => c.resource)).size).toBe(1);
      expect(writes[0]!.resource).toMatch(/^arn:aws:aps:us-east-1:\d{12}:workspace\/ws-[0-9a-z-]+$/);
      const report = await evaluateIam(stacks, calls);
      expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
      expect(report.unused).toEqual([]);
    }
    // A workspace of another account: the write goes to the signer's account, which has no such workspace grant.
    const other = synthAllStacks(withPrometheus(WORKSPACE));
    const denied = (await evaluateIam(other, meshCalls(other, planOf(withPrometheus(WORKSPACE))))).verdicts.filter((v) => !v.allowed);
    expect(denied.map((v) => v.call.action)).toEqual(Array(4).fill("aps:RemoteWrite"));
  });

  it("the IAM judge fails a wrong remote-write path, and a grant without the action", async () => {
    const stacks = synthAllStacks(created);
    const mesh = Object.keys(stacks).find((k) => stacks[k].resource?.aws_prometheus_workspace)!;
    const wrongPath = JSON.parse(JSON.stringify(stacks).replaceAll("}api/v1/remote_write", "}api/v1/write"));
    expect(() => meshCalls(wrongPath, plan)).toThrow(/is not an Amazon Managed Service for Prometheus remote-write URL/);
    const noAction = JSON.parse(JSON.stringify(stacks).replaceAll('[\\"aps:RemoteWrite\\"]', '[\\"aps:QueryMetrics\\"]'));
    expect(JSON.stringify(noAction[mesh])).not.toContain("aps:RemoteWrite");
    const report = await evaluateIam(noAction, meshCalls(noAction, plan));
    expect(report.verdicts.filter((v) => !v.allowed).map((v) => v.call.action)).toEqual(Array(4).fill("aps:RemoteWrite"));
  });

  it("private subnets without NAT get the aps-workspaces endpoint, and the network-path rule fails without it", () => {
    const spec: MeshSpecInput = { ...created, network: { ...THREE_TIER.network, egress: "vpc-endpoints" } };
    const p = planOf(spec);
    expect(p.network.interfaceEndpoints).toContain("aps-workspaces");
    const endpoints = Object.values<Doc>((synthMeshStack(spec) as Doc).data.aws_vpc_endpoint_service).map((e) => e.service);
    expect(endpoints).toContain("aps-workspaces");
    const result = { errors: [] as { path: string; message: string }[], warnings: [] as { path: string; message: string }[] };
    // (The three-tier example's Docker Hub images have no route without NAT either: the rule's other errors.)
    checkNetworkPaths(p, result);
    expect(result.errors.map((e) => e.message).join("\n")).not.toMatch(/aps-workspaces/);
    const without: MeshPlan = { ...p, network: { ...p.network, interfaceEndpoints: p.network.interfaceEndpoints.filter((e) => e !== "aps-workspaces") } };
    checkNetworkPaths(without, result);
    expect(result.errors.map((e) => e.message).join("\n")).toMatch(/tasks\) cannot reach aps-workspaces \(the collector.s remote write/);
  });
});
