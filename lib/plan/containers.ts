// The containers of a mesh task, as typed data in start order: the Consul client agent, the
// init container that writes the Envoy bootstrap, Envoy, then the app. ECS starts them along
// dependsOn and stops them in reverse, so the proxy outlives the app. To add a container to
// every task, add it to the list below (and its script template, if it runs one).
import { ECS_HEALTH_CHECK_LIMITS } from "../aws-limits";
import { APP_DROPPED_CAPABILITIES, CONSUL_PORTS, CONSUL_PRIVATE_IP, ENVOY_PORTS, ENVOY_UID, TASK_PATHS } from "../facts";
import { discoverServers } from "./aws-apis";
import { imageSlot } from "./images";
import { CONTROL_PLANE_COLD_BOOT_SECONDS, serverJoin } from "./server";
import { passiveHealthCheckConfig } from "./upstreams";
import { isSlot, slot } from "./text";
import { envoyAdminOnSocket } from "./envoy-admin";
import { collectorRoleCredentials, STATS_LISTENER, taskCollector, tracesClusterJson } from "./observability";
import { clientAgentConfig, consulAgentScript, envoyBootstrapScript, envoyReadyCheck, serviceRegistration, sidecarEnvoyOverlay, type ConsulCheckContext } from "./texts";
import type { ContainerHealthCheck, ContainerPlan, Credential, NameValue, SecretBinding, ServerPlan, TaskPlan } from "./types";
import type { HealthCheckSpec, MeshSpec, ServiceSpec } from "../spec/schema";

/** Container names inside every mesh task, in start order. */
export const CONTAINER_NAMES = {
  consulAgent: "consul-agent",
  envoyBootstrap: "envoy-bootstrap",
  envoySidecar: "envoy-sidecar",
  app: "app",
} as const;

/** The task volume that carries the Envoy bootstrap from the init container to Envoy. */
export const BOOTSTRAP_VOLUME = "envoy-bootstrap";

/** The task volume that holds Envoy's admin socket: Envoy mounts it, the init container prepares it, the app does not. */
export const ENVOY_ADMIN_VOLUME = "envoy-admin";

/** Slots for the secrets the stack creates; the MeshService construct binds them to ECS valueFrom references. */
export const MESH_SECRET_SLOTS = {
  gossipKey: "secret:gossipKey",
  caCert: "secret:caCert",
  agentToken: "secret:agentToken",
  serviceToken: "secret:serviceToken",
} as const;

export type MeshSecretSlot = (typeof MESH_SECRET_SLOTS)[keyof typeof MESH_SECRET_SLOTS];

/**
 * The mesh secrets the servers write at boot, not Terraform (the RPC CA's certificate): a task that
 * reads one starts after the servers ("consul-servers"), not after Terraform's secret versions.
 */
export const SERVER_WRITTEN_MESH_SECRETS: readonly MeshSecretSlot[] = [MESH_SECRET_SLOTS.caCert];

/**
 * The mesh secrets a task's containers read, in MESH_SECRET_SLOTS order: the one list the stack
 * creates service tokens from, binds, grants the execution role and waits for before the service.
 */
export function meshSecretsOf(task: TaskPlan): MeshSecretSlot[] {
  const read = new Set(task.containers.flatMap((c) => (c.secrets ?? []).flatMap((s) => (isSlot(s.valueFrom) ? [s.valueFrom.slot] : []))));
  return Object.values(MESH_SECRET_SLOTS).filter((slot) => read.has(slot));
}

/** The credential each mesh secret is, for the trust model (the CA certificate is public). */
export const SECRET_CREDENTIALS: Readonly<Record<string, Credential>> = {
  [MESH_SECRET_SLOTS.gossipKey]: "gossip-key",
  [MESH_SECRET_SLOTS.agentToken]: "agent-token",
  [MESH_SECRET_SLOTS.serviceToken]: "service-token",
};

/** The slot of each task's log group (its region is the spec's). */
export const LOG_SLOTS = { group: "logGroup" } as const;

/** Sidecar memory reservations (MiB): soft limits, so a busy agent or proxy is not OOM-killed. */
const SIDECAR_MEMORY = { consulAgent: 64, envoyBootstrap: 32, envoySidecar: 64 } as const;

/** Container health checks: seconds between probes, probe timeout, failures before UNHEALTHY, grace after start. */
const SIDECAR_HEALTH = { interval: 10, timeout: 5, retries: 3, startPeriod: 10 } as const;

/**
 * How long the init container waits for the control plane (the server booted, this service's
 * token created by its sync timer): twice a cold server boot (CONTROL_PLANE_COLD_BOOT_SECONDS,
 * 10 minutes), so a slow boot still fits and a server that never comes up fails clearly.
 */
export const CONTROL_PLANE_WAIT = { attempts: (2 * CONTROL_PLANE_COLD_BOOT_SECONDS) / 5, intervalSeconds: 5 } as const;

/** The agent sidecar's admin socket and ready listener. */
const SIDECAR_ADMIN = envoyAdminOnSocket(TASK_PATHS.envoyAdminSocket, ENVOY_PORTS.ready);

function healthCheck(command: ContainerHealthCheck["command"], needs?: ContainerHealthCheck["needs"]): ContainerHealthCheck {
  return { command, ...SIDECAR_HEALTH, ...(needs ? { needs } : {}) };
}

/** Name/value lists sorted by name: the AWS provider sorts them too, so the plan shows no diff. */
export function byName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function environment(values: Readonly<Record<string, string>>): NameValue[] {
  return byName(Object.entries(values).map(([name, value]) => ({ name, value })));
}

export function secrets(values: Readonly<Record<string, SecretBinding["valueFrom"]>>): SecretBinding[] {
  return byName(Object.entries(values).map(([name, valueFrom]) => ({ name, valueFrom })));
}

function consulCheck(service: string, port: number | undefined, check: HealthCheckSpec): ConsulCheckContext | null {
  if (check.type === "none" || port === undefined) return null;
  const interval = `${check.intervalSeconds}s`;
  const timeout = `${check.timeoutSeconds}s`;
  return check.type === "http"
    ? { id: service, name: `HTTP GET on port ${port}`, http: `http://127.0.0.1:${port}${check.path}`, tcp: null, interval, timeout }
    : { id: service, name: `TCP on port ${port}`, http: null, tcp: `127.0.0.1:${port}`, interval, timeout };
}

/** The app's own secrets, by reference. */
function appSecrets(service: ServiceSpec): SecretBinding[] {
  return secrets(Object.fromEntries(Object.entries(service.secrets).map(([key, ref]) => [key, (ref.secretsManagerArn ?? ref.ssmParameterArn)!])));
}

/** Why the app's root filesystem is writable, for scanners (CKV_AWS_336), or undefined when it is read-only. */
function appWritableRootReason(service: ServiceSpec): string | undefined {
  if (service.readonlyRootFilesystem) return undefined;
  return service.enableExecuteCommand ? "ECS Exec: its agent writes into the container" : "the spec sets readonlyRootFilesystem: false for this app image";
}

/**
 * The app container as the spec describes it, in either architecture: its image, command, user,
 * memory, environment and secrets; untrusted, with capabilities dropped. The task adds its start
 * order and what the app runs through.
 */
export function appContainer(name: string, service: ServiceSpec): ContainerPlan {
  const writableReason = appWritableRootReason(service);
  return {
    name,
    image: service.image,
    essential: true,
    ...(service.imageCredentialsSecretArn ? { repositoryCredentials: service.imageCredentialsSecretArn } : {}),
    ...(service.command?.length ? { command: service.command } : {}),
    ...(service.user ? { user: service.user } : {}),
    ...(service.appMemory ? { memory: service.appMemory } : {}),
    environment: environment(service.environment),
    secrets: appSecrets(service),
    untrusted: true,
    dropCapabilities: APP_DROPPED_CAPABILITIES,
    ...(writableReason ? { writableRootReason: writableReason } : {}),
  };
}

/** The agent-mode task of one service: its four containers in start order, volumes and logging. */
export function agentTask(spec: MeshSpec, server: Pick<ServerPlan, "join">, name: string, service: ServiceSpec, version?: string): TaskPlan {
  const names = CONTAINER_NAMES;
  const agentConfig = clientAgentConfig({
    datacenter: spec.consul.datacenter,
    retryJoin: serverJoin(server, spec),
    bindAddr: CONSUL_PRIVATE_IP,
    grpcPort: CONSUL_PORTS.grpc,
    caFile: TASK_PATHS.caFile,
    dataDir: TASK_PATHS.consulDataDir,
  });
  const registration = serviceRegistration({
    name,
    version: version ?? null,
    port: service.port ?? null,
    check: consulCheck(name, service.port, service.healthCheck),
    sidecarPort: ENVOY_PORTS.publicListener,
    upstreams: service.upstreams.map((u) => ({ destination: u.destination, localBindPort: u.localBindPort, passiveHealthCheck: passiveHealthCheckConfig(u.passiveHealthCheck) })),
  });
  const serviceToken = slot(MESH_SECRET_SLOTS.serviceToken);
  const metrics = spec.observability.metrics;
  const stats = metrics.enabled ? { ...STATS_LISTENER, flushInterval: `${metrics.intervalSeconds}s` } : null;
  const collector = taskCollector(spec, name, names.envoySidecar);

  const containers: ContainerPlan[] = [
    {
      name: names.consulAgent,
      image: imageSlot("consul"),
      essential: true,
      entryPoint: ["/bin/sh", "-ec", consulAgentScript({ caFile: TASK_PATHS.caFile, secretsFile: TASK_PATHS.secretsFile }), names.consulAgent],
      command: ["agent", "-hcl", agentConfig, "-hcl", registration],
      secrets: secrets({
        CONSUL_AGENT_TOKEN: slot(MESH_SECRET_SLOTS.agentToken),
        CONSUL_CA_PEM: slot(MESH_SECRET_SLOTS.caCert),
        CONSUL_GOSSIP_KEY: slot(MESH_SECRET_SLOTS.gossipKey),
        CONSUL_SERVICE_TOKEN: serviceToken,
      }),
      portMappings: [
        { containerPort: CONSUL_PORTS.serfLan, protocol: "tcp", listener: "Serf LAN port" },
        { containerPort: CONSUL_PORTS.serfLan, protocol: "udp", listener: "Serf LAN port" },
      ],
      // The agent's HTTP API answers at all (any status). With auto_encrypt the agent opens it only
      // once a server has signed its certificate with the agent token (Consul agent.Start runs
      // AutoConfig.InitialConfiguration first): the check needs the control plane, so its start
      // period is ECS's longest, and a cold server boot fits before failures count.
      healthCheck: {
        ...healthCheck(["CMD", "curl", "--silent", "--output", "/dev/null", "--max-time", "2", `http://127.0.0.1:${CONSUL_PORTS.http}/v1/agent/self`], ["control-plane"]),
        startPeriod: ECS_HEALTH_CHECK_LIMITS.startPeriod.max,
      },
      memoryReservation: SIDECAR_MEMORY.consulAgent,
      // The agent has no default token (consul-agent.sh): an anonymous caller reads and registers
      // nothing, and xDS answers only a caller with a token.
      serves: [
        // The init container's calls (consul connect envoy) and Envoy's xDS stream send the service token in a header.
        { name: "Consul HTTP API", on: { tcp: CONSUL_PORTS.http }, reveals: [], controls: false, carries: ["service-token"] },
        { name: "Consul gRPC (xDS)", on: { tcp: CONSUL_PORTS.grpc }, reveals: [], controls: false, carries: ["service-token"] },
        // Answers only what the anonymous token may read: nothing (ACL default deny).
        { name: "Consul DNS", on: { tcp: CONSUL_PORTS.dns }, reveals: [], controls: false },
      ],
      writableRootReason: `the Consul agent writes its data dir, ${TASK_PATHS.consulDataDir}`,
      ...("tagKey" in server.join ? { calls: [discoverServers("the agent")] } : {}),
    },
    {
      name: names.envoyBootstrap,
      image: imageSlot("consul"),
      essential: false,
      entryPoint: ["/bin/sh", "-ec"],
      command: [
        envoyBootstrapScript({
          attempts: CONTROL_PLANE_WAIT.attempts,
          intervalSeconds: CONTROL_PLANE_WAIT.intervalSeconds,
          waitSeconds: CONTROL_PLANE_WAIT.attempts * CONTROL_PLANE_WAIT.intervalSeconds,
        }),
      ],
      environment: environment({
        CONSUL_HTTP_ADDR: `127.0.0.1:${CONSUL_PORTS.http}`,
        CONSUL_GRPC_ADDR: `127.0.0.1:${CONSUL_PORTS.grpc}`,
        SERVICE_NAME: name,
        // consul connect envoy requires a TCP admin address; Envoy's --config-yaml moves it to the socket.
        ENVOY_ADMIN_BIND: `127.0.0.1:${ENVOY_PORTS.admin}`,
        ENVOY_ADMIN_DIR: TASK_PATHS.envoyAdminDir,
        ENVOY_BOOTSTRAP: TASK_PATHS.envoyBootstrapFile,
        ENVOY_UID: String(ENVOY_UID),
      }),
      secrets: secrets({ CONSUL_HTTP_TOKEN: serviceToken }),
      mountPoints: [
        { sourceVolume: BOOTSTRAP_VOLUME, containerPath: TASK_PATHS.envoyBootstrapDir, readOnly: false },
        { sourceVolume: ENVOY_ADMIN_VOLUME, containerPath: TASK_PATHS.envoyAdminDir, readOnly: false },
      ],
      dependsOn: [{ containerName: names.consulAgent, condition: "HEALTHY" }],
      // The script's bounded wait for the token (consul acl token read -self) covers a cold boot.
      needs: [{ need: "control-plane", retrySeconds: CONTROL_PLANE_WAIT.attempts * CONTROL_PLANE_WAIT.intervalSeconds }],
      memoryReservation: SIDECAR_MEMORY.envoyBootstrap,
      // The bootstrap carries the token in its xDS initial_metadata (x-consul-token).
      stores: [{ volume: BOOTSTRAP_VOLUME, path: TASK_PATHS.envoyBootstrapFile, holds: ["service-token"] }],
    },
    {
      name: names.envoySidecar,
      image: imageSlot("envoy"),
      essential: true,
      entryPoint: [TASK_PATHS.envoyBinary],
      command: [
        "--config-path",
        TASK_PATHS.envoyBootstrapFile,
        "--config-yaml",
        sidecarEnvoyOverlay({ ...SIDECAR_ADMIN, stats, tracesCluster: spec.observability.traces.enabled ? tracesClusterJson() : null }),
        "--disable-hot-restart",
        "--log-level",
        "info",
      ],
      user: String(ENVOY_UID),
      portMappings: [{ containerPort: ENVOY_PORTS.publicListener, protocol: "tcp", listener: "Envoy public listener" }],
      mountPoints: [
        { sourceVolume: BOOTSTRAP_VOLUME, containerPath: TASK_PATHS.envoyBootstrapDir, readOnly: true },
        { sourceVolume: ENVOY_ADMIN_VOLUME, containerPath: TASK_PATHS.envoyAdminDir, readOnly: false },
      ],
      dependsOn: [{ containerName: names.envoyBootstrap, condition: "SUCCESS" }],
      // Envoy turns LIVE after its first configuration from the agent, which needs the servers
      // (they sign its leaf certificate): the control plane, which the bootstrap waited for.
      healthCheck: healthCheck(["CMD", "bash", "-c", envoyReadyCheck({ port: SIDECAR_ADMIN.ready.port })], ["control-plane"]),
      memoryReservation: SIDECAR_MEMORY.envoySidecar,
      // config_dump shows the bootstrap, token included (initial_metadata is not a sensitive field).
      serves: [
        { name: "Envoy admin API", on: { socket: TASK_PATHS.envoyAdminSocket, volume: ENVOY_ADMIN_VOLUME }, reveals: [], revealsOwnConfig: true, controls: true },
        { name: "Envoy ready listener (GET /ready only)", on: { tcp: ENVOY_PORTS.ready }, reveals: [], controls: false },
        ...(stats ? [{ name: "Envoy stats listener (GET /stats/prometheus only)", on: { tcp: stats.port }, reveals: [], controls: false }] : []),
      ],
    },
    ...collector,
    {
      ...appContainer(names.app, service),
      // With metrics or traces, the collector runs before the app's first request.
      dependsOn: [{ containerName: names.envoySidecar, condition: "HEALTHY" }, ...collector.map((c) => ({ containerName: c.name, condition: "START" as const }))],
      // Its upstreams are Envoy's local listeners, and callers reach it through Envoy.
      needsRunning: [names.envoySidecar],
    },
  ];
  return {
    containers,
    inboundPorts: [ENVOY_PORTS.publicListener],
    volumes: [BOOTSTRAP_VOLUME, ENVOY_ADMIN_VOLUME],
    logging: { group: slot(LOG_SLOTS.group), region: spec.region, streamPrefix: name },
    roleCredentials: collectorRoleCredentials(collector),
  };
}
