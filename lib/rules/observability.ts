// Rules on the observability plan (spec observability) that read more than one section of the spec.
import type { RuleResult } from "../issues";
import type { MeshPlan } from "../plan/types";

/**
 * An existing Prometheus workspace must be in the mesh's region: the collectors sign remote writes for
 * the mesh's region, and the aps-workspaces VPC endpoint the mesh creates for private subnets without
 * NAT reaches only its own region's workspaces.
 *
 * Traces come only from an HTTP connection manager: a mesh of tcp services and no TLS edge (whose
 * Envoy always speaks HTTP) runs a collector per task and the tracer for nothing.
 */
export function checkObservability(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const prometheus = plan.observability?.prometheus;
  if (prometheus?.workspace === "existing" && prometheus.region !== plan.region) {
    errors.push({
      path: "observability.metrics.prometheus.workspace",
      message: `the workspace is in ${prometheus.region}, the mesh in ${plan.region}: give a workspace in ${plan.region}, or workspace: create`,
    });
  }
  const traced = plan.traffic.entries.proxyDefaults?.Config?.envoy_listener_tracing_json !== undefined;
  if (traced && !plan.tlsEdge && plan.services.every((s) => s.protocol === "tcp")) {
    warnings.push({
      path: "observability.traces.enabled",
      message: `no proxy makes a span: every service is tcp (no HTTP connection manager) and there is no tlsEdge; set services.<name>.protocol to http, http2 or grpc on the services that speak it (${plan.services.map((s) => s.path).join(", ")}), or turn traces off`,
    });
  }
}
