// A spec the rules accept synthesizes: every check a construct or a quoting helper makes on a
// value that comes from the spec is made first by the schema or a rule, with the spec path.
// Each case below reaches one such check (named beside it); the outcome is either a SpecError at
// the field, or a synthesis that succeeds, never an exception from a construct.
import { describe, expect, it } from "vitest";
import { parseSpec } from "../lib/pipeline";
import { SpecError } from "../lib/issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { synthAllStacks } from "./support/synth";

type Outcome = { rejectedAt: string } | "synthesizes";

function outcomeOf(spec: MeshSpecInput): Outcome {
  try {
    parseSpec(spec, "case.yaml");
  } catch (error) {
    if (error instanceof SpecError) return { rejectedAt: error.errors[0]!.path };
    throw error;
  }
  // Accepted by the rules: synthesis must not throw (an exception here fails the test).
  synthAllStacks(spec);
  return "synthesizes";
}

const server = (s: any) => s.services["http-server"];
const cases: [string, MeshSpecInput, (s: any) => void, Outcome][] = [
  // EcsHosts: "fixed hosts need at least one address"
  ["fixed hosts without an address", DEFAULT_SPEC, (s) => (s.ecsHosts.privateIps = []), { rejectedAt: "ecsHosts.privateIps" }],
  // MeshNetwork.subnetOf: "zone N has no public subnet"
  ["instances in public subnets whose addresses are in none", DEFAULT_SPEC, (s) => (s.network = { publicInstances: true }), { rejectedAt: "consul.serverPrivateIps[0]" }],
  [
    "public Fargate tasks in a zone without a public subnet",
    loadSpecFile("examples/production.yaml").spec as MeshSpecInput,
    (s) => {
      s.network.zones[1].publicSubnet = undefined;
      s.network.egress = "nat-gateway";
      s.services.web.launchType = "FARGATE";
      s.services.web.assignPublicIp = true;
    },
    // The tasks run in the zones that have a public subnet.
    "synthesizes",
  ],
  // hcl(): a value with a template sequence; the container definitions escape it for Terraform instead.
  ["a Terraform template in an environment value", DEFAULT_SPEC, (s) => (server(s).environment = { GREETING: "${var.x}" }), "synthesizes"],
  ["a template directive in a command", DEFAULT_SPEC, (s) => (server(s).command = ["%{ if true }x%{ endif }"]), "synthesizes"],
  // hcl()/line(): control characters and newlines
  ["a newline in an environment value", DEFAULT_SPEC, (s) => (server(s).environment = { GREETING: "a\nb" }), "synthesizes"],
  // The agent's HCL takes the service's name: only names Consul accepts reach it.
  ["a service name with a template sequence", DEFAULT_SPEC, (s) => (s.services["${x}"] = server(s)), { rejectedAt: "services.${x}" }],
  ["an instance type with a template sequence", DEFAULT_SPEC, (s) => (s.ecsHosts.instanceType = "t3.micro${x}"), { rejectedAt: "ecsHosts.instanceType" }],
  ["a datacenter with a quote", DEFAULT_SPEC, (s) => (s.consul = { ...s.consul, datacenter: 'dc"1' }), { rejectedAt: "consul.datacenter" }],
];

describe("no construct throws for a spec the rules accept", () => {
  it.each(cases)("%s", (_name, base, change, expected) => {
    const spec = structuredClone(base) as any;
    change(spec);
    const outcome = outcomeOf(spec);
    if (expected === "synthesizes") expect(outcome).toBe("synthesizes");
    else expect(outcome).toEqual(expected);
  });
});
