// Every review tool's command line: --help prints the usage and does nothing else, an unknown
// option is refused before any work, and no tool writes into the project's own files unless
// asked (npm run diagram with a user's spec used to rewrite README.md and docs/).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";

const run = promisify(execFile);
const TSX = path.resolve("node_modules/.bin/tsx");
const TOOLS = ["render", "diagram", "bench", "policy", "synth-examples", "write-json-schema", "readme-tables"] as const;

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-test-"));
  tempDirs.push(dir);
  return dir;
}

/** Runs tools/<tool>.ts; resolves with the exit status and both streams, whatever the status. */
async function tool(name: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [`tools/${name}.ts`, ...args], { encoding: "utf8", env: { ...process.env, MESH_SPEC: "" } });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Content and modification time of every file the tools must not touch unasked. */
function projectFiles(): Map<string, string> {
  const files = ["README.md", "schema/mesh-spec.schema.json", ...fs.readdirSync("docs").map((f) => `docs/${f}`)];
  return new Map(files.map((f) => [f, `${fs.statSync(f).mtimeMs} ${fs.readFileSync(f, "utf8")}`]));
}

describe.each(TOOLS)("tools/%s.ts", (name) => {
  it.concurrent("prints its usage for --help, exit 0, and does nothing else", async () => {
    const started = Date.now();
    const result = await tool(name, ["--help"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^usage: /);
    expect(result.stderr).toBe("");
    // npm run bench -- --help used to start a minute-long run.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it.concurrent("refuses an unknown option with exit 2, the reason and the usage", async () => {
    const result = await tool(name, ["--bogus"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--bogus'/);
    expect(result.stderr).toMatch(/\nusage: /);
    expect(result.stdout).toBe("");
  });
});

describe("tools/diagram.ts", () => {
  it("prints a user's spec as Mermaid and writes nothing", async () => {
    const before = projectFiles();
    const result = await tool("diagram", ["--spec", "examples/three-tier.yaml"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^flowchart LR\n/);
    expect(result.stdout).not.toContain("http-client");
    expect(projectFiles()).toEqual(before);
  });

  it("writes the Mermaid and SVG files only into --out", async () => {
    const before = projectFiles();
    const out = path.join(tempDir(), "diagrams");
    const result = await tool("diagram", ["--spec", "examples/three-tier.yaml", "--out", out]);
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["mesh-diagram.mmd", "mesh-diagram.svg"]);
    expect(fs.readFileSync(path.join(out, "mesh-diagram.svg"), "utf8")).toContain("<svg");
    expect(projectFiles()).toEqual(before);
  });

  it("refuses an unknown --format", async () => {
    const result = await tool("diagram", ["--format", "png"]);
    expect(result).toMatchObject({ status: 2, stderr: expect.stringMatching(/--format must be one of mermaid, dot, svg, got "png"/) });
  });
});

describe("tools/render.ts --out", () => {
  it("refuses a directory that holds other files, and leaves it alone", async () => {
    const out = tempDir();
    fs.writeFileSync(path.join(out, "notes.txt"), "mine");
    const result = await tool("render", ["--out", out]);
    expect(result).toMatchObject({ status: 2, stderr: expect.stringMatching(/not empty and not an earlier render's output; nothing was written/) });
    expect(fs.readdirSync(out)).toEqual(["notes.txt"]);
  });

  it("writes there, and replaces its own earlier output", async () => {
    const out = path.join(tempDir(), "review");
    for (let i = 0; i < 2; i++) {
      const result = await tool("render", ["--out", out]);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(fs.existsSync(path.join(out, "mesh", "http-server.containers.json"))).toBe(true);
    }
  }, 60_000);
});

describe("tools/write-json-schema.ts", () => {
  it("prints the schema without --out and writes nothing", async () => {
    const before = projectFiles();
    const result = await tool("write-json-schema", []);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(meshSpecJsonSchema());
    expect(projectFiles()).toEqual(before);
  });
});
