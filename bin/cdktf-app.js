#!/usr/bin/env node
// The app command of cdktf.json: synthesizes with the app as compiled from the current sources,
// and pays the compile only when a source changed.
//
// The build (type-check with tsc into dist/, then one bundle of dist/main.js with its
// dependencies, dist/app.bundle.js) runs when the fingerprint of its inputs differs from the one
// recorded in dist/.build-stamp after the last successful build. The inputs are everything the
// bundle is made of: main.ts, lib/ and stacks/, tsconfig.json, package.json, the lock files and
// patches/ (dependencies are bundled), and this file. Templates are not among them: the app reads
// templates/, and the built-in default examples/default.yaml, at run time. A type error fails the
// command as `tsc && node dist/main.js` did, and leaves no stamp, so the next run tries again.
//
// Why a bundle: loading cdktf's ~600 internal files and the app's dependencies module by module
// was most of a default synthesis (measured by tools/bench.ts; docs/review-tooling.md). The
// bundle runs with a V8 code cache beside it (what Node 22's module.enableCompileCache does;
// Node 20 has no such API): the functions a synth ran are not compiled again by the next one.
// MESH_DEBUG=1 runs the unbundled dist/main.js instead, for stack traces with real file names.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");
const { spawnSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".build-stamp");
const BUNDLE = path.join(DIST, "app.bundle.js");
const LOCK = path.join(DIST, ".build-lock");
/** A lock older than this is left over from a killed build. */
const LOCK_STALE_MS = 10 * 60 * 1000;

/** Relative paths of the build's inputs, sorted, so a renamed or deleted file changes the fingerprint too. */
function inputFiles() {
  const files = ["main.ts", "tsconfig.json", "package.json", "package-lock.json", "node_modules/.package-lock.json", "bin/cdktf-app.js"];
  for (const [dir, pattern] of [
    ["lib", /\.ts$/],
    ["stacks", /\.ts$/],
    ["patches", /\.patch$/],
  ]) {
    if (!fs.existsSync(path.join(ROOT, dir))) continue;
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && pattern.test(entry.name)) files.push(path.relative(ROOT, path.join(entry.parentPath, entry.name)));
    }
  }
  return files.filter((file) => fs.existsSync(path.join(ROOT, file))).sort();
}

/** SHA-256 over every input's path and content. */
function fingerprint() {
  const hash = crypto.createHash("sha256");
  for (const file of inputFiles()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(ROOT, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function isFresh(print) {
  try {
    return fs.readFileSync(STAMP, "utf8") === print && fs.existsSync(BUNDLE);
  } catch {
    return false;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Holds dist/.build-lock while `build` runs, so parallel synths never read a half-written dist/. */
function withLock(build) {
  fs.mkdirSync(DIST, { recursive: true });
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, "pid"), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      if (lockIsStale()) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is still held after ${LOCK_STALE_MS / 60000} minutes; remove it if no build is running`);
      else sleep(100);
    }
  }
  try {
    return build();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

/** The holder was killed (its pid is gone) or the lock is older than any build. */
function lockIsStale() {
  try {
    const pid = Number(fs.readFileSync(path.join(LOCK, "pid"), "utf8"));
    if (Date.now() - fs.statSync(LOCK).mtimeMs > LOCK_STALE_MS) return true;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: no such process. ENOENT: the holder has not written its pid yet (or just removed
    // the lock); wait for it unless the directory is old.
    if (error.code === "ESRCH") return true;
    if (error.code === "ENOENT") return fs.existsSync(LOCK) && Date.now() - fs.statSync(LOCK).mtimeMs > 5000;
    return false;
  }
}

/** The path of a package the build needs, or undefined after saying how to get it. */
function devDependency(request) {
  try {
    return require.resolve(request, { paths: [ROOT] });
  } catch {
    console.error(`${request.split("/")[0]} is not installed, and the app must be compiled: run npm ci (with the dev dependencies); nothing was synthesized.`);
    return undefined;
  }
}

/** tsc (type-check and emit dist/), then the bundle. Returns an exit code. */
function build(print) {
  const started = process.hrtime.bigint();
  // stdout: cdktf synth shows the app's stdout as output, its stderr as errors.
  console.log("Compiling the app (its sources changed since the last synth) ...");
  const typescript = devDependency("typescript/package.json");
  const esbuild = devDependency("esbuild");
  if (!typescript || !esbuild) return 1;
  const tsc = path.join(path.dirname(typescript), "bin", "tsc");
  // --noEmitOnError: after a failed check dist/ still holds the last good build, the one the stamp names.
  const typecheck = spawnSync(process.execPath, [tsc, "-p", path.join(ROOT, "tsconfig.json"), "--noEmitOnError"], { cwd: ROOT, encoding: "utf8" });
  if (typecheck.status !== 0) {
    process.stderr.write(`${typecheck.stdout}${typecheck.stderr}`);
    console.error(`tsc -p tsconfig.json failed (exit ${typecheck.status ?? typecheck.signal}): fix the errors above; nothing was synthesized.`);
    return 1;
  }
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  try {
    require(esbuild).buildSync({
      entryPoints: [path.join(DIST, "main.js")],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      outfile: temporary,
      logLevel: "error",
    });
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    console.error(`Bundling dist/main.js with esbuild failed: ${error.message}; nothing was synthesized.`);
    return 1;
  }
  fs.renameSync(temporary, BUNDLE);
  // Code caches of the previous bundle would only be rejected.
  for (const file of fs.readdirSync(DIST)) if (file.endsWith(".v8cache")) fs.rmSync(path.join(DIST, file), { force: true });
  fs.writeFileSync(`${STAMP}.tmp`, print);
  fs.renameSync(`${STAMP}.tmp`, STAMP);
  console.log(`Compiled in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s.`);
  return 0;
}

/** Builds when stale (under the lock, checking again once it is held). Returns an exit code. */
function ensureBuilt() {
  const print = fingerprint();
  if (isFresh(print)) return 0;
  return withLock(() => {
    const current = fingerprint();
    return isFresh(current) ? 0 : build(current);
  });
}

/**
 * Runs the bundle as `require` would, compiled with the code cache of earlier runs when V8 takes
 * it. The cache is per Node version and flags (V8 rejects a cache made under others), and is
 * written at exit, when it holds every function this run compiled, only when missing or rejected.
 */
function runBundle() {
  const key = crypto
    .createHash("sha256")
    .update(`${process.version} ${process.arch} ${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`)
    .digest("hex")
    .slice(0, 16);
  const cacheFile = `${BUNDLE}.${key}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(BUNDLE, "utf8")), { filename: BUNDLE, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.on("exit", () => {
      try {
        fs.writeFileSync(`${cacheFile}.${process.pid}.tmp`, script.createCachedData());
        fs.renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
      } catch {
        // A cache that cannot be written only costs the next run its compile time.
      }
    });
  }
  const bundle = new Module(BUNDLE, module);
  bundle.filename = BUNDLE;
  bundle.paths = Module._nodeModulePaths(DIST);
  script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(BUNDLE), bundle, BUNDLE, DIST);
}

if (require.main === module) {
  const code = ensureBuilt();
  if (code !== 0) process.exitCode = code;
  else if (process.env.MESH_DEBUG) require(path.join(DIST, "main.js"));
  else runBundle();
}

module.exports = { fingerprint, inputFiles, ensureBuilt, STAMP, BUNDLE };
