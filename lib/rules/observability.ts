// Rules on the observability plan (spec observability) that read more than one section of the spec.
import type { RuleResult } from "../issues";
import type { MeshPlan } from "../plan/types";

/**
 * An existing Prometheus workspace must be in the mesh's region: the collectors sign remote writes for
 * the mesh's region, and the aps-workspaces VPC endpoint the mesh creates for private subnets without
 * NAT reaches only its own region's workspaces.
 */
export function checkObservability(plan: MeshPlan, { errors }: RuleResult): void {
  const prometheus = plan.observability?.prometheus;
  if (prometheus?.workspace === "existing" && prometheus.region !== plan.region) {
    errors.push({
      path: "observability.metrics.prometheus.workspace",
      message: `the workspace is in ${prometheus.region}, the mesh in ${plan.region}: give a workspace in ${plan.region}, or workspace: create`,
    });
  }
}
