// The model: a validated spec normalised for the constructs and templates (services in a
// stable order, names attached, derived numbers computed once).
import type { MeshSpec, ServiceSpec } from "./spec/schema";

/** Consul agent ports (Consul docs, "Required ports"). */
export const CONSUL_PORTS = {
  serverRpc: 8300,
  serfLan: 8301,
  serfWan: 8302,
  http: 8500,
  https: 8501,
  grpc: 8502,
  grpcTls: 8503,
  dns: 8600,
} as const;

/** Envoy sidecar ports: Consul assigns sidecar public listeners from 21000-21255; admin stays on loopback. */
export const ENVOY_PORTS = {
  publicListener: 21000,
  publicRangeEnd: 21255,
  admin: 19000,
} as const;

/**
 * Ports the mesh containers hold inside every task. Containers of an awsvpc task share one
 * network namespace, so an app port or upstream bind port must avoid all of them.
 */
export const RESERVED_TASK_PORTS: ReadonlyMap<number, string> = new Map([
  [CONSUL_PORTS.serfLan, "the Consul agent's Serf LAN port"],
  [CONSUL_PORTS.http, "the Consul agent's HTTP API"],
  [CONSUL_PORTS.grpc, "the Consul agent's gRPC (xDS) port"],
  [CONSUL_PORTS.dns, "the Consul agent's DNS port"],
  [ENVOY_PORTS.publicListener, "the Envoy sidecar's public listener"],
  [ENVOY_PORTS.admin, "the Envoy admin API"],
]);

export interface ServiceModel extends ServiceSpec {
  readonly name: string;
}

export interface MeshModel {
  readonly spec: MeshSpec;
  /** Services sorted by name, so synthesis does not depend on the order of keys in the spec file. */
  readonly services: readonly ServiceModel[];
  /** Tasks that need an ENI on the EC2 hosts (desired counts of EC2 services). */
  readonly ec2TaskCount: number;
}

export function buildMeshModel(spec: MeshSpec): MeshModel {
  const services = Object.keys(spec.services)
    .sort()
    .map((name): ServiceModel => ({ name, ...spec.services[name]! }));
  const ec2TaskCount = services.filter((s) => s.launchType === "EC2").reduce((sum, s) => sum + s.count, 0);
  return { spec, services, ec2TaskCount };
}
