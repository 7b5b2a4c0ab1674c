// Reading a spec, in layers, all in one run: file (size) -> document (syntax, depth, aliases,
// duplicate keys; lib/spec/document.ts) -> structure (names, fields, types, defaults; zod,
// lib/spec/structure.ts) -> plan (lib/plan) -> rules (lib/rules: references, ports, network,
// capacity, network paths ...) on every part of the spec that passed the structure. A layer that fails stops the next ones only where
// they would have nothing sound to judge: syntax errors stop everything, a broken service
// leaves the other services to the rules.
import * as fs from "node:fs";
import type { MeshSpec } from "./spec/schema";
import { DEFAULT_SPEC } from "./spec/default-spec";
import { buildPlan } from "./plan/build";
import type { MeshPlan } from "./plan/types";
import { checkPlan } from "./rules";
import { SpecError, type RuleResult, type SpecIssue } from "./issues";
import { checkFileSize, parseDocument } from "./spec/document";
import { applyToDocument, checkStructure } from "./spec/structure";

/** A spec that only the rules rejected: a review can show the plan's model that explains the errors. */
export class RejectedPlan extends SpecError {
  constructor(
    source: string,
    errors: readonly SpecIssue[],
    warnings: readonly SpecIssue[],
    public readonly plan: MeshPlan,
  ) {
    super(source, errors, warnings);
  }
}

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
function specPathFrom(env: NodeJS.ProcessEnv, context: unknown): string | undefined {
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
    text = readBounded(file);
  } catch (error) {
    if (error instanceof SpecError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new SpecError(file, [{ path: "(file)", message: `cannot read the spec: ${reason}` }]);
  }
  return parseSpec(parseDocument(text, file), file);
}

/** The file's text, read no further than the size limit (a pipe or /dev/zero has no size to check first). */
function readBounded(file: string): string {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    checkFileSize(size, file);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.max(64 * 1024, size + 1 - total));
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      chunks.push(chunk.subarray(0, read));
      total += read;
      checkFileSize(total, file, true);
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

/** Structure, then the semantic rules on every sound part of an already-parsed document. */
export function parseSpec(input: unknown, source: string): LoadedSpec {
  const structure = checkStructure(input);
  const plan = structure.sound ? buildPlan(structure.sound.spec) : undefined;
  const semantic: RuleResult = plan ? checkPlan(plan) : { errors: [], warnings: [] };
  if (structure.errors.length === 0 && structure.sound && plan) {
    if (semantic.errors.length > 0) throw new RejectedPlan(source, semantic.errors, semantic.warnings, plan);
    return { spec: structure.sound.spec, plan, source, warnings: semantic.warnings };
  }
  const sound = structure.sound;
  const errors = sound ? applyToDocument(semantic.errors, sound, input) : [];
  const warnings = sound ? applyToDocument(semantic.warnings, sound, input) : [];
  throw new SpecError(source, [...structure.errors, ...errors], warnings);
}
