// Typed entry points for every rendered artifact: one context interface per template, so a
// missing or misspelt value is a compile error here and a strict-mode error in Handlebars.
import { render } from "./templates";
import { CONSUL_PORTS, ENVOY_PORTS, type ServiceModel } from "../model";
import type { HealthCheckSpec } from "../spec/schema";

/** go-sockaddr template Consul evaluates at start: the task's or host's private address. */
const PRIVATE_IP = "{{ GetPrivateIP }}";

export interface ClientAgentConfigContext {
  readonly datacenter: string;
  readonly retryJoin: readonly string[];
}

/** Where the consul-agent container writes the CA delivered as an ECS secret. */
const TASK_CA_FILE = "/consul/config/ca.pem";

export function renderClientAgentConfig(ctx: ClientAgentConfigContext): string {
  return render("consul/client-agent.hcl.hbs", { ...ctx, bindAddr: PRIVATE_IP, grpcPort: CONSUL_PORTS.grpc, caFile: TASK_CA_FILE });
}

interface ConsulCheckContext {
  readonly id: string;
  readonly name: string;
  readonly http: string | null;
  readonly tcp: string | null;
  readonly interval: string;
  readonly timeout: string;
}

function consulCheck(service: string, port: number | undefined, check: HealthCheckSpec): ConsulCheckContext | null {
  if (check.type === "none") return null;
  if (port === undefined) throw new Error(`services.${service}.healthCheck: a ${check.type} check needs the service's port`);
  const interval = `${check.intervalSeconds}s`;
  const timeout = `${check.timeoutSeconds}s`;
  return check.type === "http"
    ? { id: service, name: `HTTP GET on port ${port}`, http: `http://127.0.0.1:${port}${check.path}`, tcp: null, interval, timeout }
    : { id: service, name: `TCP on port ${port}`, http: null, tcp: `127.0.0.1:${port}`, interval, timeout };
}

/** The Consul service definition with its sidecar and upstreams (HCL), registered by the task's agent. */
export function renderServiceConfig(service: ServiceModel): string {
  return render("consul/service.hcl.hbs", {
    name: service.name,
    port: service.port ?? null,
    check: consulCheck(service.name, service.port, service.healthCheck),
    sidecarPort: ENVOY_PORTS.publicListener,
    upstreams: service.upstreams,
  });
}

export interface ServerConfigContext {
  readonly datacenter: string;
}

export function renderServerConfig(ctx: ServerConfigContext): string {
  return render("consul/server.hcl.hbs", {
    ...ctx,
    bindAddr: PRIVATE_IP,
    httpsPort: CONSUL_PORTS.https,
    tls: { caFile: "/etc/consul.d/tls/ca.pem", certFile: "/etc/consul.d/tls/server.pem", keyFile: "/etc/consul.d/tls/server-key.pem" },
  });
}

/** Secrets Manager ARNs the server reads at boot (ARNs, never values). */
export interface ConsulServerSecretArns {
  readonly gossipKey: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly managementToken: string;
  readonly agentToken: string;
}

export interface ConsulServerUserDataContext {
  readonly version: string;
  readonly arch: "amd64" | "arm64";
  readonly sha256: string;
  readonly region: string;
  readonly serverConfig: string;
  readonly secrets: ConsulServerSecretArns;
  /** Name of the SSM parameter listing the service token secrets. */
  readonly serviceTokenManifest: string;
}

export function renderConsulServerUserData(ctx: ConsulServerUserDataContext): string {
  return render("user-data/consul-server.sh.hbs", {
    ...ctx,
    systemdUnit: render("consul/consul.service.hbs", {}),
    aclSyncScript: render("consul/consul-acl-sync.sh.hbs", { httpsPort: CONSUL_PORTS.https }),
    aclSyncUnit: render("consul/consul-acl-sync.service.hbs", {}),
    aclSyncTimer: render("consul/consul-acl-sync.timer.hbs", {}),
  });
}

export interface EcsHostUserDataContext {
  /** The ECS cluster to join (a Terraform reference at synth time). */
  readonly clusterName: string;
}

export function renderEcsHostUserData(ctx: EcsHostUserDataContext): string {
  return render("user-data/ecs-host.sh.hbs", {
    ...ctx,
    instanceAttributes: { "purchase-option": "ondemand" },
  });
}

/** Container names inside every mesh task, in start order. */
export const CONTAINER_NAMES = {
  consulAgent: "consul-agent",
  envoyBootstrap: "envoy-bootstrap",
  envoySidecar: "envoy-sidecar",
  app: "app",
} as const;

/** ECS `valueFrom` references of the secrets a mesh task receives. */
export interface TaskSecretRefs {
  readonly gossipKey: string;
  readonly caCert: string;
  readonly agentToken: string;
  /** The service's own ACL token: registration, and the Envoy bootstrap. */
  readonly serviceToken: string;
}

export interface TaskContainersContext {
  readonly service: ServiceModel;
  readonly secrets: TaskSecretRefs;
  readonly consulImage: string;
  readonly envoyImage: string;
  readonly agentConfig: string;
  readonly logGroup: string;
  readonly region: string;
  /** Name of the task volume that carries the Envoy bootstrap from the init container to Envoy. */
  readonly bootstrapVolume: string;
}

/** Sidecar memory reservations (MiB): soft limits, so a busy agent or proxy is not OOM-killed. */
export const SIDECAR_MEMORY = { consulAgent: 64, envoyBootstrap: 32, envoySidecar: 64 } as const;

/** The task's container definitions, parsed: rendering twice with one context gives identical JSON. */
export function renderTaskContainers(ctx: TaskContainersContext): object[] {
  const { service } = ctx;
  const text = render("ecs/task-containers.json.hbs", {
    containers: CONTAINER_NAMES,
    consul: {
      script: render("ecs/consul-agent.sh.hbs", {}),
      secrets: ecsSecrets({
        CONSUL_AGENT_TOKEN: ctx.secrets.agentToken,
        CONSUL_CA_PEM: ctx.secrets.caCert,
        CONSUL_GOSSIP_KEY: ctx.secrets.gossipKey,
        CONSUL_SERVICE_TOKEN: ctx.secrets.serviceToken,
      }),
      image: ctx.consulImage,
      agentConfig: ctx.agentConfig,
      serviceConfig: renderServiceConfig(service),
      serfLanPort: CONSUL_PORTS.serfLan,
      memoryReservation: SIDECAR_MEMORY.consulAgent,
    },
    bootstrap: {
      script: render("ecs/envoy-bootstrap.sh.hbs", {}),
      memoryReservation: SIDECAR_MEMORY.envoyBootstrap,
      environment: sortedEnvironment({
        CONSUL_HTTP_ADDR: `127.0.0.1:${CONSUL_PORTS.http}`,
        CONSUL_GRPC_ADDR: `127.0.0.1:${CONSUL_PORTS.grpc}`,
        SERVICE_NAME: service.name,
        ENVOY_ADMIN_BIND: `127.0.0.1:${ENVOY_PORTS.admin}`,
        ENVOY_BOOTSTRAP: BOOTSTRAP_FILE,
        ENVOY_UID: String(ENVOY_UID),
      }),
      secrets: ecsSecrets({ CONSUL_HTTP_TOKEN: ctx.secrets.serviceToken }),
    },
    envoy: {
      image: ctx.envoyImage,
      bootstrapDir: BOOTSTRAP_DIR,
      bootstrapPath: BOOTSTRAP_FILE,
      volume: ctx.bootstrapVolume,
      publicPort: ENVOY_PORTS.publicListener,
      readyCheck: render("ecs/envoy-ready.sh.hbs", { adminPort: ENVOY_PORTS.admin }),
      user: String(ENVOY_UID),
      memoryReservation: SIDECAR_MEMORY.envoySidecar,
    },
    app: {
      image: service.image,
      command: service.command ?? null,
      memory: service.appMemory ?? null,
      environment: sortedEnvironment(service.environment),
      secrets: ecsSecrets(
        Object.fromEntries(Object.entries(service.secrets).map(([name, ref]) => [name, (ref.secretsManagerArn ?? ref.ssmParameterArn)!])),
      ),
      readonlyRootFilesystem: service.readonlyRootFilesystem,
      // Scanners flag writable root filesystems (CKV_AWS_336): say why this one is.
      readonlyRootException: service.readonlyRootFilesystem
        ? null
        : service.enableExecuteCommand
          ? "ECS Exec: its agent writes into the container"
          : "the spec sets readonlyRootFilesystem: false for this app image",
    },
    logging: { group: ctx.logGroup, region: ctx.region, streamPrefix: service.name },
  });
  try {
    return JSON.parse(text) as object[];
  } catch (error) {
    throw new Error(`container definitions of ${service.name} are not valid JSON: ${(error as Error).message}`);
  }
}

const BOOTSTRAP_DIR = "/consul/envoy";
const BOOTSTRAP_FILE = `${BOOTSTRAP_DIR}/bootstrap.json`;

/**
 * The user Envoy runs as. Set on the container itself (bypassing the image entrypoint, which
 * would usermod/chown on a read-only root filesystem), so it always matches the owner the
 * bootstrap container gives the bootstrap file.
 */
const ENVOY_UID = 101;

/** ECS secrets sorted by name, each delivered by reference (valueFrom), never by value. */
function ecsSecrets(refs: Readonly<Record<string, string>>): { name: string; valueFrom: string }[] {
  return Object.keys(refs)
    .sort()
    .map((name) => ({ name, valueFrom: refs[name]! }));
}

/** ECS environment lists sorted by name: the AWS provider sorts them too, so the plan shows no diff. */
function sortedEnvironment(env: Readonly<Record<string, string>>): { name: string; value: string }[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name]! }));
}
