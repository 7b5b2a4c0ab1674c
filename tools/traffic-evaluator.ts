// An offline evaluator of what the Consul config entries do: it reads the consul_config_entry
// resources a stack synthesizes (not the plan), so it judges what ships. For a request (source,
// destination, method, path, headers) it answers which intention decides it and which service and
// subset serve it. Each rule is Consul's, read for Consul 2.0.1 and cited where it is applied:
//   [P]  intention precedence: website/content/docs/secure-mesh/intention/index.mdx ("Precedence and
//        match order"; in CE exact/exact 9, */exact 8, exact/* 6, */* 5) and
//        agent/structs/intention.go (UpdatePrecedence, IntentionPrecedenceSorter: ties by source, then destination name).
//   [R]  agent/xds/rbac.go: the highest-precedence intention whose source matches is the only one
//        for that source (removeSameSourceIntentions, NOT-ed sources); its permissions are taken in
//        order, the first match decides (removePermissionPrecedence); a request no permission matches
//        gets the intention default (RBAC default action); L7 permissions on a destination that is
//        not HTTP are treated as deny (intentionToIntermediateRBACForm).
//   [D]  the intention default is ACL default_policy (service-intentions reference, Permissions:
//        "requests that do not match any of the defined permissions" get acl_default_policy); the
//        project sets "deny" (templates/consul/server.hcl.hbs).
//   [C]  agent/consul/discoverychain/compile.go: only the destination's own router is consulted;
//        its routes in order, first match wins, then an implicit catch-all to the service; a route
//        with a ServiceSubset goes to the resolver, otherwise to the service's splitter or resolver;
//        a split to another service without a subset goes on to that service's splitter (weights
//        multiplied, flattenAdjacentSplitterNodes), else to its resolver; a resolver applies
//        Redirect, then DefaultSubset, and a subset it does not define is an error; routers and
//        splitters need an L7 protocol (service-defaults Protocol, else proxy-defaults, else tcp),
//        and every service of one chain must speak the same protocol (recordProtocol).
//   [T]  agent/xds/routes.go (makeUpstreamRouteForDiscoveryChain): a route's RequestTimeout bounds
//        its requests; a resolver's RequestTimeout only when the chain starts at that resolver (no
//        router, no splitter); matches as makeRouteMatchForDiscoveryRoute writes them.
//   [N]  the destination's inbound HTTP listener rewrites the path before any filter (RBAC included)
//        sees it: agent/xds/listeners.go setNormalizationOptions (Test_setNormalizationOptions: no
//        mesh entry, or an empty one, still gives normalize_path true) from the mesh entry's
//        HTTP.Incoming.RequestNormalization (agent/structs/config_entry_mesh.go): normalize_path =
//        !InsecureDisablePathNormalization, merge_slashes = MergeSlashes, path_with_escaped_slashes_action
//        = PathWithEscapedSlashesAction (IMPLEMENTATION_SPECIFIC_DEFAULT is Envoy's KEEP_UNCHANGED).
//        Envoy applies them in this order (source/common/http/conn_manager_utility.cc
//        maybeNormalizePath): escaped slashes (%2F, %5C, either case, in the path before "?"),
//        then normalize_path (source/common/http/path_utility.cc canonicalPath: the path before "?"
//        through Chromium's CanonicalizePath: "\" becomes "/", "." and ".." segments, written with
//        "." or "%2e" in either case, are removed as RFC 3986 5.2.4 does, an escaped unreserved
//        character is decoded, other escapes are kept as written), then merge_slashes
//        (PathUtil::mergeSlashes: the non-empty segments joined by "/", one leading and one
//        trailing "/" kept). The query is left as it is. Routes match on the caller's outbound
//        listener, which Consul does not normalize (listeners_test.go: "outbound HTTP listener ...
//        normalization is not applied"): routes see the path as sent.
//   [H]  header tests are Envoy's (HeaderUtility::matchHeaders): a missing header fails every value
//        test, inverted or not; only a Present test inverted matches a missing header.

/** One config entry: its kind, name and config_json body. */
export interface ConsulEntry {
  readonly kind: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** The kinds the evaluator models; any other kind is rejected rather than ignored. */
export const EVALUATED_KINDS = ["service-defaults", "proxy-defaults", "service-intentions", "service-router", "service-splitter", "service-resolver", "mesh"] as const;

const L7_PROTOCOLS = ["http", "http2", "grpc"];

export interface TrafficRequest {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  /** The request path, optionally with a query string (?a=b), which only routes read. */
  readonly path: string;
  /** Header names are case-insensitive (HTTP). @default none */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Decision {
  readonly allowed: boolean;
  /** What decided: an L4 intention's action, one of its permissions, no permission matching (the default), or no intention at all (the default). */
  readonly by: "intention" | "permission" | "no-permission-matched" | "not-http" | "default" | "normalization";
  /** The service-intentions entry (destination name or "*") and the source in it that decided. @default none (the default decided) */
  readonly entry?: string;
  readonly source?: string;
  readonly precedence?: number;
  /** Index of the permission that matched. @default none */
  readonly permission?: number;
  readonly explain: string;
}

/** Where a request ends: a service and, when its resolver has subsets, one of them. */
export interface Target {
  readonly service: string;
  /** @default none (every instance) */
  readonly subset?: string;
  /** The subset's Filter over the instance (Service.Meta...). @default none */
  readonly filter?: string;
}

export interface Routing {
  readonly protocol: string;
  /** The router route that matched (its index), "default" for the implicit catch-all, none without a router. */
  readonly route?: number | "default";
  /** Envoy's bound on the request [T]: the matched route's RequestTimeout, or the resolver's when the chain starts there. @default none (Envoy's 15 s) */
  readonly requestTimeout?: string;
  readonly numRetries?: number;
  readonly retryOn?: readonly string[];
  readonly retryOnStatusCodes?: readonly number[];
  /** The weighted targets, weights summing to 100; one target at 100 without a splitter. */
  readonly splits: readonly { readonly weight: number; readonly target: Target }[];
}

/** Envoy's escaped-slash actions the evaluator models; UNESCAPE_AND_REDIRECT (a redirect the caller may follow) is not. */
export const ESCAPED_SLASH_ACTIONS = ["KEEP_UNCHANGED", "REJECT_REQUEST", "UNESCAPE_AND_FORWARD"] as const;

/** [N] The inbound HTTP listener's path settings, as Consul writes them into Envoy's HTTP connection manager. */
export interface InboundNormalization {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: (typeof ESCAPED_SLASH_ACTIONS)[number];
}

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The consul_config_entry resources of a synthesized stack, config_json parsed. */
export function entriesOfStack(stack: { readonly resource?: Readonly<Record<string, unknown>> }): ConsulEntry[] {
  const resources = (stack.resource?.consul_config_entry ?? {}) as Readonly<Record<string, { kind: string; name: string; config_json: string }>>;
  return Object.keys(resources)
    .sort()
    .map((id) => {
      const { kind, name, config_json } = resources[id]!;
      const config = JSON.parse(config_json) as unknown;
      if (!isObj(config)) throw new Error(`consul_config_entry.${id}: config_json is not an object`);
      return { kind, name, config };
    });
}

/** One source of a service-intentions entry, with its precedence [P]. */
export interface IntentionRule {
  readonly entry: string;
  readonly source: string;
  readonly precedence: number;
  readonly action?: string;
  readonly permissions?: readonly Obj[];
  /** The source's Description, as written in the entry. @default none */
  readonly description?: string;
}

/** [P] CE precedence of a source in the service-intentions entry of `destination`. */
export function intentionPrecedence(source: string, destination: string): number {
  return (destination === "*" ? 6 : 9) - (source === "*" ? 1 : 0);
}

export class TrafficEvaluator {
  private readonly byKind = new Map<string, Map<string, Obj>>();
  private readonly rules: readonly IntentionRule[];

  /** @param defaultPolicy the intention default [D]; the project's ACL default_policy is deny. */
  constructor(
    entries: readonly ConsulEntry[],
    private readonly defaultPolicy: "allow" | "deny" = "deny",
  ) {
    for (const { kind, name, config } of entries) {
      if (!(EVALUATED_KINDS as readonly string[]).includes(kind))
        throw new Error(`config entry ${kind} ${name}: kind ${JSON.stringify(kind)} is not one the evaluator models (${EVALUATED_KINDS.join(", ")})`);
      const named = this.byKind.get(kind) ?? new Map<string, Obj>();
      if (named.has(name)) throw new Error(`config entry ${kind} ${name}: written twice; Consul keeps one entry per kind and name`);
      named.set(name, config);
      this.byKind.set(kind, named);
    }
    const rules: IntentionRule[] = [];
    for (const [entry, config] of this.byKind.get("service-intentions") ?? []) {
      for (const s of list(config.Sources)) {
        const source = str(s.Name) ?? "";
        const permissions = list(s.Permissions);
        const description = str(s.Description);
        rules.push({
          entry,
          source,
          precedence: intentionPrecedence(source, entry),
          ...(permissions.length > 0 ? { permissions } : { action: str(s.Action) ?? "deny" }),
          ...(description ? { description } : {}),
        });
      }
    }
    // [P] IntentionPrecedenceSorter: higher precedence first, then source name, then destination name.
    this.rules = rules.sort((a, b) => b.precedence - a.precedence || cmp(a.source, b.source) || cmp(a.entry, b.entry));
    for (const kind of ["service-router", "service-splitter"])
      for (const name of this.byKind.get(kind)?.keys() ?? [])
        if (!L7_PROTOCOLS.includes(this.protocolOf(name)))
          throw new Error(`${kind} ${name}: ${name} speaks ${this.protocolOf(name)}; Consul refuses routers and splitters on a service without an L7 protocol`);
  }

  /** Builds the evaluator from a synthesized stack's consul_config_entry resources. */
  static fromStack(stack: { readonly resource?: Readonly<Record<string, unknown>> }, defaultPolicy: "allow" | "deny" = "deny"): TrafficEvaluator {
    return new TrafficEvaluator(entriesOfStack(stack), defaultPolicy);
  }

  entry(kind: string, name: string): Obj | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  /** [C] recordServiceProtocol: service-defaults Protocol, else proxy-defaults Config.protocol, else tcp. */
  protocolOf(service: string): string {
    const own = str(this.entry("service-defaults", service)?.Protocol);
    const global = this.entry("proxy-defaults", "global")?.Config;
    return (own ?? (isObj(global) ? str(global.protocol) : undefined) ?? "tcp").toLowerCase();
  }

  /** [R] The one intention that governs source -> destination, whatever the request: none when only the default applies. */
  governing(source: string, destination: string): IntentionRule | undefined {
    return this.rules.find((r) => (r.entry === destination || r.entry === "*") && (r.source === source || r.source === "*"));
  }

  /** Which intention decides the request, and how [P][R][D]. */
  authorize(request: TrafficRequest): Decision {
    // [N] the inbound HTTP listener rejects before any intention is consulted.
    if (L7_PROTOCOLS.includes(this.protocolOf(request.destination)) && this.normalizedPath(request.path) === undefined)
      return { allowed: false, by: "normalization", explain: `inbound path normalization: ${request.path} has an escaped slash: rejected (400)` };
    const rule = this.governing(request.source, request.destination);
    const fallback = this.defaultPolicy === "allow";
    if (rule === undefined)
      return { allowed: fallback, by: "default", explain: `no intention matches ${request.source} -> ${request.destination}: the default (${this.defaultPolicy})` };
    const at = { entry: rule.entry, source: rule.source, precedence: rule.precedence };
    const where = `service-intentions ${rule.entry}, source ${rule.source} (precedence ${rule.precedence})`;
    if (rule.permissions === undefined) return { allowed: rule.action === "allow", by: "intention", ...at, explain: `${where}: ${rule.action}` };
    if (!L7_PROTOCOLS.includes(this.protocolOf(request.destination)))
      return { allowed: false, by: "not-http", ...at, explain: `${where}: L7 permissions on ${request.destination}, which speaks ${this.protocolOf(request.destination)}: deny` };
    const normalized = this.normalizedPath(request.path)!;
    const headers = lowerKeys(request.headers);
    const inbound = { ...request, path: normalized };
    const index = rule.permissions.findIndex((p) => httpMatches(isObj(p.HTTP) ? p.HTTP : {}, inbound, headers));
    const seen = normalized === request.path ? "" : ` (path as normalized: ${normalized})`;
    if (index < 0) return { allowed: fallback, by: "no-permission-matched", ...at, explain: `${where}: no permission matches${seen}: the default (${this.defaultPolicy})` };
    const action = str(rule.permissions[index]!.Action);
    return { allowed: action === "allow", by: "permission", ...at, permission: index, explain: `${where}, permission ${index}${seen}: ${action}` };
  }

  /** [N] What the destination's inbound listener does to a path, read from the mesh entry (Consul's defaults without one). */
  inboundNormalization(): InboundNormalization {
    const http = this.entry("mesh", "mesh")?.HTTP;
    const incoming = isObj(http) ? http.Incoming : undefined;
    const rn = isObj(incoming) && isObj(incoming.RequestNormalization) ? incoming.RequestNormalization : {};
    const action = str(rn.PathWithEscapedSlashesAction) ?? "IMPLEMENTATION_SPECIFIC_DEFAULT";
    const escapedSlashes = action === "IMPLEMENTATION_SPECIFIC_DEFAULT" ? "KEEP_UNCHANGED" : action;
    if (!(ESCAPED_SLASH_ACTIONS as readonly string[]).includes(escapedSlashes))
      throw new Error(`mesh entry: PathWithEscapedSlashesAction ${JSON.stringify(action)} is not one the evaluator models (${ESCAPED_SLASH_ACTIONS.join(", ")})`);
    return {
      normalizePath: rn.InsecureDisablePathNormalization !== true,
      mergeSlashes: rn.MergeSlashes === true,
      escapedSlashes: escapedSlashes as InboundNormalization["escapedSlashes"],
    };
  }

  /** [N] The path the inbound listener matches permissions on, or none when it rejects the request. */
  normalizedPath(path: string): string | undefined {
    return normalizeInboundPath(path, this.inboundNormalization());
  }

  /** Which route, splits and subsets serve the request [C]. */
  route(request: TrafficRequest): Routing {
    const destination = request.destination;
    const protocol = this.protocolOf(destination);
    const router = L7_PROTOCOLS.includes(protocol) ? this.entry("service-router", destination) : undefined;
    if (router === undefined) {
      const splits = this.checked(protocol, this.splitterOrResolver(destination, []));
      // [T] a resolver's timeout only when the chain starts at it.
      const timeout = this.entry("service-splitter", destination) ? undefined : str(this.entry("service-resolver", splits[0]!.target.service)?.RequestTimeout);
      return { protocol, ...(timeout ? { requestTimeout: timeout } : {}), splits };
    }
    const headers = lowerKeys(request.headers);
    const routes = list(router.Routes);
    const index = routes.findIndex((r) => {
      const match = isObj(r.Match) ? r.Match : {};
      return httpMatches(isObj(match.HTTP) ? match.HTTP : {}, request, headers);
    });
    if (index < 0) return { protocol, route: "default", splits: this.checked(protocol, this.splitterOrResolver(destination, [])) };
    const dest = isObj(routes[index]!.Destination) ? (routes[index]!.Destination as Obj) : {};
    const service = str(dest.Service) ?? destination;
    const subset = str(dest.ServiceSubset);
    const splits = this.checked(protocol, subset === undefined ? this.splitterOrResolver(service, []) : [{ weight: 100, target: this.resolve(service, subset) }]);
    const retryOn = Array.isArray(dest.RetryOn) ? (dest.RetryOn as string[]) : undefined;
    const codes = Array.isArray(dest.RetryOnStatusCodes) ? (dest.RetryOnStatusCodes as number[]) : undefined;
    return {
      protocol,
      route: index,
      ...(str(dest.RequestTimeout) ? { requestTimeout: str(dest.RequestTimeout)! } : {}),
      ...(typeof dest.NumRetries === "number" ? { numRetries: dest.NumRetries } : {}),
      ...(retryOn ? { retryOn } : {}),
      ...(codes ? { retryOnStatusCodes: codes } : {}),
      splits,
    };
  }

  /** One target for a uniform draw u in [0, 1): Envoy's weighted clusters pick in proportion to weight. */
  serve(request: TrafficRequest, u: number): Target {
    const { splits } = this.route(request);
    let left = u * 100;
    for (const split of splits) {
      if (left < split.weight) return split.target;
      left -= split.weight;
    }
    return splits[splits.length - 1]!.target;
  }

  /** The instances of a target, from the services' instances with their meta (a subset's Filter applied). */
  instancesOf<I extends { readonly service: string; readonly meta?: Readonly<Record<string, string>>; readonly tags?: readonly string[] }>(
    target: Target,
    instances: readonly I[],
  ): I[] {
    return instances.filter((i) => i.service === target.service && (target.filter === undefined || evaluateFilter(target.filter, i)));
  }

  /** [C] recordProtocol: every service a chain reaches speaks the chain's protocol. */
  private checked(protocol: string, splits: Routing["splits"]): Routing["splits"] {
    for (const { target } of splits)
      if (this.protocolOf(target.service) !== protocol)
        throw new Error(`discovery chain uses inconsistent protocols: ${target.service} speaks ${this.protocolOf(target.service)}, not ${protocol} (Consul refuses it)`);
    return splits;
  }

  /** [C] getSplitterOrResolverNode, with nested splitters flattened. */
  private splitterOrResolver(service: string, seen: readonly string[]): { weight: number; target: Target }[] {
    const splitter = this.entry("service-splitter", service);
    if (splitter === undefined) return [{ weight: 100, target: this.resolve(service, undefined) }];
    if (seen.includes(service)) throw new Error(`service-splitter ${service}: circular reference ${[...seen, service].join(" -> ")}`);
    const splits = list(splitter.Splits);
    const total = splits.reduce((sum, s) => sum + (typeof s.Weight === "number" ? s.Weight : 0), 0);
    if (Math.abs(total - 100) > 0.01) throw new Error(`service-splitter ${service}: weights add up to ${total}, not 100 (Consul refuses it)`);
    return splits.flatMap((s) => {
      const weight = typeof s.Weight === "number" ? s.Weight : 0;
      const to = str(s.Service) ?? service;
      const subset = str(s.ServiceSubset);
      if (to !== service && subset === undefined && this.entry("service-splitter", to) !== undefined)
        return this.splitterOrResolver(to, [...seen, service]).map((inner) => ({ weight: (weight * inner.weight) / 100, target: inner.target }));
      return [{ weight, target: this.resolve(to, subset) }];
    });
  }

  /** [C] getResolverNode: Redirect, then DefaultSubset; an unknown subset is an error. */
  private resolve(service: string, subset: string | undefined, seen: readonly string[] = []): Target {
    const key = `${service}/${subset ?? ""}`;
    if (seen.includes(key)) throw new Error(`service-resolver ${service}: circular redirect ${[...seen, key].join(" -> ")}`);
    const resolver = this.entry("service-resolver", service);
    const redirect = isObj(resolver?.Redirect) ? resolver.Redirect : undefined;
    if (redirect) {
      const to = str(redirect.Service) ?? service;
      // rewriteTarget: another service resets the subset.
      const toSubset = str(redirect.ServiceSubset) ?? (to === service ? subset : undefined);
      if (to !== service || toSubset !== subset) return this.resolve(to, toSubset, [...seen, key]);
    }
    const effective = subset ?? str(resolver?.DefaultSubset);
    if (effective === undefined) return { service };
    const subsets = isObj(resolver?.Subsets) ? resolver.Subsets : {};
    const definition = subsets[effective];
    if (!isObj(definition)) throw new Error(`service ${JSON.stringify(service)} does not have a subset named ${JSON.stringify(effective)} (Consul refuses the chain)`);
    const filter = str(definition.Filter);
    return { service, subset: effective, ...(filter ? { filter } : {}) };
  }
}

/**
 * [N] Envoy's maybeNormalizePath for one path (with its query): the path Envoy's filters then see,
 * or none when Envoy answers 400. A fragment, and characters whose handling depends on Envoy's
 * runtime flags or Chromium's tables beyond what was read (see CANONICAL_PASS), are errors.
 */
export function normalizeInboundPath(path: string, settings: InboundNormalization): string | undefined {
  if (path.includes("#")) throw new Error(`path ${JSON.stringify(path)}: a fragment, which Envoy rejects or strips by runtime flag; not modelled`);
  const q = path.indexOf("?");
  let p = q < 0 ? path : path.slice(0, q);
  const query = q < 0 ? "" : path.slice(q);
  if (settings.escapedSlashes !== "KEEP_UNCHANGED" && /%(2f|5c)/i.test(p)) {
    if (settings.escapedSlashes === "REJECT_REQUEST") return undefined;
    p = p.replace(/%2f/gi, "/").replace(/%5c/gi, "\\");
  }
  if (settings.normalizePath) p = canonicalizePath(p);
  if (settings.mergeSlashes && p.includes("//")) p = `${p.startsWith("/") ? "/" : ""}${p.split("/").filter(Boolean).join("/")}${p.endsWith("/") ? "/" : ""}`;
  return p + query;
}

/** Characters Chromium's path canonicalizer copies unchanged (kPathCharLookup PASS or UNESCAPE); ";" is left out (Envoy may strip "..;" parameters by runtime flag). */
const CANONICAL_PASS = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]$/;
/** Characters it percent-encodes (kPathCharLookup ESCAPE): controls, space, '"', '<', '>', '`', DEL. */
const canonicalEscape = (c: string) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f || '"<>`'.includes(c);
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** "." or "%2e" (either case) at i: its length, else 0 (url_canon_path.cc IsDot). */
function dotAt(p: string, i: number): number {
  if (p[i] === ".") return 1;
  return p.slice(i, i + 3).toLowerCase() === "%2e" ? 3 : 0;
}

/** Chromium's CanonicalizePath (url_canon_path.cc DoPartialPath) over an absolute path without query, as Envoy's canonicalPath runs it. */
function canonicalizePath(p: string): string {
  let out = p.startsWith("/") || p.startsWith("\\") ? "" : "/";
  const slash = (i: number) => p[i] === "/" || p[i] === "\\";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const dot = dotAt(p, i);
    if (dot > 0) {
      if (!out.endsWith("/")) {
        out += ".";
        i += dot - 1;
        continue;
      }
      // ClassifyAfterDot: "." then end or slash; ".." then end or slash; else a name that starts with a dot.
      const after = i + dot;
      if (after === p.length || slash(after)) {
        i = after + (after === p.length ? 0 : 1) - 1;
        continue;
      }
      const second = dotAt(p, after);
      if (second > 0 && (after + second === p.length || slash(after + second))) {
        // BackUpToPreviousSlash: drop the last segment, never the first "/".
        if (out.length > 1) out = out.slice(0, out.lastIndexOf("/", out.length - 2) + 1);
        i = after + second + (after + second === p.length ? 0 : 1) - 1;
        continue;
      }
      out += ".";
      i += dot - 1;
    } else if (c === "\\") out += "/";
    else if (c === "%") {
      const hex = p.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        const decoded = String.fromCharCode(Number.parseInt(hex, 16));
        out += UNRESERVED.test(decoded) ? decoded : `%${hex}`;
        i += 2;
      } else out += "%";
    } else if (CANONICAL_PASS.test(c)) out += c;
    else if (canonicalEscape(c)) out += `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
    else throw new Error(`path ${JSON.stringify(p)}: ${JSON.stringify(c)} is a character whose canonical form the evaluator does not model`);
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerKeys(headers: Readonly<Record<string, string>> | undefined): Map<string, string> {
  return new Map(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Envoy's safe_regex is RE2 matched against the whole value. */
function fullMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

/**
 * An intention permission's HTTP or a route's Match.HTTP: every field given must hold (Methods,
 * one path test, every Header and QueryParam). Paths are compared without the query string.
 */
function httpMatches(http: Obj, request: TrafficRequest, headers: ReadonlyMap<string, string>): boolean {
  const [rawPath = "", query = ""] = request.path.split("?", 2) as [string, string?];
  // A route's CaseInsensitive applies to its path test (Envoy RouteMatch case_sensitive: false).
  const fold = http.CaseInsensitive === true ? (s: string) => s.toLowerCase() : (s: string) => s;
  const path = fold(rawPath);
  if (Array.isArray(http.Methods) && http.Methods.length > 0 && !(http.Methods as string[]).includes(request.method)) return false;
  if (str(http.PathExact) !== undefined && path !== fold(http.PathExact as string)) return false;
  if (str(http.PathPrefix) !== undefined && !path.startsWith(fold(http.PathPrefix as string))) return false;
  if (str(http.PathRegex) !== undefined && !fullMatch(http.PathRegex as string, rawPath)) return false;
  for (const h of list(http.Header)) if (!headerMatches(h, headers.get(String(h.Name).toLowerCase()))) return false;
  const params = new URLSearchParams(query);
  for (const q of list(http.QueryParam)) {
    const value = params.get(String(q.Name));
    if (value === null) return false;
    if (str(q.Exact) !== undefined && value !== q.Exact) return false;
    if (str(q.Regex) !== undefined && !fullMatch(q.Regex as string, value)) return false;
  }
  return true;
}

/** [H] One header test, as Envoy's HeaderUtility::matchHeaders evaluates it. */
function headerMatches(test: Obj, value: string | undefined): boolean {
  const invert = test.Invert === true;
  if (value === undefined) return test.Present === true && invert;
  const fold = test.IgnoreCase === true ? (s: string) => s.toLowerCase() : (s: string) => s;
  let matched: boolean;
  if (test.Present === true) matched = true;
  else if (str(test.Exact) !== undefined) matched = fold(value) === fold(test.Exact as string);
  else if (str(test.Prefix) !== undefined) matched = fold(value).startsWith(fold(test.Prefix as string));
  else if (str(test.Suffix) !== undefined) matched = fold(value).endsWith(fold(test.Suffix as string));
  else if (str(test.Contains) !== undefined) matched = fold(value).includes(fold(test.Contains as string));
  else if (str(test.Regex) !== undefined) matched = fullMatch(test.Regex as string, value);
  else throw new Error(`header test on ${String(test.Name)}: none of Present, Exact, Prefix, Suffix, Contains or Regex`);
  return matched !== invert;
}

/**
 * A resolver subset's Filter (go-bexpr) over one instance, for the forms a version subset uses:
 * `Service.Meta.<key> == "v"` and `!=`, `"t" in Service.Tags`, joined by and, or, not and
 * parentheses. Any other form is an error rather than a guess.
 */
export function evaluateFilter(filter: string, instance: { readonly meta?: Readonly<Record<string, string>>; readonly tags?: readonly string[] }): boolean {
  const tokens = filter.match(/"(?:[^"\\]|\\.)*"|==|!=|\(|\)|[A-Za-z_][\w.-]*/g) ?? [];
  if (tokens.join("").replace(/\s/g, "") !== filter.replace(/\s/g, "")) throw new Error(`filter ${JSON.stringify(filter)}: syntax the evaluator does not model`);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const value = (token: string | undefined): string => {
    if (token?.startsWith('"')) return JSON.parse(token) as string;
    if (token?.startsWith("Service.Meta.")) return instance.meta?.[token.slice("Service.Meta.".length)] ?? "";
    if (token !== undefined && /^[\w-]+$/.test(token)) return token;
    throw new Error(`filter ${JSON.stringify(filter)}: cannot read ${JSON.stringify(token)}`);
  };
  function atom(): boolean {
    if (peek() === "not") {
      next();
      return !atom();
    }
    if (peek() === "(") {
      next();
      const inner = or();
      if (next() !== ")") throw new Error(`filter ${JSON.stringify(filter)}: missing )`);
      return inner;
    }
    const left = next();
    const op = next();
    const right = next();
    if (op === "in" && right === "Service.Tags") return (instance.tags ?? []).includes(value(left));
    if (op === "==") return value(left) === value(right);
    if (op === "!=") return value(left) !== value(right);
    throw new Error(`filter ${JSON.stringify(filter)}: operator ${JSON.stringify(op)} is not modelled`);
  }
  /** Left to right over `word`-joined parts (both parts are always read, so the tokens advance). */
  const joined = (word: string, part: () => boolean, combine: (a: boolean, b: boolean) => boolean) => (): boolean => {
    let result = part();
    while (peek() === word) {
      next();
      result = combine(result, part());
    }
    return result;
  };
  const and = joined("and", atom, (a, b) => a && b);
  function or(): boolean {
    return joined("or", and, (a, b) => a || b)();
  }
  const result = or();
  if (i !== tokens.length) throw new Error(`filter ${JSON.stringify(filter)}: unexpected ${JSON.stringify(peek())}`);
  return result;
}
