// Spec files end to end: the shipped JSON Schema, the examples, and what `cdktf synth` leaves
// behind when a spec is bad.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";
import { loadSpec, loadSpecFile } from "../lib/pipeline";
import { synthAllStacks } from "./support/synth";

const examples = fs
  .readdirSync("examples")
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => path.join("examples", f));

describe("spec files", () => {
  it("ships a JSON Schema generated from the current zod schema (npm run schema)", () => {
    expect(fs.readFileSync("schema/mesh-spec.schema.json", "utf8")).toBe(meshSpecJsonSchema());
  });

  it("has a three-tier example mixing EC2 and Fargate, and a mesh of at least 12 services", () => {
    const threeTier = loadSpecFile("examples/three-tier.yaml").spec;
    expect(new Set(Object.values(threeTier.services).map((s) => s.launchType))).toEqual(new Set(["EC2", "FARGATE"]));
    expect(Object.keys(loadSpecFile("examples/large-mesh.yaml").spec.services).length).toBeGreaterThanOrEqual(12);
  });

  it.each(examples)("synthesizes %s", (file) => {
    const { spec } = loadSpecFile(file);
    const stacks = synthAllStacks(spec as never);
    // One ECS service per service, and per version of a service with versions.
    expect(Object.keys(stacks.mesh.resource.aws_ecs_service)).toHaveLength(Object.values(spec.services).reduce((n, s) => n + Math.max(1, Object.keys(s.versions).length), 0));
  });

  it("reads MESH_SPEC before the meshSpec context, and falls back to the default", () => {
    expect(loadSpec({ MESH_SPEC: "examples/three-tier.yaml" }, "examples/large-mesh.yaml").source).toBe("examples/three-tier.yaml");
    expect(loadSpec({}, "examples/large-mesh.yaml").source).toBe("examples/large-mesh.yaml");
    expect(loadSpec({}, undefined).source).toBe("the built-in default");
  });
});
