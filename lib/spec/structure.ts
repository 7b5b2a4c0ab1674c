// The structural layer: the zod schema's verdict on a document, as spec issues, plus which parts
// of the document failed, so that the semantic rules can still run on the rest.
//
// A document is made of units that fail independently: each service (services.<name>), each
// intention (intentions[i]), the TLS edge (tlsEdge), and the settings (every other top-level
// key: name, region, network, consul, ecsHosts, ...). A unit with a structural error is left out
// of the semantic pass: a failed service or intention is removed, a failed TLS edge too, and a
// failed setting falls back to its default. Unknown keys alone do not fail a unit: they are
// stripped and reported.
import type { z } from "zod";
import { meshSpecSchema, RETIRED_FIELDS, type MeshSpec } from "./schema";
import { closest, formatPath, type SpecIssue } from "../issues";

type Path = readonly PropertyKey[];

export interface StructureCheck {
  /** Every structural problem, names (record keys) and the values under them included. */
  readonly errors: readonly SpecIssue[];
  /** What the semantic rules may see: the document without its failed units, or undefined when nothing sound is left. */
  readonly sound?: SoundPart;
}

export interface SoundPart {
  readonly spec: MeshSpec;
  /** Services left out for an invalid name or structure. */
  readonly droppedServices: ReadonlySet<string>;
  /** For each intention of `spec`, its index in the document. */
  readonly intentionIndex: readonly number[];
  /** A setting failed and runs on its default: rules over settings would judge that default. */
  readonly settingsFailed: boolean;
}

export function checkStructure(input: unknown): StructureCheck {
  const parsed = meshSpecSchema.safeParse(input);
  if (parsed.success) {
    return { errors: [], sound: { spec: parsed.data, droppedServices: new Set(), intentionIndex: parsed.data.intentions.map((_, i) => i), settingsFailed: false } };
  }
  const issues = withValuesUnderInvalidKeys(input, parsed.error.issues);
  return { errors: issues.map(describeIssue), ...soundPart(input, issues) };
}

/**
 * zod skips the value of a record entry whose key is invalid: check those values too, so a
 * badly named service also has its fields checked in this run.
 */
function withValuesUnderInvalidKeys(input: unknown, issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const all: z.core.$ZodIssue[] = [];
  const queue = [...issues];
  while (queue.length > 0) {
    const issue = queue.shift()!;
    all.push(issue);
    if (issue.code !== "invalid_key") continue;
    const records = schemasAt(issue.path.slice(0, -1)).filter((node) => node._zod.def.type === "record");
    if (records.length !== 1) continue;
    const valueSchema = records[0]!._zod.def.valueType as unknown as z.ZodType;
    const result = valueSchema.safeParse(valueAt(input, issue.path));
    if (!result.success) queue.unshift(...result.error.issues.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })));
  }
  return all;
}

function soundPart(input: unknown, issues: readonly z.core.$ZodIssue[]): { sound?: SoundPart } {
  if (!isRecord(input)) return {};
  const failedServices = new Set<string>();
  const failedIntentions = new Set<number>();
  const failedTopLevel = new Set<string>();
  const unknownKeys: { readonly path: Path; readonly keys: readonly string[] }[] = [];
  for (const issue of issues) {
    const [top, unit] = issue.path;
    if (issue.code === "unrecognized_keys") {
      unknownKeys.push({ path: issue.path, keys: issue.keys });
    } else if (top === undefined) {
      return {}; // The document itself is not a mapping.
    } else if (top === "services" && unit !== undefined) {
      failedServices.add(String(unit));
    } else if (top === "intentions" && typeof unit === "number") {
      failedIntentions.add(unit);
    } else {
      failedTopLevel.add(String(top));
    }
  }
  // Without a usable services mapping, every reference would look unknown.
  if (failedTopLevel.has("services")) return {};

  const copy = structuredClone(input);
  for (const { path, keys } of unknownKeys) {
    const target = valueAt(copy, path);
    if (isRecord(target)) for (const key of keys) delete target[key];
  }
  const services = copy.services as Record<string, unknown>;
  for (const name of failedServices) delete services[name];
  let intentionIndex: number[] = [];
  if (Array.isArray(copy.intentions)) {
    intentionIndex = copy.intentions.map((_, i) => i).filter((i) => !failedIntentions.has(i));
    copy.intentions = intentionIndex.map((i) => (copy.intentions as unknown[])[i]);
  }
  for (const key of failedTopLevel) {
    delete copy[key];
    if (key === "intentions") intentionIndex = [];
  }
  const reparsed = meshSpecSchema.safeParse(copy);
  // Nothing sound left to judge (no service passed, say): the structural errors say it all.
  if (!reparsed.success) return {};
  const settingsFailed = [...failedTopLevel].some((key) => key !== "tlsEdge" && key !== "intentions");
  return { sound: { spec: reparsed.data, droppedServices: failedServices, intentionIndex, settingsFailed } };
}

/**
 * Semantic issues found on the sound part, as they apply to the document: intention indexes
 * mapped back, and without the consequences of what was left out. Dropped are issues on
 * settings while a setting runs on its default, and issues at a reference to a dropped service
 * ("unknown service", "has no port"): the service exists, it is only broken, and that is reported.
 */
export function applyToDocument(issues: readonly SpecIssue[], sound: SoundPart, input: unknown): SpecIssue[] {
  const remap = (text: string) => text.replace(/\bintentions\[(\d+)\]/g, (_, i: string) => `intentions[${sound.intentionIndex[Number(i)] ?? i}]`);
  return issues
    .map((issue) => ({ ...issue, path: remap(issue.path), message: remap(issue.message) }))
    .filter((issue) => {
      if (sound.settingsFailed && !/^(services|intentions)\b/.test(issue.path)) return false;
      const referenced = valueAt(input, parsePath(issue.path));
      return !(typeof referenced === "string" && sound.droppedServices.has(referenced));
    });
}

function describeIssue(issue: z.core.$ZodIssue): SpecIssue {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return {
      path,
      message: issue.keys
        .map((key) => {
          const retired = RETIRED_FIELDS[formatPath([...issue.path, key])];
          if (retired) return `"${key}" ${retired}`;
          const hint = closest(key, known);
          return `unknown key "${key}"${hint ? `; did you mean "${hint}"?` : known.length ? `; allowed keys: ${known.join(", ")}` : ""}`;
        })
        .join("; "),
    };
  }
  if (issue.code === "invalid_key") {
    return { path, message: `invalid name: ${issue.issues.map((inner) => inner.message).join("; ")}` };
  }
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return { path, message: `is required (${issue.expected})` };
  }
  return { path, message: issue.message };
}

type SchemaNode = { _zod: { def: Record<string, unknown> & { type: string } } };

/** The schemas that can apply at a path (several under a union). */
function schemasAt(path: Path): SchemaNode[] {
  let nodes: SchemaNode[] = [meshSpecSchema as unknown as SchemaNode];
  for (const segment of path) {
    nodes = nodes.flatMap(unwrap).flatMap((node) => {
      const def = node._zod.def;
      if (def.type === "object") {
        const child = (def.shape as Record<string, SchemaNode>)[String(segment)];
        return child ? [child] : [];
      }
      if (def.type === "record") return [def.valueType as SchemaNode];
      if (def.type === "array") return [def.element as SchemaNode];
      return [];
    });
  }
  return nodes.flatMap(unwrap);
}

/** The keys the schema allows at a path, for did-you-mean hints on unknown keys. */
function knownKeysAt(path: Path): string[] {
  const keys = new Set<string>();
  for (const node of schemasAt(path)) if (node._zod.def.type === "object") for (const k of Object.keys(node._zod.def.shape as object)) keys.add(k);
  return [...keys].filter((k) => k !== "$schema").sort();
}

function unwrap(node: SchemaNode): SchemaNode[] {
  const def = node._zod.def;
  if ("innerType" in def) return unwrap(def.innerType as SchemaNode);
  if (def.type === "union") return (def.options as SchemaNode[]).flatMap(unwrap);
  if (def.type === "pipe") return unwrap(def.in as SchemaNode);
  return [node];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** The segments of a path written by formatPath ("services.web.upstreams[0].destination"). */
function parsePath(path: string): PropertyKey[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}
