// The network: zones with a private subnet (hosts, servers, tasks) and a small public subnet
// (NAT gateways); how the private subnets reach AWS and the internet; which VPC endpoints exist.
import type { MeshSpec } from "../spec/schema";
import type { NetworkPlan, ZonePlan } from "./types";

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
