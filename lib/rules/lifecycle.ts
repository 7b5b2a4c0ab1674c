// Task lifecycle, for every task of the plan (each mesh service's and the TLS edge's): how ECS
// starts its containers along dependsOn, which ones must keep running, and in which order ECS
// stops them. What ECS allows is from its ContainerDependency and HealthCheck API references;
// how it stops containers is from its agent (see lib/rules/task-graph.ts). A broken task either
// never starts, runs on without a sidecar it needs, or cuts its own calls while it stops.
import { ECS_HEALTH_CHECK_LIMITS } from "../aws-limits";
import type { MeshPlan } from "../plan/types";
import { modelRule, type PathReport } from "./network-paths";
import { containerMap, cyclesOf, dependencyPath, describePath, edgesOf, runsOnce, startLevels, tasksOf, type TaskRef, taskRowWriter } from "./task-graph";

const NEED = {
  graph: "start order (dependsOn acyclic, on containers of the task)",
  healthy: "HEALTHY waits on containers with a health check",
  exits: "SUCCESS/COMPLETE waits on non-essential containers",
  longRunning: "long-running containers (sidecars, app) essential",
  essential: "at least one essential container",
  healthLimits: "health check settings within ECS limits",
  stopOrder: (outliving: string, stopping: string) => `stop order: ${outliving} outlives ${stopping}`,
} as const;

/** Where the containers of a task are decided, for fixes. */
function sourceOf(ref: TaskRef): string {
  return ref.service ? "lib/plan/containers.ts" : "lib/plan/tls-edge.ts";
}

export function taskLifecycle(plan: MeshPlan): PathReport[] {
  return tasksOf(plan).flatMap(lifecycleOf);
}

function lifecycleOf(ref: TaskRef): PathReport[] {
  const { task } = ref;
  const reports: PathReport[] = [];
  const row = taskRowWriter(reports, ref);
  const { ok } = row;
  const error = (need: string, path: string, fix: string) => row.error(need, path, `${fix} (${sourceOf(ref)})`);
  const byName = containerMap(task);
  const edges = edgesOf(task);
  const once = runsOnce(task);

  // The graph: unique names, targets that exist, no cycle. Later rows only read sound edges.
  const before = reports.length;
  const counted = new Map<string, number>();
  for (const c of task.containers) counted.set(c.name, (counted.get(c.name) ?? 0) + 1);
  for (const [name, n] of counted) if (n > 1) error(NEED.graph, `${n} containers are named ${name}: dependsOn cannot tell them apart`, "give each container its own name");
  for (const e of edges) {
    if (e.to === e.from) error(NEED.graph, `${e.from} depends on itself: it can never start`, `remove that dependsOn entry of ${e.from}`);
    else if (!byName.has(e.to))
      error(NEED.graph, `${e.from} depends on ${e.to}, which is not a container of this task: the task never starts`, `depend on one of ${[...byName.keys()].join(", ")}`);
  }
  for (const cycle of cyclesOf(task).filter((c) => c.length > 2)) {
    error(NEED.graph, `dependsOn cycle ${cycle.join(" -> ")}: none of them can start`, "remove one dependsOn entry of the cycle");
  }
  if (reports.length === before)
    ok(
      NEED.graph,
      startLevels(task)
        .map((level) => level.join(", "))
        .join(" > "),
    );
  const sound = edges.filter((e) => e.to !== e.from && byName.has(e.to));

  // HEALTHY needs a health check to become true (ContainerDependency).
  const healthy = sound.filter((e) => e.condition === "HEALTHY");
  const unchecked = healthy.filter((e) => !byName.get(e.to)!.healthCheck);
  for (const e of unchecked)
    error(NEED.healthy, `${e.from} waits for ${e.to} HEALTHY, but ${e.to} has no health check: ${e.from} never starts`, `give ${e.to} a health check, or wait for START`);
  if (unchecked.length === 0) ok(NEED.healthy, healthy.length === 0 ? "no HEALTHY dependency" : `${healthy.map((e) => `${e.from} on ${e.to}`).join(", ")}: each has one`);

  // SUCCESS and COMPLETE wait for an exit: "This condition can't be set on an essential container" (ContainerDependency).
  const exits = sound.filter((e) => e.condition === "SUCCESS" || e.condition === "COMPLETE");
  const essentialExits = exits.filter((e) => byName.get(e.to)!.essential);
  for (const e of essentialExits) {
    error(NEED.exits, `${e.from} waits for ${e.to} ${e.condition}, but ${e.to} is essential: when it exits, ECS stops the task`, `make ${e.to} non-essential (it runs once)`);
  }
  if (essentialExits.length === 0)
    ok(NEED.exits, exits.length === 0 ? "no container waits for another to exit" : exits.map((e) => `${e.from} on ${e.to} ${e.condition} (runs once, non-essential)`).join(", "));

  // A container nobody waits on to exit runs as long as the task; if it is not essential and dies,
  // the task keeps running without it (a proxy gone: unreachable through the mesh) and ECS does not replace it.
  const longRunning = task.containers.filter((c) => !once.has(c.name));
  const optional = longRunning.filter((c) => !c.essential);
  for (const c of optional) {
    error(
      NEED.longRunning,
      `${c.name} runs as long as the task (no container waits for it to exit) but is not essential: if it stops, the task runs on without it and ECS does not replace it`,
      `set essential: true on ${c.name}`,
    );
  }
  if (optional.length === 0) {
    const initNames = task.containers.filter((c) => once.has(c.name)).map((c) => c.name);
    ok(
      NEED.longRunning,
      `${longRunning.map((c) => c.name).join(", ")} essential${initNames.length ? `; ${initNames.join(", ")} run${initNames.length === 1 ? "s" : ""} once` : ""}`,
    );
  }

  const essential = task.containers.filter((c) => c.essential);
  if (essential.length === 0) error(NEED.essential, "no container is essential: ECS rejects the task definition", "mark the app essential");
  else ok(NEED.essential, `${essential.length}: ${essential.map((c) => c.name).join(", ")}`);

  // Stop order: ECS stops a container once every running container that depends on it directly
  // has stopped, so the chain from the stopping container to the one it needs may only pass
  // through containers that are still running (an init container has exited long before).
  for (const c of task.containers) {
    for (const needed of c.needsRunning ?? []) {
      const need = NEED.stopOrder(needed, c.name);
      if (!byName.has(needed)) {
        error(need, `${c.name} needs ${needed} running, which is not a container of this task`, `name one of ${[...byName.keys()].join(", ")} in needsRunning`);
      } else if (once.has(needed)) {
        error(need, `${c.name} needs ${needed} running, but ${needed} runs once and exits`, `drop ${needed} from needsRunning of ${c.name}`);
      } else {
        const path = dependencyPath(task, c.name, needed, (e) => e.to === needed || !once.has(e.to));
        if (path) ok(need, `${describePath(c.name, path)}: ECS stops ${c.name} first`);
        else {
          error(
            need,
            `${c.name} needs ${needed} running but does not depend on it through running containers: ECS may stop ${needed} first and cut ${c.name}'s traffic while it drains`,
            `make ${c.name} depend on ${needed} (HEALTHY)`,
          );
        }
      }
    }
  }

  // Health check settings ECS accepts; a value out of range fails the task definition's registration.
  const limits = Object.entries(ECS_HEALTH_CHECK_LIMITS) as [keyof typeof ECS_HEALTH_CHECK_LIMITS, { readonly min: number; readonly max: number }][];
  const checked = task.containers.filter((c) => c.healthCheck);
  let outOfRange = 0;
  for (const c of checked) {
    for (const [field, { min, max }] of limits) {
      const value = c.healthCheck![field];
      if (Number.isInteger(value) && value >= min && value <= max) continue;
      outOfRange += 1;
      error(NEED.healthLimits, `${c.name} healthCheck.${field} is ${value}; ECS accepts ${min}-${max}`, `set ${c.name}'s healthCheck.${field} within ${min}-${max}`);
    }
  }
  if (outOfRange === 0) {
    ok(
      NEED.healthLimits,
      checked.length === 0
        ? "no health check"
        : checked.map((c) => `${c.name} start ${c.healthCheck!.startPeriod} s, every ${c.healthCheck!.interval} s, ${c.healthCheck!.retries} retries`).join("; "),
    );
  }
  return reports;
}

export const checkLifecycle = modelRule(taskLifecycle);
