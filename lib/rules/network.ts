// The VPC, its zones and subnets, the fixed addresses of the servers and hosts, and whether each
// part of the mesh has a way out: a NAT gateway, a public IP, or the VPC endpoint it needs.
import { VPC_PREFIX } from "../aws-limits";
import { contains, formatIp, parseCidr, parseIp, type Cidr } from "../cidr";
import { maxTasksOf } from "../plan/autoscaling";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

/** AWS reserves the first four and the last address of every subnet. */
const RESERVED_PER_SUBNET = 5;

export function checkNetwork(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const { network } = plan;
  const vpc = parseCidr(network.vpcCidr);
  const prefixRule = (path: string, c: Cidr) => errors.push(...blockProblems(c).map((message) => ({ path, message })));
  prefixRule("network.vpcCidr", vpc);

  const subnets: { path: string; cidr: Cidr; text: string }[] = [];
  network.zones.forEach((zone, i) => {
    for (const kind of ["privateSubnet", "publicSubnet"] as const) {
      const text = zone[kind];
      if (text === undefined) continue;
      const path = `network.zones[${i}].${kind}`;
      const cidr = parseCidr(text);
      prefixRule(path, cidr);
      if (!contains(vpc, cidr.base) || !contains(vpc, cidr.last)) errors.push({ path, message: `${text} is not inside the VPC ${network.vpcCidr}; choose a block inside it` });
      const overlap = subnets.find((other) => cidr.base <= other.cidr.last && other.cidr.base <= cidr.last);
      if (overlap) errors.push({ path, message: `${text} overlaps ${overlap.path} (${overlap.text}); subnets must not share addresses` });
      subnets.push({ path, cidr, text });
    }
  });

  const seenZones = new Map<string, number>();
  network.zones.forEach((zone, i) => {
    if (zone.availabilityZone === undefined) return;
    const path = `network.zones[${i}].availabilityZone`;
    if (!zone.availabilityZone.startsWith(plan.region)) errors.push({ path, message: `${zone.availabilityZone} is not a zone of ${plan.region}` });
    const first = seenZones.get(zone.availabilityZone);
    if (first !== undefined) errors.push({ path, message: `${zone.availabilityZone} is already zone ${first}: each entry is a distinct availability zone` });
    else seenZones.set(zone.availabilityZone, i);
  });

  if (network.egress === "nat-gateway" && network.zones[0]?.publicSubnet === undefined) {
    errors.push({ path: "network.zones[0].publicSubnet", message: 'egress "nat-gateway" runs the NAT gateway in the first zone: give it a small public subnet (a /28 is enough)' });
  }
  if (network.egress === "nat-gateway-per-zone") {
    network.zones.forEach((zone, i) => {
      if (zone.publicSubnet === undefined)
        errors.push({ path: `network.zones[${i}].publicSubnet`, message: 'egress "nat-gateway-per-zone" runs a NAT gateway in every zone: give this zone a small public subnet' });
    });
  }
  if (network.publicInstances) {
    warnings.push({
      path: "network.publicInstances",
      message: "the servers and hosts get public IP addresses in the public subnets (the original demo's exposure, CKV_AWS_88): never in production",
    });
  }
  checkAddresses(plan, errors);
  checkAddressSpace(plan, errors);
}

/** Why a block cannot be a VPC's or a subnet's: a prefix length AWS does not allow, or host bits set (Terraform refuses such a CIDR). */
export function blockProblems(c: Cidr): string[] {
  return [
    ...(c.prefix < VPC_PREFIX.min || c.prefix > VPC_PREFIX.max ? [`/${c.prefix} is outside the /${VPC_PREFIX.min} to /${VPC_PREFIX.max} AWS allows for VPCs and subnets`] : []),
    ...(c.base !== c.address ? [`host bits are set; did you mean ${formatIp(c.base)}/${c.prefix}?`] : []),
  ];
}

/** Fixed addresses: inside the subnet their instances go to, not reserved by AWS, each used once. */
function checkAddresses(plan: MeshPlan, errors: RuleResult["errors"]): void {
  const { network } = plan;
  const kind = network.publicInstances ? "publicSubnet" : "privateSubnet";
  const candidates = network.zones.flatMap((zone) => (zone[kind] ? [{ text: zone[kind]!, cidr: parseCidr(zone[kind]!) }] : []));
  const addresses: [string, string][] = [
    ...plan.server.nodes.flatMap((node): [string, string][] => (node.privateIp ? [[`consul.serverPrivateIps[${node.index}]`, node.privateIp]] : [])),
    ...(plan.hosts.placement.kind === "fixed" ? plan.hosts.placement.privateIps.map((ip, i): [string, string] => [`ecsHosts.privateIps[${i}]`, ip]) : []),
  ];
  const used = new Map<string, string>();
  for (const [path, ip] of addresses) {
    const value = parseIp(ip);
    const subnet = candidates.find((c) => contains(c.cidr, value));
    if (!subnet) {
      errors.push({
        path,
        message: `${ip} is in none of the ${kind === "publicSubnet" ? "public" : "private"} subnets (${candidates.map((c) => c.text).join(", ")}); the instances run there`,
      });
    } else if (value - subnet.cidr.base < 4 || value === subnet.cidr.last) {
      errors.push({ path, message: `${ip} is reserved by AWS (the first four and the last address of ${subnet.text})` });
    }
    const other = used.get(ip);
    if (other) errors.push({ path, message: `${ip} is already used by ${other}` });
    else used.set(ip, path);
  }
}

/** Every task takes an address of a private subnet (twice over while a rollout surges), an autoscaled service's at its maxCount. */
function checkAddressSpace(plan: MeshPlan, errors: RuleResult["errors"]): void {
  const { network } = plan;
  const usable = network.zones.reduce((sum, zone) => sum + 2 ** (32 - parseCidr(zone.privateSubnet).prefix) - RESERVED_PER_SUBNET, 0);
  // An autoscaled service at its maxCount.
  const tasks = plan.services.filter((s) => s.subnets === "private").reduce((sum, s) => sum + Math.ceil((maxTasksOf(s) * s.deployment.maximumPercent) / 100), 0);
  const instances = plan.server.count + plan.hosts.maxHosts;
  const endpoints = network.interfaceEndpoints.length * network.zones.length;
  const needed = tasks + instances + endpoints;
  if (needed > usable) {
    errors.push({
      path: "network.zones",
      message: `the private subnets have ${usable} usable addresses, but the mesh needs ${needed} (${tasks} for tasks during rollouts, ${instances} for servers and hosts, ${endpoints} for VPC endpoints); use larger subnets or more zones`,
    });
  }
}
