// Tasks on ARM64 (Graviton): a per-service CPU architecture, checked against the hosts (EC2) and
// the architectures each pinned image publishes, and written into the task definition.
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { parseSpec } from "../lib/spec/load";
import { SpecError, type SpecIssue } from "../lib/spec/issues";
import type { MeshSpecInput } from "../lib/spec/schema";
import { synthAllStacks } from "./support/synth";

function withService(edit: (service: Record<string, unknown>) => void, hosts?: string): MeshSpecInput {
  const spec = structuredClone(DEFAULT_SPEC) as any;
  edit(spec.services["http-server"]);
  if (hosts) spec.ecsHosts = { ...spec.ecsHosts, instanceType: hosts };
  return spec;
}

function issuesOf(input: MeshSpecInput): { errors: SpecIssue[]; warnings: SpecIssue[] } {
  try {
    return { errors: [], warnings: [...parseSpec(input, "t.yaml").warnings] };
  } catch (error) {
    if (error instanceof SpecError) return { errors: [...error.errors], warnings: [...error.warnings] };
    throw error;
  }
}

describe("CPU architecture of a service's tasks", () => {
  it("Fargate on ARM64: the task definition asks for it, and the app image's architecture is a warning nothing can check", () => {
    const input = withService((s) => Object.assign(s, { launchType: "FARGATE", cpuArchitecture: "ARM64", architecture: "dataplane" }));
    const { errors, warnings } = issuesOf(input);
    expect(errors).toEqual([]);
    expect(warnings).toContainEqual({ path: "services.http-server.image", message: expect.stringContaining("must publish a linux/arm64 image") });
    const task = synthAllStacks(input).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"];
    expect(task.runtime_platform).toEqual({ operating_system_family: "LINUX", cpu_architecture: "ARM64" });
    // X86_64 tasks keep their definition as it was: no runtime_platform.
    expect(synthAllStacks(DEFAULT_SPEC).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"].runtime_platform).toBeUndefined();
  });

  it("EC2 tasks run on the hosts' architecture: another is an error naming both", () => {
    expect(issuesOf(withService((s) => Object.assign(s, { cpuArchitecture: "ARM64" }))).errors).toEqual([
      { path: "services.http-server.cpuArchitecture", message: expect.stringMatching(/^ARM64 tasks cannot run on the ECS hosts, which are x86_64 \(t3\.\w+\)/) },
    ]);
    // Graviton hosts: EC2 tasks default to ARM64, and asking for X86_64 is the error.
    const graviton = issuesOf(withService(() => {}, "m7g.large"));
    expect(graviton.errors).toEqual([]);
    // EC2 on Graviton ran ARM64 before the setting existed: no new warning, no runtime_platform.
    expect(graviton.warnings.filter((w) => w.message.includes("arm64"))).toEqual([]);
    expect(synthAllStacks(withService(() => {}, "m7g.large")).mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"].runtime_platform).toBeUndefined();
    expect(issuesOf(withService((s) => Object.assign(s, { cpuArchitecture: "X86_64" }), "m7g.large")).errors.map((e) => e.path)).toEqual(["services.http-server.cpuArchitecture"]);
  });
});
