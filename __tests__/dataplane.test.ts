// Agentless (dataplane) tasks, synthesized and inspected: their containers and start order,
// what secrets reach them, the IAM login they rely on, the server port they open, and that a
// service changes architecture without touching any other service.
import { COLLECTOR_CONTAINER } from "../lib/plan/observability";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSpecFile, parseSpec } from "../lib/pipeline";
import { specIssues } from "./support/spec-issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { DATAPLANE_CONTAINERS, DATAPLANE_STOP, taskRolePath } from "../lib/plan/dataplane";
import { CONSUL_PORTS, DATAPLANE_PORTS } from "../lib/facts";
import { loginRolePath } from "../lib/plan/names";
import { SERVER_TAG_KEY } from "../lib/plan/server";
import { DEFAULT_VERSIONS, IMAGE_REPOSITORIES, OTEL_COLLECTOR_VERSION } from "../lib/versions";
import { judgeConsulEcsConfig } from "../tools/judges/consul-ecs-config";
import { synthAllStacks } from "./support/synth";

type Doc = Record<string, any>;

const PRODUCTION = "examples/production.yaml";
const productionInput = (): MeshSpecInput => structuredClone(loadSpecFile(PRODUCTION).spec) as MeshSpecInput;
const production = synthAllStacks(productionInput());
const NAMES = DATAPLANE_CONTAINERS;

const containersOf = (stacks: Doc, service: string): any[] => JSON.parse(stacks.mesh.resource.aws_ecs_task_definition[`service_${service}_task_definition`].container_definitions);
const consulEcsConfigOf = (container: any): any => JSON.parse(container.environment.find((e: any) => e.name === "CONSUL_ECS_CONFIG_JSON").value);

/** Every resource, data source and output address whose JSON differs between two syntheses. */
function changedAddresses(before: Doc, after: Doc): string[] {
  const out: string[] = [];
  for (const stack of new Set([...Object.keys(before), ...Object.keys(after)])) {
    for (const section of ["resource", "data"]) {
      const a = before[stack]?.[section] ?? {};
      const b = after[stack]?.[section] ?? {};
      for (const type of new Set([...Object.keys(a), ...Object.keys(b)])) {
        for (const name of new Set([...Object.keys(a[type] ?? {}), ...Object.keys(b[type] ?? {})])) {
          // depends_on orders an apply; Terraform plans no change to a resource for it.
          const { depends_on: _before, ...was } = a[type]?.[name] ?? {};
          const { depends_on: _after, ...is } = b[type]?.[name] ?? {};
          if (JSON.stringify(a[type]?.[name] && was) !== JSON.stringify(b[type]?.[name] && is)) out.push(`${stack}/${section === "data" ? "data." : ""}${type}.${name}`);
        }
      }
    }
    for (const section of ["output", "locals"]) {
      const a = before[stack]?.[section] ?? {};
      const b = after[stack]?.[section] ?? {};
      for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(a[name]) !== JSON.stringify(b[name])) out.push(`${stack}/${section}.${name}`);
      }
    }
    if (JSON.stringify(before[stack]?.removed) !== JSON.stringify(after[stack]?.removed)) out.push(`${stack}/removed`);
  }
  return out.sort();
}

describe("dataplane tasks", () => {
  const services = ["api", "orders", "web"];

  it("run mesh-init, consul-dataplane, health-sync and the app, in that start order, every long-running container essential", () => {
    for (const service of services) {
      const containers = containersOf(production, service);
      expect(
        containers.map((c) => [c.name, c.essential, c.dependsOn ?? []]),
        service,
      ).toEqual([
        [NAMES.meshInit, false, []],
        [NAMES.dataplane, true, [{ containerName: NAMES.meshInit, condition: "SUCCESS" }]],
        // production.yaml turns metrics on: the collector starts with the dataplane, before the app.
        [COLLECTOR_CONTAINER, true, [{ containerName: NAMES.dataplane, condition: "START" }]],
        [NAMES.healthSync, true, [{ containerName: NAMES.meshInit, condition: "SUCCESS" }]],
        [
          NAMES.app,
          true,
          [
            { containerName: NAMES.dataplane, condition: "HEALTHY" },
            { containerName: COLLECTOR_CONTAINER, condition: "START" },
          ],
        ],
      ]);
      // HEALTHY needs a check: the dataplane's is a TCP dial of Envoy's readiness listener.
      expect(containers[1].healthCheck.command).toEqual(["CMD", "/consul/consul-ecs", "net-dial", `127.0.0.1:${DATAPLANE_PORTS.readiness}`]);
    }
  });

  it("run the pinned consul-ecs and consul-dataplane images through the ECR pull-through cache", () => {
    const byName = Object.fromEntries(containersOf(production, "web").map((c) => [c.name, c.image]));
    const cached = (repository: string, tag: string) =>
      expect.stringMatching(new RegExp(`\\.dkr\\.ecr\\..*/ecrpublic/${repository.replace("public.ecr.aws/", "")}:${tag.replace(/\./g, "\\.")}$`));
    expect(byName).toEqual({
      [NAMES.meshInit]: cached(IMAGE_REPOSITORIES.consulEcs, DEFAULT_VERSIONS.consulEcs),
      [NAMES.dataplane]: cached(IMAGE_REPOSITORIES.consulDataplane, DEFAULT_VERSIONS.consulDataplane),
      [NAMES.healthSync]: cached(IMAGE_REPOSITORIES.consulEcs, DEFAULT_VERSIONS.consulEcs),
      [COLLECTOR_CONTAINER]: cached(IMAGE_REPOSITORIES.otelCollector, `v${OTEL_COLLECTOR_VERSION}`),
      [NAMES.app]: "hashicorp/http-echo:1.0.0",
    });
  });

  it("give no gossip key, agent token or service token to a dataplane task: only the CA certificate", () => {
    const resources = production.mesh.resource;
    for (const service of services) {
      const secrets = containersOf(production, service).flatMap((c) => (c.secrets ?? []).map((s: any) => s.valueFrom));
      expect(new Set(secrets), service).toEqual(new Set(["${aws_secretsmanager_secret.consul_secrets_ca_cert.arn}"]));
      const execution = JSON.parse(resources.aws_iam_role_policy[`service_${service}_execution_role_policy_read-task-secrets`].policy);
      const readable = execution.Statement.filter((s: any) => s.Action.includes("secretsmanager:GetSecretValue")).flatMap((s: any) => s.Resource);
      expect(readable, service).toEqual(["${aws_secretsmanager_secret.consul_secrets_ca_cert.arn}"]);
    }
    // No service token exists for them at all: logins create tokens, logouts delete them.
    expect(Object.keys(resources.aws_secretsmanager_secret).filter((id) => id.includes("service_token"))).toEqual([]);
    expect(Object.keys(resources.aws_ssm_parameter ?? {}).filter((id) => id.includes("service_token"))).toEqual([]);
  });

  it("render a consul-ecs configuration that the consul-ecs 0.10.0 judge accepts, finding the servers by their tag", () => {
    for (const service of services) {
      const containers = containersOf(production, service);
      const config = containers.find((c) => c.name === NAMES.meshInit).environment[0].value;
      expect(judgeConsulEcsConfig(config), service).toEqual([]);
      // health-sync reads the very same configuration.
      expect(containers.find((c) => c.name === NAMES.healthSync).environment[0].value).toBe(config);
      const parsed = JSON.parse(config);
      expect(parsed.consulServers.hosts).toBe(`exec=discover -q addrs provider=aws region=us-east-1 tag_key=${SERVER_TAG_KEY} tag_value=prod-mesh`);
      expect(parsed.consulServers.grpc.port).toBe(CONSUL_PORTS.grpcTls);
      expect(parsed.consulLogin).toMatchObject({ enabled: true, method: "iam-ecs-service-token", datacenter: "prod" });
      expect(parsed.service).toEqual({ name: service, port: expect.any(Number) });
    }
    // The tag the configuration looks for is on every server.
    const serverTemplates = Object.values<any>(production.mesh.resource.aws_launch_template).filter((t) => t.name_prefix.includes("consul-server"));
    expect(serverTemplates).toHaveLength(3);
    for (const template of serverTemplates) {
      expect(template.tag_specifications[0].tags[SERVER_TAG_KEY]).toBe("prod-mesh");
    }
  });

  it("apply the spec's passive health check to the upstream, over the defaults", () => {
    const web = consulEcsConfigOf(containersOf(production, "web")[0]);
    expect(web.proxy.upstreams).toEqual([
      {
        destinationName: "api",
        localBindPort: 9100,
        config: { passive_health_check: { interval: "10s", max_failures: 3, enforcing_consecutive_5xx: 100, max_ejection_percent: 50, base_ejection_time: "30s" } },
      },
    ]);
    const input = productionInput() as any;
    input.services.web.upstreams[0].passiveHealthCheck = { enabled: false };
    const off = consulEcsConfigOf(containersOf(synthAllStacks(input), "web")[0]);
    expect(off.proxy.upstreams[0].config).toEqual({});
  });
});

describe("the stop sequence of a dataplane task", () => {
  const containers = Object.fromEntries(containersOf(production, "web").map((c) => [c.name, c]));

  it("marks the service critical before the app gets its signal, and keeps the proxy up until the app is gone", () => {
    // ECS signals containers nothing depends on first: health-sync (marks the service critical
    // in Consul) and the app at the same moment; the app's wrapper holds the signal for the delay.
    const dependedOn = new Set(Object.values<any>(containers).flatMap((c) => (c.dependsOn ?? []).map((d: any) => d.containerName)));
    expect(dependedOn.has(NAMES.healthSync)).toBe(false);
    expect(dependedOn.has(NAMES.app)).toBe(false);
    expect(containers[NAMES.app].entryPoint).toEqual(["/consul/consul-ecs", "app-entrypoint", "-shutdown-delay", "10s", "/http-echo"]);
    // The dataplane outlives the app: the app depends on it, and envoy-entrypoint waits for the app to exit.
    expect(containers[NAMES.app].dependsOn).toContainEqual({ containerName: NAMES.dataplane, condition: "HEALTHY" });
    expect(containers[NAMES.dataplane].entryPoint).toEqual(["/consul/consul-ecs", "envoy-entrypoint"]);
    expect(containers[NAMES.dataplane].command).toEqual(
      expect.arrayContaining(["-shutdown-drain-listeners", "-shutdown-grace-period-seconds", String(DATAPLANE_STOP.drainSeconds)]),
    );
  });

  it("has stop timeouts that add up: health-sync outlives the app and the dataplane, all within ECS's 120 s", () => {
    const app = containers[NAMES.app].stopTimeout;
    const dataplane = containers[NAMES.dataplane].stopTimeout;
    const healthSync = containers[NAMES.healthSync].stopTimeout;
    expect(app).toBe(10 + DATAPLANE_STOP.appExitSeconds);
    expect(dataplane).toBeGreaterThan(DATAPLANE_STOP.drainSeconds);
    expect(healthSync).toBeGreaterThanOrEqual(app + dataplane);
    expect(Math.max(app, dataplane, healthSync)).toBeLessThanOrEqual(DATAPLANE_STOP.maxStopTimeout);
  });

  it("rejects a delay whose sequence would not fit in 120 s, and a delay without the image's entrypoint", () => {
    const long = productionInput() as any;
    long.services.web.shutdownDelaySeconds = 91;
    expect(specIssues(long).errors).toContainEqual({ path: "services.web.shutdownDelaySeconds", message: expect.stringMatching(/takes 121 s .* over ECS's 120 s/) });
    long.services.web.shutdownDelaySeconds = 90;
    expect(specIssues(long).errors).toEqual([]);
    const noEntryPoint = productionInput() as any;
    delete noEntryPoint.services.web.entryPoint;
    noEntryPoint.services.web.shutdownDelaySeconds = 5;
    expect(specIssues(noEntryPoint).errors).toContainEqual({ path: "services.web.entryPoint", message: expect.stringMatching(/replaces the image's entrypoint/) });
  });
});

describe("the control plane of dataplane tasks", () => {
  const intentions = production.intentions.resource;
  const mesh = production.mesh.resource;

  it("has each task role under the path the servers' auth method trusts, tagged with its service, allowed only to sign iam:GetRole on itself", () => {
    const path = taskRolePath("prod-mesh");
    // The servers' consul-acl-sync creates the auth method with exactly that path (run under stubs in scripts-run.test.ts).
    const userData = production.mesh.locals.consul_servers_server_1_user_data as string;
    expect(userData).toContain(`--arg roles 'arn:\${data.aws_partition.partition.partition}:iam::\${data.aws_caller_identity.account.account_id}:role${path}*'`);
    // The login names the servers it is for (ServerIDHeaderValue), on both sides.
    expect(userData).toContain("--arg server 'server.prod.consul'");
    for (const service of ["api", "orders", "web"]) {
      const role = mesh.aws_iam_role[`service_${service}_task_role_role`];
      expect(role.path, service).toBe(path);
      expect(role.tags, service).toEqual({ "consul.hashicorp.com.service-name": service });
      // Only ECS tasks of this account and region may assume it (confused deputy).
      expect(JSON.parse(role.assume_role_policy).Statement[0].Condition, service).toEqual({
        StringEquals: { "aws:SourceAccount": "${data.aws_caller_identity.account.account_id}" },
        ArnLike: { "aws:SourceArn": "arn:${data.aws_partition.partition.partition}:ecs:us-east-1:${data.aws_caller_identity.account.account_id}:*" },
      });
      const loggingIn = containersOf(production, service).filter((c) => c.name === NAMES.meshInit || c.name === NAMES.healthSync);
      expect(loggingIn.map((c) => c.name).sort(), service).toEqual([NAMES.healthSync, NAMES.meshInit].sort());
      for (const container of loggingIn) {
        expect(consulEcsConfigOf(container).consulLogin.serverIdHeaderValue, `${service} ${container.name}`).toBe("server.prod.consul");
      }
      // The login signs iam:GetRole on the role itself, and nothing else.
      expect(JSON.parse(mesh.aws_iam_role_policy[`service_${service}_task_role_policy_consul-login`].policy).Statement).toEqual([
        { Effect: "Allow", Action: ["iam:GetRole"], Resource: [`\${aws_iam_role.service_${service}_task_role_role.arn}`] },
      ]);
    }
  });

  it("pins each service's identity to its own task role: a parameter with the role's unique ID, written before any server boots, read by the servers only under its path", () => {
    const servers = [1, 2, 3].map((n) => mesh.aws_autoscaling_group[`consul_servers_server_${n}_group`]);
    for (const service of ["api", "orders", "web"]) {
      const parameter = mesh.aws_ssm_parameter[`service_${service}_login_role_parameter`];
      expect(parameter, service).toMatchObject({
        name: `${loginRolePath("prod-mesh")}/${service}`,
        type: "String",
        value: `\${aws_iam_role.service_${service}_task_role_role.unique_id}`,
      });
      // A new server's first sync makes the rule from it before the server reports in service.
      for (const group of servers) expect(group.depends_on, service).toContain(`aws_ssm_parameter.service_${service}_login_role_parameter`);
    }
    const read = JSON.parse(mesh.aws_iam_role_policy["consul_servers_server_1_role_policy_read-consul-secrets"].policy).Statement.find((s: any) =>
      s.Action.includes("ssm:GetParametersByPath"),
    );
    expect(read.Resource).toContain(
      `arn:\${data.aws_partition.partition.partition}:ssm:us-east-1:\${data.aws_caller_identity.account.account_id}:parameter${loginRolePath("prod-mesh")}`,
    );
    // An agent-only mesh has no login: no parameter, no grant.
    const agentOnly = synthAllStacks(DEFAULT_SPEC).mesh.resource;
    expect(Object.keys(agentOnly.aws_ssm_parameter).filter((k) => k.includes("login_role"))).toEqual([]);
  });

  it("leaves the login to the servers: the intentions stack creates none of it, and forgets (never destroys) what an older version created", () => {
    const types = Object.keys(intentions);
    expect(types.filter((t) => /auth_method|binding_rule|consul_node/.test(t))).toEqual([]);
    // The addresses 0.1.0 gave them, written out: a typo in the stack's list would orphan nothing and forget nothing.
    expect(production.intentions.removed).toEqual(
      ["consul_acl_auth_method.dataplane_login_auth_method", "consul_acl_binding_rule.dataplane_login_binding_rule", "consul_node.dataplane_login_synthetic_node"].map((from) => ({
        from,
        lifecycle: { destroy: false },
      })),
    );
    // An agent-only mesh never had them.
    expect(synthAllStacks(DEFAULT_SPEC).intentions.removed).toBeUndefined();
  });

  it("writes removed blocks that real Terraform accepts (terraform validate, no provider needed), and rejects when they are malformed", () => {
    const validate = (removed: unknown): { status: number | null; output: string } => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "removed-blocks-"));
      try {
        fs.writeFileSync(path.join(root, "main.tf.json"), JSON.stringify({ terraform: { required_version: production.intentions.terraform.required_version }, removed }));
        const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
        const init = spawnSync("terraform", ["init", "-backend=false", "-input=false", "-no-color"], { cwd: root, env, encoding: "utf8" });
        if (init.status !== 0) return { status: init.status, output: init.stderr };
        const run = spawnSync("terraform", ["validate", "-no-color"], { cwd: root, env, encoding: "utf8" });
        return { status: run.status, output: `${run.stdout}${run.stderr}` };
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    };
    const shipped = validate(production.intentions.removed);
    expect(shipped.status, shipped.output).toBe(0);
    const misspelt = validate(production.intentions.removed.map((r: Doc) => ({ ...r, lifecycle: { destory: false } })));
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.output).toMatch(/No argument or block type is named "destory"/);
  });
  it("opens the servers' gRPC TLS port to mesh tasks only, and nothing else beyond the agent mesh's rules", () => {
    const agent = synthAllStacks(DEFAULT_SPEC);
    const dataplaneSpec = structuredClone(DEFAULT_SPEC) as any;
    dataplaneSpec.architecture = "dataplane";
    const dataplane = synthAllStacks(dataplaneSpec);
    const rules = (stacks: Doc) => ({ ...stacks.mesh.resource.aws_vpc_security_group_ingress_rule, ...stacks.mesh.resource.aws_vpc_security_group_egress_rule });
    const before = rules(agent);
    const after = rules(dataplane);
    const added = Object.keys(after).filter((id) => !(id in before));
    expect(added).toEqual(["consul_servers_security_group_ingress_grpc_tls_from_tasks"]);
    expect(after[added[0]!]).toMatchObject({
      from_port: CONSUL_PORTS.grpcTls,
      to_port: CONSUL_PORTS.grpcTls,
      ip_protocol: "tcp",
      referenced_security_group_id: "${aws_security_group.ecs_task_security_group_group.id}",
      security_group_id: "${aws_security_group.consul_servers_security_group_group.id}",
    });
    // Without agents in tasks, the tasks stop accepting Serf gossip, and the servers stop taking agents' RPC and gossip.
    expect(Object.keys(before).filter((id) => !(id in after))).toEqual([
      "consul_servers_security_group_ingress_agent_rpc_from_tasks",
      "consul_servers_security_group_ingress_agent_serf_lan_tcp_from_tasks",
      "consul_servers_security_group_ingress_agent_serf_lan_udp_from_tasks",
      "ecs_task_security_group_ingress_serf_lan_tcp",
      "ecs_task_security_group_ingress_serf_lan_tcp_from_servers",
      "ecs_task_security_group_ingress_serf_lan_udp",
      "ecs_task_security_group_ingress_serf_lan_udp_from_servers",
    ]);
    for (const [id, rule] of Object.entries<any>(after)) if (id in before) expect(rule, id).toEqual(before[id]);
  });
});

describe("moving one service between architectures", () => {
  it("changes only that service's resources in a dataplane mesh, and lets gossip reach tasks once one runs an agent", () => {
    const input = productionInput() as any;
    input.services.web.architecture = "agent";
    const changed = changedAddresses(production, synthAllStacks(input));
    // Its task and roles, and the token an agent task needs (its secret, IDs and sync parameter).
    expect(changed).toEqual(
      expect.arrayContaining([
        "mesh/aws_ecs_task_definition.service_web_task_definition",
        "mesh/aws_secretsmanager_secret.consul_secrets_service_token_web",
        "mesh/aws_ssm_parameter.consul_secrets_service_token_web_parameter",
      ]),
    );
    // The first agent service: the servers may now read service token secrets, take the agents' RPC
    // and gossip, and sign their certificates (auto_encrypt, in their user data: roll them).
    expect(changed.filter((address) => !/[_.]web_|_web$/.test(address))).toEqual([
      "mesh/aws_iam_role_policy.consul_servers_server_1_role_policy_read-consul-secrets",
      "mesh/aws_iam_role_policy.consul_servers_server_2_role_policy_read-consul-secrets",
      "mesh/aws_iam_role_policy.consul_servers_server_3_role_policy_read-consul-secrets",
      "mesh/aws_vpc_security_group_ingress_rule.consul_servers_security_group_ingress_agent_rpc_from_tasks",
      "mesh/aws_vpc_security_group_ingress_rule.consul_servers_security_group_ingress_agent_serf_lan_tcp_from_tasks",
      "mesh/aws_vpc_security_group_ingress_rule.consul_servers_security_group_ingress_agent_serf_lan_udp_from_tasks",
      "mesh/aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_serf_lan_tcp",
      "mesh/aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_serf_lan_tcp_from_servers",
      "mesh/aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_serf_lan_udp",
      "mesh/aws_vpc_security_group_ingress_rule.ecs_task_security_group_ingress_serf_lan_udp_from_servers",
      "mesh/locals.consul_servers_server_1_user_data",
      "mesh/locals.consul_servers_server_2_user_data",
      "mesh/locals.consul_servers_server_3_user_data",
    ]);
    // A second agent service changes nothing shared but the servers' list of token secrets they may read.
    input.services.api.architecture = "agent";
    expect(
      changedAddresses(synthAllStacks({ ...input, services: { ...input.services, api: { ...input.services.api, architecture: "dataplane" } } }), synthAllStacks(input)).filter(
        (a) => !/[_.]api_|_api$/.test(a),
      ),
    ).toEqual([1, 2, 3].map((n) => `mesh/aws_iam_role_policy.consul_servers_server_${n}_role_policy_read-consul-secrets`));
  });

  it("changes only that service's resources and adds the login control plane, when it is the first dataplane service", () => {
    const input = structuredClone(DEFAULT_SPEC) as any;
    input.services["http-server"].architecture = "dataplane";
    const changed = changedAddresses(synthAllStacks(DEFAULT_SPEC), synthAllStacks(input));
    // The login control plane: the servers' sync creates it (their user data; a fixed server takes it at its next roll, README).
    // and the task reaper with its permission (the instance only gains depends_on entries: the new
    // policy and the service's login role parameter). The servers no longer read its token secret.
    expect(changed.filter((address) => !address.includes("http-server"))).toEqual([
      "intentions/removed",
      "mesh/aws_iam_role_policy.consul_servers_server_1_role_policy_describe-mesh-tasks",
      "mesh/aws_iam_role_policy.consul_servers_server_1_role_policy_read-consul-secrets",
      "mesh/aws_vpc_security_group_ingress_rule.consul_servers_security_group_ingress_grpc_tls_from_tasks",
      "mesh/locals.consul_servers_server_1_user_data",
    ]);
  });
});

describe("every shipped spec", () => {
  it("passes every rule in either architecture, the ECS health check raised to what ECS accepts", () => {
    const inputs: [string, MeshSpecInput][] = [
      ["the default", DEFAULT_SPEC],
      ...fs
        .readdirSync("examples")
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f): [string, MeshSpecInput] => [f, loadSpecFile(path.join("examples", f)).spec as MeshSpecInput]),
    ];
    for (const [name, input] of inputs) {
      for (const architecture of ["agent", "dataplane"] as const) {
        const spec = structuredClone(input) as any;
        spec.architecture = architecture;
        // Every service, those with versions included (their versions share the service's task role).
        for (const service of Object.values<any>(spec.services)) delete service.architecture;
        // A dataplane proxy ships no request metrics yet: requestsPerTask is an error there (autoscaling.test.ts); scale on CPU instead.
        if (architecture === "dataplane")
          for (const service of Object.values<any>(spec.services))
            if (service.autoscaling?.requestsPerTask !== undefined) service.autoscaling = { ...service.autoscaling, requestsPerTask: undefined, cpuPercent: 50 };
        // A Fargate agent task's anonymous Envoy pull is a rule of its own (deployability.test.ts).
        if (architecture === "agent" || Object.values<any>(spec.services).some((s) => s.architecture === "agent"))
          spec.images = { ...spec.images, allowAnonymousDockerHubPulls: true };
        expect(specIssues(spec).errors, `${name} as ${architecture}`).toEqual([]);
      }
    }
    // The default's HTTP check times out after 1 s in Consul; an ECS check needs at least 2 s.
    const spec = structuredClone(DEFAULT_SPEC) as any;
    spec.architecture = "dataplane";
    const app = parseSpec(spec, "test")
      .plan.services.find((s) => s.name === "http-server")!
      .task.containers.find((c) => c.name === NAMES.app)!;
    expect(app.healthCheck).toMatchObject({ interval: 10, timeout: 2 });
  });
});

describe("versions", () => {
  it("rejects a consul-dataplane outside HashiCorp's table for the servers' Consul line, naming the field", () => {
    const input = productionInput() as any;
    input.versions = { consul: "1.22.7", consulDataplane: "2.0.1" };
    expect(specIssues(input).errors).toContainEqual({
      path: "versions.consulDataplane",
      message: expect.stringMatching(/2\.0\.1 is not in HashiCorp's Envoy and Consul Dataplane table for Consul 1\.22\.x/),
    });
  });

  it("accepts the Consul 1.22 line with a dataplane from its own row", () => {
    const input = productionInput() as any;
    input.versions = { consul: "1.22.7", consulDataplane: "1.9.9" };
    expect(specIssues(input).errors).toEqual([]);
  });
});
