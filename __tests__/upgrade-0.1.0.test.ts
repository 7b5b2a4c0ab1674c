// The way from 0.1.0: its example specs load (or name the field that replaces what they use), its
// resources that kept their identity are moved in the state, and every address, variable and
// output that is gone is listed in the CHANGELOG with its replacement.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { SpecError } from "../lib/issues";
import { loadSpecFile, parseSpec } from "../lib/pipeline";
import { parseDocument } from "../lib/spec/document";
import { RETIRED_FIELDS, type MeshSpecInput } from "../lib/spec/schema";
import { MOVED_SINCE_0_1_0 } from "../stacks/moved";
import { synthAllStacks } from "./support/synth";

const FIXTURES = path.join(__dirname, "fixtures", "0.1.0");
const examples = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".yaml"));

/** "<stack> <address>" of every resource, variable and output of the stacks, as in interface.txt. */
function interfaceOf(stacks: Record<string, any>): Set<string> {
  const entries = new Set<string>();
  for (const [stack, json] of Object.entries(stacks)) {
    for (const [type, resources] of Object.entries(json.resource ?? {})) for (const name of Object.keys(resources as object)) entries.add(`${stack} ${type}.${name}`);
    for (const name of Object.keys(json.variable ?? {})) entries.add(`${stack} var.${name}`);
    for (const name of Object.keys(json.output ?? {})) entries.add(`${stack} output.${name}`);
  }
  return entries;
}

const resources = (stack: any): Set<string> => new Set(Object.entries(stack.resource ?? {}).flatMap(([type, r]) => Object.keys(r as object).map((name) => `${type}.${name}`)));

describe("0.1.0 specs", () => {
  it("has every 0.1.0 example", () => {
    expect(examples).toEqual(["default.yaml", "large-mesh.yaml", "three-tier.yaml", "tls-edge.yaml"]);
  });

  it.each(examples)("%s synthesizes, or is rejected naming the field that replaces each it uses", (file) => {
    const source = path.join(FIXTURES, file);
    let loaded: ReturnType<typeof loadSpecFile> | undefined;
    try {
      loaded = loadSpecFile(source);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      expect(error.errors.length).toBeGreaterThan(0);
      for (const issue of error.errors) expect(Object.values(RETIRED_FIELDS).some((replacement) => issue.message.includes(replacement))).toBe(true);
    }
    if (loaded) expect(Object.keys(synthAllStacks(parseDocument(fs.readFileSync(source, "utf8"), source) as MeshSpecInput))).toContain("mesh");
  });

  it("names the replacement of each retired field of 0.1.0's default spec", () => {
    try {
      loadSpecFile(path.join(FIXTURES, "default.yaml"));
      expect.unreachable("0.1.0's default spec was accepted");
    } catch (error) {
      expect((error as SpecError).errors).toEqual([
        { path: "network", message: `"publicSubnetCidr" ${RETIRED_FIELDS["network.publicSubnetCidr"]}` },
        { path: "consul", message: `"serverPrivateIp" ${RETIRED_FIELDS["consul.serverPrivateIp"]}` },
      ]);
      expect((error as SpecError).message).toMatch(/"serverPrivateIp" \(0\.1\.0\) was renamed to consul\.serverPrivateIps/);
    }
  });

  it("names the zone's field for the root availabilityZone", () => {
    try {
      parseSpec({ ...DEFAULT_SPEC, availabilityZone: "us-east-1a" }, "t.yaml");
      expect.unreachable("a root availabilityZone was accepted");
    } catch (error) {
      expect((error as SpecError).errors).toEqual([{ path: "(root)", message: `"availabilityZone" ${RETIRED_FIELDS.availabilityZone}` }]);
    }
  });
});

describe("0.1.0 state", () => {
  const FORMER = new Set(
    fs
      .readFileSync(path.join(FIXTURES, "interface.txt"), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
  const mesh = synthAllStacks().mesh;

  it("moves each resource that kept its identity from its 0.1.0 address to one the stack has", () => {
    const now = resources(mesh);
    expect(mesh.moved).toHaveLength(MOVED_SINCE_0_1_0.length);
    expect(mesh.moved).toEqual(expect.arrayContaining([...MOVED_SINCE_0_1_0]));
    for (const { from, to } of mesh.moved as { from: string; to: string }[]) {
      expect(FORMER.has(`mesh ${from}`), from).toBe(true);
      expect(now.has(from), from).toBe(false);
      expect(now.has(to), to).toBe(true);
    }
  });

  it("writes no moved block to an address the stack lacks (Auto Scaling servers have no instance)", () => {
    const autoScaling = synthAllStacks({ ...DEFAULT_SPEC, consul: {} }).mesh;
    const now = resources(autoScaling);
    expect(autoScaling.moved.length).toBeGreaterThan(0);
    for (const { to } of autoScaling.moved as { to: string }[]) expect(now.has(to), to).toBe(true);
    expect(autoScaling.moved.map((m: { from: string }) => m.from)).not.toContain("aws_instance.consul_server_instance");
  });

  it("lists in the CHANGELOG every 0.1.0 address, variable and output that is gone and not moved", () => {
    const tlsEdge = synthAllStacks(parseDocument(fs.readFileSync("examples/tls-edge.yaml", "utf8"), "tls-edge.yaml") as MeshSpecInput)["tls-edge"];
    const now = interfaceOf({ ...synthAllStacks(), "tls-edge": tlsEdge });
    const moved = new Set(MOVED_SINCE_0_1_0.map(({ from }) => `mesh ${from}`));
    const changelog = fs.readFileSync("CHANGELOG.md", "utf8");
    const unreleased = changelog.slice(changelog.indexOf("## [Unreleased]"), changelog.indexOf("## [0.1.0]"));
    const gone = [...FORMER].filter((entry) => !now.has(entry) && !moved.has(entry));
    expect(gone.length).toBeGreaterThan(0);
    const unlisted = gone.filter((entry) => {
      const name = entry.split(" ")[1]!.replace(/^(var|output)\./, "");
      return !unreleased.includes(`\`${name}\``);
    });
    expect(unlisted).toEqual([]);
  });
});
