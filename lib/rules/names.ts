// The names the plan gives AWS resources (lib/plan/names.ts) against each kind's AWS limit: a name
// that would not fit fails here, with the spec field it comes from, instead of at apply time.
import { NAME_LIMITS } from "../aws-limits";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

export function checkNames(plan: MeshPlan, { errors }: RuleResult): void {
  for (const { what, kind, value } of plan.names.all) {
    const limit = NAME_LIMITS[kind];
    if (value.length <= limit) continue;
    // Every name but the cluster's own contains it: shortening the cluster name is the fix that always works.
    const fits = limit - (value.length - plan.name.length);
    errors.push({
      path: "name",
      message: `the ${what} would be "${value}", ${value.length} characters, over the ${limit} AWS allows: ${fits > 1 ? `shorten name to at most ${fits} characters` : "choose a shorter name"}`,
    });
  }
}
