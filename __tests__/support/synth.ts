import { Testing } from "cdktf";
import { DEFAULT_SPEC } from "../../lib/spec/default-spec";
import { meshSpecSchema, type MeshSpecInput } from "../../lib/spec/schema";
import { buildMeshModel } from "../../lib/model";
import { MeshStack } from "../../stacks/mesh-stack";

/** The mesh stack of a spec, synthesized and parsed (the spec goes through the schema, as in main.ts). */
export function synthMeshStack(specInput: MeshSpecInput = DEFAULT_SPEC): object {
  const stack = new MeshStack(Testing.app(), "mesh", buildMeshModel(meshSpecSchema.parse(specInput)));
  return JSON.parse(Testing.synth(stack)) as object;
}
