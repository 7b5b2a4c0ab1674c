// npm run diagram: the mesh spec as a picture. By default it prints Mermaid on stdout and
// writes nothing; files are written only where asked:
//   --out <dir>   <dir>/mesh-diagram.mmd (Mermaid) and <dir>/mesh-diagram.svg (Graphviz, rendered
//                 offline by WASM)
//   --readme      the project's README.md, between <!-- mesh-diagram:start --> and
//                 <!-- mesh-diagram:end --> (a test keeps that block equal to the default spec's)
// The spec is --spec, else the one `cdktf synth` uses (MESH_SPEC, cdktf.json context.meshSpec,
// or the built-in default).
import * as fs from "node:fs";
import * as path from "node:path";
import { meshDot, meshMermaid, readmeDiagramBlock, README_END, README_START, renderSvg, replaceReadmeDiagram } from "./mesh-graph";
import { DEFAULT_SOURCE } from "../lib/pipeline";
import { loadProjectSpec, parseCli, PROJECT_ROOT, runTool, usageError } from "./support";

const USAGE = `usage: npm run diagram -- [--spec <file>] [--format mermaid|dot|svg] [--out <dir>] [--readme]

Draws the mesh of a spec. Without --out or --readme it prints the diagram on stdout and writes nothing.
  --spec <file>     the spec to draw (default: MESH_SPEC, else cdktf.json context.meshSpec, else the built-in default)
  --format <f>      what to print on stdout: mermaid (default), dot (Graphviz) or svg
  --out <dir>       write <dir>/mesh-diagram.mmd and <dir>/mesh-diagram.svg instead of printing
  --readme          rewrite the diagram block of this project's README.md (between the mesh-diagram markers)
                    instead of printing; the README shows the built-in default spec
  -h, --help        this text

Refresh the project's own diagrams (README and docs/): npm run diagram -- --readme --out docs`;

const FORMATS = ["mermaid", "dot", "svg"] as const;

export async function main(args: readonly string[]): Promise<number> {
  const { values } = parseCli(USAGE, { spec: { type: "string" }, format: { type: "string" }, out: { type: "string" }, readme: { type: "boolean" } }, false, args);
  const format = values.format ?? "mermaid";
  if (!(FORMATS as readonly string[]).includes(format)) usageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`, USAGE);
  if (values.format !== undefined && (values.out !== undefined || values.readme))
    usageError("--format chooses what is printed; it cannot be combined with --out or --readme", USAGE);

  const { plan, source } = loadProjectSpec(values.spec);
  const mermaid = meshMermaid(plan);
  if (values.out === undefined && !values.readme) {
    process.stdout.write(format === "mermaid" ? mermaid : format === "dot" ? meshDot(plan) : await renderSvg(meshDot(plan)));
    return 0;
  }

  const written: string[] = [];
  if (values.readme) {
    const readmePath = path.join(PROJECT_ROOT, "README.md");
    const readme = fs.readFileSync(readmePath, "utf8");
    const updated = replaceReadmeDiagram(readme, readmeDiagramBlock(mermaid));
    if (updated === undefined) {
      console.error(`README.md has no diagram markers: add the two lines\n  ${README_START}\n  ${README_END}\nwhere the diagram belongs (start before end); nothing was written.`);
      return 1;
    }
    if (updated !== readme) fs.writeFileSync(readmePath, updated);
    written.push(`README.md (${updated === readme ? "unchanged" : "updated"})`);
    if (source !== DEFAULT_SOURCE) {
      console.warn(
        `note: README.md now shows ${source}; the README freshness test expects the built-in default spec (run --readme without --spec or MESH_SPEC before committing).`,
      );
    }
  }
  if (values.out !== undefined) {
    const svg = await renderSvg(meshDot(plan));
    fs.mkdirSync(values.out, { recursive: true });
    for (const [name, text] of [
      ["mesh-diagram.mmd", mermaid],
      ["mesh-diagram.svg", svg],
    ] as const) {
      fs.writeFileSync(path.join(values.out, name), text);
      written.push(path.join(values.out, name));
    }
  }
  console.log(`diagram of ${source}: ${written.join(", ")}`);
  return 0;
}

void runTool(require.main === module, "diagram", main);
