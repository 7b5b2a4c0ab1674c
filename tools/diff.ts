// npm run diff -- a.yaml b.yaml: what changes between two specs in who may call whom (each ordered
// pair of services: allowed or denied, and the permissions), routes, splits, timeouts, retries,
// protocols and per-caller limits: the review a pull request needs; and the order to apply the
// stacks in when the change needs one (traces on or off).
//
// Each spec's intentions stack (alone: the mesh and TLS edge stacks hold no config entry) is
// synthesized and read through the traffic evaluator (tools/traffic-evaluator.ts), not the plan:
// the diff then shows what Consul is given (the intentions stack's config entries),
// read with the same semantics the evaluator's property tests hold to Consul's, and routes or
// splits that the plan learns to emit show up here as config entries without a change to this tool.
import { loadSpecFile, type LoadedSpec } from "../lib/pipeline";
import { tracesStackOrder } from "../lib/plan/observability";
import { SpecError } from "../lib/issues";
import { CliExit, parseCli, runTool, usageError } from "./support";
import { synthesizeIntentionsStack } from "./synthesize";
import { TrafficEvaluator } from "./traffic-evaluator";

const USAGE = `usage: npm run diff -- <a.yaml> <b.yaml>

Prints what changes from spec a to spec b in who may call whom (per pair of services: allowed or
denied, and the L7 permissions), routes, splits, timeouts and retries, protocols and per-caller
limits, read from the config entries each spec synthesizes. Prints "no change" when there is none.
When the change needs one stack applied before the other (traces on or off), says which.
Exit 1 (one line naming the file and the field) when a spec is not valid.
  -h, --help   this text`;

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/**
 * A fact compared by its value; `why` is printed beside it but not compared (an intention's
 * Description names its index in the spec, which moves when another intention is inserted).
 */
export interface Fact {
  readonly value: string;
  /** @default none */
  readonly why?: string;
}

/** What a spec says, as facts by subject: "web -> api" for an edge, "api route 1 (...) timeout" for a route. */
export interface TrafficFacts {
  readonly edges: ReadonlyMap<string, Fact>;
  readonly routing: ReadonlyMap<string, string>;
}

/** An HTTP match (a permission's or a route's) as a short text: methods, path, headers, query. */
function matchText(http: Obj): string {
  const methods = Array.isArray(http.Methods) ? (http.Methods as string[]).join(",") : "";
  const path =
    typeof http.PathExact === "string"
      ? http.PathExact
      : typeof http.PathPrefix === "string"
        ? `${http.PathPrefix}*`
        : typeof http.PathRegex === "string"
          ? `~${http.PathRegex}`
          : "/*";
  const tests = list(http.Header).map((h) => {
    const [op, value] =
      h.Present === true
        ? ["present", ""]
        : (["Exact", "Prefix", "Suffix", "Contains", "Regex"].flatMap((k) => (typeof h[k] === "string" ? [[k.toLowerCase(), h[k] as string]] : []))[0] ?? ["?", ""]);
    return `[${h.Invert === true ? "not " : ""}${String(h.Name)} ${op}${value ? ` ${JSON.stringify(value)}` : ""}]`;
  });
  const query = list(http.QueryParam).map((q) => `[?${String(q.Name)}${typeof q.Exact === "string" ? `=${q.Exact}` : typeof q.Regex === "string" ? `~${q.Regex}` : ""}]`);
  return [methods, `${path}${tests.join("")}${query.join("")}`].filter(Boolean).join(" ");
}

/** Who may call whom, for one ordered pair: the intention that governs it, in words. */
function edgeFact(evaluator: TrafficEvaluator, source: string, destination: string, defaultPolicy: string): Fact {
  const rule = evaluator.governing(source, destination);
  if (rule === undefined) return { value: defaultPolicy === "allow" ? "allowed" : "denied", why: "no intention: the default" };
  // The governing pair is part of the value (another intention deciding is a change); the entry's
  // Description (the plan writes where each source comes from) is the why.
  const pair = rule.entry === destination && rule.source === source ? "" : ` by ${rule.source} -> ${rule.entry}`;
  const why = rule.description === undefined ? {} : { why: rule.description };
  if (rule.permissions === undefined) return { value: `${rule.action === "allow" ? "allowed" : "denied"}${pair}`, ...why };
  const permissions = rule.permissions.map((p) => `${String(p.Action)} ${matchText(isObj(p.HTTP) ? p.HTTP : {})}`);
  return { value: `L7: ${[...permissions, `else ${defaultPolicy}`].join("; ")}${pair}`, ...why };
}

function retriesText(destination: Obj): string {
  const n = typeof destination.NumRetries === "number" ? destination.NumRetries : 0;
  if (n === 0) return "none";
  const on = [
    ...(Array.isArray(destination.RetryOn) ? (destination.RetryOn as string[]) : []),
    ...(Array.isArray(destination.RetryOnStatusCodes) ? (destination.RetryOnStatusCodes as number[]).map(String) : []),
  ];
  return `${n} ${n === 1 ? "retry" : "retries"}${on.length > 0 ? ` on ${on.join(", ")}` : ""}`;
}

/** The facts of one spec's synthesized config entries, over the given services. */
export function trafficFacts(evaluator: TrafficEvaluator, services: readonly string[], defaultPolicy: "allow" | "deny" = "deny"): TrafficFacts {
  const edges = new Map<string, Fact>();
  for (const source of services)
    for (const destination of services) if (source !== destination) edges.set(`${source} -> ${destination}`, edgeFact(evaluator, source, destination, defaultPolicy));

  const routing = new Map<string, string>();
  for (const service of services) {
    routing.set(`${service} protocol`, evaluator.protocolOf(service));
    const router = evaluator.entry("service-router", service);
    list(router?.Routes).forEach((route, i) => {
      const match = isObj(route.Match) && isObj(route.Match.HTTP) ? route.Match.HTTP : {};
      const destination = isObj(route.Destination) ? route.Destination : {};
      const at = `${service} route ${i + 1} (${matchText(match)})`;
      const to = `${typeof destination.Service === "string" ? destination.Service : service}${typeof destination.ServiceSubset === "string" ? `/${destination.ServiceSubset}` : ""}`;
      routing.set(`${at} to`, to);
      routing.set(`${at} timeout`, typeof destination.RequestTimeout === "string" ? destination.RequestTimeout : "none");
      routing.set(`${at} retries`, retriesText(destination));
    });
    const splitter = evaluator.entry("service-splitter", service);
    if (splitter)
      routing.set(
        `${service} split`,
        list(splitter.Splits)
          .map((s) => `${String(s.Weight)}% ${typeof s.Service === "string" ? s.Service : service}${typeof s.ServiceSubset === "string" ? `/${s.ServiceSubset}` : ""}`)
          .join(", "),
      );
    const resolver = evaluator.entry("service-resolver", service);
    if (resolver) {
      const subsets = isObj(resolver.Subsets) ? resolver.Subsets : {};
      for (const name of Object.keys(subsets).sort()) routing.set(`${service} subset ${name}`, String((subsets[name] as Obj | undefined)?.Filter ?? "every instance"));
      if (typeof resolver.DefaultSubset === "string") routing.set(`${service} default subset`, resolver.DefaultSubset);
      if (typeof resolver.RequestTimeout === "string") routing.set(`${service} resolver timeout`, resolver.RequestTimeout);
      if (isObj(resolver.Redirect)) routing.set(`${service} redirect`, JSON.stringify(resolver.Redirect));
    }
    const defaults = evaluator.entry("service-defaults", service);
    const overrides = list(isObj(defaults?.UpstreamConfig) ? defaults.UpstreamConfig.Overrides : undefined);
    for (const o of overrides)
      routing.set(
        `${service} -> ${String(o.Name)} limits`,
        Object.entries(isObj(o.Limits) ? o.Limits : {})
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(", "),
      );
  }
  return { edges, routing };
}

/** The lines that differ between two fact maps, sorted by subject: added (+), removed (-), changed (~, was and now). */
function changes(a: ReadonlyMap<string, Fact | string>, b: ReadonlyMap<string, Fact | string>): string[] {
  const fact = (f: Fact | string | undefined): Fact | undefined => (typeof f === "string" ? { value: f } : f);
  const text = (f: Fact) => (f.why === undefined ? f.value : `${f.value} (${f.why})`);
  const subjects = [...new Set([...a.keys(), ...b.keys()])].sort();
  return subjects.flatMap((subject) => {
    const before = fact(a.get(subject));
    const after = fact(b.get(subject));
    if (before?.value === after?.value) return [];
    if (before === undefined) return [`  + ${subject}: ${text(after!)}`];
    if (after === undefined) return [`  - ${subject}: ${text(before)}`];
    return [`  ~ ${subject}\n      was: ${text(before)}\n      now: ${text(after)}`];
  });
}

/** The review text of two specs' facts; "no change" when they agree. */
export function diffText(a: TrafficFacts, b: TrafficFacts, names: { readonly a: string; readonly b: string }): string {
  const edges = changes(a.edges, b.edges);
  const routing = changes(a.routing, b.routing);
  if (edges.length === 0 && routing.length === 0) return `no change in who may call whom, routes, splits, timeouts or retries (${names.a} -> ${names.b})\n`;
  const out = [`Traffic changes from ${names.a} to ${names.b} (read from the synthesized Consul config entries):`];
  if (edges.length > 0) out.push("", "Who may call whom:", ...edges);
  if (routing.length > 0) out.push("", "Routes, splits, timeouts, retries, protocols and limits:", ...routing);
  return `${out.join("\n")}\n`;
}

/** Which stack to apply first when the change from a to b needs an order (traces on or off), or nothing. */
export function stackOrderText(a: LoadedSpec, b: LoadedSpec): string {
  const order = tracesStackOrder(a.spec.observability.traces.enabled, b.spec.observability.traces.enabled);
  if (!order) return "";
  return `\nDeploy order: apply the ${order.first} stack, then the ${order.second} stack (${order.why}).\n`;
}

/** A spec file, or a one-line error naming the file and the first field at fault. */
function load(file: string): LoadedSpec {
  try {
    return loadSpecFile(file);
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    const [first] = error.errors;
    const more = error.errors.length > 1 ? ` (and ${error.errors.length - 1} more; npm run render -- --spec ${file} lists them)` : "";
    throw new CliExit(1, `diff: ${file}: ${first ? `${first.path}: ${first.message.split("\n")[0]}` : "not a valid spec"}${more}`);
  }
}

/** The facts of a loaded spec, from its synthesized intentions stack, over the given services. */
export function factsOf(loaded: LoadedSpec, services: readonly string[]): TrafficFacts {
  return trafficFacts(TrafficEvaluator.fromStack(synthesizeIntentionsStack(loaded.plan)), services);
}

export function main(args: readonly string[]): number {
  const { positionals } = parseCli(USAGE, {}, true, args);
  if (positionals.length !== 2) usageError(`expected two spec files, got ${positionals.length}`, USAGE);
  const [fileA, fileB] = positionals as [string, string];
  const a = load(fileA);
  const b = load(fileB);
  const services = [...new Set([...a.plan.services, ...b.plan.services].map((s) => s.name))].sort();
  process.stdout.write(diffText(factsOf(a, services), factsOf(b, services), { a: fileA, b: fileB }) + stackOrderText(a, b));
  return 0;
}

void runTool(require.main === module, "diff", main);
