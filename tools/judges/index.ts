// Judges for rendered artifacts: each one checks an artifact against the reader that consumes
// it in production (the ECS API model, HashiCorp's HCL parser, bash/sh and shellcheck,
// Terraform's template syntax), not against a copy of the template. They return or throw
// every problem with its location, and none of them skips silently.
// Used by __tests__/artifacts.test.ts and tools/render.ts; judged in __tests__/judges.test.ts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { getExpressionAst, getReferencesInExpression, parse } from "@cdktf/hcl2json";
import { FARGATE_MEMORY } from "../../lib/aws-limits";
import { cyclesIn } from "../../lib/rules/task-graph";

// ---------------------------------------------------------------------------------------------
// a. Container definitions against the ECS API model (aws-sdk v2 ships it) plus ECS's own rules
// ---------------------------------------------------------------------------------------------

/** A shape of the AWS SDK v2 API model: inline, or a reference (`shape`) into `shapes`. */
interface ApiShape {
  readonly shape?: string;
  readonly type?: string;
  readonly members?: Readonly<Record<string, ApiShape>>;
  readonly required?: readonly string[];
  readonly member?: ApiShape;
  readonly key?: ApiShape;
  readonly value?: ApiShape;
}

interface ApiModel {
  readonly operations: Readonly<Record<string, { readonly input: ApiShape }>>;
  readonly shapes: Readonly<Record<string, ApiShape>>;
}

// The full ECS model, as the AWS SDK ships it: field names, types, required members (no enums).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ECS_MODEL = require("aws-sdk/apis/ecs-2014-11-13.min.json") as ApiModel;

/** Follows `shape` references to the definition in the model's `shapes` table. */
function resolveShape(shape: ApiShape): ApiShape {
  let current = shape;
  for (let hops = 0; current.shape !== undefined; hops++) {
    const target = ECS_MODEL.shapes[current.shape];
    if (!target || hops > 50) throw new Error(`ECS model: unresolvable shape ${current.shape}`);
    current = target;
  }
  return current;
}

const CONTAINER_DEFINITIONS_SHAPE: ApiShape = resolveShape(ECS_MODEL.operations.RegisterTaskDefinition!.input).members!.containerDefinitions!;

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `.name` for identifiers, `["awslogs-group"]` otherwise. */
function keyPath(base: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function described(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Type-checks a value against a model shape; `where` is the JSON path of the value. */
function checkShape(value: unknown, shapeRef: ApiShape, where: string, errors: string[]): void {
  const shape = resolveShape(shapeRef);
  const type = shape.type ?? "string"; // the minified model omits "string"
  const at = where === "" ? "(root)" : where;
  switch (type) {
    case "structure": {
      if (!isPlainObject(value)) {
        errors.push(`${at}: expected an object, got ${described(value)}`);
        return;
      }
      const members = shape.members ?? {};
      for (const [key, item] of Object.entries(value)) {
        const memberShape = members[key];
        if (memberShape === undefined) {
          // A common mistake gets its own message: networkMode belongs to the task definition.
          const container = /^\[\d+\]$/.test(where);
          errors.push(`${keyPath(where, key)}: ${container && key === "networkMode" ? "networkMode is a task definition field, not a container field" : "unknown field"}`);
          continue;
        }
        checkShape(item, memberShape, keyPath(where, key), errors);
      }
      for (const name of shape.required ?? []) {
        if (value[name] === undefined || value[name] === null) errors.push(`${keyPath(where, name)}: missing required member`);
      }
      return;
    }
    case "list":
      if (!Array.isArray(value)) {
        errors.push(`${at}: expected an array, got ${described(value)}`);
        return;
      }
      value.forEach((item, i) => checkShape(item, shape.member ?? {}, `${where}[${i}]`, errors));
      return;
    case "map":
      if (!isPlainObject(value)) {
        errors.push(`${at}: expected an object (map), got ${described(value)}`);
        return;
      }
      for (const [key, item] of Object.entries(value)) {
        checkShape(key, shape.key ?? {}, `${keyPath(where, key)} (key)`, errors);
        checkShape(item, shape.value ?? {}, keyPath(where, key), errors);
      }
      return;
    case "integer":
    case "long":
      // A string "256" fails at plan time in the AWS provider: integers must be JSON numbers.
      if (typeof value !== "number" || !Number.isInteger(value)) errors.push(`${at}: expected a JSON integer, got ${described(value)}`);
      else if (type === "integer" && (value < INT32.min || value > INT32.max)) errors.push(`${at}: ${value} is outside the 32-bit integer range`);
      return;
    case "double":
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) errors.push(`${at}: expected a JSON number, got ${described(value)}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") errors.push(`${at}: expected a boolean, got ${described(value)}`);
      return;
    case "timestamp":
      if (typeof value !== "string" && typeof value !== "number") errors.push(`${at}: expected a timestamp, got ${described(value)}`);
      return;
    case "string":
    case "blob":
      if (typeof value !== "string") errors.push(`${at}: expected a string, got ${described(value)}`);
      return;
    default:
      errors.push(`${at}: the ECS model has a shape of unsupported type ${type}`);
  }
}

// ECS RegisterTaskDefinition / ContainerDefinition documentation
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
const CONTAINER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const DEPENDENCY_CONDITIONS = new Set(["START", "COMPLETE", "SUCCESS", "HEALTHY"]);
const AWSLOGS_REQUIRED_OPTIONS = ["awslogs-group", "awslogs-region", "awslogs-stream-prefix"] as const;
/** Docker 20.10+ reserves at least 6 MiB per container (ContainerDefinition.memory docs). */
const MIN_CONTAINER_MEMORY_MIB = 6;

export interface ContainerDefinitionOptions {
  /** The task's network mode: the port rules depend on it. @default "awsvpc" (every task of this project) */
  readonly networkMode?: "awsvpc" | "bridge" | "host" | "none";
}

type Container = Record<string, unknown>;

/**
 * Problems of a container definition list, one message per problem prefixed with its JSON
 * path (`[2].healthCheck.intervall: unknown field`): the ECS API model (fields, types, required
 * members) and the rules ECS applies at registration or task start. Empty means valid.
 */
export function ecsContainerDefinitionErrors(defs: unknown, options: ContainerDefinitionOptions = {}): string[] {
  const networkMode = options.networkMode ?? "awsvpc";
  const errors: string[] = [];
  if (!Array.isArray(defs)) return [`(root): container definitions must be an array, got ${described(defs)}`];
  if (defs.length === 0) return ["(root): a task needs at least one container definition"];
  checkShape(defs, CONTAINER_DEFINITIONS_SHAPE, "", errors);
  if (!defs.every(isPlainObject)) return errors; // reported by the model check
  const containers = defs as Container[];

  // Names: present, valid, unique (dependsOn and volumesFrom refer to containers by name).
  const byName = new Map<string, Container>();
  containers.forEach((c, i) => {
    const name = c.name;
    if (typeof name !== "string") {
      errors.push(`[${i}].name: every container needs a name`);
      return;
    }
    if (!CONTAINER_NAME.test(name)) errors.push(`[${i}].name: ${JSON.stringify(name)} must be 1-255 of [A-Za-z0-9_-]`);
    if (byName.has(name)) errors.push(`[${i}].name: duplicate container name ${JSON.stringify(name)}`);
    else byName.set(name, c);
  });

  // ECS treats a container without `essential` as essential.
  if (!containers.some((c) => c.essential !== false)) errors.push("(root): at least one container must be essential");

  // dependsOn: conditions, targets, health checks, cycles.
  const edges = new Map<string, string[]>();
  containers.forEach((c, i) => {
    const targets: string[] = [];
    if (typeof c.name === "string") edges.set(c.name, targets);
    if (!Array.isArray(c.dependsOn)) return;
    c.dependsOn.forEach((dep: unknown, j) => {
      if (!isPlainObject(dep)) return;
      const where = `[${i}].dependsOn[${j}]`;
      const { containerName: target, condition } = dep;
      if (typeof condition === "string" && !DEPENDENCY_CONDITIONS.has(condition)) {
        errors.push(`${where}.condition: ${JSON.stringify(condition)} is not one of ${[...DEPENDENCY_CONDITIONS].join(", ")}`);
      }
      if (typeof target !== "string") return;
      const targetDef = byName.get(target);
      if (!targetDef) {
        errors.push(`${where}.containerName: no container named ${JSON.stringify(target)} in this task`);
        return;
      }
      if (target === c.name) {
        errors.push(`${where}.containerName: a container cannot depend on itself`);
        return;
      }
      if (condition === "HEALTHY" && !isPlainObject(targetDef.healthCheck)) {
        errors.push(`${where}: HEALTHY needs a healthCheck on ${JSON.stringify(target)}, which has none`);
      }
      // ContainerDependency docs, COMPLETE and SUCCESS: "This condition can't be set on an essential container."
      if ((condition === "COMPLETE" || condition === "SUCCESS") && targetDef.essential !== false) {
        errors.push(`${where}: ${condition} cannot be set on the essential container ${JSON.stringify(target)}`);
      }
      targets.push(target);
    });
  });
  for (const cycle of cyclesIn(edges)) errors.push(`(root): dependsOn cycle ${cycle.join(" -> ")}`);

  // Memory: the hard limit above the soft one, and above Docker's minimum.
  containers.forEach((c, i) => {
    const { memory, memoryReservation } = c;
    if (typeof memory === "number" && typeof memoryReservation === "number" && !(memory > memoryReservation)) {
      errors.push(`[${i}].memory: ${memory} must be greater than memoryReservation ${memoryReservation}`);
    }
    for (const key of ["memory", "memoryReservation"] as const) {
      const v = c[key];
      if (typeof v === "number" && v < MIN_CONTAINER_MEMORY_MIB) errors.push(`[${i}].${key}: ${v} MiB is below Docker's ${MIN_CONTAINER_MEMORY_MIB} MiB minimum`);
    }
  });

  // Ports: in awsvpc (and host) mode the containers of a task share one network namespace.
  if (networkMode === "awsvpc" || networkMode === "host") {
    const owners = new Map<string, string>();
    containers.forEach((c, i) => {
      if (!Array.isArray(c.portMappings)) return;
      c.portMappings.forEach((m: unknown, j) => {
        if (!isPlainObject(m) || typeof m.containerPort !== "number") return;
        const where = `[${i}].portMappings[${j}]`;
        if (m.hostPort !== undefined && m.hostPort !== null && m.hostPort !== m.containerPort) {
          errors.push(`${where}.hostPort: ${networkMode} needs hostPort absent or equal to containerPort ${m.containerPort}, got ${JSON.stringify(m.hostPort)}`);
        }
        const protocol = typeof m.protocol === "string" ? m.protocol : "tcp";
        const key = `${m.containerPort}/${protocol}`;
        const owner = owners.get(key);
        if (owner) errors.push(`${where}: ${key} is already mapped by ${owner} (containers of one ${networkMode} task share the network namespace)`);
        else owners.set(key, where);
      });
    });
  }

  // Logging on every container, no privileged containers (checkov/trivy ECS rules).
  containers.forEach((c, i) => {
    const log = c.logConfiguration;
    if (!isPlainObject(log)) {
      errors.push(`[${i}].logConfiguration: every container needs a log configuration`);
    } else if (log.logDriver === "awslogs") {
      const opts = isPlainObject(log.options) ? log.options : {};
      for (const option of AWSLOGS_REQUIRED_OPTIONS) {
        if (typeof opts[option] !== "string" || opts[option] === "") errors.push(`${keyPath(`[${i}].logConfiguration.options`, option)}: awslogs needs ${option}`);
      }
    }
    if (c.privileged === true) errors.push(`[${i}].privileged: privileged containers are not allowed`);
  });

  return errors;
}

// ---------------------------------------------------------------------------------------------
// b. Task-level sizes against the containers
// ---------------------------------------------------------------------------------------------

/** The fields of an aws_ecs_task_definition resource (Terraform names) that the task rules read. */
export interface TaskDefinitionFields {
  readonly cpu?: unknown;
  readonly memory?: unknown;
  readonly requires_compatibilities?: readonly string[];
  readonly network_mode?: string;
  // The API's camelCase spellings work too: tests are not type-checked, so a caller that used
  // them would otherwise get no launch-type checks at all, silently.
  readonly requiresCompatibilities?: readonly string[];
  readonly networkMode?: string;
}

/** A task-level size: Terraform JSON carries cpu/memory as strings ("256") or numbers. */
function taskSize(value: unknown): number | "unknown" | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return Number(value);
  return "unknown"; // a Terraform reference or expression: not decidable at synth time
}

/** Problems of a task definition's sizes and launch type against its container definitions. */
export function taskDefinitionErrors(td: TaskDefinitionFields, defs: unknown): string[] {
  const errors: string[] = [];
  const containers = (Array.isArray(defs) ? defs.filter(isPlainObject) : []) as Container[];
  const cpu = taskSize(td.cpu);
  const memory = taskSize(td.memory);
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);

  if (typeof memory === "number") {
    const hard = containers.reduce((sum, c) => sum + num(c.memory), 0);
    if (hard > memory) errors.push(`memory: the containers' memory adds up to ${hard} MiB, more than the task's ${memory} MiB`);
    // ContainerDefinition.memory docs: "The total amount of memory reserved for all containers
    // within a task must be lower than the task memory value, if one is specified."
    const reserved = containers.reduce((sum, c) => sum + num(c.memoryReservation ?? c.memory), 0);
    if (reserved > memory) errors.push(`memory: the containers reserve ${reserved} MiB, more than the task's ${memory} MiB`);
  } else if (memory === undefined) {
    // ContainerDefinition.memoryReservation docs: without task memory, each container needs memory or memoryReservation.
    containers.forEach((c, i) => {
      if (!(num(c.memory) > 0) && !(num(c.memoryReservation) > 0)) {
        errors.push(`[${i}]: without task-level memory, container ${JSON.stringify(c.name)} needs memory or memoryReservation`);
      }
    });
  }
  if (typeof cpu === "number") {
    const containerCpu = containers.reduce((sum, c) => sum + num(c.cpu), 0);
    if (containerCpu > cpu) errors.push(`cpu: the containers' cpu adds up to ${containerCpu} units, more than the task's ${cpu}`);
  }

  const networkMode = td.network_mode ?? td.networkMode;
  if ((td.requires_compatibilities ?? td.requiresCompatibilities ?? []).includes("FARGATE")) {
    if (networkMode !== "awsvpc") errors.push(`network_mode: FARGATE requires awsvpc, got ${JSON.stringify(networkMode ?? null)}`);
    if (cpu === undefined || memory === undefined) {
      errors.push("cpu/memory: FARGATE requires task-level cpu and memory");
    } else if (typeof cpu === "number" && typeof memory === "number") {
      const allowed = FARGATE_MEMORY[cpu];
      if (!allowed) errors.push(`cpu: ${cpu} is not a Fargate task size (${Object.keys(FARGATE_MEMORY).join(", ")})`);
      else if (!allowed.includes(memory)) errors.push(`memory: ${memory} MiB is not valid with ${cpu} Fargate cpu units (${allowed[0]}-${allowed[allowed.length - 1]})`);
    }
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// c. HCL
// ---------------------------------------------------------------------------------------------

/** Parses HCL with HashiCorp's parser (@cdktf/hcl2json, WASM); throws with the parser's message. Blocks come back as arrays. */
export async function parseHcl(text: string, filename = "config.hcl"): Promise<Record<string, unknown>> {
  try {
    return (await parse(filename, text)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${filename} is not valid HCL: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// d. Shell
// ---------------------------------------------------------------------------------------------

/** A judge's program is not installed: the artifact was not checked, which is not a failed artifact. */
export class MissingToolError extends Error {
  readonly tool: string;

  constructor(tool: string, message: string) {
    super(message);
    this.name = "MissingToolError";
    this.tool = tool;
  }
}

export const SHELLCHECK_MISSING =
  "shellcheck is not installed: run `apt-get install -y shellcheck` as root (npm test does it through tools/ensure-tools.sh), or `brew install shellcheck`";

/** Throws MissingToolError unless shellcheck runs. */
export function requireShellcheck(): void {
  const probe = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new MissingToolError("shellcheck", SHELLCHECK_MISSING);
}

/** `bash -n`/`sh -n` (syntax), then shellcheck at every severity; `output` holds both tools' findings. Never skips. */
export function lintShell(script: string, shell: "bash" | "sh"): { ok: boolean; output: string } {
  // Asked on every call (a few ms), so a PATH without shellcheck is never mistaken for a clean script.
  requireShellcheck();
  // Examples share most scripts (the units a server installs, the task scripts): lint each text once.
  const key = `${shell}\u0000${script}`;
  const known = lintResults.get(key);
  if (known) return known;
  const result = lintShellUncached(script, shell);
  lintResults.set(key, result);
  return result;
}

const lintResults = new Map<string, { ok: boolean; output: string }>();

function lintShellUncached(script: string, shell: "bash" | "sh"): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lint-shell-"));
  const file = path.join(dir, `script.${shell}`);
  try {
    fs.writeFileSync(file, script);
    const syntax = spawnSync(shell, ["-n", file], { encoding: "utf8" });
    if (syntax.error) throw new Error(`${shell} -n could not run: ${syntax.error.message}`);
    const check = spawnSync("shellcheck", [`--shell=${shell}`, "--severity=style", "-f", "gcc", file], { encoding: "utf8" });
    if (check.error) throw new Error(`shellcheck could not run: ${check.error.message}`);
    const output = [
      syntax.status === 0 ? "" : `${shell} -n: ${syntax.stderr.trim() || `exit ${syntax.status}`}`,
      check.status === 0 ? "" : check.stdout.trim() || check.stderr.trim() || `shellcheck exit ${check.status}`,
    ]
      .filter(Boolean)
      .join("\n")
      .split(file)
      .join(`<${shell} script>`);
    return { ok: syntax.status === 0 && check.status === 0, output };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// e-f. Terraform string templates
// ---------------------------------------------------------------------------------------------

/**
 * Index of the `}` that closes the template sequence whose body starts at `start` (just after
 * `${` or `%{`), or -1. HCL strings inside the expression (with their own escapes and nested
 * templates) are skipped, so `${jsonencode({a = "}"})}` closes at the right brace.
 */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{") depth++;
    else if (ch === "}") {
      if (depth === 0) return i;
      depth--;
    } else if (ch === '"') {
      const end = endOfQuoted(text, i + 1);
      if (end < 0) return -1;
      i = end;
    }
  }
  return -1;
}

/** Index of the `"` that ends an HCL quoted template starting at `start`, or -1. */
function endOfQuoted(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") i++;
    else if (text.startsWith("$${", i) || text.startsWith("%%{", i)) i += 2;
    else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      const end = closingBrace(text, i + 2);
      if (end < 0) return -1;
      i = end;
    } else if (ch === '"') return i;
  }
  return -1;
}

type Segment =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "interpolation"; readonly expression: string; readonly offset: number }
  | { readonly kind: "directive"; readonly text: string; readonly offset: number }
  | { readonly kind: "unterminated"; readonly opener: "${" | "%{"; readonly offset: number };

/** Splits a Terraform string template as HCL's scanner does: literal text (escapes resolved) and template sequences. */
function templateSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let literal = "";
  const flush = (): void => {
    if (literal) segments.push({ kind: "literal", text: literal });
    literal = "";
  };
  for (let i = 0; i < text.length; ) {
    if (text.startsWith("$${", i) || text.startsWith("%%{", i)) {
      literal += `${text[i]}{`;
      i += 3;
    } else if (text.startsWith("${", i) || text.startsWith("%{", i)) {
      flush();
      const opener = text.startsWith("${", i) ? "${" : "%{";
      const end = closingBrace(text, i + 2);
      if (end < 0) {
        segments.push({ kind: "unterminated", opener, offset: i });
        literal = text.slice(i);
        break;
      }
      segments.push(opener === "${" ? { kind: "interpolation", expression: text.slice(i + 2, end), offset: i } : { kind: "directive", text: text.slice(i, end + 1), offset: i });
      i = end + 1;
    } else {
      literal += text[i];
      i++;
    }
  }
  flush();
  return segments;
}

/** An interpolation's expression without strip markers (`${~ x ~}`) and surrounding blanks. */
function bareExpression(expression: string): string {
  return expression.trim().replace(/^~/, "").replace(/~$/, "").trim();
}

/**
 * The string as the program that receives it will see it, for linting and parsing: every
 * Terraform interpolation becomes a placeholder TF_REF_<n> (numbered from 0 by first
 * appearance, one number per distinct expression; letters, digits and _ only, so it is one
 * shell word in any quoting), then `$${` -> `${` and `%%{` -> `%{`, in one left-to-right pass.
 * Throws on an unterminated `${`. A `%{` directive is kept verbatim (terraformTemplateProblems reports it).
 * With `standIn`, each interpolation becomes the value it gives instead (the IAM judge's stand-in ARNs).
 */
export function materializeTerraformString(s: string, standIn?: (expression: string) => string): string {
  const numbers = new Map<string, number>();
  return templateSegments(s)
    .map((segment) => {
      switch (segment.kind) {
        case "literal":
          return segment.text;
        case "interpolation": {
          const key = bareExpression(segment.expression);
          if (standIn) return standIn(key);
          if (!numbers.has(key)) numbers.set(key, numbers.size);
          return `TF_REF_${numbers.get(key)}`;
        }
        case "directive":
          return segment.text;
        case "unterminated":
          throw new Error(`unterminated ${segment.opener} at offset ${segment.offset}: ${JSON.stringify(s.slice(segment.offset, segment.offset + 40))}`);
      }
    })
    .join("");
}

/** Reference roots that need no declaration in the document, with the attributes they have. */
const BUILTIN_ROOTS: Readonly<Record<string, readonly string[] | "any">> = {
  terraform: ["workspace"],
  path: ["module", "root", "cwd"],
  count: ["index"],
  each: ["key", "value"],
  self: "any",
};

// biome-ignore lint/suspicious/noExplicitAny: a synthesized Terraform document, walked by key
type Doc = Record<string, any>;

/** Why a reference (`aws_instance.x.id`, `var.y`) does not resolve in the document, or null. */
function unresolvedReference(doc: Doc, reference: string, where: readonly string[]): string | null {
  const [root, second, third] = reference.split(".");
  const has = (obj: unknown, key: string | undefined): boolean => key !== undefined && isPlainObject(obj) && Object.hasOwn(obj, key);
  if (root === undefined || root === "") return "empty reference";
  const builtin = BUILTIN_ROOTS[root];
  if (builtin !== undefined) {
    if (builtin !== "any" && (second === undefined || !builtin.includes(second))) return `${reference}: ${root}.${second ?? ""} is not defined`;
    if (root === "count" || root === "each") {
      // Only inside a block with count / for_each, or a dynamic block (whose iterator CDKTF names "each").
      const block = enclosingBlock(doc, where);
      const meta = root === "count" ? "count" : "for_each";
      if (!(isPlainObject(block) && meta in block) && !where.includes("dynamic")) return `${reference}: used outside a block with ${meta}`;
    }
    return null;
  }
  switch (root) {
    case "var":
      return has(doc.variable, second) ? null : `${reference}: no variable ${JSON.stringify(second ?? "")} in this stack`;
    case "local":
      return has(doc.locals, second) ? null : `${reference}: no local ${JSON.stringify(second ?? "")} in this stack`;
    case "module":
      return has(doc.module, second) ? null : `${reference}: no module ${JSON.stringify(second ?? "")} in this stack`;
    case "data":
      return has(doc.data, second) && has(doc.data[second!], third) ? null : `${reference}: no data source ${second ?? ""}.${third ?? ""} in this stack`;
    case "ephemeral":
      return has(doc.ephemeral, second) && has(doc.ephemeral[second!], third) ? null : `${reference}: no ephemeral resource ${second ?? ""}.${third ?? ""} in this stack`;
    default:
      if (second === undefined) return `${reference}: not a reference (a resource reference is <type>.<name>; a shell \${${root}} left unescaped?)`;
      return has(doc.resource, root) && has(doc.resource[root], second) ? null : `${reference}: no resource ${root}.${second} in this stack`;
  }
}

/** The resource/data/module block that holds the value at `where` (a path of keys). */
function enclosingBlock(doc: Doc, where: readonly string[]): unknown {
  const [kind, type, name] = where;
  if (kind === "resource" || kind === "data" || kind === "ephemeral") return doc[kind]?.[type!]?.[name!];
  if (kind === "module") return doc.module?.[type!];
  return undefined;
}

function jsonPath(where: readonly string[]): string {
  return where.reduce((acc, key) => (/^\d+$/.test(key) ? `${acc}[${key}]` : keyPath(acc, key)), "$");
}

/** hcl2json repeats the whole input (maybe several lines) before its diagnostic: keep the diagnostic. */
function diagnostic(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^getExpressionAst errors on input string '[\s\S]*?': /, "")
    .split("\n")[0]!
    .trim();
}

/**
 * Problems of every string of a synthesized cdk.tf.json as a Terraform template, one message
 * per problem with its JSON path: each unescaped `${` must close, parse as a Terraform
 * expression that is not a bare constant (`${1}` is a shell parameter left unescaped) and
 * reference only what the document declares (var., local., data.<type>.<name>,
 * ephemeral.<type>.<name>, <type>.<name>, module.; terraform.workspace, path.*, self; count./each. inside blocks that
 * have count/for_each). An unescaped `%{` is always a problem (a literal one is `%%{`).
 * "//" metadata is skipped; object keys are checked too.
 */
export async function terraformTemplateProblems(doc: Doc): Promise<string[]> {
  const problems: string[] = [];
  const strings: { where: string[]; text: string }[] = [];
  const walk = (value: unknown, where: string[]): void => {
    if (typeof value === "string") strings.push({ where, text: value });
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...where, String(i)]));
    else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (key === "//") continue;
        if (/[$%]\{/.test(key)) strings.push({ where: [...where, key], text: key });
        walk(item, [...where, key]);
      }
    }
  };
  walk(doc, []);

  for (const { where, text } of strings) {
    if (!text.includes("{")) continue;
    const at = jsonPath(where);
    for (const segment of templateSegments(text)) {
      if (segment.kind === "unterminated") {
        problems.push(`${at}: unterminated ${segment.opener} at offset ${segment.offset} (a literal one must be written ${segment.opener[0]}${segment.opener})`);
      } else if (segment.kind === "directive") {
        problems.push(`${at}: template directive ${JSON.stringify(segment.text.slice(0, 40))} at offset ${segment.offset} (a literal %{ must be written %%{)`);
      } else if (segment.kind === "interpolation") {
        const shown = JSON.stringify(`\${${segment.expression}}`.slice(0, 80));
        const expression = bareExpression(segment.expression);
        try {
          const ast = await getExpressionAst("cdk.tf.json", expression);
          if (ast === null) throw new Error("empty expression");
          if (ast.type === "literalValue") {
            problems.push(`${at}: ${shown} at offset ${segment.offset} interpolates a constant (a shell parameter left unescaped? a literal \${ must be written $\${)`);
            continue;
          }
        } catch (error) {
          problems.push(`${at}: ${shown} at offset ${segment.offset} is not a Terraform expression: ${diagnostic(error)}`);
          continue;
        }
        let references: { value: string }[];
        try {
          references = await getReferencesInExpression("cdk.tf.json", `\${${expression}}`);
        } catch (error) {
          problems.push(`${at}: ${shown} at offset ${segment.offset}: references cannot be read: ${diagnostic(error)}`);
          continue;
        }
        for (const reference of references) {
          const why = unresolvedReference(doc, reference.value, where);
          if (why) problems.push(`${at}: ${shown} at offset ${segment.offset}: ${why}`);
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// g. Heredocs
// ---------------------------------------------------------------------------------------------

/**
 * The body of the quoted here-document `<<'DELIMITER'` in a script, without the closing
 * delimiter line. Throws when it is missing, unquoted (the shell would expand its body),
 * repeated or unterminated.
 */
export function heredocBody(script: string, delimiter: string): string {
  const lines = script.split("\n");
  const opener = `<<'${delimiter}'`;
  const starts = lines.flatMap((line, i) => (line.trimEnd().endsWith(opener) ? [i] : []));
  if (starts.length === 0) {
    const unquoted = new RegExp(`<<-?\\s*"?${delimiter}"?\\s*$`, "m").test(script);
    throw new Error(unquoted ? `heredoc ${delimiter} is not quoted (<<'${delimiter}'): the shell would expand its body` : `no heredoc <<'${delimiter}' in the script`);
  }
  if (starts.length > 1) throw new Error(`heredoc <<'${delimiter}' appears ${starts.length} times`);
  const start = starts[0]! + 1;
  const end = lines.indexOf(delimiter, start);
  if (end < 0) throw new Error(`heredoc <<'${delimiter}' is not terminated by a line ${delimiter}`);
  return `${lines.slice(start, end).join("\n")}\n`;
}
