// Which service may call which: the spec's explicit intentions win; every declared upstream
// is allowed unless the spec says otherwise; everything else is denied (a "*" -> "*" deny,
// on top of ACL default_policy "deny").
import type { IntentionSpec } from "../spec/schema";
import type { IntentionSource, UpstreamPlan } from "./types";

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
    byPair.set(`${intention.source}>${intention.destination}`, {
      destination: intention.destination,
      name: intention.source,
      action: intention.action,
      origin: "spec",
      reason: `intentions[${i}] of the spec`,
    });
  });
  const result = new Map<string, IntentionSource[]>();
  for (const { destination, ...source } of byPair.values()) {
    result.set(destination, [...(result.get(destination) ?? []), source]);
  }
  result.set("*", [{ name: "*", action: "deny", origin: "default", reason: "default: deny what is not allowed" }]);
  return new Map([...result.keys()].sort().map((destination) => [destination, result.get(destination)!.sort((a, b) => a.name.localeCompare(b.name))]));
}
