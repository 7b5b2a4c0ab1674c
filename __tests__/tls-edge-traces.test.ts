// The TLS edge's Envoy traces (spec observability.traces) and remote-writes to Amazon Managed
// Service for Prometheus (observability.metrics.prometheus) like every mesh proxy: its static
// config's tracer decoded through Envoy's protos and compared with the mesh's, its collector's
// traces pipeline on the port the tracer's cluster sends to, the task role's X-Ray and aps grants
// judged against the calls, the mesh's published workspace parameters and the edge's checks on them.
import * as fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { MeshSpecInput } from "../lib/spec/schema";
import { COLLECTOR_CONTAINER, listenerTracing, TRACES_CLUSTER, XRAY_ACTIONS } from "../lib/plan/observability";
import { TLS_EDGE_LISTENER } from "../lib/plan/tls-edge";
import { checkObservability } from "../lib/rules/observability";
import { judgeEnvoyBootstrap, judgeEnvoyJson } from "../tools/judges/envoy";
import { judgeCollectorConfig } from "../tools/judges/otel-collector";
import { evaluateIam, STAND_IN_ACCOUNT } from "../tools/judges/iam";
import { meshCalls } from "../tools/judges/iam-calls";
import { planOf, synthAllStacks } from "./support/synth";
import { specIssues } from "./support/spec-issues";
import { collectorConfigOf, edgeEnvoyConfigText, withoutAction } from "./support/telemetry";

type Doc = Record<string, any>;

const TLS_EDGE = parse(fs.readFileSync(path.join(__dirname, "..", "examples", "tls-edge.yaml"), "utf8")) as Doc;
const EDGE = "envoy-ssl-tutorial";
/** The example with traces only: the edge's collector must run without metrics. */
const TRACED: MeshSpecInput = { ...TLS_EDGE, observability: { traces: { enabled: true, samplingPercent: 3 } } } as MeshSpecInput;
/** In an existing VPC with its own endpoints: the stack creates the ones its tasks call. */
const TRACED_ENDPOINTS: MeshSpecInput = {
  ...TRACED,
  tlsEdge: { ...TLS_EDGE.tlsEdge, vpcEndpoints: true, network: { vpcId: "vpc-0abc12345def67890", subnetIds: ["subnet-0abc12345def67890"], vpcCidr: "10.9.0.0/16" } },
} as MeshSpecInput;
const WORKSPACE = "arn:aws:aps:us-east-1:123456789012:workspace/ws-0123abcd-4567-89ef-0123-456789abcdef";
const remoteWriting = (workspace: string, extra: Doc = {}): MeshSpecInput =>
  ({
    ...TLS_EDGE,
    ...extra,
    tlsEdge: { ...TLS_EDGE.tlsEdge, ...(extra.tlsEdge ?? {}) },
    observability: { metrics: { enabled: true, prometheus: { workspace } } },
  }) as MeshSpecInput;

function hcmOf(config: Doc): Doc {
  const tls = config.static_resources.listeners.find((l: Doc) => l.name === TLS_EDGE_LISTENER.name);
  return tls.filter_chains[0].filters[0].typed_config;
}

/**
 * What keeps the edge's spans from X-Ray: no tracer, a sampling rate other than the spec's, a
 * tracer whose cluster is missing or sends elsewhere than the collector's OTLP receiver, or a
 * collector without a traces pipeline to X-Ray.
 */
function edgeTraceProblems(config: Doc, collector: Doc, samplingPercent: number): string[] {
  const tracing = hcmOf(config).tracing;
  if (!tracing) return ["the TLS listener's HTTP connection manager has no tracer"];
  const problems: string[] = [];
  if (tracing.random_sampling?.value !== samplingPercent) problems.push(`the tracer samples ${JSON.stringify(tracing.random_sampling)}, the spec ${samplingPercent}%`);
  const named = tracing.provider?.typed_config?.grpc_service?.envoy_grpc?.cluster_name;
  const cluster = (config.static_resources.clusters as Doc[]).find((c) => c.name === named);
  if (!cluster) return [...problems, `the config has no cluster ${named}, which the tracer names`];
  const sent = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  const pipeline = collector.service?.pipelines?.traces;
  if (!pipeline?.receivers?.includes("otlp") || !pipeline?.exporters?.includes("awsxray")) return [...problems, "the collector has no traces pipeline from otlp to awsxray"];
  const endpoint = collector.receivers.otlp.protocols.grpc.endpoint;
  if (endpoint !== `${sent.address}:${sent.port_value}`) problems.push(`the collector listens on ${endpoint}, the tracer sends to ${sent.address}:${sent.port_value}`);
  return problems;
}

describe("TLS edge traces (observability.traces on, metrics off)", () => {
  const plan = planOf(TRACED);
  const stacks = synthAllStacks(TRACED) as Record<string, Doc>;
  const edgeDoc = stacks["tls-edge"]!;
  const config = parse(edgeEnvoyConfigText(plan)) as Doc;

  it("is accepted: no error, and no warning the example without traces lacks", () => {
    expect(specIssues(TRACED)).toEqual({ errors: [], warnings: specIssues(TLS_EDGE as MeshSpecInput).warnings });
  });

  it("its Envoy's HTTP connection manager has the mesh's tracer, through Envoy's protos", () => {
    expect(judgeEnvoyBootstrap(edgeEnvoyConfigText(plan))).toEqual([]);
    const tracing = hcmOf(config).tracing;
    // Decoded as the HCM's own Tracing message (a static config, not Consul's Any).
    expect(judgeEnvoyJson("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.Tracing", JSON.stringify(tracing))).toEqual([]);
    expect(tracing.provider.name).toBe("envoy.tracers.opentelemetry");
    expect(tracing.provider.typed_config["@type"]).toBe("type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig");
    // The same tracer the mesh's proxies get through proxy-defaults, without the Any's @type.
    const entry = Object.values<Doc>(stacks.intentions!.resource.consul_config_entry).find((e) => e.kind === "proxy-defaults")!;
    const { "@type": _, ...meshTracer } = JSON.parse(JSON.parse(entry.config_json).Config.envoy_listener_tracing_json);
    expect(tracing).toEqual(meshTracer);
  });

  it("samples exactly the spec's percent, and sends to the collector's OTLP receiver, whose traces pipeline passes the judge", () => {
    const collector = collectorConfigOf(edgeDoc);
    expect(edgeTraceProblems(config, collector, 3)).toEqual([]);
    expect(judgeCollectorConfig(collector)).toEqual([]);
    expect(Object.keys(collector.service.pipelines)).toEqual(["traces"]);
    expect(collector.processors["resource/consul-service"].attributes).toEqual([{ key: "service.name", value: EDGE, action: "upsert" }]);
  });

  it("catches a dropped tracer, another sampling rate, a missing cluster and a collector without the traces pipeline", () => {
    const collector = collectorConfigOf(edgeDoc);
    const without = structuredClone(config);
    delete hcmOf(without).tracing;
    expect(edgeTraceProblems(without, collector, 3)).toEqual(["the TLS listener's HTTP connection manager has no tracer"]);
    const resampled = structuredClone(config);
    hcmOf(resampled).tracing.random_sampling = { value: 100 };
    expect(edgeTraceProblems(resampled, collector, 3)).toEqual(['the tracer samples {"value":100}, the spec 3%']);
    const clusterless = structuredClone(config);
    clusterless.static_resources.clusters = clusterless.static_resources.clusters.filter((c: Doc) => c.name !== TRACES_CLUSTER);
    expect(edgeTraceProblems(clusterless, collector, 3)).toEqual([`the config has no cluster ${TRACES_CLUSTER}, which the tracer names`]);
    const pipelineless = structuredClone(collector);
    delete pipelineless.service.pipelines.traces;
    expect(edgeTraceProblems(config, pipelineless, 3)).toEqual(["the collector has no traces pipeline from otlp to awsxray"]);
    // The plan's tracer is the one listenerTracing decides: another percent is another tracer.
    expect(listenerTracing(3)).toEqual(hcmOf(config).tracing);
    expect(listenerTracing(4)).not.toEqual(hcmOf(config).tracing);
  });

  it("runs the collector first, with the mirrored image, within the task's memory", () => {
    const edge = plan.tlsEdge!;
    expect(edge.task.containers.map((c) => c.name)).toEqual(["certificate-init", COLLECTOR_CONTAINER, "app", "envoy"]);
    expect(edge.metrics).toBeUndefined();
    expect(edge.traces).toEqual({ samplingPercent: 3 });
    expect(edgeDoc.output.collector_source_image.value).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v/);
    expect(edge.task.containers.reduce((sum, c) => sum + (c.memoryReservation ?? 0), 0)).toBeLessThanOrEqual(edge.memory);
  });

  it("the task role may make exactly the X-Ray calls; the IAM judge shows them allowed and the grant used", async () => {
    const calls = meshCalls(stacks, plan).filter((c) => c.stack === "tls-edge");
    const xray = calls.filter((c) => c.action.startsWith("xray:"));
    expect(xray.map((c) => `${c.action} ${c.resource}`).sort()).toEqual(XRAY_ACTIONS.map((a) => `${a} *`).sort());
    const report = await evaluateIam(stacks, meshCalls(stacks, plan));
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
    expect(report.unused).toEqual([]);
    const grants = report.verdicts.filter((v) => v.call.stack === "tls-edge" && v.call.action.startsWith("xray:")).flatMap((v) => v.allowedBy);
    expect(grants.length).toBe(2);
    for (const grant of grants) expect(grant).toMatch(/container-aws-calls/);
  });

  it("a task role without xray:PutTraceSegments fails the IAM judge", async () => {
    const broken = structuredClone(stacks);
    expect(withoutAction(broken["tls-edge"], "xray:PutTraceSegments")).toBe(1);
    const report = await evaluateIam(broken, meshCalls(broken, plan));
    expect(report.verdicts.filter((v) => !v.allowed).map((v) => `${v.call.stack} ${v.call.action}`)).toEqual(["tls-edge xray:PutTraceSegments"]);
  });

  it("with its own VPC endpoints, the stack creates the xray endpoint the collector calls", () => {
    const edge = planOf(TRACED_ENDPOINTS).tlsEdge!;
    expect(edge.interfaceEndpoints).toContain("xray");
    const doc = synthAllStacks(TRACED_ENDPOINTS)["tls-edge"] as Doc;
    const lookups = Object.values<Doc>(doc.data.aws_vpc_endpoint_service).map((d) => d.service);
    expect(lookups).toContain("xray");
    expect(specIssues(TRACED_ENDPOINTS).errors).toEqual([]);
  });
});

describe("TLS edge to Amazon Managed Service for Prometheus", () => {
  describe("a workspace the mesh creates: published in SSM, read by the edge with checks on shape", () => {
    const spec = remoteWriting("create");
    const plan = planOf(spec);
    const stacks = synthAllStacks(spec) as Record<string, Doc>;
    const mesh = stacks.mesh!;
    const edgeDoc = stacks["tls-edge"]!;
    const names = plan.names.tlsEdgePrometheus;

    it("the mesh writes the workspace's ARN and remote-write URL as String parameters", () => {
      const parameters = Object.values<Doc>(mesh.resource.aws_ssm_parameter).filter((p) => p.name === names.workspaceArn || p.name === names.remoteWriteUrl);
      const [workspace] = Object.keys(mesh.resource.aws_prometheus_workspace);
      expect(Object.fromEntries(parameters.map((p) => [p.name, [p.type, p.value]]))).toEqual({
        [names.workspaceArn]: ["String", `\${aws_prometheus_workspace.${workspace}.arn}`],
        [names.remoteWriteUrl]: ["String", `\${aws_prometheus_workspace.${workspace}.prometheus_endpoint}api/v1/remote_write`],
      });
    });

    it("the edge reads them (no remote state), and each read fails on a value of the wrong shape or region", () => {
      expect(JSON.stringify(edgeDoc)).not.toContain("terraform_remote_state");
      const reads = Object.values<Doc>(edgeDoc.data.aws_ssm_parameter).filter((p) => p.name === names.workspaceArn || p.name === names.remoteWriteUrl);
      expect(reads).toHaveLength(2);
      const good: Record<string, string> = {
        [names.workspaceArn]: WORKSPACE,
        [names.remoteWriteUrl]: "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write",
      };
      const bad: Record<string, string[]> = {
        [names.workspaceArn]: [WORKSPACE.replace("us-east-1", "eu-west-1"), "arn:aws:s3:::bucket", `${WORKSPACE} `],
        [names.remoteWriteUrl]: [
          good[names.remoteWriteUrl]!.replace("us-east-1", "eu-west-1"),
          "https://attacker.example/api/v1/remote_write",
          good[names.remoteWriteUrl]!.replace("https", "http"),
        ],
      };
      for (const read of reads) {
        const postconditions = read.lifecycle?.postcondition ?? [];
        expect(postconditions, read.name).toHaveLength(1);
        const m = /^\$\{can\(regex\((".*"), self\.value\)\)\}$/.exec(postconditions[0].condition);
        expect(m, postconditions[0].condition).not.toBeNull();
        const pattern = new RegExp(JSON.parse(m![1]!));
        expect(pattern.test(good[read.name]!), read.name).toBe(true);
        for (const value of bad[read.name]!) expect(pattern.test(value), value).toBe(false);
        expect(postconditions[0].error_message).toContain(read.name);
      }
    });

    it("its collector remote-writes to the parameter's URL; the role may aps:RemoteWrite to that workspace only, and the IAM judge agrees", async () => {
      const collector = collectorConfigOf(edgeDoc);
      expect(judgeCollectorConfig(collector)).toEqual([]);
      expect(collector.exporters.prometheusremotewrite.endpoint).toMatch(/^\$\{data\.aws_ssm_parameter\.[a-z_]*prometheus_remote_write_url[_A-F0-9]*\.value\}$/);
      const calls = meshCalls(stacks, plan);
      const remoteWrites = calls.filter((c) => c.stack === "tls-edge" && c.action === "aps:RemoteWrite");
      // The stand-in of the mesh's workspace: the ARN the mesh publishes is the one the URL writes to.
      expect(remoteWrites.map((c) => c.resource)).toEqual([calls.find((c) => c.stack === "mesh" && c.action === "aps:RemoteWrite")!.resource]);
      const report = await evaluateIam(stacks, calls);
      expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
      expect(report.unused).toEqual([]);
      const policy = Object.values<Doc>(edgeDoc.resource.aws_iam_role_policy).find((p) => String(p.name ?? p.name_prefix).startsWith("prometheus-remote-write"))!;
      expect(JSON.parse(policy.policy).Statement).toEqual([
        { Effect: "Allow", Action: ["aps:RemoteWrite"], Resource: [expect.stringMatching(/^\$\{data\.aws_ssm_parameter\.[a-z_]*prometheus_workspace_arn[_A-F0-9]*\.value\}$/)] },
      ]);
    });

    it("a task role without aps:RemoteWrite fails the IAM judge", async () => {
      const broken = structuredClone(stacks);
      const policies = broken["tls-edge"]!.resource.aws_iam_role_policy as Doc;
      const id = Object.keys(policies).find((k) => String(policies[k].name ?? policies[k].name_prefix).startsWith("prometheus-remote-write"))!;
      delete policies[id];
      const report = await evaluateIam(broken, meshCalls(broken, plan));
      expect(report.verdicts.filter((v) => !v.allowed).map((v) => `${v.call.stack} ${v.call.action}`)).toEqual(["tls-edge aps:RemoteWrite"]);
    });
  });

  it("an existing workspace: the edge writes to its URL from the plan, with aps:RemoteWrite on its ARN, and reads no parameter", async () => {
    // In the task role's own account (the URL names no account: the signer's is the workspace's).
    const own = WORKSPACE.replace("123456789012", STAND_IN_ACCOUNT);
    const spec = remoteWriting(own);
    const stacks = synthAllStacks(spec) as Record<string, Doc>;
    const edgeDoc = stacks["tls-edge"]!;
    expect(collectorConfigOf(edgeDoc).exporters.prometheusremotewrite.endpoint).toBe(
      "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write",
    );
    expect(Object.values<Doc>(edgeDoc.data.aws_ssm_parameter ?? {}).map((p) => p.name)).not.toContain(planOf(spec).names.tlsEdgePrometheus.workspaceArn);
    expect(Object.values<Doc>(stacks.mesh!.resource.aws_ssm_parameter ?? {}).map((p) => p.name)).not.toContain(planOf(spec).names.tlsEdgePrometheus.workspaceArn);
    const report = await evaluateIam(stacks, meshCalls(stacks, planOf(spec)));
    expect(report.verdicts.filter((v) => v.call.stack === "tls-edge" && v.call.action === "aps:RemoteWrite").map((v) => [v.call.resource, v.allowed])).toEqual([[own, true]]);
    expect(report.verdicts.filter((v) => !v.allowed)).toEqual([]);
  });

  it("with its own VPC endpoints, the stack creates the aps-workspaces endpoint", () => {
    const spec = remoteWriting(WORKSPACE, { tlsEdge: TRACED_ENDPOINTS.tlsEdge });
    expect(planOf(spec).tlsEdge!.interfaceEndpoints).toContain("aps-workspaces");
    expect(specIssues(spec).errors).toEqual([]);
  });
});

describe("traces with nothing that speaks HTTP", () => {
  const tcpOnly = (tlsEdge: boolean, protocol?: string): MeshSpecInput => {
    const spec = structuredClone(TLS_EDGE);
    if (!tlsEdge) delete spec.tlsEdge;
    if (protocol) spec.services["http-server"].protocol = protocol;
    spec.observability = { traces: { enabled: true } };
    return spec as MeshSpecInput;
  };
  const warningsOf = (spec: MeshSpecInput) => {
    const result = { errors: [], warnings: [] as { path: string; message: string }[] };
    checkObservability(planOf(spec), result as never);
    return result.warnings;
  };

  it("warns at observability.traces.enabled, naming the protocol field, when every service is tcp and there is no TLS edge", () => {
    expect(warningsOf(tcpOnly(false))).toEqual([
      { path: "observability.traces.enabled", message: expect.stringMatching(/every service is tcp .*set services\.<name>\.protocol to http, http2 or grpc/) },
    ]);
  });

  it("does not warn when the TLS edge or one service speaks HTTP", () => {
    expect(warningsOf(tcpOnly(true))).toEqual([]);
    expect(warningsOf(tcpOnly(false, "http"))).toEqual([]);
  });
});
