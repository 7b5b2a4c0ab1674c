// The mesh as a picture, from the plan alone: services (task count, launch type), upstream
// edges (local bind port), intentions (allow solid, deny dashed red, L7 permissions listed or counted), the Consul server and,
// when the spec has one, the TLS edge. One graph model, two renderings: Mermaid (README,
// docs/mesh-diagram.mmd) and Graphviz DOT (docs/mesh-diagram.svg, rendered offline by WASM).
import { CONSUL_PORTS, TLS_EDGE_PORTS } from "../lib/facts";
import type { IntentionSource, MeshPlan } from "../lib/plan/types";

export type EdgeKind = "upstream" | "allow" | "deny" | "control";

export interface DiagramNode {
  readonly id: string;
  /** Lines of the label, first line is the name. */
  readonly lines: readonly string[];
  readonly shape: "box" | "database" | "edge" | "any";
  /** Nodes inside the ECS cluster box. */
  readonly inCluster: boolean;
}

export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label: string;
}

export interface MeshGraph {
  readonly title: string;
  readonly clusterLabel: string;
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

const EGRESS_ID = "egress";

/** Node id of Consul server `index` (0-based). */
function serverNodeId(index: number): string {
  return `consul_server_${index + 1}`;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
const ANY_ID = "any_service";
const CLUSTER_ID = "ecs_cluster";

/** Node id of a service: service names are [a-z0-9-], so '-' -> '_' cannot collide. */
export function serviceNodeId(name: string): string {
  return `svc_${name.replace(/-/g, "_")}`;
}

/** Permissions longer than this are counted on an edge, not listed: a label stays readable. */
const MAX_PERMISSIONS_LABEL = 60;

/**
 * An intention on an edge: its action (L4), or its permissions as the call edge lists them
 * (TrafficEdge.allowed, lib/plan/traffic.ts), or "L7: n permissions" when that is long or unknown.
 */
function intentionLabel(source: IntentionSource, allowed: string | undefined): string {
  const permissions = source.permissions;
  if (!permissions) return source.action;
  if (allowed !== undefined && allowed.length <= MAX_PERMISSIONS_LABEL) return `L7: ${allowed}`;
  return `L7: ${permissions.length} ${permissions.length === 1 ? "permission" : "permissions"}`;
}

/** The graph of a plan, in a stable order (services by name, edges by source then destination). */
export function meshGraph(plan: MeshPlan): MeshGraph {
  const nodes: DiagramNode[] = plan.services.map((service) => {
    const tasks = `${service.count} ${service.count === 1 ? "task" : "tasks"}`;
    const launch = service.launchType === "FARGATE" ? `FARGATE ${service.cpu}/${service.memory}` : "EC2";
    const port = service.port === undefined ? "client only" : `app 127.0.0.1:${service.port}`;
    const architecture = service.architecture === "agent" ? "agent + Envoy sidecar" : "dataplane (IAM login)";
    return { id: serviceNodeId(service.name), lines: [service.name, `${tasks} · ${launch}`, port, architecture], shape: "box", inCluster: true };
  });
  const zoneName = (zone: number) => plan.network.zones[zone]!.availabilityZone ?? `zone ${zone + 1}`;
  for (const node of plan.server.nodes) {
    nodes.push({
      id: serverNodeId(node.index),
      lines: [
        plan.server.count === 1 ? "Consul server" : `Consul server ${node.index + 1}`,
        `EC2 ${plan.server.instanceType} · ${node.privateIp ?? "Auto Scaling group of 1"}`,
        `${zoneName(node.zone)} · datacenter ${plan.datacenter}`,
      ],
      shape: "database",
      inCluster: false,
    });
  }
  const { network } = plan;
  const natZones = [...new Set(network.zones.flatMap((zone) => (zone.natZone === undefined ? [] : [zone.natZone])))];
  nodes.push({
    id: EGRESS_ID,
    lines:
      natZones.length > 0
        ? [natZones.length === 1 ? "NAT gateway" : `${natZones.length} NAT gateways`, natZones.map(zoneName).join(", "), "AWS APIs and registries"]
        : ["VPC endpoints (no internet)", ...chunk(network.interfaceEndpoints, 4).map((line) => line.join(", ")), "s3 (gateway)"],
    shape: "any",
    inCluster: false,
  });

  // The effective intentions (the plan resolved them): explicit ones from the spec win over upstreams.
  const explicit = new Map<string, IntentionSource>();
  for (const [destination, sources] of plan.intentions) {
    for (const source of sources) if (source.origin === "spec") explicit.set(`${source.name}>${destination}`, source);
  }

  const edges: DiagramEdge[] = [];
  const drawn = new Set<string>();
  for (const service of plan.services) {
    for (const upstream of [...service.upstreams].sort((a, b) => a.destination.localeCompare(b.destination))) {
      const key = `${service.name}>${upstream.destination}`;
      drawn.add(key);
      const source = explicit.get(key);
      const action = source?.action;
      const allowed = plan.traffic.edges.find((e) => e.source === service.name && e.destination === upstream.destination)?.allowed;
      edges.push({
        from: serviceNodeId(service.name),
        to: serviceNodeId(upstream.destination),
        kind: action === "deny" ? "deny" : "upstream",
        // An explicit intention on an upstream pair wins (deny), is restated (allow) or narrows it (L7 permissions).
        label: action === undefined ? `:${upstream.localBindPort}` : `${intentionLabel(source!, allowed)} (upstream :${upstream.localBindPort})`,
      });
    }
  }
  const rest = [...explicit].filter(([key]) => !drawn.has(key)).map(([key, source]) => ({ key, source, destination: key.slice(key.indexOf(">") + 1) }));
  rest.sort((a, b) => a.source.name.localeCompare(b.source.name) || a.destination.localeCompare(b.destination));
  for (const { source, destination } of rest) {
    const from = source.name === "*" ? ANY_ID : serviceNodeId(source.name);
    edges.push({ from, to: serviceNodeId(destination), kind: source.action, label: intentionLabel(source, undefined) });
  }
  if (edges.some((e) => e.from === ANY_ID)) {
    nodes.push({ id: ANY_ID, lines: ["any service (*)"], shape: "any", inCluster: true });
  }
  // What the tasks open to the servers: agents RPC and gossip, dataplanes gRPC (xDS, catalog) and the HTTPS API.
  const toServers = [
    ...(plan.services.some((s) => s.architecture === "agent") ? [`RPC ${CONSUL_PORTS.serverRpc}, gossip ${CONSUL_PORTS.serfLan}`] : []),
    ...(plan.dataplane ? [`gRPC ${CONSUL_PORTS.grpcTls}, HTTPS ${CONSUL_PORTS.https}`] : []),
  ].join("; ");
  for (const node of plan.server.nodes) edges.push({ from: CLUSTER_ID, to: serverNodeId(node.index), kind: "control", label: `${toServers} (TLS)` });
  edges.push({ from: CLUSTER_ID, to: EGRESS_ID, kind: "control", label: "HTTPS 443" });

  const edge = plan.tlsEdge;
  if (edge) {
    nodes.push({
      id: "tls_edge",
      lines: [
        `TLS edge: ${edge.serviceName}`,
        `${edge.desiredCount} ${edge.desiredCount === 1 ? "task" : "tasks"} · FARGATE ${edge.cpu}/${edge.memory}`,
        `https://${edge.dnsName}:${TLS_EDGE_PORTS.listener} (Envoy)`,
      ],
      shape: "edge",
      inCluster: false,
    });
    nodes.push({ id: "tls_clients", lines: ["clients in the VPC"], shape: "any", inCluster: false });
    edges.push({ from: "tls_clients", to: "tls_edge", kind: "allow", label: `HTTPS ${TLS_EDGE_PORTS.listener} via Cloud Map DNS` });
  }

  const zones = `${network.zones.length} ${network.zones.length === 1 ? "zone" : "zones"}, private subnets`;
  return { title: `Mesh ${plan.name}`, clusterLabel: `ECS cluster ${plan.name} · mesh services · ${zones}`, nodes, edges };
}

/** Mermaid label text: double quotes and markup characters become entities. */
function mermaidText(text: string): string {
  return text.replace(/[#"<>]/g, (c) => ({ "#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;" })[c]!);
}

function mermaidNode(node: DiagramNode): string {
  const label = `"${node.lines.map(mermaidText).join("<br/>")}"`;
  switch (node.shape) {
    case "database":
      return `${node.id}[(${label})]`;
    case "edge":
      return `${node.id}{{${label}}}`;
    case "any":
      return `${node.id}([${label}])`;
    default:
      return `${node.id}[${label}]`;
  }
}

const DENY_COLOR = "#d62728";

/** The plan as a Mermaid flowchart (deterministic: the same plan gives the same text). */
export function meshMermaid(plan: MeshPlan): string {
  const graph = meshGraph(plan);
  const out: string[] = ["flowchart LR"];
  out.push(`  subgraph ${CLUSTER_ID}["${mermaidText(graph.clusterLabel)}"]`);
  for (const node of graph.nodes.filter((n) => n.inCluster)) out.push(`    ${mermaidNode(node)}`);
  out.push("  end");
  for (const node of graph.nodes.filter((n) => !n.inCluster)) out.push(`  ${mermaidNode(node)}`);
  const denyLinks: number[] = [];
  const controlLinks: number[] = [];
  graph.edges.forEach((edge, index) => {
    const label = mermaidText(edge.label);
    if (edge.kind === "deny") {
      denyLinks.push(index);
      out.push(`  ${edge.from} -. "${label}" .-> ${edge.to}`);
    } else if (edge.kind === "control") {
      controlLinks.push(index);
      out.push(`  ${edge.from} -. "${label}" .-> ${edge.to}`);
    } else {
      out.push(`  ${edge.from} -- "${label}" --> ${edge.to}`);
    }
  });
  out.push(`  classDef service fill:#eef5ff,stroke:#1f77b4`);
  out.push(`  classDef consul fill:#fdf2f8,stroke:#ca2171`);
  out.push(`  classDef tls fill:#effaf0,stroke:#2ca02c`);
  const services = graph.nodes.filter((n) => n.shape === "box").map((n) => n.id);
  if (services.length > 0) out.push(`  class ${services.join(",")} service`);
  out.push(
    `  class ${graph.nodes
      .filter((n) => n.shape === "database")
      .map((n) => n.id)
      .join(",")} consul`,
  );
  if (graph.nodes.some((n) => n.id === "tls_edge")) out.push("  class tls_edge tls");
  if (controlLinks.length > 0) out.push(`  linkStyle ${controlLinks.join(",")} stroke:#888888`);
  if (denyLinks.length > 0) out.push(`  linkStyle ${denyLinks.join(",")} stroke:${DENY_COLOR},stroke-width:2px,stroke-dasharray:5 5,color:${DENY_COLOR}`);
  return `${out.join("\n")}\n`;
}

/** Text inside a DOT string literal: backslashes and double quotes escaped. */
function dotEscape(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

/** DOT string literal. */
function dotString(text: string): string {
  return `"${dotEscape(text)}"`;
}

function dotNodeAttrs(node: DiagramNode): string {
  const label = `"${node.lines.map(dotEscape).join("\\n")}"`;
  const shape = { box: "box", database: "cylinder", edge: "hexagon", any: "ellipse" }[node.shape];
  const fill = { box: "#eef5ff", database: "#fdf2f8", edge: "#effaf0", any: "#ffffff" }[node.shape];
  return `label=${label}, shape=${shape}, style="rounded,filled", fillcolor="${fill}"`;
}

/** The same graph as Graphviz DOT, for the offline SVG. */
export function meshDot(plan: MeshPlan): string {
  const graph = meshGraph(plan);
  const out: string[] = [
    `digraph mesh {`,
    `  graph [rankdir=LR, compound=true, fontname="Helvetica", label=${dotString(graph.title)}, labelloc=t];`,
    `  node [fontname="Helvetica", fontsize=11];`,
    `  edge [fontname="Helvetica", fontsize=10];`,
    `  subgraph cluster_${CLUSTER_ID} {`,
    `    label=${dotString(graph.clusterLabel)}; style="rounded,dashed"; color="#1f77b4";`,
  ];
  const clusterNodes = graph.nodes.filter((n) => n.inCluster);
  for (const node of clusterNodes) out.push(`    ${node.id} [${dotNodeAttrs(node)}];`);
  out.push("  }");
  for (const node of graph.nodes.filter((n) => !n.inCluster)) out.push(`  ${node.id} [${dotNodeAttrs(node)}];`);
  for (const edge of graph.edges) {
    const attrs = [`label=${dotString(edge.label)}`];
    if (edge.kind === "deny") attrs.push(`style=dashed`, `color="${DENY_COLOR}"`, `fontcolor="${DENY_COLOR}"`, `penwidth=2`);
    if (edge.kind === "control") attrs.push(`style=dashed`, `color="#888888"`);
    if (edge.from === CLUSTER_ID) {
      // DOT draws edges between nodes: leave the cluster box from its first node.
      out.push(`  ${clusterNodes[0]!.id} -> ${edge.to} [${[...attrs, `ltail=cluster_${CLUSTER_ID}`].join(", ")}];`);
    } else {
      out.push(`  ${edge.from} -> ${edge.to} [${attrs.join(", ")}];`);
    }
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

/** Renders DOT to SVG with Graphviz compiled to WebAssembly (no system binary, no network). */
export async function renderSvg(dot: string): Promise<string> {
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, "svg");
}

export const README_START = "<!-- mesh-diagram:start -->";
export const README_END = "<!-- mesh-diagram:end -->";

/** What goes between the README markers for a Mermaid text. */
export function readmeDiagramBlock(mermaid: string): string {
  return ["<!-- Generated by `npm run diagram -- --readme` from the built-in default spec: edit the spec, not this block. -->", "```mermaid", mermaid.trimEnd(), "```"].join("\n");
}

/** The text between the markers, or undefined when either marker is missing or they are out of order. */
export function extractReadmeDiagram(readme: string): string | undefined {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < 0 || end < start) return undefined;
  return readme.slice(start + README_START.length, end).trim();
}

/** The README with only the text between the markers replaced; undefined when the markers are missing. */
export function replaceReadmeDiagram(readme: string, block: string): string | undefined {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < 0 || end < start) return undefined;
  return `${readme.slice(0, start + README_START.length)}\n${block}\n${readme.slice(end)}`;
}
