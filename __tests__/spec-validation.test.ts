import { describe, expect, it } from "vitest";
import { parseSpec } from "../lib/pipeline";
import { parseDocument } from "../lib/spec/document";
import type { SpecError } from "../lib/issues";
import { rejectionOf } from "./support/spec-issues";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import type { ContainerPlan, MeshPlan } from "../lib/plan/types";
import type { RuleResult } from "../lib/issues";
import { checkPorts } from "../lib/rules/ports";
import { planOf } from "./support/synth";

/** The default spec with some fields replaced: every bad spec below differs from a good one in one place. */
function specWith(change: (spec: any) => void): MeshSpecInput {
  const spec = structuredClone(DEFAULT_SPEC) as any;
  change(spec);
  return spec;
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
  ["bad service name", (s) => (s.services.Bad_Name = { image: "x:1" }), "services.Bad_Name", /lowercase letters/],
  ["service name too long for a DNS label", (s) => (s.services["a".repeat(64)] = { image: "x:1" }), `services.${"a".repeat(64)}`, /63/],
  ["cluster name too long for IAM prefixes", (s) => (s.name = "a".repeat(21)), "name", /20/],
  ["bad health check type", (s) => (server(s).healthCheck = { type: "grpc" }), "services.http-server.healthCheck.type", /Expected 'http' \| 'tcp' \| 'none'/],
  [
    "secret with both references",
    (s) =>
      (client(s).secrets = {
        K: { secretsManagerArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:k", ssmParameterArn: "arn:aws:ssm:us-east-1:123456789012:parameter/k" },
      }),
    "services.http-client.secrets.K",
    /exactly one/,
  ],
  ["secret that is not an ARN", (s) => (client(s).secrets = { K: { secretsManagerArn: "my-secret" } }), "services.http-client.secrets.K.secretsManagerArn", /ARN/],
  ["log retention CloudWatch rejects", (s) => (s.logRetentionDays = 10), "logRetentionDays", /must be one of 1, 3, 5/],
  // References
  [
    "unknown upstream",
    (s) => (client(s).upstreams[0].destination = "http-sever"),
    "services.http-client.upstreams[0].destination",
    /unknown service "http-sever"; did you mean "http-server"\?/,
  ],
  ["own upstream", (s) => (client(s).upstreams[0].destination = "http-client"), "services.http-client.upstreams[0].destination", /its own upstream/],
  [
    "upstream to a service with no port",
    (s) => {
      delete server(s).port;
      server(s).healthCheck = { type: "none" };
    },
    "services.http-client.upstreams[0].destination",
    /has no port/,
  ],
  [
    "intention to an unknown service",
    (s) => (s.intentions = [{ source: "http-client", destination: "nope", action: "deny" }]),
    "intentions[0].destination",
    /unknown service "nope"/,
  ],
  [
    "duplicate intention",
    (s) =>
      (s.intentions = [
        { source: "http-client", destination: "http-server", action: "deny" },
        { source: "http-client", destination: "http-server", action: "allow" },
      ]),
    "intentions[1]",
    /duplicates intentions\[0\]/,
  ],
  ["TLS edge named like the mesh cluster", (s) => (s.tlsEdge = { serviceName: "consul-ecs" }), "tlsEdge.serviceName", /share one ECS cluster/],
  // Ports
  ["port out of range", (s) => (server(s).port = 70000), "services.http-server.port", /between 1 and 65535/],
  ["app port on the Consul HTTP API", (s) => (server(s).port = 8500), "services.http-server.port", /consul-agent's Consul HTTP API/],
  ["app port on the Envoy listener", (s) => (server(s).port = 21000), "services.http-server.port", /envoy-sidecar's Envoy public listener/],
  [
    "upstream on the Envoy ready listener",
    (s) => (client(s).upstreams[0].localBindPort = 19100),
    "services.http-client.upstreams[0].localBindPort",
    /envoy-sidecar's Envoy ready listener/,
  ],
  ["app port on the agent's DNS", (s) => (server(s).port = 8600), "services.http-server.port", /consul-agent's Consul DNS in every agent task/],
  [
    "app port on the dataplane's lifecycle server",
    (s) => Object.assign(server(s), { architecture: "dataplane", port: 20300 }),
    "services.http-server.port",
    /consul-dataplane's lifecycle server in every dataplane task/,
  ],
  ["upstream on the app port", (s) => (client(s).upstreams[0].localBindPort = 8080), "services.http-client.upstreams[0].localBindPort", /app's own port/],
  [
    "duplicate upstream ports",
    (s) => client(s).upstreams.push({ destination: "http-server", localBindPort: 8085 }),
    "services.http-client.upstreams[1].localBindPort",
    /local port of upstream http-server/,
  ],
  [
    "http check without a port",
    (s) => {
      delete client(s).port;
      client(s).healthCheck = { type: "tcp" };
    },
    "services.http-client.healthCheck",
    /needs the service's port/,
  ],
  // Network
  ["invalid CIDR", (s) => (s.network.vpcCidr = "10.0.0.0/33"), "network.vpcCidr", /IPv4 CIDR/],
  ["VPC too large", (s) => (s.network.vpcCidr = "10.0.0.0/8"), "network.vpcCidr", /\/16 to \/28/],
  [
    "subnet outside the VPC",
    (s) => (s.network.zones[0].privateSubnet = "10.1.101.0/24"),
    "network.zones[0].privateSubnet",
    /not inside the VPC 10\.0\.0\.0\/16; choose a block inside it/,
  ],
  ["subnet with host bits", (s) => (s.network.zones[0].privateSubnet = "10.0.101.7/24"), "network.zones[0].privateSubnet", /did you mean 10\.0\.101\.0\/24/],
  ["overlapping subnets", (s) => (s.network.zones[0].publicSubnet = "10.0.101.0/28"), "network.zones[0].publicSubnet", /overlaps network\.zones\[0\]\.privateSubnet/],
  [
    "the same availability zone twice",
    (s) => {
      s.network.zones[0].availabilityZone = "us-east-1a";
      s.network.zones.push({ privateSubnet: "10.0.102.0/24", availabilityZone: "us-east-1a" });
    },
    "network.zones[1].availabilityZone",
    /already zone 0/,
  ],
  ["an availability zone of another region", (s) => (s.network.zones[0].availabilityZone = "eu-west-1a"), "network.zones[0].availabilityZone", /not a zone of us-east-1/],
  [
    "more than three zones",
    (s) => s.network.zones.push({ privateSubnet: "10.0.102.0/24" }, { privateSubnet: "10.0.103.0/24" }, { privateSubnet: "10.0.104.0/24" }),
    "network.zones",
    /at most 3/,
  ],
  ["a NAT gateway without a public subnet", (s) => delete s.network.zones[0].publicSubnet, "network.zones[0].publicSubnet", /give it a small public subnet/],
  [
    "a NAT gateway per zone without each public subnet",
    (s) => {
      s.network.egress = "nat-gateway-per-zone";
      s.network.zones.push({ privateSubnet: "10.0.102.0/24" });
    },
    "network.zones[1].publicSubnet",
    /NAT gateway in every zone/,
  ],
  [
    "too few addresses for the tasks",
    (s) => {
      s.network.zones[0].privateSubnet = "10.0.101.0/28";
      s.consul.serverPrivateIps = ["10.0.101.4"];
      s.ecsHosts.privateIps = ["10.0.101.5", "10.0.101.6"];
      server(s).count = 12;
      Object.assign(server(s), { launchType: "FARGATE" });
    },
    "network.zones",
    /11 usable addresses, but the mesh needs/,
  ],
  ["static IP outside the subnets", (s) => (s.consul.serverPrivateIps = ["10.0.102.100"]), "consul.serverPrivateIps[0]", /in none of the private subnets/],
  ["static IP reserved by AWS", (s) => (s.ecsHosts.privateIps[0] = "10.0.101.3"), "ecsHosts.privateIps[0]", /reserved by AWS/],
  ["broadcast address", (s) => (s.ecsHosts.privateIps[0] = "10.0.101.255"), "ecsHosts.privateIps[0]", /reserved by AWS/],
  ["static IP used twice", (s) => (s.ecsHosts.privateIps[1] = "10.0.101.100"), "ecsHosts.privateIps[1]", /already used by consul.serverPrivateIps\[0\]/],
  // Servers
  ["an even number of servers", (s) => Object.assign(s.consul, { servers: 2, serverPrivateIps: undefined }), "consul.servers", /2 tolerate no more failures than 1/],
  ["seven servers", (s) => Object.assign(s.consul, { servers: 7, serverPrivateIps: undefined }), "consul.servers", /more than 5 slow every write/],
  ["fewer addresses than servers", (s) => (s.consul.servers = 3), "consul.serverPrivateIps", /lists 1 address\(es\) for 3 server\(s\)/],
  // Hosts
  [
    "fixed hosts and an Auto Scaling group at once",
    (s) => (s.ecsHosts.autoScaling = { maxSize: 3 }),
    "ecsHosts",
    /set privateIps \(fixed hosts\) or autoScaling \(an Auto Scaling group\), not both/,
  ],
  [
    "an Auto Scaling group too small for the tasks",
    (s) => (s.ecsHosts = { instanceType: "t3.small", autoScaling: { minSize: 1, maxSize: 1 } }),
    "ecsHosts.instanceType",
    /at most 1 \(autoScaling\.maxSize\) × t3\.small run at most 2 awsvpc tasks/,
  ],
  ["an instance type with a Terraform template in it", (s) => (s.ecsHosts.instanceType = "t3.micro${var.cluster_name}"), "ecsHosts.instanceType", /must be an EC2 instance type/],
  ["an instance type that is free text", (s) => (s.consul.serverInstanceType = "large"), "consul.serverInstanceType", /must be an EC2 instance type/],
  // Security
  [
    "a plaintext secret in environment",
    (s) => (server(s).environment = { DB_PASSWORD: "hunter2" }),
    "services.http-server.environment.DB_PASSWORD",
    /looks like a secret.*move it to secrets/,
  ],
  ["an API key in environment", (s) => (server(s).environment = { STRIPE_API_KEY: "sk_live" }), "services.http-server.environment.STRIPE_API_KEY", /looks like a secret/],
  ["an allow-list entry for no variable", (s) => (server(s).allowPlaintextEnvironment = ["TOKEN_URL"]), "services.http-server.allowPlaintextEnvironment[0]", /not in environment/],
  [
    "Docker Hub credentials ECR cannot use",
    (s) => (s.images = { dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub" }),
    "images.dockerHubCredentialsSecretArn",
    /ecr-pullthroughcache\//,
  ],
  ["not an IP", (s) => (s.ecsHosts.privateIps[1] = "10.0.101"), "ecsHosts.privateIps[1]", /IPv4 address/],
  // Capacity
  ["more tasks than ENIs", (s) => (server(s).count = 4), "ecsHosts.instanceType", /at most 4 awsvpc tasks .* want 5/],
  [
    "invalid Fargate pair",
    (s) => Object.assign(server(s), { launchType: "FARGATE", cpu: 256, memory: 4096 }),
    "services.http-server.memory",
    /allowed memory values: 512, 1024, 2048/,
  ],
  ["Fargate CPU that does not exist", (s) => Object.assign(server(s), { launchType: "FARGATE", cpu: 300 }), "services.http-server.cpu", /not a Fargate CPU size/],
  ["app memory above the task", (s) => Object.assign(server(s), { appMemory: 500, memory: 512 }), "services.http-server.appMemory", /need 660 MiB/],
  ["public IP on EC2", (s) => (server(s).assignPublicIp = true), "services.http-server.assignPublicIp", /only Fargate/],
  [
    "a public IP without a public subnet",
    (s) => {
      Object.assign(server(s), { launchType: "FARGATE", assignPublicIp: true });
      s.network.egress = "vpc-endpoints";
      delete s.network.zones[0].publicSubnet;
      s.consul.releaseS3Uri = "s3://releases/consul.zip";
    },
    "services.http-server.assignPublicIp",
    /no zone has a public subnet/,
  ],
  // Network paths
  [
    "servers without internet access and no staged release",
    (s) => (s.network.egress = "vpc-endpoints"),
    "consul.releaseS3Uri",
    /Consul servers cannot download Consul from releases\.hashicorp\.com.*stage the release zip in S3/,
  ],
  [
    "an app image on Docker Hub without internet access",
    (s) => Object.assign(s.network, { egress: "vpc-endpoints" }),
    "services.http-server.image",
    /cannot pull hashicorp\/http-echo:1\.0\.0: no route; mirror the image into ECR/,
  ],
  [
    "Envoy from Docker Hub without internet access",
    (s) => Object.assign(s.network, { egress: "vpc-endpoints" }),
    "images",
    /cannot pull envoyproxy\/envoy:v1\.37\.11.*images\.dockerHubCredentialsSecretArn/,
  ],
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
    const errors = rejectionOf(specWith(change)).errors;
    expect(errors, JSON.stringify(errors, null, 2)).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it("reports every error of a spec in one run", () => {
    const errors = rejectionOf(
      specWith((s) => {
        client(s).upstreamz = [];
        client(s).upstreams[0].destination = "nope";
        server(s).image = "hashicorp/http-echo:latest";
        s.ecsHosts.privateIps[0] = "10.0.101.1";
        s.consul.servers = 4;
      }),
    ).errors;
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(["services.http-client", "services.http-client.upstreams[0].destination", "services.http-server.image", "ecsHosts.privateIps[0]", "consul.servers"]),
    );
  });

  it("accepts images pinned by digest, and registry ports with a tag", () => {
    const digest = `hashicorp/http-echo@sha256:${"a".repeat(64)}`;
    expect(() =>
      parseSpec(
        specWith((s) => (server(s).image = digest)),
        "t",
      ),
    ).not.toThrow();
    expect(() =>
      parseSpec(
        specWith((s) => (server(s).image = "registry.example.com:5000/echo:1.2")),
        "t",
      ),
    ).not.toThrow();
  });

  it("reserves a port for the task's containers as soon as a container states it, without a change to the ports rule", () => {
    const plan = planOf();
    const web = plan.services.find((s) => s.name === "http-server")!;
    const exporter: ContainerPlan = {
      name: "metrics-exporter",
      image: "exporter:1.0.0",
      essential: false,
      serves: [{ name: "metrics endpoint", on: { tcp: 9102 }, reveals: [], controls: false }],
    };
    const withExporter = (port: number): MeshPlan => ({
      ...plan,
      services: plan.services.map((s) => (s === web ? { ...s, port, task: { ...s.task, containers: [...s.task.containers, exporter] } } : s)),
    });
    const portErrors = (p: MeshPlan) => {
      const result: RuleResult = { errors: [], warnings: [] };
      checkPorts(p, result);
      return result.errors;
    };
    expect(portErrors(withExporter(9102))).toEqual([
      { path: "services.http-server.port", message: "9102 is metrics-exporter's metrics endpoint in every agent task; choose another port" },
    ]);
    expect(portErrors(withExporter(9103))).toEqual([]);
  });

  it("reports an ENI shortfall once, on the instance type, with its fix (not again per service as a rollout peak)", () => {
    expect(rejectionOf(specWith((s) => (server(s).count = 4))).errors).toEqual([
      { path: "ecsHosts.instanceType", message: expect.stringMatching(/at most 4 awsvpc tasks .* want 5; .*Use a larger type, more hosts or fewer tasks/) },
    ]);
  });

  it("warns, without failing, about an instance type whose ENI limit is unknown", () => {
    const { warnings } = parseSpec(
      specWith((s) => (s.ecsHosts.instanceType = "m6i.large")),
      "t",
    );
    expect(warnings).toContainEqual({ path: "ecsHosts.instanceType", message: expect.stringMatching(/ENI limit of m6i.large is unknown/) });
  });

  it("accepts a Fargate task without a public IP: the NAT gateway reaches the registries", () => {
    const { warnings } = parseSpec(
      specWith((s) => {
        Object.assign(server(s), { launchType: "FARGATE", cpu: 256, memory: 512 });
        s.images = { allowAnonymousDockerHubPulls: true };
      }),
      "t",
    );
    expect(warnings.map((w) => w.path)).not.toContain("services.http-server.assignPublicIp");
  });

  it("warns about what a reviewer should see: one server, apps without a user, public IPs, a TLD-shadowing namespace", () => {
    const { warnings } = parseSpec(
      specWith((s) => {
        delete server(s).user;
        Object.assign(s.network, { publicInstances: true, zones: [{ privateSubnet: "10.0.100.0/24", publicSubnet: "10.0.101.0/24" }] });
        s.tlsEdge = { namespace: "dev" };
      }),
      "t",
    );
    expect(warnings.map((w) => w.path).sort()).toEqual([
      "consul.servers",
      "network.publicInstances",
      "services.http-client.enableExecuteCommand",
      "services.http-server.user",
      "tlsEdge.namespace",
    ]);
    // ECS Exec into an agent task reaches the agent's secrets: the agent architecture's boundary.
    expect(warnings.find((w) => w.path === "services.http-client.enableExecuteCommand")!.message).toMatch(
      /gossip key, the mesh's agent token and the service's token.*architecture: dataplane/,
    );
    expect(warnings.find((w) => w.path === "tlsEdge.namespace")!.message).toMatch(/public top-level domain \.dev.*\.internal/);
  });

  it("lets a variable that only looks secret through when the spec says so", () => {
    expect(() =>
      parseSpec(
        specWith((s) => Object.assign(server(s), { environment: { TOKEN_URL: "https://auth.example/token" }, allowPlaintextEnvironment: ["TOKEN_URL"] })),
        "t",
      ),
    ).not.toThrow();
  });

  it("accepts servers without internet access when the release is staged in S3, with a warning about the first cached pull", () => {
    const { warnings } = parseSpec(
      specWith((s) => {
        s.network.egress = "vpc-endpoints";
        s.consul.releaseS3Uri = "s3://my-artifacts/consul_1.22.7_linux_amd64.zip";
        server(s).image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/http-echo:1.0.0";
        client(s).image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/curl:8.11.1";
        s.images = { dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/dockerhub" };
      }),
      "t",
    );
    expect(warnings.filter((w) => w.path === "network.egress").map((w) => w.message)).toEqual([
      expect.stringMatching(/first pull of envoyproxy\/envoy:v1\.37\.11/),
      expect.stringMatching(/first pull of public\.ecr\.aws\/hashicorp\/consul:2\.0\.1/),
    ]);
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
