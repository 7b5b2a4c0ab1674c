// The TLS edge on ARM64 (Graviton): tlsEdge.cpuArchitecture, default X86_64 whatever the mesh's
// fargateCpuArchitecture, checked against the architectures the edge's images publish, put in
// the task definition and the stack's output cpu_architecture, which scripts/push-images.sh
// builds and mirrors for.
import * as fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkTlsEdgeCpuArchitecture } from "../lib/rules/images";
import type { MeshSpecInput } from "../lib/spec/schema";
import { IMAGE_ARCHITECTURES } from "../lib/versions";
import type { RuleResult } from "../lib/issues";
import { runPushImages } from "./support/push-images";
import { specIssues } from "./support/spec-issues";
import { planOf, synthAllStacks } from "./support/synth";

type Doc = Record<string, any>;
const TLS_EDGE = parse(fs.readFileSync(path.join(__dirname, "..", "examples", "tls-edge.yaml"), "utf8")) as MeshSpecInput;
const withEdge = (edge: object, mesh: Partial<MeshSpecInput> = {}): MeshSpecInput => ({ ...TLS_EDGE, ...mesh, tlsEdge: { ...TLS_EDGE.tlsEdge, ...edge } });
const METRICS: Partial<MeshSpecInput> = { observability: { metrics: { enabled: true } } };

describe("tlsEdge.cpuArchitecture", () => {
  it("defaults to X86_64, also in an ARM64 mesh (the edge's images in ECR were pushed for amd64 before), and a value of its own wins", () => {
    expect(planOf(TLS_EDGE).tlsEdge!.cpuArchitecture).toBe("X86_64");
    expect(planOf(withEdge({}, { fargateCpuArchitecture: "ARM64" })).tlsEdge!.cpuArchitecture).toBe("X86_64");
    const edge = synthAllStacks(withEdge({}, { fargateCpuArchitecture: "ARM64" }))["tls-edge"] as Doc;
    expect(Object.values<Doc>(edge.resource.aws_ecs_task_definition)[0]!.runtime_platform.cpu_architecture).toBe("X86_64");
    expect(planOf(withEdge({ cpuArchitecture: "ARM64" })).tlsEdge!.cpuArchitecture).toBe("ARM64");
    expect(planOf(withEdge({ cpuArchitecture: "X86_64" }, { fargateCpuArchitecture: "ARM64" })).tlsEdge!.cpuArchitecture).toBe("X86_64");
  });

  it("refuses an architecture outside the two, naming the field", () => {
    expect(specIssues(withEdge({ cpuArchitecture: "arm64" })).errors.map((e) => e.path)).toEqual(["tlsEdge.cpuArchitecture"]);
  });

  it("synthesizes an ARM64 task definition and the output push-images.sh reads", () => {
    const edge = synthAllStacks(withEdge({ cpuArchitecture: "ARM64" }, METRICS))["tls-edge"] as Doc;
    const [task] = Object.values<Doc>(edge.resource.aws_ecs_task_definition);
    expect(task!.runtime_platform).toEqual({ cpu_architecture: "ARM64", operating_system_family: "LINUX" });
    expect(edge.output.cpu_architecture.value).toBe("ARM64");
  });

  it("is accepted with the pinned Envoy and collector, which publish linux/arm64", () => {
    expect(specIssues(withEdge({ cpuArchitecture: "ARM64" }, METRICS)).errors).toEqual([]);
  });

  describe("against the architectures the edge's images publish", () => {
    const check = (spec: MeshSpecInput, published: Partial<typeof IMAGE_ARCHITECTURES>) => {
      const result: RuleResult = { errors: [], warnings: [] };
      checkTlsEdgeCpuArchitecture(planOf(spec), result, { ...IMAGE_ARCHITECTURES, ...published });
      return result.errors;
    };
    const amd64Only = ["amd64"] as const;

    it("refuses ARM64 when Envoy publishes no linux/arm64, naming the image and the field", () => {
      const errors = check(withEdge({ cpuArchitecture: "ARM64" }), { envoy: amd64Only });
      expect(errors).toHaveLength(1);
      expect(errors[0]!.path).toBe("tlsEdge.cpuArchitecture");
      expect(errors[0]!.message).toMatch(/envoyproxy\/envoy:v[\d.]+ publishes no linux\/arm64 image \(it publishes linux\/amd64\)/);
      expect(check(withEdge({ cpuArchitecture: "X86_64" }), { envoy: amd64Only })).toEqual([]);
    });

    it("checks the collector only when the edge runs one", () => {
      // The example ships metrics: without observability the edge runs no collector.
      expect(check(withEdge({ cpuArchitecture: "ARM64" }, { observability: {} }), { otelCollector: amd64Only })).toEqual([]);
      const errors = check(withEdge({ cpuArchitecture: "ARM64" }, METRICS), { otelCollector: amd64Only });
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/aws-otel-collector:v[\d.]+ publishes no linux\/arm64 image/)]);
    });
  });
});

describe("scripts/push-images.sh builds for the stack's cpu_architecture and mirrors every platform", () => {
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
  const ENVOY_SOURCE = "envoyproxy/envoy:v1.37.11";
  const COLLECTOR_SOURCE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0";
  const ENVOY_MIRROR = `${registry}/edge/envoy:v1.37.11`;
  const COLLECTOR_MIRROR = `${registry}/edge/otel-collector:v0.49.0`;
  const outputs = (cpu_architecture: string) => ({
    ecr_repository_url: `${registry}/edge/flask-app`,
    envoy_repository_url: `${registry}/edge/envoy`,
    envoy_source_image: ENVOY_SOURCE,
    envoy_image_tag: "v1.37.11",
    cpu_architecture,
    collector_repository_url: `${registry}/edge/otel-collector`,
    collector_source_image: COLLECTOR_SOURCE,
    collector_image_tag: "v0.49.0",
  });
  const starting = (lines: string[], command: string) => lines.filter((l) => l.startsWith(`${command} `));
  const BOTH = ["linux/amd64", "linux/arm64"];

  it.each([
    ["ARM64", "linux/arm64", "arm64"],
    ["X86_64", "linux/amd64", "amd64"],
  ])("%s: builds the app for %s under a tag naming it, and copies Envoy's and the collector's whole index registry to registry", (arch, platform, suffix) => {
    const result = runPushImages(outputs(arch), temporary);
    expect(result.status, result.stderr).toBe(0);
    const tag = result.stdout.trim();
    expect(tag).toMatch(new RegExp(`^([0-9a-f]{12}|nogit)-[0-9a-f]{12}-${suffix}$`));
    expect(starting(result.docker, "build")).toEqual([`build --platform ${platform} --pull --tag ${registry}/edge/flask-app:${tag} app/flask`]);
    expect(starting(result.docker, "push")).toEqual([`push ${registry}/edge/flask-app:${tag}`]);
    expect(starting(result.docker, "buildx imagetools create")).toEqual([
      `buildx imagetools create --tag ${ENVOY_MIRROR} ${ENVOY_SOURCE}`,
      `buildx imagetools create --tag ${COLLECTOR_MIRROR} ${COLLECTOR_SOURCE}`,
    ]);
    expect(starting(result.docker, "pull")).toEqual([]);
    // One mirror tag for every platform: switching architectures needs no new one.
    expect(result.registry[ENVOY_MIRROR]).toEqual(BOTH);
    expect(result.registry[COLLECTOR_MIRROR]).toEqual(BOTH);
  });

  it.each([
    ["envoy_repository_url", `${registry}/--output=/tmp/x`, "a repository of"],
    ["envoy_repository_url", "999999999999.dkr.ecr.us-east-1.amazonaws.com/edge/envoy", "a repository of"],
    ["collector_source_image", "--help", "an image reference with a tag"],
    ["envoy_source_image", "envoyproxy/envoy", "an image reference with a tag"],
    ["collector_image_tag", "v0.49.0 --push", "a Docker tag"],
  ])("refuses output %s = %j before any docker or aws call", (name, value, what) => {
    const result = runPushImages({ ...outputs("X86_64"), [name]: value }, temporary);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`output ${name} (${value}) is not ${what}`);
    expect(starting(result.docker, "build")).toEqual([]);
    expect(starting(result.docker, "buildx imagetools")).toEqual([]);
  });

  it("refuses a source that publishes no image of the tasks' platform before mirroring it", () => {
    const result = runPushImages(outputs("ARM64"), temporary, { registry: { [COLLECTOR_SOURCE]: ["linux/amd64"] } });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/aws-otel-collector:v0.49.0 publishes no linux\/arm64 image, but the tasks run linux\/arm64 \(stack output cpu_architecture: ARM64\)/);
    expect(result.registry[COLLECTOR_MIRROR]).toBeUndefined();
    // The same single-platform source serves an X86_64 stack.
    const amd64 = runPushImages(outputs("X86_64"), temporary, { registry: { [COLLECTOR_SOURCE]: ["linux/amd64"] } });
    expect(amd64.status, amd64.stderr).toBe(0);
    expect(amd64.registry[COLLECTOR_MIRROR]).toEqual(["linux/amd64"]);
  });

  it("refuses an app image Docker builds for another platform than the tasks run, before pushing it", () => {
    const result = runPushImages(outputs("ARM64"), temporary, { builtPlatform: "linux/amd64" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/edge\/flask-app:\S+-arm64 is linux\/amd64, but the tasks run linux\/arm64 \(stack output cpu_architecture: ARM64\)/);
    expect(starting(result.docker, "push")).toEqual([]);
  });

  it("checks a mirror already in ECR holds the tasks' platform, and refuses a single-platform one of another with the fix", () => {
    const matching = runPushImages(outputs("ARM64"), temporary, { existing: ["v*"] });
    expect(matching.status, matching.stderr).toBe(0);
    expect(matching.docker).toContain(`buildx imagetools inspect --format {{json .Image}} ${ENVOY_MIRROR}`);
    expect(starting(matching.docker, "buildx imagetools create")).toEqual([]);
    // Mirrored for linux/amd64 alone by the script before this one: fine for X86_64, not for ARM64.
    const legacy = { existing: ["v*"], registry: { [ENVOY_MIRROR]: ["linux/amd64"] } };
    expect(runPushImages(outputs("X86_64"), temporary, legacy).status).toBe(0);
    const other = runPushImages(outputs("ARM64"), temporary, legacy);
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/edge\/envoy:v1.37.11 holds no linux\/arm64 image.*delete it \(aws ecr batch-delete-image .*--image-ids imageTag=v1.37.11\) and run this again/);
  });

  it("switching architectures builds a new app tag and leaves the running one alone; the same one is found again", () => {
    const amd64 = runPushImages(outputs("X86_64"), temporary);
    const amd64Tag = amd64.stdout.trim();
    // The X86_64 image is in ECR and the tasks run it: ARM64 gets its own tag, built and pushed.
    const arm64 = runPushImages(outputs("ARM64"), temporary, { existing: [amd64Tag, "v*"] });
    expect(arm64.status, arm64.stderr).toBe(0);
    const arm64Tag = arm64.stdout.trim();
    expect(arm64Tag).toBe(amd64Tag.replace(/-amd64$/, "-arm64"));
    expect(starting(arm64.docker, "push")).toEqual([`push ${registry}/edge/flask-app:${arm64Tag}`]);
    expect(arm64.stderr).not.toMatch(/delete/);
    const again = runPushImages(outputs("ARM64"), temporary, { existing: [arm64Tag, "v*"] });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(arm64Tag);
    expect(again.docker.filter((l) => /^(build|push|buildx imagetools create) /.test(l))).toEqual([]);
  });

  it("refuses a stack without the output, or with an architecture it does not know", () => {
    const { cpu_architecture: _, ...without } = outputs("ARM64");
    expect(runPushImages(without, temporary)).toMatchObject({ status: 1, stderr: expect.stringMatching(/has no output cpu_architecture \(the tasks' platform\): deploy it/) });
    expect(runPushImages(outputs("RISCV64"), temporary)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/cpu_architecture is 'RISCV64': this script builds for X86_64/),
    });
  });

  it("--tag-only prints the tag for the stack's architecture, or the one given, without Docker or AWS", () => {
    const fromStack = runPushImages(outputs("ARM64"), temporary, {}, ["--tag-only"]);
    expect(fromStack.status, fromStack.stderr).toBe(0);
    expect(fromStack.stdout.trim()).toMatch(/-arm64$/);
    expect(fromStack.docker).toEqual([]);
    const given = runPushImages(outputs("ARM64"), temporary, {}, ["--tag-only", "--cpu-architecture", "X86_64"]);
    expect(given.stdout.trim()).toBe(fromStack.stdout.trim().replace(/-arm64$/, "-amd64"));
    expect(runPushImages(outputs("ARM64"), temporary, {}, ["--cpu-architecture", "X86_64"])).toMatchObject({ status: 2 });
  });
});
