// Rolling deployments that can make progress. ECS rounds minimumHealthyPercent up and
// maximumPercent down against the desired count (ECS DeploymentConfiguration): a rollout needs
// room to start a new task or leave to stop an old one, and the hosts' ENIs must hold the tasks
// it runs at its peak.
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "./index";

export function checkRollouts(plan: MeshPlan, { errors }: RuleResult): void {
  const capacity = plan.hosts.tasksPerHost === undefined ? undefined : plan.hosts.tasksPerHost * plan.hosts.maxHosts;
  for (const service of plan.services) {
    const { count } = service;
    if (count === 0) continue;
    const { minimumHealthyPercent: min, maximumPercent: max } = service.deployment;
    const kept = Math.ceil((count * min) / 100);
    const peak = Math.floor((count * max) / 100);
    if (peak - kept < 1) {
      errors.push({
        path: `${service.path}.count`,
        message: `a rollout must keep ${kept} of ${count} task(s) running (minimum ${min} %) and may run at most ${peak} (maximum ${max} %): it can neither stop an old task nor start a new one, and hangs until the circuit breaker fails it`,
      });
    }
    if (service.launchType === "EC2" && capacity !== undefined && plan.ec2TaskCount - count + peak > capacity) {
      errors.push({
        path: `${service.path}.count`,
        message: `at the peak of a rollout the EC2 hosts run ${plan.ec2TaskCount - count + peak} awsvpc tasks, but their ENIs hold ${capacity}: the new tasks stay PENDING; lower the counts or add host capacity`,
      });
    }
  }
}
