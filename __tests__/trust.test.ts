// The trust model (lib/rules/trust.ts): what each task's app can reach, derived from the plan, and
// the synthesized task definitions it describes. An app that reaches a token, a key or an admin
// endpoint is an error unless the plan names the architecture's boundary; a mesh-wide credential
// is an error always.
import * as fs from "node:fs";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { CONTAINER_NAMES, ENVOY_ADMIN_VOLUME, BOOTSTRAP_VOLUME, MESH_SECRET_SLOTS } from "../lib/plan/containers";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { slot } from "../lib/plan/text";
import { TLS_EDGE_CONTAINERS, TLS_EDGE_VOLUMES } from "../lib/plan/tls-edge";
import type { ContainerPlan, MeshPlan, ServicePlan, TaskPlan } from "../lib/plan/types";
import { checkPlan } from "../lib/rules";
import { reachOf, trustModel } from "../lib/rules/trust";
import { ENVOY_PORTS, TASK_PATHS } from "../lib/facts";
import { loadSpec, loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { planOf, synthAllStacks } from "./support/synth";

const defaultPlan = loadSpec({}, undefined).plan;
const production = loadSpecFile("examples/production.yaml").plan;
const edgePlan = loadSpecFile("examples/tls-edge.yaml").plan;

/** The plan with one service's task changed by `edit`. */
function withTask(plan: MeshPlan, service: string, edit: (task: TaskPlan) => TaskPlan): MeshPlan {
  return { ...plan, services: plan.services.map((s): ServicePlan => (s.name === service ? { ...s, task: edit(s.task) } : s)) };
}

function editContainer(task: TaskPlan, name: string, edit: (c: ContainerPlan) => ContainerPlan): TaskPlan {
  return { ...task, containers: task.containers.map((c) => (c.name === name ? edit(c) : c)) };
}

const errorsOf = (plan: MeshPlan) => trustModel(plan).filter((r) => r.verdict === "error");
const agentService = defaultPlan.services.find((s) => s.architecture === "agent")!;

describe("the trust model on agent tasks", () => {
  it("reports the service token and the admin API reachable from the app when Envoy's admin listens on 127.0.0.1:19000 (the task definitions before this change)", () => {
    const before = withTask(defaultPlan, agentService.name, (task) =>
      editContainer(task, CONTAINER_NAMES.envoySidecar, (envoy) => ({
        ...envoy,
        serves: envoy.serves!.map((e) => (e.name === "Envoy admin API" ? { ...e, on: { tcp: ENVOY_PORTS.admin } } : e)),
      })),
    );
    expect(errorsOf(before).map((r) => r.path)).toEqual([
      "app reaches an admin endpoint through envoy-sidecar's Envoy admin API (127.0.0.1:19000)",
      "app reaches service-token through envoy-sidecar's Envoy admin API (127.0.0.1:19000)",
    ]);
    const { errors } = checkPlan(before);
    expect(errors).toContainEqual({
      path: `${agentService.path}.architecture`,
      message: expect.stringContaining("app reaches service-token through envoy-sidecar's Envoy admin API"),
    });
  });

  it("the app of today's agent task reaches nothing: the admin API is a socket in a volume the app does not mount", () => {
    const app = agentService.task.containers.find((c) => c.untrusted)!;
    expect(reachOf(agentService.task, app)).toEqual([]);
    // The sidecars themselves hold what they need: the model sees it, the rule does not apply to them.
    const bootstrap = agentService.task.containers.find((c) => c.name === CONTAINER_NAMES.envoyBootstrap)!;
    expect(reachOf(agentService.task, bootstrap).map((r) => r.what)).toContain("service-token");
  });

  it.each([
    ["mounts the bootstrap volume", BOOTSTRAP_VOLUME, "service-token through /consul/envoy/bootstrap.json (written by envoy-bootstrap, volume envoy-bootstrap)"],
    ["mounts the admin socket's volume", ENVOY_ADMIN_VOLUME, "an admin endpoint through envoy-sidecar's Envoy admin API (socket /envoy-admin/admin.sock)"],
  ])("an app that %s reaches the token", (_name, volume, expected) => {
    const plan = withTask(defaultPlan, agentService.name, (task) =>
      editContainer(task, CONTAINER_NAMES.app, (app) => ({ ...app, mountPoints: [{ sourceVolume: volume, containerPath: "/x", readOnly: true }] })),
    );
    expect(errorsOf(plan).map((r) => r.path)).toContain(`app reaches ${expected}`);
  });

  it("an app that keeps CAP_NET_RAW reads the service token its sidecars send in plaintext over loopback", () => {
    const plan = withTask(defaultPlan, agentService.name, (task) => editContainer(task, CONTAINER_NAMES.app, ({ dropCapabilities: _, ...app }) => app));
    expect(errorsOf(plan).map((r) => r.path)).toEqual([
      "app reaches service-token through consul-agent's Consul HTTP API (127.0.0.1:8500), captured from loopback with CAP_NET_RAW",
      "app reaches service-token through consul-agent's Consul gRPC (xDS) (127.0.0.1:8502), captured from loopback with CAP_NET_RAW",
    ]);
  });

  it("a task with no container marked as the app is an error, not a pass", () => {
    const plan = withTask(defaultPlan, agentService.name, (task) => editContainer(task, CONTAINER_NAMES.app, ({ untrusted: _, ...app }) => app));
    expect(errorsOf(plan).map((r) => r.path)).toEqual(["no container is marked as the app (untrusted): nothing here checks what user code reaches"]);
  });

  it("an app given a mesh secret reaches it", () => {
    const plan = withTask(defaultPlan, agentService.name, (task) =>
      editContainer(task, CONTAINER_NAMES.app, (app) => ({ ...app, secrets: [{ name: "GOSSIP", valueFrom: slot(MESH_SECRET_SLOTS.gossipKey) }] })),
    );
    expect(errorsOf(plan).map((r) => r.path)).toEqual(["app reaches gossip-key through its secret GOSSIP"]);
  });
});

describe("the trust model on dataplane tasks", () => {
  const service = production.services.find((s) => s.architecture === "dataplane")!;

  it("names each boundary of the architecture, and reports no error", () => {
    const rows = trustModel(production).filter((r) => r.who === `service ${service.name} (tasks)`);
    expect(rows.every((r) => r.verdict === "ok")).toBe(true);
    expect(rows.map((r) => r.path.replace(/: the architecture's boundary: .*/, ""))).toEqual([
      "app reaches signed-login through /consul/consul-dataplane.json (written by consul-ecs-mesh-init, volume consul_data)",
      "app reaches an admin endpoint through consul-dataplane's Envoy admin API (127.0.0.1:19000)",
      "app reaches an admin endpoint through consul-dataplane's lifecycle server (127.0.0.1:20300)",
      "app reaches signed-login through the task role: an IAM login to the auth method (sts:GetCallerIdentity, signed)",
      "app reaches telemetry-write through the task role: logs:CreateLogStream, logs:PutLogEvents, for the collector's EMF metrics (PutLogEvents on its own stream of the metrics log group)",
    ]);
  });

  it("no boundary excuses a mesh-wide credential", () => {
    const plan = withTask(production, service.name, (task) =>
      editContainer(task, DATAPLANE_CONTAINERS.meshInit, (init) => ({ ...init, stores: [{ ...init.stores![0]!, holds: ["gossip-key"] }] })),
    );
    expect(errorsOf(plan).map((r) => r.path)).toEqual(["app reaches gossip-key through /consul/consul-dataplane.json (written by consul-ecs-mesh-init, volume consul_data)"]);
  });
});

describe("the trust model on the TLS edge", () => {
  const task = edgePlan.tlsEdge!.task;

  it("the app reaches only the collector's grant; mounting Envoy's config volume would give it the private key and the admin API", () => {
    expect(trustModel(edgePlan).filter((r) => r.who.startsWith("TLS edge"))).toEqual([
      expect.objectContaining({
        verdict: "ok",
        path: expect.stringMatching(/^app reaches telemetry-write through the task role: logs:CreateLogStream, logs:PutLogEvents, for .*: the architecture's boundary: /),
      }),
    ]);
    const mounted = {
      ...edgePlan,
      tlsEdge: {
        ...edgePlan.tlsEdge!,
        task: editContainer(task, TLS_EDGE_CONTAINERS.app, (app) => ({ ...app, mountPoints: [{ sourceVolume: TLS_EDGE_VOLUMES.config, containerPath: "/x", readOnly: true }] })),
      },
    };
    expect(errorsOf(mounted).map((r) => r.path)).toEqual([
      "app reaches edge-tls-key through /etc/envoy-tls/key.pem (written by certificate-init, volume envoy-config)",
      "app reaches an admin endpoint through envoy's Envoy admin API (socket /etc/envoy-tls/admin.sock)",
      "app reaches edge-tls-key through envoy's Envoy admin API (socket /etc/envoy-tls/admin.sock)",
    ]);
  });

  it("only the init container reaches the CA key (its ECS secret); Envoy holds its own key, never the CA's", () => {
    const reach = (name: string) => reachOf(task, task.containers.find((c) => c.name === name)!).map((r) => `${r.what} through ${r.how}`);
    const caKey = (name: string) => reach(name).filter((r) => r.startsWith("edge-ca-key"));
    expect(caKey(TLS_EDGE_CONTAINERS.certificateInit)).toEqual(["edge-ca-key through its secret TLS_EDGE_CA_KEY"]);
    expect(reach(TLS_EDGE_CONTAINERS.certificateInit)).toContain("edge-tls-key through /etc/envoy-tls/key.pem (written by certificate-init, volume envoy-config)");
    expect([caKey(TLS_EDGE_CONTAINERS.envoy), caKey(TLS_EDGE_CONTAINERS.app)]).toEqual([[], []]);
    // Given the CA secret, the app would reach the CA key: an error.
    const leaky = {
      ...edgePlan,
      tlsEdge: {
        ...edgePlan.tlsEdge!,
        task: editContainer(task, TLS_EDGE_CONTAINERS.app, (app) => ({
          ...app,
          secrets: task.containers.find((c) => c.name === TLS_EDGE_CONTAINERS.certificateInit)!.secrets!,
        })),
      },
    };
    expect(errorsOf(leaky).map((r) => r.path)).toEqual(["app reaches edge-ca-key through its secret TLS_EDGE_CA_KEY"]);
  });
});

describe("the task role's telemetry grants: what a collector may write, the app may write", () => {
  // Every kind of task with a collector that writes all three: EMF, remote write to a workspace the mesh creates, and spans.
  const example = YAML.parse(fs.readFileSync("examples/tls-edge.yaml", "utf8"));
  const spec = {
    ...example,
    services: { ...example.services, "http-client": { ...example.services["http-client"], architecture: "dataplane" } },
    observability: { ...example.observability, metrics: { enabled: true, prometheus: { workspace: "create" } }, traces: { enabled: true } },
  } as MeshSpecInput;
  const plan = planOf(spec);
  const tasks = [
    { role: "service_http-server_task_role_role", stack: "mesh", task: plan.services.find((s) => s.name === "http-server")!.task },
    { role: "service_http-client_task_role_role", stack: "mesh", task: plan.services.find((s) => s.name === "http-client")!.task },
    { role: "tls_edge_task_role_role", stack: "tls-edge", task: plan.tlsEdge!.task },
  ];

  it("the app of each task reaches the collector's grants, as a boundary the README states", () => {
    expect(tasks.map(({ task }) => task.containers.find((c) => c.untrusted)!.name)).toEqual(["app", "app", TLS_EDGE_CONTAINERS.app]);
    for (const { task } of tasks) {
      const app = task.containers.find((c) => c.untrusted)!;
      const telemetry = reachOf(task, app).filter((r) => r.what === "telemetry-write");
      expect(telemetry.map((r) => r.how.replace(/, for .*/, ""))).toEqual([
        "the task role: logs:CreateLogStream, logs:PutLogEvents",
        "the task role: aps:RemoteWrite",
        "the task role: xray:PutTraceSegments, xray:PutTelemetryRecords",
      ]);
      expect(telemetry.every((r) => r.boundary?.includes("fire or hide its alarms"))).toBe(true);
    }
    expect(trustModel(plan).filter((r) => r.verdict === "error")).toEqual([]);
  });

  it("every logs, aps and xray action the synthesized task roles grant is in the model (a grant the model misses fails here)", () => {
    const stacks = synthAllStacks(spec) as Record<string, any>;
    for (const { role, stack, task } of tasks) {
      const granted = Object.values<any>(stacks[stack].resource.aws_iam_role_policy)
        // ECS Exec's own audit log writes are the operator's session, not the app's (it is off here).
        .filter((p) => p.role === `\${aws_iam_role.${role}.id}` && !p.name_prefix.startsWith("ecs-exec"))
        .flatMap((p) => JSON.parse(p.policy).Statement.flatMap((st: any) => st.Action))
        .filter((action: string) => /^(logs|aps|xray):/.test(action));
      const modelled = (task.roleCredentials ?? []).filter((r) => r.credential === "telemetry-write").flatMap((r) => r.actions ?? []);
      expect(granted.length, role).toBeGreaterThan(0);
      expect([...new Set(granted)].sort(), role).toEqual([...new Set(modelled)].sort());
    }
  });

  it("tasks without metrics or traces reach no telemetry grant", () => {
    expect(defaultPlan.services.flatMap((s) => s.task.roleCredentials ?? [])).toEqual([]);
  });
});

describe("the model describes the synthesized task definitions", () => {
  const { mesh } = synthAllStacks() as { mesh: any };
  const containers = (service: string): any[] => JSON.parse(mesh.resource.aws_ecs_task_definition[`service_${service}_task_definition`].container_definitions);

  it("Envoy's admin is the socket the model names, in a volume only Envoy and its init container mount; the ready listener is the port it names", () => {
    const defs = containers(agentService.name);
    const envoy = defs.find((c) => c.name === CONTAINER_NAMES.envoySidecar);
    const overlay = YAML.parse(envoy.command[envoy.command.indexOf("--config-yaml") + 1]);
    const served = agentService.task.containers.find((c) => c.name === CONTAINER_NAMES.envoySidecar)!.serves!;
    const admin = served.find((e) => e.name === "Envoy admin API")!.on as { socket: string; volume: string };
    expect(overlay.admin.address).toEqual({ pipe: { path: admin.socket, mode: 0o600 } });
    expect(admin.socket.startsWith(`${TASK_PATHS.envoyAdminDir}/`)).toBe(true);
    const mounting = defs.filter((c) => (c.mountPoints ?? []).some((m: any) => m.sourceVolume === admin.volume)).map((c) => c.name);
    expect(mounting).toEqual([CONTAINER_NAMES.envoyBootstrap, CONTAINER_NAMES.envoySidecar]);
    expect(envoy.mountPoints.find((m: any) => m.sourceVolume === admin.volume).containerPath).toBe(TASK_PATHS.envoyAdminDir);
    const ready = served.find((e) => e.name.startsWith("Envoy ready listener"))!.on as { tcp: number };
    expect(overlay.static_resources.listeners.map((l: any) => l.address.socket_address)).toEqual([{ address: "127.0.0.1", port_value: ready.tcp }]);
    expect(envoy.healthCheck.command.join(" ")).toContain(`/dev/tcp/127.0.0.1/${ready.tcp} `);
  });

  it("the file the model says holds the token is where the bootstrap script writes it, in a volume the app does not mount", () => {
    const defs = containers(agentService.name);
    const bootstrap = defs.find((c) => c.name === CONTAINER_NAMES.envoyBootstrap);
    const stored = agentService.task.containers.find((c) => c.name === CONTAINER_NAMES.envoyBootstrap)!.stores![0]!;
    expect(bootstrap.environment).toContainEqual({ name: "ENVOY_BOOTSTRAP", value: stored.path });
    expect(defs.find((c) => c.name === CONTAINER_NAMES.app).mountPoints ?? []).toEqual([]);
  });

  it("dataplane tasks: the signed login the model places in the app's volume is where consul-ecs writes it; the ports it names are the ones configured", () => {
    const production = synthAllStacks(loadSpecFile("examples/production.yaml").spec as never) as any;
    const service = loadSpecFile("examples/production.yaml").plan.services.find((s) => s.architecture === "dataplane")!;
    const defs: any[] = JSON.parse(production.mesh.resource.aws_ecs_task_definition[`service_${service.name}_task_definition`].container_definitions);
    const plan = (name: string) => service.task.containers.find((c) => c.name === name)!;
    const stored = plan(DATAPLANE_CONTAINERS.meshInit).stores![0]!;
    const init = defs.find((c) => c.name === DATAPLANE_CONTAINERS.meshInit);
    const config = JSON.parse(init.environment.find((e: any) => e.name === "CONSUL_ECS_CONFIG_JSON").value);
    // consul-ecs mesh-init writes <bootstrapDir>/consul-dataplane.json (subcommand/mesh-init: dataplaneConfigFileName).
    expect(stored.path).toBe(`${config.bootstrapDir}/consul-dataplane.json`);
    expect(init.mountPoints).toContainEqual({ sourceVolume: stored.volume, containerPath: config.bootstrapDir, readOnly: false });
    expect(defs.find((c) => c.name === "app").mountPoints.map((m: any) => m.sourceVolume)).toEqual([stored.volume]);
    const served = plan(DATAPLANE_CONTAINERS.dataplane).serves!;
    expect(served.find((e) => e.name === "ready listener")!.on).toEqual({ tcp: config.proxy.healthCheckPort });
    // The xDS server (leaf key included) is the socket consul-dataplane is told to bind, in a volume the app does not mount.
    const xds = served.find((e) => e.name === "xDS server")!.on as { socket: string; volume: string };
    const dataplane = defs.find((c) => c.name === DATAPLANE_CONTAINERS.dataplane);
    expect(dataplane.command.slice(dataplane.command.indexOf("-xds-bind-addr"), dataplane.command.indexOf("-xds-bind-addr") + 2)).toEqual([
      "-xds-bind-addr",
      `unix://${xds.socket}`,
    ]);
    expect(defs.filter((c) => (c.mountPoints ?? []).some((m: any) => m.sourceVolume === xds.volume)).map((c) => c.name)).toEqual([
      DATAPLANE_CONTAINERS.meshInit,
      DATAPLANE_CONTAINERS.dataplane,
    ]);
  });

  it("the TLS edge: the key is where the init container makes it and the admin socket where Envoy's config puts it, in a volume only they mount", () => {
    const edgeStack = synthAllStacks(loadSpecFile("examples/tls-edge.yaml").spec as never)["tls-edge"] as any;
    const defs: any[] = JSON.parse(Object.values<any>(edgeStack.resource.aws_ecs_task_definition)[0].container_definitions);
    const plan = (name: string) => edgePlan.tlsEdge!.task.containers.find((c) => c.name === name)!;
    const def = (name: string) => defs.find((c) => c.name === name);
    const key = plan(TLS_EDGE_CONTAINERS.certificateInit).stores![0]!;
    expect(def(TLS_EDGE_CONTAINERS.certificateInit).entryPoint[2]).toContain(`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '${key.path}'\n`);
    const socket = plan(TLS_EDGE_CONTAINERS.envoy).serves!.find((e) => e.name === "Envoy admin API")!.on as { socket: string; volume: string };
    expect(def(TLS_EDGE_CONTAINERS.envoy).entryPoint[2]).toContain(`path: "${socket.socket}"`);
    expect(socket.volume).toBe(key.volume);
    expect(defs.filter((c) => (c.mountPoints ?? []).some((m: any) => m.sourceVolume === socket.volume)).map((c) => c.name)).toEqual([
      TLS_EDGE_CONTAINERS.certificateInit,
      TLS_EDGE_CONTAINERS.envoy,
    ]);
    // ECS gives the CA only to the init container, through the execution role: the task role reads nothing.
    expect(defs.filter((c) => c.secrets).map((c) => c.name)).toEqual([TLS_EDGE_CONTAINERS.certificateInit]);
    const readsSecrets = Object.values<any>(edgeStack.resource.aws_iam_role_policy).filter((p) => String(p.policy).includes("secretsmanager:"));
    expect(readsSecrets.map((p) => p.role)).toEqual(["${aws_iam_role.tls_edge_execution_role_role.id}"]);
  });

  it("every app container drops CAP_NET_RAW, as the model assumes", () => {
    const production = synthAllStacks(loadSpecFile("examples/production.yaml").spec as never) as any;
    const edge = synthAllStacks(loadSpecFile("examples/tls-edge.yaml").spec as never) as any;
    const apps = [
      ...Object.values<any>(mesh.resource.aws_ecs_task_definition),
      ...Object.values<any>(production.mesh.resource.aws_ecs_task_definition),
      ...Object.values<any>(edge["tls-edge"].resource.aws_ecs_task_definition),
    ].map((t) => JSON.parse(t.container_definitions).find((c: any) => c.name === "app"));
    expect(apps.length).toBeGreaterThanOrEqual(6);
    for (const app of apps) expect(app.linuxParameters.capabilities).toEqual({ drop: ["NET_RAW"] });
  });

  it("every example passes the trust rule", () => {
    for (const file of ["examples/default.yaml", "examples/three-tier.yaml", "examples/large-mesh.yaml", "examples/production.yaml", "examples/tls-edge.yaml"]) {
      expect(errorsOf(loadSpecFile(file).plan), file).toEqual([]);
    }
  });
});
