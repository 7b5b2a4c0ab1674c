// What the tasks need against what runs them: ENIs on the EC2 hosts, Fargate sizes, the memory
// of each task's containers.
import { fargateSizeProblem } from "../aws-limits";
import { CONTAINER_NAMES } from "../plan/containers";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";
import { ecsServicesOf } from "../plan/names";

export function checkCapacity(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const { hosts } = plan;
  const perHost = hosts.tasksPerHost;
  const hostsLabel = hosts.placement.kind === "fixed" ? `${hosts.maxHosts} ×` : `at most ${hosts.maxHosts} (autoScaling.maxSize) ×`;
  if (hosts.placement.kind === "auto-scaling" && hosts.placement.minSize > hosts.placement.maxSize) {
    errors.push({ path: "ecsHosts.autoScaling.minSize", message: `${hosts.placement.minSize} is above maxSize ${hosts.placement.maxSize}` });
  }
  // ec2TaskCount counts an autoscaled service at its maxCount: the scaler may start that many.
  const scaled = plan.services.some((s) => s.launchType === "EC2" && ecsServicesOf(s).some((u) => u.autoscaling)) ? " (autoscaled services at their maxCount)" : "";
  if (plan.ec2TaskCount > 0) {
    if (perHost === undefined) {
      warnings.push({
        path: "ecsHosts.instanceType",
        message: `ENI limit of ${hosts.instanceType} is unknown to this tool, so the ${plan.ec2TaskCount} awsvpc tasks on ${hosts.maxHosts} hosts were not checked against it`,
      });
    } else if (plan.ec2TaskCount > perHost * hosts.maxHosts) {
      errors.push({
        path: "ecsHosts.instanceType",
        message: `${hostsLabel} ${hosts.instanceType} run at most ${perHost * hosts.maxHosts} awsvpc tasks (${perHost} per host: ENIs - 1), but EC2 services want ${plan.ec2TaskCount}${scaled}; tasks would stay PENDING with RESOURCE:ENI. Use a larger type, more hosts or fewer tasks`,
      });
    }
  }
  for (const service of plan.services) {
    if (service.launchType === "FARGATE") {
      const size = fargateSizeProblem(service.cpu, service.memory);
      if (size) errors.push({ path: `${service.path}.${size.field}`, message: size.message });
    }
    // Every container counts with what it may hold: its hard limit, else its reservation.
    const held = (c: (typeof service.task.containers)[number]) => c.memory ?? c.memoryReservation ?? 0;
    const sidecars = service.task.containers.filter((c) => c.name !== CONTAINER_NAMES.app).reduce((sum, c) => sum + held(c), 0);
    const app = service.task.containers.filter((c) => c.name === CONTAINER_NAMES.app).reduce((sum, c) => sum + held(c), 0);
    if (sidecars + app > service.memory) {
      errors.push({
        path: service.appMemory === undefined ? `${service.path}.memory` : `${service.path}.appMemory`,
        message: `containers need ${sidecars + app} MiB (sidecars ${sidecars} + app ${app}) but the task has ${service.memory} MiB; raise memory or lower appMemory`,
      });
    }
  }
}
