import { Construct } from "constructs";
import { ConfigEntry } from "@cdktf/provider-consul/lib/config-entry";
import type { TrafficConfigEntry, TrafficEntries } from "../plan/types";

export interface MeshTrafficProps {
  /** The service-defaults, service-resolver, service-splitter and service-router entries, as the plan decided them (lib/plan/traffic.ts). */
  readonly entries: TrafficEntries;
}

/**
 * L7 traffic management as code: a `service-defaults` entry per service that speaks an L7
 * protocol or limits an upstream, a `service-resolver` (one subset per version) and a
 * `service-splitter` per service with versions and a split, and a `service-router` per destination
 * with routes, a timeout or retries, applied with the Consul provider. Consul checks the discovery
 * chain when an entry is written: a splitter or router needs its service's L7 protocol, a split or
 * route to a version needs the resolver's subset, and a route to another service that one's
 * protocol. So each entry waits for the ones it names.
 */
export class MeshTraffic extends Construct {
  /** service-defaults entries by service name. */
  public readonly serviceDefaults: ReadonlyMap<string, ConfigEntry>;
  /** service-resolver entries by service name (services with versions). */
  public readonly serviceResolvers: ReadonlyMap<string, ConfigEntry>;
  /** service-splitter entries by service name (services with a split). */
  public readonly serviceSplitters: ReadonlyMap<string, ConfigEntry>;
  /** service-router entries by destination name. */
  public readonly serviceRouters: ReadonlyMap<string, ConfigEntry>;

  constructor(scope: Construct, id: string, props: MeshTrafficProps) {
    super(scope, id);
    const { serviceDefaults: defaults, serviceResolvers: resolvers, serviceSplitters: splitters, serviceRouters: routers } = props.entries;
    this.serviceDefaults = new Map(defaults.map((entry) => [entry.Name, this.entry(`defaults_${entry.Name}`, entry)]));
    const found = <T>(map: ReadonlyMap<string, T>, names: readonly string[]): T[] => names.flatMap((name) => (map.has(name) ? [map.get(name)!] : []));
    this.serviceResolvers = new Map(resolvers.map((entry) => [entry.Name, this.entry(`resolver_${entry.Name}`, entry, found(this.serviceDefaults, [entry.Name]))]));
    this.serviceSplitters = new Map(
      splitters.map((entry) => [
        entry.Name,
        this.entry(`splitter_${entry.Name}`, entry, [...found(this.serviceDefaults, [entry.Name]), ...found(this.serviceResolvers, [entry.Name])]),
      ]),
    );
    this.serviceRouters = new Map(
      routers.map((entry) => {
        // The router's own service, then every other service its routes send to, each once.
        const named = [...new Set([entry.Name, ...entry.Routes.flatMap((route) => (route.Destination.Service === undefined ? [] : [route.Destination.Service]))])];
        const dependsOn = [...found(this.serviceDefaults, named), ...found(this.serviceResolvers, named), ...found(this.serviceSplitters, named)];
        return [entry.Name, this.entry(`router_${entry.Name}`, entry, dependsOn)];
      }),
    );
  }

  private entry(id: string, { Kind, Name, ...config }: TrafficConfigEntry, dependsOn: readonly ConfigEntry[] = []): ConfigEntry {
    return new ConfigEntry(this, id, { kind: Kind, name: Name, configJson: JSON.stringify(config), ...(dependsOn.length === 0 ? {} : { dependsOn: [...dependsOn] }) });
  }
}
