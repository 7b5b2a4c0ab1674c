// Every optional object section of the spec means the same omitted as written `{}`: its defaults
// are stated once, on its fields. The sections are found by walking the zod schema, so a new one
// is covered (or, without a default, has to be listed as a switch below) without editing this test.
import { describe, expect, it } from "vitest";
import { buildPlan } from "../lib/plan/build";
import { formatPath } from "../lib/issues";
import { parseSpec } from "../lib/pipeline";
import { meshSpecSchema } from "../lib/spec/schema";

type Def = Record<string, unknown> & { type: string };
type Node = { _zod: { def: Def } };
type Path = readonly (string | number)[];

/** A spec that reaches every nested section: services (a record) and an upstream (an array). */
const BASE = {
  services: {
    web: { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 8080, upstreams: [{ destination: "api", localBindPort: 9000 }] },
    api: { image: "hashicorp/http-echo:1.0.0", user: "65534", port: 9090 },
  },
};

/** The schema under wrappers (optional, default, prefault, a transform's input side). */
function inner(node: Node): Node {
  const def = node._zod.def;
  if (def.type === "pipe") return inner(def.in as Node);
  if ("innerType" in def) return inner(def.innerType as Node);
  return node;
}

interface Sections {
  /** Object sections with a default: omitted must mean `{}`. */
  readonly defaulted: Path[];
  /** Optional object sections without one: writing them is the choice (a TLS edge, an Auto Scaling group). */
  readonly switches: Path[];
}

/** Walks the schema along BASE: records and arrays through the entries BASE has. */
function sectionsOf(node: Node, value: unknown, path: Path, found: Sections): Sections {
  const def = inner(node)._zod.def;
  if (def.type === "object") {
    for (const [key, child] of Object.entries(def.shape as Record<string, Node>)) {
      const wrapper = child._zod.def.type;
      const isObject = inner(child)._zod.def.type === "object";
      const childValue = (value as Record<string, unknown> | undefined)?.[key];
      if (isObject && (wrapper === "default" || wrapper === "prefault")) found.defaulted.push([...path, key]);
      if (isObject && wrapper === "optional") found.switches.push([...path, key]);
      else sectionsOf(child, childValue, [...path, key], found);
    }
  } else if (def.type === "record" && value && typeof value === "object") {
    for (const key of Object.keys(value)) sectionsOf(def.valueType as Node, (value as Record<string, unknown>)[key], [...path, key], found);
  } else if (def.type === "array" && Array.isArray(value) && value.length > 0) {
    sectionsOf(def.element as Node, value[0], [...path, 0], found);
  }
  return found;
}

/** BASE with the section at `path` set to `{}`, or left out (its parents written as `{}` either way). */
function baseWith(path: Path, section: "omitted" | "empty"): unknown {
  const spec = structuredClone(BASE) as Record<string | number, unknown>;
  let node = spec;
  for (const segment of path.slice(0, -1)) node = (node[segment] ??= {}) as Record<string | number, unknown>;
  if (section === "empty") node[path.at(-1)!] = {};
  return spec;
}

const { defaulted, switches } = sectionsOf(meshSpecSchema as unknown as Node, BASE, [], { defaulted: [], switches: [] });

describe("optional object sections", () => {
  it("are found in the schema", () => {
    expect(defaulted.map(formatPath)).toEqual(
      expect.arrayContaining(["network", "consul", "consul.snapshots", "ecsHosts", "images", "versions", "services.web.upstreams[0].passiveHealthCheck"]),
    );
    // A service's autoscaling: present, the scaler owns its count; omitted, the count is fixed.
    expect(switches.map(formatPath).sort()).toEqual([
      "ecsHosts.autoScaling",
      "observability.metrics.prometheus",
      "services.api.autoscaling",
      "services.web.autoscaling",
      "tlsEdge",
    ]);
  });

  it.each(defaulted.map((path) => [formatPath(path), path] as const))("%s: omitted and {} give the same plan", (_, path) => {
    const omitted = parseSpec(baseWith(path, "omitted"), "omitted.yaml").plan;
    const empty = parseSpec(baseWith(path, "empty"), "empty.yaml").plan;
    expect(empty).toEqual(omitted);
  });

  it("omitted consul gives Auto Scaling servers, found by tag", () => {
    expect(parseSpec(BASE, "t.yaml").plan.server).toMatchObject({ placement: "auto-scaling", count: 1, join: { tagKey: expect.any(String) } });
  });

  it("ecsHosts without a placement gives the original's two fixed hosts, with any other setting", () => {
    const hosts = buildPlan(meshSpecSchema.parse({ ...BASE, ecsHosts: { instanceType: "t3.medium" } })).hosts;
    expect(hosts).toMatchObject({ instanceType: "t3.medium", placement: { kind: "fixed", privateIps: ["10.0.101.150", "10.0.101.155"] } });
  });

  it("a network of its own needs no consul section: the servers take no address of the default subnet", () => {
    const network = { vpcCidr: "10.1.0.0/16", zones: [{ privateSubnet: "10.1.1.0/24", publicSubnet: "10.1.0.0/28" }] };
    const plan = parseSpec({ ...BASE, network, ecsHosts: { autoScaling: { maxSize: 2 } } }, "t.yaml").plan;
    expect(plan.server.nodes.map((node) => node.privateIp)).toEqual([undefined]);
  });
});
