// The mesh as a picture, from the spec alone: services (task count, launch type), upstream
// edges (local bind port), intentions (allow solid, deny dashed red), the Consul server and,
// when the spec has one, the TLS edge. One graph model, two renderings: Mermaid (README,
// docs/mesh-diagram.mmd) and Graphviz DOT (docs/mesh-diagram.svg, rendered offline by WASM).
import type { MeshSpec } from "./spec/schema";

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

/** The optional System 2 section; read loosely so the diagram works before and after it joins the schema. */
interface TlsEdgeLike {
  readonly serviceName?: string;
  readonly namespace?: string;
  readonly desiredCount?: number;
  readonly cpu?: number;
  readonly memory?: number;
}

const CONSUL_ID = "consul_server";
const ANY_ID = "any_service";
const CLUSTER_ID = "ecs_cluster";

/** Node id of a service: service names are [a-z0-9-], so '-' -> '_' cannot collide. */
export function serviceNodeId(name: string): string {
  return `svc_${name.replace(/-/g, "_")}`;
}

/** The graph of a validated spec, in a stable order (services by name, edges by source then destination). */
export function meshGraph(spec: MeshSpec): MeshGraph {
  const names = Object.keys(spec.services).sort();
  const nodes: DiagramNode[] = names.map((name) => {
    const service = spec.services[name]!;
    const tasks = `${service.count} ${service.count === 1 ? "task" : "tasks"}`;
    const launch = service.launchType === "FARGATE" ? `FARGATE ${service.cpu}/${service.memory}` : "EC2";
    const port = service.port === undefined ? "client only" : `app 127.0.0.1:${service.port}`;
    return { id: serviceNodeId(name), lines: [name, `${tasks} · ${launch}`, port], shape: "box", inCluster: true };
  });
  nodes.push({
    id: CONSUL_ID,
    lines: ["Consul server", `EC2 ${spec.consul.serverInstanceType} · ${spec.consul.serverPrivateIp}`, `datacenter ${spec.consul.datacenter}`],
    shape: "database",
    inCluster: false,
  });

  // Effective action per (source, destination): upstreams allow, explicit intentions win (lib/intentions.ts).
  const explicit = new Map<string, "allow" | "deny">();
  for (const intention of spec.intentions) explicit.set(`${intention.source}>${intention.destination}`, intention.action);

  const edges: DiagramEdge[] = [];
  const drawn = new Set<string>();
  for (const name of names) {
    for (const upstream of [...spec.services[name]!.upstreams].sort((a, b) => a.destination.localeCompare(b.destination))) {
      const key = `${name}>${upstream.destination}`;
      drawn.add(key);
      const action = explicit.get(key);
      edges.push({
        from: serviceNodeId(name),
        to: serviceNodeId(upstream.destination),
        kind: action === "deny" ? "deny" : "upstream",
        // An explicit intention on an upstream pair wins (deny) or is restated (allow).
        label: action === undefined ? `:${upstream.localBindPort}` : `${action} (upstream :${upstream.localBindPort})`,
      });
    }
  }
  const intentions = [...spec.intentions].sort(
    (a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination),
  );
  for (const intention of intentions) {
    const key = `${intention.source}>${intention.destination}`;
    if (drawn.has(key)) continue;
    drawn.add(key);
    const from = intention.source === "*" ? ANY_ID : serviceNodeId(intention.source);
    edges.push({ from, to: serviceNodeId(intention.destination), kind: intention.action, label: intention.action });
  }
  if (edges.some((e) => e.from === ANY_ID)) {
    nodes.push({ id: ANY_ID, lines: ["any service (*)"], shape: "any", inCluster: true });
  }
  edges.push({ from: CLUSTER_ID, to: CONSUL_ID, kind: "control", label: "RPC 8300, gossip 8301 (TLS)" });

  const tlsEdge = (spec as MeshSpec & { tlsEdge?: TlsEdgeLike }).tlsEdge;
  if (tlsEdge) {
    const serviceName = tlsEdge.serviceName ?? "envoy-ssl-tutorial";
    const namespace = tlsEdge.namespace ?? "dev";
    const count = tlsEdge.desiredCount ?? 1;
    nodes.push({
      id: "tls_edge",
      lines: [
        `TLS edge: ${serviceName}`,
        `${count} ${count === 1 ? "task" : "tasks"} · FARGATE${tlsEdge.cpu && tlsEdge.memory ? ` ${tlsEdge.cpu}/${tlsEdge.memory}` : ""}`,
        `https://${serviceName}.${namespace}:443 (Envoy)`,
      ],
      shape: "edge",
      inCluster: false,
    });
    nodes.push({ id: "tls_clients", lines: ["clients in the VPC"], shape: "any", inCluster: false });
    edges.push({ from: "tls_clients", to: "tls_edge", kind: "allow", label: "HTTPS 443 via Cloud Map DNS" });
  }

  return { title: `Mesh ${spec.name}`, clusterLabel: `ECS cluster ${spec.name} · mesh services`, nodes, edges };
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

/** The spec as a Mermaid flowchart (deterministic: the same spec gives the same text). */
export function meshMermaid(spec: MeshSpec): string {
  const graph = meshGraph(spec);
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
  out.push(`  class ${CONSUL_ID} consul`);
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
export function meshDot(spec: MeshSpec): string {
  const graph = meshGraph(spec);
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
  return [
    "<!-- Generated by `npm run diagram` from the built-in default spec: edit the spec, not this block. -->",
    "```mermaid",
    mermaid.trimEnd(),
    "```",
  ].join("\n");
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
