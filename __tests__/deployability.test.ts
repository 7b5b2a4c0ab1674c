// The deployability model's rules, on plans that reproduce what would break a real deploy: each
// rule fails on the broken plan (the topology and numbers this project shipped before) and
// passes on today's.
import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { networkPaths } from "../lib/rules/network-paths";
import { checkRollouts, rolloutReports } from "../lib/rules/rollouts";
import { bootOrder, checkBootOrder } from "../lib/rules/boot-order";
import { checkLifecycle, taskLifecycle } from "../lib/rules/lifecycle";
import { deployabilityModel } from "../lib/rules/model";
import type { RuleResult } from "../lib/issues";
import { checkPlan, RULES } from "../lib/rules";
import { CONTROL_PLANE_COLD_BOOT_SECONDS } from "../lib/plan/server";
import { CONTROL_PLANE_WAIT } from "../lib/plan/containers";
import { interfaceApis } from "../lib/plan/aws-apis";
import type { ContainerPlan, MeshPlan, ServicePlan, TaskPlan, TlsEdgePlan } from "../lib/plan/types";
import { loadSpecFile } from "../lib/pipeline";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { MeshStack } from "../stacks/mesh-stack";
import { modelTables } from "../tools/support";
import { planOf, synthAllStacks } from "./support/synth";

const plan = planOf();

/** The plan with its network replaced: zones without a NAT gateway, the given interface endpoints. */
function withoutNat(p: MeshPlan, interfaceEndpoints: readonly string[]): MeshPlan {
  return { ...p, network: { ...p.network, egress: "vpc-endpoints", interfaceEndpoints, zones: p.network.zones.map(({ natZone: _, ...zone }) => zone) } };
}

function withService(p: MeshPlan, name: string, change: Partial<ServicePlan>): MeshPlan {
  return { ...p, services: p.services.map((s) => (s.name === name ? { ...s, ...change } : s)) };
}

describe("network paths", () => {
  it("finds a route for every need of the default mesh (the NAT gateway)", () => {
    const reports = networkPaths(plan);
    expect(reports.filter((r) => r.verdict !== "ok")).toEqual([]);
    expect(reports).toContainEqual(expect.objectContaining({ who: "service http-client (tasks)", need: "ssmmessages (ECS Exec)", path: "NAT gateway (shared)", verdict: "ok" }));
  });

  it("reports ECS Exec without a route to SSM Messages (the original subnet had neither NAT nor an endpoint), with the fix", () => {
    const broken = withoutNat(plan, ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]);
    const exec = networkPaths(broken).find((r) => r.need === "ssmmessages (ECS Exec)")!;
    expect(exec).toMatchObject({ who: "service http-client (tasks)", path: "no route", verdict: "error", specPath: "services.http-client.enableExecuteCommand" });
    expect(exec.fix).toMatch(/NAT gateway|turn ECS Exec off/);
    const result: RuleResult = checkPlan(broken);
    expect(result.errors).toContainEqual({ path: "services.http-client.enableExecuteCommand", message: expect.stringMatching(/cannot reach ssmmessages \(ECS Exec\): no route/) });
  });

  it("routes ECS Exec through the ssmmessages endpoint when there is one", () => {
    const endpoints = withoutNat(plan, ["kms", "ssmmessages"]);
    expect(networkPaths(endpoints).find((r) => r.need === "ssmmessages (ECS Exec)")).toMatchObject({ path: "VPC endpoint ssmmessages", verdict: "ok" });
  });

  it("reports a Fargate task in public subnets without a public IP: nothing reaches the internet from there", () => {
    const broken = withService(plan, "http-server", { launchType: "FARGATE", subnets: "public", assignPublicIp: false });
    expect(
      networkPaths(broken)
        .filter((r) => r.who === "service http-server (tasks)" && r.verdict === "error")
        .map((r) => r.need),
    ).toEqual(expect.arrayContaining(["pull hashicorp/http-echo:1.0.0", "logs (awslogs)", "secretsmanager (ECS secrets)"]));
  });

  describe("the TLS edge's tasks", () => {
    const edgeRows = (p: MeshPlan) => networkPaths(p).filter((r) => r.who.startsWith("TLS edge "));
    const example = loadSpecFile("examples/tls-edge.yaml").plan;
    const inExistingVpc = (p: MeshPlan, change: Partial<TlsEdgePlan>): MeshPlan => ({
      ...p,
      tlsEdge: { ...p.tlsEdge!, network: { from: "existing", vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] }, ...change },
    });

    it("pull both images from ECR, write logs and read the certificate through the mesh's NAT gateway, or its endpoints", () => {
      const rows = edgeRows(example);
      expect(rows.map((r) => r.need)).toEqual(
        expect.arrayContaining([
          "pull the app image from envoy-ssl-tutorial/flask-app: ecr.api",
          `pull ${example.tlsEdge!.envoyImage.source} mirrored into envoy-ssl-tutorial/envoy: s3`,
          "logs (awslogs)",
          "secretsmanager (ECS secrets)",
        ]),
      );
      expect(rows.map((r) => [r.verdict, r.path])).toEqual(rows.map((r) => ["ok", r.need.endsWith(": s3") ? "S3 gateway endpoint" : "NAT gateway (shared)"]));
      const endpoints = withoutNat(example, ["ecr.api", "ecr.dkr", "logs", "secretsmanager"]);
      expect(edgeRows(endpoints).find((r) => r.need === "logs (awslogs)")).toMatchObject({ path: "VPC endpoint logs", verdict: "ok" });
    });

    it("report a need the mesh's network cannot route, at the TLS edge's network", () => {
      const noLogs = withoutNat(example, ["ecr.api", "ecr.dkr", "secretsmanager"]);
      // The example ships metrics: its collector's EMF writes need logs too.
      expect(edgeRows(noLogs).filter((r) => r.verdict !== "ok")).toEqual([
        expect.objectContaining({ need: "logs (awslogs)", specPath: "tlsEdge.network", verdict: "error" }),
        expect.objectContaining({ need: expect.stringMatching(/^logs \(the collector's EMF metrics/), specPath: "tlsEdge.network", verdict: "error" }),
      ]);
      expect(checkPlan(noLogs).errors).toContainEqual({
        path: "tlsEdge.network",
        message: expect.stringMatching(/^TLS edge envoy-ssl-tutorial \(tasks\) cannot reach logs \(awslogs\): no route; /),
      });
    });

    it("count only their own endpoints in an existing VPC that asks for them, and report one the plan's list lacks", () => {
      const own = inExistingVpc(example, { interfaceEndpoints: ["ecr.api", "ecr.dkr", "logs", "secretsmanager"] });
      expect(edgeRows(own).every((r) => r.verdict === "ok" && /of tlsEdge\.vpcEndpoints$/.test(r.path))).toBe(true);
      const lacking = inExistingVpc(example, { interfaceEndpoints: ["ecr.api", "ecr.dkr", "logs"] });
      expect(edgeRows(lacking).filter((r) => r.verdict !== "ok")).toEqual([
        expect.objectContaining({ need: "secretsmanager (ECS secrets)", specPath: "tlsEdge.vpcEndpoints", fix: expect.stringMatching(/NAT gateway or vpcEndpoints/) }),
      ]);
      // Without endpoints of its own, an existing VPC's routes are the documented assumption.
      expect(edgeRows(inExistingVpc(example, {})).every((r) => r.verdict === "ok" && r.path.includes("assumed"))).toBe(true);
    });
  });
});

describe("AWS APIs: each call stated once by its caller", () => {
  /** The default mesh without internet access: VPC endpoints, Consul from S3, every image from ECR. */
  const noInternet = (consul: Record<string, unknown> = {}): MeshPlan =>
    planOf({
      ...DEFAULT_SPEC,
      network: { zones: [{ privateSubnet: "10.0.101.0/24" }], egress: "vpc-endpoints" },
      consul: { ...DEFAULT_SPEC.consul, releaseS3Uri: "s3://artifacts/consul.zip", ...consul },
      images: { pullThroughCache: true, dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub" },
      services: Object.fromEntries(
        Object.entries(DEFAULT_SPEC.services!).map(([name, service]) => [name, { ...service, image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}:1` }]),
      ),
    });
  const taskRoleGrants = (p: MeshPlan, service: string): string[] => {
    const doc = JSON.parse(Testing.synth(new MeshStack(Testing.app(), "mesh", p)));
    const policy = doc.resource.aws_iam_role_policy[`service_${service}_task_role_policy_${p.names.containerCallsPolicy}`];
    return policy ? JSON.parse(policy.policy).Statement.flatMap((st: { Action: string[] }) => st.Action) : [];
  };

  it("creates an interface endpoint for exactly the APIs the mesh calls: none for EC2 when nothing calls it", () => {
    // Fixed servers, and agents that join them by address: no caller of EC2.
    expect(noInternet().network.interfaceEndpoints).toEqual(["ecr.api", "ecr.dkr", "ecs", "ecs-agent", "ecs-telemetry", "kms", "logs", "secretsmanager", "ssm", "ssmmessages"]);
    // Auto Scaling servers attach their volume and complete their launch hook; their agents join by tag.
    const autoScaling = noInternet({ serverPrivateIps: undefined, servers: 3 });
    expect(autoScaling.network.interfaceEndpoints).toEqual(expect.arrayContaining(["autoscaling", "ec2"]));
    expect(checkPlan(autoScaling).errors).toEqual([]);
  });

  it("gives a call a container states its endpoint, its route check and its task role's grant, with no change to the rule, the network or the role", () => {
    const base = noInternet();
    const call = { api: "ec2" as const, actions: ["ec2:DescribeInstances"], why: "the app lists instances" };
    const withCall: MeshPlan = {
      ...base,
      services: base.services.map((s) =>
        s.name === "http-client" ? { ...s, task: { ...s.task, containers: s.task.containers.map((c) => (c.untrusted ? { ...c, calls: [call] } : c)) } } : s,
      ),
    };
    expect(interfaceApis(withCall.server, withCall.hosts, withCall.services, withCall.images)).toContain("ec2");
    expect(networkPaths(withCall)).toContainEqual(expect.objectContaining({ who: "service http-client (tasks)", need: "ec2 (the app lists instances)", verdict: "error" }));
    expect(taskRoleGrants(withCall, "http-client")).toEqual(["ec2:DescribeInstances"]);
    expect(taskRoleGrants(base, "http-client")).toEqual([]);
  });
});

describe("anonymous Docker Hub pulls", () => {
  const pullWarnings = (p: MeshPlan) => checkPlan(p).warnings.filter((w) => w.path === "images");
  /** The default mesh with http-server on Fargate at the given count. */
  const onFargate = (count: number) => withService(plan, "http-server", { launchType: "FARGATE", capacity: "FARGATE", count });
  /** The plan with Envoy through a Docker Hub pull-through cache. */
  const withEnvoyCached = (p: MeshPlan): MeshPlan => ({
    ...p,
    images: new Map(
      [...p.images].map(([key, image]) => [
        key,
        image.upstream.startsWith("envoyproxy/") ? { ...image, via: { cache: "docker-hub" as const, repository: "envoyproxy/envoy", tag: "v1.37.11" } } : image,
      ]),
    ),
  });

  it("counts one pull per EC2 host (images are pulled once per host) and stays quiet for the default mesh", () => {
    // Envoy on both hosts, http-echo on both, curl on one: 5 pulls, within 10 per hour.
    expect(pullWarnings(plan)).toEqual([]);
  });

  it("warns when Fargate tasks, which pull every image on every start, exceed the NAT address's hourly limit, naming both fixes", () => {
    // 6 Fargate tasks pull Envoy and http-echo each (12), the hosts pull Envoy and curl once (2).
    const [warning, ...rest] = pullWarnings(onFargate(6));
    expect(rest).toEqual([]);
    expect(warning!.message).toMatch(/^a rollout of every service makes about 14 anonymous Docker Hub pulls \(/);
    expect(warning!.message).toContain("envoyproxy/envoy:v1.37.11: 6 Fargate task(s)");
    expect(warning!.message).toContain("through 1 NAT gateway address(es); Docker Hub allows 10 per hour per address");
    expect(warning!.message).toContain("images.dockerHubCredentialsSecretArn");
    expect(warning!.message).toContain("imageCredentialsSecretArn on http-client, http-server");
    // Many services are named by the first five and a count.
    const many = {
      ...plan,
      services: Array.from({ length: 7 }, (_, i) => ({ ...plan.services[1]!, name: `svc-${i}`, launchType: "FARGATE" as const, capacity: "FARGATE" as const, count: 1 })),
    };
    expect(pullWarnings(many)[0]!.message).toContain("imageCredentialsSecretArn on svc-0, svc-1, svc-2, svc-3, svc-4 and 2 more (or their images in ECR)");
    // A service scaled to zero pulls nothing and is not named.
    const idleClient = withService(onFargate(6), "http-client", { count: 0 });
    expect(pullWarnings(idleClient)[0]!.message).toContain("imageCredentialsSecretArn on http-server (or their images in ECR)");
    // Four tasks stay within the limit: 8 + 2.
    expect(pullWarnings(onFargate(4))).toEqual([]);
  });

  it("does not count what needs no anonymous pull: Envoy through the Docker Hub cache, app images with credentials or from ECR", () => {
    const cached = withEnvoyCached(onFargate(6));
    const credentials = withService(cached, "http-server", { imageCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:hub-AbCdEf" });
    expect(pullWarnings(credentials)).toEqual([]);
    const ecr = withService(cached, "http-server", { image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/http-echo:1.0.0" });
    expect(pullWarnings(ecr)).toEqual([]);
  });

  it("rejects a Fargate task that would pull Envoy anonymously on every start, unless the spec opts in; Envoy through the cache passes", () => {
    const anonymous = (p: MeshPlan) => checkPlan(p).errors.filter((e) => /Docker Hub anonymously/.test(e.message));
    expect(anonymous(plan), "EC2 hosts pull once").toEqual([]);
    expect(anonymous(onFargate(1))).toEqual([
      {
        path: "services.http-server.launchType",
        message: expect.stringMatching(
          /^a Fargate task pulls envoyproxy\/envoy:v1\.37\.11 from Docker Hub anonymously on every start, .*images\.dockerHubCredentialsSecretArn .*architecture: dataplane .*images\.allowAnonymousDockerHubPulls: true accepts the risk$/,
        ),
      },
    ]);
    expect(anonymous({ ...onFargate(1), allowAnonymousDockerHubPulls: true })).toEqual([]);
    expect(anonymous(onFargate(0)), "scaled to zero").toEqual([]);
    expect(anonymous(withService(onFargate(1), "http-server", { assignPublicIp: true, subnets: "public" })), "a public IP of its own").toEqual([]);
    expect(anonymous(withEnvoyCached(onFargate(1)))).toEqual([]);
  });

  it("shares the limit over one address per NAT gateway", () => {
    const twoZones = {
      ...onFargate(6),
      network: { ...plan.network, egress: "nat-gateway-per-zone" as const, zones: [plan.network.zones[0]!, { ...plan.network.zones[0]!, index: 1 }] },
    };
    expect(pullWarnings(twoZones)).toEqual([]);
  });
});

describe("rollouts", () => {
  const rollouts = (p: MeshPlan): RuleResult => {
    const result: RuleResult = { errors: [], warnings: [] };
    checkRollouts(p, result);
    return result;
  };

  it("lets every default service roll out", () => {
    expect(rollouts(plan).errors).toEqual([]);
  });

  it("reports a single EC2 task with minimum 50 % and maximum 100 % (what the stacks shipped): a rollout that can never progress", () => {
    const broken = withService(plan, "http-client", { deployment: { minimumHealthyPercent: 50, maximumPercent: 100 } });
    expect(rollouts(broken).errors).toEqual([
      { path: "services.http-client.count", message: expect.stringMatching(/keep 1 of 1 task\(s\).*at most 1.*neither stop an old task nor start a new one/) },
    ]);
  });

  it("reports a surge the hosts' ENIs cannot hold", () => {
    const broken = withService(plan, "http-server", { deployment: { minimumHealthyPercent: 100, maximumPercent: 200 } });
    expect(rollouts(broken).errors).toEqual([{ path: "services.http-server.count", message: expect.stringMatching(/run 7 awsvpc tasks, but their ENIs hold 4/) }]);
  });
});

/** One rule's result on a plan. */
function run(rule: (p: MeshPlan, r: RuleResult) => void, p: MeshPlan): RuleResult {
  const result: RuleResult = { errors: [], warnings: [] };
  rule(p, result);
  return result;
}

/** The plan with one container of every mesh task changed (or removed, when `change` returns undefined). */
function withContainer(p: MeshPlan, name: string, change: (c: ContainerPlan) => ContainerPlan | undefined): MeshPlan {
  const task = (t: TaskPlan): TaskPlan => ({
    ...t,
    containers: t.containers.flatMap((c) => (c.name === name ? [change(c)].filter((x): x is ContainerPlan => x !== undefined) : [c])),
  });
  return { ...p, services: p.services.map((s) => ({ ...s, task: task(s.task) })) };
}

/** The plan with the first service's task replaced by these containers. */
function withTask(p: MeshPlan, containers: ContainerPlan[]): MeshPlan {
  const [first, ...rest] = p.services;
  return { ...p, services: [{ ...first!, task: { ...first!.task, containers } }, ...rest] };
}

const plain = (name: string, change: Partial<ContainerPlan> = {}): ContainerPlan => ({ name, image: "busybox:1.37.0", essential: true, ...change });
const liveness = { command: ["CMD", "true"], interval: 10, timeout: 5, retries: 3, startPeriod: 10 } as const;

describe("boot order", () => {
  it("orders the TLS edge's service after its certificate's secret versions, and reports a TLS edge that is not", () => {
    const edge = loadSpecFile("examples/tls-edge.yaml").plan;
    expect(bootOrder(edge)).toContainEqual(
      expect.objectContaining({ who: expect.stringMatching(/^TLS edge /), need: "its secrets' values at start (ECS reads them once)", verdict: "ok" }),
    );
    const unordered = { ...edge, tlsEdge: { ...edge.tlsEdge!, startsAfter: [] } };
    expect(run(checkBootOrder, unordered).errors).toEqual([{ path: "tlsEdge", message: expect.stringMatching(/secrets' values at start .*fail to start/) }]);
  });

  describe("the RPC CA certificate, which the first server writes at boot", () => {
    const need = "the RPC CA certificate at start, which the first server writes at boot (ECS reads it once)";
    const caRows = (p: MeshPlan) => bootOrder(p).filter((r) => r.need === need);

    it("fixed servers: Terraform does not wait for their boot, so the services read it without a circuit breaker, which a first deployment would trip", () => {
      expect(plan.server.placement).toBe("fixed");
      expect(plan.services.map((s) => [s.name, s.circuitBreaker])).toEqual([
        ["http-client", false],
        ["http-server", false],
      ]);
      expect(caRows(plan).map((r) => [r.who, r.verdict])).toEqual([
        ["service http-client (tasks)", "ok"],
        ["service http-server (tasks)", "ok"],
      ]);
      expect(caRows(plan)[0]!.path).toMatch(/fails to start and ECS starts another \(throttled, at most 27 min apart, never giving up\); the circuit breaker is off/);
      // The breaker on, as every service had it: the first deployment fails and stops launching tasks.
      const withBreaker = withService(plan, "http-client", { circuitBreaker: true });
      expect(run(checkBootOrder, withBreaker).errors).toEqual([
        {
          path: "services.http-client",
          message: expect.stringMatching(
            /RPC CA certificate at start.*circuit breaker fails the first deployment after 3 of them and stops launching tasks .*turn the circuit breaker off/,
          ),
        },
      ]);
    });

    it("Auto Scaling servers: each is in service only once it wrote or read it, so the services keep their circuit breaker", () => {
      const production = loadSpecFile("examples/production.yaml").plan;
      expect(production.server.placement).toBe("auto-scaling");
      expect(production.services.every((s) => s.circuitBreaker)).toBe(true);
      expect(new Set(caRows(production).map((r) => r.verdict))).toEqual(new Set(["ok"]));
      expect(caRows(production)[0]!.path).toMatch(/its launch hook/);
    });

    it("the synthesized ECS services follow the plan: no breaker for the default's, breaker and rollback for production's", () => {
      const breakers = (spec: unknown) => Object.values<any>((synthAllStacks(spec as never).mesh as any).resource.aws_ecs_service).map((s) => s.deployment_circuit_breaker);
      expect(new Set(breakers(DEFAULT_SPEC).map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify({ enable: false, rollback: false })]));
      expect(new Set(breakers(loadSpecFile("examples/production.yaml").spec).map((b) => JSON.stringify(b)))).toEqual(new Set([JSON.stringify({ enable: true, rollback: true })]));
    });
  });

  it("has every mesh task wait for the control plane, bounded, and the agent's check tolerate a cold boot (today's plan)", () => {
    const reports = bootOrder(plan);
    expect(reports.filter((r) => r.verdict !== "ok")).toEqual([]);
    expect(reports).toContainEqual(
      expect.objectContaining({
        who: "service http-client (tasks)",
        need: expect.stringMatching(/^control plane at start \(envoy-bootstrap\)/),
        path: expect.stringMatching(/retries up to 600 s .*Terraform creates the servers and its service token parameter first/),
      }),
    );
    // With auto_encrypt the agent opens its HTTP API only once a server signed its certificate.
    expect(reports).toContainEqual(
      expect.objectContaining({
        need: "consul-agent health check during a cold boot",
        path: "needs the control plane; turns UNHEALTHY after 330 s of failures, longer than a cold boot",
        verdict: "ok",
      }),
    );
    expect(reports).toContainEqual(
      expect.objectContaining({ need: "envoy-sidecar health check during a cold boot", path: expect.stringMatching(/runs after envoy-bootstrap waited for it/), verdict: "ok" }),
    );
  });

  it("waits at least a cold boot, from one estimate", () => {
    expect(CONTROL_PLANE_COLD_BOOT_SECONDS).toBeGreaterThanOrEqual(300);
    expect(CONTROL_PLANE_WAIT.attempts * CONTROL_PLANE_WAIT.intervalSeconds).toBeGreaterThanOrEqual(CONTROL_PLANE_COLD_BOOT_SECONDS);
    const bootstrap = plan.services[0]!.task.containers.find((c) => c.name === "envoy-bootstrap")!;
    expect(bootstrap.needs).toEqual([{ need: "control-plane", retrySeconds: CONTROL_PLANE_WAIT.attempts * CONTROL_PLANE_WAIT.intervalSeconds }]);
  });

  it("reports the boot race this project shipped: `consul members` as the agent's check (ACL token and server), startPeriod 10, the bootstrap behind agent HEALTHY", () => {
    // The task as it was: the agent's check needed the control plane; the bootstrap waited 60 × 5 s, but only once the agent was HEALTHY.
    const before = withContainer(
      withContainer(plan, "consul-agent", (c) => ({
        ...c,
        healthCheck: { command: ["CMD", "consul", "members"], interval: 10, timeout: 5, retries: 3, startPeriod: 10, needs: ["control-plane"] },
      })),
      "envoy-bootstrap",
      (c) => ({ ...c, needs: [{ need: "control-plane", retrySeconds: 300 }] }),
    );
    const { errors } = checkPlan(before);
    for (const service of ["http-client", "http-server"]) {
      expect(errors).toContainEqual({
        path: `services.${service}`,
        message: expect.stringMatching(
          /consul-agent health check during a cold boot: needs the control plane and nothing before it waited for that: it turns UNHEALTHY startPeriod 10 s \+ 3 retries × 10 s = 40 s, within a cold server boot \(300 s\); consul-agent is essential, so ECS stops the task and starts another.*liveness probe/,
        ),
      });
      expect(errors).toContainEqual({
        path: `services.${service}`,
        message: expect.stringMatching(
          /envoy-bootstrap retries 300 s, but it starts only after consul-agent is HEALTHY \(envoy-bootstrap -> consul-agent \(HEALTHY\)\), and that health check needs the control plane/,
        ),
      });
    }
    // Nothing else in the model breaks: the race is the finding.
    expect(errors.filter((e) => !/cold boot|control plane/.test(e.message))).toEqual([]);
  });

  it("reports the agent check this project shipped: the HTTP API with auto_encrypt needs a server, startPeriod 10", () => {
    const shipped = withContainer(plan, "consul-agent", (c) => ({ ...c, healthCheck: { ...c.healthCheck!, startPeriod: 10 } }));
    expect(run(checkBootOrder, shipped).errors).toContainEqual({
      path: "services.http-server",
      message: expect.stringMatching(/consul-agent health check during a cold boot: .*UNHEALTHY startPeriod 10 s \+ 3 retries × 10 s = 40 s, within a cold server boot/),
    });
  });

  it("accepts a check that needs the control plane when it tolerates a cold boot (startPeriod + retries × interval)", () => {
    const tolerant = withContainer(plan, "consul-agent", (c) => ({ ...c, healthCheck: { ...c.healthCheck!, startPeriod: 300, needs: ["control-plane"] } }));
    expect(run(checkBootOrder, tolerant).errors).toEqual([]);
    expect(bootOrder(tolerant)).toContainEqual(
      expect.objectContaining({ need: "consul-agent health check during a cold boot", path: expect.stringMatching(/after 330 s of failures, longer than a cold boot/) }),
    );
  });

  describe("the signed IAM login of dataplane tasks", () => {
    const production = loadSpecFile("examples/production.yaml").plan;
    const loginNeed = /^consul-ecs-mesh-init's IAM login, signed once when it starts and rejected by AWS 300 s later$/;

    it("passes today: the servers create the auth method, and a stale login ends the task (startTimeout 120 s on Fargate, 240 s on EC2)", () => {
      const reports = bootOrder(production).filter((r) => loginNeed.test(r.need));
      expect(reports.map((r) => [r.who, r.verdict])).toEqual([
        ["service api (tasks)", "ok"],
        ["service orders (tasks)", "ok"],
        ["service web (tasks)", "ok"],
      ]);
      // api runs on Fargate, orders and web on EC2.
      expect(reports[0]!.path).toMatch(/stops after 120 s \(consul-dataplane, consul-ecs-health-sync give up\)/);
      expect(reports[1]!.path).toMatch(/^the servers create the auth method and report in service only then, and the tasks start after them; .*stops after 240 s/);
      expect(checkPlan(production).errors).toEqual([]);
      // Fixed servers gate nothing: a task started during their cold boot times out (240 s < 300 s). Their
      // services have no circuit breaker (they read the RPC CA the first server writes), so ECS replaces it;
      // with the breaker on, the failures would count toward it.
      const fixedPlan = planOf({ ...DEFAULT_SPEC, architecture: "dataplane" });
      expect(bootOrder(fixedPlan).find((r) => loginNeed.test(r.need))).toMatchObject({
        verdict: "ok",
        path: expect.stringMatching(/tasks may start first: .*stops after 240 s .*until the servers are up \(the circuit breaker is off for this service\)$/),
      });
      const withBreaker = { ...fixedPlan, services: fixedPlan.services.map((s) => ({ ...s, circuitBreaker: true })) };
      expect(bootOrder(withBreaker).find((r) => loginNeed.test(r.need))).toMatchObject({
        verdict: "warning",
        path: expect.stringMatching(/tasks may start first: .*stops after 240 s .*trip the deployment circuit breaker$/),
        fix: expect.stringMatching(/^use Auto Scaling servers .*count 0 first/),
      });
    });

    it("reports the first deploy this project shipped: the auth method made by the later intentions deploy, mesh-init without startTimeout", () => {
      const shipped = withContainer({ ...production, server: { ...production.server, login: undefined } }, "consul-ecs-mesh-init", ({ startTimeout: _, ...c }) => c);
      const errors = run(checkBootOrder, shipped).errors.filter((e) => /IAM login/.test(e.message));
      expect(errors).toHaveLength(3);
      expect(errors[0]).toEqual({
        path: "services.api",
        message: expect.stringMatching(/signed once .*nothing creates the auth method before the tasks start .*retries it forever.*ServerPlan\.login/),
      });
      const servers = withContainer(production, "consul-ecs-mesh-init", ({ startTimeout: _, ...c }) => c);
      expect(run(checkBootOrder, servers).errors).toContainEqual({
        path: "services.web",
        message: expect.stringMatching(/no startTimeout: a task whose signature went stale .*never replaced.*set consul-ecs-mesh-init's startTimeout below 300 s/),
      });
    });

    it("reports a startTimeout the signature does not outlive, and one that stops nothing", () => {
      const long = withContainer(production, "consul-ecs-mesh-init", (c) => ({ ...c, startTimeout: 300 }));
      expect(run(checkBootOrder, long).errors).toContainEqual({ path: "services.orders", message: expect.stringMatching(/startTimeout 300 s: a task whose signature went stale/) });
      const nobodyWaits = withContainer(production, "consul-dataplane", (c) => ({ ...c, dependsOn: [] }));
      const unstopped = withContainer(nobodyWaits, "consul-ecs-health-sync", (c) => ({ ...c, essential: false }));
      expect(run(checkBootOrder, unstopped).errors).toContainEqual({
        path: "services.orders",
        message: expect.stringMatching(/startTimeout 240 s and no essential container waiting on it/),
      });
    });
  });

  it("reports a wait shorter than a cold boot, and a container that does not wait at all", () => {
    const short = withContainer(plan, "envoy-bootstrap", (c) => ({ ...c, needs: [{ need: "control-plane", retrySeconds: 120 }] }));
    expect(run(checkBootOrder, short).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/envoy-bootstrap retries 120 s, less than a cold server boot \(300 s\); retry for at least 300 s/),
    });
    const none = withContainer(plan, "envoy-bootstrap", (c) => ({ ...c, needs: [{ need: "control-plane", retrySeconds: 0 }] }));
    expect(run(checkBootOrder, none).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/envoy-bootstrap fails at once when the control plane is not up yet/),
    });
  });

  it("reports an essential check on the control plane with no wait before it (the sidecar started without the bootstrap)", () => {
    const ungated = withContainer(
      withContainer(plan, "envoy-bootstrap", () => undefined),
      "envoy-sidecar",
      (c) => ({ ...c, dependsOn: [{ containerName: "consul-agent", condition: "HEALTHY" }] }),
    );
    expect(run(checkBootOrder, ungated).errors).toContainEqual({
      path: "services.http-server",
      message: expect.stringMatching(/envoy-sidecar health check during a cold boot: needs the control plane and nothing before it waited/),
    });
  });

  it("reports tasks that may start before Terraform wrote their secrets", () => {
    const unordered = withService(plan, "http-server", { startsAfter: ["consul-servers", "service-token"] });
    expect(run(checkBootOrder, unordered).errors).toEqual([
      { path: "services.http-server", message: expect.stringMatching(/secrets' values at start .*fail to start; list "mesh-secrets" in startsAfter/) },
    ]);
  });

  it("is what the stack orders the ECS service after: the plan's startsAfter becomes depends_on", () => {
    const synth = (p: MeshPlan) =>
      JSON.parse(Testing.synth(new MeshStack(Testing.app(), "mesh", p))).resource.aws_ecs_service["service_http-client_service"].depends_on as string[];
    expect(synth(plan)).toEqual(expect.arrayContaining(["aws_instance.consul_servers_server_1_instance", "aws_ssm_parameter.consul_secrets_service_token_http-client_parameter"]));
    const serversOnly = synth(withService(plan, "http-client", { startsAfter: ["consul-servers"] }));
    expect(serversOnly).toContain("aws_instance.consul_servers_server_1_instance");
    expect(serversOnly.filter((d) => /secret_version|ssm_parameter/.test(d))).toEqual([]);
  });
});

describe("task lifecycle", () => {
  it("passes today's mesh tasks, and shows their start and stop order", () => {
    const reports = taskLifecycle(plan);
    expect(reports.filter((r) => r.verdict !== "ok")).toEqual([]);
    expect(reports).toContainEqual(
      expect.objectContaining({ who: "service http-client (tasks)", need: expect.stringMatching(/^start order/), path: "consul-agent > envoy-bootstrap > envoy-sidecar > app" }),
    );
    expect(reports).toContainEqual(expect.objectContaining({ need: "stop order: envoy-sidecar outlives app", path: "app -> envoy-sidecar (HEALTHY): ECS stops app first" }));
  });

  it("passes the TLS edge task: Envoy stops before the app it forwards to", () => {
    const edge = loadSpecFile("examples/tls-edge.yaml").plan;
    const rows = taskLifecycle(edge).filter((r) => r.who.startsWith("TLS edge"));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.verdict !== "ok")).toEqual([]);
    expect(rows).toContainEqual(expect.objectContaining({ specPath: "tlsEdge", need: "stop order: app outlives envoy", path: "envoy -> app (HEALTHY): ECS stops envoy first" }));
    const reversed = {
      ...edge,
      tlsEdge: {
        ...edge.tlsEdge!,
        task: {
          ...edge.tlsEdge!.task,
          containers: edge.tlsEdge!.task.containers.map((c) => (c.name === "envoy" ? { ...c, dependsOn: c.dependsOn!.filter((d) => d.containerName !== "app") } : c)),
        },
      },
    };
    expect(run(checkLifecycle, reversed).errors).toEqual([{ path: "tlsEdge", message: expect.stringMatching(/envoy needs app running but does not depend on it/) }]);
  });

  it("reports a dependsOn cycle: none of its containers can start", () => {
    const cycle = withContainer(plan, "consul-agent", (c) => ({ ...c, dependsOn: [{ containerName: "app", condition: "START" }] }));
    expect(run(checkLifecycle, cycle).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/dependsOn cycle consul-agent -> app -> envoy-sidecar -> envoy-bootstrap -> consul-agent: none of them can start; remove one dependsOn entry/),
    });
  });

  it("reports a dependency on a container the task does not have, and on itself", () => {
    const unknown = withContainer(plan, "app", (c) => ({ ...c, dependsOn: [{ containerName: "envoy", condition: "HEALTHY" }] }));
    expect(run(checkLifecycle, unknown).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/app depends on envoy, which is not a container of this task/),
    });
    const self = withContainer(plan, "app", (c) => ({ ...c, dependsOn: [...c.dependsOn!, { containerName: "app", condition: "START" }] }));
    expect(run(checkLifecycle, self).errors).toContainEqual({ path: "services.http-client", message: expect.stringMatching(/app depends on itself/) });
  });

  it("reports HEALTHY on a container without a health check", () => {
    const unchecked = withContainer(plan, "envoy-sidecar", ({ healthCheck: _, ...c }) => c);
    expect(run(checkLifecycle, unchecked).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/app waits for envoy-sidecar HEALTHY, but envoy-sidecar has no health check: app never starts/),
    });
  });

  it("reports SUCCESS on an essential container", () => {
    const essentialInit = withContainer(plan, "envoy-bootstrap", (c) => ({ ...c, essential: true }));
    expect(run(checkLifecycle, essentialInit).errors).toEqual(
      ["http-client", "http-server"].map((s) => ({
        path: `services.${s}`,
        message: expect.stringMatching(/envoy-sidecar waits for envoy-bootstrap SUCCESS, but envoy-bootstrap is essential.*make envoy-bootstrap non-essential/),
      })),
    );
  });

  it("reports a proxy that is not essential: the task would run on without it", () => {
    const optionalProxy = withContainer(plan, "envoy-sidecar", (c) => ({ ...c, essential: false }));
    expect(run(checkLifecycle, optionalProxy).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(
        /long-running containers .*: envoy-sidecar runs as long as the task .* but is not essential.*set essential: true on envoy-sidecar \(lib\/plan\/containers\.ts\)/,
      ),
    });
  });

  it("reports a task without an essential container", () => {
    const none = withTask(plan, [plain("only", { essential: false })]);
    expect(run(checkLifecycle, none).errors).toContainEqual({ path: "services.http-client", message: expect.stringMatching(/no container is essential/) });
  });

  it("reports an app that does not depend on its proxy: ECS could stop the proxy first", () => {
    const detached = withContainer(plan, "app", ({ dependsOn: _, ...c }) => c);
    expect(run(checkLifecycle, detached).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(
        /stop order: envoy-sidecar outlives app: app needs envoy-sidecar running but does not depend on it .*make app depend on envoy-sidecar \(HEALTHY\)/,
      ),
    });
  });

  it("counts a stop order through running containers only: an init container that exited holds nothing back", () => {
    const throughInit = withTask(plan, [
      plain("proxy", { healthCheck: liveness }),
      plain("init", { essential: false, dependsOn: [{ containerName: "proxy", condition: "HEALTHY" }] }),
      plain("app", { dependsOn: [{ containerName: "init", condition: "SUCCESS" }], needsRunning: ["proxy"] }),
    ]);
    expect(run(checkLifecycle, throughInit).errors).toEqual([
      { path: "services.http-client", message: expect.stringMatching(/app needs proxy running but does not depend on it through running containers/) },
    ]);
    const throughRunning = withTask(plan, [
      plain("proxy", { healthCheck: liveness }),
      plain("agent", { dependsOn: [{ containerName: "proxy", condition: "HEALTHY" }] }),
      plain("app", { dependsOn: [{ containerName: "agent", condition: "START" }], needsRunning: ["proxy"] }),
    ]);
    expect(run(checkLifecycle, throughRunning).errors).toEqual([]);
    expect(taskLifecycle(throughRunning)).toContainEqual(
      expect.objectContaining({ need: "stop order: proxy outlives app", path: "app -> agent (START) -> proxy (HEALTHY): ECS stops app first" }),
    );
  });

  it("reports health check settings ECS does not accept", () => {
    const slow = withContainer(plan, "consul-agent", (c) => ({ ...c, healthCheck: { ...c.healthCheck!, startPeriod: 400 } }));
    expect(run(checkLifecycle, slow).errors).toContainEqual({
      path: "services.http-client",
      message: expect.stringMatching(/consul-agent healthCheck.startPeriod is 400; ECS accepts 0-300/),
    });
  });
});

describe("the model", () => {
  it("is part of the rules every synthesis runs", () => {
    expect(RULES).toEqual(expect.arrayContaining([checkBootOrder, checkLifecycle, checkRollouts]));
  });

  it("shows rollouts as rows, ok or not", () => {
    expect(rolloutReports(plan)).toContainEqual(
      expect.objectContaining({ who: "service http-server (tasks)", need: "rolling deployment can progress", path: expect.stringMatching(/keeps 2 of 3 running/), verdict: "ok" }),
    );
  });

  it("has no error for the default and every example, and covers each topic per service", () => {
    const plans = [
      plan,
      ...fs
        .readdirSync("examples")
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => loadSpecFile(path.join("examples", f)).plan),
    ];
    for (const p of plans) {
      const model = deployabilityModel(p);
      expect([...model.values()].flat().filter((r) => r.verdict === "error")).toEqual([]);
      for (const service of p.services) {
        const needs = model.get(`service ${service.name} (tasks)`)!.map((r) => r.need);
        const proxy = service.architecture === "agent" ? "envoy-sidecar" : "consul-dataplane";
        // Every mesh task reads the RPC CA certificate (the servers write it); agent tasks also read secrets Terraform writes.
        expect(needs).toEqual(
          expect.arrayContaining([
            "logs (awslogs)",
            "the RPC CA certificate at start, which the first server writes at boot (ECS reads it once)",
            `stop order: ${proxy} outlives app`,
            "rolling deployment can progress",
          ]),
        );
        expect(needs.includes("its secrets' values at start (ECS reads them once)"), service.name).toBe(service.architecture === "agent");
      }
    }
  });

  it("prints a table per task, host and server, and counts the errors", () => {
    const { text, errors } = modelTables(plan);
    expect(errors).toBe(0);
    expect(text).toMatch(/^service http-client \(tasks\)\nneed +verdict +path\n/m);
    expect(text).toMatch(/^Consul servers$/m);
    const race = modelTables(withContainer(plan, "consul-agent", (c) => ({ ...c, healthCheck: { ...c.healthCheck!, startPeriod: 10 } })));
    expect(race.errors).toBe(4);
    expect(race.text).toMatch(/^consul-agent health check during a cold boot +ERROR +needs the control plane and nothing before it waited/m);
    expect(race.text).toMatch(/^ {2}ERROR services\.http-client, consul-agent health check during a cold boot\. Fix: make the check a liveness probe/m);
  });
});
