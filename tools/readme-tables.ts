// The README's Inputs and Outputs tables, generated from the synthesized stacks: each stack's
// Terraform `variable` blocks (type, default, description, validation) and `output` blocks.
// The mesh and intentions stacks come from the built-in default spec (their defaults are that
// spec's values); the tls-edge stack, which the default spec lacks, from examples/tls-edge.yaml.
// Prints the Markdown; --readme writes it into README.md between the inputs and outputs
// markers. __tests__/readme-tables.test.ts fails when the README's blocks are stale.
import * as fs from "node:fs";
import * as path from "node:path";
import type { MeshPlan } from "../lib/plan/types";
import { COMPATIBILITY, COMPONENT_NAMES, CONSUL_RELEASES, DEFAULT_VERSIONS, END_OF_SUPPORT, FIPS_IMAGES, minorOf, NEWEST_PATCH, VERSIONS_PINNED_ON } from "../lib/versions";
import { reachOf } from "../lib/rules/trust";
import { DEFAULT_SOURCE, loadSpec } from "../lib/pipeline";
import { parseCli, PROJECT_ROOT, runTool } from "./support";
import { synthesizePlan } from "./synthesize";

const USAGE = `usage: npm run readme:tables [-- --readme]

Prints the Terraform inputs (variables) and outputs of every stack as Markdown tables, generated
from the synthesized stacks (mesh and intentions from the built-in default spec, tls-edge from
examples/tls-edge.yaml).
  --readme     write them into README.md between <!-- inputs:start/end --> and
               <!-- outputs:start/end --> instead of printing
  -h, --help   this text`;

export const MARKERS = {
  inputs: ["<!-- inputs:start -->", "<!-- inputs:end -->"],
  outputs: ["<!-- outputs:start -->", "<!-- outputs:end -->"],
  trust: ["<!-- trust:start -->", "<!-- trust:end -->"],
  versions: ["<!-- versions:start -->", "<!-- versions:end -->"],
} as const;

/** The spec each stack is documented from. */
const TLS_EDGE_EXAMPLE = "examples/tls-edge.yaml";

/** The spec each kind of task's trust model is documented from: the first task of each kind in it. */
const TRUST_SOURCES = [
  { kind: "agent tasks", source: DEFAULT_SOURCE, pick: (plan: MeshPlan) => plan.services.find((s) => s.architecture === "agent")?.task },
  // A collector's grants are what the app reaches once metrics or traces are on (the default has neither).
  { kind: "agent tasks with metrics", source: "examples/three-tier.yaml", pick: (plan: MeshPlan) => plan.services.find((s) => s.architecture === "agent")?.task },
  { kind: "dataplane tasks", source: "examples/production.yaml", pick: (plan: MeshPlan) => plan.services.find((s) => s.architecture === "dataplane")?.task },
  { kind: "the TLS edge task", source: TLS_EDGE_EXAMPLE, pick: (plan: MeshPlan) => plan.tlsEdge?.task },
] as const;

interface VariableBlock {
  readonly type?: string;
  readonly default?: unknown;
  readonly description?: string;
  readonly nullable?: boolean;
  readonly sensitive?: boolean;
  readonly validation?: readonly { readonly error_message?: string }[];
}

interface OutputBlock {
  readonly description?: string;
  readonly sensitive?: boolean;
}

type StackJson = { readonly variable?: Record<string, VariableBlock>; readonly output?: Record<string, OutputBlock> };

/** The stacks to document, in deployment order, each with the spec it was synthesized from. */
export function documentedStacks(): { name: string; source: string; json: StackJson }[] {
  const fromDefault = synthesizePlan(loadSpec({}, undefined).plan);
  const tlsEdge = synthesizePlan(loadSpec({ MESH_SPEC: path.join(PROJECT_ROOT, TLS_EDGE_EXAMPLE) }, undefined).plan);
  return [
    { name: "mesh", source: DEFAULT_SOURCE, json: fromDefault.mesh as StackJson },
    { name: "intentions", source: DEFAULT_SOURCE, json: fromDefault.intentions as StackJson },
    { name: "tls-edge", source: TLS_EDGE_EXAMPLE, json: tlsEdge["tls-edge"] as StackJson },
  ];
}

/** A Markdown table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function defaultOf(v: VariableBlock): string {
  if (!("default" in v)) return "required";
  return code(JSON.stringify(v.default));
}

export function inputsMarkdown(stacks: ReturnType<typeof documentedStacks>): string {
  const parts: string[] = [];
  for (const stack of stacks) {
    const variables = Object.entries(stack.json.variable ?? {}).sort(([a], [b]) => a.localeCompare(b));
    parts.push(`**${stack.name}** (synthesized from ${stack.source === DEFAULT_SOURCE ? "the built-in default spec" : code(stack.source)})`, "");
    if (variables.length === 0) {
      parts.push("No variables.", "");
      continue;
    }
    parts.push("| name | type | default | description | validation |", "| --- | --- | --- | --- | --- |");
    for (const [name, v] of variables) {
      const rules = (v.validation ?? []).map((r) => r.error_message ?? "").filter(Boolean);
      const type = `${v.type ?? "any"}${v.nullable ? ", nullable" : ""}${v.sensitive ? ", sensitive" : ""}`;
      parts.push(`| ${code(name)} | ${cell(type)} | ${defaultOf(v)} | ${cell(v.description ?? "")} | ${cell(rules.join(" "))} |`);
    }
    parts.push("");
  }
  return parts.join("\n").trimEnd();
}

export function outputsMarkdown(stacks: ReturnType<typeof documentedStacks>): string {
  const parts: string[] = [];
  for (const stack of stacks) {
    // CDKTF's cross-stack outputs carry references between this project's stacks, not results for people.
    const outputs = Object.entries(stack.json.output ?? {})
      .filter(([name]) => !name.startsWith("cross-stack-output-"))
      .sort(([a], [b]) => a.localeCompare(b));
    parts.push(`**${stack.name}**`, "");
    if (outputs.length === 0) {
      parts.push("No outputs.", "");
      continue;
    }
    parts.push("| name | description | sensitive |", "| --- | --- | --- |");
    for (const [name, o] of outputs) parts.push(`| ${code(name)} | ${cell(o.description ?? "")} | ${o.sensitive ? "yes" : "no"} |`);
    parts.push("");
  }
  return parts.join("\n").trimEnd();
}

/** What the app of each kind of task reaches (lib/rules/trust.ts), from the plans the README documents. */
export function trustMarkdown(): string {
  const parts: string[] = [];
  for (const { kind, source, pick } of TRUST_SOURCES) {
    const plan = loadSpec(source === DEFAULT_SOURCE ? {} : { MESH_SPEC: path.join(PROJECT_ROOT, source) }, undefined).plan;
    const task = pick(plan);
    if (!task) throw new Error(`${source} has no ${kind}`);
    const app = task.containers.find((c) => c.untrusted);
    if (!app) throw new Error(`${kind} of ${source}: no container runs the app`);
    const reaches = reachOf(task, app);
    const from = source === DEFAULT_SOURCE ? "the built-in default spec" : code(source);
    if (reaches.length === 0) {
      parts.push(`**${kind}** (from ${from}): the app reaches no credential and no admin endpoint.`, "");
      continue;
    }
    const open = reaches.filter((r) => r.boundary === undefined);
    if (open.length > 0) throw new Error(`${kind} of ${source}: the app reaches ${open.map((r) => r.what).join(", ")} with no boundary named: the trust rule fails on it`);
    parts.push(`**${kind}** (from ${from}): the app reaches, as the architecture's boundary:`, "", "| what | through | why |", "| --- | --- | --- |");
    for (const r of reaches) parts.push(`| ${r.what === "admin" ? "an admin endpoint" : code(r.what)} | ${cell(r.how)} | ${cell(r.boundary!)} |`);
    parts.push("");
  }
  return parts.join("\n").trimEnd();
}

/** The README's Versions table, from lib/versions.ts: defaults, what else the tables allow, and when each line's support ends. */
export function versionsMarkdown(): string {
  const lines = (consulLine: string, field: "consulEcs" | "consulDataplane" | "envoy") => COMPATIBILITY[consulLine]![field].map((v) => `${v}.x`).join(", ");
  const rows = Object.keys(COMPATIBILITY);
  const endOf = (table: Readonly<Record<string, string>>, version: string) => table[minorOf(version)] ?? "not listed";
  const envoyEnds = Object.entries(END_OF_SUPPORT.envoy)
    .map(([line, end]) => `${line}: ${end}`)
    .join("; ");
  const parts = [
    "| component | default | also selectable (spec `versions`) | default line supported until |",
    "| --- | --- | --- | --- |",
    `| Consul (servers, agents) | ${DEFAULT_VERSIONS.consul} | ${Object.keys(CONSUL_RELEASES)
      .filter((v) => v !== DEFAULT_VERSIONS.consul)
      .join(", ")} | ${endOf(END_OF_SUPPORT.consul, DEFAULT_VERSIONS.consul)} |`,
    `| consul-ecs (dataplane tasks) | ${DEFAULT_VERSIONS.consulEcs} | ${rows.map((r) => `${lines(r, "consulEcs")} (Consul ${r})`).join("; ")} | |`,
    `| consul-dataplane | ${DEFAULT_VERSIONS.consulDataplane} | ${rows.map((r) => `${lines(r, "consulDataplane")} (Consul ${r})`).join("; ")} | |`,
    `| Envoy (agent tasks, the TLS edge) | ${DEFAULT_VERSIONS.envoy} | ${rows.map((r) => `${lines(r, "envoy")} (Consul ${r})`).join("; ")} | ${endOf(END_OF_SUPPORT.envoy, DEFAULT_VERSIONS.envoy)} |`,
    "",
    `Support ends, checked on ${VERSIONS_PINNED_ON}: Consul ${Object.entries(END_OF_SUPPORT.consul)
      .map(([line, end]) => `${line}: ${end}`)
      .join(
        "; ",
      )}; Envoy ${envoyEnds}. A spec whose Consul or Envoy line is past its end, or that pins an older patch of a line than the newest known (the table below), gets a warning naming what to move to.`,
    "",
    "| component | newest patch of each line known (older ones get a warning) |",
    "| --- | --- |",
    ...(["consulEcs", "consulDataplane", "envoy"] as const).map((field) => `| ${COMPONENT_NAMES[field]} | ${Object.values(NEWEST_PATCH[field]).join(", ")} |`),
    "",
    `FIPS builds (\`versions.fips: true\`, dataplane tasks only): ${Object.values(FIPS_IMAGES)
      .map(
        ({ repository, tags, architectures }) =>
          `\`${repository}\` tagged ${tags.map((r) => `\`<version>${r.suffix}\` for ${r.from} to ${r.through}`).join(", ")} (${architectures.join(", ")})`,
      )
      .join("; ")}.`,
  ];
  return parts.join("\n");
}

/** The generated text of a block, as it stands between its markers: where it comes from, then the tables. */
export function block(markdown: string, from = "the synthesized stacks"): string {
  return `<!-- Generated by \`npm run readme:tables -- --readme\` from ${from}: edit the code, not this block. -->\n${markdown}`;
}

/** Where the trust block comes from: the plans' trust model, which tests tie to the synthesized task definitions. */
export const TRUST_SOURCE = "the trust model of the plans (lib/rules/trust.ts)";

export const VERSIONS_SOURCE = "lib/versions.ts";

/** The text between a pair of markers, or undefined when they are missing or out of order. */
export function extractBlock(text: string, kind: keyof typeof MARKERS): string | undefined {
  const [start, end] = MARKERS[kind];
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return text
    .slice(from + start.length, to)
    .replace(/^\n/, "")
    .replace(/\n$/, "");
}

/** The text with a block replaced, or undefined when its markers are missing or out of order. */
export function replaceBlock(text: string, kind: keyof typeof MARKERS, content: string): string | undefined {
  const [start, end] = MARKERS[kind];
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { readme: { type: "boolean" } }, false, args);
  const stacks = documentedStacks();
  const generated = {
    inputs: block(inputsMarkdown(stacks)),
    outputs: block(outputsMarkdown(stacks)),
    trust: block(trustMarkdown(), TRUST_SOURCE),
    versions: block(versionsMarkdown(), VERSIONS_SOURCE),
  };
  if (!values.readme) {
    console.log(`## Inputs\n\n${generated.inputs}\n\n## Outputs\n\n${generated.outputs}\n\n## What the app reaches\n\n${generated.trust}\n\n## Versions\n\n${generated.versions}`);
    return 0;
  }
  const readmePath = path.join(PROJECT_ROOT, "README.md");
  const before = fs.readFileSync(readmePath, "utf8");
  let text = before;
  for (const kind of ["inputs", "outputs", "trust", "versions"] as const) {
    const replaced = replaceBlock(text, kind, generated[kind]);
    if (replaced === undefined) {
      console.error(`README.md lacks the ${kind} markers: add the two lines\n  ${MARKERS[kind][0]}\n  ${MARKERS[kind][1]}\nwhere the table belongs; nothing was written.`);
      return 1;
    }
    text = replaced;
  }
  if (text !== before) fs.writeFileSync(readmePath, text);
  console.log(`README.md: inputs, outputs and trust model ${text === before ? "unchanged" : "updated"}`);
  return 0;
}

void runTool(require.main === module, "readme:tables", main);
