// Every name the stacks give an AWS resource, decided once with the kind of name it is: the mesh's
// from the spec's cluster name (meshNames), the TLS edge's from its service name (tlsEdgeNames).
// The name rule (lib/rules/names.ts) checks each against its AWS limit, and the constructs and
// scripts that create or recognize a resource read it from here.
import { MESH_LOG_GROUP_DIRS } from "../facts";
import { NAME_LIMITS } from "../aws-limits";
import { MAX_CLUSTER_NAME } from "../spec/schema";

/** Joins the cluster's name and the service's into the ECS service's name. */
export const ECS_SERVICE_NAME_SEPARATOR = "-";

/** The ECS service of a mesh service: its tasks carry `group: "service:<this>"`. */
export function ecsServiceName(clusterName: string, service: string): string {
  return `${clusterName}${ECS_SERVICE_NAME_SEPARATOR}${service}`;
}

/**
 * What a version adds to its service's name where each version needs its own (the ECS service and
 * task family, the log group): "<service>-<version>"; the service's name alone without one.
 */
export function versionedName(service: string, version?: string): string {
  return version === undefined ? service : `${service}${ECS_SERVICE_NAME_SEPARATOR}${version}`;
}

/** A version other than the default, which gets names of its own (the default version keeps its service's). */
export function keepsOwnNames(service: { readonly version?: string; readonly defaultVersion?: string }): boolean {
  return service.version !== undefined && service.version !== service.defaultVersion;
}

/** The ECS services of a service: one per version, or the service itself. */
export function ecsServicesOf<T extends { readonly versions: readonly T[] }>(service: T): readonly T[] {
  return service.versions.length > 0 ? service.versions : [service];
}

/** How much of a service's name its roles' name prefix keeps: "<cluster>-<this>-" fits an IAM name prefix at the longest cluster name. */
const SERVICE_IN_ROLE_PREFIX = NAME_LIMITS.iamRoleNamePrefix - MAX_CLUSTER_NAME - 2;

/**
 * The SSM path under which one parameter per dataplane service holds its task role's unique ID
 * (AROA...): consul-acl-sync gives that service's identity to that role only.
 */
export function loginRolePath(clusterName: string): string {
  return `/${clusterName}/consul/login-roles`;
}

/** The SSM path under which one parameter per agent service names its token's secret (an ARN only). */
export function serviceTokenPath(clusterName: string): string {
  return `/${clusterName}/consul/service-tokens`;
}

/** Secrets Manager name prefix of the mesh's Consul secrets ("<this><secret>-"). */
function consulSecretsPrefix(clusterName: string): string {
  return `${clusterName}/consul/`;
}

/** The folder of the service token secrets: <cluster>/consul/service-token/<service>-<suffix>. */
const SERVICE_TOKEN_SECRET_DIR = "service-token";

/** What every service token secret's name starts with (the service's name follows), which consul-acl-sync checks. */
export function serviceTokenSecretPrefix(clusterName: string): string {
  return `${consulSecretsPrefix(clusterName)}${SERVICE_TOKEN_SECRET_DIR}/`;
}

/** Kinds of AWS names with the limit each is checked against (lib/aws-limits.ts). */
export type NameKind = keyof typeof NAME_LIMITS;

/** One name the plan gives, for the name rule: what it names, its kind, its value, and the spec field it comes from. */
export interface PlannedName {
  readonly what: string;
  readonly kind: NameKind;
  readonly value: string;
  /** The spec field the name is made from: the one to shorten. */
  readonly path: string;
  /** What of that field's value the name holds, once (all of it, or the part a prefix keeps). */
  readonly source: string;
}

/** Records a name with its kind as it is made, and returns it. */
type NameRecorder = (what: string, kind: NameKind, value: string) => string;

/** A recorder of names made from one spec field, and the list it fills (a new one, or a shared one). */
function namesFrom(path: string, source: string, all: PlannedName[] = []): { readonly all: PlannedName[]; readonly name: NameRecorder } {
  return {
    all,
    name: (what, kind, value) => {
      all.push({ what, kind, value, path, source });
      return value;
    },
  };
}

/** For names of resources a stack does not create: nothing to check. */
const unrecorded: NameRecorder = (_what, _kind, value) => value;

/** The names of one AwsApiEndpoints construct (lib/constructs/aws-api-endpoints.ts). */
export interface ApiEndpointNames {
  /** The interface endpoints' security group (name_prefix); it exists only with interface endpoints. */
  readonly securityGroupPrefix: string;
  /** Each interface endpoint, in the plan's order: its service (com.amazonaws.<region>.<service>) and its Name tag. */
  readonly interfaceEndpoints: readonly { readonly service: string; readonly name: string }[];
  /** The S3 gateway endpoint's Name tag. */
  readonly s3Endpoint: string;
}

/** `owner` starts what each name names in the name rule's messages ("", "TLS edge "). */
function apiEndpointNames(prefix: string, interfaceServices: readonly string[], name: NameRecorder, owner: string): ApiEndpointNames {
  const securityGroupPrefix = `${prefix}-aws-endpoints-`;
  if (interfaceServices.length > 0) name(`${owner}AWS API endpoints security group (name_prefix)`, "securityGroupNamePrefix", securityGroupPrefix);
  return {
    securityGroupPrefix,
    interfaceEndpoints: interfaceServices.map((service) => ({ service, name: name(`${owner}${service} VPC endpoint (Name tag)`, "tagValue", `${prefix}-${service}`) })),
    s3Endpoint: name(`${owner}S3 gateway endpoint (Name tag)`, "tagValue", `${prefix}-s3`),
  };
}

/**
 * The inline policy of a mesh task role that grants what the task's containers call themselves
 * (containerCalls: the agent's cloud auto-join, consul-ecs finding the servers).
 */
const CONTAINER_CALLS_POLICY = "container-aws-calls";

export interface MeshNameInputs {
  readonly cluster: string;
  readonly zoneCount: number;
  readonly serverCount: number;
  readonly fixedHostCount: number;
  readonly services: readonly string[];
  /** Per service, its versions besides the default one, which keeps the service's names: each gets its own ECS service and log group. @default none */
  readonly serviceVersions?: ReadonlyMap<string, readonly string[]>;
  /** The network's interface VPC endpoints (service names such as "ecr.api"), in the plan's order. */
  readonly interfaceEndpoints: readonly string[];
  /** Whether the stack creates the snapshot bucket (only then is its prefix checked). */
  readonly snapshots: boolean;
  /** Services with metrics and whether they have alarms (spec observability). @default none (no metrics) */
  readonly observability?: { readonly services: readonly string[]; readonly alarms: boolean; readonly createsPrometheusWorkspace?: boolean };
}

/** The mesh stack's names, each recorded with its kind as it is made. The cluster name is the ECS cluster's and the prefix of every other. */
export type MeshNames = ReturnType<typeof meshNames>;

export function meshNames(inputs: MeshNameInputs) {
  const c = inputs.cluster;
  const { all, name } = namesFrom("name", c);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  const ecsDir = MESH_LOG_GROUP_DIRS.ecs(c);
  const vpcDir = MESH_LOG_GROUP_DIRS.vpc(c);
  const snapshots = {
    bucketPrefix: `${c}-consul-snapshots-`,
    restoreRolePrefix: `${c}-consul-restore-`,
  };
  if (inputs.snapshots) {
    name("snapshot bucket (bucket_prefix)", "s3BucketPrefix", snapshots.bucketPrefix);
    name("snapshot restore role (name_prefix)", "iamRoleNamePrefix", snapshots.restoreRolePrefix);
  }
  const secretsPrefix = consulSecretsPrefix(c);
  const secret = (what: string, id: string) => name(`Consul ${what} secret (name_prefix)`, "secretNamePrefix", `${secretsPrefix}${id}-`);
  return {
    cluster: name("ECS cluster", "ecsName", c),
    keyAlias: name("KMS key alias (after alias/)", "kmsAlias", `${c}-mesh`),
    logGroupDirs: { ecs: ecsDir, vpc: vpcDir },
    execSessionsLogGroup: name("ECS Exec session log group", "logGroupName", `${ecsDir}/exec-sessions`),
    network: {
      vpc: name("VPC (Name tag)", "tagValue", c),
      publicRouteTable: name("public route table (Name tag)", "tagValue", `${c}-public`),
      defaultSecurityGroup: name("default security group (Name tag)", "tagValue", `${c}-default-closed`),
      flowLogsLogGroup: name("VPC flow log group", "logGroupName", `${vpcDir}/flow-logs`),
      flowLogsRolePrefix: name("flow logs role (name_prefix)", "iamRoleNamePrefix", `${c}-flow-logs-`),
      zones: range(inputs.zoneCount).map((z) => ({
        publicSubnet: name(`public subnet ${z} (Name tag)`, "tagValue", `${c}-public-${z}`),
        privateSubnet: name(`private subnet ${z} (Name tag)`, "tagValue", `${c}-private-${z}`),
        privateRouteTable: name(`private route table ${z} (Name tag)`, "tagValue", `${c}-private-${z}`),
        natGateway: name(`NAT gateway ${z} (Name tag)`, "tagValue", `${c}-nat-${z}`),
      })),
      endpoints: apiEndpointNames(c, inputs.interfaceEndpoints, name, ""),
    },
    consulSecrets: {
      gossipKey: secret("gossip key", "gossip-key"),
      caCert: secret("CA certificate", "ca-cert"),
      /** The RPC CA's key and certificate as one JSON value, which the first server to boot writes; only the servers read it. */
      rpcCaKey: secret("RPC CA key", "rpc-ca-key"),
      managementToken: secret("management token", "management-token"),
      agentToken: secret("agent token", "agent-token"),
      /** The SSM path the servers list the service token parameters under. */
      serviceTokenPath: serviceTokenPath(c),
      /**
       * SSM parameters naming the secrets the intentions stack reads (ARNs, no secret): it finds them
       * by these names, so it reads nothing else of the mesh, and never its state.
       */
      intentionsParameters: { managementToken: `/${c}/intentions/management-token-secret-arn`, caCert: `/${c}/intentions/ca-cert-secret-arn` },
      /**
       * Per service, the names of its Consul token if its task reads one (the stack creates those):
       * the secret, and the parameter under serviceTokenPath that names it. Parameter names have no
       * kind: SSM's limit (1011 characters with the ARN before the name, PutParameter) depends on
       * the partition, region and account, and these stay near 100.
       */
      serviceTokens: new Map(
        inputs.services.map(
          (service) => [service, { secret: secret(`token of ${service}`, `${SERVICE_TOKEN_SECRET_DIR}/${service}`), parameter: `${serviceTokenPath(c)}/${service}` }] as const,
        ),
      ),
    },
    /**
     * SSM String parameters the mesh writes for a TLS edge in its network: its VPC's ID and the
     * edge's subnets' IDs (comma-separated). The edge reads them by these names, never the mesh's state.
     */
    tlsEdgeNetwork: { vpcId: `/${c}/tls-edge/vpc-id`, subnetIds: `/${c}/tls-edge/subnet-ids` },
    /** SSM String parameters the mesh writes the Prometheus workspace it creates to, for the TLS edge's collector: its ARN and remote-write URL. */
    tlsEdgePrometheus: { workspaceArn: `/${c}/tls-edge/prometheus-workspace-arn`, remoteWriteUrl: `/${c}/tls-edge/prometheus-remote-write-url` },
    cachePrefixes: {
      "ecr-public": name("ECR Public pull-through cache prefix", "ecrRepositoryPrefix", `${c}/ecrpublic`),
      "docker-hub": name("Docker Hub pull-through cache prefix", "ecrRepositoryPrefix", `${c}/dockerhub`),
    },
    snapshots,
    servers: {
      securityGroupPrefix: name("Consul server security group (name_prefix)", "securityGroupNamePrefix", `${c}-consul-server-`),
      nodes: range(inputs.serverCount).map((n) => ({
        server: name(`Consul server ${n} (Name tag, Auto Scaling group)`, "autoScalingGroupName", `${c}-consul-server-${n}`),
        dataVolume: name(`Consul server ${n} data volume (Name tag)`, "tagValue", `${c}-consul-server-${n}-data`),
        rolePrefix: name(`Consul server ${n} role (name_prefix)`, "iamRoleNamePrefix", `${c}-consul-${n}-`),
        launchTemplatePrefix: name(`Consul server ${n} launch template (name_prefix)`, "launchTemplateNamePrefix", `${c}-consul-server-${n}-`),
      })),
    },
    tasksSecurityGroupPrefix: name("mesh tasks security group (name_prefix)", "securityGroupNamePrefix", `${c}-mesh-tasks-`),
    hosts: {
      securityGroupPrefix: name("ECS hosts security group (name_prefix)", "securityGroupNamePrefix", `${c}-ecs-hosts-`),
      rolePrefix: name("ECS host role (name_prefix)", "iamRoleNamePrefix", `${c}-ecs-host-`),
      hosts: range(inputs.fixedHostCount).map((i) => name(`ECS host ${i} (Name tag)`, "tagValue", `${c}-ecs-host-${i}`)),
      launchTemplatePrefix: name("ECS host launch template (name_prefix)", "launchTemplateNamePrefix", `${c}-ecs-host-`),
      instanceTag: name("ECS host instances (Name tag)", "tagValue", `${c}-ecs-host`),
      autoScalingGroupPrefix: name("ECS hosts Auto Scaling group (name_prefix)", "autoScalingGroupNamePrefix", `${c}-ecs-hosts-`),
      capacityProvider: name("ECS capacity provider", "ecsName", `hosts-${c}`),
    },
    services: new Map<string, ServiceNames>(
      inputs.services.map((service) => {
        const unit = (version?: string) => {
          const of = versionedName(service, version);
          return {
            ecsService: name(`ECS service of ${version === undefined ? service : `${service} ${version}`}`, "ecsName", ecsServiceName(c, of)),
            logGroup: name(`log group of ${version === undefined ? service : `${service} ${version}`}`, "logGroupName", `${ecsDir}/${of}`),
          };
        };
        const versions = inputs.serviceVersions?.get(service) ?? [];
        return [
          service,
          {
            ...unit(),
            rolePrefix: name(`roles of ${service} (name_prefix)`, "iamRoleNamePrefix", `${c}-${service.slice(0, SERVICE_IN_ROLE_PREFIX)}-`),
            // Dataplane services only; consul-acl-sync finds it under loginRolePath.
            loginRoleParameter: `${loginRolePath(c)}/${service}`,
            versions: new Map(versions.map((version) => [version, unit(version)] as const)),
          },
        ] as const;
      }),
    ),
    /** The task role's inline policy of the containers' own AWS calls. */
    containerCallsPolicy: CONTAINER_CALLS_POLICY,
    observability: inputs.observability
      ? {
          metricsLogGroup: name("proxy metrics (EMF) log group", "logGroupName", `${ecsDir}/proxy-metrics`),
          dashboard: name("mesh dashboard", "dashboardName", `${c}-mesh`),
          ...(inputs.observability.createsPrometheusWorkspace ? { prometheusWorkspaceAlias: name("Prometheus workspace alias", "prometheusWorkspaceAlias", `${c}-mesh`) } : {}),
          alarms: new Map(
            (inputs.observability.alarms ? inputs.observability.services : []).map((service) => [
              service,
              {
                errorRate: name(`5xx rate alarm of ${service}`, "alarmName", `${c}-${service}-5xx-rate`),
                p99Latency: name(`p99 latency alarm of ${service}`, "alarmName", `${c}-${service}-p99-latency`),
                noHealthyUpstream: name(`no healthy upstream alarm of ${service}`, "alarmName", `${c}-${service}-no-healthy-upstream`),
              },
            ]),
          ),
        }
      : undefined,
    /** Every name above with its kind, for the name rule. */
    all: all as readonly PlannedName[],
  } as const;
}

/** The names of one mesh service, and of each of its versions' ECS service and log group. */
export interface ServiceNames {
  readonly ecsService: string;
  readonly logGroup: string;
  readonly rolePrefix: string;
  readonly loginRoleParameter: string;
  readonly versions: ReadonlyMap<string, { readonly ecsService: string; readonly logGroup: string }>;
}

/** The names of the ECS service that runs this plan: its version's own, or its service's. */
export function ecsServiceNamesOf(
  names: MeshNames,
  service: { readonly name: string; readonly version?: string; readonly defaultVersion?: string },
): Omit<ServiceNames, "versions"> {
  const own = names.services.get(service.name)!;
  return keepsOwnNames(service) ? { ...own, ...own.versions.get(service.version!)! } : own;
}

/** What the TLS edge's role name prefixes add to its service name, one per role. */
const TLS_EDGE_ROLE_SUFFIXES = { execution: "-exec-", task: "-task-" } as const;

/** How much of its service name the TLS edge's role name prefixes keep: "<this><suffix>" fits an IAM name prefix. */
const SERVICE_IN_TLS_EDGE_ROLE_PREFIX = NAME_LIMITS.iamRoleNamePrefix - Math.max(...Object.values(TLS_EDGE_ROLE_SUFFIXES).map((suffix) => suffix.length));

export interface TlsEdgeNameInputs {
  readonly serviceName: string;
  /** The spec's repository of the app image. @default "<serviceName>/flask-app" */
  readonly ecrRepositoryName?: string;
  /** The interface VPC endpoints the stack creates (with an S3 gateway endpoint); empty: no endpoints. */
  readonly interfaceEndpoints: readonly string[];
  /** Whether its Envoy ships metrics (spec observability.metrics), and with alarms. @default none (no metrics) */
  readonly metrics?: { readonly alarms: boolean };
  /** Whether its task runs the collector (metrics or traces on). @default false */
  readonly collector?: boolean;
}

/** The TLS edge's names besides its service name (which names the ECS cluster, service and family and the Cloud Map service). */
export type TlsEdgeNames = ReturnType<typeof tlsEdgeNames>;

export function tlsEdgeNames(inputs: TlsEdgeNameInputs) {
  const s = inputs.serviceName;
  const { all, name } = namesFrom("tlsEdge.serviceName", s);
  const rolePart = s.slice(0, SERVICE_IN_TLS_EDGE_ROLE_PREFIX);
  const role = namesFrom("tlsEdge.serviceName", rolePart, all).name;
  const explicitRepository = inputs.ecrRepositoryName;
  const repository = explicitRepository === undefined ? name : namesFrom("tlsEdge.ecrRepositoryName", explicitRepository, all).name;
  return {
    logGroup: name("TLS edge log group", "logGroupName", MESH_LOG_GROUP_DIRS.ecs(s)),
    executionRolePrefix: role("TLS edge execution role (name_prefix)", "iamRoleNamePrefix", `${rolePart}${TLS_EDGE_ROLE_SUFFIXES.execution}`),
    taskRolePrefix: role("TLS edge task role (name_prefix)", "iamRoleNamePrefix", `${rolePart}${TLS_EDGE_ROLE_SUFFIXES.task}`),
    securityGroupPrefix: name("TLS edge tasks security group (name_prefix)", "securityGroupNamePrefix", `${s}-sg-`),
    /** KMS key alias of the logs and certificate secrets. */
    keyAlias: name("TLS edge KMS key alias (after alias/)", "kmsAlias", `${s}-logs`),
    appRepository: repository("TLS edge app image repository", "ecrRepository", explicitRepository ?? `${s}/flask-app`),
    /** The repository the pinned official Envoy image is mirrored into. */
    envoyRepository: name("TLS edge Envoy mirror repository", "ecrRepository", `${s}/envoy`),
    /** The edge CA's secrets: {CertPEM, KeyPEM} for the tasks' init container, and the certificate alone for clients. */
    caSecrets: {
      ca: name("TLS edge CA secret (name_prefix)", "secretNamePrefix", `${s}/tls-ca-`),
      caCertificate: name("TLS edge CA certificate secret (name_prefix)", "secretNamePrefix", `${s}/tls-ca-certificate-`),
    },
    /** The VPC endpoints of the tasks, when the stack creates them. */
    endpoints: apiEndpointNames(s, inputs.interfaceEndpoints, inputs.interfaceEndpoints.length > 0 ? name : unrecorded, "TLS edge "),
    /** The task role's inline policy of what its containers call themselves (the collector's X-Ray calls). */
    containerCallsPolicy: CONTAINER_CALLS_POLICY,
    /** With metrics or traces: the collector's mirror. */
    collectorRepository: inputs.collector ? name("TLS edge collector mirror repository", "ecrRepository", `${s}/otel-collector`) : undefined,
    /** With metrics: its EMF log group (beside the edge's log group, under the edge's key) and the edge's alarms. */
    metrics: inputs.metrics
      ? {
          metricsLogGroup: name("TLS edge proxy metrics (EMF) log group", "logGroupName", `${MESH_LOG_GROUP_DIRS.ecs(s)}/proxy-metrics`),
          alarms: inputs.metrics.alarms
            ? {
                errorRate: name("TLS edge 5xx rate alarm", "alarmName", `${s}-tls-edge-5xx-rate`),
                p99Latency: name("TLS edge p99 latency alarm", "alarmName", `${s}-tls-edge-p99-latency`),
                tlsErrors: name("TLS edge TLS errors alarm", "alarmName", `${s}-tls-edge-tls-errors`),
              }
            : undefined,
        }
      : undefined,
    /** Every name above with its kind, for the name rule. */
    all: all as readonly PlannedName[],
  } as const;
}
