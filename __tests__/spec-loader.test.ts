// The spec loader in layers (document -> structure -> semantic rules, every error in one run),
// its bounds on hostile input, and how `cdktf synth` shows spec problems: each once, labelled.
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { formatSpecIssues, MAX_LISTED_ISSUES, SpecError, type SpecIssue } from "../lib/issues";
import { SPEC_LIMITS } from "../lib/spec/limits";
import { loadSpecFile, parseSpec } from "../lib/pipeline";
import { parseDocument } from "../lib/spec/document";
import { rejectionOf } from "./support/spec-issues";
import { REPORT_FILES, REPORT_NAME, writeErrorReport } from "../lib/synth-report";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "spec-loader-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const paths = (issues: readonly SpecIssue[]) => issues.map((issue) => issue.path);

/** The default spec with changes: every bad spec below differs from a good one in a few places. */
function specWith(change: (spec: any) => void): unknown {
  const spec = structuredClone(DEFAULT_SPEC) as any;
  change(spec);
  return spec;
}

describe("every layer in one run", () => {
  it("checks the fields of a badly named service, and the rules on the other services", () => {
    const errors = rejectionOf(
      specWith((s) => {
        s.services.Bad_Name = { image: 5, port: 8080 };
        s.services["http-server"].count = "3";
        s.services["http-client"].image = "curlimages/curl:latest";
      }),
    ).errors;
    expect(errors).toEqual([
      { path: "services.http-server.count", message: expect.stringMatching(/expected number/) },
      { path: "services.Bad_Name", message: expect.stringMatching(/^invalid name: must be lowercase letters/) },
      { path: "services.Bad_Name.image", message: expect.stringMatching(/expected string/) },
      { path: "services.http-client.image", message: expect.stringMatching(/:latest/) },
    ]);
  });

  it("does not call a service unknown because it was left out for a bad field", () => {
    const errors = rejectionOf(
      specWith((s) => {
        s.services["http-server"].port = "eighty";
        s.services["http-client"].upstreams.push({ destination: "http-sever", localBindPort: 9000 });
        s.intentions = [{ source: "http-client", destination: "http-server", action: "deny" }];
      }),
    ).errors;
    expect(errors).toEqual([
      { path: "services.http-server.port", message: expect.stringMatching(/expected number/) },
      // A real typo next to it is still reported.
      { path: "services.http-client.upstreams[1].destination", message: expect.stringMatching(/unknown service "http-sever"/) },
    ]);
  });

  it("maps intentions back to their place in the file when a broken one is left out", () => {
    const intention = { source: "http-client", destination: "http-server", action: "deny" };
    const errors = rejectionOf(
      specWith((s) => (s.intentions = [{ ...intention, action: "block" }, intention, { ...intention }, { source: "nope", destination: "http-server", action: "allow" }])),
    ).errors;
    expect(errors).toEqual([
      { path: "intentions[0].action", message: expect.stringMatching(/expected one of "allow"\|"deny"/) },
      { path: "intentions[3].source", message: expect.stringMatching(/unknown service "nope"/) },
      { path: "intentions[2]", message: "duplicates intentions[1] (http-client -> http-server); keep one" },
    ]);
  });

  it("does not judge the network on defaults while a network setting is broken, but still checks the services", () => {
    const errors = rejectionOf(
      specWith((s) => {
        s.network = { vpcCidr: "172.16.0.0/33", zones: [{ privateSubnet: "172.16.1.0/24", publicSubnet: "172.16.0.0/28" }] };
        s.consul.serverPrivateIps = ["172.16.1.10"];
        s.ecsHosts.privateIps = ["172.16.1.20", "172.16.1.21"];
        s.services["http-server"].port = 8500;
      }),
    ).errors;
    expect(errors).toEqual([
      { path: "network.vpcCidr", message: "must be an IPv4 CIDR block such as 10.0.0.0/16" },
      { path: "services.http-server.port", message: expect.stringMatching(/consul-agent's Consul HTTP API/) },
    ]);
  });

  it("leaves out a broken TLS edge without holding back the other rules", () => {
    const errors = rejectionOf(
      specWith((s) => {
        s.tlsEdge = { cpu: 300 };
        s.ecsHosts.privateIps[0] = "10.0.101.1";
      }),
    ).errors;
    expect(paths(errors)).toEqual(["tlsEdge.cpu", "ecsHosts.privateIps[0]"]);
  });

  it("reports only the structure when no service is sound, or the document is not a mapping", () => {
    expect(rejectionOf(specWith((s) => (s.services = { "http-server": { image: 1 } }))).errors).toEqual([
      { path: "services.http-server.image", message: expect.stringMatching(/expected string/) },
    ]);
    expect(rejectionOf(["services"]).errors).toEqual([{ path: "(root)", message: expect.stringMatching(/expected object/) }]);
  });

  it("strips unknown keys and still runs every rule (the document's warnings too)", () => {
    const error = rejectionOf(
      specWith((s) => {
        s.ecsHosts.instanceType = "m6i.large";
        s.services["http-client"].upstreamz = [];
        s.services["http-server"].image = "x";
      }),
    );
    expect(paths(error.errors)).toEqual(["services.http-client", "services.http-server.image"]);
    expect(paths(error.warnings)).toEqual(["consul.servers", "ecsHosts.instanceType", "services.http-client.enableExecuteCommand"]);
  });
});

describe("spec documents", () => {
  it("reads JSON through JSON.parse to the same value as through the YAML parser", () => {
    for (const file of ["examples/default.yaml", "examples/three-tier.yaml", "examples/large-mesh.yaml", "examples/tls-edge.yaml"]) {
      const value = YAML.parse(fs.readFileSync(file, "utf8"));
      expect(parseDocument(JSON.stringify(value, null, 2), "t.json")).toEqual(value);
      expect(parseDocument(fs.readFileSync(file, "utf8"), file)).toEqual(value);
    }
  });

  it("reports a YAML syntax error once, with line, column and the yaml library's code frame", () => {
    const errors = rejectionOf("services:\n  web:\n    image: a:1\n   port: 80\n").errors;
    expect(errors).toEqual([{ path: "line 4, column 1", message: "All mapping items must start at the same column", excerpt: "    image: a:1\n   port: 80\n^" }]);
    expect(rejectionOf("services:\n  a: [\n").errors).toHaveLength(1);
  });

  it("reports JSON that JSON.parse rejects through the YAML parser, with a position", () => {
    expect(rejectionOf('{\n  "services": {\n    "a": { "image": "x:1", }\n  ,,}\n}').errors[0]).toMatchObject({ path: "line 4, column 4", excerpt: expect.stringContaining("^") });
  });

  it("rejects duplicate keys in JSON, escaped or not", () => {
    expect(rejectionOf('{"services": {"web": {"image": "a:1"},\n "w\\u0065b": {"image": "b:1"}}}').errors).toEqual([
      {
        path: "line 2, column 2",
        message: expect.stringMatching(/^duplicate key "web" \(first at line 1, column 15\); keys must be unique/),
        excerpt: ' "w\\u0065b": {"image": "b:1"}}}\n ^',
      },
    ]);
  });

  it("rejects YAML keys that would become the same property, and keys that are not plain values", () => {
    expect(rejectionOf("services:\n  1: {image: a:1}\n  '1': {image: b:1}\n").errors).toEqual([
      expect.objectContaining({ path: "line 3, column 3", message: expect.stringMatching(/duplicate key "1"/) }),
    ]);
    expect(rejectionOf("services:\n  ? [a, b]\n  : {image: a:1}\n").errors).toEqual([
      expect.objectContaining({ path: "line 2, column 5", message: expect.stringMatching(/a key must be a plain value/) }),
    ]);
  });

  it("rejects tags, which would turn a value into something else or be dropped silently", () => {
    expect(rejectionOf("services:\n  web: {image: !Ref Image, port: 80}\n").errors).toEqual([
      expect.objectContaining({ path: "line 2, column 16", message: expect.stringMatching(/^Unresolved tag: !Ref; a spec holds plain values .*remove the tag$/) }),
    ]);
    expect(rejectionOf("services:\n  web: {image: !!binary aGVsbG8=, port: 80}\n").errors).toEqual([
      expect.objectContaining({ path: "line 2, column 16", message: expect.stringMatching(/^Unresolved tag: tag:yaml\.org,2002:binary;/) }),
    ]);
  });

  it("reads YAML 1.2's core schema even under a %YAML 1.1 directive: no merge keys, no yes/no booleans", () => {
    expect(parseDocument("%YAML 1.1\n---\n<<: {name: a}\nenabled: yes\n", "t.yaml")).toEqual({ "<<": { name: "a" }, enabled: "yes" });
  });

  it("rejects a file with more than one document", () => {
    expect(rejectionOf("services: {}\n---\nname: x\n").errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/more than one YAML document/) })]);
  });

  it("accepts an anchor reused by many services (aliases are not a bomb)", () => {
    const services = Array.from({ length: 500 }, (_, i) => `  s${i}: {image: "a:1", port: 8080, launchType: FARGATE, assignPublicIp: true, healthCheck: *check}`);
    const text = `checks: &check {type: http, path: /health}\nservices:\n${services.join("\n")}\n`;
    const document = parseDocument(text, "t.yaml") as any;
    expect(document.services.s499.healthCheck).toEqual({ type: "http", path: "/health" });
  });

  it("rejects aliases without an anchor, and aliases inside their own anchor", () => {
    expect(rejectionOf("services: *nope\n").errors).toEqual([expect.objectContaining({ path: "line 1, column 11", message: "alias *nope has no anchor &nope before it" })]);
    expect(rejectionOf("services: &loop {web: *loop}\n").errors).toEqual([
      expect.objectContaining({ path: "line 1, column 23", message: expect.stringMatching(/inside the value it refers to/) }),
    ]);
  });
});

/** Pathological inputs: each must be a SpecError naming the reason (timings are in the report, not asserted). */
const pathological: Record<string, { readonly text: string; readonly message: RegExp }> = {
  "5,000 nested brackets (YAML)": { text: `services: ${"[".repeat(5000)}${"]".repeat(5000)}\n`, message: /line 1, column 74: nested more than 64 levels deep/ },
  "5,000 nested brackets (JSON)": { text: `{"services": ${"[".repeat(5000)}${"]".repeat(5000)}}`, message: /line 1, column 77: nested more than 64 levels deep/ },
  "5,000 unclosed brackets": { text: "[".repeat(5000), message: /line 1, column 65: nested more than 64 levels deep/ },
  "an alias bomb": {
    text: `a: &a [x, x, x, x, x, x, x, x, x, x]\n${"bcdefghij"
      .split("")
      .map((n, i) => `${n}: &${n} [${Array(10).fill(`*${"abcdefghij"[i]}`).join(", ")}]`)
      .join("\n")}\nservices: *j\n`,
    message: /alias \*e expands the document past 250000 values \(an "alias bomb"\)/,
  },
  "a 10 MB spec with 160,000 keys": {
    text: `services:\n${Array.from({ length: 160_000 }, (_, i) => `  svc-${String(i).padStart(6, "0")}: {image: "hashicorp/http-echo:1.0.0", port: 8080}`).join("\n")}\n`,
    message: /the file is 9\.61 MiB \(\d+ bytes\), over the limit of 2 MiB \(2097152 bytes\)/,
  },
  "a YAML flow sequence of 300,000 items under the size limit": { text: `services: [${"1,".repeat(300_000)}1]\n`, message: /the YAML has more than 400000 tokens/ },
  "JSON with 300,000 values under the size limit": { text: `{"services": [${"1,".repeat(300_000)}1]}`, message: /the document has more than 250000 values/ },
  "more aliases than the limit": {
    text: `a: &a 1\nb: [${Array(SPEC_LIMITS.aliases + 1)
      .fill("*a")
      .join(",")}]\n`,
    message: /more than 5000 aliases/,
  },
};

describe("bounds on the input", () => {
  it.each(Object.entries(pathological))("rejects %s with a spec error", (_name, { text, message }) => {
    const file = path.join(tmp, "pathological.yaml");
    fs.writeFileSync(file, text);
    let caught: unknown;
    try {
      loadSpecFile(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpecError);
    expect((caught as SpecError).message).toMatch(message);
    expect((caught as SpecError).message).not.toMatch(/Maximum call stack|\n\s+at /);
  });

  it("reads a stream no further than the limit", () => {
    expect(() => loadSpecFile("/dev/zero")).toThrow(/the file is larger than the limit of 2 MiB/);
  });

  it("bounds text given directly, not only files", () => {
    expect(() => parseDocument(`${" ".repeat(SPEC_LIMITS.fileBytes)}{}`, "t.yaml")).toThrow(/over the limit of 2 MiB/);
  });
});

describe("listing problems", () => {
  it("prints a code frame under its issue, and at most MAX_LISTED_ISSUES issues", () => {
    const issues = Array.from({ length: MAX_LISTED_ISSUES + 2 }, (_, i) => ({ path: `p${i}`, message: "m" }));
    const text = formatSpecIssues("t.yaml", [{ path: "line 1, column 3", message: "bad", excerpt: "a: [\n  ^" }, ...issues], []);
    expect(text.split("\n").slice(0, 4)).toEqual([`Mesh spec t.yaml is invalid (${MAX_LISTED_ISSUES + 3} errors):`, "  - line 1, column 3: bad", "      a: [", "        ^"]);
    expect(text).toMatch(/\n {2}\.\.\. and 3 more errors \(fix the ones above first\)$/);
  });

  it("prints a warning that applies to many services once, with the count and their names; every path stays in the warnings", () => {
    const names = Array.from({ length: 500 }, (_, i) => `svc-${String(i).padStart(3, "0")}`);
    const services = Object.fromEntries(names.map((name) => [name, { image: "hashicorp/http-echo:1.0.0", count: 0 }]));
    const { warnings, source } = parseSpec({ services }, "many.yaml");
    const unset = warnings.filter((w) => /^unset: the app runs as its image's default user/.test(w.message));
    expect(unset.map((w) => w.path)).toEqual(names.map((name) => `services.${name}.user`));

    const lines = formatSpecIssues(source, [], warnings).split("\n");
    expect(lines.filter((line) => line.includes("user"))).toEqual([
      `  - services.*.user: ${unset[0]!.message} (500 services: svc-000, svc-001, svc-002, svc-003, svc-004 and 495 more)`,
    ]);
    // Under cdktf synth too: one annotation for the 500.
    const out = fs.mkdtempSync(path.join(tmp, "report-"));
    writeErrorReport(out, source, [], warnings);
    const annotations = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).stacks[REPORT_NAME].annotations as { message: string }[];
    expect(annotations.filter((a) => a.message.includes("user")).map((a) => a.message)).toEqual([lines.find((line) => line.includes("user"))!.slice(4)]);
  });

  it("keeps a warning of one service, and different messages on the same field, apart", () => {
    const issues = [
      { path: "services.a.user", message: "m" },
      { path: "services.b.port", message: "m" },
      { path: "services.c.user", message: "other" },
      { path: "services.d.user", message: "m" },
    ];
    expect(formatSpecIssues("t.yaml", [], issues).split("\n").slice(1)).toEqual([
      "  - services.*.user: m (2 services: a, d)",
      "  - services.b.port: m",
      "  - services.c.user: other",
    ]);
  });

  it("counts a service with the same issue twice once", () => {
    const twice = { path: "services.web.user", message: "m" };
    expect(
      formatSpecIssues("t.yaml", [], [twice, twice, { path: "services.api.user", message: "m" }])
        .split("\n")
        .slice(1),
    ).toEqual(["  - services.*.user: m (2 services: web, api)"]);
    // One service alone, twice: its own line (the issue as it came), not a group.
    expect(formatSpecIssues("t.yaml", [], [twice, twice]).split("\n").slice(1)).toEqual(["  - services.web.user: m", "  - services.web.user: m"]);
  });
});

describe("the app command on bad specs", () => {
  // cdktf.json's app command, as cdktf synth runs it (it compiles first when a source changed).
  const launcher = path.resolve("bin/cdktf-app.js");

  /** The app on a spec, in its own output directory (the runs go concurrently). */
  const run = async (spec: string, env: NodeJS.ProcessEnv = {}) => {
    const out = fs.mkdtempSync(path.join(tmp, "out-"));
    fs.mkdirSync(path.join(out, "stacks", "mesh"), { recursive: true });
    fs.writeFileSync(path.join(out, "stacks", "mesh", "cdk.tf.json"), "{}"); // a stale stack from an earlier run
    const specFile = path.join(out, "spec.yaml");
    fs.writeFileSync(specFile, spec);
    const child: NodeJS.ProcessEnv = { ...process.env, ...env, CDKTF_OUTDIR: out, MESH_SPEC: specFile };
    delete child.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
    if (env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS) child.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
    const status = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [launcher], { encoding: "utf8", env: child, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ status: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
      );
    });
    return { ...status, out };
  };

  // In a real process (its own stack size and heap) for depth and size; "bounds on the input"
  // checks every pathological input's message in this process.
  const realProcess = ["5,000 nested brackets (YAML)", "a 10 MB spec with 160,000 keys"];
  it.concurrent.each(Object.entries(pathological).filter(([name]) => realProcess.includes(name)))(
    "exits 1 on %s with the message and no stacks",
    async (_name, { text, message }) => {
      const result = await run(text);
      expect(result.status, result.stderr).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/Maximum call stack|\n\s+at /);
      expect(fs.existsSync(path.join(result.out, "stacks"))).toBe(false);
      expect(fs.existsSync(path.join(result.out, "manifest.json"))).toBe(false);
    },
  );

  it.concurrent("exits 1 on an ordinary bad spec, listing every problem without a stack trace, and removes the stale stacks", async () => {
    const result = await run("services:\n  web:\n    image: nginx\n    port: 8500\n");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^Mesh spec \S+ is invalid \(2 errors\):\n/);
    expect(result.stderr).toContain("services.web.image:");
    expect(result.stderr).toContain("services.web.port:");
    expect(result.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(fs.existsSync(path.join(result.out, "stacks"))).toBe(false);
    expect(fs.existsSync(path.join(result.out, "manifest.json"))).toBe(false);
  });

  it.concurrent("under cdktf-cli, leaves the errors to the manifest's annotations (printed once by the CLI), with no stacks", async () => {
    const result = await run('services:\n  web:\n    image: nginx\n    port: 8500\n    user: "65534"\n', { CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS: "true" });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).not.toContain("services.web.port");
    expect(fs.existsSync(path.join(result.out, "stacks"))).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(result.out, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks)).toEqual([REPORT_NAME]);
    expect(manifest.stacks[REPORT_NAME].annotations.map((a: { level: string; message: string }) => `${a.level} ${a.message.split(":")[0]}`)).toEqual([
      "@cdktf/error services.web.port",
      "@cdktf/error services.web.image",
      "@cdktf/warn consul.servers",
    ]);
    for (const file of REPORT_FILES) expect(fs.existsSync(path.join(result.out, file))).toBe(true);
  });
});

/**
 * Whether this Node can run the cdktf CLI: cdktf-cli 0.21.0 loads node-pty, whose prebuilt binaries
 * stop at Node 22's ABI (127), so on Node 24 every cdktf command fails to start (README: Requirements).
 */
const CDKTF_CLI_LOADS = spawnSync(process.execPath, ["-e", 'require("@cdktf/node-pty-prebuilt-multiarch")'], { encoding: "utf8" }).status === 0;

describe("cdktf synth on a bad spec", () => {
  it.skipIf(!CDKTF_CLI_LOADS)(
    `shows each problem once, warnings as WARN, and exits 1 without stacks (cdktf CLI ${CDKTF_CLI_LOADS ? "loads" : `cannot load on Node ${process.version}: node-pty has no prebuilt binary for it`})`,
    () => {
      const out = fs.mkdtempSync(path.join(tmp, "cli-"));
      const spec = path.join(tmp, "cli.yaml");
      fs.writeFileSync(spec, "ecsHosts: {instanceType: m6i.large, privateIps: [10.0.101.150]}\nservices:\n  web:\n    image: nginx\n    port: 8500\n");
      const result = spawnSync(path.resolve("node_modules/.bin/cdktf"), ["synth", "--output", out], {
        encoding: "utf8",
        env: { ...process.env, MESH_SPEC: spec, CHECKPOINT_DISABLE: "1", FORCE_COLOR: "0" },
      });
      const output = `${result.stdout}\n${result.stderr}`;
      expect(result.status, output).toBe(1);
      for (const problem of ["services.web.port: 8500", 'services.web.image: "nginx" has no tag', "ecsHosts.instanceType: ENI limit"]) {
        expect(output.split(problem).length - 1, `${problem} in:\n${output}`).toBe(1);
      }
      expect(output).toMatch(/WARN \[[^\]]+\]: ecsHosts\.instanceType: ENI limit/);
      expect(output).not.toMatch(/\[ERROR\][^\n]*(Mesh spec|ENI limit)/);
      expect(fs.existsSync(path.join(out, "stacks"))).toBe(false);
    },
    120_000,
  );
});
