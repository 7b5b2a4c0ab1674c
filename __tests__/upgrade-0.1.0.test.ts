// The way from 0.1.0: its example specs load, or are rejected once per retired field they hold with
// that field's replacement; its resources that kept their identity are moved in the state to an
// address of the same type; every address, variable and output that is gone is listed in the
// CHANGELOG's breaking changes under its kind and stack, and every address or output named there
// is one 0.1.0 or this version has.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { SpecError } from "../lib/issues";
import { loadSpecFile } from "../lib/pipeline";
import { parseDocument } from "../lib/spec/document";
import { RETIRED_FIELDS, type MeshSpecInput } from "../lib/spec/schema";
import { MOVED_SINCE_0_1_0 } from "../stacks/moved";
import { rejectionOf, specIssues } from "./support/spec-issues";
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

  it.each(examples)("%s is rejected once for each retired field it uses, naming that field's replacement, or synthesizes", (file) => {
    const source = path.join(FIXTURES, file);
    const document = parseDocument(fs.readFileSync(source, "utf8"), source) as Record<string, any>;
    // The retired fields the file really holds, each reported at its parent with its own replacement.
    const expected = Object.entries(RETIRED_FIELDS)
      .filter(([field]) => field.split(".").reduce<any>((value, key) => value?.[key], document) !== undefined)
      .map(([field, replacement]) => {
        const parent = field.split(".").slice(0, -1).join(".");
        return { path: parent || "(root)", message: `"${field.split(".").at(-1)}" ${replacement}` };
      });
    const { errors } = specIssues(document, source);
    expect(errors).toHaveLength(expected.length);
    expect(errors).toEqual(expect.arrayContaining(expected));
    if (expected.length === 0) expect(Object.keys(synthAllStacks(document as MeshSpecInput))).toContain("mesh");
  });

  it("has an example that uses retired fields, and one that loads", () => {
    expect(() => loadSpecFile(path.join(FIXTURES, "default.yaml"))).toThrow(/\(0\.1\.0\)/);
    expect(loadSpecFile(path.join(FIXTURES, "three-tier.yaml")).spec).toBeDefined();
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
    expect(rejectionOf({ ...DEFAULT_SPEC, availabilityZone: "us-east-1a" }).errors).toEqual([{ path: "(root)", message: `"availabilityZone" ${RETIRED_FIELDS.availabilityZone}` }]);
  });
});

describe("0.1.0 state", () => {
  /** interface.txt's entries, each with the 0.1.0 spec it was synthesized from ("# spec: <file>" starts a section). */
  const FORMER_FROM = new Map<string, string>();
  let from = "the built-in default";
  for (const line of fs.readFileSync(path.join(FIXTURES, "interface.txt"), "utf8").split("\n")) {
    const section = /^# spec: (\S+)$/.exec(line);
    if (section) from = section[1]!;
    else if (line !== "" && !line.startsWith("#")) FORMER_FROM.set(line, from);
  }
  const FORMER = new Set(FORMER_FROM.keys());
  const tlsEdgeExample = () => synthAllStacks(parseDocument(fs.readFileSync("examples/tls-edge.yaml", "utf8"), "tls-edge.yaml") as MeshSpecInput);
  const mesh = synthAllStacks().mesh;

  it("moves each resource that kept its identity from its 0.1.0 address to one the stack has, of the same type", () => {
    const now = resources(mesh);
    expect(mesh.moved).toHaveLength(MOVED_SINCE_0_1_0.length);
    expect(mesh.moved).toEqual(expect.arrayContaining([...MOVED_SINCE_0_1_0]));
    const typeOf = (address: string) => address.slice(0, address.indexOf("."));
    for (const { from, to } of mesh.moved as { from: string; to: string }[]) {
      expect(FORMER.has(`mesh ${from}`), from).toBe(true);
      expect(now.has(from), from).toBe(false);
      expect(now.has(to), to).toBe(true);
      // Nothing of 0.1.0 was at the new address already (Terraform refuses to move onto an object), and a move keeps the type.
      expect(FORMER.has(`mesh ${to}`), to).toBe(false);
      expect(typeOf(to), `${from} -> ${to}`).toBe(typeOf(from));
    }
    // One move per former and per new address.
    const froms = MOVED_SINCE_0_1_0.map((m) => m.from);
    const tos = MOVED_SINCE_0_1_0.map((m) => m.to);
    expect(new Set(froms).size).toBe(froms.length);
    expect(new Set(tos).size).toBe(tos.length);
  });

  it("writes no moved block to an address the stack lacks (Auto Scaling servers have no instance)", () => {
    const autoScaling = synthAllStacks({ ...DEFAULT_SPEC, consul: {} }).mesh;
    const now = resources(autoScaling);
    expect(autoScaling.moved.length).toBeGreaterThan(0);
    for (const { to } of autoScaling.moved as { to: string }[]) expect(now.has(to), to).toBe(true);
    expect(autoScaling.moved.map((m: { from: string }) => m.from)).not.toContain("aws_instance.consul_server_instance");
  });

  /** The bullets of the CHANGELOG's "Breaking changes (since 0.1.0)", each as one line. */
  const changelog = fs.readFileSync("CHANGELOG.md", "utf8");
  const breaking = changelog.slice(changelog.indexOf("### Breaking changes (since 0.1.0)"), changelog.indexOf("### Upgrading from the previous state"));
  const bullets = breaking
    .split(/\n(?=- )/)
    .filter((b) => b.startsWith("- "))
    .map((b) => b.slice(2).replace(/\s*\n\s*/g, " "));
  const STACKS = ["mesh", "intentions", "tls-edge"];
  /** The stacks a bullet names in a parenthesised list: "(mesh)", "(intentions, tls-edge)". */
  const stacksOf = (bullet: string) => [...bullet.matchAll(/\(([a-z-]+(?:, [a-z-]+)*)\)/g)].flatMap((m) => m[1]!.split(", ")).filter((s) => STACKS.includes(s));
  const KIND = { resource: "Resource addresses", var: "Variable", output: "Outputs" } as const;
  const kindOf = (address: string): keyof typeof KIND => (address.startsWith("var.") ? "var" : address.startsWith("output.") ? "output" : "resource");
  /** An address or name of the CHANGELOG with its placeholders (<n>, <service>) as a pattern. */
  const pattern = (name: string) => new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/<[a-z]+>/g, "[A-Za-z0-9_-]+")}$`);

  it("lists in the CHANGELOG's breaking changes every 0.1.0 address, variable and output that is gone and not moved, under its kind and stack", () => {
    // Each entry against what its spec synthesizes now: the default (with the tls-edge example's tls-edge stack, as the fixture), or the tls-edge example.
    const now: Record<string, Set<string>> = {
      "the built-in default": interfaceOf({ ...synthAllStacks(), "tls-edge": tlsEdgeExample()["tls-edge"] }),
      "examples/tls-edge.yaml": interfaceOf(tlsEdgeExample()),
    };
    const moved = new Set(MOVED_SINCE_0_1_0.map(({ from }) => `mesh ${from}`));
    const gone = [...FORMER_FROM].filter(([entry, spec]) => !now[spec]!.has(entry) && !moved.has(entry)).map(([entry]) => entry);
    expect(gone.length).toBeGreaterThan(0);
    const unlisted = gone.filter((entry) => {
      const [stack, address] = entry.split(" ") as [string, string];
      const kind = kindOf(address);
      const name = kind === "resource" ? address : address.slice(address.indexOf(".") + 1);
      return !bullets.some((b) => b.startsWith(KIND[kind]) && b.includes(`\`${name}\``) && stacksOf(b).includes(stack));
    });
    expect(unlisted).toEqual([]);
  });

  it("names in its breaking changes only resource addresses and outputs that 0.1.0 or this version has", () => {
    // This version's stacks: fixed and Auto Scaling servers, and the TLS edge example (its mesh has the cross-stack output).
    const today = [synthAllStacks(), synthAllStacks({ ...DEFAULT_SPEC, consul: {} }), tlsEdgeExample()];
    const known = new Set([...FORMER, ...today.flatMap((stacks) => [...interfaceOf(stacks)])]);
    const named: string[] = [];
    for (const bullet of bullets) {
      const [stack, ...more] = stacksOf(bullet);
      if (bullet.startsWith(KIND.resource)) {
        expect(more, bullet.slice(0, 60)).toEqual([]);
        for (const [, address] of bullet.matchAll(/`((?:aws|tls|consul|random|time|null)_[a-z0-9_]+\.[A-Za-z0-9_<>-]+)`/g)) named.push(`${stack} ${address}`);
      }
      if (bullet.startsWith(KIND.output)) {
        for (const [, name] of bullet.matchAll(/`((?:cross-stack-output-)?[a-z][a-z0-9_]*(?:<[a-z]+>[a-z0-9_]*)*)`/g)) named.push(`${stack} output.${name}`);
      }
    }
    expect(named.length).toBeGreaterThan(40);
    const unknown = named.filter((entry) => {
      const p = pattern(entry);
      return ![...known].some((k) => p.test(k));
    });
    expect(unknown).toEqual([]);
  });
});
