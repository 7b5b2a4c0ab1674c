// The mesh diagram (tools/mesh-graph.ts, npm run diagram): what the spec says must show, and the
// README must show the current default spec.
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { extractReadmeDiagram, meshDot, meshMermaid, readmeDiagramBlock, README_END, README_START, renderSvg, replaceReadmeDiagram, serviceNodeId } from "../tools/mesh-graph";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { DEFAULT_SOURCE, loadSpecFile, parseSpec } from "../lib/pipeline";
import type { MeshSpecInput } from "../lib/spec/schema";

const defaultSpec = parseSpec(DEFAULT_SPEC, DEFAULT_SOURCE).plan;

/** The default mesh plus order-api (Fargate, 4 tasks, calls http-server) and a deny to http-client. */
const extendedInput: MeshSpecInput = {
  ...DEFAULT_SPEC,
  services: {
    ...DEFAULT_SPEC.services,
    "order-api": {
      image: "hashicorp/http-echo:1.0.0",
      port: 9000,
      command: ["-listen=127.0.0.1:9000", "-text=orders"],
      count: 4,
      launchType: "FARGATE",
      cpu: 512,
      memory: 1024,
      assignPublicIp: true,
      upstreams: [{ destination: "http-server", localBindPort: 9100 }],
    },
  },
  intentions: [
    { source: "order-api", destination: "http-client", action: "deny" },
    { source: "http-client", destination: "order-api", action: "allow" },
  ],
};
const extended = parseSpec(extendedInput, "test").plan;

/** Mermaid link lines in declaration order (linkStyle indexes count these). */
function mermaidLinks(text: string): string[] {
  return text.split("\n").filter((line) => /^\s+\S+ (--|-\.) ".*" (-->|\.->) \S+$/.test(line));
}

/** Link indexes a `linkStyle` line styles red and dashed. */
function redDashedLinks(text: string): Set<number> {
  const indexes = new Set<number>();
  for (const match of text.matchAll(/^\s+linkStyle ([\d,]+) (.*)$/gm)) {
    if (/stroke:#d62728/.test(match[2]!) && /stroke-dasharray/.test(match[2]!)) for (const i of match[1]!.split(",")) indexes.add(Number(i));
  }
  return indexes;
}

describe("mesh diagram", () => {
  it("shows a service added to the spec with its task count and launch type", () => {
    const mermaid = meshMermaid(extended);
    const node = mermaid.split("\n").find((line) => line.trim().startsWith(`${serviceNodeId("order-api")}[`));
    expect(node).toBeDefined();
    expect(node).toContain("order-api");
    expect(node).toContain("4 tasks");
    expect(node).toContain("FARGATE 512/1024");
    expect(meshMermaid(defaultSpec)).not.toContain("order-api");
    const server = mermaid.split("\n").find((line) => line.trim().startsWith(`${serviceNodeId("http-server")}[`));
    expect(server).toContain("3 tasks · EC2");
    expect(meshDot(extended)).toMatch(/svc_order_api \[label="order-api\\n4 tasks · FARGATE 512\/1024/);
  });

  it("shows each service's task architecture, and what the tasks reach the servers on", () => {
    const mixed = structuredClone(DEFAULT_SPEC) as any;
    mixed.services["http-server"].architecture = "dataplane";
    const mermaid = meshMermaid(parseSpec(mixed, "test").plan);
    const line = (service: string) => mermaid.split("\n").find((l) => l.trim().startsWith(`${serviceNodeId(service)}[`));
    expect(line("http-server")).toContain("dataplane (IAM login)");
    expect(line("http-client")).toContain("agent + Envoy sidecar");
    expect(mermaid).toContain("RPC 8300, gossip 8301; gRPC 8503, HTTPS 8501 (TLS)");
    expect(meshMermaid(defaultSpec)).toContain('"RPC 8300, gossip 8301 (TLS)"');
  });

  it("draws each upstream as an edge labelled with its local bind port", () => {
    const links = mermaidLinks(meshMermaid(extended));
    expect(links).toContain(`  svc_order_api -- ":9100" --> svc_http_server`);
    expect(links).toContain(`  svc_http_client -- ":8085" --> svc_http_server`);
    expect(meshDot(extended)).toContain(`svc_order_api -> svc_http_server [label=":9100"];`);
  });

  it("draws a deny intention dashed and red, and an allow intention solid", () => {
    const mermaid = meshMermaid(extended);
    const links = mermaidLinks(mermaid);
    const deny = links.indexOf(`  svc_order_api -. "deny" .-> svc_http_client`);
    const allow = links.indexOf(`  svc_http_client -- "allow" --> svc_order_api`);
    expect(deny).toBeGreaterThanOrEqual(0);
    expect(allow).toBeGreaterThanOrEqual(0);
    const red = redDashedLinks(mermaid);
    expect(red.has(deny)).toBe(true);
    expect(red.has(allow)).toBe(false);
    const dot = meshDot(extended);
    expect(dot).toMatch(/svc_order_api -> svc_http_client \[label="deny", style=dashed, color="#d62728"/);
    expect(dot).toMatch(/svc_http_client -> svc_order_api \[label="allow"\];/);
  });

  it("labels an upstream that L7 permissions narrow with the permissions, or their count when they are long", () => {
    const links = mermaidLinks(meshMermaid(loadSpecFile("examples/three-tier.yaml").plan));
    expect(links).toContain(`  svc_web -- "L7: deny * /admin*; allow GET,HEAD /* (upstream :9091)" --> svc_api`);

    const many = structuredClone(DEFAULT_SPEC) as any;
    many.services["http-server"].protocol = "http";
    many.intentions = [
      {
        source: "http-client",
        destination: "http-server",
        permissions: [
          { action: "deny", pathPrefix: "/admin" },
          { action: "deny", pathRegex: "/internal/.*" },
          { action: "allow", methods: ["GET", "HEAD", "OPTIONS"], pathPrefix: "/public/" },
          { action: "allow", methods: ["POST"], pathExact: "/orders" },
        ],
      },
    ];
    const plan = parseSpec(many, "test").plan;
    expect(mermaidLinks(meshMermaid(plan))).toContain(`  svc_http_client -- "L7: 4 permissions (upstream :8085)" --> svc_http_server`);
    expect(meshDot(plan)).toContain(`svc_http_client -> svc_http_server [label="L7: 4 permissions (upstream :8085)"];`);
  });

  it("draws an upstream that an intention denies as denied, and * as any service", () => {
    const spec = parseSpec(
      {
        ...DEFAULT_SPEC,
        intentions: [
          { source: "http-client", destination: "http-server", action: "deny" },
          { source: "*", destination: "http-client", action: "deny" },
        ],
      },
      "test",
    ).plan;
    const mermaid = meshMermaid(spec);
    const links = mermaidLinks(mermaid);
    const overridden = links.indexOf(`  svc_http_client -. "deny (upstream :8085)" .-> svc_http_server`);
    const star = links.indexOf(`  any_service -. "deny" .-> svc_http_client`);
    expect(redDashedLinks(mermaid)).toEqual(new Set([overridden, star]));
    expect(mermaid).toMatch(/any_service\(\["any service \(\*\)"\]\)/);
  });

  it("has the Consul server, and the TLS edge only when the spec has one", () => {
    expect(meshMermaid(defaultSpec)).toMatch(/consul_server_1\[\("Consul server<br\/>EC2 t3.micro · 10.0.101.100<br\/>zone 1 · datacenter aws"\)\]/);
    expect(meshMermaid(defaultSpec)).toMatch(/egress\(\["NAT gateway<br\/>zone 1<br\/>AWS APIs and registries"\]\)/);
    expect(meshMermaid(defaultSpec)).not.toContain("tls_edge");
    const withEdge = parseSpec({ ...DEFAULT_SPEC, tlsEdge: { serviceName: "secure-app", namespace: "internal.example", desiredCount: 2 } }, "test").plan;
    const mermaid = meshMermaid(withEdge);
    expect(mermaid).toMatch(/tls_edge\{\{"TLS edge: secure-app<br\/>2 tasks · FARGATE 256\/512<br\/>https:\/\/secure-app.internal.example:443/);
    expect(mermaidLinks(mermaid)).toContain(`  tls_clients -- "HTTPS 443 via Cloud Map DNS" --> tls_edge`);
    expect(meshDot(withEdge)).toContain("tls_clients -> tls_edge");
  });

  it("draws the production topology: a server per zone and a NAT gateway per zone", () => {
    const mermaid = meshMermaid(loadSpecFile("examples/production.yaml").plan);
    for (const n of [1, 2, 3]) expect(mermaid).toContain(`consul_server_${n}[("Consul server ${n}<br/>EC2 m6i.large · Auto Scaling group of 1<br/>zone ${n} · datacenter prod")]`);
    expect(mermaid).toContain('egress(["3 NAT gateways<br/>zone 1, zone 2, zone 3<br/>AWS APIs and registries"])');
    expect(mermaid).toContain("3 zones, private subnets");
  });

  it("draws the VPC endpoints when the network has no internet access", () => {
    const plan = parseSpec(
      {
        ...DEFAULT_SPEC,
        network: { zones: [{ privateSubnet: "10.0.101.0/24" }], egress: "vpc-endpoints" },
        consul: { ...DEFAULT_SPEC.consul, releaseS3Uri: "s3://artifacts/consul.zip" },
        images: { pullThroughCache: true, dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub" },
        services: { "http-server": { ...DEFAULT_SPEC.services!["http-server"]!, image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:1" } },
      },
      "t",
    ).plan;
    // Fixed servers and agents joining them by address: nothing calls EC2, so it gets no endpoint.
    expect(meshMermaid(plan)).toMatch(/egress\(\["VPC endpoints \(no internet\)<br\/>ecr\.api, ecr\.dkr, ecs, ecs-agent<br\/>.*s3 \(gateway\)"\]\)/);
  });

  it("renders the DOT graph to an SVG naming every service", async () => {
    const svg = await renderSvg(meshDot(extended));
    expect(svg).toContain("<svg");
    // Graphviz writes '-' as &#45;: compare the decoded text.
    const text = svg.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
    for (const name of extended.services.map((s) => s.name)) expect(text).toContain(`>${name}</text>`);
    expect(svg).toContain("Consul server");
  }, 30_000);

  it("replaces only the text between the README markers, and refuses a README without them", () => {
    const readme = `# Title\n\nbefore\n${README_START}\nold\n${README_END}\nafter\n`;
    const updated = replaceReadmeDiagram(readme, "NEW")!;
    expect(updated).toBe(`# Title\n\nbefore\n${README_START}\nNEW\n${README_END}\nafter\n`);
    expect(extractReadmeDiagram(updated)).toBe("NEW");
    expect(replaceReadmeDiagram("# no markers\n", "NEW")).toBeUndefined();
    expect(replaceReadmeDiagram(`${README_END}\n${README_START}\n`, "NEW")).toBeUndefined();
  });

  it("keeps the README diagram equal to the built-in default spec's (npm run diagram)", () => {
    const embedded = extractReadmeDiagram(fs.readFileSync("README.md", "utf8"));
    expect(embedded, "README.md lacks the mesh-diagram markers").toBeDefined();
    expect(embedded).toBe(readmeDiagramBlock(meshMermaid(defaultSpec)));
  });
});
