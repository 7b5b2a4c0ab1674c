// The variable validation blocks are Terraform expressions: judge them with real Terraform.
// Only the variables are extracted (no provider, so `terraform init` needs no download) and
// `terraform plan` evaluates their validation against good and bad values.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { synthAllStacks, synthMeshStack } from "./support/synth";

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" });
if (terraform.error) {
  throw new Error("terraform is not installed: these tests run the variable validation with Terraform >= 1.9 (no provider download needed)");
}

let dir: string;
const dirs: string[] = [];

/** A Terraform root holding only a stack's variables, initialized (no provider needed). */
const execFileAsync = promisify(execFile);

function variablesRoot(variables: Record<string, unknown>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-vars-"));
  dirs.push(root);
  const config = {
    terraform: { required_version: ">= 1.9.0" },
    variable: variables,
    // An output that reads every variable, so each one is evaluated.
    output: { all: { value: Object.fromEntries(Object.keys(variables).map((name) => [name, `\${var.${name}}`])) } },
  };
  fs.writeFileSync(path.join(root, "main.tf.json"), JSON.stringify(config));
  execFileSync("terraform", ["init", "-input=false", "-backend=false"], { cwd: root, stdio: "pipe", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  return root;
}

beforeAll(() => {
  dir = variablesRoot((synthMeshStack() as { variable: Record<string, unknown> }).variable);
}, 60_000);

afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** `terraform plan` with these variables; the plans run concurrently (-lock=false: they only read). */
async function plan(vars: Record<string, string>, extraArgs: readonly string[] = [], cwd = dir): Promise<{ ok: boolean; output: string }> {
  const args = ["plan", "-input=false", "-lock=false", "-no-color", ...extraArgs, ...Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`])];
  try {
    const { stdout, stderr } = await execFileAsync("terraform", args, { cwd, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
    return { ok: true, output: `${stdout}\n${stderr}`.replace(/\s+/g, " ") };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ""}\n${e.stderr ?? ""}`.replace(/\s+/g, " ") };
  }
}

describe("Terraform variable validation (real terraform plan)", () => {
  it.concurrent("accepts the defaults and sensible overrides", async () => {
    const defaults = await plan({});
    expect(defaults.ok, defaults.output).toBe(true);
    const overrides = await plan({ admin_cidr: "203.0.113.7/32", aws_ec2_key: "ops" });
    expect(overrides.ok, overrides.output).toBe(true);
    const broad = await plan({ admin_cidr: "10.0.0.0/16", admin_cidr_allow_broad: "true" });
    expect(broad.ok, broad.output).toBe(true);
  });

  it.concurrent("never accepts the whole internet as admin_cidr, even when broad ranges are allowed", async () => {
    const result = await plan({ admin_cidr: "0.0.0.0/0", admin_cidr_allow_broad: "true" });
    expect(result.ok).toBe(false);
    expect(result.output).toContain("admin_cidr must not be the whole internet");
  });

  // Terraform checks every variable of a plan and reports each invalid one: the cases share plans,
  // one value per variable in each.
  const rejections: [string, string, string][] = [
    ["admin_cidr", "0.0.0.0/0", "not be the whole internet"],
    ["admin_cidr", "0.0.0.0/1", "must be /24 or narrower"],
    ["admin_cidr", "10.0.0.0/16", "Set admin_cidr_allow_broad = true"],
    ["admin_cidr", "10.0.0.300/32", "admin_cidr must be a CIDR block"],
  ];
  const plans: Record<string, string>[] = [];
  for (const [name, value] of rejections) {
    const free = plans.find((vars) => !(name in vars));
    if (free) free[name] = value;
    else plans.push({ [name]: value });
  }

  it.concurrent.each(
    plans.map(
      (vars) =>
        [
          Object.entries(vars)
            .map(([k, v]) => `${k} = ${v}`)
            .join(", "),
          vars,
        ] as const,
    ),
  )("rejects %s, naming each", async (_title, vars) => {
    const result = await plan(vars);
    expect(result.ok).toBe(false);
    for (const [name, value, message] of rejections.filter(([n, v]) => vars[n] === v)) {
      expect(result.output, `${name} = ${value}`).toContain(message);
    }
  });

  // What a rule checks comes only from the spec: setting it as a variable is an error, not a silent override.
  it.concurrent("refuses the values that moved to the spec", async () => {
    for (const name of ["cluster_name", "aws_region", "availability_zones", "consul_instance_size", "ecs_instance_size"]) {
      const result = await plan({ [name]: name === "availability_zones" ? '["us-east-1a"]' : "x" });
      expect(result.ok, name).toBe(false);
      expect(result.output, name).toMatch(/undeclared variable/i);
    }
  });
});

// The README tells users to start from these files and pass them with --var-file.
describe("examples/*.tfvars.example", () => {
  it.concurrent("sets only variables of the mesh stack, to values its validation accepts", async () => {
    const result = await plan({}, [`-var-file=${path.resolve("examples/mesh.tfvars.example")}`]);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).not.toMatch(/undeclared variable/i);
    expect(result.output).toContain('admin_cidr = "203.0.113.7/32"');
  });

  it.concurrent("sets only variables of the tls-edge stack, to values its validation accepts", async () => {
    const spec = YAML.parse(fs.readFileSync("examples/tls-edge.yaml", "utf8")) as never;
    const root = variablesRoot((synthAllStacks(spec)["tls-edge"] as { variable: Record<string, unknown> }).variable);
    const result = await plan({}, [`-var-file=${path.resolve("examples/tls-edge.tfvars.example")}`], root);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).not.toMatch(/undeclared variable/i);
    expect(result.output).toContain('app_image_tag = "0123456789ab-0123456789ab"');
  }, 60_000);

  it.concurrent("is what a wrong file looks like to Terraform (the check above can fail)", async () => {
    const bad = path.join(dir, "bad.tfvars");
    fs.writeFileSync(bad, 'admin_cidr = "0.0.0.0/0"\nno_such_variable = 1\n');
    const result = await plan({}, [`-var-file=${bad}`]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/undeclared variable/i);
  });
});

// Write-only arguments (`*_wo`) need Terraform 1.11; an older Terraform fails on them mid-plan,
// while required_version makes it refuse at init with the version it needs.
describe("required_version", () => {
  const examples = fs.readdirSync("examples").filter((f) => f.endsWith(".yaml"));
  const stacks = [
    ...Object.entries(synthAllStacks()).map(([name, json]) => [`built-in default ${name}`, json] as const),
    ...examples.flatMap((file) =>
      Object.entries(synthAllStacks(YAML.parse(fs.readFileSync(path.join("examples", file), "utf8")) as never)).map(([name, json]) => [`${file} ${name}`, json] as const),
    ),
  ];
  /** `terraform init` of a root holding only this constraint: whether the installed binary satisfies it. */
  const initWith = (constraint: string) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "mesh-version-"));
    dirs.push(root);
    fs.writeFileSync(path.join(root, "main.tf.json"), JSON.stringify({ terraform: { required_version: constraint } }));
    return spawnSync("terraform", ["init", "-input=false", "-backend=false", "-no-color"], { cwd: root, encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" } });
  };

  it("is at least 1.11 in every stack with an ephemeral block or a write-only argument, and 1.10 in the others", () => {
    const floors = stacks.map(([label, json]) => {
      const writeOnly = "ephemeral" in json || /"[a-z0-9_]+_wo":/.test(JSON.stringify(json.resource ?? {}));
      const [, minor] = /^>= 1\.(\d+)\.\d+$/.exec(json.terraform.required_version) ?? [];
      return [label, writeOnly, Number(minor)] as const;
    });
    expect(floors.filter(([, writeOnly]) => writeOnly).length).toBeGreaterThan(0);
    expect(floors.filter(([, writeOnly]) => !writeOnly).length).toBeGreaterThan(0);
    for (const [label, writeOnly, minor] of floors) expect(minor, label).toBe(writeOnly ? 11 : 10);
  });

  it("is satisfied by the installed terraform, which refuses a constraint it does not meet", () => {
    for (const constraint of new Set(stacks.map(([, json]) => json.terraform.required_version as string))) {
      const init = initWith(constraint);
      expect(init.status, `${constraint}: ${init.stderr}`).toBe(0);
    }
    const future = initWith(">= 99.0.0");
    expect(future.status).not.toBe(0);
    expect(future.stderr).toMatch(/Unsupported Terraform Core version/);
  });
});
