// Shared by the review scripts (render, diagram, bench): the project root, the spec the app
// would synthesize (MESH_SPEC, else cdktf.json's context.meshSpec, else the built-in default)
// and a plain-text table.
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec, type LoadedSpec } from "../lib/spec/load";
import { formatSpecIssues, SpecError } from "../lib/spec/issues";

export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** cdktf.json's context.<key>, as `new App()` reads it for `cdktf synth`. */
export function cdktfContext(key: string): unknown {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "cdktf.json"), "utf8")) as { context?: Record<string, unknown> };
    return config.context?.[key];
  } catch {
    return undefined;
  }
}

/** The spec as main.ts loads it; a bad spec prints its problems and exits 1. */
export function loadProjectSpec(): LoadedSpec {
  try {
    const loaded = loadSpec(process.env, cdktfContext("meshSpec"));
    if (loaded.warnings.length > 0) console.error(formatSpecIssues(loaded.source, [], loaded.warnings));
    return loaded;
  } catch (error) {
    if (error instanceof SpecError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** Columns padded to their widest cell, the first row as a header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}
