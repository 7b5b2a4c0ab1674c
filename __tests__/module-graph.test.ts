// Data flows one way (docs/architecture.md): no cycle among the synth path's modules, neither
// between files nor between stages (a folder of lib/, a file directly in lib/, stacks/), and the
// synth path never imports the review tooling or the tests.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOTS = ["lib", "stacks"];

/** Every module specifier of a file: import and export-from statements, import() and require(). */
function specifiersOf(text: string): string[] {
  const code = text.replace(/^\s*\/\*[\s\S]*?\*\//gm, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    // The clause between the keyword and "from" holds only names, braces, commas, "*", "as" and "type".
    /^\s*(?:import|export)\s[\w\s{},*$]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\b(?:import|require)\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((m) => m[1]!));
}

/** A relative specifier as a path from the project root, or undefined for a package. */
function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.normalize(path.join(path.dirname(from), specifier.replace(/\.js$/, "")));
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`${from}: cannot resolve "${specifier}"`);
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** lib/plan/build.ts -> lib/plan; lib/facts.ts -> lib/facts.ts; stacks/index.ts -> stacks. */
function stageOf(file: string): string {
  const parts = file.split(path.sep);
  return parts[0] === "lib" && parts.length === 2 ? file : parts.slice(0, parts[0] === "lib" ? 2 : 1).join("/");
}

/** One cycle of a directed graph, as its nodes with the first repeated at the end, or undefined. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const trail: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "open") return [...trail.slice(trail.indexOf(node)), node];
    if (state.get(node) === "done") return undefined;
    state.set(node, "open");
    trail.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const files = ROOTS.flatMap(sourceFiles);
const imports = new Map(files.map((file) => [file, specifiersOf(fs.readFileSync(file, "utf8")).flatMap((s) => resolve(file, s) ?? [])]));

function graphOf(node: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of imports) {
    const edges = graph.get(node(file)) ?? new Set();
    for (const target of targets) if (node(target) !== node(file)) edges.add(node(target));
    graph.set(node(file), edges);
  }
  return graph;
}

describe("the module graph of lib/ and stacks/", () => {
  it("finds the imports of every kind of statement, and only those", () => {
    const text = [
      'import * as fs from "node:fs";',
      'import type { A,\n  B } from "./a";',
      'export { c } from "../c";',
      'export * from "./d";',
      'import "./e";',
      'const f = require("./f") as typeof import("./g");',
      '// import { x } from "./commented";',
      'export const h = "from \\"./not-an-import\\"";',
    ].join("\n");
    expect(specifiersOf(text)).toEqual(["node:fs", "./a", "../c", "./d", "./e", "./f", "./g"]);
  });

  it("finds a cycle, and none in a graph without one", () => {
    const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));
    expect(findCycle(graph({ a: ["b"], b: ["c"], c: ["a"] }))).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(graph({ a: ["b", "c"], b: ["c"], c: [] }))).toBeUndefined();
  });

  it("reads every file (the parser is not missing the synth path)", () => {
    expect(imports.get(path.join("stacks", "index.ts"))).toContain(path.join("lib", "plan", "types.ts"));
  });

  it("has no cycle between files", () => {
    expect(findCycle(graphOf((file) => file))).toBeUndefined();
  });

  it("has no cycle between stages", () => {
    expect(findCycle(graphOf(stageOf))).toBeUndefined();
  });

  it("never imports the review tooling or the tests", () => {
    const outside = [...imports].flatMap(([file, targets]) => targets.filter((t) => !ROOTS.includes(t.split(path.sep)[0]!)).map((t) => `${file} -> ${t}`));
    expect(outside).toEqual([]);
  });
});
