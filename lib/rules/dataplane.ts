// Dataplane tasks: what consul-ecs needs from the spec, and a stop sequence that fits ECS.
import { DATAPLANE_CONTAINERS, DATAPLANE_STOP } from "../plan/dataplane";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

export function checkDataplane(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  for (const service of plan.services) {
    if (service.architecture !== "dataplane") continue;
    if (service.port === undefined) {
      errors.push({ path: `${service.path}.port`, message: "consul-ecs registers every dataplane service with a port: set one (a pure client need not listen on it)" });
    }
    if (service.shutdownDelaySeconds > 0 && !service.entryPoint) {
      errors.push({
        path: `${service.path}.entryPoint`,
        message: `a shutdown delay wraps the app in consul-ecs app-entrypoint, which replaces the image's entrypoint: give the image's ENTRYPOINT here (e.g. ["/http-echo"]), or set shutdownDelaySeconds: 0`,
      });
    } else if (service.shutdownDelaySeconds === 0 && service.port !== undefined && service.count > 0) {
      warnings.push({
        path: `${service.path}.shutdownDelaySeconds`,
        message: "0: the app stops the moment a deploy replaces its task, while callers may still route to it; give the image's entryPoint to get a 10 s delay",
      });
    }
    const healthSync = service.task.containers.find((c) => c.name === DATAPLANE_CONTAINERS.healthSync);
    if (healthSync?.stopTimeout !== undefined && healthSync.stopTimeout > DATAPLANE_STOP.maxStopTimeout) {
      errors.push({
        path: `${service.path}.shutdownDelaySeconds`,
        message: `the stop sequence takes ${healthSync.stopTimeout} s (delay, app exit, drain, deregistration), over ECS's ${DATAPLANE_STOP.maxStopTimeout} s; lower the delay`,
      });
    }
  }
}
