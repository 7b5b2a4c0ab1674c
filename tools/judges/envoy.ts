// A judge of Envoy static configs: the YAML is read as Envoy reads it and checked against Envoy's
// own v3 API protos (vendored from envoyproxy/data-plane-api, see ENVOY_API), including the
// protoc-gen-validate (PGV) rules that Envoy enforces at startup. Sources this mirrors, read (not copied):
// - envoy source/common/protobuf/yaml_utility.cc (parseYamlNode, loadFromJson): how YAML becomes
//   JSON (quoted scalars are strings; yaml-cpp bools, ints, doubles; ints beyond int32 become
//   strings), then proto3 JSON parsing with unknown fields rejected and enum names case-insensitive.
// - protoc-gen-validate validate/validate.proto, module/checker.go (well-known regexes) and
//   templates/cc (C++ semantics: scalar rules apply to unset proto3 scalars, patterns fully match).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Scalar } from "yaml";
import { closest } from "../../lib/issues";

/**
 * What the judge checks against: the envoy/ protos of the Envoy 1.37 line, vendored into
 * tools/judges/envoy-api/<dataPlaneApiCommit>/ by tools/vendor-envoy-api.ts (a MANIFEST of git
 * blob hashes; a test fails on a hand edit). How the commit was established:
 * - Envoy 1.37.0 was released on 2026-01-13 (envoyproxy/envoy changelogs/1.37.0.yaml; envoyproxy.io
 *   version history) from main; data-plane-api mirrors every main commit that touches api/.
 * - Its changelog lists the last api/ change mirrored on 2026-01-13, e3de805 (dynamic modules
 *   bootstrap extension, envoy #42903), and the ones before it (jwt_authn extract_only, oauth2
 *   Partitioned cookies); changelogs/1.38.0.yaml lists ed3732e of 2026-01-17 (tcp_proxy
 *   max_early_data_bytes). The one api/ commit between, 1e690cb of 2026-01-15, only adds a contrib/
 *   proto, which the judge does not load: envoy/ is the same at both.
 * - Patches: 1.37.1, .2, .4, .5, .6 and .7 changelogs (.3 and .8-.11 not read) add no API field:
 *   bug and CVE fixes, runtime guards, and a cluster stats matcher configured through well-known
 *   metadata (envoy #43923: no new field). Backports reach release/v1.37, which data-plane-api
 *   does not mirror, so a backported field would be missing here; none was found.
 * Protos outside envoy/ (udpa, xds, validate, google) come from the npm package `depsPackage`:
 * cncf/xds 3a472e5 and PGV 0af61d9 (grpc-node's submodule pins at @grpc/grpc-js-xds@1.14.0,
 * unchanged on its master to 2026-04), where Envoy 1.37 builds with cncf/xds 8bfbf64 and PGV 1.3.0
 * (data-plane-api bazel/repository_locations.bzl): an xds field added between is reported as
 * unknown. Files importing protos the package lacks (OpenTelemetry's) are reported as unavailable.
 */
export const ENVOY_API = {
  dataPlaneApiCommit: "e3de805b9d0f7e10234222777ca2585324af43d6",
  envoyCommit: "ff8eee21e869bcf88ec7a6d4e0d5c9acd672dab2",
  commitDate: "2026-01-13",
  envoyRelease: "1.37.0",
  depsPackage: "@grpc/grpc-js-xds",
  depsVersion: "1.14.1",
  rootMessage: "envoy.config.bootstrap.v3.Bootstrap",
  /**
   * The Envoy line the project's configs were reviewed for against this API. A test fails when
   * the pinned Envoy moves to another line: re-vendor (tools/vendor-envoy-api.ts) and review.
   */
  reviewedForEnvoy: "1.37",
} as const;

/** Where tools/vendor-envoy-api.ts puts the protos: <root>/<commit>/envoy/... and <root>/<commit>/MANIFEST. */
export const ENVOY_API_ROOT = path.join(__dirname, "envoy-api");

/** The vendored selection: where it came from, and each file's git blob hash. */
export interface EnvoyApiManifest {
  readonly commit: string;
  readonly commitDate: string;
  readonly envoyCommit: string;
  readonly files: readonly { readonly path: string; readonly blob: string }[];
}

/** Git's object id of a file's bytes: the manifest's hashes can be compared with `git ls-tree`. */
export function gitBlobHash(bytes: Buffer): string {
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

const MANIFEST_HEADER = "# Envoy API protos for tools/judges/envoy.ts, written by tools/vendor-envoy-api.ts: do not edit.";

export function formatEnvoyApiManifest(manifest: EnvoyApiManifest): string {
  return [
    MANIFEST_HEADER,
    `data-plane-api ${manifest.commit}`,
    `date ${manifest.commitDate}`,
    `envoy ${manifest.envoyCommit}`,
    ...manifest.files.map((f) => `${f.blob} ${f.path}`),
    "",
  ].join("\n");
}

export function readEnvoyApiManifest(dir: string): EnvoyApiManifest {
  const file = path.join(dir, "MANIFEST");
  const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean);
  const field = (line: string | undefined, key: string): string => {
    const m = new RegExp(`^${key} (\\S+)$`).exec(line ?? "");
    if (!m) throw new Error(`${file}: expected "${key} <value>", got ${JSON.stringify(line)}`);
    return m[1]!;
  };
  if (lines[0] !== MANIFEST_HEADER) throw new Error(`${file}: not a manifest of tools/vendor-envoy-api.ts`);
  const files = lines.slice(4).map((line) => {
    const m = /^([0-9a-f]{40}) (envoy\/\S+\.proto)$/.exec(line);
    if (!m) throw new Error(`${file}: expected "<blob> envoy/<path>.proto", got ${JSON.stringify(line)}`);
    return { blob: m[1]!, path: m[2]! };
  });
  return { commit: field(lines[1], "data-plane-api"), commitDate: field(lines[2], "date"), envoyCommit: field(lines[3], "envoy"), files };
}

/** Each vendored file against the MANIFEST: changed (a hand edit), missing or unlisted files, one line each. */
export function vendoredEnvoyApiProblems(dir: string, manifest: EnvoyApiManifest = readEnvoyApiManifest(dir)): string[] {
  const problems: string[] = [];
  for (const f of manifest.files) {
    const file = path.join(dir, f.path);
    if (!fs.existsSync(file)) problems.push(`${f.path}: missing`);
    else if (gitBlobHash(fs.readFileSync(file)) !== f.blob)
      problems.push(`${f.path}: differs from data-plane-api ${manifest.commit.slice(0, 7)} (blob ${f.blob.slice(0, 7)} in MANIFEST)`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const file of protoFiles(path.join(dir, "envoy"))) {
    const relative = path.relative(dir, file).split(path.sep).join("/");
    if (!listed.has(relative)) problems.push(`${relative}: not in the MANIFEST`);
  }
  return problems;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface EnvoyApi {
  readonly root: protobuf.Root;
  /** Full message names defined in files that could not be loaded, with the reason. */
  readonly unavailable: ReadonlyMap<string, string>;
  readonly messageNames: readonly string[];
  readonly stats: EnvoyApiStats;
}

export interface EnvoyApiStats {
  readonly loadMilliseconds: number;
  readonly protoFiles: number;
  /** Vendored files left out because they import protos that neither the vendored set nor the package ships. */
  readonly skippedFiles: readonly string[];
  /** PGV rule kinds present in the loaded protos that this judge does not evaluate. */
  readonly unenforcedRules: readonly string[];
}

let cached: EnvoyApi | undefined;

/** Loads the protos once per process; later calls return the same result. */
export function envoyApiStats(): EnvoyApiStats {
  return loadEnvoyApi().stats;
}

function loadEnvoyApi(): EnvoyApi {
  if (cached) return cached;
  const started = performance.now();
  const apiDir = path.join(ENVOY_API_ROOT, ENVOY_API.dataPlaneApiCommit);
  const manifest = readEnvoyApiManifest(apiDir);
  if (manifest.commit !== ENVOY_API.dataPlaneApiCommit) throw new Error(`${apiDir}/MANIFEST is of ${manifest.commit}, ENVOY_API names ${ENVOY_API.dataPlaneApiCommit}`);
  const problems = vendoredEnvoyApiProblems(apiDir, manifest);
  // The judge checks against data-plane-api as published, not a local edit of it.
  if (problems.length > 0) throw new Error(`the vendored Envoy API in ${apiDir} is not data-plane-api's (re-run tools/vendor-envoy-api.ts):\n${problems.join("\n")}`);
  const packageDir = path.dirname(require.resolve(`${ENVOY_API.depsPackage}/package.json`));
  const installed = (JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { version: string }).version;
  if (installed !== ENVOY_API.depsVersion) {
    // The xds/udpa/validate commits in ENVOY_API were read for one package version; another may vendor others.
    throw new Error(`${ENVOY_API.depsPackage} ${installed} is installed, ENVOY_API names ${ENVOY_API.depsVersion}: re-check the protos it provides`);
  }
  const deps = path.join(packageDir, "deps");
  // envoy/ resolves to the vendored protos only (the package ships older ones). descriptor.proto
  // (extended by the annotation protos) comes from protobufjs; the other google/protobuf files
  // are bundled inside protobufjs and never reach resolvePath.
  const includeDirs = ["xds", "protoc-gen-validate", "googleapis"].map((dir) => path.join(deps, dir)).concat(path.dirname(require.resolve("protobufjs/package.json")));
  const vendored = new Set(manifest.files.map((f) => f.path));
  const locate = (name: string): string | undefined =>
    name.startsWith("envoy/") ? (vendored.has(name) ? path.join(apiDir, name) : undefined) : includeDirs.map((dir) => path.join(dir, name)).find((p) => fs.existsSync(p));
  const bundled = new Set(["any", "duration", "empty", "field_mask", "struct", "timestamp", "wrappers"].map((n) => `google/protobuf/${n}.proto`));

  // Entry points: every vendored proto, and the xds/udpa types that can appear in an Any.
  const entries = [
    ...manifest.files.map((f) => path.join(apiDir, f.path)),
    ...protoFiles(path.join(deps, "xds", "xds", "type")),
    ...protoFiles(path.join(deps, "xds", "udpa", "type")),
  ].sort();

  // The package leaves out a few third-party protos (OpenTelemetry, Prometheus); the files that
  // import them, directly or not, are skipped and their messages named as unavailable.
  const resolved = new Map<string, string>();
  const missing = new Map<string, string>();
  const imports = (file: string): string[] => [...fs.readFileSync(file, "utf8").matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm)].map((m) => m[1]!);
  const missingImportOf = (file: string, seen: Set<string>): string | undefined => {
    if (missing.has(file)) return missing.get(file) || undefined;
    if (seen.has(file)) return undefined;
    seen.add(file);
    let found: string | undefined;
    for (const name of imports(file)) {
      if (bundled.has(name)) continue;
      const target = resolved.get(name) ?? locate(name);
      if (!target) {
        found = name;
        break;
      }
      resolved.set(name, target);
      found = missingImportOf(target, seen);
      if (found) break;
    }
    missing.set(file, found ?? "");
    return found;
  };
  const loadable: string[] = [];
  const unavailable = new Map<string, string>();
  const skippedFiles: string[] = [];
  for (const file of entries) {
    const lacking = missingImportOf(file, new Set());
    if (!lacking) {
      loadable.push(file);
      continue;
    }
    const relative = path.relative(apiDir, file);
    skippedFiles.push(relative);
    const parsed = protobuf.parse(fs.readFileSync(file, "utf8"), { keepCase: true });
    for (const name of messageNamesOf(parsed.root)) {
      unavailable.set(name, `its proto ${relative} imports ${lacking}, which ${ENVOY_API.depsPackage} does not ship`);
    }
  }

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : (resolved.get(target) ?? target));
  root.loadSync(loadable, { keepCase: true });
  root.resolveAll();
  const messageNames = messageNamesOf(root).sort();
  const stats: EnvoyApiStats = {
    loadMilliseconds: Math.round(performance.now() - started),
    protoFiles: root.files.length,
    skippedFiles,
    unenforcedRules: unenforcedRuleKinds(root),
  };
  cached = { root, unavailable, messageNames, stats };
  return cached;
}

function protoFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".proto"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

function messageNamesOf(ns: protobuf.NamespaceBase): string[] {
  const names: string[] = [];
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) names.push(nested.fullName.slice(1));
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) names.push(...messageNamesOf(nested));
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// YAML -> the JSON value Envoy builds from it (yaml_utility.cc parseYamlNode over yaml-cpp).

function yamlToEnvoyJson(doc: Document, node: unknown, depth = 0): Json {
  if (depth > 200) throw new Error("YAML nesting deeper than 200 (alias loop?)");
  if (isAlias(node)) return yamlToEnvoyJson(doc, node.resolve(doc), depth + 1);
  if (isMap(node)) {
    const out: JsonObject = {};
    for (const pair of node.items) {
      // Envoy skips keys tagged !ignore (a place for YAML anchors).
      if (isScalar(pair.key) && pair.key.tag === "!ignore") continue;
      const key = isScalar(pair.key) ? scalarText(pair.key) : String(pair.key);
      // defineProperty: a "__proto__" key stays a key.
      Object.defineProperty(out, key, {
        value: yamlToEnvoyJson(doc, pair.value, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (isSeq(node)) return node.items.map((item) => yamlToEnvoyJson(doc, item, depth + 1));
  if (isScalar(node)) return envoyScalar(node);
  return null;
}

function scalarText(node: Scalar): string {
  return node.type === "PLAIN" ? (node.source ?? String(node.value ?? "")) : String(node.value ?? "");
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** One scalar as Envoy sees it: quoted and block scalars are strings; plain ones as yaml-cpp decodes them. */
function envoyScalar(node: Scalar): Json {
  if (node.type !== "PLAIN") return String(node.value ?? "");
  const text = node.source ?? String(node.value ?? "");
  if (text === "" || text === "~" || text === "null" || text === "Null" || text === "NULL") return null;
  const bool = yamlCppBool(text);
  if (bool !== undefined) return bool;
  // yaml-cpp reads ints with base auto-detection (0x hex, leading 0 octal) into int64.
  const int = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (int) {
    const digits = int[2]!;
    const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith("0") ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
    const value = int[1] === "-" ? -magnitude : magnitude;
    if (value >= INT64_MIN && value <= INT64_MAX) {
      return value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX) ? Number(value) : value.toString();
    }
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    const value = Number(text);
    if (Number.isFinite(value)) return value;
  }
  if (/^[+]?\.(inf|Inf|INF)$/.test(text)) return "Infinity";
  if (/^-\.(inf|Inf|INF)$/.test(text)) return "-Infinity";
  if (/^\.(nan|NaN|NAN)$/.test(text)) return "NaN";
  return text;
}

/** yaml-cpp's bool: y/n, yes/no, true/false, on/off in lower, UPPER or Capitalized case. */
function yamlCppBool(text: string): boolean | undefined {
  const rest = text.slice(1);
  const flexible = text === text.toLowerCase() || (/^[A-Z]/.test(text) && (rest === rest.toLowerCase() || rest === rest.toUpperCase()));
  if (!flexible) return undefined;
  const lower = text.toLowerCase();
  if (["y", "yes", "true", "on"].includes(lower)) return true;
  if (["n", "no", "false", "off"].includes(lower)) return false;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Scalars by proto type, as the proto3 JSON parser accepts them.

type Parsed = { readonly ok: true; readonly value: number | bigint | string | boolean } | { readonly ok: false; readonly reason: string };

const INT_RANGES: Record<string, readonly [bigint, bigint]> = {
  int32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  sint32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  sfixed32: [BigInt(INT32_MIN), BigInt(INT32_MAX)],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [INT64_MIN, INT64_MAX],
  sint64: [INT64_MIN, INT64_MAX],
  sfixed64: [INT64_MIN, INT64_MAX],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const FLOAT_MAX = 3.4028234663852886e38;

function describe(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function parseScalar(kind: string, value: Json): Parsed {
  const range = INT_RANGES[kind];
  if (range) {
    const expected = `expected ${kind.includes("64") ? "a 64-bit" : "an"} integer (${kind}: a number or a string of digits), got ${describe(value)}`;
    // protobuf's JSON parser takes integers as numbers or strings, and integral floats ("1e3").
    let n: bigint;
    if (typeof value === "number" && Number.isInteger(value)) n = BigInt(value);
    else if (typeof value === "string" && /^-?\d+$/.test(value)) n = BigInt(value);
    else if (typeof value === "string" && /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) && Number.isSafeInteger(Number(value))) n = BigInt(Number(value));
    else if (typeof value === "number" && Number.isFinite(value))
      return {
        ok: false,
        reason: `expected an integer (${kind}), got the number ${value}, which has a fractional part`,
      };
    else return { ok: false, reason: expected };
    if (n < range[0] || n > range[1]) return { ok: false, reason: `${n} is out of range for ${kind} [${range[0]}, ${range[1]}]` };
    return { ok: true, value: kind.includes("64") ? n : Number(n) };
  }
  switch (kind) {
    case "double":
    case "float": {
      let n: number;
      if (typeof value === "number") n = value;
      else if (value === "NaN") n = NaN;
      else if (value === "Infinity") n = Infinity;
      else if (value === "-Infinity") n = -Infinity;
      else if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) n = Number(value);
      else return { ok: false, reason: `expected a ${kind} (a number), got ${describe(value)}` };
      if (kind === "float" && Number.isFinite(n) && Math.abs(n) > FLOAT_MAX) return { ok: false, reason: `${n} is out of range for float` };
      return { ok: true, value: n };
    }
    case "bool":
      return typeof value === "boolean" ? { ok: true, value } : { ok: false, reason: `expected a bool (true or false), got ${describe(value)}` };
    case "string":
      return typeof value === "string"
        ? { ok: true, value }
        : {
            ok: false,
            reason: `expected a string, got ${describe(value)}${typeof value === "number" || typeof value === "boolean" ? " (quote it)" : ""}`,
          };
    case "bytes":
      return typeof value === "string" && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)
        ? { ok: true, value }
        : { ok: false, reason: `expected bytes as a base64 string, got ${describe(value)}` };
    default:
      return { ok: false, reason: `unsupported scalar type ${kind}` };
  }
}

const MAX_DURATION_SECONDS = 315_576_000_000n;

/** A google.protobuf.Duration in JSON ("1.5s"), as nanoseconds. */
function parseDuration(value: Json): { ok: true; nanos: bigint } | { ok: false; reason: string } {
  const bad = {
    ok: false as const,
    reason: `expected a duration string such as "1.5s" or "300s", got ${describe(value)}`,
  };
  if (typeof value !== "string") return bad;
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(value);
  if (!m) return bad;
  const seconds = BigInt(m[2]!);
  if (seconds > MAX_DURATION_SECONDS) return { ok: false, reason: `duration ${value} exceeds ${MAX_DURATION_SECONDS}s` };
  const nanos = seconds * 1_000_000_000n + BigInt((m[3] ?? "").padEnd(9, "0"));
  return { ok: true, nanos: m[1] ? -nanos : nanos };
}

function durationText(nanos: bigint): string {
  const sign = nanos < 0n ? "-" : "";
  const abs = nanos < 0n ? -nanos : nanos;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return `${sign}${abs / 1_000_000_000n}${frac ? `.${frac}` : ""}s`;
}

const WRAPPERS: Record<string, string> = {
  "google.protobuf.DoubleValue": "double",
  "google.protobuf.FloatValue": "float",
  "google.protobuf.Int64Value": "int64",
  "google.protobuf.UInt64Value": "uint64",
  "google.protobuf.Int32Value": "int32",
  "google.protobuf.UInt32Value": "uint32",
  "google.protobuf.BoolValue": "bool",
  "google.protobuf.StringValue": "string",
  "google.protobuf.BytesValue": "bytes",
};
/** Types whose JSON form is not an object of fields; inside an Any they sit under "value". */
const SPECIAL_JSON = new Set([
  ...Object.keys(WRAPPERS),
  "google.protobuf.Any",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.FieldMask",
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);
const TYPED_STRUCTS = new Set(["xds.type.v3.TypedStruct", "udpa.type.v1.TypedStruct"]);
const TYPE_URL_PREFIX = "type.googleapis.com/";

// ---------------------------------------------------------------------------------------------
// PGV rules (validate.proto). Kinds listed here are evaluated; others are reported by envoyApiStats.

type Rules = { readonly [key: string]: unknown };
const NUMERIC_RULE_KINDS = ["float", "double", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"];
const ENFORCED_RULES = new Set([
  "message.required",
  "message.skip",
  ...[...NUMERIC_RULE_KINDS, "string", "bytes", "repeated", "map"].map((k) => `${k}.ignore_empty`),
  ...NUMERIC_RULE_KINDS.flatMap((k) => ["const", "lt", "lte", "gt", "gte", "in", "not_in"].map((r) => `${k}.${r}`)),
  "bool.const",
  ...[
    "const",
    "len",
    "min_len",
    "max_len",
    "len_bytes",
    "min_bytes",
    "max_bytes",
    "pattern",
    "prefix",
    "suffix",
    "contains",
    "not_contains",
    "in",
    "not_in",
    "well_known_regex",
    "strict",
  ].map((r) => `string.${r}`),
  "bytes.min_len",
  "bytes.max_len",
  "bytes.len",
  "enum.defined_only",
  "enum.const",
  "enum.in",
  "enum.not_in",
  "repeated.min_items",
  "repeated.max_items",
  "repeated.unique",
  "repeated.items",
  "map.min_pairs",
  "map.max_pairs",
  "map.keys",
  "map.values",
  "any.required",
  "any.in",
  "any.not_in",
  ...["required", "const", "lt", "lte", "gt", "gte", "in", "not_in"].map((r) => `duration.${r}`),
]);

const rulesCache = new WeakMap<protobuf.FieldBase, Rules | undefined>();

/** The field's (validate.rules), merged from however many option statements declare them. */
function fieldRules(field: protobuf.FieldBase): Rules | undefined {
  if (rulesCache.has(field)) return rulesCache.get(field);
  const rules = mergedRules(field);
  rulesCache.set(field, rules);
  return rules;
}

function mergedRules(field: protobuf.FieldBase): Rules | undefined {
  const merged: Record<string, unknown> = {};
  for (const option of (field as { parsedOptions?: Record<string, unknown>[] }).parsedOptions ?? []) {
    const rules = option["(validate.rules)"];
    if (rules && typeof rules === "object") deepMerge(merged, rules as Record<string, unknown>);
  }
  return Object.keys(merged).length ? merged : undefined;
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    const existing = into[key];
    if (existing && typeof existing === "object" && !Array.isArray(existing) && value && typeof value === "object" && !Array.isArray(value)) {
      deepMerge(existing as Record<string, unknown>, value as Record<string, unknown>);
    } else into[key] = value;
  }
}

function unenforcedRuleKinds(root: protobuf.Root): string[] {
  const found = new Set<string>();
  const collect = (rules: unknown, prefix: string): void => {
    for (const [kind, body] of Object.entries(rules as Record<string, unknown>)) {
      for (const [rule, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
        const name = `${prefix}${kind}.${rule}`;
        if ((rule === "items" || rule === "keys" || rule === "values") && value && typeof value === "object") {
          found.add(name);
          collect(value, `${name}.`);
        } else found.add(name);
      }
    }
  };
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type)
        for (const field of nested.fieldsArray) {
          const rules = fieldRules(field);
          if (rules) collect(rules, "");
        }
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(root);
  return [...found]
    .map((name) => name.replace(/^(?:(?:repeated\.items|map\.keys|map\.values)\.)+/, ""))
    .filter((name) => !ENFORCED_RULES.has(name))
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

const HEADER_REGEXES: Record<string, RegExp> = {
  // module/checker.go: HTTP_HEADER_NAME, HTTP_HEADER_VALUE, and HEADER_STRING for strict: false.
  HTTP_HEADER_NAME: /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: PGV's header rules exclude control characters
  HTTP_HEADER_VALUE: /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: PGV's header rules exclude NUL, LF and CR
  HEADER_STRING: /^[^\u0000\u000A\u000D]*$/,
};

const patternCache = new Map<string, RegExp>();
/** PGV C++ uses RE2::FullMatch: the whole value must match. */
function fullMatch(pattern: string, value: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, "u");
    patternCache.set(pattern, re);
  }
  return re.test(value);
}

function num(value: unknown): number | bigint {
  if (typeof value === "bigint" || typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+$/.test(value)) return BigInt(value);
  return Number(value);
}

/** Numeric const/in/not_in/lt/lte/gt/gte; lower bound above upper bound means "outside" (PGV ltgt). */
function numericViolation(rules: Rules, value: number | bigint, show: (v: unknown) => string): { rule: string; reason: string } | undefined {
  // A rule's bound and the value may be a number and a bigint: loose equality compares them by value.
  // biome-ignore lint/suspicious/noDoubleEquals: number against bigint
  const equal = (a: number | bigint, b: number | bigint): boolean => a == b;
  if (rules.const !== undefined && !equal(num(rules.const), value)) return { rule: "const", reason: `must equal ${show(rules.const)}` };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  const inList = list(rules.in);
  if (inList.length && !inList.some((x) => equal(num(x), value))) return { rule: "in", reason: `must be one of ${inList.map(show).join(", ")}` };
  if (list(rules.not_in).some((x) => equal(num(x), value))) return { rule: "not_in", reason: `must not be ${show(value)}` };
  const lowKey = rules.gt !== undefined ? "gt" : rules.gte !== undefined ? "gte" : undefined;
  const highKey = rules.lt !== undefined ? "lt" : rules.lte !== undefined ? "lte" : undefined;
  const low = lowKey ? num(rules[lowKey]) : undefined;
  const high = highKey ? num(rules[highKey]) : undefined;
  const lowOk = low === undefined || (lowKey === "gt" ? value > low : value >= low);
  const highOk = high === undefined || (highKey === "lt" ? value < high : value <= high);
  const lowText = lowKey ? `${lowKey === "gt" ? ">" : ">="} ${show(rules[lowKey])}` : "";
  const highText = highKey ? `${highKey === "lt" ? "<" : "<="} ${show(rules[highKey])}` : "";
  if (low !== undefined && high !== undefined && high < low) {
    return lowOk || highOk ? undefined : { rule: `${highKey}/${lowKey}`, reason: `must be ${highText} or ${lowText}` };
  }
  if (lowOk && highOk) return undefined;
  return { rule: (lowOk ? highKey : lowKey)!, reason: `must be ${[lowText, highText].filter(Boolean).join(" and ")}` };
}

function durationRuleNanos(value: unknown): bigint {
  const d = (value ?? {}) as { seconds?: unknown; nanos?: unknown };
  return BigInt(String(d.seconds ?? 0)) * 1_000_000_000n + BigInt(String(d.nanos ?? 0));
}

// ---------------------------------------------------------------------------------------------
// The walk over the document.

class Judge {
  readonly errors: string[] = [];
  private readonly lookups = new Map<protobuf.Type, Map<string, protobuf.Field>>();

  constructor(private readonly api: EnvoyApi) {}

  private fail(at: string, reason: string): void {
    this.errors.push(`${at || "(root)"}: ${reason}`);
  }

  private fieldsByJsonKey(type: protobuf.Type): Map<string, protobuf.Field> {
    let map = this.lookups.get(type);
    if (!map) {
      map = new Map();
      for (const field of type.fieldsArray) {
        map.set(field.name, field);
        map.set(jsonName(field), field);
      }
      this.lookups.set(type, map);
    }
    return map;
  }

  message(type: protobuf.Type, value: Json, at: string, pgv: boolean): void {
    const name = type.fullName.slice(1);
    if (name === "google.protobuf.Any") return this.any(value, at, pgv);
    if (name === "google.protobuf.Duration") {
      const d = parseDuration(value);
      if (!d.ok) this.fail(at, d.reason);
      return;
    }
    if (name === "google.protobuf.Timestamp") {
      if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
        this.fail(at, `expected an RFC 3339 timestamp string, got ${describe(value)}`);
      }
      return;
    }
    if (name === "google.protobuf.FieldMask") {
      if (typeof value !== "string" || !/^[A-Za-z0-9.,]*$/.test(value)) this.fail(at, `expected a field mask string ("a,b.c"), got ${describe(value)}`);
      return;
    }
    if (name === "google.protobuf.Struct") {
      if (!isObject(value)) this.fail(at, `expected a mapping (google.protobuf.Struct), got ${describe(value)}`);
      return;
    }
    if (name === "google.protobuf.ListValue") {
      if (!Array.isArray(value)) this.fail(at, `expected a list (google.protobuf.ListValue), got ${describe(value)}`);
      return;
    }
    if (name === "google.protobuf.Value") return;
    const wrapped = WRAPPERS[name];
    if (wrapped) {
      const parsed = parseScalar(wrapped, value);
      if (!parsed.ok) this.fail(at, `${parsed.reason} (${name})`);
      return;
    }
    if (!isObject(value)) return this.fail(at, `expected a mapping (message ${name}), got ${describe(value)}`);
    this.fields(type, value, at, pgv);
  }

  private fields(type: protobuf.Type, value: JsonObject, at: string, pgv: boolean, skipKeys: ReadonlySet<string> = new Set()): void {
    const name = type.fullName.slice(1);
    const byKey = this.fieldsByJsonKey(type);
    const seen = new Map<protobuf.Field, string>();
    for (const [key, child] of Object.entries(value)) {
      if (skipKeys.has(key)) continue;
      const childAt = at ? `${at}.${key}` : key;
      const field = byKey.get(key);
      if (!field) {
        this.fail(childAt, unknownFieldReason(type, key));
        continue;
      }
      const earlier = seen.get(field);
      if (earlier !== undefined) {
        this.fail(childAt, `field ${field.name} is set twice (as "${earlier}" and "${key}")`);
        continue;
      }
      seen.set(field, key);
      if (field.options?.["(envoy.annotations.disallowed_by_default)"] === true) {
        this.fail(childAt, `${field.name} is deprecated and disallowed by default in Envoy`);
      }
      if (child === null) continue; // proto3 JSON: null leaves the field unset
      this.field(field, child, childAt, pgv);
    }
    const setNames = (oneof: protobuf.OneOf): string[] => oneof.fieldsArray.filter((f) => seen.has(f) && (value[seen.get(f)!] !== null || isValueType(f))).map((f) => seen.get(f)!);
    for (const oneof of type.oneofsArray) {
      const set = setNames(oneof);
      if (set.length > 1) {
        this.fail(at, `oneof ${oneof.name} of ${name} takes at most one member, got ${set.join(", ")}`);
      } else if (pgv && set.length === 0 && oneof.options?.["(validate.required)"] === true) {
        this.fail(at, `oneof ${oneof.name} of ${name} requires one of ${oneof.fieldsArray.map((f) => f.name).join(", ")} [PGV validate.required]`);
      }
    }
    if (!pgv || type.options?.["(validate.disabled)"] === true) return;
    for (const field of type.fieldsArray) {
      const rules = fieldRules(field);
      if (!rules) continue;
      const key = seen.get(field);
      const child = key === undefined ? undefined : value[key];
      this.rules(field, rules, child === null ? undefined : child, key === undefined ? (at ? `${at}.${field.name}` : field.name) : at ? `${at}.${key}` : key);
    }
  }

  private field(field: protobuf.FieldBase, value: Json, at: string, pgv: boolean): void {
    if (field instanceof protobuf.MapField) {
      if (!isObject(value)) return this.fail(at, `expected a mapping (map<${field.keyType}, ${field.type}>), got ${describe(value)}`);
      for (const [key, child] of Object.entries(value)) {
        const keyAt = `${at}[${JSON.stringify(key)}]`;
        const keyCheck = mapKey(field.keyType, key);
        if (keyCheck) this.fail(keyAt, keyCheck);
        if (child === null && !isValueType(field)) this.fail(keyAt, "a map value cannot be null");
        else this.single(field, child, keyAt, pgv);
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) return this.fail(at, `expected a list (repeated ${typeLabel(field)}), got ${describe(value)}`);
      value.forEach((item, i) => {
        if (item === null && !isValueType(field)) this.fail(`${at}[${i}]`, "a list element cannot be null");
        else this.single(field, item, `${at}[${i}]`, pgv);
      });
      return;
    }
    this.single(field, value, at, pgv);
  }

  private single(field: protobuf.FieldBase, value: Json, at: string, pgv: boolean): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const skip = fieldRules(field)?.message as Rules | undefined;
      return this.message(resolved, value, at, pgv && skip?.skip !== true);
    }
    if (resolved instanceof protobuf.Enum) {
      const problem = enumProblem(resolved, value);
      if (problem) this.fail(at, problem);
      return;
    }
    const parsed = parseScalar(field.type, value);
    if (!parsed.ok) this.fail(at, parsed.reason);
  }

  private any(value: Json, at: string, pgv: boolean): void {
    if (!isObject(value)) return this.fail(at, `expected a mapping with "@type" (google.protobuf.Any), got ${describe(value)}`);
    const typeUrl = value["@type"];
    if (typeUrl === undefined) return this.fail(at, `"@type" is missing (google.protobuf.Any)`);
    const typeAt = `${at}.@type`;
    const type = this.resolveTypeUrl(typeUrl, typeAt);
    if (!type) return;
    const name = type.fullName.slice(1);
    if (SPECIAL_JSON.has(name)) {
      for (const key of Object.keys(value)) if (key !== "@type" && key !== "value") this.fail(`${at}.${key}`, `unknown key in an Any of ${name} (only "value")`);
      if (value.value !== undefined && value.value !== null) this.message(type, value.value, `${at}.value`, pgv);
      return;
    }
    this.fields(type, value, at, pgv, new Set(["@type"]));
    if (TYPED_STRUCTS.has(name)) this.typedStruct(value, at, pgv);
  }

  /** Envoy turns a TypedStruct into the message its type_url names; check the value as that message. */
  private typedStruct(value: JsonObject, at: string, pgv: boolean): void {
    const url = value.type_url ?? value.typeUrl;
    if (typeof url !== "string") return;
    const name = url.slice(url.lastIndexOf("/") + 1);
    const type = this.api.root.lookup(`.${name}`, [protobuf.Type]);
    if (!(type instanceof protobuf.Type)) return this.fail(`${at}.type_url`, unresolvedTypeReason(this.api, name));
    const inner = value.value;
    if (inner !== undefined && inner !== null) this.message(type, inner, `${at}.value`, pgv);
  }

  private resolveTypeUrl(typeUrl: Json, at: string): protobuf.Type | undefined {
    if (typeof typeUrl !== "string") {
      this.fail(at, `expected a type URL string, got ${describe(typeUrl)}`);
      return undefined;
    }
    if (!typeUrl.startsWith(TYPE_URL_PREFIX)) {
      this.fail(at, `type URL ${JSON.stringify(typeUrl)} must be ${TYPE_URL_PREFIX}<full message name>`);
      return undefined;
    }
    const name = typeUrl.slice(TYPE_URL_PREFIX.length);
    const type = /^[A-Za-z_][\w.]*$/.test(name) ? this.api.root.lookup(`.${name}`, [protobuf.Type]) : null;
    if (type instanceof protobuf.Type) return type;
    this.fail(at, unresolvedTypeReason(this.api, name));
    return undefined;
  }

  private rules(field: protobuf.Field, rules: Rules, value: Json | undefined, at: string): void {
    const set = value !== undefined;
    if (field instanceof protobuf.MapField) {
      const map = rules.map as Rules | undefined;
      if (!map) return;
      const entries = isObject(value) ? Object.entries(value) : set ? undefined : [];
      if (!entries || (map.ignore_empty === true && entries.length === 0)) return;
      const count = BigInt(entries.length);
      if (map.min_pairs !== undefined && count < num(map.min_pairs)) this.pgvFail(at, `needs at least ${map.min_pairs} entries, has ${count}`, "map.min_pairs");
      if (map.max_pairs !== undefined && count > num(map.max_pairs)) this.pgvFail(at, `takes at most ${map.max_pairs} entries, has ${count}`, "map.max_pairs");
      for (const [key, child] of entries) {
        const keyAt = `${at}[${JSON.stringify(key)}]`;
        if (map.keys) this.valueRules(field.keyType, null, map.keys as Rules, typedMapKey(field.keyType, key), keyAt, "map.keys.");
        if (map.values && child !== null) this.valueRules(field.type, field.resolvedType, map.values as Rules, child, keyAt, "map.values.");
      }
      return;
    }
    if (field.repeated) {
      const rep = rules.repeated as Rules | undefined;
      if (!rep) return;
      const items = Array.isArray(value) ? value : set ? undefined : [];
      if (!items || (rep.ignore_empty === true && items.length === 0)) return;
      const count = BigInt(items.length);
      if (rep.min_items !== undefined && count < num(rep.min_items)) {
        this.pgvFail(at, `needs at least ${rep.min_items} item${rep.min_items === 1 ? "" : "s"}, has ${count}${set ? "" : " (unset)"}`, "repeated.min_items");
      }
      if (rep.max_items !== undefined && count > num(rep.max_items)) this.pgvFail(at, `takes at most ${rep.max_items} items, has ${count}`, "repeated.max_items");
      if (rep.unique === true) {
        const texts = items.map((item) => JSON.stringify(item));
        texts.forEach((text, i) => {
          if (texts.indexOf(text) !== i) this.pgvFail(`${at}[${i}]`, `repeats an earlier item (${text})`, "repeated.unique");
        });
      }
      if (rep.items) {
        items.forEach((item, i) => {
          if (item !== null) this.valueRules(field.type, field.resolvedType, rep.items as Rules, item, `${at}[${i}]`, "repeated.items.");
        });
      }
      return;
    }
    // A oneof member's rules apply only when it is the member set (PGV C++ switches on the case).
    if (!set && field.partOf) return;
    const messageRules = rules.message as Rules | undefined;
    if (messageRules?.required === true && !set) return this.pgvFail(at, "is required", "message.required");
    if (field.resolvedType instanceof protobuf.Type) {
      const durationRules = rules.duration as Rules | undefined;
      if (durationRules?.required === true && !set) return this.pgvFail(at, "is required", "duration.required");
      const anyRules = rules.any as Rules | undefined;
      if (anyRules?.required === true && !set) return this.pgvFail(at, "is required", "any.required");
      if (!set) return;
      return this.valueRules(field.type, field.resolvedType, rules, value, at, "");
    }
    // Unset proto3 scalars are checked as their default value.
    this.valueRules(field.type, field.resolvedType, rules, set ? value : defaultJson(field), at, "", !set);
  }

  /** Rules of one value: a scalar, an enum, a wrapper's inner value, a Duration or an Any. */
  private valueRules(typeName: string, resolved: protobuf.Type | protobuf.Enum | null, rules: Rules, value: Json, at: string, prefix: string, unset = false): void {
    const unsetNote = unset ? " (unset)" : "";
    if (resolved instanceof protobuf.Type) {
      const name = resolved.fullName.slice(1);
      if (name === "google.protobuf.Duration" && rules.duration) {
        const d = parseDuration(value);
        if (!d.ok) return;
        // Bounds are Duration messages ({seconds, nanos}); compare in nanoseconds.
        const bounds = Object.fromEntries(
          Object.entries(rules.duration as Rules)
            .filter(([key]) => key !== "required")
            .map(([key, bound]) => [key, Array.isArray(bound) ? bound.map(durationRuleNanos) : durationRuleNanos(bound)]),
        );
        const problem = numericViolation(bounds, d.nanos, (v) => durationText(v as bigint));
        if (problem) this.pgvFail(at, `${problem.reason}, got ${String(value)}`, `${prefix}duration.${problem.rule}`);
        return;
      }
      if (name === "google.protobuf.Any" && rules.any && isObject(value)) {
        const any = rules.any as Rules;
        const url = value["@type"];
        const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
        if (list(any.in).length && !list(any.in).includes(url)) this.pgvFail(at, `@type must be one of ${list(any.in).join(", ")}`, `${prefix}any.in`);
        if (list(any.not_in).includes(url)) this.pgvFail(at, `@type must not be ${String(url)}`, `${prefix}any.not_in`);
        return;
      }
      const wrapped = WRAPPERS[name];
      if (wrapped) return this.valueRules(wrapped, null, rules, value, at, prefix);
      return;
    }
    if (resolved instanceof protobuf.Enum) {
      const enumRules = rules.enum as Rules | undefined;
      if (!enumRules) return;
      const number = typeof value === "number" ? value : typeof value === "string" ? enumNumber(resolved, value) : undefined;
      if (number === undefined) return; // reported by the type check
      const problem = numericViolation({ const: enumRules.const, in: enumRules.in, not_in: enumRules.not_in }, number, (v) => enumLabel(resolved, Number(v)));
      if (problem) this.pgvFail(at, `${problem.reason}, got ${enumLabel(resolved, number)}${unsetNote}`, `${prefix}enum.${problem.rule}`);
      return;
    }
    const parsed = parseScalar(typeName, value);
    if (!parsed.ok) return;
    // ignore_empty (newer PGV than the vendored validate.proto, used by Envoy's protos): skip empty values.
    const kindRules = rules[typeName] as Rules | undefined;
    if (kindRules?.ignore_empty === true && (parsed.value === "" || parsed.value === 0 || parsed.value === 0n)) return;
    if (typeName === "string" && rules.string) return this.stringRules(rules.string as Rules, String(parsed.value), at, prefix, unsetNote);
    if (typeName === "bytes" && rules.bytes) {
      const b = rules.bytes as Rules;
      const length = BigInt(Buffer.from(String(parsed.value), "base64").length);
      if (b.len !== undefined && length !== num(b.len)) this.pgvFail(at, `must be ${b.len} bytes, is ${length}${unsetNote}`, `${prefix}bytes.len`);
      if (b.min_len !== undefined && length < num(b.min_len)) this.pgvFail(at, `needs at least ${b.min_len} bytes, has ${length}${unsetNote}`, `${prefix}bytes.min_len`);
      if (b.max_len !== undefined && length > num(b.max_len)) this.pgvFail(at, `takes at most ${b.max_len} bytes, has ${length}`, `${prefix}bytes.max_len`);
      return;
    }
    if (typeName === "bool" && rules.bool) {
      const c = (rules.bool as Rules).const;
      if (c !== undefined && c !== parsed.value) this.pgvFail(at, `must be ${String(c)}${unsetNote}`, `${prefix}bool.const`);
      return;
    }
    if (kindRules && (typeof parsed.value === "number" || typeof parsed.value === "bigint")) {
      const problem = numericViolation(kindRules, parsed.value, String);
      if (problem) this.pgvFail(at, `${problem.reason}, got ${String(parsed.value)}${unsetNote}`, `${prefix}${typeName}.${problem.rule}`);
    }
  }

  private stringRules(s: Rules, value: string, at: string, prefix: string, unsetNote: string): void {
    const rule = (name: string): string => `${prefix}string.${name}`;
    const chars = BigInt([...value].length);
    const bytes = BigInt(Buffer.byteLength(value, "utf8"));
    const shown = value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}...` : JSON.stringify(value);
    if (s.const !== undefined && value !== s.const) this.pgvFail(at, `must be ${JSON.stringify(s.const)}, got ${shown}`, rule("const"));
    if (s.len !== undefined && chars !== num(s.len)) this.pgvFail(at, `must be ${s.len} characters, got ${shown}`, rule("len"));
    if (s.min_len !== undefined && chars < num(s.min_len)) {
      this.pgvFail(at, `must be at least ${s.min_len} character${s.min_len === 1 ? "" : "s"}, got ${shown}${unsetNote}`, rule("min_len"));
    }
    if (s.max_len !== undefined && chars > num(s.max_len)) this.pgvFail(at, `must be at most ${s.max_len} characters, has ${chars}`, rule("max_len"));
    if (s.len_bytes !== undefined && bytes !== num(s.len_bytes)) this.pgvFail(at, `must be ${s.len_bytes} bytes, has ${bytes}`, rule("len_bytes"));
    if (s.min_bytes !== undefined && bytes < num(s.min_bytes)) this.pgvFail(at, `must be at least ${s.min_bytes} bytes, got ${shown}${unsetNote}`, rule("min_bytes"));
    if (s.max_bytes !== undefined && bytes > num(s.max_bytes)) this.pgvFail(at, `must be at most ${s.max_bytes} bytes, has ${bytes}`, rule("max_bytes"));
    if (typeof s.pattern === "string" && !fullMatch(s.pattern, value)) this.pgvFail(at, `must match ${s.pattern}, got ${shown}${unsetNote}`, rule("pattern"));
    if (typeof s.prefix === "string" && !value.startsWith(s.prefix)) this.pgvFail(at, `must start with ${JSON.stringify(s.prefix)}`, rule("prefix"));
    if (typeof s.suffix === "string" && !value.endsWith(s.suffix)) this.pgvFail(at, `must end with ${JSON.stringify(s.suffix)}`, rule("suffix"));
    if (typeof s.contains === "string" && !value.includes(s.contains)) this.pgvFail(at, `must contain ${JSON.stringify(s.contains)}`, rule("contains"));
    if (typeof s.not_contains === "string" && value.includes(s.not_contains)) this.pgvFail(at, `must not contain ${JSON.stringify(s.not_contains)}`, rule("not_contains"));
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
    if (list(s.in).length && !list(s.in).includes(value))
      this.pgvFail(
        at,
        `must be one of ${list(s.in)
          .map((x) => JSON.stringify(x))
          .join(", ")}, got ${shown}`,
        rule("in"),
      );
    if (list(s.not_in).includes(value)) this.pgvFail(at, `must not be ${shown}`, rule("not_in"));
    const known = s.well_known_regex;
    if (known === "HTTP_HEADER_NAME" || known === "HTTP_HEADER_VALUE") {
      const re = s.strict === false ? HEADER_REGEXES.HEADER_STRING! : HEADER_REGEXES[known]!;
      if (!re.test(value))
        this.pgvFail(
          at,
          `must be a valid ${known === "HTTP_HEADER_NAME" ? "header name" : "header value"}${s.strict === false ? " (no NUL, CR or LF)" : ""}, got ${shown}`,
          rule("well_known_regex"),
        );
    }
  }

  private pgvFail(at: string, reason: string, rule: string): void {
    this.fail(at, `${reason} [PGV ${rule}]`);
  }
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isValueType(field: protobuf.FieldBase): boolean {
  return field.resolvedType?.fullName === ".google.protobuf.Value";
}

/** protobuf's ToJsonName: drop each underscore and capitalise the next letter (json_name wins). */
function jsonName(field: protobuf.Field): string {
  const explicit = field.options?.json_name;
  if (typeof explicit === "string") return explicit;
  return field.name.replace(/_+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase());
}

function typeLabel(field: protobuf.FieldBase): string {
  return field.resolvedType ? field.resolvedType.fullName.slice(1) : field.type;
}

function defaultJson(field: protobuf.Field): Json {
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  if (field.type === "string" || field.type === "bytes") return "";
  if (field.type === "bool") return false;
  return 0;
}

function mapKey(keyType: string, key: string): string | undefined {
  if (keyType === "string") return undefined;
  if (keyType === "bool") return key === "true" || key === "false" ? undefined : `expected a bool map key ("true" or "false"), got ${JSON.stringify(key)}`;
  const parsed = parseScalar(keyType, key);
  return parsed.ok ? undefined : `bad map key: ${parsed.reason}`;
}

function typedMapKey(keyType: string, key: string): Json {
  return keyType === "bool" ? key === "true" : key;
}

/** By name (Envoy parses with case_insensitive_enum_parsing) or a quoted number. */
function enumNumber(type: protobuf.Enum, name: string): number | undefined {
  if (Object.hasOwn(type.values, name)) return type.values[name];
  const match = Object.keys(type.values).find((n) => n.toLowerCase() === name.toLowerCase());
  if (match !== undefined) return type.values[match];
  return /^-?\d+$/.test(name) ? Number(name) : undefined;
}

function enumLabel(type: protobuf.Enum, number: number): string {
  const name = Object.keys(type.values).find((k) => type.values[k] === number);
  return name ?? String(number);
}

function enumProblem(type: protobuf.Enum, value: Json): string | undefined {
  const label = type.fullName.slice(1);
  const names = Object.keys(type.values);
  let name: string | undefined;
  if (typeof value === "string") {
    const number = enumNumber(type, value);
    if (number !== undefined && !Object.values(type.values).includes(number)) return `${value} is not a value of enum ${label}`;
    if (number === undefined) {
      const lowered = names.map((n) => n.toLowerCase());
      const near = closest(value.toLowerCase(), lowered);
      const hint = near === undefined ? undefined : names[lowered.indexOf(near)];
      return `${JSON.stringify(value)} is not a value of enum ${label}${hint ? `; did you mean ${hint}?` : ""} (values: ${names.join(", ")})`;
    }
    name = enumLabel(type, number);
  } else if (typeof value === "number" && Number.isInteger(value)) {
    if (!Object.values(type.values).includes(value)) return `${value} is not a value of enum ${label} (values: ${names.map((n) => `${n}=${type.values[n]}`).join(", ")})`;
    name = enumLabel(type, value);
  } else {
    return `expected a value of enum ${label} (a name or number), got ${describe(value)}`;
  }
  if (type.valuesOptions?.[name]?.["(envoy.annotations.disallowed_by_default_enum)"] === true) {
    return `${label}.${name} is deprecated and disallowed by default in Envoy`;
  }
  return undefined;
}

function unknownFieldReason(type: protobuf.Type, key: string): string {
  const name = type.fullName.slice(1);
  const reserved = type.isReservedName(key) || type.isReservedName(snakeCase(key));
  const names = type.fieldsArray.map((f) => f.name);
  const hint = closest(snakeCase(key), names) ?? names.find((n) => n.endsWith(`_${snakeCase(key)}`));
  return [
    `unknown field ${JSON.stringify(key)} in ${name}`,
    reserved ? "; the name is reserved there (a field removed from the API, often a v2 one)" : "",
    hint ? `; did you mean ${hint}?` : "",
  ].join("");
}

function unresolvedTypeReason(api: EnvoyApi, name: string): string {
  const unavailable = api.unavailable.get(name);
  if (unavailable) return `cannot check ${name}: ${unavailable}`;
  if (/^envoy\.(api\.v2|config\.[\w.]*\.v2(alpha\d*)?)\./.test(name) || /\.v2(alpha\d*)?\./.test(name)) {
    return `${name} is a v2 API type, which Envoy no longer accepts; use its v3 counterpart`;
  }
  if (/^envoy\.(service|admin|data)\./.test(name)) {
    return `${name} is not a configuration type: the judge loads Envoy's config, extension and type protos, not its service, admin or data protos (tools/vendor-envoy-api.ts)`;
  }
  const hint = closest(name, api.messageNames);
  return `unknown message type ${name} in the Envoy v3 API${hint ? `; did you mean ${hint}?` : ""}`;
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Judges an Envoy static config (YAML) as an envoy.config.bootstrap.v3.Bootstrap: fields, types,
 * enums, durations, Any payloads (recursively), oneofs and PGV rules. Returns one line per problem,
 * "<path>: <reason>", in document order; empty when the config passes.
 */
export function judgeEnvoyBootstrap(yamlText: string): string[] {
  const doc = parseDocument(yamlText, { uniqueKeys: true });
  if (doc.errors.length > 0) return doc.errors.map((e) => `(yaml): ${e.message.split("\n")[0]}`);
  let value: Json;
  try {
    value = yamlToEnvoyJson(doc, doc.contents);
  } catch (error) {
    return [`(yaml): ${(error as Error).message}`];
  }
  if (value === null) return ["(root): the document is empty (Envoy needs a mapping)"];
  if (!isObject(value)) return [`(root): expected a mapping (the Bootstrap), got ${describe(value)}`];
  const api = loadEnvoyApi();
  const judge = new Judge(api);
  judge.message(api.root.lookupType(ENVOY_API.rootMessage), value, "", true);
  return judge.errors;
}

/**
 * Judges one JSON value (a Consul escape hatch's text, say) as the named Envoy message, as
 * judgeEnvoyBootstrap judges a Bootstrap: "google.protobuf.Any" for a value with its "@type"
 * (envoy_listener_tracing_json), "envoy.config.cluster.v3.Cluster" for a static cluster.
 */
export function judgeEnvoyJson(messageType: string, jsonText: string): string[] {
  let value: Json;
  try {
    value = JSON.parse(jsonText) as Json;
  } catch (error) {
    return [`(json): ${(error as Error).message}`];
  }
  const api = loadEnvoyApi();
  const judge = new Judge(api);
  judge.message(api.root.lookupType(messageType), value, "", true);
  return judge.errors;
}
