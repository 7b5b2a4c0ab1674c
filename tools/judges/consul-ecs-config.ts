// Judges a consul-ecs configuration (the CONSUL_ECS_CONFIG_JSON of a mesh task) against the
// consul-ecs 0.10.0 field table (consul-ecs-reference.ts), in three layers, each finding one
// string that starts with the JSON path (`proxy.upstreams[0].destinationNam: ...`):
//   1. what the real schema refuses: unknown keys (with a did-you-mean, where the key belongs
//      instead, or which release removed it), wrong JSON types, null where the type has none,
//      missing required fields, enum, pattern, minLength, minimum/maximum, uniqueItems; plus
//      unknown keys where the schema is lax (said so in the message: the judge is stricter);
//   2. what the schema lets through and fails later: Go's decoding (untyped healthCheckPort,
//      the never-validated proxy.expose, 8080.0 for an int, uint32 overflow), mesh-init (a
//      service task without proxy panics), the Consul server refusing the catalog registration
//      (mesh-init then retries forever), ports that cannot be bound, settings that are ignored;
//   3. one rule of this project, labelled "project rule": no networkResilienceConfig.enabled.
// Text input is also scanned for duplicate keys, which JSON.parse and Go both resolve silently.
import { CONSUL_ECS_CONFIG_FIELDS, CONSUL_ECS_REFERENCE_VERSION, REMOVED_KEYS, type FieldSpec, type FieldTable } from "./consul-ecs-reference";
import { closest } from "../../lib/issues";

const V = `consul-ecs ${CONSUL_ECS_REFERENCE_VERSION}`;

export interface ConsulEcsJudgeOptions {
  /**
   * Ports that other processes of the task listen on, with what listens there. Default: the
   * consul-dataplane defaults (cmd/consul-dataplane/config.go buildDefaultConsulDPFlags and
   * pkg/consuldp/lifecycle.go, v1.9.9 and v2.0.1 alike): Envoy admin 19000, lifecycle server 20300.
   */
  readonly reservedPorts?: ReadonlyMap<number, string>;
}

const DATAPLANE_PORTS: ReadonlyMap<number, string> = new Map([
  [19000, "the Envoy admin listener (consul-dataplane default)"],
  [20300, "the consul-dataplane lifecycle server (default graceful port)"],
]);

/**
 * Every problem of a consul-ecs 0.10.0 configuration, as JSON text (what the container's
 * CONSUL_ECS_CONFIG_JSON holds) or as a parsed value. Empty means valid.
 */
export function judgeConsulEcsConfig(json: string | object, options: ConsulEcsJudgeOptions = {}): string[] {
  const findings: string[] = [];
  let doc: unknown = json;
  let numbers: ReadonlyMap<string, string> = new Map();
  if (typeof json === "string") {
    // config/validate.go FromEnv: an empty variable is refused before parsing.
    if (json === "") return ['(root): "CONSUL_ECS_CONFIG_JSON" isn\'t populated (consul-ecs refuses an empty value)'];
    try {
      doc = JSON.parse(json);
    } catch (error) {
      return [`(root): not valid JSON: ${error instanceof Error ? error.message : String(error)}`];
    }
    const scan = scanJsonText(json);
    numbers = scan.numbers;
    findings.push(...scan.findings);
  }
  if (!isObject(doc)) return [...findings, `(root): expected an object, got ${describe(doc)}`];
  const context: WalkContext = { numbers, out: findings };
  judgeObject(CONSUL_ECS_CONFIG_FIELDS, true, doc, "", context);
  semanticChecks(doc, options.reservedPorts ?? DATAPLANE_PORTS, findings);
  return findings;
}

// ---------------------------------------------------------------------------------------------
// 1 and 2a: the table (schema, then Go's decoding)

interface WalkContext {
  /** The literal spelling of each number in the text, by path (text input only). */
  readonly numbers: ReadonlyMap<string, string>;
  readonly out: string[];
}

function judgeObject(table: FieldTable, strict: boolean, obj: Readonly<Record<string, unknown>>, path: string, ctx: WalkContext): void {
  for (const key of Object.keys(obj).sort()) {
    const keyPath = join(path, key);
    const spec = table[key];
    if (spec) checkValue(spec, obj[key], keyPath, ctx);
    else ctx.out.push(unknownKey(table, strict, key, keyPath, path));
  }
  for (const [key, spec] of Object.entries(table)) {
    if (spec.required && !(key in obj)) ctx.out.push(`${join(path, key)}: missing; the ${V} schema requires it`);
  }
}

function checkValue(spec: FieldSpec, value: unknown, path: string, ctx: WalkContext): void {
  const out = ctx.out;
  const by = spec.checkedBy === "go" ? ` (the schema does not check it, but consul-ecs decodes it into a Go ${goType(spec)} and fails)` : "";
  const wrong = (expected: string): void => {
    out.push(`${path}: expected ${expected}, got ${describe(value)}${by}`);
  };
  if (value === null) {
    // Go's decoder leaves a null as the zero value, so only the schema can refuse one.
    if (!spec.nullable && spec.checkedBy === undefined) out.push(`${path}: null is not allowed here; the ${V} schema wants ${expectedOf(spec)}`);
    return;
  }
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") return wrong("a string");
      if (spec.minLength !== undefined && value.length < spec.minLength) out.push(`${path}: must not be empty`);
      if (spec.pattern && !spec.pattern.test(value))
        out.push(`${path}: ${JSON.stringify(value)} does not match ${spec.patternText} (lower-case letters, digits, - and _; starting and ending with a letter or digit)`);
      if (spec.enum) checkEnum(spec, value, path, out);
      return;
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value)) return wrong("an integer");
      const raw = ctx.numbers.get(path);
      if (raw !== undefined && /[.eE]/.test(raw)) out.push(`${path}: write ${value}, not ${raw}: Go's encoding/json cannot decode ${raw} into an integer field`);
      if (!Number.isSafeInteger(value)) out.push(`${path}: ${value} is too large to be represented exactly`);
      if (spec.minimum !== undefined && value < spec.minimum) out.push(`${path}: ${value} is below the minimum ${spec.minimum}`);
      if (spec.maximum !== undefined && value > spec.maximum) out.push(`${path}: ${value} is above the maximum ${spec.maximum}`);
      if (spec.uint32 && value > 0xffffffff) out.push(`${path}: ${value} does not fit the Go uint32 consul-ecs decodes it into`);
      if (spec.port) checkPort(spec, value, path, out);
      return;
    }
    case "boolean":
      if (typeof value !== "boolean") wrong("true or false");
      return;
    case "stringMap":
      if (!isObject(value)) return wrong("an object of strings");
      for (const key of Object.keys(value).sort()) {
        if (typeof value[key] !== "string") out.push(`${join(path, key)}: expected a string, got ${describe(value[key])}`);
      }
      return;
    case "opaque":
      if (!isObject(value)) wrong("an object");
      return;
    case "array":
      if (!Array.isArray(value)) return wrong("an array");
      value.forEach((item, i) => checkValue(spec.items!, item, `${path}[${i}]`, ctx));
      if (spec.uniqueItems) checkUnique(value, path, out);
      return;
    case "object":
      if (!isObject(value)) return wrong("an object");
      judgeObject(spec.fields!, spec.strict === true, value, path, ctx);
      return;
  }
}

function checkEnum(spec: FieldSpec, value: string, path: string, out: string[]): void {
  const allowed = spec.enum!;
  if (spec.checkedBy === "consul") {
    // Consul lower-cases the expose protocol and accepts it empty (NodeService.ValidateForAgent).
    if (value === "" || allowed.includes(value.toLowerCase())) return;
    out.push(`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}; the Consul server refuses the registration and mesh-init retries it forever`);
    return;
  }
  if (allowed.includes(value)) return;
  const caseMatch = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  out.push(`${path}: ${JSON.stringify(value)} is not one of ${allowed.join(", ")}${caseMatch ? `; did you mean ${caseMatch}? (case matters)` : ""}`);
}

function checkPort(spec: FieldSpec, value: number, path: string, out: string[]): void {
  if (value === 0 && spec.zeroIsDefault) return; // consul-ecs reads 0 as "use the default"
  if (value >= 1 && value <= 65535) return;
  out.push(`${path}: ${value} is not a TCP port (1-65535); nothing can listen on it (the schema does not check the range)`);
}

function checkUnique(items: readonly unknown[], path: string, out: string[]): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const key = JSON.stringify(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else out.push(`${path}[${i}]: duplicate of ${path}[${first}]; the ${V} schema wants unique items`);
  });
}

function unknownKey(table: FieldTable, strict: boolean, key: string, keyPath: string, parent: string): string {
  const tablePath = parent.replace(/\[\d+\]/g, "[]");
  const removed = REMOVED_KEYS[tablePath ? `${tablePath}.${key}` : key];
  if (removed) {
    return `${keyPath}: not a ${V} key (last in consul-ecs ${removed.lastIn}; the docs page still lists it, the schema rejects it); use ${removed.instead}`;
  }
  const where = parent ? `in ${parent}` : "at the top level";
  const parts = [`${keyPath}: unknown key ${where}`];
  const candidates = Object.keys(table);
  const suggestion = candidates.find((k) => k.toLowerCase() === key.toLowerCase()) ?? closest(key, candidates);
  if (suggestion) parts.push(`did you mean ${suggestion}?`);
  const elsewhere = (KEY_INDEX.get(key) ?? []).filter((p) => p !== `${tablePath ? `${tablePath}.` : ""}${key}`);
  if (elsewhere.length > 0) parts.push(`${key} belongs at ${elsewhere.slice(0, 4).join(", ")}${elsewhere.length > 4 ? ` and ${elsewhere.length - 4} more` : ""}`);
  parts.push(
    strict
      ? `the ${V} schema rejects it (additionalProperties: false)`
      : `the ${V} schema does not reject unknown keys here and consul-ecs would ignore it silently; this judge is stricter`,
  );
  return parts.join("; ");
}

/** Every place each key is valid (arrays as []), shortest paths first. */
const KEY_INDEX: ReadonlyMap<string, readonly string[]> = (() => {
  const index = new Map<string, string[]>();
  let level: { table: FieldTable; path: string }[] = [{ table: CONSUL_ECS_CONFIG_FIELDS, path: "" }];
  while (level.length > 0) {
    const next: typeof level = [];
    for (const { table, path } of level) {
      for (const key of Object.keys(table).sort()) {
        const spec = table[key]!;
        const keyPath = path ? `${path}.${key}` : key;
        index.set(key, [...(index.get(key) ?? []), keyPath]);
        if (spec.fields) next.push({ table: spec.fields, path: keyPath });
        if (spec.items?.fields) next.push({ table: spec.items.fields, path: `${keyPath}[]` });
      }
    }
    level = next;
  }
  return index;
})();

// ---------------------------------------------------------------------------------------------
// 2b and 3: what consul-ecs, Consul and the task do with values the schema accepts

function semanticChecks(doc: Readonly<Record<string, unknown>>, reservedPorts: ReadonlyMap<number, string>, out: string[]): void {
  const gateway = objectAt(doc, "gateway");
  const isGateway = typeof gateway?.kind === "string" && gateway.kind !== ""; // config.go IsGateway
  const service = objectAt(doc, "service");
  const proxy = objectAt(doc, "proxy");
  const tproxy = objectAt(doc, "transparentProxy");

  if (isGateway) {
    if ("service" in doc) out.push("service: ignored: gateway.kind is set, so mesh-init registers a gateway and no service");
    if ("proxy" in doc) out.push("proxy: ignored: gateway.kind is set; a gateway's proxy settings go in gateway.proxy and gateway.healthCheckPort");
  } else {
    if (!("service" in doc)) out.push("service: missing; a task that is not a gateway needs it, or mesh-init registers the task family with port 0");
    // mesh-init constructProxyRegistration calls c.config.Proxy.GetPublicListenerPort() on a nil pointer.
    if (doc.proxy === undefined || doc.proxy === null)
      out.push("proxy: missing; for a task that is not a gateway mesh-init reads the proxy settings through a nil pointer and panics; write at least {}");
  }

  // consulLogin: config.go logs in only when enabled; the other fields are then dead.
  const login = objectAt(doc, "consulLogin");
  if (login && login.enabled !== true) {
    for (const key of Object.keys(login).sort()) {
      if (key !== "enabled" && login[key] !== null && key in CONSUL_ECS_CONFIG_FIELDS.consulLogin.fields) {
        out.push(`consulLogin.${key}: ignored: consulLogin.enabled is not true, so consul-ecs does not log in (and without CONSUL_HTTP_TOKEN talks to Consul with no token)`);
      }
    }
  }

  const servers = objectAt(doc, "consulServers");
  if (typeof servers?.hosts === "string" && servers.hosts.replace(/^exec=/, "").trim() === "") {
    out.push("consulServers.hosts: empty; consul-ecs has no servers to discover");
  }

  // ConsulDNSEnabled(): needs transparent proxy, and is off for gateways.
  const dns = tproxy ? objectAt(tproxy, "consulDNS") : undefined;
  if (dns?.enabled === true && (tproxy?.enabled === false || isGateway)) {
    out.push(`transparentProxy.consulDNS.enabled: ignored: Consul DNS needs transparent proxy, which is ${isGateway ? "off for gateways" : "disabled here"}`);
  }

  const controller = objectAt(doc, "controller");
  if (typeof controller?.partition === "string" && controller.partition !== "" && controller.partitionsEnabled !== true) {
    out.push("controller.partition: set without controller.partitionsEnabled: true; the controller exits with an error");
  }

  // mesh-init checks.go: the dataplane readiness check already has the ID <service-id>-consul-dataplane.
  const synced = doc.healthSyncContainers;
  if (Array.isArray(synced)) {
    synced.forEach((name, i) => {
      if (name === "consul-dataplane") out.push(`healthSyncContainers[${i}]: consul-dataplane is always synced; listing it registers a second check with the same ID`);
    });
  }

  const resilience = service ? objectAt(service, "networkResilienceConfig") : undefined;
  if (resilience?.enabled === true) {
    out.push(
      "service.networkResilienceConfig.enabled: project rule: must not be true. consul-ecs 0.10.0 then writes service-defaults " +
        "UpstreamConfig.Defaults.PassiveHealthCheck (whenever the entry has none) and always sets EnforcingConsecutiveGatewayFailure " +
        "(100 when absent); a Consul server without hashicorp/consul#23563 rejects that key, mesh-init fails after 5 retries and the " +
        "task never starts. Manage service-defaults PassiveHealthCheck declaratively instead",
    );
  } else if (resilience && resilience.outlierDetection !== undefined && resilience.outlierDetection !== null) {
    out.push("service.networkResilienceConfig.outlierDetection: ignored: networkResilienceConfig.enabled is not true");
  }

  if (proxy && !isGateway) {
    upstreamChecks(proxy, out);
    exposeChecks(proxy, out);
    portConflicts(service, proxy, reservedPorts, out);
  }
}

/** Consul's NodeService.ValidateForAgent and Upstream.Validate on the sidecar registration (agent/structs). */
function upstreamChecks(proxy: Readonly<Record<string, unknown>>, out: string[]): void {
  if (!Array.isArray(proxy.upstreams)) return;
  const refused = "the Consul server refuses the sidecar registration and mesh-init retries it forever";
  const keys = new Map<string, number>();
  const binds = new Map<string, number>();
  proxy.upstreams.forEach((item: unknown, i) => {
    if (!isObject(item)) return;
    const at = `proxy.upstreams[${i}]`;
    const text = (key: string): string => (typeof item[key] === "string" ? (item[key] as string) : "");
    if (typeof item.destinationName === "string" && item.destinationName === "") out.push(`${at}.destinationName: empty; ${refused}`);
    if (item.destinationName === "*") out.push(`${at}.destinationName: a wildcard; ${refused}`);
    if (text("destinationPeer") !== "" && text("datacenter") !== "") out.push(`${at}: destinationPeer and datacenter together; ${refused}`);
    const key = JSON.stringify(["destinationType", "destinationPartition", "destinationNamespace", "destinationPeer", "destinationName", "datacenter"].map(text));
    const sameKey = keys.get(key);
    if (sameKey !== undefined) out.push(`${at}: the same upstream as proxy.upstreams[${sameKey}]; ${refused}`);
    else keys.set(key, i);
    if (typeof item.localBindPort !== "number") return;
    const bind = `${text("localBindAddress") || "127.0.0.1"}:${item.localBindPort}`;
    const sameBind = binds.get(bind);
    if (sameBind !== undefined) out.push(`${at}.localBindPort: ${bind} is also the listener of proxy.upstreams[${sameBind}]; ${refused}`);
    else binds.set(bind, i);
  });
}

function exposeChecks(proxy: Readonly<Record<string, unknown>>, out: string[]): void {
  const expose = objectAt(proxy, "expose");
  if (!expose || !Array.isArray(expose.paths)) return;
  const refused = "the Consul server refuses the sidecar registration and mesh-init retries it forever";
  const listeners = new Map<number, number>();
  expose.paths.forEach((item: unknown, i) => {
    if (!isObject(item)) return;
    const at = `proxy.expose.paths[${i}]`;
    if (item.path === undefined || item.path === null || item.path === "") out.push(`${at}.path: empty; ${refused}`);
    if (typeof item.listenerPort !== "number") return;
    const first = listeners.get(item.listenerPort);
    if (first !== undefined) out.push(`${at}.listenerPort: ${item.listenerPort} is also proxy.expose.paths[${first}].listenerPort; ${refused}`);
    else listeners.set(item.listenerPort, i);
  });
}

/**
 * Listeners of one awsvpc task share a network namespace: the app, Envoy's public and readiness
 * listeners, the upstream and expose listeners and the dataplane's own ports must all differ.
 * Neither consul-ecs nor Consul checks this; Envoy fails to bind. Upstream against upstream is
 * upstreamChecks' business (different local addresses may share a port).
 */
function portConflicts(
  service: Readonly<Record<string, unknown>> | undefined,
  proxy: Readonly<Record<string, unknown>>,
  reservedPorts: ReadonlyMap<number, string>,
  out: string[],
): void {
  const portOr = (value: unknown, fallback: number): number => (typeof value === "number" && value !== 0 ? value : fallback);
  // Claimed in this order; a clash is reported at the later one's path.
  const listeners: { port: unknown; at: string; what: string }[] = [
    { port: portOr(proxy.publicListenerPort, 20000), at: "proxy.publicListenerPort", what: "the Envoy public listener (proxy.publicListenerPort, default 20000)" },
    { port: portOr(proxy.healthCheckPort, 22000), at: "proxy.healthCheckPort", what: "the Envoy readiness listener (proxy.healthCheckPort, default 22000)" },
    { port: service?.port, at: "service.port", what: "the app (service.port)" },
  ];
  const claimed = new Map<number, string>([...reservedPorts].sort((a, b) => a[0] - b[0]));
  const shared: { port: unknown; at: string }[] = [];
  if (Array.isArray(proxy.upstreams)) proxy.upstreams.forEach((u: unknown, i) => isObject(u) && shared.push({ port: u.localBindPort, at: `proxy.upstreams[${i}].localBindPort` }));
  const expose = objectAt(proxy, "expose");
  if (expose && Array.isArray(expose.paths))
    expose.paths.forEach((p: unknown, i) => isObject(p) && shared.push({ port: p.listenerPort, at: `proxy.expose.paths[${i}].listenerPort` }));
  for (const { port, at, what } of [...listeners, ...shared.map((s) => ({ ...s, what: "" }))]) {
    if (typeof port !== "number") continue;
    const owner = claimed.get(port);
    if (owner) out.push(`${at}: ${port} is also ${owner}; the listeners of one task share its network namespace, so one of them cannot bind`);
    else if (what) claimed.set(port, what);
  }
}

// ---------------------------------------------------------------------------------------------
// Text scan: duplicate keys and number spellings, by path

const MAX_SCAN_DEPTH = 256;

/** One pass over text that JSON.parse accepted. */
function scanJsonText(text: string): { readonly findings: string[]; readonly numbers: ReadonlyMap<string, string> } {
  const findings: string[] = [];
  const numbers = new Map<string, string>();
  let i = 0;
  let tooDeep = false;
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const readString = (): string => {
    const start = i;
    for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): void => {
    skipSpace();
    const c = text[i];
    if ((c === "{" || c === "[") && depth >= MAX_SCAN_DEPTH) {
      tooDeep = true;
      return;
    }
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      skipSpace();
      if (text[i] === "}") return void i++;
      for (;;) {
        skipSpace();
        const key = readString();
        const keyPath = join(path, key);
        if (seen.has(key)) findings.push(`${keyPath}: duplicate key; JSON.parse and Go's encoding/json both keep the last value silently`);
        seen.add(key);
        skipSpace();
        i++; // ':'
        value(keyPath, depth + 1);
        if (tooDeep) return;
        skipSpace();
        if (text[i++] === "}") return;
      }
    }
    if (c === "[") {
      i++;
      skipSpace();
      if (text[i] === "]") return void i++;
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`, depth + 1);
        if (tooDeep) return;
        skipSpace();
        if (text[i++] === "]") return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    const start = i;
    while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
    const raw = text.slice(start, i);
    if (/^-?\d/.test(raw)) numbers.set(path, raw);
  };
  value("", 0);
  if (tooDeep) findings.push(`(root): nested deeper than ${MAX_SCAN_DEPTH} levels; duplicate keys and number spellings were not checked`);
  return { findings, numbers };
}

// ---------------------------------------------------------------------------------------------

function objectAt(obj: Readonly<Record<string, unknown>>, key: string): Readonly<Record<string, unknown>> | undefined {
  const value = obj[key];
  return isObject(value) ? value : undefined;
}

function goType(spec: FieldSpec): string {
  switch (spec.type) {
    case "integer":
      return spec.uint32 ? "uint32" : "int";
    case "boolean":
      return "bool";
    case "array":
      return "slice";
    case "object":
      return "struct";
    default:
      return spec.type;
  }
}

function expectedOf(spec: FieldSpec): string {
  switch (spec.type) {
    case "integer":
      return "an integer";
    case "boolean":
      return "true or false";
    case "array":
      return "an array";
    case "string":
      return "a string";
    default:
      return "an object";
  }
}

/** `a.b`, `a["x/y"]` for keys that are not identifiers. */
function join(path: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (isObject(value)) return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
