// Tasks on ARM64 (Graviton): a per-service CPU architecture, checked against the hosts (EC2) and
// the architectures each pinned image publishes, and written into the task definition.
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { parseSpec } from "../lib/pipeline";
import type { SpecIssue } from "../lib/issues";
import { specIssues } from "./support/spec-issues";
import type { MeshSpecInput } from "../lib/spec/schema";
import { checkCpuArchitecture } from "../lib/rules/images";
import { IMAGE_ARCHITECTURES } from "../lib/versions";
import { synthAllStacks } from "./support/synth";

function withService(edit: (service: Record<string, unknown>) => void, hosts?: string): MeshSpecInput {
  const spec = structuredClone(DEFAULT_SPEC) as any;
  edit(spec.services["http-server"]);
  if (hosts) spec.ecsHosts = { ...spec.ecsHosts, instanceType: hosts };
  return spec;
}

describe("CPU architecture of a service's tasks", () => {
  it("Fargate on ARM64: the task definition asks for it, and the app image's architecture is a warning nothing can check", () => {
    const input = withService((s) => Object.assign(s, { launchType: "FARGATE", cpuArchitecture: "ARM64", architecture: "dataplane" }));
    const { errors, warnings } = specIssues(input);
    expect(errors).toEqual([]);
    expect(warnings).toContainEqual({ path: "services.http-server.image", message: expect.stringContaining("must publish a linux/arm64 image") });
    const task = synthAllStacks(input).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"];
    expect(task.runtime_platform).toEqual({ operating_system_family: "LINUX", cpu_architecture: "ARM64" });
    // X86_64 tasks keep their definition as it was: no runtime_platform.
    expect(synthAllStacks(DEFAULT_SPEC).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"].runtime_platform).toBeUndefined();
  });

  it("EC2 tasks run on the hosts' architecture: another is an error naming both", () => {
    expect(specIssues(withService((s) => Object.assign(s, { cpuArchitecture: "ARM64" }))).errors).toEqual([
      { path: "services.http-server.cpuArchitecture", message: expect.stringMatching(/^ARM64 tasks cannot run on the ECS hosts, which are x86_64 \(t3\.\w+\)/) },
    ]);
    // Graviton hosts: EC2 tasks default to ARM64, and asking for X86_64 is the error.
    const graviton = specIssues(withService(() => {}, "m7g.large"));
    expect(graviton.errors).toEqual([]);
    // EC2 on Graviton ran ARM64 before the setting existed: no new warning, no runtime_platform.
    expect(graviton.warnings.filter((w) => w.message.includes("arm64"))).toEqual([]);
    expect(synthAllStacks(withService(() => {}, "m7g.large")).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"].runtime_platform).toBeUndefined();
    expect(specIssues(withService((s) => Object.assign(s, { cpuArchitecture: "X86_64" }), "m7g.large")).errors.map((e) => e.path)).toEqual([
      "services.http-server.cpuArchitecture",
    ]);
  });
});

describe("the mesh-wide default and the images' architectures", () => {
  it("fargateCpuArchitecture sets every Fargate service that says nothing; a service's own setting wins", () => {
    const spec = structuredClone(DEFAULT_SPEC) as any;
    spec.fargateCpuArchitecture = "ARM64";
    Object.assign(spec.services["http-server"], { launchType: "FARGATE", architecture: "dataplane" });
    Object.assign(spec.services["http-client"], { launchType: "FARGATE", architecture: "dataplane", cpuArchitecture: "X86_64" });
    const plan = parseSpec(spec, "t.yaml").plan;
    expect(plan.services.map((s) => [s.name, s.cpuArchitecture])).toEqual([
      ["http-client", "X86_64"],
      ["http-server", "ARM64"],
    ]);
  });

  it("a pinned image that publishes no image of the task's architecture is an error naming it", () => {
    const spec = structuredClone(DEFAULT_SPEC) as any;
    Object.assign(spec.services["http-server"], { launchType: "FARGATE", architecture: "dataplane", cpuArchitecture: "ARM64" });
    const plan = parseSpec(spec, "t.yaml").plan;
    const service = plan.services.find((s) => s.name === "http-server")!;
    const result = { errors: [] as SpecIssue[], warnings: [] as SpecIssue[] };
    checkCpuArchitecture(plan, service, result, { ...IMAGE_ARCHITECTURES, consulDataplane: ["amd64"] });
    expect(result.errors).toEqual([{ path: "services.http-server.cpuArchitecture", message: expect.stringMatching(/consul-dataplane:[\d.]+ publishes no linux\/arm64 image$/) }]);
    const published = { errors: [] as SpecIssue[], warnings: [] as SpecIssue[] };
    checkCpuArchitecture(plan, service, published);
    expect(published.errors).toEqual([]);
  });
});
