// npm run diagram: the mesh spec as a picture.
//   README.md, between <!-- mesh-diagram:start --> and <!-- mesh-diagram:end --> (Mermaid)
//   docs/mesh-diagram.mmd (Mermaid), docs/mesh-diagram.svg (Graphviz, rendered offline by WASM)
// The spec is the one `cdktf synth` uses (MESH_SPEC, cdktf.json context.meshSpec, or the
// built-in default). A test keeps the README block equal to the default spec's diagram.
import * as fs from "node:fs";
import * as path from "node:path";
import { meshDot, meshMermaid, readmeDiagramBlock, README_END, README_START, renderSvg, replaceReadmeDiagram } from "./mesh-graph";
import { DEFAULT_SOURCE } from "../lib/spec/load";
import { loadProjectSpec, PROJECT_ROOT } from "./support";

async function main(): Promise<number> {
  const { plan, source } = loadProjectSpec();
  const readmePath = path.join(PROJECT_ROOT, "README.md");
  const readme = fs.readFileSync(readmePath, "utf8");
  const mermaid = meshMermaid(plan);
  const updated = replaceReadmeDiagram(readme, readmeDiagramBlock(mermaid));
  if (updated === undefined) {
    console.error(
      `README.md has no diagram markers: add the two lines\n  ${README_START}\n  ${README_END}\n` +
        "where the diagram belongs (start before end); nothing was written.",
    );
    return 1;
  }
  const docs = path.join(PROJECT_ROOT, "docs");
  fs.mkdirSync(docs, { recursive: true });
  const svg = await renderSvg(meshDot(plan));
  if (updated !== readme) fs.writeFileSync(readmePath, updated);
  fs.writeFileSync(path.join(docs, "mesh-diagram.mmd"), mermaid);
  fs.writeFileSync(path.join(docs, "mesh-diagram.svg"), svg);
  console.log(`diagram of ${source}: README.md (${updated === readme ? "unchanged" : "updated"}), docs/mesh-diagram.mmd, docs/mesh-diagram.svg`);
  if (source !== DEFAULT_SOURCE) {
    console.warn(
      `note: README.md now shows ${source}; the README freshness test expects the built-in default spec (run without MESH_SPEC before committing).`,
    );
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`diagram failed: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
