// An upstream's passive health check (Envoy outlier detection) as Consul's proxy upstream
// config: the same map in an agent task's service registration and a dataplane task's consul-ecs
// configuration (developer.hashicorp.com/consul/docs/reference/proxy/envoy, "Proxy Upstream Config
// Options"). Per upstream rather than service-defaults: one service's tasks never race to write it.
import type { PassiveHealthCheckSpec } from "../spec/schema";

export type PassiveHealthCheckConfig = {
  readonly interval: string;
  readonly max_failures: number;
  readonly enforcing_consecutive_5xx: number;
  readonly max_ejection_percent: number;
  readonly base_ejection_time: string;
};

export function passiveHealthCheckConfig(check: PassiveHealthCheckSpec): PassiveHealthCheckConfig | null {
  if (!check.enabled) return null;
  return {
    interval: `${check.intervalSeconds}s`,
    max_failures: check.maxFailures,
    enforcing_consecutive_5xx: check.enforcingConsecutive5xxPercent,
    max_ejection_percent: check.maxEjectionPercent,
    base_ejection_time: `${check.baseEjectionTimeSeconds}s`,
  };
}
