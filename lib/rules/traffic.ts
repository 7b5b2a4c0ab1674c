// L7 traffic management over the call graph (the declared upstreams, lib/plan/traffic.ts): L7
// settings need an L7 destination, callers of one destination agree on its router, every call is
// allowed something and every allow permission serves a call, the timeouts along each call path
// nest, retries do not multiply into a storm, and retries repeat only what may be repeated.
import type { RuleResult } from "../issues";
import { formatDuration, IDEMPOTENT_METHODS, intentionFor, methodsOf } from "../plan/traffic";
import { HTTP_METHODS, type HttpMethod } from "../spec/schema";
import { imagePinProblem } from "../image-reference";
import { ecsServiceName, keepsOwnNames, versionedName } from "../plan/names";
import type { MeshPlan, RoutePolicy, ServicePlan, TrafficEdge } from "../plan/types";
import { escapeUnmodelled, type InboundNormalization, inboundNormalizationOf, normalizeInboundPath, unnormalizedPart } from "../plan/request-paths";

/** Path steps the retry-amplification walk takes at most: simple paths can be exponentially many in a dense graph. */
export const MAX_PATH_STEPS = 100_000;

export function checkTraffic(plan: MeshPlan, result: RuleResult): void {
  checkL7Destinations(plan, result);
  checkRouteConflicts(plan, result);
  checkEdgesAllowed(plan, result);
  checkStarDenies(plan, result);
  checkInvertedDenies(plan, result);
  checkPermissionPaths(plan, result);
  const handOffs = routeHandOffs(plan);
  checkDeadPermissions(plan, result, handOffs);
  // One walk of the upstream graph for the three path rules.
  const graph = callGraph(plan.traffic.edges);
  checkTimeoutBudget(plan, result, graph, handOffs);
  checkTimeoutOverTcp(plan, result, graph);
  checkRetryAmplification(plan, result, graph, handOffs);
  checkIdempotentRetries(plan, result);
  checkVersions(plan, result);
}

/**
 * Versions, splits and routes (a canary): the split and routes need an L7 service and name what
 * exists, the weights add up to 100 (Consul refuses the splitter otherwise), every version that gets
 * requests has tasks to serve them, and each version's ECS service has a name of its own.
 */
function checkVersions(plan: MeshPlan, { errors }: RuleResult): void {
  const byName = new Map(plan.services.map((s) => [s.name, s]));
  const ecsNames = new Map(plan.services.filter((s) => s.versions.length === 0).map((s) => [ecsServiceName(plan.name, s.name), s.name]));
  for (const service of plan.services) {
    const { path } = service;
    const versions = new Map(service.versions.map((v) => [v.version!, v]));
    const listed = [...versions.keys()].join(", ");
    const l7 = `set ${path}.protocol to http, http2 or grpc if it speaks one`;
    if (service.protocol === "tcp" && service.split !== undefined)
      errors.push({ path: `${path}.split`, message: `${service.name} speaks tcp: Consul splits requests, and a tcp connection has none; ${l7}, or remove split` });
    if (service.protocol === "tcp" && service.routes.length > 0)
      errors.push({
        path: `${path}.routes`,
        message: `${service.name} speaks tcp: Consul routes requests by path and header, and a tcp connection has none; ${l7}, or remove routes`,
      });
    for (const [version, of] of versions) {
      // The images rule checks the service's image; a version's own is checked here.
      const pin = of.image === service.image ? undefined : imagePinProblem(of.image);
      if (pin) errors.push({ path: `${path}.versions.${version}.image`, message: pin });
      if (!keepsOwnNames(of)) continue;
      const ecsService = ecsServiceName(plan.name, versionedName(service.name, version));
      const taken = ecsNames.get(ecsService);
      if (taken !== undefined)
        errors.push({
          path: `${path}.versions.${version}`,
          message: `its ECS service would be named ${ecsService}, the name of service ${taken}'s; rename the version or the service`,
        });
    }

    // What each version gets of the requests no route matches: the split, else all to the default (first) version.
    const split = service.split;
    if (split !== undefined) {
      if (service.versions.length === 0) {
        errors.push({
          path: `${path}.split`,
          message: `${service.name} has no versions to split between; add versions (e.g. v1 and v2, each with its image and count) or remove split`,
        });
      } else {
        for (const version of Object.keys(split))
          if (!versions.has(version))
            errors.push({ path: `${path}.split.${version}`, message: `${service.name} has no version ${version} (its versions: ${listed}); name one of them` });
        const sum = Object.values(split).reduce((total, weight) => total + weight, 0);
        if (sum !== 100) errors.push({ path: `${path}.split`, message: `the weights add up to ${sum}, and Consul's service-splitter needs exactly 100; make them add up to 100` });
      }
    }
    const first = service.defaultVersion;
    const weights: Readonly<Record<string, number>> = split ?? (first === undefined ? {} : { [first]: 100 });
    for (const [version, weight] of Object.entries(weights)) {
      const of = versions.get(version);
      if (of !== undefined && weight > 0 && of.count === 0)
        errors.push({
          path: `${path}.versions.${version}.count`,
          message: `version ${version} gets ${weight} % of ${service.name}'s requests${split === undefined ? " (the default version: no split)" : ""} but runs no task: they would fail with no healthy instance; give it a count or ${split === undefined ? "a split that sends them elsewhere" : "weight 0"}`,
        });
    }

    service.routes.forEach((route, i) => {
      const at = `${path}.routes[${i}]`;
      if (route.version !== undefined) {
        const of = versions.get(route.version);
        if (of === undefined)
          errors.push({
            path: `${at}.version`,
            message: `${service.name} has no version ${route.version}${service.versions.length === 0 ? " (it has no versions)" : ` (its versions: ${listed})`}; name one of its versions, or add it under ${path}.versions`,
          });
        else if (of.count === 0)
          errors.push({ path: `${at}.version`, message: `version ${route.version} runs no task, so the requests this route sends it fail; give it a count or remove the route` });
      }
      if (route.service !== undefined) {
        // The target's proxy authorizes the original caller: each caller needs an intention to it too.
        if (!routeToService(route.service, byName.get(route.service), at, errors)) return;
        for (const edge of plan.traffic.edges.filter((e) => e.destination === service.name)) {
          if (intentionFor(plan.intentions, edge.source, route.service)?.action !== "allow")
            errors.push({
              path: `${at}.service`,
              message: `${edge.source} calls ${service.name} (${edge.path}), and this route sends some of those requests to ${route.service}, whose intentions deny ${edge.source}: add an intention allowing ${edge.source} -> ${route.service}, or route elsewhere`,
            });
        }
      }
    });
  }
}

/** Whether a route's other service exists and takes requests; each problem reported. */
function routeToService(name: string, target: ServicePlan | undefined, at: string, errors: RuleResult["errors"]): boolean {
  const problem =
    target === undefined
      ? `no service ${name} in services; name one of them`
      : target.protocol === "tcp"
        ? `${name} speaks tcp, and Consul routes requests only to a service with an L7 protocol; set services.${name}.protocol to http, http2 or grpc if it speaks one`
        : target.count === 0
          ? `${name} runs no task, so the requests this route sends it fail; give it a count or remove the route`
          : undefined;
  if (problem !== undefined) errors.push({ path: `${at}.service`, message: problem });
  return problem === undefined;
}

/**
 * L7 settings on a tcp destination are an error: Consul refuses routers on it, its Envoy treats permissions as deny, and
 * Envoy has no request to time out or retry. The destination's protocol is what counts: a caller's
 * proxy takes the protocol of its upstream from the destination's service-defaults, whatever the caller speaks.
 */
function checkL7Destinations(plan: MeshPlan, { errors }: RuleResult): void {
  const protocolOf = new Map(plan.services.map((s) => [s.name, s.protocol]));
  const fix = (name: string) => `set services.${name}.protocol to http, http2 or grpc if it speaks one`;
  plan.declaredIntentions.forEach((intention, i) => {
    if (intention.permissions && protocolOf.get(intention.destination) === "tcp") {
      errors.push({
        path: `intentions[${i}].permissions`,
        message: `${intention.destination} speaks tcp, where Consul has no request to match a method, path or header against: ${fix(intention.destination)}, or use action (allow or deny the whole connection)`,
      });
    }
  });
  for (const service of plan.services) {
    service.upstreams.forEach((upstream, i) => {
      if (protocolOf.get(upstream.destination) !== "tcp") return;
      const at = `${service.path}.upstreams[${i}]`;
      const tcp = `${upstream.destination} speaks tcp`;
      if (upstream.timeout !== undefined)
        errors.push({ path: `${at}.timeout`, message: `${tcp}: Envoy times out requests, and a tcp connection has none; ${fix(upstream.destination)}, or remove timeout` });
      if (upstream.retries.attempts > 1)
        errors.push({ path: `${at}.retries`, message: `${tcp}: Envoy retries requests, and a tcp connection has none; ${fix(upstream.destination)}, or remove retries` });
      for (const limit of ["maxPendingRequests", "maxConcurrentRequests"] as const) {
        if (upstream.limits[limit] !== undefined)
          errors.push({ path: `${at}.limits.${limit}`, message: `${tcp}: this limit counts requests; ${fix(upstream.destination)}, or limit maxConnections only` });
      }
    });
  }
}

function describePolicy(policy: RoutePolicy): string {
  const timeout = policy.timeoutMs === undefined ? "no timeout" : `timeout ${formatDuration(policy.timeoutMs)}`;
  const retries = policy.attempts === 1 ? "no retries" : `${policy.attempts} attempts on ${[...policy.on, ...policy.statusCodes.map(String)].join(", ")}`;
  return `${timeout}, ${retries}`;
}

/** Consul applies a destination's service-router to every caller: two callers asking it for different things cannot both get theirs. */
function checkRouteConflicts(plan: MeshPlan, { errors }: RuleResult): void {
  for (const conflict of plan.traffic.conflicts) {
    errors.push({
      path: conflict.path,
      message: `asks ${conflict.destination}'s router for ${describePolicy(conflict.policy)}, but ${conflict.taken.declaredAt} asks for ${describePolicy(conflict.taken)}: Consul applies one service-router to every caller of ${conflict.destination}; declare the same timeout and retries in both, or in one only (the other caller gets the same)`,
    });
  }
}

/** The spec's intention that decides a pair, by its index (an exact source before "*"). */
function declaredIndex(plan: MeshPlan, source: string, destination: string): number {
  const exact = plan.declaredIntentions.findIndex((i) => i.source === source && i.destination === destination);
  return exact >= 0 ? exact : plan.declaredIntentions.findIndex((i) => i.source === "*" && i.destination === destination);
}

/** A declared upstream whose L7 intention allows nothing: every request of that call is denied. */
function checkEdgesAllowed(plan: MeshPlan, { errors }: RuleResult): void {
  for (const edge of plan.traffic.edges) {
    const source = intentionFor(plan.intentions, edge.source, edge.destination);
    if (!source?.permissions || edge.methods.length > 0) continue;
    const i = declaredIndex(plan, edge.source, edge.destination);
    errors.push({
      path: edge.path,
      message: `${edge.source} calls ${edge.destination}, but the permissions of intentions[${i}] allow it no request: add an allow permission for the methods and paths ${edge.source} calls, or remove the upstream (an action: deny intention cuts a call off on purpose)`,
    });
  }
}

/**
 * A "*" intention that denies something decides nothing for a declared caller: the caller's upstream
 * gives it an exact source, which Consul matches before "*" (precedence 9 over 8), so the deny
 * would pass silently for exactly the services that call the destination.
 */
function checkStarDenies(plan: MeshPlan, { errors }: RuleResult): void {
  plan.declaredIntentions.forEach((intention, i) => {
    if (intention.source !== "*") return;
    const denies = intention.action === "deny" || (intention.permissions ?? []).some((p) => p.action === "deny");
    if (!denies) return;
    const outranking = plan.traffic.edges
      .filter((e) => e.destination === intention.destination && intentionFor(plan.intentions, e.source, e.destination)?.origin === "upstream")
      .map((e) => e.source);
    if (outranking.length === 0) return;
    const callers = [...new Set(outranking)].sort();
    errors.push({
      path: `intentions[${i}]`,
      message: `this * intention denies, but ${callers.join(", ")} declare${callers.length === 1 ? "s" : ""} ${intention.destination} as an upstream, which allows ${callers.length === 1 ? "it" : "them"} everything with a source of ${callers.length === 1 ? "its" : "their"} own that Consul matches before * (precedence 9 over 8): the deny never applies to ${callers.join(", ")}. Write an intention per caller (source: ${callers[0]}, destination: ${intention.destination}) with the permissions it should have`,
    });
  });
}

/**
 * An inverted value test never matches a request without the header (Envoy's
 * HeaderUtility::matchHeaders: a missing header matches only an inverted present test), so a deny
 * on "value is not X" lets a request without the header through.
 */
function checkInvertedDenies(plan: MeshPlan, { errors }: RuleResult): void {
  plan.declaredIntentions.forEach((intention, i) => {
    intention.permissions?.forEach((permission, k) => {
      if (permission.action !== "deny") return;
      permission.headers.forEach((header, h) => {
        if (!header.invert || header.present !== undefined) return;
        errors.push({
          path: `intentions[${i}].permissions[${k}].headers[${h}].invert`,
          message: `an inverted value test never matches a request without ${header.name} (Envoy), so this deny lets such requests through: to require the header, put a deny with { name: ${header.name}, present: true, invert: true } before this permission`,
        });
      });
    });
  });
}

/**
 * A permission tests the path as the destination's inbound listener normalized it
 * (lib/plan/request-paths.ts): a pathExact or pathPrefix not in that normal form matches no
 * request, so a deny written that way never fires and an allow never allows. A pathRegex is
 * refused when every path it matches contains a part no normalized path has (the literal parts it
 * requires, outside groups, classes and optional atoms); other regexes are not judged.
 */
function checkPermissionPaths(plan: MeshPlan, { errors }: RuleResult): void {
  const settings = inboundNormalizationOf(plan.meshEntry);
  plan.declaredIntentions.forEach((intention, i) => {
    intention.permissions?.forEach((permission, k) => {
      const at = `intentions[${i}].permissions[${k}]`;
      const never = permission.action === "deny" ? "this deny never fires (the requests it means pass it)" : "this allow never allows";
      for (const field of ["pathExact", "pathPrefix"] as const) {
        const value = permission[field];
        const problem = value === undefined ? undefined : permissionPathProblem(value, settings);
        if (problem)
          errors.push({
            path: `${at}.${field}`,
            message: `no request has the path ${JSON.stringify(value)} when permissions see it: ${problem.reason}, so ${never}; write ${field}: ${JSON.stringify(problem.write)}`,
          });
      }
      if (permission.pathRegex === undefined) return;
      for (const literal of requiredLiterals(permission.pathRegex)) {
        const part = unnormalizedPart(literal, settings);
        if (part === undefined) continue;
        errors.push({
          path: `${at}.pathRegex`,
          message: `every path this regex matches contains ${JSON.stringify(part.part)}, which the destination's Envoy turns into ${part.becomes} before permissions see the path: it matches no request, so ${never}; write the path as it arrives normalized`,
        });
        return;
      }
    });
  });
}

/** Why a permission path is not in normal form, and the form to write instead; none when it is. */
function permissionPathProblem(value: string, settings: InboundNormalization): { readonly reason: string; readonly write: string } | undefined {
  // The form to suggest: cut, encoded and normalized, an escaped slash read as the slash it stands for.
  const unescaping: InboundNormalization = { ...settings, escapedSlashes: settings.escapedSlashes === "REJECT_REQUEST" ? "UNESCAPE_AND_FORWARD" : settings.escapedSlashes };
  const normalForm = (path: string) => normalizeInboundPath(escapeUnmodelled(path), unescaping)!;
  const cut = value.split(/[?#]/, 1)[0]!;
  if (cut !== value) return { reason: "a permission tests the path without its query (Envoy's url_path), and a fragment is never sent", write: normalForm(cut) };
  const modelled = escapeUnmodelled(value);
  if (modelled !== value) return { reason: "clients send such characters percent-encoded (and how Envoy normalizes them raw is not modelled)", write: normalForm(modelled) };
  const normal = normalizeInboundPath(value, settings);
  if (normal === undefined)
    return { reason: "the mesh entry makes every proxy refuse a path with an escaped slash (%2F, %5C) with 400 before any intention", write: normalForm(value) };
  if (normal !== value)
    return {
      reason: `the destination's Envoy normalizes every request path first (dot segments and %2e removed, \\ read as /, escaped unreserved characters decoded${settings.mergeSlashes ? ", repeated slashes merged" : ""})`,
      write: normal,
    };
  return undefined;
}

/**
 * The literal strings every match of an RE2 pattern contains: the runs of plain or escaped
 * characters at the top level that no quantifier makes optional. Conservative: a group, a class,
 * "." or an escape class ends a run; a top-level alternation or \Q...\E gives none.
 */
function requiredLiterals(pattern: string): string[] {
  if (pattern.includes("\\Q")) return [];
  const runs: string[] = [];
  let run = "";
  const end = () => {
    if (run !== "") runs.push(run);
    run = "";
  };
  let depth = 0;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    let literal: string | undefined;
    let width = 1;
    if (c === "[") {
      // A class: "]" first (after an optional "^") is a member; escapes skip a character.
      let j = i + 1;
      if (pattern[j] === "^") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j += pattern[j] === "\\" ? 2 : 1;
      width = j + 1 - i;
    } else if (c === "\\") {
      const d = pattern[i + 1];
      if (d !== undefined && !/[A-Za-z0-9]/.test(d)) literal = d;
      width = 2;
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return [];
    else if (depth === 0 && !".^$*+?{}".includes(c)) literal = c;
    i += width;
    // The atom's quantifier: ?, * and {0,..} make it optional; + and {n,..} repeat it, so the run ends after it.
    const quantifier = /^(?:[?*+]|\{\d+(?:,\d*)?\})\??/.exec(pattern.slice(i))?.[0];
    if (quantifier !== undefined) i += quantifier.length;
    if (literal === undefined || depth > 0 || quantifier?.startsWith("?") || quantifier?.startsWith("*") || quantifier?.startsWith("{0")) {
      end();
      continue;
    }
    run += literal;
    if (quantifier !== undefined) end();
  }
  end();
  return runs;
}

/**
 * The other services each service's router hands requests on to (its routes' services, once each,
 * in route order): a request to the service may be served by any of them.
 */
function routeHandOffs(plan: MeshPlan): ReadonlyMap<string, readonly string[]> {
  return new Map(plan.services.map((s) => [s.name, [...new Set(s.routes.flatMap((r) => (r.service === undefined || r.service === s.name ? [] : [r.service])))]]));
}

/** An allow permission no declared upstream uses: it opens a door nothing in the spec walks through. */
function checkDeadPermissions(plan: MeshPlan, { errors }: RuleResult, handOffs: ReadonlyMap<string, readonly string[]>): void {
  plan.declaredIntentions.forEach((intention, i) => {
    if (!intention.permissions) return;
    // A caller's requests reach the destination directly, or through a route of the service it calls.
    const reaches = (service: string) => service === intention.destination || (handOffs.get(service)?.includes(intention.destination) ?? false);
    const callers = [...new Set(plan.traffic.edges.filter((e) => reaches(e.destination)).map((e) => e.source))];
    // "*" decides only for callers without a source of their own, and a declared upstream is one
    // (it allows everything): Consul matches an exact source before "*".
    const served =
      intention.source === "*" ? callers.filter((c) => intentionFor(plan.intentions, c, intention.destination)?.name === "*") : callers.filter((c) => c === intention.source);
    if (served.length > 0) return;
    const who =
      intention.source === "*"
        ? callers.length === 0
          ? `no service declares ${intention.destination} as an upstream`
          : `every caller of ${intention.destination} (${callers.join(", ")}) has a source of its own, which Consul matches before * (a declared upstream allows everything): give each caller its own intention with these permissions`
        : `${intention.source} declares no upstream ${intention.destination}`;
    intention.permissions.forEach((permission, k) => {
      if (permission.action !== "allow") return;
      errors.push({
        path: `intentions[${i}].permissions[${k}]`,
        message: `allows requests nothing makes: ${who}; remove the permission, or add the upstream to the service that calls ${intention.destination}`,
      });
    });
  });
}

/** Outgoing edges by source, and each node's shortest call path from a service nobody calls (or itself, on a cycle nobody enters). */
type CallGraph = { readonly out: ReadonlyMap<string, readonly TrafficEdge[]>; readonly prefixTo: (node: string) => readonly string[]; readonly starts: readonly string[] };

function callGraph(edges: readonly TrafficEdge[]): CallGraph {
  const out = new Map<string, TrafficEdge[]>();
  const called = new Set<string>();
  const nodes = new Set<string>();
  for (const edge of edges) {
    if (edge.source === edge.destination) continue;
    out.set(edge.source, [...(out.get(edge.source) ?? []), edge]);
    called.add(edge.destination);
    nodes.add(edge.source).add(edge.destination);
  }
  const roots = [...nodes].filter((n) => !called.has(n)).sort();
  // Breadth-first from the roots, each node once: terminates on cycles and gives the shortest prefix.
  const previous = new Map<string, string | undefined>(roots.map((r) => [r, undefined]));
  for (let queue = [...roots]; queue.length > 0; ) {
    const next: string[] = [];
    for (const node of queue)
      for (const edge of out.get(node) ?? [])
        if (!previous.has(edge.destination)) {
          previous.set(edge.destination, node);
          next.push(edge.destination);
        }
    queue = next;
  }
  const prefixTo = (node: string): readonly string[] => {
    if (!previous.has(node)) return [node];
    const path = [node];
    for (let at = previous.get(node); at !== undefined; at = previous.get(at)) path.unshift(at);
    return path;
  };
  // Walks start at the roots, and at nodes only a cycle reaches (sorted, so the order is stable).
  const starts = [...roots, ...[...nodes].filter((n) => !previous.has(n)).sort()];
  return { out, prefixTo, starts };
}

/**
 * A caller's timeout covers the callee's worst case. Consul's router has no per-try timeout, so a
 * try of X -> Y lasts until Y's own calls return: at worst the sum of Y's timeouts for its L7
 * upstreams (made one after another; Envoy cuts each at its timeout, so deeper calls are bounded by
 * them and checked at their own hop). X's Envoy retries a failed try, so X -> Y needs
 * attempts(X -> Y) x that sum, and a shorter timeout cuts Y's calls (and X's retries) short while Y
 * still works. The error names the call path from a service nobody calls through Y's longest call.
 */
function checkTimeoutBudget(plan: MeshPlan, { errors }: RuleResult, { out, prefixTo }: CallGraph, handOffs: ReadonlyMap<string, readonly string[]>): void {
  for (const outer of plan.traffic.edges) {
    if (outer.timeoutMs === undefined || outer.source === outer.destination) continue;
    // A try is served by the destination, or by another service one of its routes hands it to: the longest of them counts.
    const servers = [outer.destination, ...(handOffs.get(outer.destination) ?? [])];
    const worst = servers
      .map((server) => {
        const inners = (out.get(server) ?? [])
          .filter((e) => e.timeoutMs !== undefined && e.destination !== outer.source)
          .sort((a, b) => b.timeoutMs! - a.timeoutMs! || a.destination.localeCompare(b.destination));
        return { server, inners, perTry: inners.reduce((sum, e) => sum + e.timeoutMs!, 0) };
      })
      .reduce((a, b) => (b.perTry > a.perTry ? b : a));
    const { server, inners, perTry } = worst;
    if (inners.length === 0) continue;
    const need = outer.attempts * perTry;
    if (need <= outer.timeoutMs) continue;
    const { source: x, destination: y, attempts } = outer;
    const routed = server === y ? "" : ` (routed to ${server})`;
    const path = `${[...prefixTo(x), y].join(" -> ")}${routed} -> ${inners[0]!.destination}`;
    const calls =
      inners.length === 1
        ? `call to ${inners[0]!.destination}`
        : `calls to ${inners.map((e) => `${e.destination} (${formatDuration(e.timeoutMs!)})`).join(" and ")}, one after another at worst`;
    const waits =
      attempts === 1
        ? `${x}'s call to ${y}${routed} waits up to ${formatDuration(perTry)} for ${server}'s ${calls}`
        : `${x} tries ${y}${routed} ${attempts} times, and each try waits up to ${formatDuration(perTry)} for ${server}'s ${calls}, ${formatDuration(need)} in all`;
    const defaulted = plan.traffic.routes.get(y)?.timeoutMs === undefined ? " (Consul's default)" : "";
    const lower = inners.length === 1 ? `${server}'s timeout for ${inners[0]!.destination}` : `${server}'s timeouts for its upstreams`;
    errors.push({
      path: `${outer.path}.timeout`,
      message: `call path ${path}: ${waits}, beyond the ${formatDuration(outer.timeoutMs)}${defaulted} ${x} allows for ${y}: the outer timeout cuts the inner calls short while they still work. Raise this timeout to at least ${formatDuration(need)}, or lower ${lower}${attempts > 1 ? " or the attempts" : ""}`,
    });
  }
}

/**
 * The budget cannot bound a tcp call: Envoy has no request to time out on it, so when X's timeout
 * for Y cuts a try, Y's tcp calls (to Z) may still be at work. A warning, since there is nothing
 * to compare; written where X declares the timeout.
 */
function checkTimeoutOverTcp(plan: MeshPlan, { warnings }: RuleResult, { out, prefixTo }: CallGraph): void {
  for (const outer of plan.traffic.edges) {
    if (plan.traffic.routes.get(outer.destination)?.timeoutMs === undefined || outer.source === outer.destination) continue;
    const tcp = (out.get(outer.destination) ?? []).filter((e) => e.protocol === "tcp" && e.destination !== outer.source).map((e) => e.destination);
    if (tcp.length === 0) continue;
    const { source: x, destination: y } = outer;
    warnings.push({
      path: `${outer.path}.timeout`,
      message: `call path ${[...prefixTo(x), y].join(" -> ")} -> ${tcp.join("|")}: ${y} calls ${tcp.join(" and ")} over tcp, which no timeout bounds, so ${x}'s ${formatDuration(outer.timeoutMs!)} may end while ${y} still waits on ${tcp.length === 1 ? "it" : "them"}; bound those calls in ${y} itself (a client timeout), or allow for them in this timeout`,
    });
  }
}

/**
 * The product of attempts along a call path stays within traffic.maxRetryAmplification: each retry
 * layer multiplies the requests the deepest service sees when it fails. Walks simple paths only (no
 * service twice, so a cycle ends the path) and at most MAX_PATH_STEPS steps; a path is reported
 * where its product first passes the bound, and not extended past it.
 */
function checkRetryAmplification(plan: MeshPlan, { errors, warnings }: RuleResult, { out, starts }: CallGraph, handOffs: ReadonlyMap<string, readonly string[]>): void {
  const { edges, maxRetryAmplification: max } = plan.traffic;
  if (!edges.some((e) => e.attempts > 1)) return;
  // A route of a service's router to another service hands a request on without a retry layer of its own.
  type Hop = { readonly to: string; readonly attempts: number; readonly edge?: TrafficEdge };
  const hopsOf = (node: string): Hop[] => [
    ...(out.get(node) ?? []).map((edge) => ({ to: edge.destination, attempts: edge.attempts, edge })),
    ...(handOffs.get(node) ?? []).map((to) => ({ to, attempts: 1 })),
  ];
  const reported = new Set<string>();
  let steps = 0;
  /** `nodes` the services on the path, `shown` the same as printed (a hand-off as "(routed to X)"), `factors` each call's attempts. */
  const walk = (nodes: string[], shown: string, factors: number[], product: number): void => {
    for (const hop of hopsOf(nodes[nodes.length - 1]!)) {
      if (nodes.includes(hop.to)) continue;
      if (++steps > MAX_PATH_STEPS) return;
      const total = product * hop.attempts;
      const next = [...nodes, hop.to];
      const nextShown = hop.edge === undefined ? `${shown} (routed to ${hop.to})` : `${shown} -> ${hop.to}`;
      const nextFactors = hop.edge === undefined ? factors : [...factors, hop.attempts];
      if (total > max && hop.edge !== undefined) {
        if (!reported.has(nextShown)) {
          reported.add(nextShown);
          errors.push({
            path: `${hop.edge.path}.retries.attempts`,
            message: `call path ${nextShown} multiplies attempts to ${total} (${nextFactors.join(" x ")}), over traffic.maxRetryAmplification ${max}: a failure of ${hop.to} becomes ${total} requests; retry at one layer only (usually the outermost), or raise the bound if that load is fine`,
          });
        }
        continue;
      }
      walk(next, nextShown, nextFactors, total);
    }
  };
  for (const start of starts) walk([start], start, [], 1);
  if (steps > MAX_PATH_STEPS)
    warnings.push({
      path: "traffic.maxRetryAmplification",
      message: `the call graph has more paths than the retry-amplification walk takes (${MAX_PATH_STEPS} steps): paths past them were not checked; retry at fewer layers`,
    });
}

/** Failures before the destination saw the request: retrying them never repeats a processed request. */
const UNSENT_FAILURES: readonly string[] = ["connect-failure", "refused-stream"];

function retriesUnsent(policy: RoutePolicy | undefined): boolean {
  return policy !== undefined && policy.statusCodes.length === 0 && policy.on.every((on) => UNSENT_FAILURES.includes(on));
}

/**
 * A retry repeats the request: one that may have taken effect (POST, PATCH, CONNECT) is repeated only on the caller's word.
 * Every route of the destination's router carries the retries, and a route to another service hands
 * the request to that service's intentions, so the methods they let the caller send count too.
 */
function checkIdempotentRetries(plan: MeshPlan, { errors }: RuleResult): void {
  const byName = new Map(plan.services.map((s) => [s.name, s]));
  const unsafeOf = (methods: readonly HttpMethod[]) => methods.filter((m) => !IDEMPOTENT_METHODS.includes(m));
  for (const edge of plan.traffic.edges) {
    if (edge.attempts <= 1 || edge.idempotent || retriesUnsent(plan.traffic.routes.get(edge.destination))) continue;
    const own = unsafeOf(edge.methods);
    const routed = (byName.get(edge.destination)?.routes ?? []).flatMap((route, i) => {
      if (route.service === undefined) return [];
      const methods = unsafeOf(methodsOf(intentionFor(plan.intentions, edge.source, route.service))).filter((m) => route.methods?.includes(m) ?? true);
      const extra = methods.filter((m) => !own.includes(m));
      return extra.length === 0
        ? []
        : [{ methods: extra, via: `${extra.join(", ")} through ${edge.destination}'s routes[${i}] to ${route.service}, whose intentions decide them` }];
    });
    const sent = new Set([...own, ...routed.flatMap((r) => r.methods)]);
    const unsafe = HTTP_METHODS.filter((m) => sent.has(m));
    if (unsafe.length === 0) continue;
    const via = routed.length === 0 ? "" : ` (${routed.map((r) => r.via).join("; ")})`;
    const grpc = edge.protocol === "grpc" ? " (every gRPC call is a POST)" : "";
    errors.push({
      path: `${edge.path}.retries.idempotent`,
      message: `${edge.destination}'s router retries every request up to ${edge.attempts} times, and the intentions let ${edge.source} send ${unsafe.join(", ")}${via}${grpc}: Envoy would repeat a request that may already have taken effect. Allow ${edge.source} only idempotent methods (permissions with methods), or set retries.idempotent: true on this upstream if its requests are safe to repeat`,
    });
  }
}
