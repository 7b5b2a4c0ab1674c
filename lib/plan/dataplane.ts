// The containers of a dataplane task, in start order: consul-ecs mesh-init (logs in with the
// task's IAM role, registers the service and its proxy, writes the dataplane's config and copies
// the consul-ecs binary into the shared volume, then exits), consul-dataplane (runs Envoy),
// consul-ecs health-sync (ECS health -> Consul; on stop: critical first, then deregister and
// log out), then the app. Unlike HashiCorp's mesh-task module, the dataplane and health-sync are
// essential (a killed proxy stops the task instead of leaving it alive and unreachable), and every
// stop timeout is explicit so the stop sequence fits ECS's limits.
import { ECS_HEALTH_CHECK_LIMITS, FARGATE_MAX_START_TIMEOUT, SIGNED_REQUEST_VALIDITY_SECONDS } from "../aws-limits";
import { CONSUL_ECS_IMAGE, CONSUL_LOGIN, CONSUL_PORTS, DATAPLANE_PORTS, DATAPLANE_UID, ENVOY_PORTS, TASK_PATHS } from "../facts";
import { discoverServers } from "./aws-apis";
import { keepsOwnNames } from "./names";
import { imageSlot } from "./images";
import { SERVER_TAG_KEY, serverIdHeaderValue, serverTlsName } from "./server";
import { slot, type TextValue } from "./text";
import { consulEcsConfig, dataplaneServerDiscovery, meshInitScript } from "./texts";
import { passiveHealthCheckConfig } from "./upstreams";
import { collectorRoleCredentials, dataplaneProxyConfig, STATS_LISTENER, taskCollector, tracesCluster } from "./observability";
import { appContainer, LOG_SLOTS, MESH_SECRET_SLOTS, secrets } from "./containers";
import type { Boundary, ContainerPlan, DataplaneControlPlan, NameValue, TaskPlan } from "./types";
import type { MeshSpec, ServiceSpec } from "../spec/schema";

export const DATAPLANE_CONTAINERS = {
  meshInit: "consul-ecs-mesh-init",
  dataplane: "consul-dataplane",
  healthSync: "consul-ecs-health-sync",
  app: "app",
} as const;

/** The task volume mesh-init writes (the dataplane's config, the CA, the consul-ecs binary) and the others read. */
const CONSUL_DATA_VOLUME = "consul_data";

/** The task volume of consul-dataplane's xDS socket: the app does not mount it. */
const DATAPLANE_XDS_VOLUME = "dataplane-xds";

/** The auth method and role path every dataplane task logs in with (the servers' consul-acl-sync creates the method: ServerPlan.login). */
export const DATAPLANE_CONTROL: Omit<DataplaneControlPlan, "taskRolePath"> = {
  ...CONSUL_LOGIN,
  grpcTlsPort: CONSUL_PORTS.grpcTls,
};

/**
 * What the dataplane architecture cannot keep from the app, and why. They come to one thing: the
 * task role is the service's mesh identity, and the app holds it too, so the app can be its own
 * service in the mesh (no other, and nothing of the control plane).
 */
const DATAPLANE_BOUNDARIES: Readonly<Record<"taskRole" | "volume" | "admin" | "lifecycle", Boundary>> = {
  taskRole:
    "the task role is the service's mesh identity (consul-ecs logs in with it) and ECS serves its credentials to every container of the task, so the app can sign the same login: a token with its own service's identity, no other",
  volume:
    "the app mounts the consul-ecs volume for the consul-ecs binary (app-entrypoint, net-dial) and ECS mounts whole volumes; the login mesh-init leaves there is one the app can sign itself",
  admin:
    "consul-dataplane drives Envoy's readiness and graceful shutdown through Envoy's admin API over TCP (consul-dataplane 2.0.1 takes an IP address for it); Envoy's config holds no token there (consul-dataplane keeps the login: pkg/consuldp/bootstrap.go) and config_dump redacts private keys, so the app can stop or drain only its own proxy",
  lifecycle:
    "consul-dataplane 2.0.1 always starts its lifecycle server (graceful shutdown) on a TCP address (pkg/consuldp/lifecycle.go): the app can stop only its own proxy, which it can as well by exiting",
};

/**
 * Whether this plan is a dataplane version with an ECS service of its own (not the default version):
 * it runs as its service's one task role, the service's Consul identity (its login role parameter
 * names that role's ID and consul-acl-sync binds the service's name to it), and its ECS service
 * carries the service's name as a tag, which its tasks inherit: its group names the version's ECS
 * service, and the task reaper reads the Consul service from the tag.
 */
export function runsAsServiceIdentity(service: { readonly architecture: string; readonly version?: string; readonly defaultVersion?: string }): boolean {
  return service.architecture === "dataplane" && keepsOwnNames(service);
}

/** IAM path of a mesh's task roles: the auth method trusts exactly the roles under it. */
export function taskRolePath(clusterName: string): string {
  return `/consul-ecs/${clusterName}/`;
}

/**
 * The stop sequence, in seconds. ECS stops containers in reverse dependency order and sends each
 * SIGTERM, then SIGKILL after its stopTimeout (at most 120 on Fargate). At T0 health-sync marks the
 * service critical in Consul and the app's wrapper starts its delay (the app keeps serving while
 * callers' proxies drop this instance); then the app stops; then the dataplane drains its
 * listeners; then health-sync deregisters and logs out.
 */
export const DATAPLANE_STOP = {
  /** After the delay, what the app has to exit once it got its own SIGTERM. */
  appExitSeconds: 10,
  /** consul-dataplane -shutdown-grace-period-seconds: open connections finish. */
  drainSeconds: 10,
  /** health-sync's deregistration and logout after the dataplane is gone. */
  deregisterSeconds: 5,
  /** ECS's largest stopTimeout (Fargate). */
  maxStopTimeout: 120,
} as const;

/**
 * How long mesh-init may take before the task gives up: within the signed login's validity (a
 * minute to spare), and at most what Fargate accepts.
 */
function meshInitStartTimeout(launchType: ServiceSpec["launchType"]): number {
  const withinSignature = SIGNED_REQUEST_VALIDITY_SECONDS - 60;
  return launchType === "FARGATE" ? Math.min(withinSignature, FARGATE_MAX_START_TIMEOUT) : withinSignature;
}

/** The delay of a service: the spec's, else 10 s when the image's entrypoint is known (it must be wrapped), else none. */
export function shutdownDelayOf(service: ServiceSpec): number {
  return service.shutdownDelaySeconds ?? (service.entryPoint ? 10 : 0);
}

export function dataplaneTask(spec: MeshSpec, name: string, service: ServiceSpec, version?: string): TaskPlan {
  const names = DATAPLANE_CONTAINERS;
  const delay = shutdownDelayOf(service);
  const appStop = delay + DATAPLANE_STOP.appExitSeconds;
  const dataplaneStop = DATAPLANE_STOP.drainSeconds + 5;
  const port = service.port ?? 0;
  const appChecked = service.healthCheck.type !== "none" && service.port !== undefined;
  const metrics = spec.observability.metrics;
  const traces = spec.observability.traces.enabled;
  const config = consulEcsConfig({
    bootstrapDir: TASK_PATHS.consulEcsBootstrapDir,
    servers: {
      hosts: dataplaneServerDiscovery({ region: spec.region, tagKey: SERVER_TAG_KEY, tagValue: spec.name }),
      tlsServerName: serverTlsName(spec.consul.datacenter),
      grpcPort: CONSUL_PORTS.grpcTls,
      httpsPort: CONSUL_PORTS.https,
    },
    login: { method: DATAPLANE_CONTROL.authMethod, datacenter: spec.consul.datacenter, serverIdHeaderValue: serverIdHeaderValue(spec.consul.datacenter) },
    service: { name, port, ...(version === undefined ? {} : { meta: { version } }) },
    proxy: {
      publicListenerPort: DATAPLANE_PORTS.publicListener,
      healthCheckPort: DATAPLANE_PORTS.readiness,
      upstreams: service.upstreams.map((u) => {
        const passive = passiveHealthCheckConfig(u.passiveHealthCheck);
        const config: { [key: string]: TextValue } = passive ? { passive_health_check: { ...passive } } : {};
        return { destinationName: u.destination, localBindPort: u.localBindPort, config };
      }),
      ...(metrics.enabled ? { config: dataplaneProxyConfig(metrics.intervalSeconds) } : {}),
    },
    // The app's ECS health, synced into Consul: a failing app stops getting requests.
    healthSyncContainers: appChecked ? [names.app] : [],
  });
  /** A consul-ecs container; `extra` adds environment variables (names sort after CONSUL_ECS_CONFIG_JSON). */
  const consulEcs = (command: string, extra: readonly NameValue[] = []): Partial<ContainerPlan> & Pick<ContainerPlan, "image"> => ({
    image: imageSlot("consulEcs"),
    command: [command],
    environment: [{ name: "CONSUL_ECS_CONFIG_JSON", value: config }, ...extra],
    secrets: secrets({ CONSUL_GRPC_CACERT_PEM: slot(MESH_SECRET_SLOTS.caCert), CONSUL_HTTPS_CACERT_PEM: slot(MESH_SECRET_SLOTS.caCert) }),
    initProcessEnabled: true,
    // The server discovery in CONSUL_ECS_CONFIG_JSON: consul-ecs always finds the servers by tag.
    calls: [discoverServers("consul-ecs")],
  });
  const collector = taskCollector(spec, name, names.dataplane);
  const readOnlyVolume = [{ sourceVolume: CONSUL_DATA_VOLUME, containerPath: TASK_PATHS.consulEcsBootstrapDir, readOnly: true }];
  const consulEcsBinary = `${TASK_PATHS.consulEcsBootstrapDir}/consul-ecs`;

  const containers: ContainerPlan[] = [
    {
      name: names.meshInit,
      ...consulEcs("mesh-init", [{ name: "XDS_DIR", value: TASK_PATHS.dataplaneXdsDir }]),
      // Root for one chown (meshInitScript), then consul-ecs runs as the image's user.
      user: "0",
      entryPoint: [
        "/bin/sh",
        "-ec",
        meshInitScript({
          dataplaneUid: DATAPLANE_UID,
          consulEcsUser: CONSUL_ECS_IMAGE.user,
          consulEcsBinary: CONSUL_ECS_IMAGE.binary,
          tracesBootstrap: traces ? { path: TASK_PATHS.dataplaneTracesBootstrap, json: JSON.stringify({ static_resources: { clusters: [tracesCluster()] } }) } : null,
        }),
        names.meshInit,
      ],
      essential: false,
      // Server discovery, login and registration retry without limit (consul-ecs v0.10.0
      // subcommand/mesh-init: the server watcher, then a constant 1 s backoff), but the IAM login
      // is signed once, when mesh-init starts (config.go createAWSBearerToken), and AWS rejects
      // that signature 5 minutes later: startTimeout ends a task whose login went stale, and ECS
      // starts one with a fresh signature. The servers create the auth method (ServerPlan.login);
      // Auto Scaling servers report in service only once it exists.
      needs: [{ need: "control-plane", retrySeconds: Number.POSITIVE_INFINITY, signedOnceValidSeconds: SIGNED_REQUEST_VALIDITY_SECONDS }],
      startTimeout: meshInitStartTimeout(service.launchType),
      mountPoints: [
        { sourceVolume: CONSUL_DATA_VOLUME, containerPath: TASK_PATHS.consulEcsBootstrapDir, readOnly: false },
        { sourceVolume: DATAPLANE_XDS_VOLUME, containerPath: TASK_PATHS.dataplaneXdsDir, readOnly: false },
      ],
      memoryReservation: 32,
      // consul-ecs internal/dataplane: the dataplane's config carries the signed login (bearerToken).
      stores: [{ volume: CONSUL_DATA_VOLUME, path: `${TASK_PATHS.consulEcsBootstrapDir}/consul-dataplane.json`, holds: ["signed-login"], boundary: DATAPLANE_BOUNDARIES.volume }],
    },
    {
      name: names.dataplane,
      image: imageSlot("consulDataplane"),
      essential: true,
      // envoy-entrypoint holds SIGTERM until the app containers have stopped, then stops the dataplane.
      entryPoint: [consulEcsBinary, "envoy-entrypoint"],
      command: [
        "consul-dataplane",
        "-config-file",
        `${TASK_PATHS.consulEcsBootstrapDir}/consul-dataplane.json`,
        "-shutdown-drain-listeners",
        "-shutdown-grace-period-seconds",
        String(DATAPLANE_STOP.drainSeconds),
        // Its xDS server on a socket only it mounts (consul-dataplane: unix:// bind address), not a loopback port.
        "-xds-bind-addr",
        `unix://${TASK_PATHS.dataplaneXdsSocket}`,
        // Metrics (dataplaneProxyConfig): the proxy config's envoy_prometheus_bind_addr applies only
        // with central config (2.0.1's default, said here so a consul-ecs config cannot turn it off).
        ...(metrics.enabled ? ["-telemetry-use-central-config"] : []),
        // Metrics: Envoy's listener serves the agent sidecar's path; the merged server's port is pinned.
        ...(metrics.enabled ? ["-telemetry-prom-scrape-path", STATS_LISTENER.path, "-telemetry-prom-merge-port", String(DATAPLANE_PORTS.mergedMetrics)] : []),
        // Traces: what follows "--" goes to Envoy (cmd/consul-dataplane main.go flags.Args()): the
        // collector's cluster, merged into the bootstrap consul-dataplane passes as --config-yaml.
        ...(traces ? ["--", "--config-path", TASK_PATHS.dataplaneTracesBootstrap] : []),
      ],
      portMappings: [{ containerPort: DATAPLANE_PORTS.publicListener, protocol: "tcp", listener: "public listener" }],
      mountPoints: [...readOnlyVolume, { sourceVolume: DATAPLANE_XDS_VOLUME, containerPath: TASK_PATHS.dataplaneXdsDir, readOnly: false }],
      dependsOn: [{ containerName: names.meshInit, condition: "SUCCESS" }],
      // The readiness listener accepts connections once consul-dataplane, logged in to the servers, started Envoy.
      healthCheck: {
        command: ["CMD", consulEcsBinary, "net-dial", `127.0.0.1:${DATAPLANE_PORTS.readiness}`],
        interval: 5,
        timeout: 5,
        retries: 10,
        startPeriod: 10,
        needs: ["control-plane"],
      },
      stopTimeout: dataplaneStop,
      ulimits: [{ name: "nofile", softLimit: 1048576, hardLimit: 1048576 }],
      memoryReservation: 64,
      serves: [
        { name: "Envoy admin API", on: { tcp: ENVOY_PORTS.admin }, reveals: [], controls: true, boundary: DATAPLANE_BOUNDARIES.admin },
        { name: "xDS server", on: { socket: TASK_PATHS.dataplaneXdsSocket, volume: DATAPLANE_XDS_VOLUME }, reveals: ["leaf-key"], controls: false },
        { name: "lifecycle server", on: { tcp: DATAPLANE_PORTS.lifecycle }, reveals: [], controls: true, boundary: DATAPLANE_BOUNDARIES.lifecycle },
        { name: "ready listener", on: { tcp: DATAPLANE_PORTS.readiness }, reveals: [], controls: false },
        ...(metrics.enabled
          ? [
              // What the collector scrapes: nothing but metrics, and nothing of the admin API but GET /stats/prometheus.
              { name: "Envoy stats listener (GET /stats/prometheus only)", on: { tcp: STATS_LISTENER.port }, reveals: [], controls: false },
              { name: "merged metrics server (GET /stats/prometheus only)", on: { tcp: DATAPLANE_PORTS.mergedMetrics }, reveals: [], controls: false },
              { name: "consul-dataplane's own metrics", on: { tcp: DATAPLANE_PORTS.dataplaneMetrics }, reveals: [], controls: false },
            ]
          : []),
      ],
    },
    ...collector,
    {
      name: names.healthSync,
      ...consulEcs("health-sync"),
      essential: true,
      mountPoints: readOnlyVolume,
      dependsOn: [{ containerName: names.meshInit, condition: "SUCCESS" }],
      // It outlives the app and the dataplane, then deregisters and logs out.
      stopTimeout: appStop + dataplaneStop + DATAPLANE_STOP.deregisterSeconds,
      memoryReservation: 32,
    },
    dataplaneApp(service, delay, appStop, consulEcsBinary, readOnlyVolume, collector),
  ];
  return {
    containers,
    inboundPorts: [DATAPLANE_PORTS.publicListener],
    volumes: [CONSUL_DATA_VOLUME, DATAPLANE_XDS_VOLUME],
    logging: { group: slot(LOG_SLOTS.group), region: spec.region, streamPrefix: name },
    roleCredentials: [
      { credential: "signed-login", how: "an IAM login to the auth method (sts:GetCallerIdentity, signed)", boundary: DATAPLANE_BOUNDARIES.taskRole },
      ...collectorRoleCredentials(collector),
    ],
  };
}

function dataplaneApp(
  service: ServiceSpec,
  delay: number,
  appStop: number,
  consulEcsBinary: string,
  consulVolume: ContainerPlan["mountPoints"],
  collector: readonly ContainerPlan[],
): ContainerPlan {
  const check = service.healthCheck;
  return {
    ...appContainer(DATAPLANE_CONTAINERS.app, service),
    // app-entrypoint delays the app's SIGTERM; it replaces the image's entrypoint, which the spec names.
    ...(delay > 0
      ? { entryPoint: [consulEcsBinary, "app-entrypoint", "-shutdown-delay", `${delay}s`, ...(service.entryPoint ?? [])] }
      : service.entryPoint
        ? { entryPoint: service.entryPoint }
        : {}),
    // The consul-ecs binary (app-entrypoint, net-dial) comes through the shared volume, read-only.
    mountPoints: consulVolume,
    // With metrics or traces, the collector runs before the app's first request.
    dependsOn: [{ containerName: DATAPLANE_CONTAINERS.dataplane, condition: "HEALTHY" }, ...collector.map((c) => ({ containerName: c.name, condition: "START" as const }))],
    // Its calls to upstreams go through the dataplane: ECS stops the app first.
    needsRunning: [DATAPLANE_CONTAINERS.dataplane],
    // ECS's view of the app, which health-sync copies into Consul: a TCP connect (any image has no HTTP client to rely on).
    ...(check.type !== "none" && service.port !== undefined
      ? {
          healthCheck: {
            command: ["CMD", consulEcsBinary, "net-dial", `127.0.0.1:${service.port}`],
            // The spec's timings, raised to what an ECS health check accepts (a Consul check allows 1 s).
            interval: Math.max(check.intervalSeconds, ECS_HEALTH_CHECK_LIMITS.interval.min),
            timeout: Math.max(check.timeoutSeconds, ECS_HEALTH_CHECK_LIMITS.timeout.min),
            retries: 3,
            startPeriod: 10,
          },
        }
      : {}),
    stopTimeout: appStop,
  };
}
