// The resolved plan: everything the stacks, constructs, templates, validation rules and review
// tools need, decided once from a schema-checked spec (lib/plan/build.ts). Readers take values
// from here and decide nothing again.
import type { Architecture, CpuArchitecture } from "../aws-limits";
import type { CONSUL_LOGIN } from "../facts";
import type { MeshNames, TlsEdgeNames } from "./names";
import type { HttpMethod, IntentionSpec, MeshSpec, ObservabilitySpec, RouteSpec, ServiceProtocol, ServiceSpec } from "../spec/schema";
import type { TlsEdgeSpec } from "../spec/tls-edge-schema";
import type { Versions } from "../versions";
import type { Slot, TemplateText } from "./text";

/** A container argument: literal, or text rendered from a template (a script, a config file). */
export type Arg = string | TemplateText;

export interface NameValue {
  readonly name: string;
  /** Literal, a slot, or text rendered from a template (a configuration passed in the environment). */
  readonly value: string | Slot | TemplateText;
}

/** An ECS secret: delivered by reference, never by value. */
export interface SecretBinding {
  readonly name: string;
  /** A Secrets Manager / SSM ARN from the spec, or a slot for a secret the stack creates. */
  readonly valueFrom: string | Slot;
}

/** An AWS API by the name of its VPC endpoint service (com.amazonaws.<region>.<name>); "s3" has the gateway endpoint. */
export type AwsApi =
  | "aps-workspaces"
  | "autoscaling"
  | "ec2"
  | "ecr.api"
  | "ecr.dkr"
  | "ecs"
  | "ecs-agent"
  | "ecs-telemetry"
  | "kms"
  | "logs"
  | "s3"
  | "secretsmanager"
  | "ssm"
  | "ssmmessages"
  | "xray";

/**
 * What a program calls on an AWS API: the network-path rule finds it a route, the plan creates a
 * VPC endpoint for it (egress vpc-endpoints), and for a container the task role grants the actions
 * (which the IAM judge checks against what the synthesized definition runs).
 */
export interface AwsApiCall {
  readonly api: AwsApi;
  /** IAM actions it makes, on resources that allow no narrower grant (Resource "*"). @default none (its role's grants are another construct's) */
  readonly actions?: readonly string[];
  /** What for: the network-path rule prints "<api> (<why>)". */
  readonly why: string;
  /** Where the call is documented (the IAM judge cites it). @default none */
  readonly source?: string;
}

export type DependencyCondition = "START" | "COMPLETE" | "SUCCESS" | "HEALTHY";

/**
 * Something outside the task a container or its health check depends on. "control-plane": the
 * Consul servers answer (booted, a leader elected) and this task's ACL token exists (created by
 * the servers' sync timer). The boot-order rule (lib/rules/boot-order.ts) reads it.
 */
export type ExternalNeed = "control-plane";

export interface ContainerHealthCheck {
  readonly command: readonly Arg[];
  readonly interval: number;
  readonly timeout: number;
  readonly retries: number;
  readonly startPeriod: number;
  /** What the probe needs to pass besides the container itself; none: a liveness probe. */
  readonly needs?: readonly ExternalNeed[];
}

/** A container needs something outside its task before it can do its work, and retries for it this long. */
export interface ContainerNeed {
  readonly need: ExternalNeed;
  /** How long it retries before it fails with a message (a bounded wait); 0: it fails at once; Infinity: it never gives up. */
  readonly retrySeconds: number;
  /**
   * It signs its login once, when it starts, and retries that same signed request: after this
   * many seconds AWS rejects it, so a retry past them can never succeed. @default none (nothing signed once)
   */
  readonly signedOnceValidSeconds?: number;
}

/**
 * One container of a task, as typed data in start order. The render stage turns the list into
 * ECS container definitions (templates/ecs/container-definitions.json.hbs); the rules read it
 * (memory, start order, essential flags) without rendering.
 */
export interface ContainerPlan {
  readonly name: string;
  /** A pinned image, or a slot for one the stack resolves (a pull-through cache URL, an ECR repository). */
  readonly image: string | Slot;
  readonly essential: boolean;
  /** Secrets Manager secret with registry credentials (ECS repositoryCredentials). */
  readonly repositoryCredentials?: string;
  readonly entryPoint?: readonly Arg[];
  readonly command?: readonly Arg[];
  readonly user?: string;
  /** Hard limit (MiB); the task is killed when the container exceeds it. */
  readonly memory?: number;
  /** Soft limit (MiB) the scheduler reserves. */
  readonly memoryReservation?: number;
  readonly environment?: readonly NameValue[];
  readonly secrets?: readonly SecretBinding[];
  /**
   * Ports it publishes (ECS portMappings). With the TCP ports of `serves`, every port it binds in
   * the task's network namespace: the ports rule (lib/rules/ports.ts) keeps the app off them.
   */
  readonly portMappings?: readonly {
    readonly containerPort: number;
    readonly protocol: "tcp" | "udp";
    /** What listens on it, for messages. @default the container's name */
    readonly listener?: string;
  }[];
  readonly mountPoints?: readonly { readonly sourceVolume: string; readonly containerPath: string; readonly readOnly: boolean }[];
  readonly systemControls?: readonly { readonly namespace: string; readonly value: string }[];
  /** Start order: this container starts once each listed one reached its condition (ECS stops in reverse). */
  readonly dependsOn?: readonly { readonly containerName: string; readonly condition: DependencyCondition }[];
  readonly healthCheck?: ContainerHealthCheck;
  /** Seconds ECS waits after SIGTERM before SIGKILL (ECS allows up to 120 on Fargate). */
  readonly stopTimeout?: number;
  /**
   * Seconds the containers that depend on this one wait for its condition before they give up,
   * which stops the task when one of them is essential (ECS allows up to 120 on Fargate).
   * @default none (they wait forever)
   */
  readonly startTimeout?: number;
  readonly ulimits?: readonly { readonly name: string; readonly softLimit: number; readonly hardLimit: number }[];
  /** An init process (PID 1 that reaps and forwards signals). */
  readonly initProcessEnabled?: boolean;
  /**
   * Linux capabilities removed from the container's default set (ECS linuxParameters.capabilities.drop).
   * @default none
   */
  readonly dropCapabilities?: readonly string[];
  /** What it needs from outside the task at start (lib/rules/boot-order.ts). */
  readonly needs?: readonly ContainerNeed[];
  /**
   * Containers of the task that must run for as long as this one does (the proxy its calls go
   * through): it must depend on each, directly or transitively, so ECS stops it first
   * (lib/rules/lifecycle.ts).
   */
  readonly needsRunning?: readonly string[];
  /**
   * Why the root filesystem is writable (a Docker label scanners read); the only way to make it so.
   * @default none (read-only)
   */
  readonly writableRootReason?: string;
  /** The user's code, which the trust model assumes compromised: it must reach no credential and no admin endpoint (lib/rules/trust.ts). */
  readonly untrusted?: true;
  /**
   * Why the trust model holds this container to the app's rule (no credential, no admin endpoint)
   * though it runs no user code (a collector that parses what the network sends). @default none
   */
  readonly confined?: string;
  /** Endpoints it serves to the other containers of its task, which share its network namespace (lib/rules/trust.ts, lib/rules/ports.ts). */
  readonly serves?: readonly TaskEndpoint[];
  /** Files it writes into task volumes that hold a credential (lib/rules/trust.ts). */
  readonly stores?: readonly StoredCredential[];
  /** AWS APIs its own process calls, with the task role, from the task's network interface. @default none */
  readonly calls?: readonly AwsApiCall[];
}

/**
 * What the trust model tracks (lib/rules/trust.ts): a Consul token with the service's identity,
 * a signed IAM login Consul exchanges for one, the service's mTLS leaf key, the mesh-wide agent
 * token and gossip key, the TLS edge's server key and its CA's key, and the task role's writes of
 * the mesh's metrics and spans (a collector's grants).
 */
export type Credential = "service-token" | "signed-login" | "leaf-key" | "agent-token" | "gossip-key" | "edge-tls-key" | "edge-ca-key" | "telemetry-write";

/** Why the architecture cannot avoid a reach, with the source that shows it; the README's security section lists each. */
export type Boundary = string;

/** An endpoint a container serves inside its task: on a loopback port (every container reaches it) or a Unix socket in a volume. */
export interface TaskEndpoint {
  readonly name: string;
  readonly on: { readonly tcp: number | "any" } | { readonly socket: string; readonly volume: string };
  /** Credentials a caller can read from it. */
  readonly reveals: readonly Credential[];
  /** It also shows what its own process loaded: every credential the serving container holds (Envoy's config_dump). */
  readonly revealsOwnConfig?: true;
  /** A caller can reconfigure or stop the serving process (an admin API). */
  readonly controls: boolean;
  /**
   * Credentials its clients send it in the clear over loopback (a plaintext HTTP or gRPC header): a
   * container that may capture the task's loopback traffic (CAP_NET_RAW) reads them.
   */
  readonly carries?: readonly Credential[];
  readonly boundary?: Boundary;
}

/** A file in a task volume that holds credentials: every container that mounts the volume reaches them. */
export interface StoredCredential {
  readonly volume: string;
  readonly path: string;
  readonly holds: readonly Credential[];
  readonly boundary?: Boundary;
}

/** A credential every container of the task can obtain through the task role (ECS serves its credentials to all of them). */
export interface RoleCredential {
  readonly credential: Credential;
  readonly how: string;
  /** The task role's IAM actions that yield it. @default none named */
  readonly actions?: readonly string[];
  readonly boundary?: Boundary;
}

/** awslogs settings shared by the containers of one task. */
export interface TaskLogging {
  readonly group: Slot;
  readonly region: string;
  readonly streamPrefix: string;
}

/** A task definition's containers and volumes. */
export interface TaskPlan {
  readonly containers: readonly ContainerPlan[];
  /** Ports other tasks reach this task on (its proxy's public listener). */
  readonly inboundPorts: readonly number[];
  /** Task-scoped volumes (no host paths: the same task runs on EC2 and Fargate). */
  readonly volumes: readonly string[];
  readonly logging: TaskLogging;
  /** Credentials the task role yields to any container of the task. @default none */
  readonly roleCredentials?: readonly RoleCredential[];
}

/** A declared upstream as the spec gives it, its passive health check's defaults applied. */
export type UpstreamPlan = ServiceSpec["upstreams"][number];

export type TaskArchitecture = "agent" | "dataplane";

/**
 * What Terraform creates before a mesh service's ECS service starts tasks (its depends_on; the
 * mesh stack maps each to resources): the Consul servers (instances or Auto Scaling groups; they
 * write the RPC CA's certificate), the values Terraform writes of the mesh secrets the task reads,
 * the parameter the servers sync its service token from, and the capacity provider's association
 * with the cluster (services on the EC2 hosts' group); for the TLS edge, the CA version its tasks
 * pin, which scripts/tls-edge-ca.sh writes (the ECS service's precondition refuses tasks until it exists).
 */
export type StartPrerequisite = "consul-servers" | "mesh-secrets" | "service-token" | "capacity-provider" | "edge-ca";

/** A service as the plan resolved it: the spec's fields with their defaults, and what the plan decides from them. */
export interface ServicePlan extends Readonly<Omit<ServiceSpec, "architecture" | "cpuArchitecture" | "shutdownDelaySeconds" | "versions" | "split" | "routes">> {
  readonly name: string;
  /** Where the service is in the spec, for messages: services.<name>. */
  readonly path: string;
  /** The tasks' CPU architecture: the spec's, else X86_64 on Fargate and the hosts' on EC2. */
  readonly cpuArchitecture: CpuArchitecture;
  /** A Consul client agent and Envoy in the task, or consul-ecs and consul-dataplane (no agent). */
  readonly architecture: TaskArchitecture;
  /** Dataplane tasks: seconds the app keeps serving after a stop begins, while Consul sends callers elsewhere. */
  readonly shutdownDelaySeconds: number;
  /** ECS rolling deployment bounds, decided from the count and what runs the tasks. */
  readonly deployment: { readonly minimumHealthyPercent: number; readonly maximumPercent: number };
  /**
   * ECS's deployment circuit breaker, with rollback (lib/constructs/mesh-service.ts). Off only where a first
   * deployment's tasks would fail to start until something Terraform does not wait for exists: the RPC CA
   * certificate a fixed server writes at boot (lib/plan/build.ts circuitBreakerFor, checked by lib/rules/boot-order.ts).
   */
  readonly circuitBreaker: boolean;
  /** What runs the tasks: Fargate, the fixed EC2 hosts, or the hosts' capacity provider. */
  readonly capacity: "FARGATE" | "EC2" | "capacity-provider";
  /** Subnets of the tasks: the private ones, or the public ones for a Fargate task with a public IP. */
  readonly subnets: "private" | "public";
  /** What Terraform creates before the ECS service, in depends_on order (lib/rules/boot-order.ts reads it). */
  readonly startsAfter: readonly StartPrerequisite[];
  readonly task: TaskPlan;
  /** The version this plan runs, for one version of a service with versions (its Consul service meta `version`). @default none */
  readonly version?: string;
  /**
   * A service with versions (and each of its versions' plans): the version that gets the requests no
   * route or split sends elsewhere (the service-resolver's DefaultSubset), the first by name. It keeps
   * the service's own ECS service, task family and log group, so versions added to a running service
   * roll it in place and add the others beside it. @default none (no versions)
   */
  readonly defaultVersion?: string;
  /**
   * A service with versions: one plan per version by name, each its own ECS service and task
   * definition under this Consul name (then this plan's count is theirs added up, and no ECS
   * service runs this plan itself). Empty: this plan is the service's one ECS service.
   */
  readonly versions: readonly ServicePlan[];
  /** Percent of the requests each version gets (the spec's split), by version. @default none (the default version gets all) */
  readonly split?: Readonly<Record<string, number>>;
  /** The spec's routes, in order (its service-router, before the split). */
  readonly routes: readonly RouteSpec[];
}

/** A zone of the spec's network, with its index and NAT gateway. */
export interface ZonePlan extends Readonly<MeshSpec["network"]["zones"][number]> {
  readonly index: number;
  /** This zone's private subnet sends internet traffic to the NAT gateway of this zone (none: no NAT). */
  readonly natZone?: number;
}

/** The spec's network (its egress and publicInstances: the original demo's exposure), its zones and VPC endpoints. */
export interface NetworkPlan extends Readonly<Omit<MeshSpec["network"], "zones">> {
  readonly zones: readonly ZonePlan[];
  /** Interface VPC endpoints (service names such as "ecr.api"): every API the mesh calls (lib/plan/aws-apis.ts), sorted; the S3 gateway endpoint always exists. */
  readonly interfaceEndpoints: readonly string[];
}

export interface ServerNodePlan {
  readonly index: number;
  /** The zone it runs in (and its data volume lives in). */
  readonly zone: number;
  /** A fixed address (an EC2 instance), or none (an Auto Scaling group of one, found by tag). */
  readonly privateIp?: string;
  /** The server's consul.hcl (the user data writes it). */
  readonly config: TemplateText;
  /** The whole user data: install Consul, mount its data volume, read secrets (slots), start it. */
  readonly userData: TemplateText;
}

export interface ServerPlan {
  readonly instanceType: string;
  readonly architecture: Architecture;
  /** bootstrap_expect: the number of voters. */
  readonly count: number;
  /** The spec's consul.servers, which the rules compare with the fixed addresses. */
  readonly declaredCount: number;
  readonly nodes: readonly ServerNodePlan[];
  /** "fixed": EC2 instances at the spec's addresses; "auto-scaling": an Auto Scaling group per server. */
  readonly placement: "fixed" | "auto-scaling";
  readonly dataVolumeGiB: number;
  /** How agents and tasks find the servers: their addresses, or cloud auto-join on the servers' EC2 tag. */
  readonly join: { readonly addresses: readonly string[] } | { readonly tagKey: string };
  readonly snapshots?: { readonly intervalMinutes: number; readonly retentionDays: number };
  /** Where servers download the Consul release: releases.hashicorp.com, or an S3 object of the user's. */
  readonly release: { readonly url: string } | { readonly s3Uri: string };
  /**
   * The mesh has agent tasks: the servers sync their service tokens from Secrets Manager, sign
   * their certificates (auto_encrypt) and take their RPC and gossip.
   */
  readonly agents: boolean;
  /**
   * The IAM login of dataplane tasks, which the leader's consul-acl-sync creates (auth method,
   * binding rule, synthetic node) and every Auto Scaling server waits for before it reports in
   * service. @default none (the mesh has no dataplane task)
   */
  readonly login?: DataplaneControlPlan;
  /** What the servers' scripts and Consul call on AWS APIs besides S3. */
  readonly calls: readonly AwsApiCall[];
}

export interface HostsPlan {
  readonly instanceType: string;
  readonly architecture: Architecture;
  /** Fixed hosts at these addresses, or an Auto Scaling group behind a capacity provider. */
  readonly placement:
    | { readonly kind: "fixed"; readonly privateIps: readonly string[] }
    | { readonly kind: "auto-scaling"; readonly minSize: number; readonly maxSize: number; readonly targetCapacityPercent: number };
  /** Hosts the ENI budget counts: the fixed hosts, or the group's maximum size. */
  readonly maxHosts: number;
  /** awsvpc tasks per host (ENIs - 1), undefined for instance types missing from the ENI table. */
  readonly tasksPerHost: number | undefined;
  readonly userData: TemplateText;
  /** What the ECS agent and the SSM agent on every host call. */
  readonly calls: readonly AwsApiCall[];
}

/** An image a task runs, and how tasks reach it. */
export interface ImagePlan {
  /** The image as published, e.g. public.ecr.aws/hashicorp/consul:1.22.7. */
  readonly upstream: string;
  /** Through an ECR pull-through cache rule (which one), or straight from the upstream registry. */
  readonly via: { readonly cache: "ecr-public" | "docker-hub"; readonly repository: string; readonly tag: string } | "direct";
}

export type IntentionAction = "allow" | "deny";

export interface IntentionSource {
  readonly name: string;
  readonly action: IntentionAction;
  /** Where it comes from: a declared upstream, the spec's intentions list, or the default deny. */
  readonly origin: "upstream" | "spec" | "default";
  /** Why this source is here: the spec line or the upstream it comes from. */
  readonly reason: string;
  /**
   * L7: Consul's permissions in order, which decide instead of `action`; `action` then says what
   * the source may do at best (allow when any permission allows). @default none (L4: action decides)
   */
  readonly permissions?: readonly ConsulIntentionPermission[];
}

export interface MeshPlan {
  /** The ECS cluster's name and the prefix of every resource name. */
  readonly name: string;
  /** The name of every resource of the mesh stack, with its kind (checked against AWS limits). */
  readonly names: MeshNames;
  readonly region: string;
  readonly logRetentionDays: number;
  readonly network: NetworkPlan;
  readonly datacenter: string;
  /** The versions of every component, one row of HashiCorp's compatibility tables (the rules check it). */
  readonly versions: Versions;
  /** The control plane of dataplane tasks, when any service runs one: IAM login, gRPC over TLS. */
  readonly dataplane?: DataplaneControlPlan;
  /** The mesh's images by key (consul, envoy), each with its source; containers name them by slot image:<key>. */
  readonly images: ReadonlyMap<string, ImagePlan>;
  /** The Docker Hub credentials of the Docker Hub pull-through cache rule, when the images need one. @default none */
  readonly dockerHubCredentialsSecretArn?: string;
  /** Fargate agent tasks may pull Envoy from Docker Hub anonymously (the spec's explicit switch). */
  readonly allowAnonymousDockerHubPulls: boolean;
  readonly server: ServerPlan;
  readonly hosts: HostsPlan;
  /** Services sorted by name, so synthesis does not depend on the order of keys in the spec file. */
  readonly services: readonly ServicePlan[];
  /** Tasks that may need an ENI on the EC2 hosts at once outside a rollout (counts of EC2 services, an autoscaled one's maxCount). */
  readonly ec2TaskCount: number;
  /** Sources per destination service, both sorted by name; "*" holds the default deny. */
  readonly intentions: ReadonlyMap<string, readonly IntentionSource[]>;
  /** The spec's intentions as written, for rules that point at one by its index. */
  readonly declaredIntentions: readonly IntentionSpec[];
  /** The global mesh entry that normalizes request paths, when a permission tests a path (lib/plan/intentions.ts). */
  readonly meshEntry?: MeshConfigEntry;
  /** L7 traffic management: each call edge's effective policy and the config entries that implement it (lib/plan/traffic.ts). */
  readonly traffic: TrafficPlan;
  /** Golden signals (spec observability): the services and call edges the dashboard and alarms cover. @default none (metrics off) */
  readonly observability?: ObservabilityPlan;
  readonly tlsEdge?: TlsEdgePlan;
}

/** The TLS edge as the plan resolved it: the spec's fields with their defaults, its names, endpoints, Envoy and task. */
export interface TlsEdgePlan extends Readonly<Omit<TlsEdgeSpec, "vpcEndpoints" | "ecrRepositoryName" | "caGeneration">> {
  /** <serviceName>.<namespace>: the name clients call and the certificate names. */
  readonly dnsName: string;
  readonly region: string;
  readonly names: TlsEdgeNames;
  readonly cpuArchitecture: CpuArchitecture;
  /**
   * Interface VPC endpoints the stack creates for the tasks (service names such as "ecr.api"),
   * with an S3 gateway endpoint; empty: none (the network's NAT gateway or endpoints, or a public IP).
   */
  readonly interfaceEndpoints: readonly string[];
  /** The Envoy the tasks run: the spec's (versions.envoy), mirrored unchanged into envoyRepository under its own tag. */
  readonly envoyImage: { readonly source: string; readonly mirrorTag: string };
  readonly task: TaskPlan;
  /** What must exist before the ECS service runs tasks: the CA version its tasks read at start. */
  readonly startsAfter: readonly StartPrerequisite[];
  /**
   * With `network: { from: mesh }`: the SSM String parameters the mesh writes its VPC's and the
   * edge's subnets' IDs to, and what the edge checks they name (the mesh's CIDR, the Name tags).
   * @default none (an existing VPC, or a plan built without the mesh)
   */
  readonly meshNetwork?: TlsEdgeMeshNetwork;
  /** The edge's CA: its generation and the Secrets Manager version ID (ClientRequestToken) each generation is written under. */
  readonly ca: TlsEdgeCaPlan;
  /** Golden signals of its Envoy (spec observability.metrics): what its collector ships. @default none (metrics off) */
  readonly metrics?: TlsEdgeMetricsPlan;
  /** Its Envoy's tracer (spec observability.traces): the share of requests without a trace context it starts a trace for. @default none (traces off) */
  readonly traces?: { readonly samplingPercent: number };
  /** With metrics or traces: the collector image, mirrored unchanged into collectorRepository as Envoy's is. @default none */
  readonly collectorImage?: { readonly source: string; readonly mirrorTag: string };
}

/** How the TLS edge finds the mesh's network without the mesh's state. */
export interface TlsEdgeMeshNetwork {
  readonly parameters: { readonly vpcId: string; readonly subnetIds: string };
  /** The tasks' subnets: the mesh's private ones, or its public ones with assignPublicIp. */
  readonly subnets: "private" | "public";
  readonly vpcCidr: string;
  /** The mesh VPC's Name tag, and its subnets' of that kind. */
  readonly vpcName: string;
  readonly subnetNames: readonly string[];
}

/** The TLS edge CA, made outside Terraform by scripts/tls-edge-ca.sh (no key in state). */
export interface TlsEdgeCaPlan {
  readonly generation: number;
  /** The version the tasks pin (ECS valueFrom ...:version-id): the script's ClientRequestToken of this generation. */
  readonly versionId: string;
  /** The previous generation's version, whose certificate clients keep trusting during a rotation. @default none (generation 1) */
  readonly previousVersionId?: string;
  /** The CA certificate's subject common name and validity. */
  readonly commonName: string;
  readonly days: number;
  /** Validity of each task's own server certificate. */
  readonly serverDays: number;
}

/** What the servers and the Consul configuration need for dataplane tasks: the auth method and the role tag of CONSUL_LOGIN, and these. */
export type DataplaneControlPlan = typeof CONSUL_LOGIN & {
  /** IAM path of the task roles the auth method trusts (its BoundIAMPrincipalARNs). */
  readonly taskRolePath: string;
  /** The servers' gRPC port with TLS, which dataplanes and consul-ecs dial. */
  readonly grpcTlsPort: number;
};

// ---------------------------------------------------------------------------------------------
// L7 traffic management (lib/plan/traffic.ts decides these; the intentions stack applies the entries)
// ---------------------------------------------------------------------------------------------

/** Consul's mesh config entry (agent/structs/config_entry_mesh.go): the request normalization part only. */
export interface MeshConfigEntry {
  readonly Kind: "mesh";
  readonly Name: "mesh";
  readonly HTTP: {
    readonly Incoming: {
      readonly RequestNormalization: {
        readonly InsecureDisablePathNormalization: false;
        readonly MergeSlashes: true;
        readonly PathWithEscapedSlashesAction: "REJECT_REQUEST";
      };
    };
  };
}

/** Consul's IntentionPermission (api/config_entry_intentions.go), as the service-intentions entry carries it. */
export interface ConsulIntentionPermission {
  readonly Action: "allow" | "deny";
  readonly HTTP: {
    readonly PathExact?: string;
    readonly PathPrefix?: string;
    readonly PathRegex?: string;
    readonly Header?: readonly {
      readonly Name: string;
      readonly Present?: true;
      readonly Exact?: string;
      readonly Prefix?: string;
      readonly Suffix?: string;
      readonly Regex?: string;
      readonly Invert?: true;
    }[];
    readonly Methods?: readonly HttpMethod[];
  };
}

export interface ConsulUpstreamLimits {
  readonly MaxConnections?: number;
  readonly MaxPendingRequests?: number;
  readonly MaxConcurrentRequests?: number;
}

/** A service-defaults entry (api/config_entry.go ServiceConfigEntry), the fields this project sets. */
export interface ServiceDefaultsEntry {
  readonly Kind: "service-defaults";
  readonly Name: string;
  readonly Protocol: ServiceProtocol;
  readonly UpstreamConfig?: { readonly Overrides: readonly { readonly Name: string; readonly Limits: ConsulUpstreamLimits }[] };
}

/**
 * A service-router entry (agent/structs/config_entry_discoverychain.go): the spec's routes in order,
 * then a catch-all route when callers declared a timeout or retries (which every route carries).
 */
export interface ServiceRouterEntry {
  readonly Kind: "service-router";
  readonly Name: string;
  readonly Routes: readonly ServiceRoute[];
}

export interface ServiceRoute {
  readonly Match: {
    readonly HTTP: {
      readonly PathExact?: string;
      readonly PathPrefix?: string;
      readonly Header?: ConsulIntentionPermission["HTTP"]["Header"];
      readonly Methods?: readonly HttpMethod[];
    };
  };
  readonly Destination: {
    /** Another service than the router's. @default the router's service */
    readonly Service?: string;
    /** A version of the service (a service-resolver subset). @default its split, else its default subset */
    readonly ServiceSubset?: string;
    readonly RequestTimeout?: string;
    readonly NumRetries?: number;
    readonly RetryOn?: readonly string[];
    readonly RetryOnStatusCodes?: readonly number[];
  };
}

/** A service-resolver entry with one subset per version, filtered on the version in the instances' service meta. */
export interface ServiceResolverEntry {
  readonly Kind: "service-resolver";
  readonly Name: string;
  readonly DefaultSubset: string;
  readonly Subsets: Readonly<Record<string, { readonly Filter: string }>>;
}

/** A service-splitter entry: the spec's split, in percent per version (subset). */
export interface ServiceSplitterEntry {
  readonly Kind: "service-splitter";
  readonly Name: string;
  readonly Splits: readonly { readonly Weight: number; readonly ServiceSubset: string }[];
}

/** The mesh-wide proxy defaults (Consul: always named "global"): the access logs (spec observability.accessLogs) and the tracer's escape hatches (spec observability.traces). */
export interface ProxyDefaultsEntry {
  readonly Kind: "proxy-defaults";
  readonly Name: "global";
  /** Its Config: only Envoy escape hatches, each a JSON text (lib/plan/observability.ts tracingProxyConfig). @default none */
  readonly Config?: Readonly<Record<string, string>>;
  /** @default none (access logs off) */
  readonly AccessLogs?: { readonly Enabled: true; readonly Type: "stdout"; readonly JSONFormat: string };
}

export type TrafficConfigEntry = ProxyDefaultsEntry | ServiceDefaultsEntry | ServiceResolverEntry | ServiceSplitterEntry | ServiceRouterEntry;

/** What a destination's router does to every request, and which upstream declared it. */
export interface RoutePolicy {
  /** @default none (Consul's 15 s on L7 routes) */
  readonly timeoutMs?: number;
  readonly attempts: number;
  readonly on: readonly string[];
  readonly statusCodes: readonly number[];
  /** services.<caller>.upstreams[<i>] of the declaration the plan took. */
  readonly declaredAt: string;
}

/** One call edge (a declared upstream) with what Consul will do on it. */
export interface TrafficEdge {
  readonly source: string;
  readonly destination: string;
  /** services.<source>.upstreams[<i>]. */
  readonly path: string;
  /** The destination's protocol (tcp for an unknown destination, which the references rule reports). */
  readonly protocol: ServiceProtocol;
  /** Envoy's bound on one request, retries included: the route's, else Consul's default on L7; none on tcp. @default none */
  readonly timeoutMs?: number;
  /** Tries per request (1: no retry). */
  readonly attempts: number;
  /** This caller declared that its requests are safe to repeat. */
  readonly idempotent: boolean;
  /** Methods the intentions may let the source send (an over-approximation: earlier denies are not subtracted); none when denied. */
  readonly methods: readonly HttpMethod[];
  /** What the intentions allow, for review: "*" (everything), "-" (nothing) or the permissions in order. */
  readonly allowed: string;
}

/** Two callers of one destination asking its router for different timeouts or retries. */
export interface RouteConflict {
  readonly destination: string;
  /** The upstream whose declaration differs. */
  readonly path: string;
  readonly policy: RoutePolicy;
  /** The declaration the plan took. */
  readonly taken: RoutePolicy;
}

export interface TrafficPlan {
  readonly maxRetryAmplification: number;
  /** Every declared upstream, by source then destination. */
  readonly edges: readonly TrafficEdge[];
  /** Destination -> its router's policy, for destinations a caller declared one for. */
  readonly routes: ReadonlyMap<string, RoutePolicy>;
  readonly conflicts: readonly RouteConflict[];
  /** The entries the intentions stack applies besides service-intentions, each kind sorted by name. */
  readonly entries: TrafficEntries;
}

/** The traffic entries by kind, as the intentions stack writes them (each kind waits for the ones before it). */
export interface TrafficEntries {
  /** The global proxy-defaults (access logs), when the spec turns them on. @default none */
  readonly proxyDefaults?: ProxyDefaultsEntry;
  readonly serviceDefaults: readonly ServiceDefaultsEntry[];
  readonly serviceResolvers: readonly ServiceResolverEntry[];
  readonly serviceSplitters: readonly ServiceSplitterEntry[];
  readonly serviceRouters: readonly ServiceRouterEntry[];
}

// Golden signals (lib/plan/observability.ts decides them).

export interface ServiceSignals {
  readonly service: string;
  readonly protocol: ServiceProtocol;
  /** Callers whose proxies report on this service (its call edges in). */
  readonly callers: readonly string[];
}

export interface EdgeSignals {
  readonly source: string;
  readonly destination: string;
  readonly protocol: ServiceProtocol;
}

/** The TLS edge's signals (lib/plan/observability.ts planTlsEdgeMetrics): its Envoy's requests and TLS listener. */
export interface TlsEdgeMetricsPlan {
  /** The edge's service name: the collector's service label and its log stream. */
  readonly service: string;
  readonly namespace: string;
  readonly intervalSeconds: number;
  /** The stat prefix of the Envoy's HTTP connection manager (envoy_http_conn_manager_prefix). */
  readonly httpStatPrefix: string;
  /** The TLS listener as Envoy names it in its listener stats (envoy_listener_address). */
  readonly listenerAddress: string;
  /** The mesh's alarm thresholds. @default none (alarms off) */
  readonly alarms?: ObservabilityPlan["alarms"];
  /** Where its collector also remote-writes (spec observability.metrics.prometheus). @default none */
  readonly prometheus?: TlsEdgePrometheusPlan;
}

/**
 * The mesh's Prometheus workspace as the TLS edge's stack finds it without the mesh's state: an
 * existing one's ARN and URL from the spec, or the SSM String parameters the mesh writes the one it
 * creates to (the edge checks their shape in its region).
 */
export type TlsEdgePrometheusPlan =
  | { readonly workspace: "existing"; readonly arn: string; readonly remoteWriteUrl: string }
  | { readonly workspace: "create"; readonly parameters: { readonly workspaceArn: string; readonly remoteWriteUrl: string } };

export interface ObservabilityPlan {
  readonly namespace: string;
  readonly intervalSeconds: number;
  readonly services: readonly ServiceSignals[];
  /** Every call edge a proxy can report: a declared upstream the intentions allow. */
  readonly edges: readonly EdgeSignals[];
  readonly alarms?: Omit<ObservabilitySpec["alarms"], "enabled">;
  /** Where the collectors also remote-write the golden signals (spec observability.metrics.prometheus). @default none */
  readonly prometheus?: PrometheusPlan;
}

/**
 * The Amazon Managed Service for Prometheus workspace the collectors remote-write to: one the mesh
 * creates (its ARN and URL are Terraform references, bound by the stack), or an existing one.
 */
export type PrometheusPlan = { readonly workspace: "create" } | { readonly workspace: "existing"; readonly arn: string; readonly region: string; readonly remoteWriteUrl: string };
