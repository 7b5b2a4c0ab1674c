// Autoscaling (spec services.<name>.autoscaling): the spec's bounds and targets, the rules that count
// an autoscaled service at its maxCount (capacity, rollouts, addresses, Docker Hub pulls), and the
// synthesized scalable targets and policies with the desired count left to the scaler. That every
// metric a policy reads is one the collector emits is in observability.test.ts.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import path from "node:path";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import { planOf, synthMeshStack } from "./support/synth";
import { rejectionOf, specIssues } from "./support/spec-issues";

type Doc = Record<string, any>;
const THREE_TIER = parse(readFileSync(path.join(__dirname, "..", "examples", "three-tier.yaml"), "utf8")) as MeshSpecInput;
const services = DEFAULT_SPEC.services as Record<string, Doc>;

/** The default spec with one service's fields changed. */
function withService(name: string, fields: Doc, rest: Partial<MeshSpecInput> = {}): MeshSpecInput {
  return { ...DEFAULT_SPEC, ...rest, services: { ...services, [name]: { ...services[name], ...fields } } } as MeshSpecInput;
}

describe("autoscaling spec", () => {
  it("needs exactly one target and minCount at most maxCount", () => {
    const both = rejectionOf(withService("http-server", { autoscaling: { maxCount: 3, cpuPercent: 50, requestsPerTask: 10 } }));
    expect(both.errors).toContainEqual(expect.objectContaining({ path: "services.http-server.autoscaling", message: expect.stringMatching(/exactly one target/) }));
    const none = rejectionOf(withService("http-server", { autoscaling: { maxCount: 3 } }));
    expect(none.errors).toContainEqual(expect.objectContaining({ path: "services.http-server.autoscaling" }));
    const inverted = rejectionOf(withService("http-server", { count: 2, autoscaling: { minCount: 3, maxCount: 2, cpuPercent: 50 } }));
    expect(inverted.errors).toContainEqual(expect.objectContaining({ path: "services.http-server.autoscaling.minCount", message: "must be at most maxCount" }));
  });

  it("defaults: one task at least, scale out after 60 s, scale in after 300 s", () => {
    const plan = planOf(withService("http-server", { count: 2, autoscaling: { maxCount: 3, cpuPercent: 50 } }));
    expect(plan.services.find((s) => s.name === "http-server")!.autoscaling).toEqual({
      minCount: 1,
      maxCount: 3,
      cpuPercent: 50,
      scaleOutCooldownSeconds: 60,
      scaleInCooldownSeconds: 300,
    });
  });

  it("is in the JSON Schema with every field", () => {
    const schema = JSON.parse(readFileSync(path.join(__dirname, "..", "schema", "mesh-spec.schema.json"), "utf8"));
    const text = JSON.stringify(schema);
    for (const field of ["minCount", "maxCount", "requestsPerTask", "cpuPercent", "scaleOutCooldownSeconds", "scaleInCooldownSeconds"]) expect(text).toContain(`"${field}"`);
  });
});

describe("autoscaling rules", () => {
  it("a count outside minCount..maxCount is an error naming the count and the fix", () => {
    const { errors } = rejectionOf(withService("http-server", { count: 3, autoscaling: { minCount: 1, maxCount: 2, cpuPercent: 50 } }));
    expect(errors).toContainEqual({
      path: "services.http-server.count",
      message: expect.stringMatching(/3 is outside autoscaling's 1\.\.2: .*set a count from minCount to maxCount/),
    });
    // Each version's own count.
    const versions = rejectionOf(withService("http-server", { versions: { v1: { count: 1 }, v2: { count: 0 } }, autoscaling: { minCount: 1, maxCount: 1, cpuPercent: 50 } }));
    expect(versions.errors.map((e) => e.path)).toContain("services.http-server.versions.v2.count");
  });

  it("requestsPerTask without metrics is an error naming the field and the fix", () => {
    const spec = withService("http-server", { protocol: "http", count: 1, autoscaling: { maxCount: 2, requestsPerTask: 100 } });
    const { errors } = rejectionOf(spec);
    expect(errors).toContainEqual({
      path: "services.http-server.autoscaling.requestsPerTask",
      message: expect.stringMatching(/set observability.metrics.enabled: true, or scale on cpuPercent/),
    });
    expect(specIssues({ ...spec, observability: { metrics: { enabled: true } } }).errors).toEqual([]);
  });

  it("requestsPerTask on a tcp service is an error: its proxy counts connections", () => {
    const { errors } = rejectionOf(withService("http-server", { count: 1, autoscaling: { maxCount: 2, requestsPerTask: 100 } }, { observability: { metrics: { enabled: true } } }));
    expect(errors).toContainEqual({
      path: "services.http-server.autoscaling.requestsPerTask",
      message: expect.stringMatching(/tcp service's proxy counts connections.*set the service's protocol to http/),
    });
  });

  it("requestsPerTask on a dataplane service is accepted (its proxy ships the same metrics); from 0 tasks it is an error", () => {
    const dataplane = specIssues(
      withService(
        "http-server",
        { protocol: "http", architecture: "dataplane", count: 1, autoscaling: { maxCount: 2, requestsPerTask: 100 } },
        { observability: { metrics: { enabled: true } } },
      ),
    );
    expect(dataplane.errors).toEqual([]);
    const fromZero = rejectionOf(
      withService(
        "http-server",
        { protocol: "http", count: 0, autoscaling: { minCount: 0, maxCount: 2, requestsPerTask: 100 } },
        { observability: { metrics: { enabled: true } } },
      ),
    );
    expect(fromZero.errors).toContainEqual({ path: "services.http-server.autoscaling.minCount", message: expect.stringMatching(/never scales out again; set minCount: 1/) });
  });

  it("the hosts' ENIs must hold every EC2 service at its maxCount", () => {
    // 2 t3.small hosts hold 4 awsvpc tasks: http-server's 3 and http-client's 1 fill them; a scaler that may start a fourth overflows.
    const { errors } = rejectionOf(withService("http-server", { autoscaling: { minCount: 3, maxCount: 4, cpuPercent: 50 } }));
    expect(errors).toContainEqual({ path: "ecsHosts.instanceType", message: expect.stringMatching(/EC2 services want 5 \(autoscaled services at their maxCount\)/) });
    expect(specIssues(withService("http-server", { autoscaling: { minCount: 2, maxCount: 3, cpuPercent: 50 } })).errors).toEqual([]);
  });

  it("a rollout at the maximum count must fit the hosts' ENIs", () => {
    // One Auto Scaling host of t3.small (2 tasks): the steady 2 tasks fit, a rollout at maxCount starts 2 more.
    const hosts = { ecsHosts: { instanceType: "t3.small", autoScaling: { minSize: 1, maxSize: 1 } } } as Partial<MeshSpecInput>;
    const spec = (autoscaling: Doc | undefined) =>
      ({ ...DEFAULT_SPEC, ...hosts, services: { "http-server": { ...services["http-server"], count: 1, ...(autoscaling ? { autoscaling } : {}) } } }) as unknown as MeshSpecInput;
    expect(specIssues(spec(undefined)).errors).toEqual([]);
    const { errors } = rejectionOf(spec({ minCount: 1, maxCount: 2, cpuPercent: 50 }));
    expect(errors).toContainEqual({
      path: "services.http-server.autoscaling",
      message: expect.stringMatching(/at the peak of a rollout .*the EC2 hosts run 4 awsvpc tasks, but their ENIs hold 2/),
    });
  });

  it("fixed hosts: deployment bounds that progress at the scaler's fewest tasks", () => {
    const plan = planOf(withService("http-server", { count: 2, autoscaling: { minCount: 1, maxCount: 2, cpuPercent: 50 } }));
    // At 1 task, 50 % minimum healthy on hosts without spare ENIs could neither stop nor start one.
    expect(plan.services.find((s) => s.name === "http-server")!.deployment).toEqual({ minimumHealthyPercent: 0, maximumPercent: 100 });
    expect(planOf(withService("http-server", { count: 2 })).services.find((s) => s.name === "http-server")!.deployment.minimumHealthyPercent).toBe(50);
  });

  it("counts anonymous Docker Hub pulls at maxCount", () => {
    const fargate = (autoscaling?: Doc) =>
      withService("http-server", { launchType: "FARGATE", count: 1, ...(autoscaling ? { autoscaling } : {}) }, { images: { allowAnonymousDockerHubPulls: true } });
    const budget = (spec: MeshSpecInput) => specIssues(spec).warnings.filter((w) => w.path === "images");
    expect(budget(fargate())).toEqual([]);
    expect(budget(fargate({ maxCount: 10, cpuPercent: 50 }))).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/envoyproxy\/envoy:[^:]+: 10 Fargate task\(s\)/) }),
    );
  });

  it("the private subnets must hold every task at maxCount", () => {
    const small = { network: { ...DEFAULT_SPEC.network, zones: [{ privateSubnet: "10.0.101.0/27", publicSubnet: "10.0.1.0/28" }] } } as Partial<MeshSpecInput>;
    const spec = (autoscaling?: Doc) =>
      withService("http-server", { launchType: "FARGATE", count: 3, ...(autoscaling ? { autoscaling } : {}) }, { ...small, images: { allowAnonymousDockerHubPulls: true } });
    expect(specIssues(spec()).errors.filter((e) => e.path === "network.zones")).toEqual([]);
    expect(rejectionOf(spec({ maxCount: 20, cpuPercent: 50 })).errors).toContainEqual(expect.objectContaining({ path: "network.zones" }));
  });
});

describe("autoscaling synthesized (examples/three-tier.yaml)", () => {
  const doc = synthMeshStack(THREE_TIER) as Doc;
  const ecsServices = doc.resource.aws_ecs_service as Doc;
  const targets = doc.resource.aws_appautoscaling_target as Doc;
  const policies = doc.resource.aws_appautoscaling_policy as Doc;

  it("one scalable target and policy per ECS service that scales, each version its own", () => {
    expect(Object.keys(targets).sort()).toEqual(["service_api_autoscaling_target", "service_api_v2_autoscaling_target", "service_web_autoscaling_target"]);
    expect(targets.service_web_autoscaling_target).toEqual({
      service_namespace: "ecs",
      scalable_dimension: "ecs:service:DesiredCount",
      resource_id: "service/${aws_ecs_cluster.ecs_cluster.name}/${aws_ecs_service.service_web_service.name}",
      min_capacity: 2,
      max_capacity: 3,
    });
    // No role_arn: Application Auto Scaling's service-linked role.
    for (const t of Object.values<Doc>(targets)) expect(t.role_arn).toBeUndefined();
    expect(Object.keys(policies).sort()).toEqual(["service_api_autoscaling_policy", "service_api_v2_autoscaling_policy", "service_web_autoscaling_policy"]);
  });

  it("Terraform leaves the desired count of a scaled service to the scaler, and only there", () => {
    for (const [id, service] of Object.entries<Doc>(ecsServices)) {
      const scaled = id.startsWith("service_api") || id.startsWith("service_web");
      expect(service.lifecycle?.ignore_changes, id).toEqual(scaled ? ["desired_count"] : undefined);
    }
    expect(ecsServices.service_web_service.desired_count).toBe(2);
    const plain = synthMeshStack(DEFAULT_SPEC) as Doc;
    expect(plain.resource.aws_appautoscaling_target).toBeUndefined();
    for (const service of Object.values<Doc>(plain.resource.aws_ecs_service)) expect(service.lifecycle).toBeUndefined();
  });

  it("web tracks ECS's average CPU; api its requests per second per running task of both versions", () => {
    const web = policies.service_web_autoscaling_policy.target_tracking_scaling_policy_configuration;
    expect(web).toEqual({
      target_value: 60,
      scale_in_cooldown: 300,
      scale_out_cooldown: 60,
      predefined_metric_specification: { predefined_metric_type: "ECSServiceAverageCPUUtilization" },
    });
    for (const id of ["service_api_autoscaling_policy", "service_api_v2_autoscaling_policy"]) {
      const api = policies[id];
      expect(api.policy_type).toBe("TargetTrackingScaling");
      const config = api.target_tracking_scaling_policy_configuration;
      expect(config.target_value).toBe(50);
      const metrics = config.customized_metric_specification.metrics as Doc[];
      expect(metrics.filter((m) => m.return_data)).toEqual([
        { id: "perTask", expression: "SUM([c1, c2, c3, c4, c5]) / 60 / SUM([t0, t1])", label: "requests/s per running task", return_data: true },
      ]);
      expect(metrics.filter((m) => m.id.startsWith("t")).map((m) => m.metric_stat.metric.dimensions)).toEqual([
        [
          { name: "ClusterName", value: "three-tier" },
          { name: "ServiceName", value: "three-tier-api" },
        ],
        [
          { name: "ClusterName", value: "three-tier" },
          { name: "ServiceName", value: "three-tier-api-v2" },
        ],
      ]);
    }
  });
});
