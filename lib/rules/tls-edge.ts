// System 2 beside the mesh: its private DNS namespace and how its tasks reach AWS.
import TLDS from "tlds";
import { parseCidr } from "../cidr";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";
import { blockProblems } from "./network";

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
  // Fargate gives the task exactly its memory: the containers' reservations (the collector's with metrics) must fit.
  const reserved = edge.task.containers.reduce((sum, c) => sum + (c.memory ?? c.memoryReservation ?? 0), 0);
  if (reserved > edge.memory) {
    errors.push({
      path: "tlsEdge.memory",
      message: `the task's containers reserve ${reserved} MiB (${edge.task.containers.map((c) => `${c.name} ${c.memory ?? c.memoryReservation ?? 0}`).join(", ")}) but the task has ${edge.memory} MiB; raise memory`,
    });
  }
  const ownEndpoints = edge.interfaceEndpoints.length > 0;
  if (edge.assignPublicIp && ownEndpoints) {
    errors.push({
      path: "tlsEdge.assignPublicIp",
      message: "the tasks reach AWS through the VPC endpoints of vpcEndpoints, so a public IP only adds exposure; set assignPublicIp: false, or remove vpcEndpoints",
    });
  }
  if (edge.network.from === "mesh") {
    if (ownEndpoints && !edge.assignPublicIp) {
      errors.push({
        path: "tlsEdge.vpcEndpoints",
        message:
          "the mesh's network already reaches AWS (its NAT gateway or its own VPC endpoints), and its private route tables carry its S3 gateway endpoint, which a second one cannot share " +
          "(one endpoint route per service and route table; with private DNS, one interface endpoint per service and VPC); remove vpcEndpoints (they are for an existing VPC without a NAT gateway)",
      });
    }
    if (edge.assignPublicIp && !plan.network.zones.some((zone) => zone.publicSubnet !== undefined)) {
      errors.push({
        path: "tlsEdge.assignPublicIp",
        message: "the mesh's network has no public subnet for these tasks; add network.zones[].publicSubnet or remove assignPublicIp",
      });
    }
    return;
  }
  // The same checks as the mesh's VPC: its CIDR goes into security group rules as written.
  for (const problem of edge.network.vpcCidr === undefined ? [] : blockProblems(parseCidr(edge.network.vpcCidr))) {
    errors.push({ path: "tlsEdge.network.vpcCidr", message: `${problem}; give the VPC's CIDR: the endpoints and, without allowedCidrs, port 443 admit it` });
  }
}
