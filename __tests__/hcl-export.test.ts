// `cdktf synth --hcl`, the migration path off CDKTF: the HCL of every stack must declare what
// the JSON synthesis declares. Synthesized in-process (cdktf's App reads SYNTH_HCL_OUTPUT, as
// the CLI's --hcl sets it), then compared with the JSON synthesis of the same spec.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "@cdktf/hcl2json";
import { App, Fn, TerraformStack } from "cdktf";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { meshSpecSchema } from "../lib/spec/schema";
import { buildPlan } from "../lib/plan/build";
import type { MeshPlan } from "../lib/plan/types";
import { createStacks } from "../stacks";
import { EphemeralResource } from "../lib/constructs/ephemeral";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hcl-export-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Synthesized {
  /** Stack name -> file text (cdk.tf.json or cdk.tf). */
  readonly files: Record<string, string>;
}

/** The stacks of a spec, synthesized as `cdktf synth` (hcl false) or `cdktf synth --hcl` (hcl true) does. */
function synthesize(spec: MeshPlan | ((app: App) => TerraformStack[]), hcl: boolean, label: string): Synthesized {
  const outdir = path.join(tmp, `${label}-${hcl ? "hcl" : "json"}`);
  const saved = process.env.SYNTH_HCL_OUTPUT;
  // Each stack reads SYNTH_HCL_OUTPUT when it is constructed: set it only around construction.
  if (hcl) process.env.SYNTH_HCL_OUTPUT = "true";
  else delete process.env.SYNTH_HCL_OUTPUT;
  let stackNames: string[];
  let app: App;
  try {
    app = new App({ outdir, hclOutput: hcl, skipValidation: false });
    const stacks = typeof spec === "function" ? spec(app) : Object.values(createStacks(app, spec));
    stackNames = stacks.map((stack) => stack.node.id);
  } finally {
    if (saved === undefined) delete process.env.SYNTH_HCL_OUTPUT;
    else process.env.SYNTH_HCL_OUTPUT = saved;
  }
  app.synth();
  const fileName = hcl ? "cdk.tf" : "cdk.tf.json";
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8")) as { stacks: Record<string, { synthesizedStackPath: string }> };
  expect(Object.keys(manifest.stacks).sort()).toEqual([...stackNames].sort());
  const files: Record<string, string> = {};
  for (const name of stackNames) {
    const dir = path.join(outdir, "stacks", name);
    expect(manifest.stacks[name]!.synthesizedStackPath).toBe(`stacks/${name}/${fileName}`);
    // Only one configuration per stack directory, or Terraform would load both.
    expect(fs.readdirSync(dir).filter((f) => /\.tf(\.json)?$/.test(f))).toEqual([fileName]);
    files[name] = fs.readFileSync(path.join(dir, fileName), "utf8");
  }
  return { files };
}

/** "resource aws_vpc.network_vpc", "variable aws_region", ... of a JSON configuration. */
function jsonDeclarations(config: Record<string, any>): string[] {
  const out: string[] = [];
  for (const kind of ["resource", "data", "ephemeral"]) {
    for (const [type, byName] of Object.entries<Record<string, unknown>>(config[kind] ?? {})) {
      for (const name of Object.keys(byName)) out.push(`${kind} ${type}.${name}`);
    }
  }
  for (const kind of ["variable", "output", "provider"]) for (const name of Object.keys(config[kind] ?? {})) out.push(`${kind} ${name}`);
  if (config.terraform?.backend) for (const name of Object.keys(config.terraform.backend)) out.push(`backend ${name}`);
  return out.sort();
}

/** The same list from the block headers of cdktf's HCL (one block header per line, at column 0). */
function hclDeclarations(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    let m = /^(resource|data|ephemeral) "([^"]+)" "([^"]+)" \{$/.exec(line);
    if (m) {
      out.push(`${m[1]} ${m[2]}.${m[3]}`);
      continue;
    }
    m = /^(variable|output|provider) "([^"]+)" \{$/.exec(line);
    if (m) {
      out.push(`${m[1]} ${m[2]}`);
      continue;
    }
    m = /^\s*backend "([^"]+)" \{$/.exec(line);
    if (m) out.push(`backend ${m[1]}`);
  }
  return out.sort();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Where the parsed HCL (@cdktf/hcl2json: blocks as one-element arrays, expressions as "${...}")
 * differs from the JSON configuration; CDKTF's "//" metadata is ignored.
 */
function differences(json: unknown, hcl: unknown, at: string, out: string[]): void {
  if (isObject(json) && Array.isArray(hcl) && hcl.length === 1 && isObject(hcl[0])) hcl = hcl[0];
  // A type constraint, and a removed or moved block's address, are expressions in HCL, strings in JSON.
  if ((at.endsWith(".type") || /\.(removed\[\d+\]\.from|moved\[\d+\]\.(from|to))$/.test(at)) && typeof hcl === "string" && /^\$\{[^{}]*\}$/.test(hcl)) hcl = hcl.slice(2, -1);
  if (Array.isArray(json) && Array.isArray(hcl)) {
    if (json.length !== hcl.length) out.push(`${at}: ${json.length} items in JSON, ${hcl.length} in HCL`);
    else json.forEach((v, i) => differences(v, hcl[i], `${at}[${i}]`, out));
    return;
  }
  if (isObject(json) && isObject(hcl)) {
    for (const key of new Set([...Object.keys(json), ...Object.keys(hcl)])) {
      if (key === "//") continue;
      if (!(key in json)) out.push(`${at}.${key}: only in the HCL`);
      else if (!(key in hcl)) out.push(`${at}.${key}: missing from the HCL`);
      else differences(json[key], hcl[key], `${at}.${key}`, out);
    }
    return;
  }
  if (json !== hcl) out.push(`${at}: JSON ${JSON.stringify(json)?.slice(0, 120)} but HCL ${JSON.stringify(hcl)?.slice(0, 120)}`);
}

const specs: [string, MeshPlan][] = [
  ["default", buildPlan(meshSpecSchema.parse(DEFAULT_SPEC))],
  // Adds the tls-edge stack.
  ["tls-edge", loadSpecFile("examples/tls-edge.yaml").plan],
  // Launch templates, Auto Scaling groups, dataplane tasks and the auth method.
  ["production", loadSpecFile("examples/production.yaml").plan],
];

describe.each(specs)("cdktf synth --hcl of the %s spec", (label, spec) => {
  const json = synthesize(spec, false, label);
  const hcl = synthesize(spec, true, label);

  it("writes one cdk.tf per stack, declaring the JSON synthesis's resources, data sources, providers, variables, outputs and backend", () => {
    expect(Object.keys(hcl.files).sort()).toEqual(Object.keys(json.files).sort());
    for (const [stack, text] of Object.entries(hcl.files)) {
      const expected = jsonDeclarations(JSON.parse(json.files[stack]!));
      expect(expected.filter((d) => d.startsWith("resource ")).length).toBeGreaterThan(0);
      expect(hclDeclarations(text), `stack ${stack}`).toEqual(expected);
    }
  });

  // cdktf 0.21.0's HCL renderer has three defects (required_version rendered as `0 = ...`,
  // strings holding "${" left unquoted, a newline added to every multi-line string);
  // patches/cdktf+0.21.0.patch, applied by patch-package on install, fixes them. This test is
  // what proves the patch is in effect.
  it("parses with @cdktf/hcl2json and equals the JSON synthesis attribute by attribute", async () => {
    const problems: string[] = [];
    for (const [stack, text] of Object.entries(hcl.files)) {
      let parsed: unknown;
      try {
        parsed = await parse(`${stack}/cdk.tf`, text);
      } catch (error) {
        problems.push(`${stack}: not valid HCL: ${(error as Error).message.slice(0, 300)}`);
        continue;
      }
      differences(JSON.parse(json.files[stack]!), parsed, stack, problems);
    }
    expect(problems).toEqual([]);
  });
});

// cdktf 0.21 renders no ephemeral block in HCL by itself (the patch adds it): an element and a
// reference to it through Fn.*, as ConsulSecrets writes them, must come out in both forms alike.
describe("cdktf synth --hcl of an ephemeral block", () => {
  const build = (app: App): TerraformStack[] => {
    const stack = new TerraformStack(app, "ephemeral");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    const password = new EphemeralResource(stack, "password", { type: "random_password", config: { length: 32, special: false } });
    new SecretsmanagerSecretVersion(stack, "value", { secretId: "arn", secretStringWo: Fn.base64encode(password.attribute("result")), secretStringWoVersion: 1 });
    return [stack];
  };
  const json = synthesize(build, false, "ephemeral");
  const hcl = synthesize(build, true, "ephemeral");

  it("declares the block in HCL and equals the JSON attribute by attribute", async () => {
    const config = JSON.parse(json.files.ephemeral!);
    expect(jsonDeclarations(config)).toContain("ephemeral random_password.password");
    expect(config.resource.aws_secretsmanager_secret_version.value.secret_string_wo).toBe("${base64encode(ephemeral.random_password.password.result)}");
    expect(hclDeclarations(hcl.files.ephemeral!)).toEqual(jsonDeclarations(config));
    const problems: string[] = [];
    differences(config, await parse("ephemeral/cdk.tf", hcl.files.ephemeral!), "ephemeral", problems);
    expect(problems).toEqual([]);
  });
});
