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

describe("scripts/push-images.sh builds and mirrors for the stack's cpu_architecture", () => {
  const temporary: string[] = [];
  afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
  const registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
  const outputs = (cpu_architecture: string) => ({
    ecr_repository_url: `${registry}/edge/flask-app`,
    envoy_repository_url: `${registry}/edge/envoy`,
    envoy_source_image: "envoyproxy/envoy:v1.37.11",
    envoy_image_tag: "v1.37.11",
    cpu_architecture,
    collector_repository_url: `${registry}/edge/otel-collector`,
    collector_source_image: "public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0",
    collector_image_tag: "v0.49.0",
  });
  const platformsOf = (lines: string[], command: string) => lines.filter((l) => l.startsWith(`${command} `)).map((l) => /--platform (\S+)/.exec(l)?.[1] ?? "none");

  it.each([
    ["ARM64", "linux/arm64"],
    ["X86_64", "linux/amd64"],
  ])("%s: builds the app and pulls Envoy and the collector for %s", (arch, platform) => {
    const result = runPushImages(outputs(arch), temporary);
    expect(result.status, result.stderr).toBe(0);
    expect(platformsOf(result.docker, "build")).toEqual([platform]);
    expect(platformsOf(result.docker, "pull")).toEqual([platform, platform]);
    expect(result.docker.filter((l) => l.startsWith("push "))).toHaveLength(3);
  });

  it("refuses an image Docker gives in another platform than the tasks run", () => {
    const result = runPushImages(outputs("ARM64"), temporary, { fakePlatform: "linux/amd64" });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is linux\/amd64, but the tasks run linux\/arm64 \(stack output cpu_architecture: ARM64\)/);
    expect(result.docker.filter((l) => l.startsWith("push "))).toEqual([]);
  });

  it("checks an image already in ECR is of the tasks' platform, and refuses one that is not with the fix", () => {
    const matching = runPushImages(outputs("ARM64"), temporary, { existing: ["v1.37.11"] });
    expect(matching.status, matching.stderr).toBe(0);
    expect(matching.docker).toContain(`pull --platform linux/arm64 ${registry}/edge/envoy:v1.37.11`);
    expect(matching.docker).not.toContain(`push ${registry}/edge/envoy:v1.37.11`);
    // Every image already in ECR, pushed for linux/amd64 before the edge moved to ARM64.
    const other = runPushImages(outputs("ARM64"), temporary, { existing: ["*"], fakePlatform: "linux/amd64" });
    expect(other.status).toBe(1);
    expect(other.stderr).toMatch(/edge\/flask-app:\S+ is linux\/amd64, but the tasks run linux\/arm64.*its tag is immutable: delete it \(aws ecr batch-delete-image/);
    expect(other.docker.filter((l) => l.startsWith("build ") || l.startsWith("push "))).toEqual([]);
  });

  it("refuses a stack without the output, or with an architecture it does not know", () => {
    const { cpu_architecture: _, ...without } = outputs("ARM64");
    expect(runPushImages(without, temporary)).toMatchObject({ status: 1, stderr: expect.stringMatching(/has no output cpu_architecture \(the tasks' platform\): deploy it/) });
    expect(runPushImages(outputs("RISCV64"), temporary)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/cpu_architecture is 'RISCV64': this script builds for X86_64/),
    });
  });
});
