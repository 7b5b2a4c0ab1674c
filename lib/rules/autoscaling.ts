// Autoscaling (spec services.<name>.autoscaling): a count the scaler accepts, and a requestsPerTask
// target only where the service's own proxies report requests. What the tasks need at maxCount is
// the capacity, network, rollout and image rules' (they count an autoscaled service at its maxCount).
import type { RuleResult } from "../issues";
import { ecsServicesOf } from "../plan/names";
import { reportsRequests } from "../plan/observability";
import type { MeshPlan } from "../plan/types";

export function checkAutoscaling(plan: MeshPlan, { errors }: RuleResult): void {
  for (const service of plan.services) {
    const scaling = service.autoscaling;
    if (!scaling) continue;
    const path = `${service.path}.autoscaling`;
    for (const unit of ecsServicesOf(service)) {
      if (unit.count < scaling.minCount || unit.count > scaling.maxCount) {
        errors.push({
          path: unit.version === undefined ? `${service.path}.count` : `${service.path}.versions.${unit.version}.count`,
          message: `${unit.count} is outside autoscaling's ${scaling.minCount}..${scaling.maxCount}: the service would start at it and the scaler move it at once; set a count from minCount to maxCount`,
        });
      }
    }
    if (scaling.requestsPerTask === undefined) continue;
    const target = `${path}.requestsPerTask`;
    if (!reportsRequests(service.protocol)) {
      errors.push({
        path: target,
        message: `a ${service.protocol} service's proxy counts connections, not requests: set the service's protocol to http, http2 or grpc if it speaks one, or scale on cpuPercent`,
      });
    } else if (!plan.observability) {
      errors.push({ path: target, message: "reads the request counts the proxies' metrics ship: set observability.metrics.enabled: true, or scale on cpuPercent" });
    }
    // The requests are counted by the service's own proxies: with no task running nothing reports any, and it never scales out.
    if (scaling.minCount === 0) {
      errors.push({
        path: `${path}.minCount`,
        message:
          "0 with requestsPerTask: the requests are counted by the service's own tasks, so at 0 tasks nothing reports a request and it never scales out again; set minCount: 1 or more",
      });
    }
  }
}
