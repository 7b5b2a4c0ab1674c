// Access logs (spec observability.accessLogs): the proxy-defaults entry the intentions stack
// writes, judged against Consul's config-entry table and Envoy's command operators; the fields an
// on-call engineer filters by; every proxy container ships its stdout to CloudWatch; the TLS
// edge's Envoy logs the same JSON, judged against Envoy's protos; and the default stays as it was.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { ACCESS_LOG_FIELDS } from "../lib/plan/observability";
import { CONTAINER_NAMES } from "../lib/plan/containers";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { TLS_EDGE_CONTAINERS, tlsEdgeEnvoyConfigText } from "../lib/plan/tls-edge";
import { renderText } from "../lib/render/text";
import { judgeConfigEntries, judgeConfigEntry } from "../tools/judges/consul-config-entries";
import { judgeEnvoyBootstrap } from "../tools/judges/envoy";
import { FORMAT_OPERATORS_SOURCE, judgeFormatString, judgeJsonFormat, operatorsOf } from "../tools/judges/envoy-format-operators";
import { ecsContainerDefinitionErrors } from "../tools/judges/index";
import { TrafficEvaluator } from "../tools/traffic-evaluator";
import { DEFAULT_VERSIONS } from "../lib/versions";
import { planOf, synthAllStacks } from "./support/synth";
import { rejectionOf } from "./support/spec-issues";

type Doc = Record<string, any>;

const example = (name: string) => parse(readFileSync(path.join(__dirname, "..", "examples", name), "utf8")) as MeshSpecInput;
const withLogs = (spec: MeshSpecInput): MeshSpecInput => ({ ...spec, observability: { ...spec.observability, accessLogs: { enabled: true } } });

const THREE_TIER = example("three-tier.yaml");
const TLS_EDGE = example("tls-edge.yaml");

/**
 * What an on-call engineer filters by, and the Envoy operator that answers it: written here, not
 * read from the plan, so dropping or changing a field of the format fails this file.
 */
const ON_CALL_OPERATORS: Readonly<Record<string, string>> = {
  "which destination (upstream cluster)": "%UPSTREAM_CLUSTER%",
  "which instance answered": "%UPSTREAM_HOST%",
  "the status": "%RESPONSE_CODE%",
  "why Envoy answered itself (UH, UF, UT, URX, NR...)": "%RESPONSE_FLAGS%",
  "how long": "%DURATION%",
  "bytes in": "%BYTES_RECEIVED%",
  "bytes out": "%BYTES_SENT%",
  "one request across proxies": "%REQ(X-REQUEST-ID)%",
  "the method": "%REQ(:METHOD)%",
  "the path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
  "the host asked for": "%REQ(:AUTHORITY)%",
  "who called": "%DOWNSTREAM_REMOTE_ADDRESS%",
  "which listener": "%DOWNSTREAM_LOCAL_ADDRESS%",
  when: "%START_TIME%",
};

/** The on-call operators a JSON format lacks, each with its question. */
function missingOnCall(format: Readonly<Record<string, unknown>>): string[] {
  const used = new Set(Object.values(format).filter((v): v is string => typeof v === "string"));
  return Object.entries(ON_CALL_OPERATORS)
    .filter(([, operator]) => !used.has(operator))
    .map(([question, operator]) => `${operator} (${question})`);
}

function configEntries(intentions: Doc): { kind: string; name: string; config: Doc }[] {
  return Object.values<Doc>(intentions.resource.consul_config_entry ?? {}).map((e) => ({ kind: e.kind, name: e.name, config: JSON.parse(e.config_json) }));
}

function containerDefinitions(doc: Doc): { task: string; containers: Doc[] }[] {
  return Object.entries<Doc>(doc.resource.aws_ecs_task_definition).map(([task, td]) => ({ task, containers: JSON.parse(td.container_definitions.replace(/\$\$\{/g, "${")) }));
}

describe("access logs off (the default)", () => {
  it("write no proxy-defaults entry and keep the TLS edge's default text line", () => {
    expect(planOf(DEFAULT_SPEC).traffic.entries.proxyDefaults).toBeUndefined();
    expect(configEntries(synthAllStacks(THREE_TIER).intentions).map((e) => e.kind)).not.toContain("proxy-defaults");
    expect(renderText(tlsEdgeEnvoyConfigText(8080))).not.toMatch(/log_format/);
  });

  it("the spec refuses an unknown field in accessLogs, naming its path", () => {
    const { errors } = rejectionOf({ ...DEFAULT_SPEC, observability: { accessLogs: { enabled: true, format: "text" } } } as never);
    expect(errors).toContainEqual(expect.objectContaining({ path: expect.stringMatching(/^observability\.accessLogs/) }));
  });
});

describe("access logs on", () => {
  const stacks = synthAllStacks(withLogs(THREE_TIER));
  const entries = configEntries(stacks.intentions);
  const global = entries.find((e) => e.kind === "proxy-defaults");

  it("the intentions stack writes one proxy-defaults entry, global, with JSON access logs to stdout", () => {
    expect(entries.filter((e) => e.kind === "proxy-defaults")).toHaveLength(1);
    expect(global!.name).toBe("global");
    expect(global!.config.AccessLogs).toMatchObject({ Enabled: true, Type: "stdout" });
    expect(global!.config).not.toHaveProperty("Config");
  });

  it("every config entry passes the judge of Consul's config-entry table", () => {
    expect(judgeConfigEntries(stacks.intentions)).toEqual([]);
  });

  it("the format carries every field an on-call engineer filters by", () => {
    const format = JSON.parse(global!.config.AccessLogs.JSONFormat) as Doc;
    expect(missingOnCall(format)).toEqual([]);
    // And the check fails when one is dropped.
    const { upstream_cluster: _dropped, ...without } = format;
    expect(missingOnCall(without)).toEqual(["%UPSTREAM_CLUSTER% (which destination (upstream cluster))"]);
  });

  it("every operator of the format is one of Envoy's, read for the pinned Envoy line", () => {
    expect(DEFAULT_VERSIONS.envoy.startsWith(`${FORMAT_OPERATORS_SOURCE.readForEnvoy}.`)).toBe(true);
    expect(judgeJsonFormat(JSON.parse(global!.config.AccessLogs.JSONFormat))).toEqual([]);
    expect(operatorsOf(global!.config.AccessLogs.JSONFormat).length).toBe(Object.keys(ACCESS_LOG_FIELDS).length);
  });

  it("leaves what the traffic evaluator concludes unchanged: protocols, intentions and routes", () => {
    const before = TrafficEvaluator.fromStack(synthAllStacks(THREE_TIER).intentions);
    const after = TrafficEvaluator.fromStack(stacks.intentions);
    expect(after.entry("proxy-defaults", "global")).toBeDefined();
    const services = Object.keys(THREE_TIER.services!);
    for (const service of services) expect(after.protocolOf(service)).toBe(before.protocolOf(service));
    for (const source of services)
      for (const destination of services) {
        const request = { source, destination, method: "GET", path: "/" };
        expect(after.authorize(request)).toEqual(before.authorize(request));
      }
    for (const edge of planOf(THREE_TIER).traffic.edges) {
      const request = { source: edge.source, destination: edge.destination, method: "GET", path: "/" };
      expect(after.route(request)).toEqual(before.route(request));
    }
  });

  it("every proxy container ships its stdout through awslogs, and the ECS judge accepts the tasks", () => {
    const proxies = new Set<string>([CONTAINER_NAMES.envoySidecar, DATAPLANE_CONTAINERS.dataplane, TLS_EDGE_CONTAINERS.envoy]);
    const docs = [stacks.mesh, synthAllStacks(withLogs({ ...DEFAULT_SPEC, architecture: "dataplane" })).mesh, synthAllStacks(withLogs(TLS_EDGE))["tls-edge"]];
    const seen = new Set<string>();
    for (const doc of docs)
      for (const { task, containers } of containerDefinitions(doc)) {
        expect(ecsContainerDefinitionErrors(containers), task).toEqual([]);
        for (const c of containers.filter((x) => proxies.has(x.name))) {
          seen.add(c.name);
          expect(c.logConfiguration?.logDriver, `${task} ${c.name}`).toBe("awslogs");
          expect(Object.keys(c.logConfiguration.options).sort()).toEqual(["awslogs-group", "awslogs-region", "awslogs-stream-prefix"]);
        }
      }
    expect([...seen].sort()).toEqual([...proxies].sort());
  });

  it("reaches the dataplane mesh (consul-dataplane's Envoy reads proxy-defaults too)", () => {
    const production = synthAllStacks(example("production.yaml"));
    expect(configEntries(production.intentions).find((e) => e.kind === "proxy-defaults")?.config.AccessLogs.Enabled).toBe(true);
    expect(judgeConfigEntries(production.intentions)).toEqual([]);
  });
});

describe("the TLS edge's Envoy with access logs", () => {
  const rendered = renderText(tlsEdgeEnvoyConfigText(8080, undefined, true));
  const accessLog = (parse(rendered) as Doc).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.access_log[0];

  it("passes the Envoy judge (the vendored v3 protos)", () => {
    expect(judgeEnvoyBootstrap(rendered)).toEqual([]);
  });

  it("logs the mesh's JSON format to stdout, every operator known, every on-call field present", () => {
    expect(accessLog.typed_config["@type"]).toBe("type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog");
    expect(accessLog.typed_config.log_format.json_format).toEqual(ACCESS_LOG_FIELDS);
    expect(judgeJsonFormat(accessLog.typed_config.log_format.json_format)).toEqual([]);
    expect(missingOnCall(accessLog.typed_config.log_format.json_format)).toEqual([]);
  });

  it("the spec's switch reaches the TLS edge task's Envoy", () => {
    const envoy = (spec: MeshSpecInput) => planOf(spec).tlsEdge!.task.containers.find((c) => c.name === TLS_EDGE_CONTAINERS.envoy)!;
    expect(renderText(envoy(withLogs(TLS_EDGE)).entryPoint![2] as never)).toMatch(/json_format/);
    expect(renderText(envoy(TLS_EDGE).entryPoint![2] as never)).not.toMatch(/json_format/);
  });

  it("the Envoy judge refuses a json_format that is not a dictionary", () => {
    const broken = rendered.replace(/json_format: \{.*\}/, 'json_format: "%DURATION%"');
    expect(broken).not.toBe(rendered);
    expect(judgeEnvoyBootstrap(broken).join("\n")).toMatch(/json_format/);
  });
});

describe("the judges catch a broken access log entry", () => {
  const entry = (logs: Doc) => judgeConfigEntry("proxy-defaults", "global", { AccessLogs: { Enabled: true, ...logs } });

  it("an unknown or misused operator", () => {
    expect(entry({ JSONFormat: JSON.stringify({ cluster: "%UPSTREAM_CLUSTR%" }) })).toEqual([
      expect.stringMatching(/^AccessLogs\.JSONFormat\.cluster: %UPSTREAM_CLUSTR%: not a command operator of Envoy 1\.37/),
    ]);
    expect(entry({ TextFormat: "%REQ% %DURATION(1)% 100%\n" })).toEqual([
      expect.stringMatching(/%REQ%: REQ needs an argument/),
      expect.stringMatching(/%DURATION\(1\)%: DURATION takes no argument/),
      expect.stringMatching(/has a "%" that starts no command operator/),
    ]);
    expect(judgeFormatString("%START_TIME(%Y-%m-%dT%H:%M:%S)% %REQ(USER-AGENT):64%")).toEqual([]);
  });

  it("Consul's AccessLogsConfig.Validate: path, both formats, JSON, the type, the name", () => {
    expect(entry({ Type: "file" })).toEqual(['AccessLogs.Path: Consul requires a path with Type "file"']);
    expect(entry({ Path: "/tmp/x" })).toEqual(['AccessLogs.Path: only valid with Type "file"']);
    expect(entry({ JSONFormat: "{}", TextFormat: "x" })).toContainEqual("AccessLogs: sets JSONFormat and TextFormat; Consul takes at most one");
    expect(entry({ JSONFormat: "{not json" })).toEqual([expect.stringMatching(/^AccessLogs\.JSONFormat: not JSON/)]);
    expect(entry({ Type: "syslog" })).toEqual([expect.stringMatching(/^AccessLogs\.Type: "syslog" is not one of/)]);
    expect(entry({ Enable: true })).toEqual([expect.stringMatching(/AccessLogs\.Enable: unknown field.*did you mean Enabled\?/)]);
    expect(judgeConfigEntry("proxy-defaults", "default", {})).toEqual(['Name: "default"; Consul\'s proxy-defaults entry must be named "global"']);
  });
});

describe("the README's Logs Insights queries", () => {
  /** Logs Insights commands, functions and operators the queries use: every other word must be a field of the format. */
  const LANGUAGE = new Set(["fields", "filter", "stats", "sort", "limit", "by", "as", "and", "or", "not", "desc", "asc", "count", "sum", "pct", "ispresent"]);

  /** Words of the queries that are neither the language, an alias (after "as"), a string, a number, a comment nor an @field. */
  function unknownFields(queries: string): string[] {
    const code = queries
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .join("\n")
      .replace(/"[^"]*"/g, "")
      .replace(/@\w+/g, "");
    const aliases = new Set([...code.matchAll(/\bas\s+([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!));
    const words = [...code.matchAll(/\b[a-z_][a-z0-9_]*\b/g)].map((m) => m[0]);
    return [...new Set(words.filter((w) => !LANGUAGE.has(w) && !aliases.has(w) && !(w in ACCESS_LOG_FIELDS)))];
  }

  const readme = readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  const queries = /<!-- logs-insights:start -->\n```text\n([\s\S]*?)```\n<!-- logs-insights:end -->/.exec(readme)?.[1];

  it("read only fields the access log format writes", () => {
    expect(queries, "README.md lacks the logs-insights markers").toBeDefined();
    expect(queries!.split("\n").filter((l) => l.startsWith("#")).length).toBeGreaterThanOrEqual(5);
    expect(unknownFields(queries!)).toEqual([]);
  });

  it("the check fails on a field the format does not write", () => {
    expect(unknownFields("filter ispresent(upstream_cluster) and status_code >= 500 | stats count(*) as n by user_agent")).toEqual(["status_code", "user_agent"]);
  });
});
