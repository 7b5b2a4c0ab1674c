// npm run synth:cdktn -- [--work <dir>]: the way off archived CDKTF, proven. Clones this
// checkout's HEAD, installs it with CDK Terrain (the community fork) in place of the cdktf core
// (npm alias cdktf@npm:cdktn, and the constructs it needs), synthesizes the default spec and every
// example with both, and compares the Terraform JSON value by value. The only differences
// expected are the ones listed in EXPECTED_DIFFERENCES; anything else fails (exit 1). Needs the
// npm registry; not part of npm test.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseCli, PROJECT_ROOT, runTool } from "./support";
import { synthesizeAll } from "./synth-examples";

const USAGE = `usage: npm run synth:cdktn [-- --work <dir>]

Synthesizes the built-in default spec and every example with cdktf (this checkout) and with CDK
Terrain (a clone of HEAD installed with cdktn as the core), then compares every stack's JSON.
  --work <dir>   clone, install and write into <dir>/synth-cdktn, which must not exist (kept);
                 default: a temporary directory, removed after a run without differences
  -h, --help     this text

Both sides are the checkout's HEAD: it refuses a checkout with uncommitted changes.
Exit status: 0 when the only differences are the expected ones, 1 otherwise, 2 on bad usage.`;

/** The fork's packages, pinned: cdktn 0.24.0 needs constructs >= 10.6 < 10.8 (its peerDependencies). */
export const CDKTN = { core: "cdktn@0.24.0", constructs: "constructs@10.6.0" } as const;

/** Differences between a cdktf and a cdktn synthesis that change nothing Terraform does, with why. */
export const EXPECTED_DIFFERENCES: readonly { readonly path: RegExp; readonly why: string }[] = [
  // The key "//" (CDKTF's metadata comment) under the root "/".
  { path: /^\/\/\/\/metadata\/version$/, why: "the core's version in the stack's metadata comment (0.21.0 -> 0.24.0)" },
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path at which two JSON values differ ("/a/b[2]"), with both sides. */
export function jsonDifferences(a: Json, b: Json, at = ""): { path: string; left: string; right: string }[] {
  const show = (v: Json | undefined) => (v === undefined ? "(missing)" : JSON.stringify(v).slice(0, 80));
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [{ path: at, left: `${a.length} items`, right: `${b.length} items` }];
    return a.flatMap((v, i) => jsonDifferences(v, b[i]!, `${at}[${i}]`));
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((key) => {
      if (!(key in a) || !(key in b)) return [{ path: `${at}/${key}`, left: show(a[key]), right: show(b[key]) }];
      return jsonDifferences(a[key]!, b[key]!, `${at}/${key}`);
    });
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: at, left: show(a), right: show(b) }];
}

function run(command: string, args: readonly string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) throw new Error(`${command} could not start in ${cwd}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${(result.stderr ?? "").slice(-2000)}`);
}

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { work: { type: "string" } }, false, args);
  // Both sides are HEAD: uncommitted changes would show as differences the fork did not make.
  const dirty = spawnSync("git", ["status", "--porcelain"], { cwd: PROJECT_ROOT, encoding: "utf8" }).stdout;
  if (dirty.trim() !== "") {
    console.error("synth:cdktn: the checkout has uncommitted changes; commit or stash them (both syntheses are of HEAD)");
    return 2;
  }
  // Its own folder inside --work, which must be new: nothing of the caller's is removed.
  const work = values.work ? path.join(path.resolve(values.work), "synth-cdktn") : fs.mkdtempSync(path.join(os.tmpdir(), "synth-cdktn-"));
  if (values.work && fs.existsSync(work)) {
    console.error(`synth:cdktn: ${work} exists; remove it or name another --work`);
    return 2;
  }
  fs.mkdirSync(work, { recursive: true });
  const fork = path.join(work, "project");
  run("git", ["clone", "--quiet", PROJECT_ROOT, fork], work);
  // Scripts off: patch-package's patch is for cdktf 0.21.0's HCL renderer, which cdktn replaces.
  run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], fork);
  run("npm", ["install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund", "--legacy-peer-deps", `cdktf@npm:${CDKTN.core}`, CDKTN.constructs], fork);
  synthesizeAll(PROJECT_ROOT, path.join(work, "cdktf"));
  synthesizeAll(fork, path.join(work, "cdktn"));
  let unexpected = 0;
  const stacksOf = (side: string) =>
    fs
      .readdirSync(path.join(work, side), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith("cdk.tf.json"));
  for (const file of [...new Set([...stacksOf("cdktf"), ...stacksOf("cdktn")])].sort()) {
    const [one, other] = [path.join(work, "cdktf", file), path.join(work, "cdktn", file)];
    if (!fs.existsSync(one) || !fs.existsSync(other)) {
      console.log(`${file}: only in the ${fs.existsSync(one) ? "cdktf" : "cdktn"} synthesis`);
      unexpected++;
      continue;
    }
    for (const d of jsonDifferences(JSON.parse(fs.readFileSync(one, "utf8")), JSON.parse(fs.readFileSync(other, "utf8")))) {
      const known = EXPECTED_DIFFERENCES.find((e) => e.path.test(d.path));
      if (!known) unexpected++;
      console.log(`${file} ${d.path}: ${d.left} -> ${d.right}${known ? ` (expected: ${known.why})` : " (UNEXPECTED)"}`);
    }
  }
  console.log(unexpected === 0 ? `synth:cdktn: the same Terraform from ${CDKTN.core} as from cdktf` : `synth:cdktn: ${unexpected} unexpected difference(s) (kept in ${work})`);
  // A temporary folder holds two installs (over a GB): kept only when asked for, or to look at a difference.
  if (!values.work && unexpected === 0) fs.rmSync(work, { recursive: true, force: true });
  return unexpected === 0 ? 0 : 1;
}

void runTool(require.main === module, "synth:cdktn", main);
