// A spec the rules accept synthesizes: every check a construct or a quoting helper makes on a
// value that comes from the spec is made first by the schema or a rule, with the spec path.
// Each case below reaches one such check (named beside it); the outcome is either a SpecError at
// the field, or a synthesis that succeeds, never an exception from a construct.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { specIssues } from "./support/spec-issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";
import { synthAllStacks } from "./support/synth";

type Outcome = { rejectedAt: string } | "synthesizes";

function outcomeOf(spec: MeshSpecInput): Outcome {
  const { errors } = specIssues(spec, "case.yaml");
  if (errors.length > 0) return { rejectedAt: errors[0]!.path };
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
  // scalingPolicyOf (lib/plan/autoscaling.ts, reached from MeshService): "requestsPerTask reads the proxies' metrics, which this service does not ship";
  // a dataplane service ships them too, so it synthesizes, and without metrics the rule stops it (the next case).
  [
    "requestsPerTask on a dataplane service, whose proxy ships the metrics",
    DEFAULT_SPEC,
    (s) => {
      s.observability = { metrics: { enabled: true } };
      Object.assign(server(s), { protocol: "http", architecture: "dataplane", count: 1, autoscaling: { maxCount: 2, requestsPerTask: 10 } });
    },
    "synthesizes",
  ],
  [
    "requestsPerTask without metrics",
    DEFAULT_SPEC,
    (s) => {
      Object.assign(server(s), { protocol: "http", count: 1, autoscaling: { maxCount: 2, requestsPerTask: 10 } });
    },
    { rejectedAt: "services.http-server.autoscaling.requestsPerTask" },
  ],
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

/**
 * Every `throw` in a construct or stack: the case above that reaches it from a spec, or why no
 * spec can (a caller's mistake, not the user's). A new throw fails here until it is one or the other.
 */
const THROWS: Record<string, string> = {
  "lib/constructs/ecs-hosts.ts: fixed hosts need at least one address": "case: fixed hosts without an address",
  "lib/constructs/network.ts: has no ${kind} subnet": "case: instances in public subnets whose addresses are in none",
  "lib/constructs/aws-service-role.ts: an instance profile needs a role assumed by ec2.amazonaws.com": "caller: every instance profile the stacks make is for EC2",
  "lib/constructs/mesh-service.ts: a dataplane service needs plan.dataplane": "caller: the plan has a dataplane whenever one of its services is a dataplane service",
  "stacks/tls-edge-stack.ts: but the plan has no mesh network": "caller: buildPlan gives the TLS edge's plan the mesh's network whenever tlsEdge.network is the mesh's",
  "stacks/tls-edge-stack.ts: the TLS edge cannot wait for": "caller: buildTlsEdgePlan lists only edge-ca in the edge's startsAfter",
  "stacks/mesh-stack.ts: only the TLS edge's tasks wait for its CA": "caller: servicePlan never lists edge-ca in a mesh service's startsAfter",
  "lib/constructs/mesh-service.ts: serviceTaskRole goes exactly to a dataplane version besides its service's default":
    "caller: the mesh stack passes the default version's task role exactly to those versions (it builds the default first)",
  "lib/constructs/mesh-observability.ts: the plan has observability but its names do not":
    "caller: buildPlan gives meshNames the observability services whenever it plans observability",
  "lib/constructs/mesh-observability.ts: no alarm name for": "caller: meshNames names every alarm kind of every observed service when the plan has alarms",
  "lib/constructs/mesh-service.ts: its task runs a metrics collector, which needs metricsLogGroup":
    "caller: the mesh stack passes the metrics log group whenever the plan has observability, the only plan whose tasks run a collector",
  "lib/constructs/mesh-service.ts: its collector remote-writes to Prometheus, which needs prometheus":
    "caller: the mesh stack passes MeshObservability.prometheus whenever the plan has observability.prometheus, the only plan whose collectors call aps-workspaces",
  "lib/constructs/mesh-observability.ts: the plan creates a Prometheus workspace but names no alias":
    "caller: buildPlan asks meshNames for the workspace alias whenever the plan's Prometheus workspace is create",
  "lib/constructs/tls-service.ts: the plan has metrics but its names do not": "caller: lib/plan/tls-edge.ts passes tlsEdgeNames the metrics whenever it plans the edge's metrics",
  "lib/constructs/tls-service.ts: the plan has alarms but its names do not": "caller: tlsEdgeNames names every edge alarm kind when the edge's metrics have alarms",
  "lib/constructs/tls-service.ts: the plan runs a collector but its names have no repository for it":
    "caller: buildTlsEdgePlan passes tlsEdgeNames collector: true exactly when it sets collectorImage",
  "lib/constructs/tls-service.ts: its collector remote-writes to Prometheus, which needs prometheus":
    "caller: the tls-edge stack passes prometheusOf(edge) whenever the edge's metrics have prometheus, the only plan whose collector calls aps-workspaces",
  "stacks/mesh-stack.ts: the TLS edge remote-writes to the workspace the mesh creates, but the mesh has none":
    "caller: buildPlan gives the edge a create workspace only from the mesh's observability plan, for which MeshObservability creates it",
};

describe("every construct-level throw is accounted for", () => {
  const sources = ["lib/constructs", "stacks"].flatMap((dir) => fs.readdirSync(dir).map((f) => path.join(dir, f)));
  const sites = sources.flatMap((file) => {
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/throw new Error\(\s*`([^`]*)`/g)].map((m) => ({ file, message: m[1]! }));
  });

  it("finds the throws (the scan can fail), and reads every one of them", () => {
    expect(sites.length).toBeGreaterThanOrEqual(Object.keys(THROWS).length);
    // A throw of another shape would escape the table above: every `throw` is one the scan read.
    const throws = sources.reduce((n, file) => n + [...fs.readFileSync(file, "utf8").matchAll(/\bthrow\b/g)].length, 0);
    expect(throws).toBe(sites.length);
  });

  it.each(Object.entries(THROWS))("%s: %s", (site, reason) => {
    const [file, text] = site.split(": ") as [string, string];
    expect(
      sites.some((s) => s.file === file && s.message.includes(text)),
      site,
    ).toBe(true);
    if (reason.startsWith("case: ")) expect(cases.map(([name]) => name)).toContain(reason.slice("case: ".length));
    else expect(reason).toMatch(/^caller: /);
  });

  it("has a case or a reason for every throw", () => {
    const unaccounted = sites.filter((s) => !Object.keys(THROWS).some((site) => site.startsWith(`${s.file}: `) && s.message.includes(site.slice(s.file.length + 2))));
    expect(unaccounted).toEqual([]);
  });
});
