// The deployability model: for every task, host and server of the plan, what it needs to start,
// run, stop and roll out, and how the plan provides it, one row each (need, path, verdict).
// The rules report the rows that are not ok (errors stop synthesis, warnings do not);
// `npm run render` prints every row, so a reviewer sees what holds as well as what breaks.
import type { MeshPlan } from "../plan/types";
import { bootOrder } from "./boot-order";
import { taskLifecycle } from "./lifecycle";
import { networkPaths, type PathReport } from "./network-paths";
import { rolloutReports } from "./rollouts";
import { trustModel } from "./trust";

/** Every row of the model, grouped by who needs it (in order of first appearance), then by topic. */
export function deployabilityModel(plan: MeshPlan): ReadonlyMap<string, readonly PathReport[]> {
  const groups = new Map<string, PathReport[]>();
  for (const row of [...networkPaths(plan), ...bootOrder(plan), ...taskLifecycle(plan), ...rolloutReports(plan), ...trustModel(plan)]) {
    const group = groups.get(row.who) ?? [];
    group.push(row);
    groups.set(row.who, group);
  }
  return groups;
}
