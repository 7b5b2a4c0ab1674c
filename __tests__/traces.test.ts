// Traces (spec observability.traces): Envoy's OpenTelemetry tracer on every mesh proxy through the
// proxy-defaults entry the intentions stack writes, the collector's OTLP receiver and X-Ray
// exporter in every task, and the proof that they meet: the tracer's JSON decodes through Envoy's
// protos, its cluster reaches the port the collector listens on, the sampling percent is the
// spec's, every collector has a traces pipeline the judge accepts, and the task role may make every
// X-Ray call the collector makes.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { meshSpecSchema, type MeshSpecInput } from "../lib/spec/schema";
import { COLLECTOR_CONTAINER, OTLP_RECEIVER, TRACES_CLUSTER, XRAY_ACTIONS } from "../lib/plan/observability";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { checkTrust } from "../lib/rules/trust";
import { judgeCollectorConfig } from "../tools/judges/otel-collector";
import { judgeEnvoyBootstrap, judgeEnvoyJson } from "../tools/judges/envoy";
import { evaluateIam } from "../tools/judges/iam";
import { meshCalls } from "../tools/judges/iam-calls";
import { planOf, STAND_IN_BINDINGS, synthAllStacks } from "./support/synth";
import { renderText } from "../lib/render/text";
import type { TemplateText } from "../lib/plan/text";
import { rejectionOf, specIssues } from "./support/spec-issues";
import { withoutAction } from "./support/telemetry";

type Doc = Record<string, any>;

const example = (file: string) => parse(readFileSync(path.join(__dirname, "..", "examples", file), "utf8")) as Doc;
const THREE_TIER = example("three-tier.yaml") as MeshSpecInput;
/** Agent tasks, traces without metrics: the collector must still run. */
const TRACED: MeshSpecInput = (() => {
  const spec = structuredClone(THREE_TIER) as Doc;
  // Scaling on requests per task reads the metrics this spec leaves off.
  for (const service of Object.values<Doc>(spec.services)) delete service.autoscaling;
  spec.observability = { traces: { enabled: true, samplingPercent: 2.5 } };
  return spec as MeshSpecInput;
})();
/** Dataplane tasks with metrics and traces (examples/production.yaml). */
const TRACED_DATAPLANE: MeshSpecInput = (() => {
  const spec = example("production.yaml");
  spec.observability = { ...spec.observability, traces: { enabled: true, samplingPercent: 0.5 } };
  return spec as MeshSpecInput;
})();
/** Agent tasks in private subnets without NAT: every AWS API through its VPC endpoint. */
const TRACED_PRIVATE: MeshSpecInput = (() => {
  const spec = example("production.yaml");
  spec.architecture = "agent";
  for (const service of Object.values<Doc>(spec.services))
    Object.assign(service, { architecture: undefined, image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/http-echo:1.0.0" });
  spec.network = { ...spec.network, egress: "vpc-endpoints" };
  spec.consul = { ...spec.consul, releaseS3Uri: "s3://my-bucket/consul_2.0.1_linux_amd64.zip" };
  spec.images = { ...spec.images, dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf" };
  spec.observability = { ...spec.observability, traces: { enabled: true } };
  return spec as MeshSpecInput;
})();

/** Every task's container definitions, by task definition id. */
function tasks(mesh: Doc): Map<string, Doc[]> {
  return new Map(Object.entries<Doc>(mesh.resource.aws_ecs_task_definition).map(([id, task]) => [id, JSON.parse(task.container_definitions.replace(/\$\$\{/g, "${")) as Doc[]]));
}

function collectorOf(containers: Doc[]): Doc | undefined {
  const collector = containers.find((c) => c.name === COLLECTOR_CONTAINER);
  return collector && JSON.parse(collector.environment.find((e: Doc) => e.name === "AOT_CONFIG_CONTENT").value);
}

/** The proxy-defaults entry's Config, as the intentions stack writes it. */
function proxyDefaultsConfig(stacks: Doc): Record<string, string> {
  const entries = Object.values<Doc>(stacks.intentions.resource.consul_config_entry).filter((e) => e.kind === "proxy-defaults");
  expect(entries).toHaveLength(1);
  return JSON.parse(entries[0]!.config_json).Config;
}

/**
 * The Envoy bootstrap fragment each task adds to its proxy's bootstrap, as synthesized: the agent
 * sidecar's overlay (--config-yaml), or the file consul-dataplane's mesh-init writes and its Envoy
 * merges (--config-path after "--").
 */
function proxyBootstrapOf(containers: Doc[]): { text: string; doc: Doc } | undefined {
  const sidecar = containers.find((c) => c.name === "envoy-sidecar");
  if (sidecar) {
    const text = sidecar.command[sidecar.command.indexOf("--config-yaml") + 1] as string;
    return { text, doc: parse(text) };
  }
  const dataplane = containers.find((c) => c.name === DATAPLANE_CONTAINERS.dataplane)!;
  const at = dataplane.command.indexOf("--config-path");
  if (at < 0 || dataplane.command[at - 1] !== "--") return undefined;
  const path = dataplane.command[at + 1];
  const script = (containers.find((c) => c.name === DATAPLANE_CONTAINERS.meshInit)!.entryPoint as string[]).join("\n");
  // printf '%s\n' '<json>' > <path>: the JSON holds no single quote, so sh quotes it whole.
  const line = script.split("\n").find((l) => l.startsWith("printf ") && l.endsWith(` > '${path}'`));
  if (!line) return undefined;
  const text = line.slice(line.indexOf("{"), line.lastIndexOf("}") + 1);
  return { text, doc: JSON.parse(text) };
}

/**
 * Where the proxies' spans go against where each collector listens: every task's proxy bootstrap
 * has the cluster the tracer names, and a collector whose traces pipeline runs the OTLP receiver
 * on that cluster's loopback address and port.
 */
function tracePathProblems(stacks: Doc): string[] {
  const tracing = JSON.parse(proxyDefaultsConfig(stacks).envoy_listener_tracing_json!);
  const named = tracing.provider?.typed_config?.grpc_service?.envoy_grpc?.cluster_name;
  const problems: string[] = [];
  for (const [id, containers] of tasks(stacks.mesh)) {
    const cluster = (proxyBootstrapOf(containers)?.doc.static_resources?.clusters ?? []).find((c: Doc) => c.name === named);
    if (!cluster) {
      problems.push(`${id}: the proxy's bootstrap has no cluster ${named}, which the tracer names`);
      continue;
    }
    const sent = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    const collector = collectorOf(containers);
    const pipeline = collector?.service?.pipelines?.traces;
    if (!pipeline?.receivers?.includes("otlp") || !pipeline?.exporters?.includes("awsxray")) {
      problems.push(`${id}: the collector has no traces pipeline from otlp to awsxray`);
      continue;
    }
    const endpoint = collector!.receivers.otlp.protocols.grpc.endpoint;
    if (endpoint !== `${sent.address}:${sent.port_value}`) problems.push(`${id}: the collector listens on ${endpoint}, the proxy sends to ${sent.address}:${sent.port_value}`);
  }
  return problems;
}

describe("traces spec", () => {
  it("is off by default, with a low sampling rate", () => {
    expect(planOf(DEFAULT_SPEC).traffic.entries.proxyDefaults).toBeUndefined();
    const { traces } = meshSpecSchema.parse({ ...TRACED, observability: { traces: { enabled: true } } }).observability;
    expect(traces).toEqual({ enabled: true, samplingPercent: 1 });
  });

  it("rejects a sampling percent of 0 or above 100, naming the field", () => {
    for (const samplingPercent of [0, 101]) {
      const { errors } = rejectionOf({ ...TRACED, observability: { traces: { enabled: true, samplingPercent } } });
      expect(errors.map((e) => e.path)).toEqual(["observability.traces.samplingPercent"]);
    }
  });

  it("is accepted on agent and dataplane tasks: the memory, ports, trust and network-path rules hold", () => {
    expect(specIssues(TRACED).errors).toEqual([]);
    expect(specIssues(TRACED_DATAPLANE).errors).toEqual([]);
    expect(specIssues(TRACED_PRIVATE).errors).toEqual([]);
  });

  it("keeps the app off the collector's OTLP port (the ports rule)", () => {
    const spec = structuredClone(TRACED) as Doc;
    const [name] = Object.keys(spec.services);
    spec.services[name!].port = 4317;
    const { errors } = rejectionOf(spec);
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      `services.${name}.port: 4317 is ${COLLECTOR_CONTAINER}'s OTLP/gRPC receiver (spans) in every agent task; choose another port`,
    ]);
  });
});

describe.each([
  ["agent tasks, traces without metrics", TRACED, 2.5],
  ["dataplane tasks with metrics, behind VPC endpoints", TRACED_DATAPLANE, 0.5],
] as const)("traces on: %s", (_, spec, percent) => {
  it("puts the OpenTelemetry tracer in the proxy-defaults entry and its cluster in every proxy's bootstrap, all through Envoy's protos", () => {
    const stacks = synthAllStacks(spec);
    const config = proxyDefaultsConfig(stacks);
    // The listener tracer only: the bootstrap's `tracing` (envoy_tracing_json) is deprecated in Envoy 1.37.
    expect(Object.keys(config)).toEqual(["envoy_listener_tracing_json"]);
    expect(judgeEnvoyJson("google.protobuf.Any", config.envoy_listener_tracing_json!)).toEqual([]);
    const tracing = JSON.parse(config.envoy_listener_tracing_json!);
    expect(tracing["@type"]).toBe("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing");
    expect(tracing.provider.typed_config["@type"]).toBe("type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig");
    expect(tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name).toBe(TRACES_CLUSTER);
    for (const [id, containers] of tasks(stacks.mesh)) {
      const bootstrap = proxyBootstrapOf(containers)!;
      expect(judgeEnvoyBootstrap(bootstrap.text), id).toEqual([]);
      expect(
        bootstrap.doc.static_resources.clusters.map((c: Doc) => c.name),
        id,
      ).toContain(TRACES_CLUSTER);
    }
  });

  it("samples exactly the spec's percent", () => {
    const tracing = JSON.parse(proxyDefaultsConfig(synthAllStacks(spec)).envoy_listener_tracing_json!);
    expect(tracing.random_sampling).toEqual({ value: percent });
  });

  it("every task's collector receives on the loopback port the proxies send to, and its config passes the judge", () => {
    const stacks = synthAllStacks(spec);
    expect(tracePathProblems(stacks)).toEqual([]);
    for (const [id, containers] of tasks(stacks.mesh)) expect(judgeCollectorConfig(collectorOf(containers)), id).toEqual([]);
  });

  it("names the Consul service in every span (the collector's resource processor)", () => {
    for (const service of planOf(spec).services) {
      const collector = service.task.containers.find((c) => c.name === COLLECTOR_CONTAINER)!;
      const text = collector.environment!.find((e) => e.name === "AOT_CONFIG_CONTENT")!.value;
      const config = JSON.parse(typeof text === "string" ? text : renderText(text as TemplateText, STAND_IN_BINDINGS));
      expect(config.processors["resource/consul-service"].attributes).toEqual([{ key: "service.name", value: service.name, action: "upsert" }]);
      expect(config.service.pipelines.traces.processors).toContain("resource/consul-service");
    }
  });

  it("the collector stays confined: the trust rule finds nothing", () => {
    const plan = planOf(spec);
    const result = { errors: [], warnings: [] };
    checkTrust(plan, result);
    expect(result.errors).toEqual([]);
  });

  it("the IAM judge agrees: every X-Ray call the collector makes is allowed, and the grant is used", async () => {
    const stacks = synthAllStacks(spec);
    const calls = meshCalls(stacks, planOf(spec));
    const xray = calls.filter((c) => c.action.startsWith("xray:"));
    expect(new Set(xray.map((c) => `${c.action} ${c.resource}`))).toEqual(new Set(["xray:PutTraceSegments *", "xray:PutTelemetryRecords *"]));
    const report = await evaluateIam(stacks, calls);
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
    expect(report.unused).toEqual([]);
  });
});

describe("traces on, failures the checks catch", () => {
  it("the tracer's cluster on another port than the collector's receiver, or missing from a proxy's bootstrap", () => {
    const stacks = synthAllStacks(TRACED);
    const [[first, task], [second, other]] = Object.entries<Doc>(stacks.mesh.resource.aws_ecs_task_definition) as [string, Doc][];
    const edit = (t: Doc, change: (overlay: string) => string) => {
      const containers = JSON.parse(t.container_definitions) as Doc[];
      const sidecar = containers.find((c) => c.name === "envoy-sidecar")!;
      const at = sidecar.command.indexOf("--config-yaml") + 1;
      sidecar.command[at] = change(sidecar.command[at]);
      t.container_definitions = JSON.stringify(containers);
    };
    edit(task!, (overlay) => overlay.replace('"port_value":4317', '"port_value":4318'));
    edit(other!, (overlay) => overlay.replace(`"name":"${TRACES_CLUSTER}"`, '"name":"otel"'));
    expect(tracePathProblems(stacks)).toEqual([
      `${first}: the collector listens on 127.0.0.1:4317, the proxy sends to 127.0.0.1:4318`,
      `${second}: the proxy's bootstrap has no cluster ${TRACES_CLUSTER}, which the tracer names`,
    ]);
  });

  it("a collector without the traces pipeline", () => {
    const stacks = synthAllStacks(TRACED);
    const [id, task] = Object.entries<Doc>(stacks.mesh.resource.aws_ecs_task_definition)[0]!;
    const containers = JSON.parse(task.container_definitions) as Doc[];
    const collector = containers.find((c) => c.name === COLLECTOR_CONTAINER)!;
    const env = collector.environment.find((e: Doc) => e.name === "AOT_CONFIG_CONTENT");
    const config = JSON.parse(env.value);
    delete config.service.pipelines.traces;
    env.value = JSON.stringify(config);
    task.container_definitions = JSON.stringify(containers);
    expect(tracePathProblems(stacks)).toContain(`${id}: the collector has no traces pipeline from otlp to awsxray`);
    // The judge too: what the pipeline left out is configured for nothing.
    expect(judgeCollectorConfig(config)).toEqual([
      "service.pipelines: no pipeline: the collector would do nothing",
      "receivers.otlp: configured but in no pipeline",
      "processors.resource/consul-service: configured but in no pipeline",
      "processors.batch/traces: configured but in no pipeline",
      "exporters.awsxray: configured but in no pipeline",
    ]);
  });

  it("an unknown component or key in the traces pipeline", () => {
    const config = collectorOf([...tasks(synthAllStacks(TRACED).mesh).values()][0]!)!;
    const typo = structuredClone(config);
    typo.receivers.otlp.protocols.grpc.endpiont = typo.receivers.otlp.protocols.grpc.endpoint;
    typo.exporters["zipkin/x"] = {};
    typo.service.pipelines.traces.exporters.push("zipkin/x");
    expect(judgeCollectorConfig(typo)).toEqual([
      "receivers.otlp.protocols.grpc.endpiont: unknown key (not in tools/judges/otel-collector-reference.ts)",
      "exporters.zipkin/x: unknown component zipkin (not in tools/judges/otel-collector-reference.ts)",
    ]);
  });

  it("a sampling percent dropped from the tracer: Envoy would sample every request", () => {
    const tracing = JSON.parse(proxyDefaultsConfig(synthAllStacks(TRACED)).envoy_listener_tracing_json!);
    delete tracing.random_sampling;
    // Still valid Envoy (random_sampling defaults to 100%), so only the exact-percent check catches it.
    expect(judgeEnvoyJson("google.protobuf.Any", JSON.stringify(tracing))).toEqual([]);
    expect(tracing.random_sampling).not.toEqual({ value: 2.5 });
  });

  it("a tracer the protos reject: a misspelt field", () => {
    const tracing = JSON.parse(proxyDefaultsConfig(synthAllStacks(TRACED)).envoy_listener_tracing_json!);
    tracing.random_sampleing = tracing.random_sampling;
    expect(judgeEnvoyJson("google.protobuf.Any", JSON.stringify(tracing)).join("\n")).toMatch(/unknown field "random_sampleing"/);
  });

  it("a task role without xray:PutTraceSegments", async () => {
    const stacks = synthAllStacks(TRACED);
    const removed = withoutAction(stacks.mesh, "xray:PutTraceSegments");
    expect(removed).toBeGreaterThan(0);
    const report = await evaluateIam(stacks, meshCalls(stacks, planOf(TRACED)));
    const denied = report.verdicts.filter((v) => !v.allowed).map((v) => v.call.action);
    expect(denied.length).toBe(removed);
    expect(new Set(denied)).toEqual(new Set(["xray:PutTraceSegments"]));
  });
});

describe("traces reach X-Ray from private subnets without NAT", () => {
  it("the mesh gets the xray interface endpoint", () => {
    const mesh = synthAllStacks(TRACED_PRIVATE).mesh;
    const lookups = Object.entries<Doc>(mesh.data.aws_vpc_endpoint_service).filter(([, d]) => d.service === "xray");
    expect(lookups.map(([, d]) => d.service_type)).toEqual(["Interface"]);
    const endpoints = Object.values<Doc>(mesh.resource.aws_vpc_endpoint).filter((e) => e.service_name === `\${data.aws_vpc_endpoint_service.${lookups[0]![0]}.service_name}`);
    expect(endpoints.map((e) => [e.vpc_endpoint_type, e.private_dns_enabled])).toEqual([["Interface", true]]);
    // The address CHANGELOG.md names.
    expect(Object.keys(mesh.resource.aws_vpc_endpoint).filter((key) => key.endsWith("xray"))).toEqual(["network_endpoints_xray"]);
  });
});

describe("consul-dataplane's Envoy gets the collector's cluster", () => {
  it("from mesh-init's file, without central config when metrics are off", () => {
    const spec = structuredClone(TRACED) as Doc;
    spec.architecture = "dataplane";
    for (const service of Object.values<Doc>(spec.services)) delete service.architecture;
    const stacks = synthAllStacks(spec as MeshSpecInput);
    expect(tracePathProblems(stacks)).toEqual([]);
    for (const [id, containers] of tasks(stacks.mesh)) {
      const dataplane = containers.find((c) => c.name === DATAPLANE_CONTAINERS.dataplane)!;
      expect(dataplane.command.slice(-3), id).toEqual(["--", "--config-path", "/consul/envoy-traces.json"]);
      expect(dataplane.command, id).not.toContain("-telemetry-use-central-config");
    }
  });
});

describe("the README's Traces section", () => {
  const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Traces\n"), readme.indexOf("### Autoscaling\n")).replace(/\s+/g, " ");

  it("states the spec's default rate, the receiver, the exact X-Ray grant and the pricing page", () => {
    const { samplingPercent } = meshSpecSchema.parse(DEFAULT_SPEC).observability.traces;
    expect(section).toContain(`\`samplingPercent\` ${samplingPercent} unless given`);
    expect(section).toContain(`\`${OTLP_RECEIVER.address}:${OTLP_RECEIVER.port}\``);
    expect(section).toContain(`exactly ${XRAY_ACTIONS.map((a) => `\`${a}\``).join(" and ")} on \`*\``);
    expect(section).toContain("https://aws.amazon.com/xray/pricing/");
    expect(section).toContain("`traceparent`");
  });

  it("says what examples/production.yaml does with traces, and it does that", () => {
    expect(section).toContain("`examples/production.yaml` leaves traces off");
    expect(meshSpecSchema.parse(example("production.yaml")).observability.traces.enabled).toBe(false);
  });
});
