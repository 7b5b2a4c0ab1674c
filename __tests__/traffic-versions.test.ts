// Versions, splits and routes (a canary): the spec's shape, one ECS service per version with the
// version in its Consul service meta, the service-resolver, service-splitter and merged
// service-router the plan decides, and each rule with a failing and a passing fixture.
import { allErrors, configEntries as entries, trafficErrors as errors } from "./support/traffic";
import { describe, expect, it } from "vitest";
import type { RuleResult } from "../lib/issues";
import { checkCapacity } from "../lib/rules/capacity";
import { checkImages } from "../lib/rules/images";
import { checkNetwork } from "../lib/rules/network";
import { networkPaths } from "../lib/rules/network-paths";
import { rolloutReports } from "../lib/rules/rollouts";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { judgeConfigEntries } from "../tools/judges/consul-config-entries";
import { planOf, renderServiceTask, synthAllStacks } from "./support/synth";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import type { ContainerPlan, MeshPlan, ServicePlan, TaskPlan } from "../lib/plan/types";
import type { PathReport } from "../lib/rules/network-paths";
import { bootOrder } from "../lib/rules/boot-order";
import { taskLifecycle } from "../lib/rules/lifecycle";
import { reachOf, trustModel } from "../lib/rules/trust";
import { judgeConsulEcsConfig } from "../tools/judges/consul-ecs-config";
import { evaluateIam } from "../tools/judges/iam";
import { meshCalls } from "../tools/judges/iam-calls";
import { evaluateFilter, TrafficEvaluator } from "../tools/traffic-evaluator";

type ServiceInput = Record<string, unknown>;

/** web calls api (http, on Fargate so the EC2 hosts' ENIs stay out of it unless a test wants them). */
function canary(api: ServiceInput = {}, rest: Partial<MeshSpecInput> = {}, extra: Record<string, ServiceInput> = {}): MeshSpecInput {
  const app = (port: number) => ({ image: "hashicorp/http-echo:1.0.0", user: "65534", port, command: [`-listen=127.0.0.1:${port}`] });
  return {
    ...DEFAULT_SPEC,
    services: {
      web: { ...app(8080), upstreams: [{ destination: "api", localBindPort: 9091 }] },
      api: {
        ...app(9090),
        protocol: "http",
        launchType: "FARGATE",
        versions: { v1: { count: 2 }, v2: { image: "hashicorp/http-echo:1.0.1", count: 1 } },
        split: { v1: 90, v2: 10 },
        ...api,
      },
      ...extra,
    },
    // api's Fargate agent tasks pull Envoy from Docker Hub: accepted here, as in examples/three-tier.yaml.
    images: { allowAnonymousDockerHubPulls: true },
    ...rest,
  } as MeshSpecInput;
}

describe("the spec", () => {
  it("gives a version the service's image unless it names its own, and 1 task by default", () => {
    const api = planOf(canary({ versions: { v1: {}, v2: { image: "hashicorp/http-echo:1.0.1" } }, split: { v1: 50, v2: 50 } })).services.find((s) => s.name === "api")!;
    expect(api.versions.map((v) => [v.version, v.image, v.count])).toEqual([
      ["v1", "hashicorp/http-echo:1.0.0", 1],
      ["v2", "hashicorp/http-echo:1.0.1", 1],
    ]);
    expect(api.count).toBe(2);
  });

  it.each([
    ["a version name Consul cannot use as a subset", { versions: { V_1: {} }, split: undefined }, "services.api.versions.V_1", /lowercase letters, digits and '-'/],
    ["a route to both a version and a service", { routes: [{ pathPrefix: "/beta", version: "v2", service: "web" }] }, "services.api.routes[0]", /exactly one of version/],
    ["a route that matches every request", { routes: [{ version: "v2" }] }, "services.api.routes[0]", /matches every request/],
  ])("refuses %s", (_, api, path, message) => {
    expect(allErrors(canary(api))).toEqual([expect.objectContaining({ path, message: expect.stringMatching(message) })]);
  });
});

describe("a service with versions", () => {
  const spec = canary({ routes: [{ pathPrefix: "/beta", headers: [{ name: "x-canary", exact: "1" }], version: "v2" }] }, undefined, {});

  it("synthesizes one ECS service, task definition and log group per version, the default version keeping the service's", () => {
    expect(allErrors(spec)).toEqual([]);
    const mesh = synthAllStacks(spec).mesh;
    const services = Object.entries(mesh.resource.aws_ecs_service as Record<string, any>).map(([id, s]) => [id, s.name, s.desired_count]);
    // v1 keeps api's Terraform address and name: adding v2 to a running api rolls v1 in place.
    expect(services).toEqual(
      expect.arrayContaining([
        ["service_api_service", "consul-ecs-api", 2],
        ["service_api_v2_service", "consul-ecs-api-v2", 1],
        ["service_web_service", "consul-ecs-web", 1],
      ]),
    );
    expect(services).toHaveLength(3);
    const families = Object.values(mesh.resource.aws_ecs_task_definition as Record<string, any>).map((t) => t.family);
    expect(families.sort()).toEqual(["consul-ecs-api", "consul-ecs-api-v2", "consul-ecs-web"]);
    const groups = Object.values(mesh.resource.aws_cloudwatch_log_group as Record<string, any>).map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining(["/ecs/consul-ecs/api", "/ecs/consul-ecs/api-v2"]));
    // The same Consul service and token for both: one token per Consul identity.
    expect(Object.keys(mesh.resource.aws_secretsmanager_secret as object).filter((id) => id.includes("token_api"))).toHaveLength(1);
  });

  it("puts the version in the agent's service registration", () => {
    const api = planOf(spec).services.find((s) => s.name === "api")!;
    expect(api.versions.length).toBeGreaterThan(1);
    for (const version of api.versions) {
      const agent = renderServiceTask(version).find((c) => c.name === "consul-agent")!;
      const registration = agent.command[agent.command.length - 1] as string;
      expect(registration).toContain(`meta = {\n    version = "${version.version}"\n  }`);
    }
    const web = planOf(spec).services.find((s) => s.name === "web")!;
    const agent = renderServiceTask(web).find((c) => c.name === "consul-agent")!;
    expect(agent.command[agent.command.length - 1]).not.toContain("meta");
  });

  it("puts the version in consul-ecs's service meta on dataplane tasks", () => {
    const api = planOf(canary({ architecture: "dataplane" })).services.find((s) => s.name === "api")!;
    const init = renderServiceTask(api.versions[1]!).find((c) => c.name === "consul-ecs-mesh-init")!;
    const config = JSON.parse(init.environment.find((e: any) => e.name === "CONSUL_ECS_CONFIG_JSON").value);
    expect(config.service).toEqual({ name: "api", port: 9090, meta: { version: "v2" } });
  });

  it("synthesizes a service-resolver with a subset per version, a service-splitter and one router with the route, each waiting for what it names", () => {
    const withTimeout = canary(
      { routes: [{ pathPrefix: "/beta", headers: [{ name: "x-canary", exact: "1" }], version: "v2" }] },
      {},
      { web: { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 8080, upstreams: [{ destination: "api", localBindPort: 9091, timeout: "3s" }] } },
    );
    const all = entries(synthAllStacks(withTimeout).intentions);
    expect(all.traffic_resolver_api).toEqual({
      kind: "service-resolver",
      name: "api",
      config: { DefaultSubset: "v1", Subsets: { v1: { Filter: 'Service.Meta.version == "v1"' }, v2: { Filter: 'Service.Meta.version == "v2"' } } },
      dependsOn: ["consul_config_entry.traffic_defaults_api"],
    });
    expect(all.traffic_splitter_api).toEqual({
      kind: "service-splitter",
      name: "api",
      config: {
        Splits: [
          { Weight: 90, ServiceSubset: "v1" },
          { Weight: 10, ServiceSubset: "v2" },
        ],
      },
      dependsOn: ["consul_config_entry.traffic_defaults_api", "consul_config_entry.traffic_resolver_api"],
    });
    expect(all.traffic_router_api).toEqual({
      kind: "service-router",
      name: "api",
      config: {
        Routes: [
          { Match: { HTTP: { PathPrefix: "/beta", Header: [{ Name: "x-canary", Exact: "1" }] } }, Destination: { ServiceSubset: "v2", RequestTimeout: "3s" } },
          { Match: { HTTP: { PathPrefix: "/" } }, Destination: { RequestTimeout: "3s" } },
        ],
      },
      dependsOn: ["consul_config_entry.traffic_defaults_api", "consul_config_entry.traffic_resolver_api", "consul_config_entry.traffic_splitter_api"],
    });
    expect(judgeConfigEntries(synthAllStacks(withTimeout).intentions)).toEqual([]);
  });

  it("leaves a version at 0 % out of the splitter, keeping its subset for routes", () => {
    const plan = planOf(canary({ split: { v1: 100, v2: 0 } }));
    expect(plan.traffic.entries.serviceSplitters).toEqual([{ Kind: "service-splitter", Name: "api", Splits: [{ Weight: 100, ServiceSubset: "v1" }] }]);
    expect(plan.traffic.entries.serviceResolvers.map((r) => Object.keys(r.Subsets))).toEqual([["v1", "v2"]]);
  });

  it("routes to another service, which then needs the caller's intention", () => {
    const admin = { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 7070, protocol: "http" };
    const spec = canary({ routes: [{ pathPrefix: "/admin", service: "admin" }] }, {}, { admin });
    expect(errors(spec)).toEqual([
      expect.objectContaining({
        path: "services.api.routes[0].service",
        message: expect.stringMatching(/^web calls api .*whose intentions deny web: add an intention allowing web -> admin/),
      }),
    ]);
    const allowed = canary({ routes: [{ pathPrefix: "/admin", service: "admin" }] }, { intentions: [{ source: "web", destination: "admin", action: "allow" }] }, { admin });
    expect(errors(allowed)).toEqual([]);
    expect(planOf(allowed).traffic.entries.serviceRouters).toEqual([
      { Kind: "service-router", Name: "api", Routes: [{ Match: { HTTP: { PathPrefix: "/admin" } }, Destination: { Service: "admin" } }] },
    ]);
  });
});

describe("a service without versions", () => {
  it("has no resolver, splitter or version meta, and its one ECS service keeps its name", () => {
    const plan = planOf(DEFAULT_SPEC);
    expect(plan.services.every((s) => s.versions.length === 0 && s.version === undefined)).toBe(true);
    expect(plan.names.services.get("http-server")!.ecsService).toBe("consul-ecs-http-server");
  });
});

describe("the split adds up to 100", () => {
  it("fails at 90 + 20, naming the sum", () =>
    expect(errors(canary({ split: { v1: 90, v2: 20 } }))).toEqual([{ path: "services.api.split", message: expect.stringMatching(/add up to 110.*exactly 100/) }]));
  it("passes at 90 + 10", () => expect(errors(canary())).toEqual([]));
});

describe("every split and route target exists", () => {
  it("fails on a split to an unknown version, a split without versions, a route to an unknown version or service", () => {
    expect(errors(canary({ split: { v1: 90, v3: 10 } }))).toEqual([{ path: "services.api.split.v3", message: expect.stringMatching(/no version v3 \(its versions: v1, v2\)/) }]);
    expect(errors(canary({ versions: {}, split: { v1: 100 } }))).toEqual([{ path: "services.api.split", message: expect.stringMatching(/no versions to split between/) }]);
    expect(errors(canary({ routes: [{ pathPrefix: "/x", version: "v9" }] }))).toEqual([
      { path: "services.api.routes[0].version", message: expect.stringMatching(/no version v9/) },
    ]);
    expect(errors(canary({ routes: [{ pathPrefix: "/x", service: "nope" }] }))).toEqual([
      { path: "services.api.routes[0].service", message: "no service nope in services; name one of them" },
    ]);
  });
  it("fails on a version image that is not pinned, which the images rule (the service's image) does not see", () =>
    expect(errors(canary({ versions: { v1: { count: 2 }, v2: { image: "hashicorp/http-echo:latest" } } }))).toEqual([
      { path: "services.api.versions.v2.image", message: expect.stringMatching(/latest/) },
    ]));
  it("passes on routes to its versions", () =>
    expect(
      errors(
        canary({
          routes: [
            { pathExact: "/v2", version: "v2" },
            { methods: ["POST"], version: "v1" },
          ],
        }),
      ),
    ).toEqual([]));
});

describe("a version that gets requests has tasks", () => {
  it("fails when a weighted version, the default version without a split, or a routed version runs none", () => {
    expect(errors(canary({ versions: { v1: { count: 2 }, v2: { count: 0 } } }))).toEqual([
      { path: "services.api.versions.v2.count", message: expect.stringMatching(/gets 10 % of api's requests but runs no task/) },
    ]);
    expect(errors(canary({ versions: { v1: { count: 0 }, v2: { count: 1 } }, split: undefined }))).toEqual([
      { path: "services.api.versions.v1.count", message: expect.stringMatching(/gets 100 % .*\(the default version: no split\)/) },
    ]);
    expect(errors(canary({ versions: { v1: { count: 2 }, v2: { count: 0 } }, split: { v1: 100, v2: 0 }, routes: [{ pathPrefix: "/b", version: "v2" }] }))).toEqual([
      { path: "services.api.routes[0].version", message: expect.stringMatching(/runs no task/) },
    ]);
  });
  it("passes when a version at 0 % runs none (the canary is over)", () =>
    expect(errors(canary({ versions: { v1: { count: 2 }, v2: { count: 0 } }, split: { v1: 100, v2: 0 } }))).toEqual([]));
});

describe("a split or route on a tcp service", () => {
  it("fails, naming the protocol", () => {
    expect(errors(canary({ protocol: "tcp", routes: [{ pathPrefix: "/b", version: "v2" }] }))).toEqual([
      { path: "services.api.split", message: expect.stringMatching(/^api speaks tcp/) },
      { path: "services.api.routes", message: expect.stringMatching(/^api speaks tcp/) },
    ]);
    const admin = { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 7070 };
    expect(errors(canary({ routes: [{ pathPrefix: "/admin", service: "admin" }] }, { intentions: [{ source: "web", destination: "admin", action: "allow" }] }, { admin }))).toEqual(
      [{ path: "services.api.routes[0].service", message: expect.stringMatching(/^admin speaks tcp/) }],
    );
  });
  it("passes with versions and no split or route (two ECS services, all requests to the default version)", () =>
    expect(errors(canary({ protocol: "tcp", split: undefined }))).toEqual([]));
});

describe("each version's ECS service has a name of its own", () => {
  it("fails when a version's name is another service's", () => {
    const clash = canary({}, {}, { "api-v2": { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 7070 } });
    expect(errors(clash)).toEqual([{ path: "services.api.versions.v2", message: expect.stringMatching(/consul-ecs-api-v2, the name of service api-v2's/) }]);
    // The default version keeps api's own name, which is no clash.
    expect(errors(canary({}, {}, { "api-v1": { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 7070 } }))).toEqual([]);
  });
  it("passes with distinct names, on agent and on dataplane tasks", () => {
    expect(errors(canary({}, {}, { "api-v3": { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 7070 } }))).toEqual([]);
    // Was refused: a dataplane identity is one task role, which every version now shares.
    expect(allErrors(canary({ architecture: "dataplane" }))).toEqual([]);
  });
});

describe("a dataplane service with versions", () => {
  const spec = canary({ architecture: "dataplane", routes: [{ headers: [{ name: "x-canary", exact: "1" }], version: "v2" }] });
  const plan = planOf(spec);
  const api = plan.services.find((s) => s.name === "api")!;
  const stacks = synthAllStacks(spec);
  const mesh = stacks.mesh;
  /** The consul-ecs config of a version's task, as its mesh-init container receives it. */
  const consulEcsConfigOf = (version: ServicePlan) => {
    const init = renderServiceTask(version).find((c) => c.name === DATAPLANE_CONTAINERS.meshInit)!;
    return init.environment.find((e: { name: string }) => e.name === "CONSUL_ECS_CONFIG_JSON").value as string;
  };

  it("synthesizes, with no rule error", () => {
    expect(allErrors(spec)).toEqual([]);
    expect(api.versions.map((v) => [v.version, v.architecture])).toEqual([
      ["v1", "dataplane"],
      ["v2", "dataplane"],
    ]);
  });

  it("gives each version a consul-ecs config the consul-ecs judge passes, with its own version in the service meta", () => {
    for (const version of api.versions) {
      const config = consulEcsConfigOf(version);
      expect(judgeConsulEcsConfig(config), version.version).toEqual([]);
      expect(JSON.parse(config).service).toEqual({ name: "api", port: 9090, meta: { version: version.version } });
    }
  });

  it("runs both versions' tasks as the service's one task role, with one login role parameter and each version its own ECS service", () => {
    const tasks = mesh.resource.aws_ecs_task_definition as Record<string, any>;
    expect([tasks.service_api_task_definition.family, tasks.service_api_v2_task_definition.family]).toEqual(["consul-ecs-api", "consul-ecs-api-v2"]);
    // The default version keeps api's Terraform addresses: adding v2 rolls the running api in place.
    expect(tasks.service_api_task_definition.task_role_arn).toBe("${aws_iam_role.service_api_task_role_role.arn}");
    expect(tasks.service_api_v2_task_definition.task_role_arn).toBe(tasks.service_api_task_definition.task_role_arn);
    expect(Object.keys(mesh.resource.aws_iam_role as object).filter((id) => id.includes("task_role"))).toEqual(["service_api_task_role_role", "service_web_task_role_role"]);
    const parameters = Object.values(mesh.resource.aws_ssm_parameter as Record<string, any>).filter((p) => p.name.includes("/consul/login-roles/"));
    expect(parameters.map((p) => [p.name, p.value])).toEqual([["/consul-ecs/consul/login-roles/api", "${aws_iam_role.service_api_task_role_role.unique_id}"]]);
    // v2's tasks inherit the tag that names their Consul service (the task reaper reads it); v1's group names it already.
    const services = mesh.resource.aws_ecs_service as Record<string, any>;
    expect(services.service_api_v2_service).toMatchObject({ name: "consul-ecs-api-v2", tags: { "consul.hashicorp.com.service-name": "api" }, propagate_tags: "SERVICE" });
    expect(services.service_api_service.name).toBe("consul-ecs-api");
    expect(services.service_api_service.tags).toBeUndefined();
  });

  it("holds under the IAM judge: every call each version's task makes is allowed, nothing granted goes unused", async () => {
    const calls = meshCalls(stacks, plan);
    const report = await evaluateIam(stacks, calls);
    expect(report.verdicts.filter((v) => !v.allowed).map((v) => `${v.call.role} ${v.call.action} (${v.call.caller})`)).toEqual([]);
    expect(report.unused).toEqual([]);
    expect(report.broad).toEqual([]);
    // Every role granted something makes calls: v2 has its own execution role, and logs in as api's one task role.
    const granted = Object.values<any>(mesh.resource.aws_iam_role_policy).map((p) => /^\$\{aws_iam_role\.([^.]+)\./.exec(p.role)![1]);
    const calling = new Set(calls.filter((c) => c.stack === "mesh").map((c) => c.role));
    expect(granted.filter((role) => !calling.has(role))).toEqual([]);
    expect(new Set(calls.filter((c) => c.action === "iam:GetRole").map((c) => c.role))).toEqual(new Set(["service_api_task_role_role"]));
    expect(calling.has("service_api_v2_execution_role_role")).toBe(true);
  });

  it("holds under the trust model: each version's app reaches what the service's task model says, within the dataplane boundary", () => {
    expect(trustModel(plan).filter((r) => r.verdict === "error")).toEqual([]);
    const reach = (task: TaskPlan) => reachOf(task, task.containers.find((c) => c.untrusted)!);
    expect(reach(api.task).map((r) => r.what)).toContain("signed-login");
    for (const version of api.versions) expect(reach(version.task), version.version).toEqual(reach(api.task));
  });

  it("is served by both subsets in the traffic evaluator, each selecting exactly its own version's instances", () => {
    const evaluator = TrafficEvaluator.fromStack(stacks.intentions);
    const request = { source: "web", destination: "api", method: "GET", path: "/" };
    const split = evaluator.route(request).splits;
    expect(split.map((s) => [s.weight, s.target.subset])).toEqual([
      [90, "v1"],
      [10, "v2"],
    ]);
    expect(evaluator.route({ ...request, headers: { "x-canary": "1" } }).splits.map((s) => s.target.subset)).toEqual(["v2"]);
    // Each subset's filter against the meta each version's mesh-init registers.
    const metaOf = new Map(api.versions.map((v) => [v.version!, JSON.parse(consulEcsConfigOf(v)).service.meta as Record<string, string>]));
    for (const { target } of split)
      expect(
        [...metaOf].filter(([, meta]) => evaluateFilter(target.filter!, { meta })).map(([version]) => version),
        target.subset,
      ).toEqual([target.subset]);
  });
});

describe("the hosts hold every version at once", () => {
  // Two t3.small hosts hold 4 awsvpc tasks; web's 1 plus api's versions on EC2.
  const onEc2 = (v1: number, v2: number) => canary({ launchType: "EC2", versions: { v1: { count: v1 }, v2: { count: v2 } } });
  const capacity = (spec: MeshSpecInput) => {
    const result: RuleResult = { errors: [], warnings: [] };
    checkCapacity(planOf(spec), result);
    return result.errors;
  };

  it("fails when the versions together outgrow the ENIs, though each alone fits", () => {
    expect(planOf(onEc2(2, 2)).ec2TaskCount).toBe(5);
    expect(capacity(onEc2(2, 2))).toEqual([{ path: "ecsHosts.instanceType", message: expect.stringMatching(/EC2 services want 5/) }]);
  });
  it("passes when they fit", () => expect(capacity(onEc2(2, 1))).toEqual([]));

  it("fails when the versions' rollouts together (a change to what they share) outgrow the ENIs, though each alone fits", () => {
    // An Auto Scaling group's capacity provider surges to 200 %: web 1 + api v1 2 + v2 2 = 5 > 4.
    const surging = canary({ launchType: "EC2", versions: { v1: { count: 1 }, v2: { count: 1 } } }, { ecsHosts: { instanceType: "t3.small", autoScaling: { maxSize: 2 } } });
    const eni = rolloutReports(planOf(surging)).filter((r) => r.need === "host ENIs at the peak of a rollout" && r.who === "service api (tasks)");
    expect(eni.map((r) => [r.specPath, r.verdict, r.path])).toEqual([
      ["services.api.versions.v1.count", "error", "of version v1 the EC2 hosts run 5 awsvpc tasks, but their ENIs hold 4: the new tasks stay PENDING"],
      ["services.api.versions.v2.count", "error", "of version v2 the EC2 hosts run 5 awsvpc tasks, but their ENIs hold 4: the new tasks stay PENDING"],
    ]);
  });

  it("counts every version's tasks in the private subnets' addresses, surging at once", () => {
    // A /27 has 27 usable addresses: 3 for the server and hosts, 1 for web, and api's versions on Fargate at 200 % (2 × (6 + v2)).
    const subnetErrors = (v2: number) => {
      const spec = canary({ versions: { v1: { count: 6 }, v2: { count: v2 } } }, { network: { zones: [{ privateSubnet: "10.0.101.0/27", publicSubnet: "10.0.1.0/28" }] } });
      const result: RuleResult = { errors: [], warnings: [] };
      checkNetwork(planOf(spec), result);
      return result.errors.filter((e) => e.path === "network.zones");
    };
    expect(subnetErrors(6)).toEqual([{ path: "network.zones", message: expect.stringMatching(/usable addresses, but the mesh needs 28 \(25 for tasks during rollouts/) }]);
    expect(subnetErrors(5)).toEqual([]);
  });

  it("rolls each version out by its own bounds, and counts their peaks together", () => {
    const reports = rolloutReports(planOf(onEc2(2, 1)));
    expect(reports.filter((r) => r.who === "service api (tasks)").map((r) => [r.specPath, r.need, r.verdict, r.path.split(":")[0]])).toEqual([
      ["services.api.versions.v1.count", "rolling deployment can progress", "ok", "of version v1 keeps 1 of 2 running (minimum 50 %), runs at most 2 (maximum 100 %)"],
      ["services.api.versions.v1.count", "host ENIs at the peak of a rollout", "ok", "of version v1 the EC2 hosts run 4 awsvpc tasks; their ENIs hold 4"],
      ["services.api.versions.v2.count", "rolling deployment can progress", "ok", "of version v2 keeps 0 of 1 running (minimum 0 %), runs at most 1 (maximum 100 %)"],
      ["services.api.versions.v2.count", "host ENIs at the peak of a rollout", "ok", "of version v2 the EC2 hosts run 4 awsvpc tasks; their ENIs hold 4"],
    ]);
  });
});

describe("each version's image is pulled by its own ECS service", () => {
  it("counts every version's image and tasks in the Docker Hub pull budget, not the service's image times its count", () => {
    const result: RuleResult = { errors: [], warnings: [] };
    checkImages(planOf(canary({ versions: { v1: { count: 2 }, v2: { image: "hashicorp/http-echo:1.0.1", count: 8 } }, split: { v1: 50, v2: 50 } })), result);
    const budget = result.warnings.find((w) => w.path === "images")?.message;
    expect(budget).toMatch(/hashicorp\/http-echo:1\.0\.0: 2 Fargate task\(s\)/);
    expect(budget).toMatch(/hashicorp\/http-echo:1\.0\.1: 8 Fargate task\(s\)/);
  });

  it("gives the service a network path for each version's image", () => {
    const needs = networkPaths(planOf(canary()))
      .filter((r) => r.who === "service api (tasks)")
      .map((r) => r.need);
    expect(needs).toContain("pull hashicorp/http-echo:1.0.1");
    expect(needs).toContain("pull hashicorp/http-echo:1.0.0");
  });
});

describe("the task models check every version's task", () => {
  // What the stacks create for a service with versions is each version's task definition, never the service-level one.
  const agent = planOf(canary());
  const dataplane = planOf(canary({ architecture: "dataplane" }));
  /** The plan with version v2 of api running `task` instead of its own. */
  const withV2 = (plan: MeshPlan, change: (v2: ServicePlan) => Partial<ServicePlan>): MeshPlan => ({
    ...plan,
    services: plan.services.map((s) => (s.name !== "api" ? s : { ...s, versions: s.versions.map((v) => (v.version === "v2" ? { ...v, ...change(v) } : v)) })),
  });
  const errorsOf = (rows: readonly PathReport[]) => rows.filter((r) => r.verdict === "error").map((r) => [r.who, r.specPath, r.path]);
  const mapContainers = (task: TaskPlan, change: (c: ContainerPlan) => ContainerPlan): TaskPlan => ({ ...task, containers: task.containers.map(change) });

  it("fails when a version's task breaks a model rule the service-level task passes, naming the version", () => {
    for (const plan of [agent, dataplane]) {
      const api = plan.services.find((s) => s.name === "api")!;
      // Lifecycle: v2's app waits on itself.
      const selfWait = withV2(plan, (v2) => ({
        task: mapContainers(v2.task, (c) => (c.untrusted ? { ...c, dependsOn: [...(c.dependsOn ?? []), { containerName: c.name, condition: "START" as const }] } : c)),
      }));
      expect(errorsOf(taskLifecycle(selfWait)), api.architecture).toEqual([["service api (tasks)", "services.api", expect.stringMatching(/^version v2: \S+ depends on itself/)]]);
      // Trust: v2 has no container marked as the app.
      const unmarked = withV2(plan, (v2) => ({ task: mapContainers(v2.task, ({ untrusted: _, ...c }) => c) }));
      expect(errorsOf(trustModel(unmarked)), api.architecture).toEqual([
        ["service api (tasks)", "services.api", "version v2: no container is marked as the app (untrusted): nothing here checks what user code reaches"],
      ]);
      // Boot order: v2's ECS service may start before any server wrote the RPC CA certificate its tasks read.
      const early = withV2(plan, (v2) => ({ startsAfter: v2.startsAfter.filter((p) => p !== "consul-servers") }));
      expect(errorsOf(bootOrder(early)), api.architecture).toEqual([
        ["service api (tasks)", "services.api", expect.stringMatching(/^version v2: the ECS service may start tasks before any server has booted/)],
      ]);
      // The service-level task is unchanged in each, and each plan as built passes.
      for (const broken of [selfWait, unmarked, early]) expect(broken.services.find((s) => s.name === "api")!.task).toBe(api.task);
      expect([...taskLifecycle(plan), ...trustModel(plan), ...bootOrder(plan)].filter((r) => r.verdict === "error")).toEqual([]);
    }
  });

  it("reports each version's rows, the default version's and the others'", () => {
    const rows = taskLifecycle(agent).filter((r) => r.who === "service api (tasks)" && r.need.startsWith("start order"));
    expect(rows.map((r) => r.path.split(":")[0])).toEqual(["version v1", "version v2"]);
  });

  it("today, a version's task differs from the service-level task only in the app's image and the version in the Consul registration", () => {
    // What the spec lets a version set (image, count) reaches no field the models read; this lists every leaf that differs.
    const differing = (a: unknown, b: unknown, at = ""): string[] => {
      if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) return Object.is(a, b) ? [] : [at];
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
      return keys.flatMap((k) => differing((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`));
    };
    const appIndex = (task: TaskPlan) => task.containers.findIndex((c) => c.untrusted);
    for (const plan of [agent, dataplane]) {
      const api = plan.services.find((s) => s.name === "api")!;
      for (const version of api.versions) {
        const app = appIndex(version.task);
        const diff = differing(api.task, version.task).map((p) => p.replace(`.containers.${app}.`, ".containers.<app>."));
        const image = version.version === "v2" ? [".containers.<app>.image"] : [];
        expect(diff.filter((p) => !p.includes(".context.")).sort(), `${api.architecture} ${version.version}`).toEqual(image);
        // The version only in the text contexts of the registration (agent) or consul-ecs's config (dataplane).
        expect(
          diff.filter((p) => p.includes(".context.")).every((p) => /\.context\.(version|service\.meta)$/.test(p.replace(/^.*?(\.context\.)/, "$1"))),
          diff.join(", "),
        ).toBe(true);
        expect(
          diff.some((p) => p.includes(".context.")),
          diff.join(", "),
        ).toBe(true);
      }
    }
  });
});
