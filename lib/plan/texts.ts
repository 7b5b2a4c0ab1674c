// One typed constructor per template: the context type is what the template may print.
// Handlebars runs in strict mode, so a value missing at render time is an error, and every
// value goes through a quoting helper (lib/render/templates.ts).
import { templateText, type Slot, type TemplateText, type TextValue } from "./text";

type Context = { readonly [key: string]: TextValue };

export const clientAgentConfig = templateText<
  Context & {
    readonly datacenter: string;
    readonly bindAddr: string;
    readonly retryJoin: readonly (string | TemplateText)[];
    readonly grpcPort: number;
    readonly caFile: string;
    readonly dataDir: string;
  }
>("consul/client-agent.hcl.hbs");

export type ConsulCheckContext = {
  readonly id: string;
  readonly name: string;
  readonly http: string | null;
  readonly tcp: string | null;
  readonly interval: string;
  readonly timeout: string;
};

export const serviceRegistration = templateText<
  Context & {
    readonly name: string;
    /** The version this instance runs (service meta version, which the service-resolver's subsets filter on); null: no versions. */
    readonly version: string | null;
    readonly port: number | null;
    readonly check: ConsulCheckContext | null;
    readonly sidecarPort: number;
    readonly upstreams: readonly {
      readonly destination: string;
      readonly localBindPort: number;
      readonly passiveHealthCheck: { readonly [key: string]: string | number } | null;
    }[];
  }
>("consul/service.hcl.hbs");

export const serverConfig = templateText<
  Context & {
    /** node_name; null: the hostname (fixed servers keep theirs with their address). */
    readonly nodeName: string | null;
    readonly datacenter: string;
    readonly bootstrapExpect: number;
    /** Other servers to join: their addresses, or a cloud auto-join string; null for a single server. */
    readonly retryJoin: readonly (string | Slot | TemplateText)[] | null;
    readonly bindAddr: string;
    readonly httpsPort: number;
    /** gRPC with TLS, for dataplane tasks. */
    readonly grpcTlsPort: number;
    readonly dataDir: string;
    readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string };
    /** auto_encrypt.allow_tls: the servers sign client agents' certificates (only when there are agents). */
    readonly autoEncrypt: boolean;
  }
>("consul/server.hcl.hbs");

export const consulUnit = templateText<Context & { readonly binary: string; readonly configDir: string; readonly configFile: string }>("consul/consul.service.hbs");

/** The dataplane tasks' IAM login as the servers create it: auth method, binding rule, synthetic node. */
export type LoginTargetContext = {
  readonly authMethod: string;
  /** BoundIAMPrincipalARNs: the task roles' path under the account. */
  readonly boundRoles: Slot;
  /** Kept in the method's IAMEntityTags so that, during a server roll, an old leader's tag-based rule still resolves. */
  readonly serviceNameTag: string;
  /** The SSM path with one parameter per dataplane service naming its task role's unique ID: one binding rule each. */
  readonly rolePath: string;
  readonly roleId: ScriptPattern;
  readonly clusterArn: Slot;
  /** ServerIDHeaderValue: a signed login names the servers it is for, so it cannot be replayed elsewhere. */
  readonly serverIdHeaderValue: string;
};

/** A pattern as the scripts match it: bash [[ =~ ]] (ERE, ^$) and jq test() (\\A \\z: ^ and $ would match at a newline). */
export type ScriptPattern = { readonly bash: string; readonly jq: string };

/** How a server's scripts call its own HTTPS API: the port, the CA that signed it, the file holding the management token. */
type ManagementApi = { readonly httpsPort: number; readonly caFile: string; readonly managementTokenFile: string };

export const aclSyncScript = templateText<Context & ManagementApi & { readonly login: LoginTargetContext | null; readonly serviceName: ScriptPattern }>(
  "consul/consul-acl-sync.sh.hbs",
);

export const aclSyncTimer = templateText<Context>("consul/consul-acl-sync.timer.hbs");

export const snapshotScript = templateText<Context & ManagementApi & { readonly binary: string }>("consul/consul-snapshot.sh.hbs");

/** The systemd unit that runs one of the server's scripts once, with its environment file, after Consul (its timer starts it). */
export const scriptUnit = templateText<Context & { readonly description: string; readonly envFile: string; readonly binary: string }>("consul/script.service.hbs");

export const snapshotTimer = templateText<Context & { readonly intervalMinutes: number }>("consul/consul-snapshot.timer.hbs");

export const taskReaperScript = templateText<
  Context &
    ManagementApi & {
      readonly authMethod: string;
      /** The mesh's own cluster: the only synthetic node, and the only login meta, it reconciles. */
      readonly clusterArn: Slot;
      /** How old a login token that names no task of the cluster must be before it is removed. */
      readonly graceSeconds: number;
      /** Between the cluster's name and the service's in an ECS service's name (a task's group is service:<name>). */
      readonly serviceNameSeparator: string;
      /** The ECS service tag that names the Consul service of a version's own ECS service (its tasks inherit it). */
      readonly serviceNameTag: string;
      readonly serviceName: ScriptPattern;
      /** The tasks ECS reported gone in the previous run (a task is gone when two runs in a row say so). */
      readonly seenGoneFile: string;
    }
>("consul/consul-task-reaper.sh.hbs");

export const taskReaperTimer = templateText<Context>("consul/consul-task-reaper.timer.hbs");

/** Cloud auto-join by the servers' EC2 tag (go-discover; the region is explicit, tasks have no IMDS). */
export const cloudAutoJoin = templateText<Context & { readonly region: string; readonly tagKey: string; readonly tagValue: string }>("consul/cloud-auto-join.txt.hbs", {
  trim: true,
});

/** Secrets Manager ARNs the server reads at boot (ARNs, never values). */
export type ServerSecretSlots = Readonly<Record<"gossipKey" | "caCert" | "rpcCaKey" | "managementToken" | "agentToken", Slot>>;

/**
 * The context of templates/user-data/settle-secret.partial.hbs (`{{> settle-secret settle}}`), which
 * defines the bash function `settle_secret WHAT ARN TOKEN MAKE VALID OUT`: the race-safe first write
 * of a secret that an instance or task makes itself. It reads the secret's current value; when
 * there is none, MAKE writes a new value into a file and PutSecretValue stores it under the fixed
 * ClientRequestToken TOKEN (a rival's earlier put under the same token makes this one's fail with
 * ResourceExistsException, and this one then reads that version by its ID). VALID then checks the
 * value; OUT (a file in a private folder the caller removes) holds it. The including script
 * defines `log` and `fail` (one `FAILED:` line, exit 1) and runs bash with `aws` and `jq`.
 */
export type SettleSecretContext = {
  /** How often a Secrets Manager call that fails for another reason than the expected answers is tried, 2 s doubling to 60 s apart. */
  readonly attempts: number;
};

/** The Consul RPC CA and a server's certificate, which the server makes (the CA only if no server made it yet). */
export type RpcTlsContext = {
  /** PutSecretValue's ClientRequestToken of the CA's generation (rpcCaToken). */
  readonly caToken: string;
  /** openssl -subj of the CA certificate. */
  readonly caSubject: string;
  readonly caDays: number;
  readonly serverDays: number;
  /** A server certificate with fewer days left is issued again at boot. */
  readonly renewBeforeDays: number;
  /** openssl -subj of the server certificate. */
  readonly serverSubject: string;
  /** subjectAltName of the server certificate (openssl's "DNS:...,IP:..."). */
  readonly subjectAltNames: string;
};

export const consulServerUserData = templateText<
  Context & {
    readonly version: string;
    readonly sha256: string;
    readonly region: string;
    readonly release: { readonly url: string; readonly s3Uri: null } | { readonly url: null; readonly s3Uri: string };
    readonly secrets: ServerSecretSlots;
    readonly settle: SettleSecretContext;
    readonly rpcTls: RpcTlsContext;
    /** Name of the SSM parameter listing the service token secrets. */
    readonly serviceTokenPath: string;
    /** What every service token secret's name starts with (the service's name follows). */
    readonly serviceTokenSecretPrefix: string;
    /** The server's own data volume; attachHere: the instance attaches it (an Auto Scaling group's instance). */
    readonly dataVolume: { readonly id: Slot; readonly attachHere: boolean };
    readonly snapshots: {
      readonly bucket: Slot;
      readonly prefix: string;
      readonly kmsKey: Slot;
      readonly script: TemplateText;
      readonly unit: TemplateText;
      readonly timer: TemplateText;
    } | null;
    /** Consul's node name of this server slot (Auto Scaling servers); null: the hostname. */
    readonly nodeName: string | null;
    /** The launch lifecycle hook this instance completes once the cluster is healthy with it. */
    readonly lifecycleHook: { readonly name: string; readonly groupName: Slot } | null;
    readonly httpsPort: number;
    readonly paths: { readonly [key: string]: string };
    readonly serverConfig: TemplateText;
    /** What an Auto Scaling server waits for before it reports in service, when the mesh has dataplane tasks. */
    readonly loginTarget: LoginTargetContext | null;
    readonly systemdUnit: TemplateText;
    readonly aclSyncScript: TemplateText;
    readonly aclSyncUnit: TemplateText;
    readonly aclSyncTimer: TemplateText;
    readonly taskReaperScript: TemplateText;
    readonly taskReaperUnit: TemplateText;
    readonly taskReaperTimer: TemplateText;
  }
>("user-data/consul-server.sh.hbs");

export const ecsHostUserData = templateText<
  Context & {
    readonly clusterName: Slot;
    /** ECS agent settings, written to ecs.config one per line. */
    readonly agentConfig: { readonly [key: string]: string };
    readonly instanceAttributes: { readonly [key: string]: string };
  }
>("user-data/ecs-host.sh.hbs");

export const meshInitScript = templateText<
  Context & {
    readonly dataplaneUid: number;
    readonly consulEcsUser: string;
    readonly consulEcsBinary: string;
    /** With traces: the Envoy bootstrap fragment (JSON) consul-dataplane's Envoy merges (--config-path), and where it goes. */
    readonly tracesBootstrap: { readonly path: string; readonly json: string } | null;
  }
>("ecs/mesh-init.sh.hbs");

export const consulAgentScript = templateText<Context & { readonly caFile: string; readonly secretsFile: string }>("ecs/consul-agent.sh.hbs");

export const envoyBootstrapScript = templateText<Context & { readonly attempts: number; readonly intervalSeconds: number; readonly waitSeconds: number }>(
  "ecs/envoy-bootstrap.sh.hbs",
);

export const envoyReadyCheck = templateText<Context & { readonly port: number }>("ecs/envoy-ready.sh.hbs");

/** Envoy's admin on a Unix socket and the ready listener that exposes only GET /ready (templates/envoy/envoy-*.partial.hbs). */
export type EnvoyAdminContext = {
  readonly admin: { readonly socket: string; readonly mode: number };
  readonly ready: { readonly listener: string; readonly port: number; readonly adminCluster: string };
};

/** What Envoy merges over the bootstrap `consul connect envoy` writes (agent tasks). */
/** With traces: the static cluster to the task's collector (tracesCluster), as one JSON line of the overlay. */
export type EnvoyTracesContext = { readonly tracesCluster: string | null };

export const sidecarEnvoyOverlay = templateText<Context & EnvoyAdminContext & EnvoyStatsContext & EnvoyTracesContext>("envoy/sidecar-overlay.yaml.hbs", { trim: true });

export const tlsEdgeAppHealthCheck = templateText<Context & { readonly url: string }>("ecs/tls-edge-app-health.py.hbs", { trim: true });

export const tlsEdgeEnvoyConfig = templateText<
  Context & {
    readonly listener: { readonly name: string; readonly address: string; readonly port: number; readonly httpStatPrefix: string };
    readonly tls: { readonly minimumVersion: string; readonly certificateFile: string; readonly privateKeyFile: string };
    readonly cluster: { readonly name: string; readonly address: string; readonly port: number };
    /** The access log's json_format (spec observability.accessLogs), or null: Envoy's default text line. */
    readonly accessLogFormat: Readonly<Record<string, string>> | null;
    /** The HTTP connection manager's tracer and the cluster it sends spans over (spec observability.traces), or null: no tracing. */
    readonly tracing: { readonly tracing: object; readonly cluster: object } | null;
  } & EnvoyAdminContext &
    EnvoyStatsContext
>("envoy/tls-edge.yaml.hbs");

export const tlsEdgeEnvoyStartScript = templateText<
  Context & {
    readonly envoyConfig: TemplateText;
    readonly files: { readonly config: string; readonly certificate: string; readonly privateKey: string };
    readonly envoyUser: string;
    readonly entrypoint: string;
    readonly configDir: string;
  }
>("ecs/tls-edge-envoy-start.sh.hbs");

/** The tls-edge init container: this task's key, and its certificate signed with the edge CA (lib/plan/tls-edge.ts). */
export const tlsEdgeCertInitScript = templateText<
  Context & {
    readonly files: { readonly certificate: string; readonly privateKey: string };
    /** A folder of the init container's own in the volume, removed before it exits. */
    readonly workDir: string;
    readonly subject: string;
    readonly subjectAltName: string;
    readonly serverDays: number;
    readonly serverSeconds: number;
    readonly envoyUser: string;
    readonly configDir: string;
  }
>("ecs/tls-edge-cert-init.sh.hbs");

/** The consul-ecs configuration of a dataplane task (CONSUL_ECS_CONFIG_JSON), checked by tools/judges/consul-ecs-config.ts. */
export const consulEcsConfig = templateText<
  Context & {
    readonly bootstrapDir: string;
    readonly servers: { readonly hosts: TemplateText; readonly tlsServerName: string; readonly grpcPort: number; readonly httpsPort: number };
    readonly login: { readonly method: string; readonly datacenter: string; readonly serverIdHeaderValue: string };
    /** meta: the version this instance runs (the service-resolver's subsets filter on it); none without versions. */
    readonly service: { readonly name: string; readonly port: number; readonly meta?: { readonly version: string } };
    readonly proxy: {
      readonly publicListenerPort: number;
      readonly healthCheckPort: number;
      readonly upstreams: readonly { readonly destinationName: string; readonly localBindPort: number; readonly config: { readonly [key: string]: TextValue } }[];
      /** The proxy registration's Config (observability.metrics: dataplaneProxyConfig); omitted when empty. */
      readonly config?: { readonly [key: string]: string };
    };
    readonly healthSyncContainers: readonly string[];
  }
>("ecs/consul-ecs-config.json.hbs", { json: true });

/** consul-dataplane's server discovery: go-discover by the servers' EC2 tag (the region is explicit, tasks have no IMDS). */
export const dataplaneServerDiscovery = templateText<Context & { readonly region: string; readonly tagKey: string; readonly tagValue: string }>("ecs/consul-ecs-discover.txt.hbs", {
  trim: true,
});

/** The collector's configuration (AWS Distro for OpenTelemetry): a pipeline per signal, each present or null; judged by tools/judges/otel-collector.ts. */
export const collectorConfig = templateText<
  Context & {
    readonly metrics: {
      readonly scrape: { readonly interval: string; readonly target: string; readonly path: string; readonly labels: { readonly [key: string]: string } };
      readonly metricNames: readonly string[];
      readonly batchTimeout: string;
      readonly emf: {
        readonly region: string;
        readonly namespace: string;
        readonly logGroup: Slot;
        readonly logStream: string;
        readonly declarations: readonly {
          readonly selector: string;
          readonly dimensions: readonly string[];
          readonly labelMatcher: { readonly label: string; readonly regex: string } | null;
        }[];
      };
      /** Remote write to Amazon Managed Service for Prometheus (spec observability.metrics.prometheus); null: none. */
      readonly prometheus: { readonly endpoint: string | Slot; readonly region: string } | null;
    } | null;
    readonly traces: { readonly endpoint: string; readonly service: string; readonly region: string; readonly batchTimeout: string } | null;
  }
>("otel/collector.json.hbs", { json: true });

/** Envoy's stats-only listener on loopback: GET /stats/prometheus proxied to the admin socket (templates/envoy/envoy-stats-listener.partial.hbs). */
export type EnvoyStatsContext = {
  readonly stats: { readonly listener: string; readonly port: number; readonly path: string; readonly flushInterval: string } | null;
};
