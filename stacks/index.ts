import type { App } from "cdktf";
import { buildMeshModel } from "../lib/model";
import type { MeshSpec } from "../lib/spec/schema";
import { MeshStack } from "./mesh-stack";

export interface MeshStacks {
  readonly mesh: MeshStack;
}

/** Every stack a spec asks for, composed in one app (stack names are the ones `cdktf deploy` takes). */
export function createStacks(app: App, spec: MeshSpec): MeshStacks {
  const mesh = new MeshStack(app, "mesh", buildMeshModel(spec));
  return { mesh };
}
