// Ports inside one task: containers of an awsvpc task share one network namespace, so the
// app's port and its upstreams' local ports must avoid each other and every port the mesh
// containers hold.
import { CONSUL_PORTS, DATAPLANE_PORTS, ENVOY_PORTS } from "../facts";
import type { MeshPlan, TaskArchitecture } from "../plan/types";
import type { RuleResult } from "../issues";

/** Ports the mesh containers hold inside every task of each architecture. */
const RESERVED_TASK_PORTS: Readonly<Record<TaskArchitecture, ReadonlyMap<number, string>>> = {
  agent: new Map([
    [CONSUL_PORTS.serfLan, "the Consul agent's Serf LAN port"],
    [CONSUL_PORTS.http, "the Consul agent's HTTP API"],
    [CONSUL_PORTS.grpc, "the Consul agent's gRPC (xDS) port"],
    [CONSUL_PORTS.dns, "the Consul agent's DNS port"],
    [ENVOY_PORTS.publicListener, "the Envoy sidecar's public listener"],
    [ENVOY_PORTS.ready, "the Envoy sidecar's ready listener"],
  ]),
  dataplane: new Map([
    [DATAPLANE_PORTS.publicListener, "the dataplane's public listener"],
    [DATAPLANE_PORTS.readiness, "the dataplane's readiness listener"],
    [DATAPLANE_PORTS.lifecycle, "the dataplane's lifecycle server"],
    [ENVOY_PORTS.admin, "the Envoy admin API"],
  ]),
};

export function checkPorts(plan: MeshPlan, { errors }: RuleResult): void {
  for (const service of plan.services) {
    const taken = new Map<number, string>(RESERVED_TASK_PORTS[service.architecture]);
    if (service.port !== undefined) {
      const owner = taken.get(service.port);
      if (owner) errors.push({ path: `${service.path}.port`, message: `${service.port} is ${owner} in every ${service.architecture} task; choose another port` });
      else taken.set(service.port, "the app's own port");
    }
    service.upstreams.forEach((upstream, i) => {
      const owner = taken.get(upstream.localBindPort);
      if (owner) {
        errors.push({
          path: `${service.path}.upstreams[${i}].localBindPort`,
          message: `${upstream.localBindPort} is already ${owner} in this task; choose a free port`,
        });
      } else {
        taken.set(upstream.localBindPort, `the local port of upstream ${upstream.destination}`);
      }
    });
  }
}
