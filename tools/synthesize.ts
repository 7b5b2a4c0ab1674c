// In-process synthesis for the review tools that read the stacks' Terraform JSON (render,
// readme-tables, diff). Apart from tools/support.ts so that the other tools' --help does not load cdktf.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import type { MeshPlan } from "../lib/plan/types";
import { createStacks } from "../stacks";
import { IntentionsStack } from "../stacks/intentions-stack";
import type { StateBackend } from "../stacks/base-stack";

/**
 * Every stack of a plan, synthesized in-process into a temp dir (cdktf.out is not touched) and
 * parsed, by stack name: the Terraform JSON `cdktf synth` would write.
 */
export function synthesizePlan(plan: MeshPlan, backend?: StateBackend): Record<string, Record<string, unknown>> {
  return synthesizeApp((app) => {
    const created = createStacks(app, plan, backend ? { backend } : {});
    // Optional stacks (a TLS edge only when the spec has one) are absent.
    return Object.values(created as unknown as Record<string, { node: { id: string } } | undefined>).flatMap((stack) => (stack ? [stack.node.id] : []));
  });
}

/** The intentions stack alone, as synthesizePlan gives it: it reads nothing of the mesh stack, and holds every Consul config entry. */
export function synthesizeIntentionsStack(plan: MeshPlan): Record<string, unknown> {
  return synthesizeApp((app) => [new IntentionsStack(app, "intentions", plan).node.id]).intentions!;
}

/** Synthesizes the stacks `compose` adds (it returns their ids) in a temp dir, as JSON whatever the caller's environment asks cdktf for. */
function synthesizeApp(compose: (app: App) => readonly string[]): Record<string, Record<string, unknown>> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-synth-"));
  const saved = process.env.SYNTH_HCL_OUTPUT;
  try {
    delete process.env.SYNTH_HCL_OUTPUT;
    const app = new App({ outdir });
    if (saved !== undefined) process.env.SYNTH_HCL_OUTPUT = saved;
    const ids = compose(app);
    app.synth();
    return Object.fromEntries(ids.map((id) => [id, JSON.parse(fs.readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8")) as Record<string, unknown>]));
  } finally {
    if (saved !== undefined) process.env.SYNTH_HCL_OUTPUT = saved;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
