// System 2's plan: the TLS edge service with its defaults resolved once, and its task (the app,
// then Envoy terminating TLS in front of it) as typed containers.
import { APP_DROPPED_CAPABILITIES, CERTIFICATE_DAYS, TLS_EDGE_PATHS, TLS_EDGE_PORTS } from "../facts";
import { parseImage } from "../image-reference";
import type { TlsEdgeSpec } from "../spec/tls-edge-schema";
import { type MeshNames, tlsEdgeNames } from "./names";
import { containerCalls, ECR_PULL_APIS, ecsAgentCalls } from "./aws-apis";
import { envoyAdminOnSocket } from "./envoy-admin";
import {
  ACCESS_LOG_FIELDS,
  collectorContainer,
  collectorRemoteWrite,
  collectorRoleCredentials,
  listenerTracing,
  planTlsEdgeMetrics,
  STATS_LISTENER,
  tracesCluster,
} from "./observability";
import { slot } from "./text";
import { envoyReadyCheck, tlsEdgeAppHealthCheck, tlsEdgeCertInitScript, tlsEdgeEnvoyConfig, tlsEdgeEnvoyStartScript } from "./texts";
import type { AwsApi, ContainerPlan, Credential, NetworkPlan, ObservabilityPlan, TaskPlan, TlsEdgeCaPlan, TlsEdgeMeshNetwork, TlsEdgeMetricsPlan, TlsEdgePlan } from "./types";

/** Container names of the tls-edge task. */
export const TLS_EDGE_CONTAINERS = { certificateInit: "certificate-init", app: "app", envoy: "envoy" } as const;

/**
 * Envoy's TLS listener: where, and the stat prefix of its HTTP connection manager (the metrics'
 * envoy_http_conn_manager_prefix). No listener stat_prefix: Envoy names its listener stats after
 * the address (listenerStatsAddress).
 */
export const TLS_EDGE_LISTENER = { name: "tls_ingress", address: "0.0.0.0", port: TLS_EDGE_PORTS.listener, httpStatPrefix: "ingress_https" } as const;

/** The listener's name in Envoy's listener stats, listener.<address>_<port>.*, which its tag extractor makes envoy_listener_address. */
function listenerStatsAddress(listener: { readonly address: string; readonly port: number }): string {
  return `${listener.address}_${listener.port}`;
}

/** The Envoy upstream cluster of the app (the original's name). */
export const LOCAL_SERVICE_CLUSTER = "local_service";

/** Soft memory limits (MiB) of the containers; together they fit the smallest Fargate task (512). */
export const TLS_EDGE_MEMORY = { certificateInit: 32, app: 128, envoy: 64 } as const;

export const TLS_EDGE_VOLUMES = { config: "envoy-config", appTmp: "app-tmp" } as const;

/** What the TlsEdgeService construct binds: its images, the CA's two fields (pinned to the plan's version) and its log group. */
export const TLS_EDGE_SLOTS = {
  appImage: "appImage",
  envoyImage: "envoyImage",
  caCertificate: "secret:caCertificate",
  caPrivateKey: "secret:caPrivateKey",
  logGroup: "logGroup",
  /** The ADOT collector mirrored into collectorRepository (metrics or traces on). */
  collectorImage: "collectorImage",
} as const;

/** The credential each TLS edge secret is, for the trust model (the CA certificate is public). */
export const TLS_EDGE_SECRET_CREDENTIALS: Readonly<Record<string, Credential>> = { [TLS_EDGE_SLOTS.caPrivateKey]: "edge-ca-key" };

/** The JSON fields of the CA secret's value, which scripts/tls-edge-ca.sh writes and ECS injects by name (valueFrom ...:<field>::<version>). */
export const TLS_EDGE_CA_FIELDS = { certificate: "CertPEM", privateKey: "KeyPEM" } as const;

/**
 * The Secrets Manager version (the ClientRequestToken of scripts/tls-edge-ca.sh) of CA generation
 * `generation`: fixed, so a second or concurrent run of the script writes the same version or
 * nothing, and 32 to 64 characters as PutSecretValue requires.
 */
function tlsEdgeCaVersionId(generation: number): string {
  return `consul-ecs-mesh-tls-edge-ca-generation-${String(generation).padStart(4, "0")}`;
}

/** Owner of the files the start script writes: the user the image's entrypoint runs Envoy as. */
const ENVOY_USER = "envoy:envoy";

/** The files of the config volume: the init container writes key and certificate, Envoy its config and admin socket. */
export function tlsEdgeFiles(configDir: string = TLS_EDGE_PATHS.configDir) {
  return {
    config: `${configDir}/envoy.yaml`,
    certificate: `${configDir}/cert.pem`,
    privateKey: `${configDir}/key.pem`,
    adminSocket: `${configDir}/admin.sock`,
    initWorkDir: `${configDir}/.certificate-init`,
  } as const;
}

/**
 * The Envoy v3 static config: TLS on 0.0.0.0:443, every path to local_service on 127.0.0.1:<appPort>,
 * admin on a socket in the config volume; with accessLogs, its stdout access log in the mesh's JSON
 * format; with a metrics interval, the mesh's stats-only listener (GET /stats/prometheus) on
 * loopback and histograms flushed once per scrape; with a sampling percent, the mesh's tracer on its
 * HTTP connection manager and the collector's cluster.
 */
export function tlsEdgeEnvoyConfigText(
  appPort: number,
  configDir: string = TLS_EDGE_PATHS.configDir,
  accessLogs = false,
  metricsIntervalSeconds?: number,
  tracesSamplingPercent?: number,
) {
  const files = tlsEdgeFiles(configDir);
  return tlsEdgeEnvoyConfig({
    ...envoyAdminOnSocket(files.adminSocket, TLS_EDGE_PORTS.ready),
    listener: TLS_EDGE_LISTENER,
    tls: { minimumVersion: "TLSv1_2", certificateFile: files.certificate, privateKeyFile: files.privateKey },
    cluster: { name: LOCAL_SERVICE_CLUSTER, address: "127.0.0.1", port: appPort },
    accessLogFormat: accessLogs ? ACCESS_LOG_FIELDS : null,
    stats: metricsIntervalSeconds === undefined ? null : { ...STATS_LISTENER, flushInterval: `${metricsIntervalSeconds}s` },
    tracing: tracesSamplingPercent === undefined ? null : { tracing: listenerTracing(tracesSamplingPercent), cluster: tracesCluster() },
  });
}

/**
 * The Envoy container's start script (entryPoint ["/bin/sh", "-ec", script]): it writes the config
 * beside the key and certificate the init container made, and execs the image's entrypoint. Envoy
 * gets no secret: it never sees the CA.
 */
export function tlsEdgeEnvoyStartText(
  appPort: number,
  configDir: string = TLS_EDGE_PATHS.configDir,
  accessLogs = false,
  metricsIntervalSeconds?: number,
  tracesSamplingPercent?: number,
) {
  return tlsEdgeEnvoyStartScript({
    envoyConfig: tlsEdgeEnvoyConfigText(appPort, configDir, accessLogs, metricsIntervalSeconds, tracesSamplingPercent),
    files: tlsEdgeFiles(configDir),
    envoyUser: ENVOY_USER,
    entrypoint: TLS_EDGE_PATHS.imageEntrypoint,
    configDir,
  });
}

/**
 * The init container's script (entryPoint ["/bin/sh", "-ec", script]): a fresh P-256 key for this
 * task, and its certificate for `dnsName` (its only SAN) signed with the CA ECS injected.
 */
function tlsEdgeCertInitText(dnsName: string, serverDays: number, configDir: string = TLS_EDGE_PATHS.configDir) {
  const files = tlsEdgeFiles(configDir);
  return tlsEdgeCertInitScript({
    files,
    workDir: files.initWorkDir,
    subject: `/CN=${dnsName}`,
    subjectAltName: `subjectAltName=DNS:${dnsName}`,
    serverDays,
    serverSeconds: serverDays * 24 * 3600,
    envoyUser: ENVOY_USER,
    configDir,
  });
}

/** The edge CA of a spec: generation, the version the tasks pin, its subject and validity. */
function tlsEdgeCa(spec: TlsEdgeSpec, dnsName: string): TlsEdgeCaPlan {
  return {
    generation: spec.caGeneration,
    versionId: tlsEdgeCaVersionId(spec.caGeneration),
    ...(spec.caGeneration > 1 ? { previousVersionId: tlsEdgeCaVersionId(spec.caGeneration - 1) } : {}),
    commonName: `TLS edge CA ${dnsName}`,
    days: CERTIFICATE_DAYS.ca,
    serverDays: CERTIFICATE_DAYS.server,
  };
}

function tlsEdgeTask(
  spec: TlsEdgeSpec,
  region: string,
  dnsName: string,
  ca: TlsEdgeCaPlan,
  accessLogs: boolean,
  metrics: TlsEdgeMetricsPlan | undefined,
  traces: TlsEdgePlan["traces"],
): TaskPlan {
  const names = TLS_EDGE_CONTAINERS;
  const health = { interval: 10, timeout: 5, retries: 3 } as const;
  const files = tlsEdgeFiles();
  const configVolume = { sourceVolume: TLS_EDGE_VOLUMES.config, containerPath: TLS_EDGE_PATHS.configDir, readOnly: false };
  // The mesh's collector, started first (before the app, so before Envoy): it writes to the edge's own metrics log group, and sends its spans to X-Ray.
  const collector: ContainerPlan[] =
    metrics || traces
      ? [
          collectorContainer(
            {
              service: spec.serviceName,
              region,
              metrics: metrics
                ? {
                    namespace: metrics.namespace,
                    intervalSeconds: metrics.intervalSeconds,
                    // The created workspace's URL is the parameter the stack reads.
                    ...collectorRemoteWrite(metrics.prometheus),
                  }
                : null,
              traces: traces !== undefined,
              shipped: "tlsEdge",
              httpStatPrefix: TLS_EDGE_LISTENER.httpStatPrefix,
            },
            undefined,
            slot(TLS_EDGE_SLOTS.collectorImage),
          ),
        ]
      : [];
  return {
    containers: [
      {
        name: names.certificateInit,
        // The mirrored Envoy image: Ubuntu with openssl (a dependency of its ca-certificates package).
        image: slot(TLS_EDGE_SLOTS.envoyImage),
        // Runs once; Envoy waits for its SUCCESS.
        essential: false,
        entryPoint: ["/bin/sh", "-ec", tlsEdgeCertInitText(dnsName, ca.serverDays)],
        // Only this container gets the CA, through the execution role: the task role reads nothing.
        secrets: [
          { name: "TLS_EDGE_CA_CERT", valueFrom: slot(TLS_EDGE_SLOTS.caCertificate) },
          { name: "TLS_EDGE_CA_KEY", valueFrom: slot(TLS_EDGE_SLOTS.caPrivateKey) },
        ],
        mountPoints: [configVolume],
        memoryReservation: TLS_EDGE_MEMORY.certificateInit,
        stores: [{ volume: TLS_EDGE_VOLUMES.config, path: files.privateKey, holds: ["edge-tls-key"] }],
      },
      ...collector,
      {
        name: names.app,
        image: slot(TLS_EDGE_SLOTS.appImage),
        essential: true,
        environment: [{ name: "PORT", value: String(spec.appPort) }],
        mountPoints: [{ sourceVolume: TLS_EDGE_VOLUMES.appTmp, containerPath: "/tmp", readOnly: false }],
        // With metrics or traces, the collector runs before the app's first request.
        ...(collector.length > 0 ? { dependsOn: collector.map((c) => ({ containerName: c.name, condition: "START" as const })) } : {}),
        healthCheck: {
          command: ["CMD", "python", "-c", tlsEdgeAppHealthCheck({ url: `http://127.0.0.1:${spec.appPort}/health` })],
          ...health,
          startPeriod: 15,
        },
        memoryReservation: TLS_EDGE_MEMORY.app,
        untrusted: true,
        dropCapabilities: APP_DROPPED_CAPABILITIES,
      },
      {
        name: names.envoy,
        image: slot(TLS_EDGE_SLOTS.envoyImage),
        essential: true,
        entryPoint: ["/bin/sh", "-ec", tlsEdgeEnvoyStartText(spec.appPort, TLS_EDGE_PATHS.configDir, accessLogs, metrics?.intervalSeconds, traces?.samplingPercent)],
        portMappings: [{ containerPort: TLS_EDGE_PORTS.listener, protocol: "tcp" }],
        mountPoints: [configVolume],
        // Envoy runs as the unprivileged envoy user and still binds 443 (a network-namespace sysctl; Fargate platform >= 1.4.0).
        systemControls: [{ namespace: "net.ipv4.ip_unprivileged_port_start", value: String(TLS_EDGE_PORTS.listener) }],
        dependsOn: [
          { containerName: names.certificateInit, condition: "SUCCESS" },
          { containerName: names.app, condition: "HEALTHY" },
        ],
        // It forwards every request to the app: ECS stops Envoy first, so no request meets a stopped app.
        needsRunning: [names.app],
        healthCheck: { command: ["CMD", "bash", "-c", envoyReadyCheck({ port: TLS_EDGE_PORTS.ready })], ...health, startPeriod: 10 },
        memoryReservation: TLS_EDGE_MEMORY.envoy,
        serves: [
          { name: "Envoy admin API", on: { socket: files.adminSocket, volume: TLS_EDGE_VOLUMES.config }, reveals: [], revealsOwnConfig: true, controls: true },
          { name: "Envoy ready listener (GET /ready only)", on: { tcp: TLS_EDGE_PORTS.ready }, reveals: [], controls: false },
          ...(metrics ? [{ name: "Envoy stats listener (GET /stats/prometheus only)", on: { tcp: STATS_LISTENER.port }, reveals: [], controls: false }] : []),
        ],
      },
    ],
    inboundPorts: [TLS_EDGE_PORTS.listener],
    volumes: [TLS_EDGE_VOLUMES.config, TLS_EDGE_VOLUMES.appTmp],
    logging: { group: slot(TLS_EDGE_SLOTS.logGroup), region, streamPrefix: spec.serviceName },
    roleCredentials: collectorRoleCredentials(collector),
  };
}

/** What the TLS edge's tasks call: their images from ECR, what the ECS agent calls for the task (logs, its secrets), and what its containers call (the collector's logs). */
export function tlsEdgeApis(task: TaskPlan): AwsApi[] {
  return [...new Set([...ECR_PULL_APIS, ...[...ecsAgentCalls(task), ...containerCalls(task)].map((call) => call.api)])].sort();
}

/** What the TLS edge's plan takes from the mesh's: its region, the Envoy image of versions.envoy, and (to run in its network) its network and names. */
export interface TlsEdgeMeshInputs {
  readonly region: string;
  readonly envoySource: string;
  /** @default none: a tlsEdge network from the mesh then has no meshNetwork, and its stack refuses it */
  readonly network?: { readonly plan: Pick<NetworkPlan, "vpcCidr" | "zones">; readonly names: MeshNames };
  /** observability.accessLogs.enabled: Envoy's stdout access log in the mesh's JSON format. @default false */
  readonly accessLogs?: boolean;
  /** The mesh's observability plan (observability.metrics.enabled): its Envoy then ships metrics too. @default none (metrics off) */
  readonly observability?: ObservabilityPlan;
  /** observability.traces: its Envoy's tracer, sampling as the mesh's proxies do. @default none (traces off) */
  readonly traces?: { readonly samplingPercent: number };
  /** The SSM parameters the mesh publishes a Prometheus workspace it creates under (names.tlsEdgePrometheus). @default none */
  readonly prometheusParameters?: { readonly workspaceArn: string; readonly remoteWriteUrl: string };
  /** The collector image the mesh's tasks run (versions.otelCollector), mirrored like Envoy's when metrics or traces are on. @default none */
  readonly collectorSource?: string;
}

/** The mesh's network as the edge finds it: the parameters the mesh writes, and the VPC's and subnets' Name tags. */
function meshNetworkOf(spec: TlsEdgeSpec, network: NonNullable<TlsEdgeMeshInputs["network"]>): TlsEdgeMeshNetwork {
  const subnets = spec.assignPublicIp ? "public" : "private";
  const zones = network.names.network.zones;
  return {
    parameters: network.names.tlsEdgeNetwork,
    subnets,
    vpcCidr: network.plan.vpcCidr,
    vpcName: network.names.network.vpc,
    subnetNames:
      subnets === "private" ? zones.map((z) => z.privateSubnet) : network.plan.zones.flatMap((zone, i) => (zone.publicSubnet !== undefined ? [zones[i]!.publicSubnet] : [])),
  };
}

/** The TLS edge plan of a schema-checked tlsEdge section. */
export function buildTlsEdgePlan(spec: TlsEdgeSpec, mesh: TlsEdgeMeshInputs): TlsEdgePlan {
  const dnsName = `${spec.serviceName}.${spec.namespace}`;
  const ca = tlsEdgeCa(spec, dnsName);
  const metrics = planTlsEdgeMetrics(
    mesh.observability,
    {
      service: spec.serviceName,
      httpStatPrefix: TLS_EDGE_LISTENER.httpStatPrefix,
      listenerAddress: listenerStatsAddress(TLS_EDGE_LISTENER),
    },
    mesh.prometheusParameters,
  );
  const { traces } = mesh;
  const collectorSource = metrics || traces ? mesh.collectorSource : undefined;
  if ((metrics || traces) && collectorSource === undefined) throw new Error("tlsEdge: metrics or traces are on but the mesh gave no collector image");
  const task = tlsEdgeTask(spec, mesh.region, dnsName, ca, mesh.accessLogs ?? false, metrics, traces);
  const { vpcEndpoints, ecrRepositoryName, caGeneration: _, ...fields } = spec;
  // The S3 gateway endpoint always comes with them.
  const interfaceEndpoints = vpcEndpoints ? tlsEdgeApis(task).filter((api) => api !== "s3") : [];
  return {
    ...fields,
    dnsName,
    region: mesh.region,
    names: tlsEdgeNames({
      serviceName: spec.serviceName,
      ecrRepositoryName,
      interfaceEndpoints,
      ...(metrics ? { metrics: { alarms: metrics.alarms !== undefined } } : {}),
      collector: collectorSource !== undefined,
    }),
    // scripts/push-images.sh reads it (output cpu_architecture) to build and mirror images of its platform.
    cpuArchitecture: spec.cpuArchitecture,
    interfaceEndpoints,
    // The mirror keeps the source's tag: ECR's immutable tags then name the Envoy version.
    envoyImage: { source: mesh.envoySource, mirrorTag: parseImage(mesh.envoySource).tag! },
    task,
    startsAfter: ["edge-ca"],
    ...(spec.network.from === "mesh" && mesh.network ? { meshNetwork: meshNetworkOf(spec, mesh.network) } : {}),
    ca,
    ...(metrics ? { metrics } : {}),
    ...(traces ? { traces } : {}),
    ...(collectorSource === undefined ? {} : { collectorImage: { source: collectorSource, mirrorTag: parseImage(collectorSource).tag! } }),
  };
}
