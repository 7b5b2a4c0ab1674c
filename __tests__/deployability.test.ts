// The deployability model's rules, on plans that reproduce what would break a real deploy: each
// rule fails on the broken plan (the topology and numbers this project shipped before) and
// passes on today's.
import { describe, expect, it } from "vitest";
import { networkPaths } from "../lib/rules/network-paths";
import { checkRollouts } from "../lib/rules/rollouts";
import { checkPlan, type RuleResult } from "../lib/rules";
import type { MeshPlan, ServicePlan } from "../lib/plan/types";
import { planOf } from "./support/synth";

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
    expect(networkPaths(broken).filter((r) => r.who === "service http-server (tasks)" && r.verdict === "error").map((r) => r.need)).toEqual(
      expect.arrayContaining(["pull hashicorp/http-echo:1.0.0", "logs (awslogs)", "secretsmanager (ECS secrets)"]),
    );
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
