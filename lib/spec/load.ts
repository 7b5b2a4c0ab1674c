import type { App } from "cdktf";
import { meshSpecSchema, type MeshSpec } from "./schema";
import { DEFAULT_SPEC } from "./default-spec";

export function loadSpecForApp(_app: App): MeshSpec {
  return meshSpecSchema.parse(DEFAULT_SPEC);
}
