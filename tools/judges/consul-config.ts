// Judges a rendered Consul configuration (HCL) against the key table of consul-reference.ts:
// unknown keys (with a did-you-mean), keys valid only elsewhere in the tree (with where they
// belong), wrong value types, deprecated, Enterprise-only and internal keys, and the places
// where Consul's builder refuses a key it parses. Every finding is one string naming the path.
import { parse } from "@cdktf/hcl2json";
import { AGENT_CONFIG, CONSUL_REFERENCE_VERSION, SERVICE_DEFINITION_FILE_KEYS, type KeySpec, type KeyTable } from "./consul-reference";
import { closest } from "../../lib/issues";
import { checkScalar, isObject } from "./consul-value-types";

/** "agent": any agent configuration file. "service-definition": a file that only registers services and checks. */
export type ConsulConfigKind = "agent" | "service-definition";

/** Parses the HCL with HashiCorp's HCL parser (@cdktf/hcl2json) and judges it; a parse failure is the single finding. */
export async function judgeConsulConfig(hcl: string, kind: ConsulConfigKind, filename = "config.hcl"): Promise<string[]> {
  let doc: unknown;
  try {
    doc = await parse(filename, hcl);
  } catch (error) {
    return [`${filename}: not valid HCL: ${error instanceof Error ? error.message : String(error)}`];
  }
  return judgeConsulDocument(doc, kind);
}

/** Judges an already parsed document (HCL2 JSON: blocks are lists of objects, attributes are values). */
export function judgeConsulDocument(doc: unknown, kind: ConsulConfigKind): string[] {
  const findings: string[] = [];
  if (!isObject(doc)) return ["(document): expected an object at the top level"];
  if (kind === "agent") {
    judgeTable(AGENT_CONFIG, doc, "", findings);
    return findings;
  }
  const allowed = Object.fromEntries(SERVICE_DEFINITION_FILE_KEYS.map((key) => [key, AGENT_CONFIG[key]!]));
  const services: Record<string, unknown> = {};
  for (const key of Object.keys(doc).sort()) {
    if (key in allowed) services[key] = doc[key];
    else if (AGENT_CONFIG[key]) findings.push(`${key}: an agent setting, not part of a service definition; move it to the agent configuration`);
    else findings.push(unknownKey(allowed, key, key, ""));
  }
  judgeTable(allowed, services, "", findings);
  return findings;
}

/** Counts the keys of a table, nested tables included (each place a key is valid counts once per table). */
export function countKeys(table: KeyTable = AGENT_CONFIG, seen = new Set<KeyTable>()): number {
  if (seen.has(table)) return 0;
  seen.add(table);
  let count = 0;
  for (const spec of Object.values(table)) {
    count += 1;
    if (spec.keys) count += countKeys(spec.keys, seen);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------

function judgeTable(table: KeyTable, obj: Readonly<Record<string, unknown>>, path: string, out: string[]): void {
  for (const key of Object.keys(obj).sort()) {
    const keyPath = join(path, key);
    const spec = table[key];
    if (!spec) {
      out.push(unknownKey(table, key, keyPath, path));
      continue;
    }
    if (spec.rejected) {
      out.push(`${keyPath}: ${spec.rejected}`);
      continue;
    }
    if (spec.deprecated !== undefined) {
      const instead = spec.deprecated === "" ? "remove it" : `use ${spec.deprecated}`;
      out.push(`${keyPath}: deprecated (Consul ${CONSUL_REFERENCE_VERSION} accepts it with a warning); ${instead}`);
    }
    if (spec.enterprise) out.push(`${keyPath}: a Consul Enterprise setting; the pinned Consul CE ${CONSUL_REFERENCE_VERSION} ignores or rejects it`);
    if (spec.internal) out.push(`${keyPath}: not user-configurable; Consul overwrites it with its own value`);
    checkValue(key, spec, obj[key], keyPath, out);
  }
  for (const [key, spec] of Object.entries(table)) {
    if (spec.required && !(key in obj)) out.push(`${path || "(top level)"}: missing ${key}, which Consul requires`);
  }
}

function checkValue(key: string, spec: KeySpec, value: unknown, path: string, out: string[]): void {
  const wrong = (expected: string) => out.push(`${path}: expected ${expected}, got ${describe(value)}`);
  const scalar = checkScalar(spec, value, path, describe);
  if (scalar) {
    out.push(...scalar);
    return;
  }
  switch (spec.type) {
    case "stringMap":
    case "durationMap":
    case "stringListMap": {
      const map = single(key, value, path, out);
      if (!map) return;
      for (const name of Object.keys(map).sort()) {
        const v = map[name];
        const at = join(path, name);
        if (spec.type === "stringMap" && typeof v !== "string") out.push(`${at}: expected a string, got ${describe(v)}`);
        if (spec.type === "durationMap") out.push(...checkScalar({ type: "duration" }, v, at, describe)!);
        if (spec.type === "stringListMap" && !(Array.isArray(v) && v.every((s) => typeof s === "string"))) out.push(`${at}: expected a list of strings, got ${describe(v)}`);
      }
      return;
    }
    case "opaque":
      return;
    case "opaqueList":
      if (!Array.isArray(value) || !value.every(isObject)) wrong("a list of objects");
      return;
    case "block": {
      const obj = single(key, value, path, out);
      if (obj) judgeTable(spec.keys!, obj, path, out);
      return;
    }
    case "blockList":
      if (!Array.isArray(value) || !value.every(isObject)) {
        wrong(`a list of ${key} blocks`);
        return;
      }
      value.forEach((item, i) => judgeTable(spec.keys!, item, `${path}[${i}]`, out));
      return;
    case "blockMap": {
      const map = single(key, value, path, out);
      if (!map) return;
      for (const name of Object.keys(map).sort()) {
        const entry = single(key, map[name], join(path, name), out);
        if (entry) judgeTable(spec.keys!, entry, join(path, name), out);
      }
      return;
    }
  }
}

/** A block written once: HCL2 JSON gives `x { }` as a one-element list and `x = { }` as an object. */
function single(key: string, value: unknown, path: string, out: string[]): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (Array.isArray(value) && value.every(isObject)) {
    if (value.length === 1) return value[0];
    const plural = key === "service" ? " (use services for several)" : key === "check" ? " (use checks for several)" : "";
    out.push(`${path}: given ${value.length} times, Consul takes one ${key} block here${plural}`);
    return undefined;
  }
  out.push(`${path}: expected a ${key} block, got ${describe(value)}`);
  return undefined;
}

function unknownKey(table: KeyTable, key: string, keyPath: string, parent: string): string {
  const where = parent ? `in ${parent}` : "at the top level";
  const parts = [`${keyPath}: unknown key ${where}`];
  const caseMatch = Object.keys(table).find((k) => k.toLowerCase() === key.toLowerCase());
  const suggestion =
    caseMatch ??
    closest(
      key,
      Object.keys(table).filter((k) => usable(table[k]!)),
    );
  if (suggestion) parts.push(`did you mean ${suggestion}?`);
  const elsewhere = (KEY_INDEX.get(key) ?? []).filter((p) => p !== keyPath && !samePlace(p, parent));
  if (elsewhere.length > 0) {
    const shown = elsewhere.slice(0, 4).map((p) => (p.includes(".") ? p : `${p} (top level)`));
    const more = elsewhere.length > 4 ? ` and ${elsewhere.length - 4} more` : "";
    parts.push(`${key} belongs at ${shown.join(", ")}${more}`);
  }
  return parts.join("; ");
}

/** A valid place to suggest: not refused, not deprecated, not internal. */
function usable(spec: KeySpec): boolean {
  return !spec.rejected && spec.deprecated === undefined && !spec.internal;
}

/** Whether an index path (with [] for lists) names a key of the table at `parent` (with [i]). */
function samePlace(indexPath: string, parent: string): boolean {
  const dot = indexPath.lastIndexOf(".");
  const table = dot < 0 ? "" : indexPath.slice(0, dot);
  return table === parent.replace(/\[\d+\]/g, "[]");
}

/** Every place each key is valid, shortest paths first (breadth-first; each shared table is listed once). */
const KEY_INDEX: ReadonlyMap<string, readonly string[]> = (() => {
  const index = new Map<string, string[]>();
  const seen = new Set<KeyTable>();
  let level: { table: KeyTable; path: string }[] = [{ table: AGENT_CONFIG, path: "" }];
  while (level.length > 0) {
    const next: typeof level = [];
    for (const { table, path } of level) {
      if (seen.has(table)) continue;
      seen.add(table);
      for (const key of Object.keys(table).sort()) {
        const spec = table[key]!;
        if (!usable(spec)) continue;
        const keyPath = join(path, key);
        index.set(key, [...(index.get(key) ?? []), keyPath]);
        if (!spec.keys) continue;
        const child = spec.type === "blockList" ? `${keyPath}[]` : spec.type === "blockMap" ? `${keyPath}.<name>` : keyPath;
        next.push({ table: spec.keys, path: child });
      }
    }
    level = next;
  }
  return index;
})();

function join(path: string, key: string): string {
  const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return path ? `${path}.${part}` : part;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.every(isObject) && value.length > 0 ? "a block" : "a list";
  if (isObject(value)) return "an object";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
