// Every rendered artifact of every shipped spec, judged by what reads it in production: the
// container definitions by the ECS API model and ECS's rules, the Consul configs by HashiCorp's
// HCL parser, the scripts by bash/sh -n and shellcheck, every Terraform string by Terraform's
// template syntax and the stack's own declarations (see tools/judges).
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { planOf, renderServiceTask, synthAllStacks } from "./support/synth";
import { ecsContainerDefinitionErrors, heredocBody, lintShell, materializeTerraformString, parseHcl, taskDefinitionErrors, terraformTemplateProblems } from "../tools/judges";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { meshSpecSchema, type MeshSpec } from "../lib/spec/schema";
import { CONTAINER_NAMES } from "../lib/plan/containers";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import type { ServicePlan } from "../lib/plan/types";
import { checkPlan } from "../lib/rules";
import { ENVOY_PORTS } from "../lib/facts";

const EXAMPLES = fs
  .readdirSync("examples")
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => path.join("examples", f));

const SPECS: [string, MeshSpec][] = [["the default spec", meshSpecSchema.parse(DEFAULT_SPEC)], ...EXAMPLES.map((file): [string, MeshSpec] => [file, loadSpecFile(file).spec])];

type Doc = Record<string, any>;
type Container = Record<string, any>;

interface TaskDefinition {
  readonly stack: string;
  readonly id: string;
  readonly resource: Doc;
  /** The container definitions as ECS receives them (Terraform references as TF_REF_<n>). */
  readonly containers: Container[];
}

function taskDefinitions(stacks: Record<string, Doc>): TaskDefinition[] {
  return Object.entries(stacks).flatMap(([stack, doc]) =>
    Object.entries<Doc>(doc.resource?.aws_ecs_task_definition ?? {}).map(([id, resource]) => {
      expect(typeof resource.container_definitions, `${stack}/${id}: container_definitions is a JSON string`).toBe("string");
      return { stack, id, resource, containers: JSON.parse(materializeTerraformString(resource.container_definitions)) as Container[] };
    }),
  );
}

/** Every EC2 user data: inline on an instance, or in a local that Terraform encodes (launch templates, gzipped server scripts). */
function instances(stacks: Record<string, Doc>): { where: string; userData: string }[] {
  return Object.entries(stacks).flatMap(([stack, doc]) => [
    ...Object.entries<Doc>(doc.resource?.aws_instance ?? {})
      .filter(([, instance]) => instance.user_data !== undefined)
      .map(([id, instance]) => ({ where: `${stack}/aws_instance.${id}`, userData: instance.user_data as string })),
    ...Object.entries<string>(doc.locals ?? {})
      .filter(([id]) => id.endsWith("_user_data"))
      .map(([id, userData]) => ({ where: `${stack}/local.${id}`, userData })),
  ]);
}

/** A container of a mesh task by its name; fails the test when it is missing. */
function container(task: TaskDefinition, name: string): Container {
  const found = task.containers.find((c) => c.name === name);
  expect(found, `${task.id} has a ${name} container`).toBeDefined();
  return found!;
}

/** Tasks of agent-mode mesh services (a Consul client agent in the task). */
const meshTasks = (tasks: TaskDefinition[]): TaskDefinition[] => tasks.filter((t) => t.containers.some((c) => c.name === CONTAINER_NAMES.consulAgent));
/** Tasks of dataplane mesh services (consul-ecs and consul-dataplane in the task). */
const dataplaneTasks = (tasks: TaskDefinition[]): TaskDefinition[] => tasks.filter((t) => t.containers.some((c) => c.name === DATAPLANE_CONTAINERS.dataplane));

/** Every shell script a container runs: `/bin/sh -c|-ec <script>` entry points and commands, and shell health checks. */
function containerScripts(task: TaskDefinition): { where: string; shell: "bash" | "sh"; script: string }[] {
  const scripts: { where: string; shell: "bash" | "sh"; script: string }[] = [];
  const isShellFlags = (flag: unknown) => typeof flag === "string" && /^-[a-z]*c[a-z]*$/.test(flag);
  for (const c of task.containers) {
    const where = `${task.stack}/${task.id}/${c.name}`;
    const entry: unknown[] = c.entryPoint ?? [];
    const shellOf = (binary: unknown): "bash" | "sh" | undefined =>
      binary === "/bin/sh" || binary === "sh" ? "sh" : binary === "/bin/bash" || binary === "bash" ? "bash" : undefined;
    const entryShell = shellOf(entry[0]);
    if (entryShell && isShellFlags(entry[1])) {
      if (entry.length >= 3) scripts.push({ where: `${where} entryPoint`, shell: entryShell, script: entry[2] as string });
      else scripts.push({ where: `${where} command[0]`, shell: entryShell, script: c.command[0] });
    }
    const check: unknown[] = c.healthCheck?.command ?? [];
    if (check[0] === "CMD-SHELL") scripts.push({ where: `${where} healthCheck`, shell: "sh", script: check[1] as string });
    if (check[0] === "CMD" && shellOf(check[1]) && isShellFlags(check[2])) {
      scripts.push({ where: `${where} healthCheck`, shell: shellOf(check[1])!, script: check[3] as string });
    }
  }
  return scripts;
}

/** Lints each distinct script once; failures name every place the script runs. */
function expectScriptsClean(scripts: { where: string; shell: "bash" | "sh"; script: string }[]): void {
  const byScript = new Map<string, string[]>();
  for (const { where, shell, script } of scripts) {
    const key = `${shell}\u0000${script}`;
    byScript.set(key, [...(byScript.get(key) ?? []), where]);
  }
  const failures: string[] = [];
  for (const [key, places] of byScript) {
    const [shell, script] = key.split("\u0000") as ["bash" | "sh", string];
    const result = lintShell(script, shell);
    if (!result.ok) failures.push(`${places.join(", ")} (${shell}):\n${result.output}`);
  }
  expect(failures).toEqual([]);
}

/** The Consul service definition a spec service should register (HCL parsed: blocks as arrays). */
function expectedServiceDefinition(name: string, service: Pick<ServicePlan, "port" | "healthCheck" | "upstreams">): Doc {
  const check = service.healthCheck;
  const checks =
    check.type === "none"
      ? {}
      : {
          check: [
            check.type === "http"
              ? {
                  id: name,
                  name: `HTTP GET on port ${service.port}`,
                  http: `http://127.0.0.1:${service.port}${check.path}`,
                  method: "GET",
                  interval: `${check.intervalSeconds}s`,
                  timeout: `${check.timeoutSeconds}s`,
                }
              : { id: name, name: `TCP on port ${service.port}`, tcp: `127.0.0.1:${service.port}`, interval: `${check.intervalSeconds}s`, timeout: `${check.timeoutSeconds}s` },
          ],
        };
  const upstreams = service.upstreams.map((u) => {
    const p = u.passiveHealthCheck;
    const config = p.enabled
      ? [
          {
            passive_health_check: [
              {
                interval: `${p.intervalSeconds}s`,
                max_failures: p.maxFailures,
                enforcing_consecutive_5xx: p.enforcingConsecutive5xxPercent,
                max_ejection_percent: p.maxEjectionPercent,
                base_ejection_time: `${p.baseEjectionTimeSeconds}s`,
              },
            ],
          },
        ]
      : undefined;
    return { destination_name: u.destination, local_bind_address: "127.0.0.1", local_bind_port: u.localBindPort, ...(config ? { config } : {}) };
  });
  return {
    service: [
      {
        name,
        ...(service.port === undefined ? {} : { port: service.port }),
        ...checks,
        connect: [{ sidecar_service: [{ port: ENVOY_PORTS.publicListener, proxy: [upstreams.length > 0 ? { upstreams } : {}] }] }],
      },
    ],
  };
}

const SECRET_LIKE_NAME = /TOKEN|KEY|SECRET|PASSWORD/i;

describe.each(SPECS)("rendered artifacts of %s", (_label, spec) => {
  let stacks: Record<string, Doc>;
  let tasks: TaskDefinition[];

  beforeAll(() => {
    stacks = synthAllStacks(spec);
    tasks = taskDefinitions(stacks);
  });

  const architectures = new Set(Object.values(spec.services).map((service) => service.architecture ?? spec.architecture));

  /** A service's task definitions: its own (its default version's, with versions), then one per other version. */
  const taskIdsOf = (name: string): string[] => [
    `service_${name}_task_definition`,
    ...Object.keys(spec.services[name]!.versions)
      .sort()
      .slice(1)
      .map((version) => `service_${name}_${version}_task_definition`),
  ];

  /** The agent tasks, checked against the spec's agent services: an empty list is asserted, never assumed. */
  const agentTasks = (): TaskDefinition[] => {
    const found = meshTasks(tasks);
    const expected = Object.entries(spec.services)
      .filter(([, service]) => (service.architecture ?? spec.architecture) === "agent")
      .flatMap(([name]) => taskIdsOf(name));
    expect(found.map((t) => t.id).sort()).toEqual(expected.sort());
    return found;
  };

  it("has a mesh task definition per service", () => {
    expect([...meshTasks(tasks), ...dataplaneTasks(tasks)].map((t) => t.id).sort()).toEqual(Object.keys(spec.services).flatMap(taskIdsOf).sort());
  });

  it("gives ECS container definitions that match the API model and ECS's rules", () => {
    const problems = tasks.flatMap((t) => {
      const networkMode = t.resource.network_mode as "awsvpc" | "bridge" | "host" | "none" | undefined;
      return [...ecsContainerDefinitionErrors(t.containers, { networkMode: networkMode ?? "bridge" }), ...taskDefinitionErrors(t.resource, t.containers)].map(
        (p) => `${t.stack}/${t.id}${p.startsWith("[") ? "" : " "}${p}`,
      );
    });
    expect(problems).toEqual([]);
  });

  it("passes secrets through `secrets`, never through `environment`", () => {
    const leaks = tasks.flatMap((t) =>
      t.containers.flatMap((c) => (c.environment ?? []).filter((e: Container) => SECRET_LIKE_NAME.test(e.name)).map((e: Container) => `${t.id}/${c.name}: ${e.name}`)),
    );
    expect(leaks).toEqual([]);
  });

  it("gives every task's Consul agent a client config that parses with the expected settings", async () => {
    for (const task of agentTasks()) {
      const agent = container(task, CONTAINER_NAMES.consulAgent);
      expect(agent.command.slice(0, 2)).toEqual(["agent", "-hcl"]);
      expect(agent.command[3]).toBe("-hcl");
      expect(agent.command).toHaveLength(5);
      const config = await parseHcl(agent.command[2], `${task.id}/agent.hcl`);
      // The servers' fixed addresses, or cloud auto-join on their tag (the region and cluster name are Terraform references).
      const retryJoin = spec.consul.serverPrivateIps ?? [expect.stringMatching(/^provider=aws region=TF_REF_\d+ tag_key=consul-ecs-mesh:server tag_value=TF_REF_\d+$/)];
      expect(config, task.id).toMatchObject({
        datacenter: spec.consul.datacenter,
        server: false,
        retry_join: retryJoin,
        client_addr: "127.0.0.1",
        enable_script_checks: false,
        tls: [{ defaults: [{ verify_outgoing: true }], internal_rpc: [{ verify_server_hostname: true }] }],
        auto_encrypt: [{ tls: true }],
        acl: [{ enabled: true, default_policy: "deny" }],
      });
    }
  });

  it("registers every service with its port, check, sidecar and upstreams (Consul HCL)", async () => {
    for (const task of agentTasks()) {
      const agent = container(task, CONTAINER_NAMES.consulAgent);
      const definition = await parseHcl(agent.command[4], `${task.id}/service.hcl`);
      const name = (definition.service as Doc[] | undefined)?.[0]?.name as string;
      // A version registers under its service's name with its version in the meta.
      const versions = Object.keys(spec.services[name]!.versions).sort();
      const version = versions.find((v) => task.id === taskIdsOf(name)[versions.indexOf(v)]);
      expect(taskIdsOf(name)).toContain(task.id);
      const expected = expectedServiceDefinition(name, spec.services[name]!);
      expect(definition).toEqual(version === undefined ? expected : { service: [{ ...expected.service[0], meta: { version } }] });
    }
  });

  it("configures the Consul server (CONSUL_CONFIG heredoc of its user data) securely", async () => {
    const servers = instances(stacks).filter((i) => i.userData.includes("<<'CONSUL_CONFIG'"));
    const count = spec.consul.serverPrivateIps?.length ?? spec.consul.servers;
    expect(servers.map((s) => s.where)).toEqual(Array.from({ length: count }, (_, i) => `mesh/local.consul_servers_server_${i + 1}_user_data`));
    const config = await parseHcl(heredocBody(materializeTerraformString(servers[0]!.userData), "CONSUL_CONFIG"), "server.hcl");
    expect(config).toMatchObject({
      datacenter: spec.consul.datacenter,
      server: true,
      bootstrap_expect: count,
      autopilot: [{ cleanup_dead_servers: true, min_quorum: count }],
      enable_script_checks: false,
      connect: [{ enabled: true }],
      ports: [{ https: 8501 }],
      tls: [{ defaults: [{ verify_incoming: true, verify_outgoing: true }], internal_rpc: [{ verify_server_hostname: true }] }],
      acl: [{ enabled: true, default_policy: "deny" }],
    });
    // The servers sign client agents' certificates only when the mesh has agents.
    expect(config.auto_encrypt).toEqual(architectures.has("agent") ? [{ allow_tls: true }] : undefined);
  });

  it("has user data scripts that pass bash -n and shellcheck, and so do the scripts they install", () => {
    const all = instances(stacks);
    expect(all.length).toBeGreaterThan(0);
    const scripts = all.map(({ where, userData }) => ({ where, shell: "bash" as const, script: materializeTerraformString(userData) }));
    const server = scripts.find((s) => s.script.includes("<<'ACL_SYNC'"));
    expect(server, "the Consul server's user data installs the ACL sync script").toBeDefined();
    // The task reaper only where dataplane tasks log in.
    const installed = ["ACL_SYNC", ...(architectures.has("dataplane") ? ["TASK_REAPER"] : []), ...(spec.consul.snapshots.enabled ? ["SNAPSHOT"] : [])];
    expect(server!.script.includes("<<'TASK_REAPER'")).toBe(architectures.has("dataplane"));
    for (const delimiter of installed) scripts.push({ where: `${server!.where} ${delimiter} heredoc`, shell: "bash", script: heredocBody(server!.script, delimiter) });
    expectScriptsClean(scripts);
  });

  it("runs container scripts that pass sh/bash -n and shellcheck", () => {
    const scripts = tasks.flatMap(containerScripts);
    // The mesh scripts named in the container templates are all found, with the shell that runs them.
    for (const task of agentTasks()) {
      const agent = container(task, CONTAINER_NAMES.consulAgent);
      expect(agent.entryPoint.slice(0, 2)).toEqual(["/bin/sh", "-ec"]);
      expect(agent.entryPoint.slice(3)).toEqual(["consul-agent"]);
      const bootstrap = container(task, CONTAINER_NAMES.envoyBootstrap);
      expect(bootstrap.entryPoint).toEqual(["/bin/sh", "-ec"]);
      expect(bootstrap.command).toHaveLength(1);
      const envoy = container(task, CONTAINER_NAMES.envoySidecar);
      expect(envoy.healthCheck.command.slice(0, 3)).toEqual(["CMD", "bash", "-c"]);
      expect(envoy.healthCheck.command).toHaveLength(4);
      const found = scripts.filter((s) => s.where.startsWith(`${task.stack}/${task.id}/`)).map((s) => `${s.where.split("/").pop()} ${s.shell}`);
      expect(found).toEqual(
        expect.arrayContaining([
          `${CONTAINER_NAMES.consulAgent} entryPoint sh`,
          `${CONTAINER_NAMES.envoyBootstrap} command[0] sh`,
          `${CONTAINER_NAMES.envoySidecar} healthCheck bash`,
        ]),
      );
    }
    expectScriptsClean(scripts);
  });

  it("writes every Terraform string as a valid template that references only what the stack declares", async () => {
    const problems: string[] = [];
    for (const [name, doc] of Object.entries(stacks)) problems.push(...(await terraformTemplateProblems(doc)).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
  });
});

describe("the default spec's Consul configs, value by value", () => {
  let tasks: TaskDefinition[];
  beforeAll(() => {
    tasks = taskDefinitions(synthAllStacks());
  });
  const hcl = (service: string, index: 2 | 4) => {
    const task = tasks.find((t) => t.id === `service_${service}_task_definition`)!;
    return parseHcl(container(task, CONTAINER_NAMES.consulAgent).command[index], `${service}.hcl`);
  };

  it("registers http-server on port 80 with an HTTP check every 10s (1s timeout) and its sidecar on 21000", async () => {
    const [service] = (await hcl("http-server", 4)).service as Doc[];
    expect(service!.name).toBe("http-server");
    expect(service!.port).toBe(80);
    expect(service!.check).toEqual([expect.objectContaining({ http: "http://127.0.0.1:80/", interval: "10s", timeout: "1s" })]);
    expect(service!.connect[0].sidecar_service[0].port).toBe(21000);
    expect(service!.connect[0].sidecar_service[0].proxy).toEqual([{}]);
  });

  it("gives http-client an upstream to http-server on 127.0.0.1:8085", async () => {
    const [service] = (await hcl("http-client", 4)).service as Doc[];
    expect(service!.check).toBeUndefined();
    expect(service!.connect[0].sidecar_service[0].proxy[0].upstreams).toEqual([
      {
        destination_name: "http-server",
        local_bind_address: "127.0.0.1",
        local_bind_port: 8085,
        // Passive health checks (outlier detection) with the spec's defaults.
        config: [{ passive_health_check: [{ interval: "10s", max_failures: 5, enforcing_consecutive_5xx: 100, max_ejection_percent: 50, base_ejection_time: "30s" }] }],
      },
    ]);
  });

  it("joins the server at 10.0.101.100 as a TLS, ACL-enforcing client agent", async () => {
    for (const service of ["http-server", "http-client"]) {
      const agent = await hcl(service, 2);
      expect(agent.server).toBe(false);
      expect(agent.retry_join).toEqual(["10.0.101.100"]);
      expect(agent.client_addr).toBe("127.0.0.1");
      expect((agent.tls as Doc[])[0]!.defaults[0].verify_outgoing).toBe(true);
      expect(agent.auto_encrypt).toEqual([{ tls: true }]);
      expect((agent.acl as Doc[])[0]!.default_policy).toBe("deny");
    }
  });
});

describe("service configs rendered directly", () => {
  /** A one-service mesh's plan: the service as the plan resolves it. */
  const service = (name: string, input: Record<string, unknown>): ServicePlan => planOf({ services: { [name]: { image: "hashicorp/http-echo:1.0.0", ...input } } }).services[0]!;
  /** The service registration the task's agent loads: the second -hcl argument of the agent. */
  const render = (s: ServicePlan) => {
    const agent = renderServiceTask(s).find((c) => c.name === CONTAINER_NAMES.consulAgent)!;
    return parseHcl(agent.command[4], `${s.name}.hcl`);
  };

  /** The full task around a service: its container definitions must pass the ECS judges too. */
  function taskErrors(s: ServicePlan): string[] {
    const containers = renderServiceTask(s);
    return [
      ...ecsContainerDefinitionErrors(containers),
      ...taskDefinitionErrors({ cpu: s.cpu, memory: s.memory, network_mode: "awsvpc", requires_compatibilities: [s.launchType] }, containers),
    ];
  }

  it("renders a pure client (no port, no upstreams, no check)", async () => {
    const s = service("batch", {});
    expect(await render(s)).toEqual({ service: [{ name: "batch", connect: [{ sidecar_service: [{ port: 21000, proxy: [{}] }] }] }] });
    expect(taskErrors(s)).toEqual([]);
  });

  it("renders a TCP check", async () => {
    const s = service("db", { port: 5432, healthCheck: { type: "tcp", intervalSeconds: 15, timeoutSeconds: 3 } });
    const [definition] = (await render(s)).service as Doc[];
    expect(definition!.check).toEqual([{ id: "db", name: "TCP on port 5432", tcp: "127.0.0.1:5432", interval: "15s", timeout: "3s" }]);
    expect(definition).toEqual(expectedServiceDefinition("db", s).service[0]);
    expect(taskErrors(s)).toEqual([]);
  });

  it("renders several upstreams in order, on Fargate", async () => {
    const s = service("gateway", {
      port: 8080,
      launchType: "FARGATE",
      cpu: 512,
      memory: 1024,
      appMemory: 256,
      healthCheck: { type: "http", path: "/healthz" },
      upstreams: [
        { destination: "web-bff", localBindPort: 9100, passiveHealthCheck: { enabled: false } },
        { destination: "mobile-bff", localBindPort: 9101, passiveHealthCheck: { enabled: false } },
        { destination: "accounts", localBindPort: 9102, passiveHealthCheck: { maxFailures: 2, intervalSeconds: 5 } },
      ],
    });
    const [definition] = (await render(s)).service as Doc[];
    expect(definition!.connect[0].sidecar_service[0].proxy[0].upstreams).toEqual([
      { destination_name: "web-bff", local_bind_address: "127.0.0.1", local_bind_port: 9100 },
      { destination_name: "mobile-bff", local_bind_address: "127.0.0.1", local_bind_port: 9101 },
      {
        destination_name: "accounts",
        local_bind_address: "127.0.0.1",
        local_bind_port: 9102,
        config: [{ passive_health_check: [{ interval: "5s", max_failures: 2, enforcing_consecutive_5xx: 100, max_ejection_percent: 50, base_ejection_time: "30s" }] }],
      },
    ]);
    expect(definition!.check).toEqual([{ id: "gateway", name: "HTTP GET on port 8080", http: "http://127.0.0.1:8080/healthz", method: "GET", interval: "10s", timeout: "1s" }]);
    expect(taskErrors(s)).toEqual([]);
  });

  it("registers no check for a service without a port, and the rules reject the spec", async () => {
    const spec = { services: { batch: { image: "hashicorp/http-echo:1.0.0", healthCheck: { type: "tcp" as const } } } };
    const [definition] = (await render(planOf(spec).services[0]!)).service as Doc[];
    expect(definition!.check).toBeUndefined();
    expect(checkPlan(planOf(spec)).errors).toContainEqual({ path: "services.batch.healthCheck", message: expect.stringMatching(/needs the service's port/) });
  });
});
