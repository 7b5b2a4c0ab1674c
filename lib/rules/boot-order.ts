// Boot order: what a task needs at start that it cannot make itself, and how the plan makes
// sure it is there. Either Terraform creates it first (the ECS service's depends_on, listed in
// the plan as ServicePlan.startsAfter), or a container waits for it with a bounded retry that
// covers a cold server boot (CONTROL_PLANE_COLD_BOOT_SECONDS). The control plane (servers that
// answer, this task's ACL token) only exists after the apply, so only a wait can cover it, and
// no health check may count on it before that wait is over: an essential container turning
// UNHEALTHY makes ECS replace the task, and a container waiting for HEALTHY never starts.
import { CONTROL_PLANE_COLD_BOOT_SECONDS } from "../plan/server";
import { SERVER_WRITTEN_MESH_SECRETS } from "../plan/containers";
import type { ContainerPlan, DependencyCondition, MeshPlan, ServerPlan } from "../plan/types";
import { modelRule, type PathReport } from "./network-paths";
import { containerMap, dependencyPath, describePath, edgesOf, tasksOf, type TaskRef, taskRowWriter } from "./task-graph";

const COLD_BOOT = CONTROL_PLANE_COLD_BOOT_SECONDS;

const needsControlPlane = (c: ContainerPlan): boolean => (c.needs ?? []).some((n) => n.need === "control-plane");
const checkNeedsControlPlane = (c: ContainerPlan): boolean => (c.healthCheck?.needs ?? []).includes("control-plane");

/** Seconds a failing health check takes to turn UNHEALTHY: failures count after the start period, `retries` of them, `interval` apart (ECS HealthCheck). */
function secondsToUnhealthy(check: NonNullable<ContainerPlan["healthCheck"]>): number {
  return check.startPeriod + check.retries * check.interval;
}

export function bootOrder(plan: MeshPlan): PathReport[] {
  return tasksOf(plan).flatMap((ref) => bootOrderOf(ref, plan.server));
}

/** `server`: whether the servers create the dataplane login (login), and whether the tasks start only once it exists (Auto Scaling servers report in service only then). */
function bootOrderOf(ref: TaskRef, server: Pick<ServerPlan, "login" | "placement">): PathReport[] {
  const { task, startsAfter } = ref;
  const reports: PathReport[] = [];
  const { ok, error, warn } = taskRowWriter(reports, ref);
  const byName = containerMap(task);
  const edges = edgesOf(task).filter((e) => e.to !== e.from && byName.has(e.to));

  // Secrets the stack creates (slots): ECS reads them once when the task starts, with no retry. Terraform
  // writes most; the servers write the RPC CA's certificate at boot.
  const slots = task.containers.flatMap((c) => (c.secrets ?? []).flatMap((s) => (typeof s.valueFrom === "string" ? [] : [s.valueFrom.slot])));
  const serverWritten = slots.filter((slot) => (SERVER_WRITTEN_MESH_SECRETS as readonly string[]).includes(slot));
  if (slots.length > serverWritten.length) {
    const need = "its secrets' values at start (ECS reads them once)";
    if (startsAfter.includes("mesh-secrets")) ok(need, "Terraform writes them first (depends_on the secret versions)");
    else if (startsAfter.includes("edge-ca"))
      ok(need, "scripts/tls-edge-ca.sh writes the CA version the tasks pin; the ECS service's precondition refuses to run tasks until that version exists");
    else error(need, "the ECS service may start tasks before the secret versions exist: those tasks fail to start", 'list "mesh-secrets" in startsAfter (lib/plan/build.ts)');
  }
  if (serverWritten.length > 0) {
    // A secret without an AWSCURRENT version: the ECS agent's GetSecretValue fails (ResourceNotFoundException),
    // the task stops before its containers start (ResourceInitializationError, amazon-ecs-agent#4181), and the
    // service scheduler starts another, throttled at most 27 minutes apart, never giving up ("Amazon ECS service
    // throttle logic"). With the deployment circuit breaker on, a deployment fails after its threshold of such
    // tasks (at least 3) and stops launching tasks; a first deployment has nothing to roll back to.
    const need = "the RPC CA certificate at start, which the first server writes at boot (ECS reads it once)";
    const breaker = ref.service?.circuitBreaker ?? true;
    if (!startsAfter.includes("consul-servers")) {
      error(
        need,
        "the ECS service may start tasks before any server has booted: they fail to start until one has written it",
        'list "consul-servers" in startsAfter (lib/plan/build.ts)',
      );
    } else if (server.placement === "auto-scaling") {
      ok(need, "Terraform creates the servers first, and each reports in service only after writing or reading it (its launch hook)");
    } else if (breaker) {
      error(
        need,
        "Terraform creates the fixed servers first but does not wait for their boot: tasks started before the first server wrote it fail to start, and the deployment circuit breaker fails the first deployment after 3 of them and stops launching tasks (nothing to roll back to): the service never comes up",
        "turn the circuit breaker off for this service (circuitBreakerFor, lib/plan/build.ts), or use Auto Scaling servers (no consul.serverPrivateIps: Terraform waits until they are in service)",
      );
    } else {
      ok(
        need,
        "Terraform does not wait for the fixed servers' boot: a task started before the first server wrote it fails to start and ECS starts another (throttled, at most 27 min apart, never giving up); the circuit breaker is off for this service, so a first deployment cannot fail for it",
      );
    }
  }

  const waiters = task.containers.filter(needsControlPlane);
  const checks = task.containers.filter(checkNeedsControlPlane);
  if (waiters.length === 0 && checks.length === 0) return reports;

  /** The first `condition` dependency on the way to `name` (direct or through others) on a container that passes `test`, and the chain to it. */
  const reached = (name: string, condition: DependencyCondition, test: (to: ContainerPlan) => boolean): { readonly to: string; readonly chain: string } | undefined => {
    for (const e of edges.filter((edge) => edge.condition === condition && test(byName.get(edge.to)!))) {
      const path = e.from === name ? [] : dependencyPath(task, name, e.from);
      if (path) return { to: e.to, chain: describePath(name, [...path, e]) };
    }
    return undefined;
  };
  /** The wait that runs before `name` starts: a SUCCESS dependency (direct or through others) on a container that waits for the control plane. */
  const gate = (name: string) => reached(name, "SUCCESS", needsControlPlane);
  /**
   * A HEALTHY wait on the way to `name` whose health check needs the control plane, has no wait
   * before it and gives up before a cold boot is over: `name` does not start on a first deploy.
   */
  const blockingCheck = (name: string) =>
    reached(name, "HEALTHY", (target) => checkNeedsControlPlane(target) && !gate(target.name) && secondsToUnhealthy(target.healthCheck!) < COLD_BOOT);

  const ordered = (["consul-servers", "service-token"] as const).filter((p) => startsAfter.includes(p));
  const orderedText = ordered.length
    ? `; Terraform creates ${ordered.map((p) => (p === "consul-servers" ? "the servers" : "its service token parameter")).join(" and ")} first`
    : "";
  for (const w of waiters) {
    const need = `control plane at start (${w.name}): servers up, its ACL token`;
    const retry = Math.min(...(w.needs ?? []).filter((n) => n.need === "control-plane").map((n) => n.retrySeconds));
    const blocked = blockingCheck(w.name);
    if (retry < COLD_BOOT) {
      error(
        need,
        retry === 0
          ? `${w.name} fails at once when the control plane is not up yet, as on every first deploy`
          : `${w.name} retries ${retry} s, less than a cold server boot (${COLD_BOOT} s)`,
        `retry for at least ${COLD_BOOT} s (CONTROL_PLANE_WAIT, lib/plan/containers.ts; the estimate is CONTROL_PLANE_COLD_BOOT_SECONDS, lib/plan/server.ts)`,
      );
    } else if (blocked) {
      error(
        need,
        `${w.name} retries ${retry} s, but it starts only after ${blocked.to} is HEALTHY (${blocked.chain}), and that health check needs the control plane: on a cold boot ${blocked.to} does not turn healthy, so the wait never begins`,
        `make ${blocked.to}'s health check a liveness probe that needs no server (lib/plan/containers.ts): the waiting belongs in ${w.name}`,
      );
    } else {
      const retries = Number.isFinite(retry) ? `retries up to ${retry} s` : "retries until it gets through";
      ok(need, `${w.name} ${retries} (a cold server boot takes up to ${COLD_BOOT} s)${orderedText}`);
    }
  }

  // A login signed once: it succeeds only if what it logs in to exists within the signature's
  // validity, and a task whose signature went stale must end, or it waits forever.
  for (const w of waiters) {
    const validity = Math.min(...(w.needs ?? []).flatMap((n) => (n.signedOnceValidSeconds === undefined ? [] : [n.signedOnceValidSeconds])));
    if (!Number.isFinite(validity)) continue;
    const need = `${w.name}'s IAM login, signed once when it starts and rejected by AWS ${validity} s later`;
    const stoppers = edges.filter((e) => e.to === w.name && byName.get(e.from)!.essential).map((e) => e.from);
    if (!server.login) {
      error(
        need,
        "nothing creates the auth method before the tasks start (a later deploy would): a task that starts first signs a login that expires before the auth method exists, and retries it forever",
        "let the servers create the auth method, binding rule and synthetic node (ServerPlan.login, lib/plan/server.ts)",
      );
    } else if (w.startTimeout === undefined || w.startTimeout >= validity || stoppers.length === 0) {
      error(
        need,
        `${w.startTimeout === undefined ? "no startTimeout" : `startTimeout ${w.startTimeout} s`}${stoppers.length === 0 ? " and no essential container waiting on it" : ""}: a task whose signature went stale (the servers unreachable for longer) never logs in, never fails, and is never replaced`,
        `set ${w.name}'s startTimeout below ${validity} s, with an essential container depending on it (lib/plan/dataplane.ts)`,
      );
    } else {
      const stale = `a task whose login went stale stops after ${w.startTimeout} s (${stoppers.join(", ")} give${stoppers.length === 1 ? "s" : ""} up) and ECS starts one with a fresh signature`;
      if (server.placement === "auto-scaling") ok(need, `the servers create the auth method and report in service only then, and the tasks start after them; ${stale}`);
      else if (!(ref.service?.circuitBreaker ?? true)) {
        ok(
          need,
          `the servers create the auth method once they are up, and the tasks may start first: ${stale}, until the servers are up (the circuit breaker is off for this service)`,
        );
      } else {
        // Fixed servers gate nothing: tasks start while the servers boot, and each one that times out
        // counts toward the deployment circuit breaker (at least 3 failures roll the deployment back).
        warn(
          need,
          `the servers create the auth method once they are up, but the tasks may start first: ${stale}, and a cold boot (up to ${COLD_BOOT} s) can outlast it, so on a first deploy tasks fail and may trip the deployment circuit breaker`,
          "use Auto Scaling servers (no consul.serverPrivateIps: the tasks start once the servers are in service, which they report once the login exists), or deploy the dataplane services with count 0 first and raise it once the servers are up",
        );
      }
    }
  }

  // Every health check of the task: what it needs, and whether the boot is over before it counts.
  const dependants = (name: string) => edges.filter((e) => e.to === name && e.condition === "HEALTHY").map((e) => e.from);
  for (const c of task.containers.filter((container) => container.healthCheck)) {
    const need = `${c.name} health check during a cold boot`;
    if (!checkNeedsControlPlane(c)) {
      ok(need, "needs nothing outside the task");
      continue;
    }
    const gated = gate(c.name);
    if (gated) {
      ok(need, `needs the control plane; runs after ${gated.to} waited for it (${gated.chain})`);
      continue;
    }
    const tolerance = secondsToUnhealthy(c.healthCheck!);
    const waiting = dependants(c.name);
    if (tolerance >= COLD_BOOT || (!c.essential && waiting.length === 0)) {
      ok(need, `needs the control plane; turns UNHEALTHY after ${tolerance} s of failures, ${tolerance >= COLD_BOOT ? "longer than a cold boot" : "and nothing depends on it"}`);
      continue;
    }
    const timing = `startPeriod ${c.healthCheck!.startPeriod} s + ${c.healthCheck!.retries} retries × ${c.healthCheck!.interval} s = ${tolerance} s, within a cold server boot (${COLD_BOOT} s)`;
    const effect = c.essential
      ? `${c.name} is essential, so ECS stops the task and starts another, which races again`
      : `${waiting.join(", ")} wait${waiting.length === 1 ? "s" : ""} for it HEALTHY and never start${waiting.length === 1 ? "s" : ""}`;
    error(
      need,
      `needs the control plane and nothing before it waited for that: it turns UNHEALTHY ${timing}; ${effect}`,
      `make the check a liveness probe that needs no server and wait for the control plane, bounded, in an init container; or start ${c.name} after that wait (lib/plan/containers.ts)`,
    );
  }
  return reports;
}

export const checkBootOrder = modelRule(bootOrder);
