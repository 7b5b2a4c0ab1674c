// The spec's versions against HashiCorp's compatibility tables (lib/versions.ts): every
// component a task runs must be listed for the servers' Consul line; a line past its end of
// support, or an Envoy patch older than the newest the matrix knows, is a warning.
import { COMPATIBILITY, END_OF_SUPPORT, minorOf, NEWEST_ENVOY_PATCH, type Versions } from "../versions";
import type { RuleResult, SpecIssue } from "../issues";
import type { MeshPlan } from "../plan/types";

/** Warnings for the versions in effect on a day (YYYY-MM-DD): lines past their support, older Envoy patches. */
export function supportWarnings(versions: Versions, usesEnvoy: boolean, today: string): SpecIssue[] {
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
  if (!usesEnvoy) return warnings;
  const envoyLine = minorOf(versions.envoy);
  const envoyEnd = END_OF_SUPPORT.envoy[envoyLine];
  const listed = COMPATIBILITY[consulLine]?.envoy ?? [];
  if (envoyEnd !== undefined && envoyEnd < today) {
    const supported = listed.filter((line) => (END_OF_SUPPORT.envoy[line] ?? "") >= today);
    warnings.push({
      path: "versions.envoy",
      message: `Envoy ${envoyLine} left support on ${envoyEnd} (no more security fixes); move to ${supported.length ? supported.map((line) => NEWEST_ENVOY_PATCH[line] ?? `${line}.x`).join(" or ") : "a supported line"}`,
    });
  }
  const newest = NEWEST_ENVOY_PATCH[envoyLine];
  if (newest !== undefined && patchOf(versions.envoy) < patchOf(newest)) {
    warnings.push({ path: "versions.envoy", message: `Envoy ${versions.envoy}: a newer patch of its line is out, ${newest}; pin it` });
  }
  return warnings;
}

const patchOf = (version: string) => Number(version.split(".")[2] ?? 0);

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
  // Agent tasks and the TLS edge run versions.envoy (dataplane tasks run the dataplane's own Envoy).
  warnings.push(...supportWarnings(versions, uses("agent"), supportCheckDay()));
  check("envoy", "Envoy and Consul client agent", uses("agent"));
  check("consulEcs", "Consul on ECS", uses("dataplane"));
  check("consulDataplane", "Envoy and Consul Dataplane", uses("dataplane"));
}
