// Which service may call which: the spec's explicit intentions win; every declared upstream
// is allowed unless the spec says otherwise; everything else is denied (a "*" -> "*" deny,
// on top of ACL default_policy "deny"). An intention with L7 permissions replaces the pair's
// action with Consul's ordered permissions: a request none of them matches falls to that default deny.
import type { IntentionSpec, PermissionSpec } from "../spec/schema";
import type { ConsulIntentionPermission, IntentionSource, MeshConfigEntry, UpstreamPlan } from "./types";

/** A spec permission as Consul's IntentionPermission (api/config_entry_intentions.go): empty fields omitted. */
export function consulPermission(permission: PermissionSpec): ConsulIntentionPermission {
  const header = permission.headers.map((h) => ({
    Name: h.name,
    ...(h.present === undefined ? {} : { Present: true as const }),
    ...(h.exact === undefined ? {} : { Exact: h.exact }),
    ...(h.prefix === undefined ? {} : { Prefix: h.prefix }),
    ...(h.suffix === undefined ? {} : { Suffix: h.suffix }),
    ...(h.regex === undefined ? {} : { Regex: h.regex }),
    ...(h.invert ? { Invert: true as const } : {}),
  }));
  return {
    Action: permission.action,
    HTTP: {
      ...(permission.pathExact === undefined ? {} : { PathExact: permission.pathExact }),
      ...(permission.pathPrefix === undefined ? {} : { PathPrefix: permission.pathPrefix }),
      ...(permission.pathRegex === undefined ? {} : { PathRegex: permission.pathRegex }),
      ...(header.length === 0 ? {} : { Header: header }),
      ...(permission.methods === undefined ? {} : { Methods: permission.methods }),
    },
  };
}

/** Sources per destination service, both sorted by name, ready for one service-intentions entry each. */
export function resolveIntentions(
  services: readonly { readonly name: string; readonly upstreams: readonly UpstreamPlan[] }[],
  intentions: readonly IntentionSpec[],
): Map<string, IntentionSource[]> {
  const byPair = new Map<string, { destination: string } & IntentionSource>();
  for (const service of services) {
    for (const upstream of service.upstreams) {
      byPair.set(`${service.name}>${upstream.destination}`, {
        destination: upstream.destination,
        name: service.name,
        action: "allow",
        origin: "upstream",
        reason: `upstream of ${service.name}`,
      });
    }
  }
  intentions.forEach((intention, i) => {
    const permissions = intention.permissions?.map(consulPermission);
    byPair.set(`${intention.source}>${intention.destination}`, {
      destination: intention.destination,
      name: intention.source,
      action: permissions ? (permissions.some((p) => p.Action === "allow") ? "allow" : "deny") : intention.action!,
      origin: "spec",
      reason: `intentions[${i}] of the spec`,
      ...(permissions ? { permissions } : {}),
    });
  });
  const result = new Map<string, IntentionSource[]>();
  for (const { destination, ...source } of byPair.values()) {
    result.set(destination, [...(result.get(destination) ?? []), source]);
  }
  result.set("*", [{ name: "*", action: "deny", origin: "default", reason: "default: deny what is not allowed" }]);
  return new Map([...result.keys()].sort().map((destination) => [destination, result.get(destination)!.sort((a, b) => a.name.localeCompare(b.name))]));
}

/** A permission that matches on the request path: only a normalized path makes its match hold. */
export function testsPath(permission: ConsulIntentionPermission): boolean {
  return permission.HTTP.PathExact !== undefined || permission.HTTP.PathPrefix !== undefined || permission.HTTP.PathRegex !== undefined;
}

/**
 * Consul's default request normalization keeps "//" and escaped slashes (MergeSlashes false,
 * PathWithEscapedSlashesAction IMPLEMENTATION_SPECIFIC_DEFAULT), so "//admin" or "/%2Fadmin" walk past a
 * deny on PathPrefix "/admin"; Consul's reference recommends normalization with path rules. The mesh
 * entry is global (every proxy's inbound HTTP listener): written only when a permission tests a path.
 */
export function meshEntryOf(intentions: ReadonlyMap<string, readonly IntentionSource[]>): MeshConfigEntry | undefined {
  const paths = [...intentions.values()].some((sources) => sources.some((s) => s.permissions?.some(testsPath)));
  if (!paths) return undefined;
  return {
    Kind: "mesh",
    Name: "mesh",
    HTTP: { Incoming: { RequestNormalization: { InsecureDisablePathNormalization: false, MergeSlashes: true, PathWithEscapedSlashesAction: "REJECT_REQUEST" } } },
  };
}
