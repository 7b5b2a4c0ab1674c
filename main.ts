// Entry point of `cdktf synth`: spec -> schema -> plan -> rules -> stacks -> Terraform JSON.
// A bad spec stops with a readable list of problems, each shown once (lib/synth-report.ts says
// how cdktf-cli shows what the app prints), and leaves no stack output behind that could be
// deployed by mistake.
import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { loadSpec } from "./lib/pipeline";
import { formatSpecIssues, SpecError } from "./lib/issues";
import { REPORT_FILES, runByCdktfCli, writeErrorReport } from "./lib/synth-report";
import { skipTokenStackTraces } from "./lib/token-stack-traces";

/** Removes every synthesized stack, the manifest and a previous error report, so a failed run cannot leave a stale one. */
function removeSynthOutput(outdir: string): void {
  fs.rmSync(path.join(outdir, "stacks"), { recursive: true, force: true });
  fs.rmSync(path.join(outdir, "manifest.json"), { force: true });
  for (const file of REPORT_FILES) fs.rmSync(path.join(outdir, file), { force: true });
}

function main(): number {
  // Nothing the app prints needs a stack trace (constructs still capture some); MESH_DEBUG=1 keeps them all.
  if (!process.env.MESH_DEBUG) {
    skipTokenStackTraces();
    Error.prepareStackTrace = () => "";
  }
  const app = new App();
  try {
    const { plan, source, warnings } = loadSpec(process.env, app.node.tryGetContext("meshSpec"));
    // The constructs (and the AWS provider's classes) load only for a valid spec: a bad one fails fast.
    const { createStacks, stateBackendFrom, stateBackendWarnings } = require("./stacks") as typeof import("./stacks");
    const backend = stateBackendFrom(process.env, app.node.tryGetContext("stateBackend"), plan);
    const allWarnings = [...warnings, ...stateBackendWarnings(backend)];
    // stdout: cdktf-cli shows it once and unlabelled (its stderr label is "[ERROR]").
    if (allWarnings.length > 0) console.log(formatSpecIssues(source, [], allWarnings));
    createStacks(app, plan, { backend });
    // Stacks the spec no longer asks for must not linger beside the new ones.
    removeSynthOutput(app.outdir);
    fs.mkdirSync(path.join(app.outdir, "stacks"), { recursive: true });
    app.synth();
    return 0;
  } catch (error) {
    removeSynthOutput(app.outdir);
    if (error instanceof SpecError) {
      if (!runByCdktfCli(process.env)) {
        console.error(error.message);
        return 1;
      }
      // The CLI prints the report's annotations once each, then fails the command itself.
      console.log(`Mesh spec ${error.source} is invalid (${error.errors.length} error${error.errors.length === 1 ? "" : "s"}), listed below; nothing was synthesized.`);
      writeErrorReport(app.outdir, error.source, error.errors, error.warnings);
      return 0;
    }
    console.error(`Synthesis failed: ${(error as Error).message ?? String(error)}`);
    if (process.env.MESH_DEBUG) console.error((error as Error).stack);
    else console.error("(set MESH_DEBUG=1 for the stack trace)");
    return 1;
  }
}

process.exitCode = main();
