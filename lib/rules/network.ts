// The VPC and subnet CIDRs and the fixed private addresses of the server and hosts.
import { contains, formatIp, parseCidr, parseIp, type Cidr } from "../cidr";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "./index";

export function checkNetwork(plan: MeshPlan, { errors }: RuleResult): void {
  const vpc = parseCidr(plan.network.vpcCidr);
  const subnet = parseCidr(plan.network.publicSubnetCidr);
  const prefixRule = (path: string, c: Cidr) => {
    if (c.prefix < 16 || c.prefix > 28) errors.push({ path, message: `/${c.prefix} is outside the /16 to /28 AWS allows for VPCs and subnets` });
    if (c.base !== c.address) errors.push({ path, message: `host bits are set; did you mean ${formatIp(c.base)}/${c.prefix}?` });
  };
  prefixRule("network.vpcCidr", vpc);
  prefixRule("network.publicSubnetCidr", subnet);
  if (!contains(vpc, subnet.base) || !contains(vpc, subnet.last)) {
    errors.push({ path: "network.publicSubnetCidr", message: `${plan.network.publicSubnetCidr} is not inside the VPC ${plan.network.vpcCidr}` });
  }
  const addresses: [string, string][] = [
    ["consul.serverPrivateIp", plan.server.privateIp],
    ...plan.hosts.privateIps.map((ip, i): [string, string] => [`ecsHosts.privateIps[${i}]`, ip]),
  ];
  const used = new Map<string, string>();
  for (const [path, ip] of addresses) {
    const value = parseIp(ip);
    if (!contains(subnet, value)) {
      errors.push({ path, message: `${ip} is outside the subnet ${plan.network.publicSubnetCidr}` });
    } else if (value - subnet.base < 4 || value === subnet.last) {
      errors.push({ path, message: `${ip} is reserved by AWS (the first four and the last address of ${plan.network.publicSubnetCidr})` });
    }
    const other = used.get(ip);
    if (other) errors.push({ path, message: `${ip} is already used by ${other}` });
    else used.set(ip, path);
  }
}
