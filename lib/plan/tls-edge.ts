// System 2's plan: the TLS edge service with its defaults resolved once, and its task (the app,
// then Envoy terminating TLS in front of it) as typed containers.
import { CPU_ARCHITECTURES } from "../aws-limits";
import { APP_DROPPED_CAPABILITIES, TLS_EDGE_PATHS, TLS_EDGE_PORTS } from "../facts";
import { parseImage } from "../image-reference";
import type { TlsEdgeSpec } from "../spec/tls-edge-schema";
import { tlsEdgeNames } from "./names";
import { ECR_PULL_APIS, ecsAgentCalls } from "./aws-apis";
import { envoyAdminOnSocket } from "./envoy-admin";
import { ACCESS_LOG_FIELDS } from "./observability";
import { slot } from "./text";
import { envoyReadyCheck, tlsEdgeAppHealthCheck, tlsEdgeEnvoyConfig, tlsEdgeEnvoyStartScript } from "./texts";
import type { AwsApi, Credential, TaskPlan, TlsEdgePlan } from "./types";

/** Container names of the tls-edge task. */
export const TLS_EDGE_CONTAINERS = { app: "app", envoy: "envoy" } as const;

/** The Envoy upstream cluster of the app (the original's name). */
export const LOCAL_SERVICE_CLUSTER = "local_service";

/** Soft memory limits (MiB) of the two containers; both fit the smallest Fargate task (512). */
export const TLS_EDGE_MEMORY = { app: 128, envoy: 64 } as const;

export const TLS_EDGE_VOLUMES = { config: "envoy-config", appTmp: "app-tmp" } as const;

/** What the TlsEdgeService construct binds: its images, certificate secrets and log group. */
export const TLS_EDGE_SLOTS = {
  appImage: "appImage",
  envoyImage: "envoyImage",
  certificate: "secret:certificate",
  privateKey: "secret:privateKey",
  certificateDigest: "certificateDigest",
  logGroup: "logGroup",
} as const;

/** The credential each TLS edge secret is, for the trust model (the certificate is public). */
export const TLS_EDGE_SECRET_CREDENTIALS: Readonly<Record<string, Credential>> = { [TLS_EDGE_SLOTS.privateKey]: "edge-tls-key" };

/** Owner of the files the start script writes: the user the image's entrypoint runs Envoy as. */
const ENVOY_USER = "envoy:envoy";

/** The files the Envoy container writes into its config volume. */
export function tlsEdgeFiles(configDir: string = TLS_EDGE_PATHS.configDir) {
  return { config: `${configDir}/envoy.yaml`, certificate: `${configDir}/cert.pem`, privateKey: `${configDir}/key.pem`, adminSocket: `${configDir}/admin.sock` } as const;
}

/**
 * The Envoy v3 static config: TLS on 0.0.0.0:443, every path to local_service on 127.0.0.1:<appPort>,
 * admin on a socket in the config volume; with accessLogs, its stdout access log in the mesh's JSON format.
 */
export function tlsEdgeEnvoyConfigText(appPort: number, configDir: string = TLS_EDGE_PATHS.configDir, accessLogs = false) {
  const files = tlsEdgeFiles(configDir);
  return tlsEdgeEnvoyConfig({
    ...envoyAdminOnSocket(files.adminSocket, TLS_EDGE_PORTS.ready),
    listener: { name: "tls_ingress", address: "0.0.0.0", port: TLS_EDGE_PORTS.listener },
    tls: { minimumVersion: "TLSv1_2", certificateFile: files.certificate, privateKeyFile: files.privateKey },
    cluster: { name: LOCAL_SERVICE_CLUSTER, address: "127.0.0.1", port: appPort },
    accessLogFormat: accessLogs ? ACCESS_LOG_FIELDS : null,
  });
}

/**
 * The Envoy container's start script (entryPoint ["/bin/sh", "-ec", script]). The certificate and
 * key arrive as ECS secrets in TLS_CERT_PEM / TLS_KEY_PEM; the script writes them (mode 0600,
 * owned by the envoy user), unsets both variables and execs the image's entrypoint, so the Envoy
 * process never holds the key in its environment.
 */
export function tlsEdgeEnvoyStartText(appPort: number, configDir: string = TLS_EDGE_PATHS.configDir, accessLogs = false) {
  return tlsEdgeEnvoyStartScript({
    envoyConfig: tlsEdgeEnvoyConfigText(appPort, configDir, accessLogs),
    files: tlsEdgeFiles(configDir),
    envoyUser: ENVOY_USER,
    entrypoint: TLS_EDGE_PATHS.imageEntrypoint,
    configDir,
  });
}

function tlsEdgeTask(spec: TlsEdgeSpec, region: string, accessLogs: boolean): TaskPlan {
  const names = TLS_EDGE_CONTAINERS;
  const health = { interval: 10, timeout: 5, retries: 3 } as const;
  const files = tlsEdgeFiles();
  return {
    containers: [
      {
        name: names.app,
        image: slot(TLS_EDGE_SLOTS.appImage),
        essential: true,
        environment: [{ name: "PORT", value: String(spec.appPort) }],
        mountPoints: [{ sourceVolume: TLS_EDGE_VOLUMES.appTmp, containerPath: "/tmp", readOnly: false }],
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
        entryPoint: ["/bin/sh", "-ec", tlsEdgeEnvoyStartText(spec.appPort, TLS_EDGE_PATHS.configDir, accessLogs)],
        // A digest of the certificate: a renewed certificate changes the task definition and rolls
        // the service (secrets are read only at task start).
        environment: [{ name: "TLS_CERT_SHA256", value: slot(TLS_EDGE_SLOTS.certificateDigest) }],
        secrets: [
          { name: "TLS_CERT_PEM", valueFrom: slot(TLS_EDGE_SLOTS.certificate) },
          { name: "TLS_KEY_PEM", valueFrom: slot(TLS_EDGE_SLOTS.privateKey) },
        ],
        portMappings: [{ containerPort: TLS_EDGE_PORTS.listener, protocol: "tcp" }],
        mountPoints: [{ sourceVolume: TLS_EDGE_VOLUMES.config, containerPath: TLS_EDGE_PATHS.configDir, readOnly: false }],
        // Envoy runs as the unprivileged envoy user and still binds 443 (a network-namespace sysctl; Fargate platform >= 1.4.0).
        systemControls: [{ namespace: "net.ipv4.ip_unprivileged_port_start", value: String(TLS_EDGE_PORTS.listener) }],
        dependsOn: [{ containerName: names.app, condition: "HEALTHY" }],
        // It forwards every request to the app: ECS stops Envoy first, so no request meets a stopped app.
        needsRunning: [names.app],
        healthCheck: { command: ["CMD", "bash", "-c", envoyReadyCheck({ port: TLS_EDGE_PORTS.ready })], ...health, startPeriod: 10 },
        memoryReservation: TLS_EDGE_MEMORY.envoy,
        stores: [{ volume: TLS_EDGE_VOLUMES.config, path: files.privateKey, holds: ["edge-tls-key"] }],
        serves: [
          { name: "Envoy admin API", on: { socket: files.adminSocket, volume: TLS_EDGE_VOLUMES.config }, reveals: [], revealsOwnConfig: true, controls: true },
          { name: "Envoy ready listener (GET /ready only)", on: { tcp: TLS_EDGE_PORTS.ready }, reveals: [], controls: false },
        ],
      },
    ],
    inboundPorts: [TLS_EDGE_PORTS.listener],
    volumes: [TLS_EDGE_VOLUMES.config, TLS_EDGE_VOLUMES.appTmp],
    logging: { group: slot(TLS_EDGE_SLOTS.logGroup), region, streamPrefix: spec.serviceName },
  };
}

/** What the TLS edge's tasks call to start: both images from ECR, and what the ECS agent calls for the task (logs, its secrets). */
export function tlsEdgeApis(task: TaskPlan): AwsApi[] {
  return [...new Set([...ECR_PULL_APIS, ...ecsAgentCalls(task).map((call) => call.api)])].sort();
}

/**
 * The TLS edge plan of a schema-checked tlsEdge section; `region`, `envoySource` (the Envoy image of
 * versions.envoy) and `accessLogs` (observability.accessLogs.enabled, @default false) are the mesh spec's.
 */
export function buildTlsEdgePlan(spec: TlsEdgeSpec, mesh: { readonly region: string; readonly envoySource: string; readonly accessLogs?: boolean }): TlsEdgePlan {
  const task = tlsEdgeTask(spec, mesh.region, mesh.accessLogs ?? false);
  const { vpcEndpoints, ecrRepositoryName, ...fields } = spec;
  // The S3 gateway endpoint always comes with them.
  const interfaceEndpoints = vpcEndpoints ? tlsEdgeApis(task).filter((api) => api !== "s3") : [];
  return {
    ...fields,
    dnsName: `${spec.serviceName}.${spec.namespace}`,
    region: mesh.region,
    names: tlsEdgeNames({ serviceName: spec.serviceName, ecrRepositoryName, interfaceEndpoints }),
    // scripts/push-images.sh builds and mirrors linux/amd64 images.
    cpuArchitecture: CPU_ARCHITECTURES.x86_64.ecs,
    interfaceEndpoints,
    // The mirror keeps the source's tag: ECR's immutable tags then name the Envoy version.
    envoyImage: { source: mesh.envoySource, mirrorTag: parseImage(mesh.envoySource).tag! },
    task,
    startsAfter: ["mesh-secrets"],
  };
}
