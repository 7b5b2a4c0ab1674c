// Every review tool's command line: --help prints the usage and does nothing else, an unknown
// option is refused before any work, and no tool writes into the project's own files unless
// asked (npm run diagram with a user's spec used to rewrite README.md and docs/).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it, vi } from "vitest";
import { CliExit, parseCli, runTool } from "../tools/support";
import { OUTPUT_MARKER, userDataOf } from "../tools/render";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";
import { loadSpecFile } from "../lib/pipeline";
import { EXPECTED_DIFFERENCES, jsonDifferences } from "../tools/synth-cdktn";
import { synthAllStacks } from "./support/synth";

const run = promisify(execFile);
const TSX = path.resolve("node_modules/.bin/tsx");
const TOOLS = ["render", "diagram", "diff", "bench", "policy", "synth-examples", "synth-cdktn", "write-json-schema", "readme-tables", "vendor-envoy-api"] as const;

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-test-"));
  tempDirs.push(dir);
  return dir;
}

interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs tools/<tool>.ts's main in this process, as runTool does for the command: its exit code,
 * and what it printed (a CliExit's text goes where runTool prints it).
 */
async function tool(name: string, args: readonly string[]): Promise<ToolResult> {
  const { main } = (await import(`../tools/${name}.ts`)) as { main: (args: readonly string[]) => number | Promise<number> };
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...parts: unknown[]) => void out.push(`${parts.join(" ")}\n`)),
    vi.spyOn(console, "error").mockImplementation((...parts: unknown[]) => void err.push(`${parts.join(" ")}\n`)),
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    }),
  ];
  const saved = process.env.MESH_SPEC;
  process.env.MESH_SPEC = "";
  try {
    const status = await main(args);
    return { status, stdout: out.join(""), stderr: err.join("") };
  } catch (error) {
    if (!(error instanceof CliExit)) throw error;
    (error.code === 0 ? out : err).push(`${error.text}\n`);
    return { status: error.code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    for (const spy of spies) spy.mockRestore();
    if (saved === undefined) delete process.env.MESH_SPEC;
    else process.env.MESH_SPEC = saved;
  }
}

/** Runs tools/<tool>.ts as the command it is (tsx, as npm run does). */
async function command(name: string, args: readonly string[]): Promise<ToolResult> {
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
  it("prints its usage for --help, exit 0, and does nothing else", async () => {
    const before = projectFiles();
    const result = await tool(name, ["--help"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^usage: /);
    expect(result.stderr).toBe("");
    expect(projectFiles()).toEqual(before);
  });

  it("refuses an unknown option with exit 2, the reason and the usage", async () => {
    const result = await tool(name, ["--bogus"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Unknown option '--bogus'/);
    expect(result.stderr).toMatch(/\nusage: /);
    expect(result.stdout).toBe("");
  });

  it("runs its main only as the command, not when imported", () => {
    // The one line that makes the file a command: runTool runs main when the file is the program.
    expect(fs.readFileSync(`tools/${name}.ts`, "utf8")).toMatch(/\nvoid runTool\(require\.main === module, "[a-z:-]+", main(, 2)?\);\n$/);
  });
});

describe("runTool, the end of every tool", () => {
  /** runTool as the program would run it, with what it printed and the exit code it set. */
  async function asProgram(main: (args: readonly string[]) => number | Promise<number>, failureCode?: number) {
    const out: string[] = [];
    const err: string[] = [];
    const spies = [
      vi.spyOn(console, "log").mockImplementation((text: unknown) => void out.push(String(text))),
      vi.spyOn(console, "error").mockImplementation((text: unknown) => void err.push(String(text))),
    ];
    const saved = process.exitCode;
    try {
      await runTool(true, "tool", main, failureCode, ["--x"]);
      return { code: process.exitCode, stdout: out.join("\n"), stderr: err.join("\n") };
    } finally {
      process.exitCode = saved;
      for (const spy of spies) spy.mockRestore();
    }
  }

  it("prints --help on stdout with exit 0, a bad argument on stderr with exit 2", async () => {
    expect(await asProgram(() => parseCli("usage: tool", {}, false, ["--help"]) && 5)).toEqual({ code: 0, stdout: "usage: tool", stderr: "" });
    expect(await asProgram(() => parseCli("usage: tool", {}, false, ["--bogus"]) && 5)).toEqual({
      code: 2,
      stdout: "",
      stderr: expect.stringMatching(/^Unknown option '--bogus'[\s\S]*\n\nusage: tool$/),
    });
  });

  it("sets main's exit code, and reports a failure in one line with the tool's failure code", async () => {
    expect(await asProgram((args) => (args[0] === "--x" ? 3 : 4))).toEqual({ code: 3, stdout: "", stderr: "" });
    expect(
      await asProgram(async () => {
        throw new Error("no stack file");
      }, 2),
    ).toEqual({ code: 2, stdout: "", stderr: "tool failed: no stack file" });
  });

  it("does nothing when the file is imported", async () => {
    let ran = false;
    await runTool(false, "tool", () => {
      ran = true;
      return 0;
    });
    expect(ran).toBe(false);
  });
});

describe("a tool run as a command (tsx)", () => {
  it("prints the reason and the usage on stderr with exit 2", async () => {
    const result = await command("write-json-schema", ["--bogus"]);
    expect(result).toMatchObject({ status: 2, stdout: "", stderr: expect.stringMatching(/^Unknown option '--bogus'[\s\S]*\nusage: npx tsx tools\/write-json-schema.ts/) });
  });
});

describe("tools/diagram.ts", () => {
  it("stops on a bad spec with its problems and exit 1, without ending the process", async () => {
    const spec = path.join(tempDir(), "bad.yaml");
    fs.writeFileSync(spec, "services: {}\n");
    expect(await tool("diagram", ["--spec", spec])).toMatchObject({ status: 1, stderr: expect.stringMatching(/services: must define at least one service/) });
  });

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

  it("replaces its own earlier output there (the marker file says whose it is)", async () => {
    const out = path.join(tempDir(), "review");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, OUTPUT_MARKER), "an earlier render\n");
    fs.writeFileSync(path.join(out, "stale.json"), "{}");
    const result = await tool("render", ["--out", out]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(fs.existsSync(path.join(out, "mesh", "http-server.containers.json"))).toBe(true);
    expect(fs.existsSync(path.join(out, "stale.json"))).toBe(false);
    expect(fs.existsSync(path.join(out, OUTPUT_MARKER))).toBe(true);
  }, 60_000);
});

describe("tools/render.ts judges what ships", () => {
  it("reads user data where the stacks put it: literal, or a local the launch template gzips or encodes; anything else is a failed check", () => {
    const locals = { a_user_data: "#!/bin/bash\necho a\n" };
    expect(userDataOf("#!/bin/bash\necho b\n", locals)).toEqual({ text: "#!/bin/bash\necho b\n", gzipped: false });
    expect(userDataOf("${base64gzip(local.a_user_data)}", locals)).toEqual({ text: locals.a_user_data, gzipped: true });
    expect(userDataOf("${base64encode(local.a_user_data)}", locals)).toEqual({ text: locals.a_user_data, gzipped: false });
    expect(userDataOf('${file("x.sh")}', locals)).toBeUndefined();
    expect(userDataOf("${base64gzip(local.missing)}", locals)).toBeUndefined();
  });

  it("shows the model behind a spec only the rules reject, and refuses an endless file by its size", async () => {
    const spec = path.join(tempDir(), "crowded.yaml");
    fs.writeFileSync(spec, 'services:\n  web: { image: "busybox:1.37", port: 8080, user: "1", count: 9 }\n');
    const rejected = await tool("render", ["--spec", spec]);
    expect(rejected.status).toBe(1);
    expect(rejected.stdout).toMatch(/Deployability model of/);
    expect(rejected.stderr).toMatch(/ecsHosts\.instanceType: .*at most 4 awsvpc tasks/);
    const endless = await tool("render", ["--spec", "/dev/zero"]);
    expect(endless).toMatchObject({ status: 1, stderr: expect.stringMatching(/larger than the limit of 2 MiB/) });
    expect(endless.stdout).not.toMatch(/Deployability model/);
  });

  it("checks the production servers' and hosts' user data and every consul-ecs config, and counts each run's checks alone", async () => {
    // A render of the default spec first: none of its rows may show up in the next run's table.
    expect((await tool("render", ["--out", tempDir()])).status).toBe(0);
    const result = await tool("render", ["--spec", "examples/production.yaml", "--out", tempDir()]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const rows = result.stdout.split("\n");
    for (const template of ["consul_servers_server_1", "consul_servers_server_2", "consul_servers_server_3", "ecs_hosts"]) {
      expect(
        rows.some((r) => r.startsWith(`mesh/${template}_launch_template.user-data.sh`) && /lintShell\s+ok/.test(r)),
        template,
      ).toBe(true);
    }
    expect(rows.filter((r) => /consul-ecs\.json\s+judgeConsulEcsConfig\s+ok/.test(r))).toHaveLength(6);
    expect(rows.filter((r) => r.includes("http-server"))).toEqual([]);
    const [, passed, total] = /(\d+)\/(\d+) checks passed/.exec(result.stdout) ?? [];
    expect(passed).toBeDefined();
    expect(rows.filter((r) => /^mesh\/|^intentions\/|^IAM of every role |^server scripts with hostile inputs /.test(r))).toHaveLength(Number(total));
    expect(rows.some((r) => /^server scripts with hostile inputs +judgeScriptInputs +ok$/.test(r))).toBe(true);
    // The IAM table: each call, its resource and the statement that allows it.
    expect(rows.some((r) => /^IAM of every role +evaluateIam \(iam-simulate\) +ok$/.test(r))).toBe(true);
    expect(rows.filter((r) => /^consul_servers_server_\d_role_role +kms:CreateGrant +arn:aws:kms:\S+ +.*attach-volume +allowed +server-placement #3$/.test(r))).toHaveLength(3);
  }, 120_000);
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

describe("tools/policy.ts", () => {
  it("runs the rules and the servers' scripts with hostile inputs over synthesized stacks; a reaper that passes task IDs as arguments is a finding", async () => {
    const stacks = synthAllStacks(loadSpecFile("examples/production.yaml").spec as never) as Record<string, any>;
    // One server: every server installs the same units.
    for (const name of Object.keys(stacks.mesh.resource.aws_launch_template))
      if (name !== "consul_servers_server_1_launch_template") delete stacks.mesh.resource.aws_launch_template[name];
    const write = (dir: string, doc: object) => {
      fs.mkdirSync(path.join(dir, "mesh"), { recursive: true });
      fs.writeFileSync(path.join(dir, "mesh", "cdk.tf.json"), JSON.stringify(doc));
      return path.join(dir, "mesh", "cdk.tf.json");
    };
    const clean = await tool("policy", [write(tempDir(), stacks.mesh)]);
    expect(clean.status, clean.stdout + clean.stderr).toBe(0);
    // Nothing else: no secret is in state, and none is listed apart any more.
    expect(clean.stdout).toMatch(/^policy: no findings \(1 stack, \d+ rules\)\n$/);
    // A private key in state fails the run like any other finding.
    const withKey = structuredClone(stacks.mesh);
    withKey.resource.tls_private_key = { consul_secrets_ca_key: { algorithm: "ECDSA", ecdsa_curve: "P256" } };
    const keyed = await tool("policy", [write(tempDir(), withKey)]);
    expect(keyed.status).toBe(1);
    expect(keyed.stdout).toMatch(/^mesh +MESH_NO_SECRET_IN_STATE +tls_private_key\.consul_secrets_ca_key +a managed private key is in state/m);
    const locals = stacks.mesh.locals as Record<string, string>;
    locals.consul_servers_server_1_user_data = locals.consul_servers_server_1_user_data!.replace(
      '--cli-input-json "$request"',
      '--cluster "$CLUSTER_ARN" --tasks "${tasks[@]:i:100}"',
    );
    const hostile = await tool("policy", [write(tempDir(), stacks.mesh)]);
    expect(hostile.status).toBe(1);
    expect(hostile.stdout).toMatch(/mesh +MESH_SCRIPT_INPUTS +consul_servers_server_1_launch_template +consul-task-reaper\.service: describe-tasks names its tasks as arguments/);
  }, 120_000);
});

describe("tools/synth-cdktn.ts", () => {
  it("finds every path where two syntheses differ, and knows only the metadata version as expected", () => {
    const a = { "//": { metadata: { version: "0.21.0" } }, resource: { x: { y: { tags: ["a"], n: 1 } } } };
    const b = { "//": { metadata: { version: "0.24.0" } }, resource: { x: { y: { tags: ["a", "b"] } } } };
    const differences = jsonDifferences(a, b);
    expect(differences).toEqual([
      { path: "////metadata/version", left: '"0.21.0"', right: '"0.24.0"' },
      { path: "/resource/x/y/n", left: "1", right: "(missing)" },
      { path: "/resource/x/y/tags", left: "1 items", right: "2 items" },
    ]);
    expect(differences.map((d) => EXPECTED_DIFFERENCES.some((e) => e.path.test(d.path)))).toEqual([true, false, false]);
  });
});
