// The network: zones with a private subnet (hosts, servers, tasks) and a small public subnet
// (NAT gateways); how the private subnets reach AWS and the internet; which VPC endpoints exist.
import { contains, parseCidr, parseIp } from "../cidr";
import type { MeshSpec } from "../spec/schema";
import type { NetworkPlan, ZonePlan } from "./types";

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
 * Interface endpoints that replace the internet when egress is vpc-endpoints: ECS (agent,
 * telemetry), ECR (api, dkr), CloudWatch Logs, Secrets Manager, SSM (parameters, sessions), and
 * what the servers call (EC2 for auto-join and their data volume, Auto Scaling for the launch
 * lifecycle hook). S3 is a gateway endpoint and always exists (ECR layers, AL2023 packages).
 */
const ENDPOINTS_WITHOUT_INTERNET = ["ec2", "ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "logs", "secretsmanager", "ssm", "ssmmessages"] as const;

export interface NetworkNeeds {
  /** Servers in Auto Scaling groups complete a lifecycle hook. */
  readonly autoScalingServers: boolean;
  /** ECS Exec sessions are KMS-encrypted: the SSM agent in the task calls KMS. */
  readonly execKms: boolean;
}

export function planNetwork(spec: MeshSpec, needs: NetworkNeeds): NetworkPlan {
  const { network } = spec;
  const zones: ZonePlan[] = network.zones.map((zone, index) => ({
    index,
    privateSubnet: zone.privateSubnet,
    ...(zone.publicSubnet === undefined ? {} : { publicSubnet: zone.publicSubnet }),
    ...(zone.availabilityZone === undefined ? {} : { availabilityZone: zone.availabilityZone }),
    ...natZoneOf(network.egress, index),
  }));
  const interfaceEndpoints: string[] =
    network.egress === "vpc-endpoints" ? [...ENDPOINTS_WITHOUT_INTERNET, ...(needs.autoScalingServers ? ["autoscaling"] : []), ...(needs.execKms ? ["kms"] : [])] : [];
  return {
    vpcCidr: network.vpcCidr,
    zones,
    egress: network.egress,
    publicInstances: network.publicInstances,
    interfaceEndpoints: interfaceEndpoints.sort(),
  };
}

function natZoneOf(egress: MeshSpec["network"]["egress"], zone: number): { natZone?: number } {
  if (egress === "nat-gateway") return { natZone: 0 };
  if (egress === "nat-gateway-per-zone") return { natZone: zone };
  return {};
}
