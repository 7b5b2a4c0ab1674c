// Names that must point at something: upstreams, intentions, secrets vs environment.
import { closest } from "../issues";
import type { MeshPlan, ServicePlan } from "../plan/types";
import type { RuleResult } from "../issues";

function unknownService(plan: MeshPlan, name: string): string {
  const names = plan.services.map((s) => s.name);
  const hint = closest(name, names);
  return `unknown service "${name}"; ${hint ? `did you mean "${hint}"? ` : ""}defined services: ${names.join(", ")}`;
}

export function checkReferences(plan: MeshPlan, { errors }: RuleResult): void {
  const byName = new Map<string, ServicePlan>(plan.services.map((s) => [s.name, s]));
  for (const service of plan.services) {
    service.upstreams.forEach((upstream, i) => {
      const path = `${service.path}.upstreams[${i}].destination`;
      const destination = byName.get(upstream.destination);
      if (upstream.destination === service.name) {
        errors.push({ path, message: `a service cannot be its own upstream; remove it or point it at another service` });
      } else if (!destination) {
        errors.push({ path, message: unknownService(plan, upstream.destination) });
      } else if (destination.port === undefined) {
        errors.push({ path, message: `"${upstream.destination}" has no port, so nothing can call it; give it a port or remove this upstream` });
      }
    });
    for (const secret of Object.keys(service.secrets)) {
      if (secret in service.environment) {
        errors.push({ path: `${service.path}.secrets.${secret}`, message: `also set in environment; keep the variable in secrets only` });
      }
    }
    if (service.healthCheck.type !== "none" && service.port === undefined) {
      errors.push({ path: `${service.path}.healthCheck`, message: `a ${service.healthCheck.type} check needs the service's port; set port or use type "none"` });
    }
    if (service.enableExecuteCommand && service.readonlyRootFilesystem) {
      errors.push({
        path: `${service.path}.enableExecuteCommand`,
        message: "ECS Exec needs a writable root filesystem for its agent; set readonlyRootFilesystem: false too, or turn ECS Exec off",
      });
    }
  }
  if (plan.tlsEdge && plan.tlsEdge.serviceName === plan.name) {
    errors.push({
      path: "tlsEdge.serviceName",
      message: `"${plan.name}" is also the mesh's cluster name: the two stacks would share one ECS cluster and KMS alias; choose another name`,
    });
  }
  plan.declaredIntentions.forEach((intention, i) => {
    for (const end of ["source", "destination"] as const) {
      const name = intention[end];
      if (name !== "*" && !byName.has(name)) errors.push({ path: `intentions[${i}].${end}`, message: unknownService(plan, name) });
    }
    if (intention.source === intention.destination) {
      errors.push({ path: `intentions[${i}]`, message: `source and destination are the same service; a service always reaches itself` });
    }
  });
  const seen = new Map<string, number>();
  plan.declaredIntentions.forEach((intention, i) => {
    const key = `${intention.source} -> ${intention.destination}`;
    const first = seen.get(key);
    if (first !== undefined) errors.push({ path: `intentions[${i}]`, message: `duplicates intentions[${first}] (${key}); keep one` });
    else seen.set(key, i);
  });
}
