// Golden signals (spec observability): which services the metrics cover.
import type { RuleResult } from "../issues";
import type { MeshPlan } from "../plan/types";

/** Metrics cover agent tasks only: a dataplane service's proxy ships none yet, and the dashboard and alarms leave it out. */
export function checkObservability(plan: MeshPlan, { warnings }: RuleResult): void {
  if (!plan.observability) return;
  for (const service of plan.services.filter((s) => s.architecture === "dataplane")) {
    warnings.push({
      path: `${service.path}.architecture`,
      message:
        "observability.metrics covers agent tasks only: this dataplane service's proxy ships no metrics, and the dashboard and alarms leave it out (consul-dataplane's stats listener needs -telemetry-use-central-config and envoy_prometheus_bind_addr, not built yet)",
    });
  }
}
