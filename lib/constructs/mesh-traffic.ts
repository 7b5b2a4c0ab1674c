import { Construct } from "constructs";
import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import type { ServiceDefaultsEntry, ServiceRouterEntry, TrafficConfigEntry } from "../plan/types";

export interface MeshTrafficProps {
  /** The service-defaults and service-router entries, as the plan decided them (lib/plan/traffic.ts). */
  readonly entries: readonly TrafficConfigEntry[];
}

/**
 * L7 traffic management as code: a `service-defaults` entry per service that speaks an L7
 * protocol or limits an upstream, and a `service-router` per destination with a timeout or
 * retries, applied with the Consul provider. A router needs its service's L7 protocol, which
 * Consul checks when the router is written: each router waits for its service-defaults.
 */
export class MeshTraffic extends Construct {
  /** service-defaults entries by service name. */
  public readonly serviceDefaults: ReadonlyMap<string, ConfigEntry>;
  /** service-router entries by destination name. */
  public readonly serviceRouters: ReadonlyMap<string, ConfigEntry>;

  constructor(scope: Construct, id: string, props: MeshTrafficProps) {
    super(scope, id);
    const defaults = props.entries.filter((e): e is ServiceDefaultsEntry => e.Kind === "service-defaults");
    const routers = props.entries.filter((e): e is ServiceRouterEntry => e.Kind === "service-router");
    this.serviceDefaults = new Map(defaults.map((entry) => [entry.Name, this.entry(`defaults_${entry.Name}`, entry)]));
    this.serviceRouters = new Map(
      routers.map((entry) => {
        const defaultsOfService = this.serviceDefaults.get(entry.Name);
        return [entry.Name, this.entry(`router_${entry.Name}`, entry, defaultsOfService ? [defaultsOfService] : [])];
      }),
    );
  }

  private entry(id: string, { Kind, Name, ...config }: TrafficConfigEntry, dependsOn: readonly ConfigEntry[] = []): ConfigEntry {
    return new ConfigEntry(this, id, { kind: Kind, name: Name, configJson: JSON.stringify(config), ...(dependsOn.length === 0 ? {} : { dependsOn: [...dependsOn] }) });
  }
}
