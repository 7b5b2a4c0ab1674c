// The Consul servers: a Raft quorum that survives what it should, spread over the zones.
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

export function checkServers(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const { server } = plan;
  if (![1, 3, 5].includes(server.declaredCount)) {
    errors.push({
      path: "consul.servers",
      message: `${server.declaredCount} servers: Raft needs a majority, so ${server.declaredCount % 2 === 0 ? `${server.declaredCount} tolerate no more failures than ${server.declaredCount - 1}` : "more than 5 slow every write"}; use 3 (one failure) or 5 (two), or 1 for a demo`,
    });
  } else if (server.declaredCount === 1) {
    warnings.push({ path: "consul.servers", message: "one Consul server: losing it stops the mesh's control plane until it is back; use 3 or 5 in production" });
  }
  if (server.placement === "fixed" && server.count !== server.declaredCount) {
    errors.push({
      path: "consul.serverPrivateIps",
      message: `lists ${server.count} address(es) for ${server.declaredCount} server(s); give one address per server, or none (Auto Scaling groups found by tag)`,
    });
  }
  const zones = new Set(server.nodes.map((node) => node.zone));
  if (server.count > 1 && zones.size < Math.min(3, server.count)) {
    warnings.push({
      path: "network.zones",
      message: `the ${server.count} servers run in ${zones.size} zone(s): losing one zone loses the quorum; spread them over 3 zones`,
    });
  }
}
