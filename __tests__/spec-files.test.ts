// Spec files end to end: the shipped JSON Schema, the examples, and what `cdktf synth` leaves
// behind when a spec is bad.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";
import { loadSpec, loadSpecFile } from "../lib/spec/load";
import { meshSpecSchema } from "../lib/spec/schema";
import { synthAllStacks } from "./support/synth";

const examples = fs.readdirSync("examples").filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => path.join("examples", f));

describe("spec files", () => {
  it("ships a JSON Schema generated from the current zod schema (npm run schema)", () => {
    expect(fs.readFileSync("schema/mesh-spec.schema.json", "utf8")).toBe(meshSpecJsonSchema());
  });

  it("has examples/default.yaml equal to the built-in default", () => {
    expect(loadSpecFile("examples/default.yaml").spec).toEqual(meshSpecSchema.parse(DEFAULT_SPEC));
  });

  it("has a three-tier example mixing EC2 and Fargate, and a mesh of at least 12 services", () => {
    const threeTier = loadSpecFile("examples/three-tier.yaml").spec;
    expect(new Set(Object.values(threeTier.services).map((s) => s.launchType))).toEqual(new Set(["EC2", "FARGATE"]));
    expect(Object.keys(loadSpecFile("examples/large-mesh.yaml").spec.services).length).toBeGreaterThanOrEqual(12);
  });

  it.each(examples)("synthesizes %s", (file) => {
    const { spec } = loadSpecFile(file);
    const stacks = synthAllStacks(spec as never);
    expect(Object.keys(stacks.mesh.resource.aws_ecs_service)).toHaveLength(Object.keys(spec.services).length);
  });

  it("reads MESH_SPEC before the meshSpec context, and falls back to the default", () => {
    expect(loadSpec({ MESH_SPEC: "examples/three-tier.yaml" }, "examples/large-mesh.yaml").source).toBe("examples/three-tier.yaml");
    expect(loadSpec({}, "examples/large-mesh.yaml").source).toBe("examples/large-mesh.yaml");
    expect(loadSpec({}, undefined).source).toBe("the built-in default");
  });
});

describe("synthesis with a bad spec", () => {
  it("exits 1 with the list of problems, no stack trace, and no stack left to deploy", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-out-"));
    const env = { ...process.env, CDKTF_OUTDIR: outdir, MESH_SPEC: "" };
    const tsx = path.resolve("node_modules/.bin/tsx");
    const good = spawnSync(tsx, ["main.ts"], { encoding: "utf8", env });
    expect(good.status, good.stderr).toBe(0);
    expect(fs.existsSync(path.join(outdir, "stacks", "mesh", "cdk.tf.json"))).toBe(true);

    const badSpec = path.join(outdir, "bad.yaml");
    fs.writeFileSync(badSpec, "services:\n  web:\n    image: nginx\n    port: 8500\n");
    const bad = spawnSync(tsx, ["main.ts"], { encoding: "utf8", env: { ...env, MESH_SPEC: badSpec } });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`Mesh spec ${badSpec} is invalid (2 errors):`);
    expect(bad.stderr).toContain("services.web.image:");
    expect(bad.stderr).toContain("services.web.port:");
    expect(bad.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(fs.existsSync(path.join(outdir, "stacks"))).toBe(false);
    expect(fs.existsSync(path.join(outdir, "manifest.json"))).toBe(false);
    fs.rmSync(outdir, { recursive: true, force: true });
  }, 60_000);
});
