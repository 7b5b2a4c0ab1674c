// The trust model: for every container of every task, what it can reach, derived from the plan.
// The containers of a task share one network namespace (awsvpc), so each reaches every loopback
// endpoint the others serve; a Unix socket or a file only through a volume it mounts; its own
// secrets; and whatever the task role yields, since ECS serves the role's credentials to every
// container. The rule: the app (the container that runs the user's code, assumed compromised)
// reaches no credential and no admin endpoint, except where the plan names the architecture's
// boundary and why; a mesh-wide credential (the agent token, the gossip key) never.
import { SECRET_CREDENTIALS } from "../plan/containers";
import { TLS_EDGE_SECRET_CREDENTIALS } from "../plan/tls-edge";
import type { Boundary, ContainerPlan, Credential, MeshPlan, TaskPlan } from "../plan/types";
import { isSlot } from "../plan/text";
import { modelRule, rowWriter, type PathReport } from "./network-paths";
import { tasksOf, type TaskRef } from "./task-graph";

/** Credentials of the whole mesh: no boundary excuses an app that reaches one. */
const MESH_WIDE: ReadonlySet<Credential> = new Set(["agent-token", "gossip-key"]);

const NEED = "the app reaches no credential and no admin endpoint";

/** One thing a container reaches, and how. */
export interface Reach {
  readonly what: Credential | "admin";
  readonly how: string;
  readonly boundary?: Boundary;
}

function secretCredentials(container: ContainerPlan): Reach[] {
  return (container.secrets ?? []).flatMap((secret) => {
    const credential = isSlot(secret.valueFrom) ? (SECRET_CREDENTIALS[secret.valueFrom.slot] ?? TLS_EDGE_SECRET_CREDENTIALS[secret.valueFrom.slot]) : undefined;
    return credential ? [{ what: credential, how: `its secret ${secret.name}` }] : [];
  });
}

function mounts(container: ContainerPlan): ReadonlySet<string> {
  return new Set((container.mountPoints ?? []).map((m) => m.sourceVolume));
}

/** What a container holds itself: its secrets and the files in the volumes it mounts. */
function holds(task: TaskPlan, container: ContainerPlan): Reach[] {
  const mounted = mounts(container);
  const files = task.containers.flatMap((writer) =>
    (writer.stores ?? [])
      .filter((file) => mounted.has(file.volume))
      .flatMap((file) => file.holds.map((what) => ({ what, how: `${file.path} (written by ${writer.name}, volume ${file.volume})`, boundary: file.boundary }))),
  );
  return [...secretCredentials(container), ...files];
}

/** Capabilities that let a container capture the task's loopback traffic (packet sockets). */
const CAPTURE_CAPABILITIES = ["NET_RAW"];

const capturesLoopback = (container: ContainerPlan) => !CAPTURE_CAPABILITIES.every((cap) => (container.dropCapabilities ?? []).some((d) => d === cap || d === "ALL"));

/** Everything one container of a task can reach. */
export function reachOf(task: TaskPlan, container: ContainerPlan): Reach[] {
  const mounted = mounts(container);
  const sniffs = capturesLoopback(container);
  const endpoints = task.containers
    .filter((server) => server !== container)
    .flatMap((server) =>
      (server.serves ?? []).flatMap((endpoint): Reach[] => {
        if ("socket" in endpoint.on && !mounted.has(endpoint.on.volume)) return [];
        const at = "socket" in endpoint.on ? `socket ${endpoint.on.socket}` : endpoint.on.tcp === "any" ? "a loopback port" : `127.0.0.1:${endpoint.on.tcp}`;
        const how = `${server.name}'s ${endpoint.name} (${at})`;
        const revealed = [...endpoint.reveals, ...(endpoint.revealsOwnConfig ? holds(task, server).map((r) => r.what) : [])];
        const carried = sniffs && "tcp" in endpoint.on ? (endpoint.carries ?? []).filter((what) => !revealed.includes(what)) : [];
        return [
          ...(endpoint.controls ? [{ what: "admin" as const, how, boundary: endpoint.boundary }] : []),
          ...[...new Set(revealed)].map((what) => ({ what, how, boundary: endpoint.boundary })),
          ...carried.map((what) => ({ what, how: `${how}, captured from loopback with CAP_NET_RAW`, boundary: endpoint.boundary })),
        ];
      }),
    );
  const role = (task.roleCredentials ?? []).map((r) => ({ what: r.credential, how: `the task role: ${r.how}`, boundary: r.boundary }));
  return [...holds(task, container), ...endpoints, ...role];
}

function describe(reach: Reach): string {
  return `${reach.what === "admin" ? "an admin endpoint" : reach.what} through ${reach.how}`;
}

/** Rows of the deployability model: per app container, each reach (an error unless a boundary) or that it reaches nothing. */
export function trustModel(plan: MeshPlan): PathReport[] {
  return tasksOf(plan).flatMap((ref) => trustOf(ref));
}

function trustOf(ref: TaskRef): PathReport[] {
  const { who, specPath, task } = ref;
  const rows: PathReport[] = [];
  const row = rowWriter(rows, who, specPath);
  const reachRow = rowWriter(rows, who, ref.service ? `${specPath}.architecture` : specPath);
  const apps = task.containers.filter((c) => c.untrusted);
  // Every task runs user code somewhere: a task with no container marked as the app would pass unchecked.
  if (apps.length === 0) {
    row.error(
      NEED,
      "no container is marked as the app (untrusted): nothing here checks what user code reaches",
      "mark the container that runs the user's code untrusted (lib/plan/containers.ts, lib/plan/dataplane.ts, lib/plan/tls-edge.ts)",
    );
  }
  for (const app of apps) {
    const reaches = reachOf(task, app);
    for (const reach of reaches) {
      const excused = reach.boundary !== undefined && !(reach.what !== "admin" && MESH_WIDE.has(reach.what));
      if (excused) row.ok(NEED, `${app.name} reaches ${describe(reach)}: the architecture's boundary: ${reach.boundary}`);
      else {
        reachRow.error(
          NEED,
          `${app.name} reaches ${describe(reach)}`,
          "move the endpoint to a Unix socket in a volume the app does not mount, or keep the file out of the volumes it mounts (lib/plan/containers.ts, lib/plan/dataplane.ts, lib/plan/tls-edge.ts)",
        );
      }
    }
    if (reaches.length === 0) row.ok(NEED, `${app.name} reaches none`);
  }
  for (const confined of task.containers.filter((c) => c.confined !== undefined && !c.untrusted)) {
    for (const reach of reachOf(task, confined)) {
      if (reach.boundary !== undefined && !(reach.what !== "admin" && MESH_WIDE.has(reach.what))) continue;
      reachRow.error(
        NEED,
        `${confined.name} (${confined.confined}) reaches ${describe(reach)}`,
        "keep it off the endpoint or the volume, or drop the capability that lets it capture loopback traffic (lib/plan/observability.ts)",
      );
    }
  }
  return rows;
}

export const checkTrust = modelRule(trustModel);
