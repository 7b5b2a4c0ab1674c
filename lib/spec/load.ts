// Reading a spec: file -> YAML/JSON document -> schema (structure, defaults) -> plan -> rules
// (references, ports, network, capacity). Every stage reports all of its problems at once.
import * as fs from "node:fs";
import YAML from "yaml";
import type { z } from "zod";
import { meshSpecSchema, type MeshSpec } from "./schema";
import { DEFAULT_SPEC } from "./default-spec";
import { buildPlan } from "../plan/build";
import type { MeshPlan } from "../plan/types";
import { checkPlan } from "../rules";
import { closest, formatPath, SpecError, type SpecIssue } from "./issues";

export interface LoadedSpec {
  readonly spec: MeshSpec;
  /** The plan every later stage reads, built once from the spec. */
  readonly plan: MeshPlan;
  /** Where the spec came from: a file path or "the built-in default". */
  readonly source: string;
  readonly warnings: readonly SpecIssue[];
}

export const DEFAULT_SOURCE = "the built-in default";

/** The spec file named by MESH_SPEC, else by the cdktf.json context key meshSpec, else none. */
export function specPathFrom(env: NodeJS.ProcessEnv, context: unknown): string | undefined {
  const fromEnv = env.MESH_SPEC?.trim();
  if (fromEnv) return fromEnv;
  return typeof context === "string" && context.trim() !== "" ? context.trim() : undefined;
}

/** Loads the spec named by MESH_SPEC / the meshSpec context, or the built-in default. */
export function loadSpec(env: NodeJS.ProcessEnv, context: unknown): LoadedSpec {
  const file = specPathFrom(env, context);
  return file === undefined ? parseSpec(DEFAULT_SPEC, DEFAULT_SOURCE) : loadSpecFile(file);
}

export function loadSpecFile(file: string): LoadedSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new SpecError(file, [{ path: "(file)", message: `cannot read the spec: ${reason}` }]);
  }
  return parseSpec(parseDocument(text, file), file);
}

/** YAML or JSON (YAML 1.2 reads both) with duplicate keys rejected and positions in every error. */
export function parseDocument(text: string, source: string): unknown {
  if (text.trim() === "") throw new SpecError(source, [{ path: "(file)", message: "the file is empty; write a spec with at least a services section" }]);
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        // prettyErrors appends the position and a source excerpt to the message: keep the first sentence.
        const message = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
        return { path: pos ? `line ${pos.line}, column ${pos.col}` : "(file)", message };
      }),
    );
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) throw new SpecError(source, [{ path: "(file)", message: "the file holds no spec (only comments or null)" }]);
  return value;
}

/** Schema then semantic validation of an already-parsed document. */
export function parseSpec(input: unknown, source: string): LoadedSpec {
  const parsed = meshSpecSchema.safeParse(input);
  if (parsed.success) {
    const plan = buildPlan(parsed.data);
    const { errors, warnings } = checkPlan(plan);
    if (errors.length > 0) throw new SpecError(source, errors, warnings);
    return { spec: parsed.data, plan, source, warnings };
  }
  const structural = parsed.error.issues.map(describeIssue);
  // Unknown keys (typos, mostly) do not stop the other rules: report those too in this run.
  const onlyUnknownKeys = parsed.error.issues.every((issue) => issue.code === "unrecognized_keys");
  const withoutUnknown = onlyUnknownKeys ? meshSpecSchema.safeParse(stripKeys(input, parsed.error.issues)) : undefined;
  const semantic = withoutUnknown?.success ? checkPlan(buildPlan(withoutUnknown.data)) : { errors: [], warnings: [] };
  throw new SpecError(source, [...structural, ...semantic.errors], semantic.warnings);
}

/** A copy of the document without the keys the schema reported as unknown. */
function stripKeys(input: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy: unknown = structuredClone(input);
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    const target = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown>)[key], copy) as Record<string, unknown>;
    for (const key of issue.keys) delete target[key];
  }
  return copy;
}

function describeIssue(issue: z.core.$ZodIssue): SpecIssue {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return {
      path,
      message: issue.keys
        .map((key) => {
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

/** The keys the schema allows at a path, for did-you-mean hints on unknown keys. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let nodes: SchemaNode[] = [meshSpecSchema as unknown as SchemaNode];
  for (const segment of [...path, undefined]) {
    nodes = nodes.flatMap(unwrap);
    if (segment === undefined) break;
    nodes = nodes.flatMap((node) => {
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
  const keys = new Set<string>();
  for (const node of nodes) if (node._zod.def.type === "object") for (const k of Object.keys(node._zod.def.shape as object)) keys.add(k);
  return [...keys].filter((k) => k !== "$schema").sort();
}

function unwrap(node: SchemaNode): SchemaNode[] {
  const def = node._zod.def;
  if ("innerType" in def) return unwrap(def.innerType as SchemaNode);
  if (def.type === "union") return (def.options as SchemaNode[]).flatMap(unwrap);
  if (def.type === "pipe") return unwrap(def.in as SchemaNode);
  return [node];
}
