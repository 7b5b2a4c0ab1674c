// Which service may call which: the spec's explicit intentions win; every declared upstream
// is allowed unless the spec says otherwise; everything else is denied (a "*" -> "*" deny,
// on top of ACL default_policy "deny").
import type { MeshSpec } from "./spec/schema";

export type IntentionAction = "allow" | "deny";

export interface IntentionSource {
  readonly name: string;
  readonly action: IntentionAction;
  /** Why this source is here: the spec line or the upstream it comes from. */
  readonly reason: string;
}

/** Sources per destination service, both sorted by name, ready for one service-intentions entry each. */
export function resolveIntentions(spec: MeshSpec): Map<string, IntentionSource[]> {
  const byPair = new Map<string, { source: string; destination: string } & IntentionSource>();
  for (const [name, service] of Object.entries(spec.services)) {
    for (const upstream of service.upstreams) {
      byPair.set(`${name}>${upstream.destination}`, {
        source: name,
        destination: upstream.destination,
        name,
        action: "allow",
        reason: `upstream of ${name}`,
      });
    }
  }
  spec.intentions.forEach((intention, i) => {
    byPair.set(`${intention.source}>${intention.destination}`, {
      source: intention.source,
      destination: intention.destination,
      name: intention.source,
      action: intention.action,
      reason: `intentions[${i}] of the spec`,
    });
  });
  const result = new Map<string, IntentionSource[]>();
  for (const { destination, name, action, reason } of byPair.values()) {
    result.set(destination, [...(result.get(destination) ?? []), { name, action, reason }]);
  }
  result.set("*", [{ name: "*", action: "deny", reason: "default: deny what is not allowed" }]);
  return new Map(
    [...result.keys()].sort().map((destination) => [destination, result.get(destination)!.sort((a, b) => a.name.localeCompare(b.name))]),
  );
}
