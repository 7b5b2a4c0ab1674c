// cdktf.json's app command (bin/cdktf-app.js) in a copy of the project: it compiles when a
// source changed and only then, a type error fails it without synthesizing or touching the last
// good build, and templates are read at run time (an edited template shows without a compile).
import { exec, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { Lazy, Tokenization } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const COPIED = ["main.ts", "lib", "stacks", "templates", "examples", "bin", "patches", "tsconfig.json", "package.json", "package-lock.json", "cdktf.json"];

let project: string;
let outdirs = 0;

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "app-command-"));
  for (const entry of COPIED) fs.cpSync(entry, path.join(project, entry), { recursive: true });
  fs.symlinkSync(path.resolve("node_modules"), path.join(project, "node_modules"), "dir");
});

afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

/** cdktf.json's app command, run as cdktf synth runs it: through a shell, from the project. */
function synth(extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string; outdir: string } {
  const app = (JSON.parse(fs.readFileSync(path.join(project, "cdktf.json"), "utf8")) as { app: string }).app;
  const outdir = path.join(project, `out-${outdirs++}`);
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
  delete env.MESH_SPEC;
  delete env.MESH_DEBUG;
  for (const name of Object.keys(env)) if (name.startsWith("MESH_STATE_")) delete env[name];
  Object.assign(env, extraEnv);
  const result = spawnSync(app, { shell: true, cwd: project, env, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outdir };
}

const meshJson = (outdir: string) => fs.readFileSync(path.join(outdir, "stacks", "mesh", "cdk.tf.json"), "utf8");

describe("the app command of cdktf.json", () => {
  it("is the launcher", () => {
    expect(JSON.parse(fs.readFileSync("cdktf.json", "utf8")).app).toBe("node bin/cdktf-app.js");
  });

  it("compiles once when parallel synths find it stale, then not again until a source changes", async () => {
    const app = (JSON.parse(fs.readFileSync(path.join(project, "cdktf.json"), "utf8")) as { app: string }).app;
    const env = { ...process.env };
    delete env.MESH_SPEC;
    delete env.MESH_DEBUG;
    const runs = await Promise.all([0, 1].map((i) => promisify(exec)(app, { cwd: project, env: { ...env, CDKTF_OUTDIR: path.join(project, `parallel-${i}`) }, encoding: "utf8" })));
    // One compiled, the other waited for the build.
    expect(runs.filter((r) => /Compiling the app/.test(r.stdout))).toHaveLength(1);
    expect(meshJson(path.join(project, "parallel-1"))).toBe(meshJson(path.join(project, "parallel-0")));
    expect(fs.existsSync(path.join(project, "dist", ".build-lock"))).toBe(false);
    expect(fs.existsSync(path.join(project, "dist", ".build-stamp"))).toBe(true);

    // A V8 code cache of the bundle is kept; one V8 accepted is not written again.
    const caches = () => fs.readdirSync(path.join(project, "dist")).filter((f) => f.endsWith(".v8cache"));
    expect(caches()).toHaveLength(1);
    const cached = fs.statSync(path.join(project, "dist", caches()[0]!)).mtimeMs;
    const again = synth();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/Compiling/);
    expect(meshJson(again.outdir)).toBe(meshJson(path.join(project, "parallel-0")));
    expect(caches()).toHaveLength(1);
    expect(fs.statSync(path.join(project, "dist", caches()[0]!)).mtimeMs).toBe(cached);
  }, 120_000);

  it("compiles again when a source changed; on a type error fails without synthesizing, and runs the last good build once it is fixed", () => {
    const file = path.join(project, "stacks", "index.ts");
    const source = fs.readFileSync(file, "utf8");
    const stamp = path.join(project, "dist", ".build-stamp");
    const goodStamp = fs.readFileSync(stamp, "utf8");
    fs.writeFileSync(file, `${source}\nexport const broken: number = "not a number";\n`);
    const bad = synth();
    expect(bad.status).not.toBe(0);
    // The edit made the build stale: it compiled, and tsc refused the edit.
    expect(bad.stdout).toMatch(/Compiling the app/);
    expect(bad.stdout + bad.stderr).toMatch(/error TS2322/);
    expect(bad.stderr).toMatch(/nothing was synthesized/);
    expect(fs.existsSync(path.join(bad.outdir, "stacks"))).toBe(false);
    // Still stale: the stamp still names the last good sources, which differ from these, so the next run compiles again (the first test shows a stale build compiles).
    expect(fs.readFileSync(stamp, "utf8")).toBe(goodStamp);

    // Back to the sources of the last good build, which dist/ still holds (tsc emits nothing on an error).
    fs.writeFileSync(file, source);
    const fixed = synth();
    expect(fixed.status, fixed.stderr).toBe(0);
    expect(fixed.stdout).not.toMatch(/Compiling/);
    expect(fs.readFileSync(path.join(project, "dist", "stacks", "index.js"), "utf8")).not.toContain("broken");
  }, 120_000);

  it("reads templates at run time: an edited template shows without a compile", () => {
    const template = path.join(project, "templates", "ecs", "envoy-bootstrap.sh.hbs");
    const source = fs.readFileSync(template, "utf8");
    fs.writeFileSync(template, source.replace(/^# /m, "# EDITED-IN-TEST "));
    const result = synth();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/Compiling/);
    expect(meshJson(result.outdir)).toContain("EDITED-IN-TEST");
    fs.writeFileSync(template, source);
  }, 60_000);
});

describe("the state backend at synth", () => {
  it("warns once, with the spec's warnings on stdout, that local state holds the mesh's keys, naming the S3 settings; not with MESH_STATE_BUCKET", () => {
    const local = synth();
    expect(local.status, local.stderr).toBe(0);
    expect(local.stdout.match(/Terraform state is local/g)).toHaveLength(1);
    const [, listed] = /^Warnings for mesh spec .*:\n((?: {2}- .*\n?)+)/m.exec(local.stdout) ?? [];
    expect(listed).toMatch(/^ {2}- \(state backend\): Terraform state is local .*MESH_STATE_BUCKET .*MESH_STATE_REGION, MESH_STATE_KEY_PREFIX, MESH_STATE_KMS_KEY_ID/m);
    expect(local.stderr).not.toMatch(/state is local/);
    const s3 = synth({ MESH_STATE_BUCKET: "mesh-state" });
    expect(s3.status, s3.stderr).toBe(0);
    expect(s3.stdout + s3.stderr).not.toMatch(/state is local|state backend/);
    expect(JSON.parse(meshJson(s3.outdir)).terraform.backend.s3).toMatchObject({ bucket: "mesh-state", encrypt: true, use_lockfile: true });
  }, 180_000);
});

describe("CDKTF's per-token stack traces (lib/token-stack-traces.ts)", () => {
  it("are recorded by CDKTF itself, and not once skipped as the app and the tests skip them", () => {
    const script =
      'const { Lazy, Tokenization } = require("cdktf"); console.log(Tokenization.reverseString(Lazy.stringValue({ produce: () => "x" })).firstToken.creationStack.length);';
    const plain = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(plain.status, plain.stderr).toBe(0);
    expect(Number(plain.stdout.trim())).toBeGreaterThan(0);
    // This worker ran the tests' setup (skipTokenStackTraces, as main.ts does).
    expect(Tokenization.reverseString(Lazy.stringValue({ produce: () => "x" })).firstToken!.creationStack).toEqual([]);
  });
});
