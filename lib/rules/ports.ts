// Ports inside one task: containers of an awsvpc task share one network namespace, so the
// app's port and its upstreams' local ports must avoid each other and every port the mesh
// containers bind. Each container plan states its ports; this rule only reads them.
import type { MeshPlan, TaskPlan } from "../plan/types";
import type { RuleResult } from "../issues";

/** Every port a container of the task binds, with what holds it: its published ports and the TCP endpoints it serves the task. */
function boundPorts(task: TaskPlan): Map<number, string> {
  const bound = new Map<number, string>();
  const hold = (port: number, what: string) => {
    if (!bound.has(port)) bound.set(port, what);
  };
  for (const container of task.containers) {
    for (const mapping of container.portMappings ?? []) hold(mapping.containerPort, `${container.name}'s ${mapping.listener ?? "published port"}`);
    for (const endpoint of container.serves ?? []) if ("tcp" in endpoint.on && endpoint.on.tcp !== "any") hold(endpoint.on.tcp, `${container.name}'s ${endpoint.name}`);
  }
  return bound;
}

export function checkPorts(plan: MeshPlan, { errors }: RuleResult): void {
  for (const service of plan.services) {
    const taken = boundPorts(service.task);
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
  // The TLS edge's app shares its task's namespace with Envoy's listeners (the stats listener with metrics on).
  const edge = plan.tlsEdge;
  const owner = edge ? boundPorts(edge.task).get(edge.appPort) : undefined;
  if (edge && owner) errors.push({ path: "tlsEdge.appPort", message: `${edge.appPort} is ${owner} in every TLS edge task; choose another port such as 8080` });
}
