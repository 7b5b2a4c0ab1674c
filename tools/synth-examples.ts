// npm run synth:examples -- --out <dir> [--compare <dir>]: synthesizes the built-in default spec
// and every examples/*.yaml with the app exactly as `cdktf synth` runs it (the project's
// cdktf.json "app" command, in a fresh process per spec), and writes <dir>/<spec>/<stack>/cdk.tf.json.
// With --compare, it then lists every file that differs from (or is missing in) another such
// directory and exits 1 if any does: the check that a refactoring changed no synthesized byte.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appCommand, parseCli, PROJECT_ROOT, runTool, usageError } from "./support";

const USAGE = `usage: npm run synth:examples -- --out <dir> [--compare <dir>] [--project <dir>]

Synthesizes the built-in default spec and every examples/*.yaml with the project's cdktf.json app
command, into <dir>/<spec>/<stack>/cdk.tf.json.
  --out <dir>       where to write (created; its previous content is replaced)
  --compare <dir>   afterwards, compare with an earlier --out directory byte by byte; exit 1 on any difference
  --project <dir>   the checkout to synthesize (default: this one), e.g. an older commit from
                    \`git worktree add ../before <commit>\` (with its node_modules installed)
  -h, --help        this text

Compare two commits: npm run synth:examples -- --project ../before --out /tmp/before
                     npm run synth:examples -- --out /tmp/after --compare /tmp/before`;

function specs(project: string): { name: string; file: string | undefined }[] {
  const examples = fs
    .readdirSync(path.join(project, "examples"))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ name: `examples-${f.replace(/\.ya?ml$/, "")}`, file: path.join(project, "examples", f) }));
  return [{ name: "built-in-default", file: undefined }, ...examples];
}

export function synthesizeAll(project: string, out: string): void {
  const app = appCommand(project);
  fs.rmSync(out, { recursive: true, force: true });
  for (const { name, file } of specs(project)) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "synth-examples-"));
    try {
      // As cdktf synth runs it: in the project, through a shell, with CDKTF_OUTDIR set.
      const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: path.join(work, "cdktf.out"), CHECKPOINT_DISABLE: "1" };
      delete env.MESH_SPEC;
      delete env.MESH_DEBUG;
      if (file) env.MESH_SPEC = file;
      const result = spawnSync(app, { shell: true, cwd: project, env, encoding: "utf8" });
      if (result.status !== 0) throw new Error(`synthesis of ${name} failed:\n${result.stderr}${result.stdout}`);
      const stacks = path.join(work, "cdktf.out", "stacks");
      for (const stack of fs.readdirSync(stacks).sort()) {
        fs.mkdirSync(path.join(out, name, stack), { recursive: true });
        fs.copyFileSync(path.join(stacks, stack, "cdk.tf.json"), path.join(out, name, stack, "cdk.tf.json"));
      }
      console.log(`${name}: ${fs.readdirSync(stacks).sort().join(", ")}`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
}

function files(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Every file that differs between two output directories, with why. */
export function compareOutputs(a: string, b: string): string[] {
  const left = new Set(files(a));
  const right = new Set(files(b));
  const problems: string[] = [];
  for (const file of [...new Set([...left, ...right])].sort()) {
    if (!left.has(file)) problems.push(`${file}: only in ${b}`);
    else if (!right.has(file)) problems.push(`${file}: only in ${a}`);
    else if (!fs.readFileSync(path.join(a, file)).equals(fs.readFileSync(path.join(b, file)))) problems.push(`${file}: differs`);
  }
  return problems;
}

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { out: { type: "string" }, compare: { type: "string" }, project: { type: "string" } }, false, args);
  if (!values.out) usageError("--out is required", USAGE);
  const out = path.resolve(values.out);
  synthesizeAll(path.resolve(values.project ?? PROJECT_ROOT), out);
  if (!values.compare) return 0;
  const problems = compareOutputs(path.resolve(values.compare), out);
  if (problems.length === 0) {
    console.log(`byte-identical to ${values.compare} (${files(out).length} files)`);
    return 0;
  }
  console.error(`${problems.length} file(s) differ from ${values.compare}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return 1;
}

void runTool(require.main === module, "synth:examples", main);
