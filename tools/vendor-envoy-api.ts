// npx tsx tools/vendor-envoy-api.ts --git-dir <envoyproxy/data-plane-api git dir> [--commit <sha>] [--check]
// Extracts the Envoy API protos the Envoy judge (tools/judges/envoy.ts) checks against from a git
// dir of envoyproxy/data-plane-api (the read-only mirror of envoyproxy/envoy's api/ tree), at the
// commit ENVOY_API names, into tools/judges/envoy-api/<commit>/, with a MANIFEST of git blob hashes
// that __tests__/envoy-judge.test.ts checks the files against (a hand edit fails).
//
// Which files: every envoy/{config,extensions,type,watchdog}/**/v3/*.proto (the Bootstrap and every
// message a typed_config Any can name) and the envoy/ protos they import. Left out: the gRPC service
// (envoy/service), admin output (envoy/admin) and data protos nothing imports, which no config names,
// the v2 and alpha protos (Envoy rejects v2 types) and contrib/ (not in the envoyproxy/envoy image).
// About 1.9 MB instead of 2.8 MB for all of envoy/. Protos outside envoy/ (udpa, xds, validate,
// google) still come from the npm package @grpc/grpc-js-xds: see ENVOY_API.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVOY_API, ENVOY_API_ROOT, type EnvoyApiManifest, formatEnvoyApiManifest, gitBlobHash, readEnvoyApiManifest } from "./judges/envoy";
import { CliExit, parseCli, runTool, usageError } from "./support";

const USAGE = `usage: npx tsx tools/vendor-envoy-api.ts --git-dir <dir> [--commit <sha>] [--check]

Extracts the Envoy API protos the Envoy judge needs from an envoyproxy/data-plane-api git dir into
${path.relative(process.cwd(), ENVOY_API_ROOT) || ENVOY_API_ROOT}/<commit>/ (replacing what is there) with a MANIFEST of git blob hashes.
  --git-dir <dir>   a clone or mirror of github.com/envoyproxy/data-plane-api (default: $DATA_PLANE_API_GIT_DIR)
  --commit <sha>    the commit to extract (default: ENVOY_API.dataPlaneApiCommit in tools/judges/envoy.ts)
  --check           extract in memory and compare with the vendored files; exit 1 on any difference
  -h, --help        this text`;

/** The judge's selection: config, extension, type and watchdog v3 protos; their envoy/ imports follow. */
const ENTRY = /^envoy\/(config|extensions|type|watchdog)\/(.+\/)?v3\/[^/]+\.proto$/;
const IMPORT = /^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm;

function git(gitDir: string, args: readonly string[], input?: string): Buffer {
  const run = spawnSync("git", ["--git-dir", gitDir, ...args], { input, maxBuffer: 1 << 30 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`git ${args.join(" ")}: ${run.stderr.toString().trim()}`);
  return run.stdout;
}

/** The vendored selection at one commit: the manifest and each file's bytes. */
export function extractEnvoyApi(gitDir: string, commit: string): { manifest: EnvoyApiManifest; files: Map<string, Buffer> } {
  const full = git(gitDir, ["rev-parse", "--verify", `${commit}^{commit}`])
    .toString()
    .trim();
  const date = git(gitDir, ["show", "-s", "--format=%cs", full]).toString().trim();
  // data-plane-api commit messages end with "Mirrored from https://github.com/envoyproxy/envoy @ <sha>".
  const mirrored = /Mirrored from https:\/\/github\.com\/envoyproxy\/envoy @ ([0-9a-f]{40})/.exec(git(gitDir, ["show", "-s", "--format=%B", full]).toString());
  if (!mirrored) throw new Error(`${full} names no envoyproxy/envoy commit (is ${gitDir} envoyproxy/data-plane-api?)`);
  const blobs = new Map<string, string>();
  for (const line of git(gitDir, ["ls-tree", "-r", "-z", full, "--", "envoy"]).toString().split("\0")) {
    const m = /^\d+ blob ([0-9a-f]{40})\t(.+\.proto)$/.exec(line);
    if (m) blobs.set(m[2]!, m[1]!);
  }
  const contents = catFiles(gitDir, [...blobs.values()]);
  const text = (file: string): string => contents.get(blobs.get(file)!)!.toString("utf8");
  const selected = new Set<string>();
  const pending = [...blobs.keys()].filter((file) => ENTRY.test(file));
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (selected.has(file)) continue;
    selected.add(file);
    for (const [, target] of text(file).matchAll(IMPORT)) {
      if (!target!.startsWith("envoy/")) continue;
      if (!blobs.has(target!)) throw new Error(`${file} imports ${target}, which is not in ${full}`);
      pending.push(target!);
    }
  }
  const paths = [...selected].sort();
  const files = new Map(paths.map((file) => [file, contents.get(blobs.get(file)!)!]));
  return {
    manifest: { commit: full, commitDate: date, envoyCommit: mirrored[1]!, files: paths.map((file) => ({ path: file, blob: blobs.get(file)! })) },
    files,
  };
}

/** Many blobs in one `git cat-file --batch`. */
function catFiles(gitDir: string, ids: readonly string[]): Map<string, Buffer> {
  const out = git(gitDir, ["cat-file", "--batch"], `${ids.join("\n")}\n`);
  const result = new Map<string, Buffer>();
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    const [id, type, size] = out.subarray(at, eol).toString().split(" ");
    if (type !== "blob") throw new Error(`git cat-file: ${out.subarray(at, eol).toString()}`);
    const start = eol + 1;
    result.set(id!, out.subarray(start, start + Number(size)));
    at = start + Number(size) + 1; // the content is followed by a newline
  }
  return result;
}

/** Differences between an extraction and the vendored directory, one line each. */
export function compareWithVendored(extracted: { manifest: EnvoyApiManifest; files: Map<string, Buffer> }, root = ENVOY_API_ROOT): string[] {
  const dir = path.join(root, extracted.manifest.commit);
  let vendored: EnvoyApiManifest;
  try {
    vendored = readEnvoyApiManifest(dir);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  if (JSON.stringify({ ...vendored, files: [] }) !== JSON.stringify({ ...extracted.manifest, files: [] })) problems.push(`${dir}/MANIFEST: header differs from the extraction`);
  const want = new Map(extracted.manifest.files.map((f) => [f.path, f.blob]));
  const have = new Map(vendored.files.map((f) => [f.path, f.blob]));
  for (const [file, blob] of want) if (have.get(file) !== blob) problems.push(`${file}: ${have.has(file) ? "manifest hash differs" : "missing from the manifest"}`);
  for (const file of have.keys()) if (!want.has(file)) problems.push(`${file}: in the manifest, not in the selection`);
  for (const [file, bytes] of extracted.files) {
    const on = path.join(dir, file);
    if (!fs.existsSync(on)) problems.push(`${file}: not vendored`);
    else if (!fs.readFileSync(on).equals(bytes)) problems.push(`${file}: vendored bytes differ`);
  }
  return problems;
}

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { "git-dir": { type: "string" }, commit: { type: "string" }, check: { type: "boolean" } }, false, args);
  const gitDir = values["git-dir"] ?? process.env.DATA_PLANE_API_GIT_DIR;
  if (!gitDir) usageError("--git-dir (or $DATA_PLANE_API_GIT_DIR) is required", USAGE);
  const extracted = extractEnvoyApi(gitDir, values.commit ?? ENVOY_API.dataPlaneApiCommit);
  const { manifest, files } = extracted;
  if (values.check) {
    const problems = compareWithVendored(extracted);
    if (problems.length > 0) throw new CliExit(1, problems.join("\n"));
    console.log(`${files.size} vendored protos match data-plane-api ${manifest.commit}`);
    return 0;
  }
  fs.rmSync(ENVOY_API_ROOT, { recursive: true, force: true });
  const dir = path.join(ENVOY_API_ROOT, manifest.commit);
  for (const [file, bytes] of files) {
    if (gitBlobHash(bytes) !== manifest.files.find((f) => f.path === file)?.blob) throw new Error(`${file}: content does not hash to its blob`);
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), bytes);
  }
  fs.writeFileSync(path.join(dir, "MANIFEST"), formatEnvoyApiManifest(manifest));
  const bytes = [...files.values()].reduce((sum, b) => sum + b.length, 0);
  console.log(`wrote ${files.size} protos (${bytes} bytes) of data-plane-api ${manifest.commit} (${manifest.commitDate}, envoy ${manifest.envoyCommit}) to ${dir}`);
  if (manifest.commit !== ENVOY_API.dataPlaneApiCommit) console.log(`now set ENVOY_API.dataPlaneApiCommit in tools/judges/envoy.ts to ${manifest.commit}`);
  return 0;
}

void runTool(require.main === module, "vendor-envoy-api", main);
