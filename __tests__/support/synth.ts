import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { threadId } from "node:worker_threads";
import { Testing } from "cdktf";
import { DEFAULT_SPEC } from "../../lib/spec/default-spec";
import { meshSpecSchema, type MeshSpecInput } from "../../lib/spec/schema";
import { buildPlan } from "../../lib/plan/build";
import { LOG_SLOTS, MESH_SECRET_SLOTS } from "../../lib/plan/containers";
import { imageSlot, type MeshImageKey } from "../../lib/plan/images";
import { METRICS_LOG_GROUP_SLOT } from "../../lib/plan/observability";
import { DEFAULT_VERSIONS, imagesOf } from "../../lib/versions";
import type { MeshPlan, ServicePlan } from "../../lib/plan/types";
import { renderContainerDefinitions } from "../../lib/render/containers";
import { MeshStack } from "../../stacks/mesh-stack";
import { createStacks } from "../../stacks";
import { sharedSynthDir } from "./shared-synth-dir";

/** The plan of a spec, through the schema as in main.ts (the rules are not run). */
export function planOf(specInput: MeshSpecInput = DEFAULT_SPEC): MeshPlan {
  return buildPlan(meshSpecSchema.parse(specInput));
}

/**
 * Synthesis is the suite's most repeated cost, and the same specs are synthesized by many test
 * files: each spec's JSON text is kept, in the worker and in a folder the run's workers share
 * (worker threads share the process ID; global-setup.ts removes it), and every caller parses its
 * own copy, free to change it.
 */
const synthesized = new Map<string, string>();
function memo(kind: string, specInput: MeshSpecInput, synthesize: () => string): any {
  const key = `${kind}\u0000${JSON.stringify(specInput)}`;
  let text = synthesized.get(key);
  if (text === undefined) {
    const shared = path.join(sharedSynthDir(), `${createHash("sha256").update(key).digest("hex")}.json`);
    if (fs.existsSync(shared)) {
      text = fs.readFileSync(shared, "utf8");
    } else {
      text = synthesize();
      // Written whole, then renamed: the other worker reads all of it or nothing.
      fs.mkdirSync(path.dirname(shared), { recursive: true });
      const partial = `${shared}.${threadId}.tmp`;
      fs.writeFileSync(partial, text);
      fs.renameSync(partial, shared);
    }
    synthesized.set(key, text);
  }
  return JSON.parse(text);
}

/** The mesh stack of a spec, synthesized and parsed. */
export function synthMeshStack(specInput: MeshSpecInput = DEFAULT_SPEC): object {
  return memo("mesh", specInput, () => Testing.synth(new MeshStack(Testing.app(), "mesh", planOf(specInput)))) as object;
}

/** Every stack of a spec, synthesized together as `cdktf synth` does (cross-stack references resolved). */
export function synthAllStacks(specInput: MeshSpecInput = DEFAULT_SPEC): Record<string, any> {
  return memo("all", specInput, () => {
    const app = Testing.app();
    const stacks = createStacks(app, planOf(specInput));
    app.synth();
    const docs = Object.fromEntries(
      Object.values(stacks).map((stack) => [stack.node.id, JSON.parse(fs.readFileSync(path.join(app.outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"))]),
    );
    fs.rmSync(app.outdir, { recursive: true, force: true });
    return JSON.stringify(docs);
  }) as Record<string, any>;
}

/** Stand-ins for the Terraform references a MeshService binds, so a task renders without a stack. */
export const STAND_IN_BINDINGS: Readonly<Record<string, string>> = {
  [MESH_SECRET_SLOTS.gossipKey]: "arn:aws:secretsmanager:us-east-1:111122223333:secret:gossip",
  [MESH_SECRET_SLOTS.caCert]: "arn:aws:secretsmanager:us-east-1:111122223333:secret:ca",
  [MESH_SECRET_SLOTS.agentToken]: "arn:aws:secretsmanager:us-east-1:111122223333:secret:agent:SecretID::",
  [MESH_SECRET_SLOTS.serviceToken]: "arn:aws:secretsmanager:us-east-1:111122223333:secret:service:SecretID::",
  [LOG_SLOTS.group]: "/ecs/mesh/service",
  // The metrics collector's EMF log group (specs with observability.metrics on).
  [METRICS_LOG_GROUP_SLOT]: "/ecs/mesh/proxy-metrics",
  ...Object.fromEntries(Object.entries(imagesOf(DEFAULT_VERSIONS)).map(([key, image]) => [imageSlot(key as MeshImageKey).slot, image])),
};

/** A service's container definitions rendered from its plan with stand-in references. */
export function renderServiceTask(service: ServicePlan): Record<string, any>[] {
  return renderContainerDefinitions(service.task, STAND_IN_BINDINGS) as Record<string, any>[];
}
