// The spec's versions against HashiCorp's compatibility tables (lib/versions.ts): every
// component a task runs must be listed for the servers' Consul line.
import { COMPATIBILITY, minorOf } from "../versions";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "./index";

export function checkVersions(plan: MeshPlan, { errors }: RuleResult): void {
  const { versions } = plan;
  const line = minorOf(versions.consul);
  const row = COMPATIBILITY[line];
  if (!row) {
    errors.push({
      path: "versions.consul",
      message: `Consul ${versions.consul}: no compatibility row for ${line} in lib/versions.ts; use one of ${Object.keys(COMPATIBILITY).join(", ")}`,
    });
    return;
  }
  const uses = (kind: "agent" | "dataplane") => plan.services.some((s) => s.architecture === kind) || (kind === "agent" && plan.tlsEdge !== undefined);
  const check = (field: "consulEcs" | "consulDataplane" | "envoy", table: string, used: boolean) => {
    if (!used) return;
    const version = versions[field];
    if (!row[field].includes(minorOf(version))) {
      errors.push({
        path: `versions.${field}`,
        message: `${version} is not in HashiCorp's ${table} table for Consul ${line}.x (it lists ${row[field].map((v) => `${v}.x`).join(", ")}); pick one of those`,
      });
    }
  };
  check("envoy", "Envoy and Consul client agent", uses("agent"));
  check("consulEcs", "Consul on ECS", uses("dataplane"));
  check("consulDataplane", "Envoy and Consul Dataplane", uses("dataplane"));
}
