// Shared by the review scripts (render, diagram, bench): the project root, the spec the app
// would synthesize (MESH_SPEC, else cdktf.json's context.meshSpec, else the built-in default),
// a plain-text table and the deployability model as tables.
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec, specPathFrom, type LoadedSpec } from "../lib/spec/load";
import { formatSpecIssues, SpecError } from "../lib/spec/issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { parseDocument } from "../lib/spec/document";
import { checkStructure } from "../lib/spec/structure";
import { buildPlan } from "../lib/plan/build";
import type { MeshPlan } from "../lib/plan/types";
import { deployabilityModel } from "../lib/rules/model";

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

/**
 * The plan of the project's spec when only the rules rejected it, so a review can show the model
 * that explains the errors; undefined when the file or its structure is broken (nothing to model).
 */
export function planDespiteRuleErrors(): MeshPlan | undefined {
  const file = specPathFrom(process.env, cdktfContext("meshSpec"));
  let input: unknown;
  try {
    input = file === undefined ? DEFAULT_SPEC : parseDocument(fs.readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
  const structure = checkStructure(input);
  return structure.errors.length === 0 && structure.sound ? buildPlan(structure.sound.spec) : undefined;
}

/** Columns padded to their widest cell, the first row as a header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

/**
 * The deployability model (lib/rules/model.ts) as one table per task, host and server: need,
 * verdict, path (last, so a long path pads nothing); under each table, the spec path and fix of
 * every row that is not ok.
 */
export function modelTables(plan: MeshPlan): { readonly text: string; readonly errors: number } {
  const sections: string[] = [];
  let errors = 0;
  for (const [who, rows] of deployabilityModel(plan)) {
    const lines = [who, table([["need", "verdict", "path"], ...rows.map((r) => [r.need, r.verdict === "ok" ? "ok" : r.verdict.toUpperCase(), r.path])])];
    for (const r of rows.filter((row) => row.verdict !== "ok")) lines.push(`  ${r.verdict.toUpperCase()} ${r.specPath}, ${r.need}. Fix: ${r.fix ?? "see the path"}`);
    errors += rows.filter((r) => r.verdict === "error").length;
    sections.push(lines.join("\n"));
  }
  return { text: sections.join("\n\n"), errors };
}
