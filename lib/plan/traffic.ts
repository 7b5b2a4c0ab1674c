// L7 traffic management, decided once: each call edge's effective timeout, retries and allowed
// methods, and the Consul config entries that implement them (the intentions stack applies them).
// The mapping (read for Consul 2.0.1; see the comment above upstreamSchema in lib/spec/schema.ts):
//   - service-defaults <service>: its Protocol, and the limits it puts on each of its upstreams
//     (UpstreamConfig.Overrides). Only for a service that is not tcp or that limits an upstream, so a
//     tcp mesh without L7 fields gets no new entry.
//   - service-router <destination>: one catch-all route (PathPrefix "/") whose Destination carries
//     RequestTimeout and the retries. Consul applies a destination's router to every caller, so the
//     callers' declarations must agree: the first declaration (services by name, upstreams in order)
//     is the plan's, and every other that differs is a conflict the traffic rule reports.
//   - Versions (a canary): service-resolver <service> with one subset per version, filtered on the
//     `version` its instances carry in their service meta (the agent's registration and consul-ecs
//     write it), the default version (the first by name) its DefaultSubset; service-splitter <service> with the
//     spec's split; the spec's routes first in the service's one router, each to a subset or another
//     service and with the timeout and retries above, then the catch-all route. Consul walks
//     router -> splitter -> resolver: a request no route matches is split, else goes to the default subset.
import { DURATION, HTTP_METHODS, type HttpMethod, type RouteSpec } from "../spec/schema";
import { consulPermission } from "./intentions";
import type {
  ConsulIntentionPermission,
  ConsulUpstreamLimits,
  IntentionSource,
  RouteConflict,
  RoutePolicy,
  ServiceDefaultsEntry,
  ServicePlan,
  ServiceResolverEntry,
  ServiceRoute,
  ServiceRouterEntry,
  ServiceSplitterEntry,
  TrafficEdge,
  TrafficPlan,
  UpstreamPlan,
} from "./types";

/**
 * What Envoy gives a request on an L7 route without a timeout: Consul's service-resolver
 * RequestTimeout default (the service-resolver reference: "If unspecified, defaults to 15 seconds").
 */
export const CONSUL_DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** Methods a retry may repeat without changing the outcome (RFC 9110 9.2.2): the rest need the caller's word. */
export const IDEMPOTENT_METHODS: readonly HttpMethod[] = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"];

/** Milliseconds of a spec duration ("500ms", "5s", "2m"). */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as "ms" | "s" | "m"];
}

/** A duration as Consul writes it back (Go's time.Duration String form for whole seconds or milliseconds). */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The upstream asks the destination's router for something: a timeout or retries. */
function declaresRoute(upstream: UpstreamPlan): boolean {
  return upstream.timeout !== undefined || upstream.retries.attempts > 1;
}

function policyOf(upstream: UpstreamPlan, declaredAt: string): RoutePolicy {
  return {
    ...(upstream.timeout === undefined ? {} : { timeoutMs: durationMs(upstream.timeout) }),
    attempts: upstream.retries.attempts,
    on: [...new Set(upstream.retries.on)].sort(),
    statusCodes: [...new Set(upstream.retries.statusCodes)].sort((a, b) => a - b),
    declaredAt,
  };
}

function samePolicy(a: RoutePolicy, b: RoutePolicy): boolean {
  return a.timeoutMs === b.timeoutMs && a.attempts === b.attempts && a.on.join() === b.on.join() && a.statusCodes.join() === b.statusCodes.join();
}

/** The source Consul matches for a caller: its own entry, else the destination's "*" entry (Consul's precedence). */
export function intentionFor(intentions: ReadonlyMap<string, readonly IntentionSource[]>, source: string, destination: string): IntentionSource | undefined {
  const sources = intentions.get(destination) ?? [];
  return sources.find((s) => s.name === source) ?? sources.find((s) => s.name === "*");
}

/**
 * Consul decides by the first matching permission: an allow is dead when an earlier deny without
 * header tests matches every request it does (the deny's methods include the allow's, and the deny's
 * path covers the allow's). Path regexes are not compared: such an allow counts.
 */
function deniedEarlier(allow: ConsulIntentionPermission, earlier: readonly ConsulIntentionPermission[]): boolean {
  const path = allow.HTTP.PathExact ?? allow.HTTP.PathPrefix;
  return earlier.some(({ Action, HTTP: deny }) => {
    if (Action !== "deny" || deny.Header !== undefined) return false;
    const methods = deny.Methods === undefined || allow.HTTP.Methods?.every((m) => deny.Methods!.includes(m)) === true;
    const covers =
      deny.PathRegex === undefined &&
      (deny.PathExact === undefined
        ? deny.PathPrefix === undefined || deny.PathPrefix === "/" || path?.startsWith(deny.PathPrefix) === true
        : allow.HTTP.PathExact === deny.PathExact);
    return methods && covers;
  });
}

function methodsOf(source: IntentionSource | undefined): readonly HttpMethod[] {
  if (source === undefined) return [];
  if (!source.permissions) return source.action === "allow" ? HTTP_METHODS : [];
  const allowed = new Set<HttpMethod>();
  source.permissions.forEach((p, k) => {
    if (p.Action === "allow" && !deniedEarlier(p, source.permissions!.slice(0, k))) for (const m of p.HTTP.Methods ?? HTTP_METHODS) allowed.add(m);
  });
  return HTTP_METHODS.filter((m) => allowed.has(m));
}

function allowedOf(source: IntentionSource | undefined): string {
  if (source === undefined) return "-";
  if (!source.permissions) return source.action === "allow" ? "*" : "-";
  return source.permissions
    .map((p) => {
      const path =
        p.HTTP.PathExact ?? (p.HTTP.PathPrefix === undefined ? undefined : `${p.HTTP.PathPrefix}*`) ?? (p.HTTP.PathRegex === undefined ? undefined : `~${p.HTTP.PathRegex}`);
      const headers = (p.HTTP.Header ?? []).map((h) => `[${h.Name}]`).join("");
      return `${p.Action} ${(p.HTTP.Methods ?? ["*"]).join(",")} ${path ?? "/*"}${headers}`;
    })
    .join("; ");
}

function limitsOf(upstream: UpstreamPlan): ConsulUpstreamLimits | undefined {
  const { maxConnections, maxPendingRequests, maxConcurrentRequests } = upstream.limits;
  const limits = {
    ...(maxConnections === undefined ? {} : { MaxConnections: maxConnections }),
    ...(maxPendingRequests === undefined ? {} : { MaxPendingRequests: maxPendingRequests }),
    ...(maxConcurrentRequests === undefined ? {} : { MaxConcurrentRequests: maxConcurrentRequests }),
  };
  return Object.keys(limits).length === 0 ? undefined : limits;
}

/** What every route of a destination's router does to a request: its callers' timeout and retries. */
function policyDestination(policy: RoutePolicy | undefined): ServiceRoute["Destination"] {
  if (policy === undefined) return {};
  return {
    ...(policy.timeoutMs === undefined ? {} : { RequestTimeout: formatDuration(policy.timeoutMs) }),
    ...(policy.attempts > 1 ? { NumRetries: policy.attempts - 1 } : {}),
    ...(policy.attempts > 1 && policy.on.length > 0 ? { RetryOn: policy.on } : {}),
    ...(policy.attempts > 1 && policy.statusCodes.length > 0 ? { RetryOnStatusCodes: policy.statusCodes } : {}),
  };
}

/** A spec route as Consul's ServiceRoute: its match (the permission's HTTP fields) and where it goes. */
function consulRoute(route: RouteSpec, policy: RoutePolicy | undefined): ServiceRoute {
  const { HTTP } = consulPermission({
    action: "allow",
    headers: route.headers,
    ...(route.pathExact === undefined ? {} : { pathExact: route.pathExact }),
    ...(route.pathPrefix === undefined ? {} : { pathPrefix: route.pathPrefix }),
    ...(route.methods === undefined ? {} : { methods: route.methods }),
  });
  return {
    Match: { HTTP },
    Destination: {
      ...(route.service === undefined ? {} : { Service: route.service }),
      ...(route.version === undefined ? {} : { ServiceSubset: route.version }),
      ...policyDestination(policy),
    },
  };
}

/** The destination's one router: the spec's routes in order, then the catch-all route of its callers' policy. */
function routerOf(destination: string, routes: readonly RouteSpec[], policy: RoutePolicy | undefined): ServiceRouterEntry {
  return {
    Kind: "service-router",
    Name: destination,
    Routes: [
      ...routes.map((route) => consulRoute(route, policy)),
      ...(policy === undefined ? [] : [{ Match: { HTTP: { PathPrefix: "/" } }, Destination: policyDestination(policy) }]),
    ],
  };
}

/** The bexpr filter that selects a version's instances (the service-resolver reference: Service.Meta.<key> == <value>). */
export function versionFilter(version: string): string {
  // Quoted: bexpr reads a bare value as a selector or number, and a version may look like neither.
  return `Service.Meta.version == ${JSON.stringify(version)}`;
}

function resolverOf(service: ServicePlan): ServiceResolverEntry {
  const versions = service.versions.map((v) => v.version!);
  return {
    Kind: "service-resolver",
    Name: service.name,
    DefaultSubset: service.defaultVersion!,
    Subsets: Object.fromEntries(versions.map((version) => [version, { Filter: versionFilter(version) }])),
  };
}

function splitterOf(service: ServicePlan, split: Readonly<Record<string, number>>): ServiceSplitterEntry {
  return {
    Kind: "service-splitter",
    Name: service.name,
    // A version at 0 % stays out: the resolver still has its subset for routes.
    Splits: Object.keys(split)
      .sort()
      .filter((version) => split[version]! > 0)
      .map((version) => ({ Weight: split[version]!, ServiceSubset: version })),
  };
}

/** The traffic plan of services sorted by name, with the resolved intentions. */
export function planTraffic(services: readonly ServicePlan[], intentions: ReadonlyMap<string, readonly IntentionSource[]>, maxRetryAmplification: number): TrafficPlan {
  const protocolOf = new Map(services.map((s) => [s.name, s.protocol]));
  const routes = new Map<string, RoutePolicy>();
  const conflicts: RouteConflict[] = [];
  for (const service of services) {
    service.upstreams.forEach((upstream, i) => {
      if (!declaresRoute(upstream)) return;
      const policy = policyOf(upstream, `${service.path}.upstreams[${i}]`);
      const taken = routes.get(upstream.destination);
      if (taken === undefined) routes.set(upstream.destination, policy);
      else if (!samePolicy(taken, policy)) conflicts.push({ destination: upstream.destination, path: policy.declaredAt, policy, taken });
    });
  }

  const edges: TrafficEdge[] = [];
  for (const service of services) {
    service.upstreams.forEach((upstream, i) => {
      const protocol = protocolOf.get(upstream.destination) ?? "tcp";
      const route = routes.get(upstream.destination);
      const source = intentionFor(intentions, service.name, upstream.destination);
      const timeoutMs = protocol === "tcp" ? undefined : (route?.timeoutMs ?? CONSUL_DEFAULT_REQUEST_TIMEOUT_MS);
      edges.push({
        source: service.name,
        destination: upstream.destination,
        path: `${service.path}.upstreams[${i}]`,
        protocol,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        attempts: route?.attempts ?? 1,
        idempotent: upstream.retries.idempotent,
        methods: methodsOf(source),
        allowed: allowedOf(source),
      });
    });
  }
  edges.sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination) || a.path.localeCompare(b.path));

  const defaults: ServiceDefaultsEntry[] = [];
  for (const service of services) {
    const overrides = service.upstreams
      .map((u) => ({ Name: u.destination, Limits: limitsOf(u) }))
      .filter((o): o is { Name: string; Limits: ConsulUpstreamLimits } => o.Limits !== undefined)
      .sort((a, b) => a.Name.localeCompare(b.Name));
    if (service.protocol === "tcp" && overrides.length === 0) continue;
    defaults.push({ Kind: "service-defaults", Name: service.name, Protocol: service.protocol, ...(overrides.length === 0 ? {} : { UpstreamConfig: { Overrides: overrides } }) });
  }
  const resolvers = services.filter((s) => s.versions.length > 0).map(resolverOf);
  const splitters = services.flatMap((s) => (s.split === undefined ? [] : [splitterOf(s, s.split)]));
  const specRoutes = new Map(services.filter((s) => s.routes.length > 0).map((s) => [s.name, s.routes]));
  const routers = [...new Set([...routes.keys(), ...specRoutes.keys()])]
    .sort()
    .map((destination) => routerOf(destination, specRoutes.get(destination) ?? [], routes.get(destination)));

  return {
    maxRetryAmplification,
    edges,
    routes,
    conflicts,
    entries: { serviceDefaults: defaults, serviceResolvers: resolvers, serviceSplitters: splitters, serviceRouters: routers },
  };
}
