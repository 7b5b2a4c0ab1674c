// The metrics collector judge: the collector configuration a task runs (its AOT_CONFIG_CONTENT)
// names only components the pinned table knows (tools/judges/otel-collector-reference.ts), sets
// only their known keys with values of the right type, and its pipeline uses exactly the
// components it configures. It also lists what the configuration emits, for the cross-artifact
// checks: the metric names the filter keeps and, per name, the dimension sets the EMF exporter declares.
import { OTEL_COMPONENTS, OTEL_SERVICE, type OtelTable, type OtelValue } from "./otel-collector-reference";

type Json = Readonly<Record<string, unknown>>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
/** Go's time.ParseDuration, as the collector reads durations. */
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function checkValue(spec: OtelValue, value: unknown, path: string, out: string[]): void {
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") out.push(`${path}: must be a string, got ${JSON.stringify(value)}`);
      else if (spec.oneOf && !spec.oneOf.includes(value)) out.push(`${path}: must be one of ${spec.oneOf.join(", ")}, got ${value}`);
      else if (spec.pattern && !spec.pattern.test(value)) out.push(`${path}: ${JSON.stringify(value)} does not match ${spec.pattern}`);
      return;
    case "bool":
      if (typeof value !== "boolean") out.push(`${path}: must be a boolean`);
      return;
    case "duration":
      if (typeof value !== "string" || !DURATION.test(value)) out.push(`${path}: must be a duration such as "60s", got ${JSON.stringify(value)}`);
      return;
    case "stringList":
      if (!isStringList(value)) out.push(`${path}: must be a list of strings`);
      return;
    case "stringMap":
      if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) out.push(`${path}: must be a map of strings`);
      return;
    case "stringListMap":
      if (!isObject(value) || !Object.values(value).every(isStringList)) out.push(`${path}: must be a map of string lists`);
      return;
    case "stringListList":
      if (!Array.isArray(value) || !value.every(isStringList)) out.push(`${path}: must be a list of string lists`);
      return;
    case "block":
      if (!isObject(value)) out.push(`${path}: must be a block`);
      else judgeTable(spec.keys, value, path, out);
      return;
    case "blockList":
      if (!Array.isArray(value)) out.push(`${path}: must be a list of blocks`);
      else value.forEach((item, i) => (isObject(item) ? judgeTable(spec.keys, item, `${path}[${i}]`, out) : out.push(`${path}[${i}]: must be a block`)));
      return;
  }
}

function judgeTable(table: OtelTable, obj: Json, path: string, out: string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    const spec = table[key];
    if (!spec) out.push(`${path}.${key}: unknown key (not in tools/judges/otel-collector-reference.ts)`);
    else checkValue(spec, value, `${path}.${key}`, out);
  }
}

/** A component id's type: "filter/golden-signals" -> "filter". */
const typeOf = (id: string) => id.split("/")[0]!;

/** Problems of one collector configuration (parsed JSON or YAML), each naming its path. */
export function judgeCollectorConfig(config: unknown): string[] {
  const out: string[] = [];
  if (!isObject(config)) return ["the collector configuration is not an object"];
  const configured: Record<string, Set<string>> = {};
  for (const [section, value] of Object.entries(config)) {
    if (section === "service") {
      if (!isObject(value)) out.push("service: must be a block");
      else judgeTable(OTEL_SERVICE, value, "service", out);
      continue;
    }
    const known = OTEL_COMPONENTS[section as keyof typeof OTEL_COMPONENTS];
    if (!known) {
      out.push(`${section}: unknown section`);
      continue;
    }
    configured[section] = new Set();
    if (!isObject(value)) {
      out.push(`${section}: must be a block`);
      continue;
    }
    for (const [id, settings] of Object.entries(value)) {
      configured[section]!.add(id);
      const table = known[typeOf(id)];
      if (!table) {
        out.push(`${section}.${id}: unknown component ${typeOf(id)} (not in tools/judges/otel-collector-reference.ts)`);
        continue;
      }
      if (settings !== null && !isObject(settings)) out.push(`${section}.${id}: must be a block`);
      else if (settings) judgeTable(table, settings, `${section}.${id}`, out);
    }
  }
  const pipelines = isObject(config.service) && isObject(config.service.pipelines) ? config.service.pipelines : {};
  if (Object.keys(pipelines).length === 0) out.push("service.pipelines: no pipeline: the collector would do nothing");
  const used: Record<string, Set<string>> = {};
  for (const [name, pipeline] of Object.entries(pipelines)) {
    if (!isObject(pipeline)) continue;
    for (const section of ["receivers", "processors", "exporters"] as const) {
      const ids = pipeline[section];
      if (ids === undefined) continue;
      if (!isStringList(ids)) continue;
      for (const id of ids) {
        const seen = used[section] ?? new Set<string>();
        used[section] = seen;
        seen.add(id);
        if (!configured[section]?.has(id)) out.push(`service.pipelines.${name}.${section}: ${id} is not configured in ${section}`);
      }
    }
  }
  // Extensions run when service.extensions lists them; an exporter's auth.authenticator names a running one.
  const service = isObject(config.service) ? config.service : {};
  const running = new Set(isStringList(service.extensions) ? service.extensions : []);
  used.extensions = running;
  for (const id of running) if (!configured.extensions?.has(id)) out.push(`service.extensions: ${id} is not configured in extensions`);
  for (const [id, settings] of Object.entries(isObject(config.exporters) ? config.exporters : {})) {
    const authenticator = isObject(settings) && isObject(settings.auth) ? settings.auth.authenticator : undefined;
    if (typeof authenticator === "string" && !running.has(authenticator))
      out.push(`exporters.${id}.auth.authenticator: ${authenticator} is not an extension in service.extensions`);
  }
  for (const [section, ids] of Object.entries(configured)) {
    for (const id of ids) if (!used[section]?.has(id)) out.push(`${section}.${id}: configured but ${section === "extensions" ? "not in service.extensions" : "in no pipeline"}`);
  }
  return out;
}

/** What a (judged) collector configuration emits to CloudWatch: per metric name, its dimension sets and the fixed label values its scrape adds. */
export function emittedMetrics(config: unknown): { names: Set<string>; dimensions: Map<string, string[][]>; labels: Record<string, string>; namespace: string } {
  // biome-ignore lint/suspicious/noExplicitAny: a judged configuration, walked by key
  const c = config as any;
  const names = new Set<string>(
    Object.entries(c.processors ?? {})
      .filter(([id]) => typeOf(id) === "filter")
      .flatMap(([, p]) => (p as Json & { metrics?: { include?: { metric_names?: string[] } } }).metrics?.include?.metric_names ?? []),
  );
  const emf = Object.entries(c.exporters ?? {}).find(([id]) => typeOf(id) === "awsemf")?.[1] as
    | { namespace: string; metric_declarations?: { dimensions: string[][]; metric_name_selectors: string[] }[] }
    | undefined;
  const dimensions = new Map<string, string[][]>();
  for (const name of names) {
    const sets = (emf?.metric_declarations ?? []).filter((d) => d.metric_name_selectors.some((s) => new RegExp(s).test(name))).flatMap((d) => d.dimensions);
    dimensions.set(name, sets);
  }
  const labels: Record<string, string> = Object.assign(
    {},
    ...(c.receivers?.prometheus?.config?.scrape_configs ?? []).flatMap((s: { static_configs?: { labels?: Record<string, string> }[] }) =>
      (s.static_configs ?? []).map((sc) => sc.labels ?? {}),
    ),
  );
  return { names, dimensions, labels, namespace: emf?.namespace ?? "" };
}
