import { Construct } from "constructs";
import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import { testsPath } from "../plan/intentions";
import type { IntentionSource, MeshConfigEntry } from "../plan/types";

export interface MeshIntentionsProps {
  /** Sources per destination, as the plan resolved them. */
  readonly intentions: ReadonlyMap<string, readonly IntentionSource[]>;
  /**
   * The service-defaults entry of each destination (its protocol): an entry with L7 permissions is
   * written after it. Consul accepts permissions on a service it does not know speaks HTTP, but its
   * Envoy then treats such an intention as deny (agent/xds/rbac.go), so the protocol comes first.
   * @default none
   */
  readonly serviceDefaults?: ReadonlyMap<string, ConfigEntry>;
  /**
   * The mesh entry that normalizes request paths (the plan's meshEntry): written before the
   * intentions whose permissions test a path, so no deny on a path holds without it.
   * @default none
   */
  readonly meshEntry?: MeshConfigEntry;
}

/**
 * Intentions as code: one `service-intentions` config entry per destination service, applied
 * with the Consul provider. The original demo set them by hand in the UI.
 */
export class MeshIntentions extends Construct {
  public readonly entries: ReadonlyMap<string, ConfigEntry>;
  /** The global mesh entry (request normalization), when the props give one. */
  public readonly meshEntry?: ConfigEntry;

  constructor(scope: Construct, id: string, props: MeshIntentionsProps) {
    super(scope, id);
    if (props.meshEntry) {
      const { Kind, Name, ...config } = props.meshEntry;
      this.meshEntry = new ConfigEntry(this, "request_normalization", { kind: Kind, name: Name, configJson: JSON.stringify(config) });
    }
    const meshEntry = this.meshEntry;
    this.entries = new Map(
      [...props.intentions].map(([destination, sources]) => [
        destination,
        new ConfigEntry(this, destination === "*" ? "default_deny" : destination, {
          kind: "service-intentions",
          name: destination,
          configJson: JSON.stringify({
            // With permissions, Consul takes them instead of an action (a source has one or the other).
            Sources: sources.map((s) => ({ Name: s.name, ...(s.permissions ? { Permissions: s.permissions } : { Action: s.action }), Description: s.reason })),
          }),
          ...dependsOn([
            ...dependsOnDefaults(destination, sources, props.serviceDefaults),
            ...(meshEntry && sources.some((s) => s.permissions?.some(testsPath)) ? [meshEntry] : []),
          ]),
        }),
      ]),
    );
  }
}

function dependsOn(entries: ConfigEntry[]): { dependsOn?: ConfigEntry[] } {
  return entries.length === 0 ? {} : { dependsOn: entries };
}

function dependsOnDefaults(destination: string, sources: readonly IntentionSource[], serviceDefaults: ReadonlyMap<string, ConfigEntry> | undefined): ConfigEntry[] {
  const defaults = serviceDefaults?.get(destination);
  return defaults && sources.some((s) => s.permissions) ? [defaults] : [];
}
