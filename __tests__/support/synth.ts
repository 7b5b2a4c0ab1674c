import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { DEFAULT_SPEC } from "../../lib/spec/default-spec";
import { meshSpecSchema, type MeshSpecInput } from "../../lib/spec/schema";
import { buildMeshModel } from "../../lib/model";
import { MeshStack } from "../../stacks/mesh-stack";
import { createStacks } from "../../stacks";

/** The mesh stack of a spec, synthesized and parsed (the spec goes through the schema, as in main.ts). */
export function synthMeshStack(specInput: MeshSpecInput = DEFAULT_SPEC): object {
  const stack = new MeshStack(Testing.app(), "mesh", buildMeshModel(meshSpecSchema.parse(specInput)));
  return JSON.parse(Testing.synth(stack)) as object;
}

/** Every stack of a spec, synthesized together as `cdktf synth` does (cross-stack references resolved). */
export function synthAllStacks(specInput: MeshSpecInput = DEFAULT_SPEC): Record<string, any> {
  const app = Testing.app();
  const stacks = createStacks(app, meshSpecSchema.parse(specInput));
  app.synth();
  const docs = Object.fromEntries(
    Object.values(stacks).map((stack) => [stack.node.id, JSON.parse(fs.readFileSync(path.join(app.outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"))]),
  );
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return docs;
}
