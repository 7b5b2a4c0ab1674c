// The network: zones with a private subnet (hosts, servers, tasks) and a small public subnet
// (NAT gateways); how the private subnets reach AWS and the internet; which VPC endpoints exist.
import { contains, parseCidr, parseIp } from "../cidr";
import type { MeshSpec } from "../spec/schema";
import type { AwsApi, NetworkPlan, ZonePlan } from "./types";

/**
 * The zone of a fixed instance address: the zone whose subnet holds it, among the subnets the
 * instances run in (public ones when publicInstances is set). Undefined when none does (the
 * network rules report that).
 */
export function zoneOfAddress(
  network: { readonly zones: readonly { readonly privateSubnet: string; readonly publicSubnet?: string }[]; readonly publicInstances: boolean },
  ip: string,
): number | undefined {
  const address = parseIp(ip);
  const index = network.zones.findIndex((zone) => {
    const cidr = network.publicInstances ? zone.publicSubnet : zone.privateSubnet;
    return cidr !== undefined && contains(parseCidr(cidr), address);
  });
  return index < 0 ? undefined : index;
}

/**
 * The network; `calledApis` are the interface APIs the mesh calls (lib/plan/aws-apis.ts), which
 * replace the internet through VPC endpoints when egress is vpc-endpoints. S3 is a gateway
 * endpoint and always exists (ECR layers, AL2023 packages).
 */
export function planNetwork(spec: MeshSpec, calledApis: readonly AwsApi[]): NetworkPlan {
  const { network } = spec;
  const zones: ZonePlan[] = network.zones.map((zone, index) => ({ index, ...zone, ...natZoneOf(network.egress, index) }));
  return {
    ...network,
    zones,
    interfaceEndpoints: network.egress === "vpc-endpoints" ? [...calledApis].sort() : [],
  };
}

function natZoneOf(egress: MeshSpec["network"]["egress"], zone: number): { natZone?: number } {
  if (egress === "nat-gateway") return { natZone: 0 };
  if (egress === "nat-gateway-per-zone") return { natZone: zone };
  return {};
}
