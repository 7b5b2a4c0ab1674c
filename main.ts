// Entry point of `cdktf synth`: spec -> schema -> plan -> rules -> stacks -> Terraform JSON.
// A bad spec exits non-zero with a readable list of problems and leaves no stack output
// behind that could be deployed by mistake.
import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { loadSpec } from "./lib/spec/load";
import { formatSpecIssues, SpecError } from "./lib/spec/issues";
import { createStacks, stateBackendFrom } from "./stacks";

/** Removes every synthesized stack and the manifest, so a failed run cannot leave a stale one. */
function removeSynthOutput(outdir: string): void {
  fs.rmSync(path.join(outdir, "stacks"), { recursive: true, force: true });
  fs.rmSync(path.join(outdir, "manifest.json"), { force: true });
}

function main(): number {
  // CDKTF captures and formats a full stack trace for every token it creates (a fifth of the
  // time at 500 services, measured by tools/bench.ts) and shows none unless synthesis
  // fails; messages stay intact. MESH_DEBUG=1 keeps the traces.
  if (!process.env.MESH_DEBUG) Error.prepareStackTrace = () => "";
  const app = new App();
  try {
    const { plan, source, warnings } = loadSpec(process.env, app.node.tryGetContext("meshSpec"));
    if (warnings.length > 0) console.error(formatSpecIssues(source, [], warnings));
    createStacks(app, plan, { backend: stateBackendFrom(process.env, app.node.tryGetContext("stateBackend"), plan) });
    // Stacks the spec no longer asks for must not linger beside the new ones.
    removeSynthOutput(app.outdir);
    fs.mkdirSync(path.join(app.outdir, "stacks"), { recursive: true });
    app.synth();
    return 0;
  } catch (error) {
    removeSynthOutput(app.outdir);
    if (error instanceof SpecError) {
      console.error(error.message);
    } else {
      console.error(`Synthesis failed: ${(error as Error).message ?? String(error)}`);
      if (process.env.MESH_DEBUG) console.error((error as Error).stack);
      else console.error("(set MESH_DEBUG=1 for the stack trace)");
    }
    return 1;
  }
}

process.exitCode = main();
