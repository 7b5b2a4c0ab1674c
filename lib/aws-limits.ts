// AWS numbers the validator and the constructs rely on. Sources: EC2 network interfaces per
// instance type (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html);
// Fargate task CPU and memory
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html); the
// IAM, EC2, CloudWatch Logs, ECR and Cloud Map quotas in each service's AWS documentation.

/** Maximum network interfaces per instance type (EC2 docs, "Maximum IP addresses per network interface"). */
export const ENI_LIMITS: Readonly<Record<string, number>> = {
  "t2.micro": 2,
  "t2.small": 3,
  "t3.micro": 2,
  "t3.small": 3,
  "t3.medium": 3,
  "m5.large": 3,
  "c5.large": 3,
};

/**
 * awsvpc tasks one EC2 host can run without ENI trunking: every task takes an ENI and the
 * primary ENI is the host's own. Undefined for instance types missing from the table.
 */
export function awsvpcTasksPerHost(instanceType: string): number | undefined {
  const enis = ENI_LIMITS[instanceType];
  return enis === undefined ? undefined : enis - 1;
}

/** Valid Fargate memory sizes (MiB) per task CPU value (ECS docs, "Task CPU and memory"). */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** Why a cpu/memory pair cannot run on Fargate, naming the field to change, or undefined when it can. */
export function fargateSizeProblem(cpu: number, memory: number): { readonly field: "cpu" | "memory"; readonly message: string } | undefined {
  const allowed = FARGATE_MEMORY[cpu];
  if (!allowed) return { field: "cpu", message: `${cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY).join(", ")}` };
  if (!allowed.includes(memory)) {
    return { field: "memory", message: `${memory} MiB is not valid with ${cpu} CPU units on Fargate; allowed memory values: ${allowed.join(", ")}` };
  }
  return undefined;
}

/** CIDR prefix lengths AWS allows for VPC and subnet blocks. */
export const VPC_PREFIX = { min: 16, max: 28 } as const;

/** Image tags (Docker and ECR PutImage): a word character, then up to 127 of [A-Za-z0-9_.-]. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/** Terraform appends this many characters (a timestamp and a counter) to a name_prefix. */
const PREFIX_SUFFIX = 26;

/** Longest name of each kind (each service's API reference); a `...Prefix` leaves room for Terraform's suffix. */
export const NAME_LIMITS = {
  ecsName: 255,
  iamRoleNamePrefix: 64 - PREFIX_SUFFIX,
  securityGroupNamePrefix: 255 - PREFIX_SUFFIX,
  launchTemplateNamePrefix: 128 - PREFIX_SUFFIX,
  autoScalingGroupName: 255,
  autoScalingGroupNamePrefix: 255 - PREFIX_SUFFIX,
  s3BucketPrefix: 63 - PREFIX_SUFFIX,
  secretNamePrefix: 512 - PREFIX_SUFFIX,
  /** ECR CreatePullThroughCacheRule: ecrRepositoryPrefix is 2 to 30 characters. */
  ecrRepositoryPrefix: 30,
  /** KMS aliases are 256 characters with their "alias/" prefix. */
  kmsAlias: 256 - "alias/".length,
  tagValue: 256,
  logGroupName: 512,
  /** ECR CreateRepository: repositoryName is 2 to 256 characters of the pattern ECR_REPOSITORY_NAME. */
  ecrRepository: 256,
  cloudMapServiceName: 127,
  dnsLabel: 63,
  /** CloudWatch PutDashboard: DashboardName is up to 255 characters. */
  dashboardName: 255,
  /** CloudWatch PutMetricAlarm: AlarmName is up to 255 characters. */
  alarmName: 255,
  /** Amazon Managed Service for Prometheus CreateWorkspace: alias is 1 to 100 characters. */
  prometheusWorkspaceAlias: 100,
} as const;

/** ECR repository names (CreateRepository API): lowercase segments joined by one '.', '_' or '-', separated by '/'. */
export const ECR_REPOSITORY_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** EC2 user data is limited to 16 KB before base64 encoding. */
export const USER_DATA_MAX_BYTES = 16 * 1024;

/**
 * Each CPU architecture by the name every reader gives it: EC2 (the keys: instance types, AMI
 * names), ECS (runtimePlatform.cpuArchitecture), Linux images and release archives, and the
 * folder of the ECS-optimized AMI's public SSM parameter.
 */
export const CPU_ARCHITECTURES = {
  x86_64: { ecs: "X86_64", linux: "amd64", ecsAmiPath: "amazon-linux-2023" },
  arm64: { ecs: "ARM64", linux: "arm64", ecsAmiPath: "amazon-linux-2023/arm64" },
} as const;

export type Architecture = keyof typeof CPU_ARCHITECTURES;

/** ECS's name of an architecture (runtimePlatform.cpuArchitecture). */
export type CpuArchitecture = (typeof CPU_ARCHITECTURES)[Architecture]["ecs"];

/** ECS's names of every architecture, for the spec's enums. */
export const ECS_CPU_ARCHITECTURES = [CPU_ARCHITECTURES.x86_64.ecs, CPU_ARCHITECTURES.arm64.ecs] as const;

/** Graviton instance types (an attribute letter "g" after the generation digit, e.g. t4g, m7gd) run arm64. */
export function architectureOf(instanceType: string): Architecture {
  const match = /^[a-z]+\d+([a-z-]*)\./.exec(instanceType);
  return match && match[1]!.includes("g") ? "arm64" : "x86_64";
}

// The values CloudWatch Logs accepts for retentionInDays (PutRetentionPolicy API).
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Container health check bounds in seconds (retries: a count) ECS accepts (ECS API HealthCheck: interval 5-300, timeout 2-60, retries 1-10, startPeriod 0-300). */
export const ECS_HEALTH_CHECK_LIMITS = {
  interval: { min: 5, max: 300 },
  timeout: { min: 2, max: 60 },
  retries: { min: 1, max: 10 },
  startPeriod: { min: 0, max: 300 },
} as const;

/** A container's startTimeout on Fargate: at most 120 s (ECS API ContainerDefinition.startTimeout, platform 1.3.0 or later). */
export const FARGATE_MAX_START_TIMEOUT = 120;

/**
 * How long a SigV4-signed request stays acceptable: "a request must reach AWS within five
 * minutes of the time stamp in the request" (IAM User Guide, "AWS Signature Version 4 for API
 * requests"). The Consul IAM login is such a request, signed by the task and sent by the server.
 */
export const SIGNED_REQUEST_VALIDITY_SECONDS = 300;
