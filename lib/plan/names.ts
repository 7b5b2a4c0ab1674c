// Every name the mesh stack gives an AWS resource, decided once from the spec's cluster name, with
// the kind of name it is: the name rule (lib/rules/names.ts) checks each against its AWS limit,
// and the constructs and scripts that create or recognize a resource read it from here.
import { MESH_LOG_GROUP_DIRS } from "../facts";
import { NAME_LIMITS } from "../aws-limits";
import { MAX_CLUSTER_NAME } from "../spec/schema";
import { defaultRepositoryName, envoyRepositoryName } from "../spec/tls-edge-schema";

/** Joins the cluster's name and the service's into the ECS service's name. */
export const ECS_SERVICE_NAME_SEPARATOR = "-";

/** The ECS service of a mesh service: its tasks carry `group: "service:<this>"`. */
export function ecsServiceName(clusterName: string, service: string): string {
  return `${clusterName}${ECS_SERVICE_NAME_SEPARATOR}${service}`;
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
export const SERVICE_TOKEN_SECRET_DIR = "service-token";

/** What every service token secret's name starts with (the service's name follows), which consul-acl-sync checks. */
export function serviceTokenSecretPrefix(clusterName: string): string {
  return `${consulSecretsPrefix(clusterName)}${SERVICE_TOKEN_SECRET_DIR}/`;
}

/** Kinds of AWS names with the limit each is checked against (lib/aws-limits.ts). */
export type NameKind = keyof typeof NAME_LIMITS;

/** One name the plan gives, for the name rule: what it names, its kind, its value. */
export interface PlannedName {
  readonly what: string;
  readonly kind: NameKind;
  readonly value: string;
}

export interface MeshNameInputs {
  readonly cluster: string;
  readonly zoneCount: number;
  readonly serverCount: number;
  readonly fixedHostCount: number;
  readonly services: readonly string[];
  /** Whether the stack creates the snapshot bucket (only then is its prefix checked). */
  readonly snapshots: boolean;
}

/** The mesh stack's names, each recorded with its kind as it is made. The cluster name is the ECS cluster's and the prefix of every other. */
export type MeshNames = ReturnType<typeof meshNames>;

export function meshNames(inputs: MeshNameInputs) {
  const c = inputs.cluster;
  const all: PlannedName[] = [];
  const name = (what: string, kind: NameKind, value: string): string => {
    all.push({ what, kind, value });
    return value;
  };
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
    },
    consulSecretsPrefix: name("Consul secrets (name_prefix)", "secretNamePrefix", consulSecretsPrefix(c)),
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
    services: new Map<string, { readonly ecsService: string; readonly logGroup: string; readonly rolePrefix: string; readonly loginRoleParameter: string }>(
      inputs.services.map((service) => [
        service,
        {
          ecsService: name(`ECS service of ${service}`, "ecsName", ecsServiceName(c, service)),
          logGroup: name(`log group of ${service}`, "logGroupName", `${ecsDir}/${service}`),
          rolePrefix: name(`roles of ${service} (name_prefix)`, "iamRoleNamePrefix", `${c}-${service.slice(0, SERVICE_IN_ROLE_PREFIX)}-`),
          // Dataplane services only; consul-acl-sync finds it under loginRolePath.
          loginRoleParameter: `${loginRolePath(c)}/${service}`,
        },
      ]),
    ),
    /** Every name above with its kind, for the name rule. */
    all: all as readonly PlannedName[],
  } as const;
}

/** Names of the TLS edge's resources besides its service name (the ECS cluster, service and family, the secrets' prefix). */
export type TlsEdgeNames = ReturnType<typeof tlsEdgeNames>;

export function tlsEdgeNames(serviceName: string, ecrRepositoryName: string | undefined) {
  return {
    logGroup: MESH_LOG_GROUP_DIRS.ecs(serviceName),
    // IAM role name prefixes hold 38 characters (Terraform appends 26): 26 of the name, "-", "exec-" or "task-".
    executionRolePrefix: `${serviceName.slice(0, 26)}-exec-`,
    taskRolePrefix: `${serviceName.slice(0, 26)}-task-`,
    securityGroupPrefix: `${serviceName}-sg-`,
    /** KMS key alias of the logs and certificate secrets. */
    keyAlias: `${serviceName}-logs`,
    appRepository: ecrRepositoryName ?? defaultRepositoryName(serviceName),
    envoyRepository: envoyRepositoryName(serviceName),
  };
}
