// The spec's versions against HashiCorp's compatibility tables (lib/versions.ts): every
// component a task runs must be listed for the servers' Consul line; a line past its end of
// support, or a patch of Envoy, consul-ecs or consul-dataplane older than the newest the matrix
// knows (NEWEST_PATCH) for a component some task runs, is a warning. versions.fips:
// the FIPS images must exist for the pinned versions, and only dataplane tasks can be FIPS builds.
import { COMPATIBILITY, COMPONENT_NAMES, compareVersions, END_OF_SUPPORT, FIPS_IMAGES, fipsTagOf, minorOf, NEWEST_PATCH, type Versions } from "../versions";
import type { RuleResult, SpecIssue } from "../issues";
import type { MeshPlan } from "../plan/types";

/** What the mesh's tasks run: versions.envoy (agent tasks, the TLS edge), consul-ecs and consul-dataplane (dataplane tasks). */
export interface VersionUses {
  readonly envoy: boolean;
  readonly dataplane: boolean;
}

/** Warnings for the versions in effect on a day (YYYY-MM-DD): lines past their support, older patches. */
export function supportWarnings(versions: Versions, uses: VersionUses, today: string): SpecIssue[] {
  const warnings: SpecIssue[] = [];
  const consulLine = minorOf(versions.consul);
  const consulEnd = END_OF_SUPPORT.consul[consulLine];
  if (consulEnd !== undefined && consulEnd < today) {
    const newer = Object.entries(END_OF_SUPPORT.consul).filter(([line, end]) => end >= today && line in COMPATIBILITY);
    warnings.push({
      path: "versions.consul",
      message: `Consul ${consulLine} left support on ${consulEnd}; move to ${newer.map(([line]) => `${line}.x`).join(" or ") || "a supported line"}`,
    });
  }
  // With versions.fips the dataplane tasks run the FIPS builds of the same versions: every newest
  // patch has one (__tests__/versions.test.ts), so the warning names a version checkFips accepts.
  if (uses.dataplane) warnings.push(...newerPatchWarnings(versions, "consulEcs"), ...newerPatchWarnings(versions, "consulDataplane"));
  if (!uses.envoy) return warnings;
  const envoyLine = minorOf(versions.envoy);
  const envoyEnd = END_OF_SUPPORT.envoy[envoyLine];
  const listed = COMPATIBILITY[consulLine]?.envoy ?? [];
  if (envoyEnd !== undefined && envoyEnd < today) {
    const supported = listed.filter((line) => (END_OF_SUPPORT.envoy[line] ?? "") >= today);
    warnings.push({
      path: "versions.envoy",
      message: `Envoy ${envoyLine} left support on ${envoyEnd} (no more security fixes); move to ${supported.length ? supported.map((line) => NEWEST_PATCH.envoy[line] ?? `${line}.x`).join(" or ") : "a supported line"}`,
    });
  }
  warnings.push(...newerPatchWarnings(versions, "envoy"));
  return warnings;
}

/** A warning when the pinned version is an older patch of its line than NEWEST_PATCH knows. */
function newerPatchWarnings(versions: Versions, field: keyof typeof NEWEST_PATCH): SpecIssue[] {
  const newest = NEWEST_PATCH[field][minorOf(versions[field])];
  if (newest === undefined || compareVersions(versions[field], newest) >= 0) return [];
  return [{ path: `versions.${field}`, message: `${COMPONENT_NAMES[field]} ${versions[field]}: a newer patch of its line is out, ${newest}; pin it` }];
}

/**
 * The day support windows are judged on (YYYY-MM-DD): SOURCE_DATE_EPOCH when set (the reproducible
 * builds convention; the tests set it to VERSIONS_PINNED_ON), else today.
 */
export function supportCheckDay(env: NodeJS.ProcessEnv = process.env): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  return (epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date()).toISOString().slice(0, 10);
}

export function checkVersions(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const { versions } = plan;
  const line = minorOf(versions.consul);
  // The schema offers only CONSUL_RELEASES, each with a row (__tests__/versions.test.ts).
  const row = COMPATIBILITY[line]!;
  const uses = (kind: "agent" | "dataplane") => plan.services.some((s) => s.architecture === kind) || (kind === "agent" && plan.tlsEdge !== undefined);
  const check = (field: "consulEcs" | "consulDataplane" | "envoy", table: string, used: boolean) => {
    if (!used) return;
    const version = versions[field];
    if (!row[field].includes(minorOf(version))) {
      errors.push({
        path: `versions.${field}`,
        message: `${version} is not in HashiCorp's ${table} table for Consul ${line}.x (it lists ${row[field].map((v) => `${v}.x`).join(", ")}); pick one of those`,
      });
    }
  };
  // Agent tasks and the TLS edge run versions.envoy (dataplane tasks run the dataplane's own Envoy):
  // with versions.fips no agent task is allowed, but the edge still runs envoyproxy/envoy, so its
  // Envoy warnings hold there.
  warnings.push(...supportWarnings(versions, { envoy: uses("agent"), dataplane: uses("dataplane") }, supportCheckDay()));
  check("envoy", "Envoy and Consul client agent", uses("agent"));
  check("consulEcs", "Consul on ECS", uses("dataplane"));
  check("consulDataplane", "Envoy and Consul Dataplane", uses("dataplane"));
}

/**
 * versions.fips: consul-ecs and consul-dataplane have FIPS builds (FIPS_IMAGES) at the pinned
 * versions, and no task runs what has none. Agent tasks run the Consul client agent, and Consul's
 * FIPS builds are Consul Enterprise only (hashicorp/consul website/content/docs/enterprise/fips.mdx,
 * "This feature requires Consul Enterprise"; its 2.0.4 changelog, "fips: (Enterprise only)"), and
 * envoyproxy/envoy, which is no FIPS build: an error. The servers (Consul CE) and the TLS edge's
 * Envoy remain outside the FIPS builds whatever the tasks run: a warning saying what would close it
 * (hashicorp/envoy-fips is the FIPS Envoy consul-dataplane's FIPS image copies, its Dockerfile).
 */
export function checkFips(plan: MeshPlan, { errors, warnings }: RuleResult): void {
  const { versions } = plan;
  if (!versions.fips) return;
  for (const key of ["consulEcs", "consulDataplane"] as const) {
    if (fipsTagOf(key, versions[key]) !== undefined) continue;
    const { repository, tags } = FIPS_IMAGES[key];
    errors.push({
      path: `versions.${key}`,
      message: `${versions[key]} has no FIPS image known to lib/versions.ts (FIPS_IMAGES): ${repository} is tagged ${tags.map((r) => `<version>${r.suffix} for ${r.from} to ${r.through}`).join(", ")}; pick a version there, or set versions.fips: false`,
    });
  }
  for (const service of plan.services.filter((s) => s.architecture === "agent")) {
    errors.push({
      path: `${service.path}.architecture`,
      message:
        "versions.fips: an agent task runs the Consul client agent (Consul CE; Consul's FIPS builds are Enterprise only) and envoyproxy/envoy, neither a FIPS build; set architecture: dataplane on this service (or the mesh's architecture), whose consul-ecs and consul-dataplane (with its Envoy) are FIPS builds",
    });
  }
  warnings.push({
    path: "versions.fips",
    message:
      "only the dataplane tasks' consul-ecs and consul-dataplane are FIPS builds: the Consul servers run Consul CE" +
      (plan.tlsEdge ? ", and the TLS edge runs envoyproxy/envoy" : "") +
      ", so the mesh's control plane is not FIPS-validated end to end. That needs Consul Enterprise FIPS servers (consul-enterprise-fips, +ent.fips1402 archives, a license)" +
      (plan.tlsEdge ? " and a FIPS Envoy at the edge (hashicorp/envoy-fips)" : "") +
      ", which this project does not install",
  });
}
