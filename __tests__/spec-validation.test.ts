import { describe, expect, it } from "vitest";
import { parseDocument, parseSpec } from "../lib/spec/load";
import { SpecError, type SpecIssue } from "../lib/spec/issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";

/** The default spec with some fields replaced: every bad spec below differs from a good one in one place. */
function specWith(change: (spec: any) => void): MeshSpecInput {
  const spec = structuredClone(DEFAULT_SPEC) as any;
  change(spec);
  return spec;
}

function errorsOf(input: unknown): SpecIssue[] {
  try {
    parseSpec(input, "test.yaml");
  } catch (error) {
    if (error instanceof SpecError) return [...error.errors];
    throw error;
  }
  throw new Error("the spec was accepted");
}

const client = (spec: any) => spec.services["http-client"];
const server = (spec: any) => spec.services["http-server"];

// [case, change, expected path, expected message fragment]
const badSpecs: [string, (spec: any) => void, string, RegExp][] = [
  // Structure
  ["missing image", (s) => delete server(s).image, "services.http-server.image", /is required/],
  ["wrong type", (s) => (server(s).count = "3"), "services.http-server.count", /expected number/],
  ["unknown key with suggestion", (s) => (client(s).upstream = []), "services.http-client", /unknown key "upstream"; did you mean "upstreams"\?/],
  ["unknown top-level key", (s) => (s.sevices = {}), "(root)", /unknown key "sevices"; did you mean "services"\?/],
  ["no services", (s) => (s.services = {}), "services", /at least one service/],
  ["bad service name", (s) => (s.services["Bad_Name"] = { image: "x:1" }), "services.Bad_Name", /lowercase letters/],
  ["service name too long for a DNS label", (s) => (s.services["a".repeat(64)] = { image: "x:1" }), `services.${"a".repeat(64)}`, /63/],
  ["cluster name too long for IAM prefixes", (s) => (s.name = "a".repeat(21)), "name", /20/],
  ["bad health check type", (s) => (server(s).healthCheck = { type: "grpc" }), "services.http-server.healthCheck.type", /Expected 'http' \| 'tcp' \| 'none'/],
  ["secret with both references", (s) => (client(s).secrets = { K: { secretsManagerArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k", ssmParameterArn: "arn:aws:ssm:us-east-1:123456789012:parameter/k" } }), "services.http-client.secrets.K", /exactly one/],
  ["secret that is not an ARN", (s) => (client(s).secrets = { K: { secretsManagerArn: "my-secret" } }), "services.http-client.secrets.K.secretsManagerArn", /ARN/],
  ["log retention CloudWatch rejects", (s) => (s.logRetentionDays = 10), "logRetentionDays", /must be one of 1, 3, 5/],
  // References
  ["unknown upstream", (s) => (client(s).upstreams[0].destination = "http-sever"), "services.http-client.upstreams[0].destination", /unknown service "http-sever"; did you mean "http-server"\?/],
  ["own upstream", (s) => (client(s).upstreams[0].destination = "http-client"), "services.http-client.upstreams[0].destination", /its own upstream/],
  ["upstream to a service with no port", (s) => { delete server(s).port; server(s).healthCheck = { type: "none" }; }, "services.http-client.upstreams[0].destination", /has no port/],
  ["intention to an unknown service", (s) => (s.intentions = [{ source: "http-client", destination: "nope", action: "deny" }]), "intentions[0].destination", /unknown service "nope"/],
  ["duplicate intention", (s) => (s.intentions = [{ source: "http-client", destination: "http-server", action: "deny" }, { source: "http-client", destination: "http-server", action: "allow" }]), "intentions[1]", /duplicates intentions\[0\]/],
  ["TLS edge named like the mesh cluster", (s) => (s.tlsEdge = { serviceName: "consul-ecs" }), "tlsEdge.serviceName", /share one ECS cluster/],
  // Ports
  ["port out of range", (s) => (server(s).port = 70000), "services.http-server.port", /between 1 and 65535/],
  ["app port on the Consul HTTP API", (s) => (server(s).port = 8500), "services.http-server.port", /Consul agent's HTTP API/],
  ["app port on the Envoy listener", (s) => (server(s).port = 21000), "services.http-server.port", /Envoy sidecar's public listener/],
  ["upstream on the Envoy admin port", (s) => (client(s).upstreams[0].localBindPort = 19000), "services.http-client.upstreams[0].localBindPort", /Envoy admin API/],
  ["upstream on the app port", (s) => (client(s).upstreams[0].localBindPort = 8080), "services.http-client.upstreams[0].localBindPort", /app's own port/],
  ["duplicate upstream ports", (s) => client(s).upstreams.push({ destination: "http-server", localBindPort: 8085 }), "services.http-client.upstreams[1].localBindPort", /local port of upstream http-server/],
  ["http check without a port", (s) => { delete client(s).port; client(s).healthCheck = { type: "tcp" }; }, "services.http-client.healthCheck", /needs the service's port/],
  // Network
  ["invalid CIDR", (s) => (s.network.vpcCidr = "10.0.0.0/33"), "network.vpcCidr", /IPv4 CIDR/],
  ["VPC too large", (s) => (s.network.vpcCidr = "10.0.0.0/8"), "network.vpcCidr", /\/16 to \/28/],
  ["subnet outside the VPC", (s) => (s.network.publicSubnetCidr = "10.1.101.0/24"), "network.publicSubnetCidr", /not inside the VPC/],
  ["subnet with host bits", (s) => (s.network.publicSubnetCidr = "10.0.101.7/24"), "network.publicSubnetCidr", /did you mean 10\.0\.101\.0\/24/],
  ["static IP outside the subnet", (s) => (s.consul.serverPrivateIp = "10.0.102.100"), "consul.serverPrivateIp", /outside the subnet/],
  ["static IP reserved by AWS", (s) => (s.ecsHosts.privateIps[0] = "10.0.101.3"), "ecsHosts.privateIps[0]", /reserved by AWS/],
  ["broadcast address", (s) => (s.ecsHosts.privateIps[0] = "10.0.101.255"), "ecsHosts.privateIps[0]", /reserved by AWS/],
  ["static IP used twice", (s) => (s.ecsHosts.privateIps[1] = "10.0.101.100"), "ecsHosts.privateIps[1]", /already used by consul.serverPrivateIp/],
  ["not an IP", (s) => (s.ecsHosts.privateIps[1] = "10.0.101"), "ecsHosts.privateIps[1]", /IPv4 address/],
  // Capacity
  ["more tasks than ENIs", (s) => (server(s).count = 4), "ecsHosts.instanceType", /at most 4 awsvpc tasks .* want 5/],
  ["invalid Fargate pair", (s) => Object.assign(server(s), { launchType: "FARGATE", cpu: 256, memory: 4096 }), "services.http-server.memory", /use one of 512, 1024, 2048/],
  ["Fargate CPU that does not exist", (s) => Object.assign(server(s), { launchType: "FARGATE", cpu: 300 }), "services.http-server.cpu", /not a Fargate CPU size/],
  ["app memory above the task", (s) => Object.assign(server(s), { appMemory: 500, memory: 512 }), "services.http-server.appMemory", /need 660 MiB/],
  ["public IP on EC2", (s) => (server(s).assignPublicIp = true), "services.http-server.assignPublicIp", /only Fargate/],
  // Images
  ["latest image", (s) => (server(s).image = "hashicorp/http-echo:latest"), "services.http-server.image", /:latest/],
  ["untagged image", (s) => (server(s).image = "hashicorp/http-echo"), "services.http-server.image", /no tag/],
  ["registry port is not a tag", (s) => (server(s).image = "registry.example.com:5000/echo"), "services.http-server.image", /no tag/],
];

describe("spec validation", () => {
  it("accepts the default spec", () => {
    expect(() => parseSpec(DEFAULT_SPEC, "default")).not.toThrow();
  });

  it.each(badSpecs)("rejects %s", (_name, change, path, message) => {
    const errors = errorsOf(specWith(change));
    expect(errors, JSON.stringify(errors, null, 2)).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it("reports every error of a spec in one run", () => {
    const errors = errorsOf(
      specWith((s) => {
        client(s).upstreamz = [];
        client(s).upstreams[0].destination = "nope";
        server(s).image = "hashicorp/http-echo:latest";
        s.ecsHosts.privateIps[0] = "10.0.101.1";
      }),
    );
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(["services.http-client", "services.http-client.upstreams[0].destination", "services.http-server.image", "ecsHosts.privateIps[0]"]),
    );
  });

  it("accepts images pinned by digest, and registry ports with a tag", () => {
    const digest = `hashicorp/http-echo@sha256:${"a".repeat(64)}`;
    expect(() => parseSpec(specWith((s) => (server(s).image = digest)), "t")).not.toThrow();
    expect(() => parseSpec(specWith((s) => (server(s).image = "registry.example.com:5000/echo:1.2")), "t")).not.toThrow();
  });

  it("warns, without failing, about an instance type whose ENI limit is unknown", () => {
    const { warnings } = parseSpec(specWith((s) => (s.ecsHosts.instanceType = "m6i.large")), "t");
    expect(warnings).toContainEqual({ path: "ecsHosts.instanceType", message: expect.stringMatching(/ENI limit of m6i.large is unknown/) });
  });

  it("warns that a Fargate task without a public IP cannot pull public images", () => {
    const { warnings } = parseSpec(specWith((s) => Object.assign(server(s), { launchType: "FARGATE", cpu: 256, memory: 512 })), "t");
    expect(warnings.map((w) => w.path)).toContain("services.http-server.assignPublicIp");
  });
});

describe("spec documents", () => {
  const syntaxError = (text: string) => {
    try {
      parseDocument(text, "t.yaml");
    } catch (error) {
      return (error as SpecError).errors[0];
    }
    throw new Error("parsed");
  };

  it("reports YAML syntax errors with line and column", () => {
    expect(syntaxError("services:\n  a: [\n")).toMatchObject({ path: expect.stringMatching(/^line \d+, column \d+$/) });
  });

  it("reports JSON syntax errors with line and column", () => {
    expect(syntaxError('{\n  "services": {\n    "a": { "image": "x:1", }\n  ,,}\n}')).toMatchObject({ path: expect.stringMatching(/^line \d+, column \d+$/) });
  });

  it("rejects duplicate keys, which would silently drop a service", () => {
    // The excerpt (a code frame with a caret under the column) is new: asserted here with the rest.
    expect(syntaxError("services:\n  web: {image: a:1}\n  web: {image: b:1}\n")).toEqual({
      path: "line 3, column 3",
      message: expect.stringMatching(/duplicate key "web" \(first at line 2, column 3\); keys must be unique/),
      excerpt: "  web: {image: b:1}\n  ^",
    });
  });

  it("rejects an empty file", () => {
    expect(syntaxError("  \n")).toEqual({ path: "(file)", message: expect.stringMatching(/empty/) });
    expect(syntaxError("# only a comment\n")).toEqual({ path: "(file)", message: expect.stringMatching(/no spec/) });
  });
});
