// The names the plan gives AWS resources (lib/plan/names.ts) against each kind's AWS limit: a name
// that would not fit fails here, with the spec field it comes from, instead of at apply time.
import { ECR_REPOSITORY_NAME, NAME_LIMITS } from "../aws-limits";
import type { PlannedName } from "../plan/names";
import type { MeshPlan } from "../plan/types";
import type { RuleResult } from "../issues";

export function checkNames(plan: MeshPlan, { errors }: RuleResult): void {
  const edge = plan.tlsEdge;
  for (const name of [...plan.names.all, ...(edge?.names.all ?? [])]) {
    const message = nameProblem(name);
    if (message) errors.push({ path: name.path, message });
  }
  // Both repositories are in the same registry, and immutable tags keep one image per repository.
  if (edge && edge.names.appRepository === edge.names.envoyRepository) {
    errors.push({
      path: "tlsEdge.ecrRepositoryName",
      message: `"${edge.names.appRepository}" is the repository of the Envoy mirror; each image needs its own (immutable tags): choose another ecrRepositoryName`,
    });
  }
}

function nameProblem({ what, kind, value, path, source }: PlannedName): string | undefined {
  const field = path.split(".").pop()!;
  const limit = NAME_LIMITS[kind];
  if (value.length > limit) {
    // The name holds its field's value (or the part it keeps) once: shortening that field is the fix that always works.
    const fits = limit - (value.length - source.length);
    return `the ${what} would be "${value}", ${value.length} characters, over the ${limit} AWS allows: ${fits > 1 ? `shorten ${field} to at most ${fits} characters` : `choose a shorter ${field}`}`;
  }
  // The schema checks a repository name the spec writes; this catches one made from serviceName.
  if (kind === "ecrRepository" && !ECR_REPOSITORY_NAME.test(value)) {
    return `the ${what} would be "${value}", which ECR refuses (lowercase segments of letters and digits, each joined by a single '.', '_', '-' or '/'): change ${field}`;
  }
  return undefined;
}
