// The tasks of a plan and the dependsOn graph of their containers, for the lifecycle and
// boot-order rules. ECS starts a container once each container it depends on reached the
// condition, and stops containers in reverse: a container is stopped only after every running
// container that depends on it directly has stopped (amazon-ecs-agent,
// agent/engine/dependencygraph/graph.go, verifyShutdownOrder), so an init container that has
// already exited holds nothing back at stop time.
import { ecsServicesOf } from "../plan/names";
import type { ContainerPlan, DependencyCondition, MeshPlan, ServicePlan, StartPrerequisite, TaskPlan } from "../plan/types";
import { type PathReport, rowWriter } from "./network-paths";

/** One task definition of the plan, named as the model reports it. */
export interface TaskRef {
  /** "service http-client (tasks)", "TLS edge tls-edge (tasks)": the same names as networkPaths. */
  readonly who: string;
  /** Where its settings are in the spec. */
  readonly specPath: string;
  readonly task: TaskPlan;
  /** The mesh service (or version) it belongs to; none for the TLS edge. */
  readonly service?: ServicePlan;
  /** The version whose ECS service runs it; none for a service without versions and the TLS edge. */
  readonly version?: string;
  /** What Terraform creates before its ECS service starts tasks. */
  readonly startsAfter: readonly StartPrerequisite[];
}

/**
 * Every task definition the stacks create: each ECS service's (a service's, or each of its
 * versions', which may differ from the service-level plan), by service name, then the TLS edge.
 */
export function tasksOf(plan: MeshPlan): TaskRef[] {
  const tasks: TaskRef[] = plan.services.flatMap((service) =>
    ecsServicesOf(service).map((unit) => ({
      who: `service ${service.name} (tasks)`,
      specPath: unit.path,
      task: unit.task,
      service: unit,
      startsAfter: unit.startsAfter,
      ...(unit.version === undefined ? {} : { version: unit.version }),
    })),
  );
  if (plan.tlsEdge) tasks.push({ who: `TLS edge ${plan.tlsEdge.serviceName} (tasks)`, specPath: "tlsEdge", task: plan.tlsEdge.task, startsAfter: plan.tlsEdge.startsAfter });
  return tasks;
}

/** rowWriter for one task: a version's rows say which version (its rows share the service's group, as its rollout's do). */
export function taskRowWriter(reports: PathReport[], ref: TaskRef, specPath: string = ref.specPath) {
  const rows = rowWriter(reports, ref.who, specPath);
  if (ref.version === undefined) return rows;
  const which = `version ${ref.version}: `;
  return {
    ok: (need: string, path: string, fix?: string) => rows.ok(need, `${which}${path}`, fix),
    error: (need: string, path: string, fix?: string) => rows.error(need, `${which}${path}`, fix),
    warn: (need: string, path: string, fix?: string) => rows.warn(need, `${which}${path}`, fix),
  };
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly condition: DependencyCondition;
}

/** Every dependsOn entry of the task, in container order. */
export function edgesOf(task: TaskPlan): Edge[] {
  return task.containers.flatMap((c) => (c.dependsOn ?? []).map((d) => ({ from: c.name, to: d.containerName, condition: d.condition })));
}

export function containerMap(task: TaskPlan): ReadonlyMap<string, ContainerPlan> {
  return new Map(task.containers.map((c) => [c.name, c]));
}

/** Containers others wait on to exit (SUCCESS or COMPLETE): they run once. Every other container runs as long as the task. */
export function runsOnce(task: TaskPlan): ReadonlySet<string> {
  return new Set(
    edgesOf(task)
      .filter((e) => e.condition === "SUCCESS" || e.condition === "COMPLETE")
      .map((e) => e.to),
  );
}

/** Every dependency cycle of a task as a closed path of names ("a", "b", "a"), each reported once. */
export function cyclesOf(task: TaskPlan): string[][] {
  const next = new Map<string, string[]>(task.containers.map((c) => [c.name, []]));
  for (const e of edgesOf(task)) next.get(e.from)?.push(e.to);
  return cyclesIn(next);
}

/** Every cycle of a directed graph (node -> the nodes it depends on) as a closed path, each reported once. */
export function cyclesIn(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const to of edges.get(node) ?? []) {
      if (state.get(to) === "visiting") {
        const cycle = stack.slice(stack.indexOf(to));
        const key = [...cycle].sort().join("\u0000");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, to]);
        }
      } else if (!state.has(to)) {
        visit(to);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/**
 * Start order as levels: each container one level after the latest container it depends on,
 * "a > b, c > d". Only meaningful on an acyclic graph of known names.
 */
export function startLevels(task: TaskPlan): string[][] {
  const byName = containerMap(task);
  const level = new Map<string, number>();
  const levelOf = (name: string, path: ReadonlySet<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const deps = (byName.get(name)?.dependsOn ?? []).map((d) => d.containerName).filter((d) => byName.has(d) && !path.has(d));
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => levelOf(d, new Set([...path, name]))));
    level.set(name, value);
    return value;
  };
  const levels: string[][] = [];
  // biome-ignore lint/suspicious/noAssignInExpressions: creates the level on first use
  for (const c of task.containers) (levels[levelOf(c.name, new Set())] ??= []).push(c.name);
  return levels.filter((l) => l !== undefined);
}

/**
 * A dependsOn path from `from` to `to` whose every edge passes `allowed` (breadth first, so the
 * shortest), as the edges taken; undefined when there is none.
 */
export function dependencyPath(task: TaskPlan, from: string, to: string, allowed: (edge: Edge) => boolean = () => true): Edge[] | undefined {
  const edges = edgesOf(task).filter(allowed);
  const via = new Map<string, Edge>();
  const queue = [from];
  const seen = new Set([from]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === to) {
      const path: Edge[] = [];
      for (let at = to; at !== from; at = via.get(at)!.from) path.unshift(via.get(at)!);
      return path;
    }
    for (const edge of edges.filter((e) => e.from === node && !seen.has(e.to))) {
      seen.add(edge.to);
      via.set(edge.to, edge);
      queue.push(edge.to);
    }
  }
  return undefined;
}

/** "app -> envoy-sidecar (HEALTHY) -> ..." */
export function describePath(from: string, path: readonly Edge[]): string {
  return [from, ...path.map((e) => `${e.to} (${e.condition})`)].join(" -> ");
}
