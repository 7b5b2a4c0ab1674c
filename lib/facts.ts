// Fixed facts of the mesh that several stages share: ports, file paths, users and labels.
// Each is written here once; the plan hands them to constructs and templates, and the
// validation rules read them from here. AWS limits live in aws-limits.ts, versions in versions.ts.

/** Consul agent ports (Consul docs, "Required ports"). */
export const CONSUL_PORTS = {
  serverRpc: 8300,
  serfLan: 8301,
  serfWan: 8302,
  http: 8500,
  https: 8501,
  grpc: 8502,
  grpcTls: 8503,
  dns: 8600,
} as const;

/**
 * Envoy sidecar ports: Consul assigns sidecar public listeners from 21000-21255. The agent sidecar's
 * admin API moves to a Unix socket (TASK_PATHS.envoyAdminSocket); `consul connect envoy` still
 * takes 19000 as its -admin-bind, and consul-dataplane keeps its admin there. The ready listener
 * serves only GET /ready, on loopback.
 */
export const ENVOY_PORTS = {
  publicListener: 21000,
  admin: 19000,
  ready: 19100,
  /** The stats-only listener (GET /stats/prometheus) when the spec turns metrics on. */
  stats: 19101,
} as const;

/**
 * consul-dataplane's ports in a dataplane task: the public listener (mTLS; the agent sidecar's
 * port, so a service keeps its security group rule when it changes architecture), Envoy's
 * readiness listener and the dataplane's lifecycle server (both on 127.0.0.1; consul-ecs and
 * consul-dataplane defaults).
 */
export const DATAPLANE_PORTS = {
  publicListener: ENVOY_PORTS.publicListener,
  readiness: 22000,
  lifecycle: 20300,
  /**
   * With metrics: consul-dataplane's merged Prometheus server (its own, Envoy's and no service's
   * metrics on GET /stats/prometheus; -telemetry-prom-merge-port) and the server of its own metrics
   * it merges from (20101, fixed in consul-dataplane 2.0.1 pkg/consuldp/metrics.go). Both bind every
   * interface ([::]); the task's security group opens neither.
   */
  mergedMetrics: 20100,
  dataplaneMetrics: 20101,
} as const;

/**
 * The metrics and traces collector's ports in a mesh task: its OTLP/gRPC receiver on 127.0.0.1
 * (spec observability.traces), where the task's proxy sends its spans; 4317 is OTLP/gRPC's
 * registered port (IANA) and the collector's own default.
 */
export const COLLECTOR_PORTS = {
  otlpGrpc: 4317,
} as const;

/**
 * Linux capabilities no app container keeps: with CAP_NET_RAW it could capture the task's loopback
 * traffic, where the agent task's sidecars send the service token in plaintext headers
 * (lib/rules/trust.ts). ping is what an app loses.
 */
export const APP_DROPPED_CAPABILITIES: readonly string[] = ["NET_RAW"];

/** Ports of the TLS edge task: Envoy's TLS listener (the original's) and its ready listener on 127.0.0.1 (admin is on a socket). */
export const TLS_EDGE_PORTS = {
  listener: 443,
  ready: 9901,
} as const;

/** Dataplane tasks: where the consul-ecs volume is mounted (TASK_PATHS.consulEcsBootstrapDir, and the files in it). */
const CONSUL_ECS_BOOTSTRAP_DIR = "/consul";

/** Paths inside a mesh task: the agent's config and data, and the volume that carries the Envoy bootstrap. */
export const TASK_PATHS = {
  consulConfigDir: "/consul/config",
  consulDataDir: "/consul/data",
  caFile: "/consul/config/ca.pem",
  secretsFile: "/consul/config/secrets.hcl",
  envoyBootstrapDir: "/consul/envoy",
  envoyBootstrapFile: "/consul/envoy/bootstrap.json",
  envoyBinary: "/usr/local/bin/envoy",
  /** Agent tasks: the volume only Envoy mounts, holding its admin socket. */
  envoyAdminDir: "/envoy-admin",
  envoyAdminSocket: "/envoy-admin/admin.sock",
  /** Dataplane tasks: the volume mesh-init fills (bootstrapDir of consul-ecs). */
  consulEcsBootstrapDir: CONSUL_ECS_BOOTSTRAP_DIR,
  /** Dataplane tasks: the volume only consul-dataplane (and mesh-init, which prepares it) mounts, holding its xDS socket. */
  dataplaneXdsDir: "/consul-dataplane",
  dataplaneXdsSocket: "/consul-dataplane/xds.sock",
  /** Dataplane tasks with traces: the Envoy bootstrap fragment (the collector's cluster) mesh-init writes to the consul-ecs volume. */
  dataplaneTracesBootstrap: `${CONSUL_ECS_BOOTSTRAP_DIR}/envoy-traces.json`,
} as const;

/**
 * How dataplane tasks log in to Consul: the AWS IAM auth method's name (consul-ecs's default), and
 * the IAM tag on each task role that names its service (dots: binding rules reject "/").
 */
export const CONSUL_LOGIN = {
  authMethod: "iam-ecs-service-token",
  serviceNameTag: "consul.hashicorp.com.service-name",
} as const;

/** Paths on the Consul server instance. Non-.hcl files and subfolders of configDir are not read as config. */
export const SERVER_PATHS = {
  binDir: "/usr/local/bin",
  binary: "/usr/local/bin/consul",
  configDir: "/etc/consul.d",
  configFile: "/etc/consul.d/consul.hcl",
  secretsFile: "/etc/consul.d/secrets.hcl",
  /** On the data volume: the server's own key, made there, survives a replaced instance and never leaves it. */
  tlsDir: "/opt/consul/tls",
  caFile: "/opt/consul/tls/ca.pem",
  certFile: "/opt/consul/tls/server.pem",
  keyFile: "/opt/consul/tls/server-key.pem",
  managementTokenFile: "/etc/consul.d/management.token",
  aclSyncEnvFile: "/etc/consul.d/acl-sync.env",
  aclSyncBinary: "/usr/local/bin/consul-acl-sync",
  snapshotBinary: "/usr/local/bin/consul-snapshot",
  snapshotEnvFile: "/etc/consul.d/snapshot.env",
  taskReaperBinary: "/usr/local/bin/consul-task-reaper",
  taskReaperEnvFile: "/etc/consul.d/task-reaper.env",
  taskReaperSeenGone: "/var/lib/consul-task-reaper/seen-gone",
  dataRoot: "/opt/consul",
  dataDir: "/opt/consul/data",
  systemdDir: "/etc/systemd/system",
} as const;

/** Where the TLS edge's Envoy container writes its config, certificate and key: a task volume, not the image. */
export const TLS_EDGE_PATHS = {
  configDir: "/etc/envoy-tls",
  /** The official image's entrypoint, which drops root before starting Envoy. */
  imageEntrypoint: "/docker-entrypoint.sh",
} as const;

/**
 * The user the Envoy sidecar runs as (the envoyproxy image's `envoy` user). Set on the container
 * itself, bypassing the image entrypoint (which would usermod/chown on a read-only root
 * filesystem), so it always matches the owner the bootstrap container gives the bootstrap file.
 */
export const ENVOY_UID = 101;

/** An IAM role's unique ID (IAM identifiers: the AROA prefix, then upper-case letters and digits): what a login role parameter holds. */
export const IAM_ROLE_ID_PATTERN = "AROA[A-Z0-9]{12,124}";

/** The consul-dataplane image's user (its Dockerfile: USER 100), which creates the xDS socket. */
export const DATAPLANE_UID = 100;

/** The consul-ecs image's user and binary (its Dockerfile: USER consul-ecs, ENTRYPOINT /bin/consul-ecs). */
export const CONSUL_ECS_IMAGE = { user: "consul-ecs", binary: "/bin/consul-ecs" } as const;

/** Docker label by which a container definition documents why its root filesystem is writable. */
export const READONLY_ROOT_EXCEPTION_LABEL = "mesh.policy/readonly-root-exception";

/**
 * Lifetimes of the private CAs and server certificates (Consul's RPC TLS, made by the servers at
 * boot; the TLS edge's, by Terraform): a server certificate is issued again once fewer than
 * renewBefore days are left.
 */
export const CERTIFICATE_DAYS = { ca: 5 * 365, server: 365, renewBefore: 30 } as const;

/** Days Secrets Manager keeps a deleted secret of the mesh before it is gone. */
export const SECRET_RECOVERY_WINDOW_DAYS = 7;

/** go-sockaddr template Consul evaluates at start: the task's or host's private address. */
export const CONSUL_PRIVATE_IP = "{{ GetPrivateIP }}";

/**
 * The folders of the mesh's log groups, by cluster name: tasks and ECS Exec sessions under the
 * first, VPC flow logs under the second. The mesh's KMS key lets CloudWatch Logs use it for log
 * groups under these only.
 */
export const MESH_LOG_GROUP_DIRS = {
  ecs: (cluster: string) => `/ecs/${cluster}`,
  vpc: (cluster: string) => `/vpc/${cluster}`,
} as const;
