// System 2 beside the mesh: its private DNS namespace and how its tasks reach AWS.
import TLDS from "tlds";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

const PUBLIC_TLDS: ReadonlySet<string> = new Set(TLDS);

export function checkTlsEdge(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const edge = plan.tlsEdge;
  if (!edge) return;
  const tld = edge.namespace.split(".").pop()!;
  if (PUBLIC_TLDS.has(tld)) {
    warnings.push({
      path: "tlsEdge.namespace",
      message: `"${edge.namespace}" ends in the public top-level domain .${tld}: the private zone makes Route 53 answer every ${edge.namespace === tld ? `.${tld}` : edge.namespace} name inside the VPC, so public names there stop resolving; prefer a name under .internal (e.g. ${edge.namespace}.internal)`,
    });
  }
  if (edge.network.from === "mesh" && edge.vpcEndpoints && plan.network.egress === "vpc-endpoints") {
    errors.push({ path: "tlsEdge.vpcEndpoints", message: "the mesh's network already has these VPC endpoints (private DNS allows one per service and VPC); remove vpcEndpoints" });
  }
  if (edge.network.from === "mesh" && edge.assignPublicIp && !plan.network.zones.some((zone) => zone.publicSubnet !== undefined)) {
    errors.push({ path: "tlsEdge.assignPublicIp", message: "the mesh's network has no public subnet for these tasks; add network.zones[].publicSubnet or remove assignPublicIp" });
  }
}
