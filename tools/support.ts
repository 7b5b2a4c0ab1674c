// Shared by the review scripts (render, diagram, bench): the project root, the spec the app
// would synthesize (--spec, else MESH_SPEC, else cdktf.json's context.meshSpec, else the
// built-in default), command-line parsing, a plain-text table and the deployability model as tables.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadSpec, type LoadedSpec } from "../lib/pipeline";
import { formatSpecIssues, SpecError } from "../lib/issues";
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

/** The command cdktf.json's "app" holds: a shell command line that cdktf synth runs from the project. */
export function appCommand(project: string = PROJECT_ROOT): string {
  const app = (JSON.parse(fs.readFileSync(path.join(project, "cdktf.json"), "utf8")) as { app?: unknown }).app;
  if (typeof app !== "string" || app.trim() === "") throw new Error(`${path.join(project, "cdktf.json")}: no "app" command`);
  return app;
}

/**
 * The spec as main.ts loads it, or the file given (as if it were MESH_SPEC); a bad spec stops the
 * tool with its problems, exit 1 (a CliExit: a test importing the tool keeps running).
 */
export function loadProjectSpec(specFile?: string): LoadedSpec {
  try {
    const env = specFile === undefined ? process.env : { ...process.env, MESH_SPEC: path.resolve(specFile) };
    const loaded = loadSpec(env, cdktfContext("meshSpec"));
    if (loaded.warnings.length > 0) console.error(formatSpecIssues(loaded.source, [], loaded.warnings));
    return loaded;
  } catch (error) {
    if (error instanceof SpecError) throw new CliExit(1, error.message);
    throw error;
  }
}

/** Columns padded to their widest cell, the first row as a header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

type CliOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * A tool stopping early: `--help` (exit 0, the usage for stdout), a bad spec (exit 1, its problems)
 * or a bad argument (exit 2, the reason and the usage), both for stderr. runTool prints it; tests catch it.
 */
export class CliExit extends Error {
  constructor(
    readonly code: 0 | 1 | 2,
    readonly text: string,
  ) {
    super(text);
  }
}

/**
 * A tool's command line, parsed strictly with util.parseArgs: `--help` / `-h` stops with the
 * usage (exit 0); an unknown option, a missing value or an unexpected argument stops with the
 * reason and the usage (exit 2), before the tool does anything.
 */
export function parseCli<const O extends CliOptions, const P extends boolean = false>(usage: string, options: O, allowPositionals: P | undefined, args: readonly string[]) {
  const config = {
    args: [...args],
    options: { ...options, help: { type: "boolean", short: "h" } } as O & { help: { type: "boolean"; short: "h" } },
    allowPositionals: (allowPositionals ?? false) as P,
    strict: true as const,
  };
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    throw new CliExit(2, `${(error as Error).message}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) throw new CliExit(0, usage);
  return parsed;
}

/** Stops a tool on a bad argument value: the reason and the usage, exit 2. */
export function usageError(message: string, usage: string): never {
  throw new CliExit(2, `${message}\n\n${usage}`);
}

/**
 * Runs a tool's main with the process's arguments when the tool is the program (`isMain`:
 * `require.main === module` in the tool, false when a test imports it): prints a CliExit where it
 * belongs, sets the exit code, and reports a failure in one line (`<name> failed: ...`, exit
 * `failureCode`). Resolves once the exit code is set.
 */
export function runTool(
  isMain: boolean,
  name: string,
  main: (args: readonly string[]) => number | Promise<number>,
  failureCode = 1,
  args: readonly string[] = process.argv.slice(2),
): Promise<void> {
  if (!isMain) return Promise.resolve();
  return Promise.resolve()
    .then(() => main(args))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        if (error instanceof CliExit) {
          if (error.code === 0) console.log(error.text);
          else console.error(error.text);
          process.exitCode = error.code;
          return;
        }
        console.error(`${name} failed: ${(error as Error).message ?? String(error)}`);
        process.exitCode = failureCode;
      },
    );
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
