// Rolling deployments that can make progress. ECS rounds minimumHealthyPercent up and
// maximumPercent down against the desired count (ECS DeploymentConfiguration): a rollout needs
// room to start a new task or leave to stop an old one, and the hosts' ENIs must hold the tasks
// it runs at its peak.
import { countsOf, maxTasksOf } from "../plan/autoscaling";
import { ecsServicesOf } from "../plan/names";
import type { MeshPlan } from "../plan/types";
import { modelRule, rowWriter, type PathReport } from "./network-paths";

const NEED_PROGRESS = "rolling deployment can progress";
const NEED_ENIS = "host ENIs at the peak of a rollout";

/** Each service's rollout as model rows: whether it can progress, and whether the EC2 hosts hold its peak. */
export function rolloutReports(plan: MeshPlan): PathReport[] {
  const reports: PathReport[] = [];
  const capacity = plan.hosts.tasksPerHost === undefined ? undefined : plan.hosts.tasksPerHost * plan.hosts.maxHosts;
  // Each version is an ECS service of its own that rolls out by its own bounds.
  for (const service of plan.services.flatMap((s) => ecsServicesOf(s).map((unit) => ({ unit, of: s })))) {
    const { unit, of } = service;
    // One row group per service; a version's rows say which version ("a rollout of version v2 must keep ...").
    const rows = rowWriter(
      reports,
      `service ${unit.name} (tasks)`,
      unit.autoscaling ? `${unit.path}.autoscaling` : unit.version === undefined ? `${unit.path}.count` : `${unit.path}.versions.${unit.version}.count`,
    );
    const which = unit.version === undefined ? "" : `of version ${unit.version} `;
    const row = {
      ok: (need: string, text: string) => rows.ok(need, `${which}${text}`),
      error: (need: string, text: string, fix?: string) => rows.error(need, `${which}${text}`, fix),
    };
    // An autoscaled service rolls out at whatever count the scaler has set: it must progress at each.
    const counts = countsOf(unit);
    const range = counts.min === counts.max ? "" : ` (autoscaling: every count from ${counts.min} to ${counts.max})`;
    if (counts.max === 0) {
      row.ok(NEED_PROGRESS, "count 0: nothing to roll out");
      continue;
    }
    const { minimumHealthyPercent: min, maximumPercent: max } = unit.deployment;
    const at = (count: number) => ({ count, kept: Math.ceil((count * min) / 100), peak: Math.floor((count * max) / 100) });
    const stuck = Array.from({ length: counts.max - Math.max(1, counts.min) + 1 }, (_, i) => at(Math.max(1, counts.min) + i)).find((c) => c.peak - c.kept < 1);
    if (stuck) {
      const { count, kept, peak } = stuck;
      row.error(
        NEED_PROGRESS,
        `must keep ${kept} of ${count} task(s) running (minimum ${min} %) and may run at most ${peak} (maximum ${max} %)${range}: it can neither stop an old task nor start a new one, and hangs until the circuit breaker fails it`,
      );
    } else {
      const { count, kept, peak } = at(counts.max);
      const how =
        peak > count ? `starts up to ${peak - count} new task(s) first` : kept === 0 ? "stops the old task(s) first, a short gap" : `stops up to ${count - kept} old task(s) first`;
      row.ok(NEED_PROGRESS, `keeps ${kept} of ${count} running (minimum ${min} %), runs at most ${peak} (maximum ${max} %)${range}: ${how}`);
    }
    // A steady state that already overflows the ENIs is one shortfall, which the capacity rule reports.
    // A change to what the versions share (anything but image and count) rolls them all out at once:
    // their peaks add up, over the other services' steady tasks.
    if (unit.launchType === "EC2" && capacity !== undefined && plan.ec2TaskCount <= capacity) {
      const together = ecsServicesOf(of);
      // At the maximum count: an autoscaled version may be at its maxCount when the rollout starts.
      const total = plan.ec2TaskCount - maxTasksOf(of) + together.reduce((sum, v) => sum + Math.floor((countsOf(v).max * v.deployment.maximumPercent) / 100), 0);
      if (total > capacity) {
        row.error(NEED_ENIS, `the EC2 hosts run ${total} awsvpc tasks, but their ENIs hold ${capacity}: the new tasks stay PENDING`, "lower the counts or add host capacity");
      } else {
        row.ok(NEED_ENIS, `the EC2 hosts run ${total} awsvpc tasks; their ENIs hold ${capacity}`);
      }
    }
  }
  return reports;
}

export const checkRollouts = modelRule(rolloutReports, (r) => (r.need === NEED_ENIS ? `at the peak of a rollout ${r.path}; ${r.fix}` : `a rollout ${r.path}`));
