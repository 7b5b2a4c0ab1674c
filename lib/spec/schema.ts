// The mesh spec: one zod schema is the single source of truth for the TypeScript
// type (MeshSpec), the plan (lib/plan) and its rules (lib/rules) and the shipped JSON Schema
// (schema/mesh-spec.schema.json, written by tools/write-json-schema.ts).
import { z } from "zod";
import { cidr, port, tlsEdgeSchema } from "./tls-edge-schema";
import { CPU_ARCHITECTURES, ECS_CPU_ARCHITECTURES, LOG_RETENTION_DAYS } from "../aws-limits";
import { CONSUL_RELEASES, DEFAULT_VERSIONS } from "../versions";

/** Consul service names double as DNS labels, ECS name suffixes and Envoy cluster names. */
export const SERVICE_NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
// DNS label limit (RFC 1035), which Consul's DNS interface and Cloud Map both impose.
export const MAX_SERVICE_NAME = 63;
/** What SERVICE_NAME and MAX_SERVICE_NAME accept together, as one pattern for the server scripts that check names. */
export const SERVICE_NAME_PATTERN = `[a-z][a-z0-9-]{0,${MAX_SERVICE_NAME - 2}}[a-z0-9]`;

/** Keeps every derived name (IAM name_prefix of 38 characters, see lib/aws-limits.ts) within AWS limits. */
export const MAX_CLUSTER_NAME = 20;

/** The original demo's two ECS hosts: fixed hosts where a spec chooses no placement. */
const DEFAULT_ECS_HOST_IPS = ["10.0.101.150", "10.0.101.155"] as const;

/** EC2 instance type names (family with a generation digit, '.', size), e.g. t3.small, m7gd.2xlarge, u-6tb1.metal. */
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[a-z0-9]+$/;
const instanceType = z.string().regex(INSTANCE_TYPE, "must be an EC2 instance type such as t3.small (a family with its generation, '.', a size)");
const availabilityZone = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, "must be an availability zone such as us-east-1a");
const secretsManagerArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "must be a Secrets Manager secret ARN");
const ipv4 = z.ipv4({ message: "must be an IPv4 address such as 10.0.101.100" });
const serviceName = z
  .string()
  .min(2, "must be at least 2 characters")
  .max(MAX_SERVICE_NAME, `must be at most ${MAX_SERVICE_NAME} characters (a DNS label)`)
  .regex(SERVICE_NAME, "must be lowercase letters, digits and '-', start with a letter and not end with '-'");

const secretRef = z
  .strictObject({
    secretsManagerArn: secretsManagerArn.optional().describe("ARN of a Secrets Manager secret (optionally with :json-key:version-stage:version-id)"),
    ssmParameterArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/, "must be an SSM parameter ARN")
      .optional()
      .describe("ARN of an SSM Parameter Store parameter"),
  })
  .refine((ref) => (ref.secretsManagerArn ? 1 : 0) + (ref.ssmParameterArn ? 1 : 0) === 1, {
    message: "set exactly one of secretsManagerArn or ssmParameterArn",
  })
  .describe("Exactly one of secretsManagerArn or ssmParameterArn: delivered as an ECS secret, never in plaintext");

/** How often a check runs and how long it waits (http and tcp checks alike). */
const checkTiming = { intervalSeconds: z.number().int().min(1).max(300).default(10), timeoutSeconds: z.number().int().min(1).max(60).default(1) };

/** A version number x.y.z (the message shows an example). */
const version = (example: string) => z.string().regex(/^\d+\.\d+\.\d+$/, `must be a version such as ${example}`);

const healthCheckSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("http"),
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/-]*$/, "must be a URL path such as /health")
        .default("/"),
      ...checkTiming,
    }),
    z.strictObject({ type: z.literal("tcp"), ...checkTiming }),
    z.strictObject({ type: z.literal("none") }),
  ])
  .describe("Consul check run by the task's agent against the app on 127.0.0.1:<port>");

const passiveHealthCheckSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("false: every instance keeps getting requests however it fails"),
    intervalSeconds: z.number().int().min(1).max(300).default(10).describe("How often Envoy counts the failures"),
    maxFailures: z.number().int().min(1).max(1000).default(5).describe("Consecutive 5xx or connection failures before an instance is ejected"),
    enforcingConsecutive5xxPercent: z.number().int().min(0).max(100).default(100).describe("Chance (%) that an instance past maxFailures is actually ejected"),
    maxEjectionPercent: z.number().int().min(0).max(100).default(50).describe("At most this share of instances is ejected at once"),
    baseEjectionTimeSeconds: z.number().int().min(1).max(3600).default(30).describe("How long an ejected instance gets no requests, longer each time it is ejected again"),
  })
  .prefault({})
  .describe("Passive health checking (Envoy outlier detection) of this upstream's instances: failing instances stop getting requests");

// L7 traffic management. How the spec maps onto Consul's config entries (read for Consul 2.0.1:
// agent/structs/config_entry_discoverychain.go, api/config_entry.go, the service-router and
// service-defaults reference pages), decided once in lib/plan/traffic.ts:
//   - `timeout` and `retries` are properties of the destination's routes (a service-router that
//     every caller's proxy applies), so callers of one destination must ask for the same ones; two
//     that differ are a rule error (lib/rules/traffic.ts), never a silent pick. A caller that asks
//     for neither gets the destination's.
//   - Consul's service-router has no per-try timeout: Envoy bounds all tries of a request by its
//     RequestTimeout, and a try lasts as long as the callee's own calls. So there is no
//     `perTryTimeout`: the timeout-budget rule takes the callee's downstream timeouts as a try's worst case.
//   - `limits` are per caller (service-defaults UpstreamConfig.Overrides of the caller), like the
//     passive health check (the caller's proxy registration).

/** A duration as Consul and Envoy read it (Go's time.ParseDuration, whole milliseconds at least). */
export const DURATION = /^([1-9]\d*)(ms|s|m)$/;
const duration = z.string().regex(DURATION, 'must be a duration such as "500ms", "5s" or "2m"');

/** HTTP methods Consul accepts in intentions and routes (isValidHTTPMethod). */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Retry conditions this project offers from Envoy's x-envoy-retry-on set that Consul's service-router accepts (isValidRetryCondition). */
export const RETRY_CONDITIONS = ["connect-failure", "reset", "5xx", "gateway-error", "refused-stream"] as const;

const retriesSchema = z
  .strictObject({
    attempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(1)
      .describe("Tries per request, the first included (Consul NumRetries = attempts - 1); 1: no retry. Applies to every caller of the destination"),
    on: z.array(z.enum(RETRY_CONDITIONS)).default([]).describe("Failures that are retried (Envoy retry_on): connect-failure, reset, 5xx, gateway-error, refused-stream"),
    statusCodes: z.array(z.number().int().min(100).max(599)).default([]).describe("HTTP status codes that are retried besides the conditions in on (Envoy retriable-status-codes)"),
    idempotent: z
      .boolean()
      .default(false)
      .describe("Every request this caller sends may be repeated safely, POST and PATCH included: without it, retries on a caller that may send them are an error"),
  })
  .refine((r) => r.attempts === 1 || r.on.length + r.statusCodes.length > 0, {
    message: "attempts above 1 need a condition: list on (e.g. [connect-failure, reset]) or statusCodes, or Envoy never retries",
    path: ["on"],
  })
  .prefault({})
  .describe("Retries of requests to the destination (its service-router); an empty object: no retries");

const limitsSchema = z
  .strictObject({
    maxConnections: z.number().int().min(1).max(1_000_000).optional().describe("Connections this caller's proxy opens to the destination at most"),
    maxPendingRequests: z.number().int().min(1).max(1_000_000).optional().describe("Requests queued waiting for a connection (HTTP/1.1 destinations)"),
    maxConcurrentRequests: z.number().int().min(1).max(1_000_000).optional().describe("Requests in flight at once (HTTP/2 and gRPC destinations)"),
  })
  .prefault({})
  .describe("Circuit breakers of this caller's proxy for the destination (service-defaults UpstreamConfig.Overrides[].Limits); omitted: Envoy's defaults");

const upstreamSchema = z.strictObject({
  destination: serviceName.describe("Name of the service this one calls"),
  localBindPort: port.describe("Port on 127.0.0.1 where the app reaches the destination through its sidecar"),
  passiveHealthCheck: passiveHealthCheckSchema,
  timeout: duration
    .optional()
    .describe(
      "Total time a request to the destination may take, retries included (its service-router's RequestTimeout, for every caller); omitted: Consul's 15s on http destinations",
    ),
  retries: retriesSchema,
  limits: limitsSchema,
});

/** Service protocols Consul's service-defaults accepts that this project supports; L7 features need one other than tcp. */
export const PROTOCOLS = ["tcp", "http", "http2", "grpc"] as const;
export type ServiceProtocol = (typeof PROTOCOLS)[number];

const architecture = z
  .enum(["agent", "dataplane"])
  .describe('"agent": a Consul client agent and Envoy in every task (the original); "dataplane": consul-ecs and consul-dataplane, no agent (IAM login)');

/**
 * What RE2 (Envoy's regex engine) cannot compile, found by scanning outside escapes and character
 * classes: Envoy refuses such a regex at runtime, after Consul has accepted it.
 */
export function re2Unsupported(regex: string): string | undefined {
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i]!;
    if (c === "\\") {
      if (!inClass && /[1-9]/.test(regex[i + 1] ?? "")) return `backreference \\${regex[i + 1]}`;
      i++;
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") {
      inClass = true;
      // A ] right after [ or [^ is a literal.
      if (regex[i + 1] === "^") i++;
      if (regex[i + 1] === "]") i++;
    } else if (c === "(" && regex[i + 1] === "?") {
      const rest = regex.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) return `lookaround (?${/^(=|!|<=|<!)/.exec(rest)![1]}`;
      if (rest.startsWith(">")) return "atomic group (?>";
      if (/^(<[A-Za-z_]|')/.test(rest)) return "named group other than (?P<name>...)";
      i++;
    } else if (c === "+" && afterQuantifier) return "possessive quantifier";
    afterQuantifier = "*+?}".includes(c) && !(c === "+" && afterQuantifier);
  }
  return undefined;
}

/** A regular expression Envoy compiles: RE2 syntax. */
const re2Regex = (what: string) =>
  z
    .string()
    .min(1)
    .superRefine((regex, ctx) => {
      const unsupported = re2Unsupported(regex);
      if (unsupported)
        ctx.addIssue({
          code: "custom",
          message: `uses ${unsupported}, which RE2 (Envoy's regex engine) does not support: Envoy would refuse it at runtime; rewrite it without lookaround, backreferences, atomic groups or possessive quantifiers`,
        });
    })
    .describe(`Matches ${what} matching this regular expression (RE2: no lookaround, backreferences, atomic groups or possessive quantifiers; named groups as (?P<name>...))`);

const headerMatchSchema = z
  .strictObject({
    name: z.string().min(1).describe("Header name"),
    present: z.literal(true).optional().describe("Matches when the header is present, whatever its value"),
    exact: z.string().min(1).optional().describe("Matches this value exactly"),
    prefix: z.string().min(1).optional().describe("Matches values starting with this"),
    suffix: z.string().min(1).optional().describe("Matches values ending with this"),
    regex: re2Regex("values").optional(),
    invert: z
      .boolean()
      .default(false)
      .describe("Matches when the test above does not, for a request that has the header: a missing header matches only present: true with invert (Envoy)"),
  })
  .refine((h) => [h.present, h.exact, h.prefix, h.suffix, h.regex].filter((v) => v !== undefined).length === 1, {
    message: "set exactly one of present, exact, prefix, suffix or regex",
  })
  .describe("A request header test (Consul IntentionHTTPHeaderPermission)");

/**
 * A version's name: its Consul subset name (service-resolver Subsets, which must be DNS labels) and the
 * `version` in its instances' service meta; it also ends its ECS service's name (<cluster>-<service>-<version>).
 */
export const VERSION_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const versionName = z.string().max(20, "must be at most 20 characters").regex(VERSION_NAME, "must be lowercase letters, digits and '-', not starting or ending with '-'");

const serviceVersionSchema = z
  .strictObject({
    image: z.string().min(1).optional().describe("This version's container image, pinned by tag or digest; omitted: the service's image"),
    count: z.number().int().min(0).max(1000).default(1).describe("Desired number of tasks of this version; with autoscaling, the count it starts with (then the scaler's)"),
  })
  .describe("One version of the service: its own ECS service and task definition, registered under the service's Consul name with meta version = its name");

const routeSchema = z
  .strictObject({
    pathExact: z.string().regex(/^\//, "must start with /").optional().describe("Matches this path exactly"),
    pathPrefix: z.string().regex(/^\//, "must start with /").optional().describe("Matches paths starting with this"),
    headers: z.array(headerMatchSchema).default([]).describe("Header tests, all of which must match"),
    methods: z.array(z.enum(HTTP_METHODS)).min(1).optional().describe("HTTP methods it matches; omitted: every method"),
    version: versionName.optional().describe("The version of this service that serves the requests it matches (its service-resolver subset)"),
    service: serviceName.optional().describe("Another service that serves the requests it matches, instead of this one"),
  })
  .refine((r) => !(r.pathExact !== undefined && r.pathPrefix !== undefined), { message: "set at most one of pathExact or pathPrefix" })
  .refine((r) => (r.version === undefined) !== (r.service === undefined), { message: "set exactly one of version (of this service) or service (another one)" })
  .refine((r) => r.pathExact !== undefined || r.pathPrefix !== undefined || r.headers.length > 0 || r.methods !== undefined, {
    message: "matches every request: give a path, headers or methods (every other request goes to the split or the default version)",
  })
  .describe("A route of this service's service-router: requests it matches go to a version or another service; the first matching route decides");

/** Application Auto Scaling of one ECS service: target tracking within minCount..maxCount. */
const autoscalingSchema = z
  .strictObject({
    minCount: z.number().int().min(0).max(1000).default(1).describe("Fewest tasks the scaler leaves running"),
    maxCount: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .describe("Most tasks the scaler starts: the capacity, address, rollout and Docker Hub rules count every autoscaled service at this"),
    requestsPerTask: z
      .number()
      .positive()
      .max(1_000_000)
      .optional()
      .describe(
        "Target requests per second per running task, from the service's own proxies (observability.metrics.enabled and protocol http, http2 or grpc); give this or cpuPercent",
      ),
    cpuPercent: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Target average CPU utilization of the service's tasks (ECSServiceAverageCPUUtilization); give this or requestsPerTask"),
    scaleOutCooldownSeconds: z.number().int().min(0).max(3600).default(60).describe("Seconds after a scale-out before the next one: short, so a rising load is met"),
    scaleInCooldownSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(300)
      .describe("Seconds after a scale-in before the next one: long, so a dip in the metric (or its delay) does not drain tasks that are needed again"),
  })
  .refine((a) => (a.requestsPerTask === undefined) !== (a.cpuPercent === undefined), { message: "set exactly one target: requestsPerTask or cpuPercent" })
  .refine((a) => a.minCount <= a.maxCount, { message: "must be at most maxCount", path: ["minCount"] })
  .describe(
    "Target tracking on the desired count (Application Auto Scaling); with versions, each version's ECS service scales on its own within these bounds. Omitted: the count is fixed",
  );

const serviceSchema = z.strictObject({
  image: z.string().min(1).describe("Container image, pinned by tag or digest (no :latest)"),
  imageCredentialsSecretArn: secretsManagerArn
    .optional()
    .describe('Secrets Manager secret {"username","password"} for a private registry (ECS repositoryCredentials), e.g. your Docker Hub account'),
  user: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/, 'must be a user, uid, "user:group" or "uid:gid"')
    .optional()
    .describe('User the app runs as (e.g. "65534" for nobody); unset runs the image\'s default user, often root (a warning)'),
  port: port.optional().describe("Port the app listens on, bound to 127.0.0.1 so only its sidecar reaches it; omit for a pure client"),
  protocol: z
    .enum(PROTOCOLS)
    .default("tcp")
    .describe("What the app speaks (service-defaults Protocol): http, http2 or grpc turn on L7 permissions, timeouts and retries; tcp: connections only"),
  command: z.array(z.string()).optional().describe("Container command; the app must listen on 127.0.0.1:<port>"),
  entryPoint: z
    .array(z.string())
    .min(1)
    .optional()
    .describe("The image's ENTRYPOINT, when a dataplane task wraps it for a graceful stop (consul-ecs app-entrypoint replaces the image's)"),
  architecture: architecture.optional().describe("This service's task architecture; omitted: the mesh's (architecture)"),
  shutdownDelaySeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe(
      "Dataplane tasks: seconds the app keeps serving after the task is told to stop, while Consul already sends callers elsewhere. Omitted: 10 when entryPoint is given, else 0. The whole stop sequence must fit ECS's 120 s stop timeout",
    ),
  count: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(1)
    .describe(
      "Desired number of tasks (a service with versions: each version's count instead); with autoscaling, the count it starts with, within minCount..maxCount (Terraform then leaves it to the scaler)",
    ),
  autoscaling: autoscalingSchema.optional(),
  launchType: z.enum(["EC2", "FARGATE"]).default("EC2"),
  cpuArchitecture: z
    .enum(ECS_CPU_ARCHITECTURES)
    .optional()
    .describe(
      "CPU architecture of the tasks (ECS runtimePlatform). Omitted: fargateCpuArchitecture on Fargate; on EC2, the hosts' (ecsHosts.instanceType). ARM64 runs on Graviton",
    ),
  cpu: z.number().int().positive().default(256).describe("Task CPU units"),
  memory: z.number().int().positive().default(512).describe("Task memory (MiB)"),
  appMemory: z.number().int().positive().optional().describe("Hard memory limit of the app container (MiB)"),
  healthCheck: healthCheckSchema.default({ type: "none" }),
  upstreams: z
    .array(upstreamSchema)
    .default([])
    .describe("Services this one calls, each through its sidecar on 127.0.0.1:localBindPort; a declared upstream is allowed unless an intention says otherwise"),
  environment: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name"), z.string())
    .default({})
    .describe("Plain, non-secret environment variables for the app; names that look secret are refused (use secrets)"),
  allowPlaintextEnvironment: z.array(z.string()).default([]).describe("Environment variable names that look secret (PASSWORD, TOKEN, ...) but are not: allowed in environment"),
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), secretRef).default({}),
  readonlyRootFilesystem: z.boolean().default(true).describe("Set false only when the app image must write to /"),
  enableExecuteCommand: z.boolean().default(false).describe("Allow ECS Exec into this service's tasks (audited, replaces SSH); needs readonlyRootFilesystem: false on the app"),
  assignPublicIp: z.boolean().default(false).describe("Fargate only: run the tasks in the public subnets with a public IP (an explicit opening; a warning)"),
  versions: z
    .record(versionName, serviceVersionSchema)
    .default({})
    .describe(
      "Versions of the service running at once (a canary): each its own ECS service under this Consul name, told apart by its version meta; every other field is the service's. The first by name is the default version and keeps the service's ECS service (<cluster>-<service>), so versions added to a running service roll it in place; the others are <cluster>-<service>-<version>. Empty: one ECS service, as without versions",
    ),
  split: z
    .record(versionName, z.number().int().min(0).max(100))
    .optional()
    .describe(
      "Percent of the requests (not matched by a route) each version gets (service-splitter); they add up to 100. Omitted: every request goes to the default version (the first by name)",
    ),
  routes: z.array(routeSchema).default([]).describe("Requests sent to a version or another service by path, header or method (service-router), before the split"),
});

const permissionSchema = z
  .strictObject({
    action: z.enum(["allow", "deny"]).describe("What happens to a request this permission matches"),
    methods: z.array(z.enum(HTTP_METHODS)).min(1).optional().describe("HTTP methods it matches; omitted: every method"),
    pathExact: z.string().regex(/^\//, "must start with /").optional().describe("Matches this path exactly"),
    pathPrefix: z.string().regex(/^\//, "must start with /").optional().describe("Matches paths starting with this"),
    pathRegex: re2Regex("paths").optional(),
    headers: z.array(headerMatchSchema).default([]).describe("Header tests, all of which must match"),
  })
  .refine((p) => [p.pathExact, p.pathPrefix, p.pathRegex].filter((v) => v !== undefined).length <= 1, {
    message: "set at most one of pathExact, pathPrefix or pathRegex",
  })
  .refine((p) => p.methods !== undefined || p.pathExact !== undefined || p.pathPrefix !== undefined || p.pathRegex !== undefined || p.headers.length > 0, {
    message: "matches every request: give methods, a path or headers, or use the intention's action instead of permissions",
  })
  .describe("One L7 rule: the first permission matching a request decides it; a request none matches is denied (the default deny)");

const intentionSchema = z
  .strictObject({
    source: z.union([serviceName, z.literal("*")]).describe("Calling service, or * for every service"),
    destination: serviceName.describe("Called service"),
    action: z.enum(["allow", "deny"]).optional().describe("Allow or deny every request (L4); give this or permissions"),
    permissions: z
      .array(permissionSchema)
      .min(1)
      .optional()
      .describe("Allow or deny by HTTP method, path and headers, in order (L7; the destination's protocol must be http, http2 or grpc); give this or action"),
  })
  .refine((i) => (i.action === undefined) !== (i.permissions === undefined), { message: "set exactly one of action (L4) or permissions (L7)" });

/** Seconds between two scrapes of a proxy's stats: what CloudWatch charges and how fresh an alarm is. */
export const METRICS_INTERVALS = [10, 30, 60] as const;

/** An Amazon Managed Service for Prometheus workspace (its ARN: arn:<partition>:aps:<region>:<account>:workspace/<id>). */
export const PROMETHEUS_WORKSPACE_ARN = /^arn:aws[a-z-]*:aps:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):workspace\/(ws-[0-9A-Za-z-]+)$/;

const prometheusSchema = z
  .strictObject({
    workspace: z
      .union([
        z.literal("create"),
        z.string().regex(PROMETHEUS_WORKSPACE_ARN, "must be create, or an Amazon Managed Service for Prometheus workspace ARN (arn:aws:aps:<region>:<account>:workspace/ws-...)"),
      ])
      .describe(
        "create: the mesh creates a workspace (alias <cluster>-mesh, encrypted with an AWS owned key); or the ARN of an existing workspace in the mesh's region and account (the task roles sign remote writes as themselves)",
      ),
  })
  .describe(
    "Also remote-write the same golden signals (the collector's catalogue filter) to Amazon Managed Service for Prometheus, beside CloudWatch; each task's role may only aps:RemoteWrite to this workspace",
  );

const observabilitySchema = z
  .strictObject({
    metrics: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            "Every mesh task's Envoy (agent sidecar or consul-dataplane) and the TLS edge's Envoy serve their stats on a loopback stats-only listener, and a collector in each task ships the golden signals to CloudWatch (EMF)",
          ),
        intervalSeconds: z
          .literal(METRICS_INTERVALS, { message: `must be one of ${METRICS_INTERVALS.join(", ")}` })
          .default(60)
          .describe("Seconds between scrapes (and Envoy's stats flush, the window of the latency percentiles): shorter costs more log ingestion"),
        prometheus: prometheusSchema.optional(),
      })
      .refine((m) => m.prometheus === undefined || m.enabled, {
        message: "the Prometheus destination receives the proxies' metrics: set metrics.enabled: true too, or remove metrics.prometheus",
        path: ["prometheus"],
      })
      .prefault({})
      .describe("Request rate, 5xx rate, p50/p99 latency, outlier ejections and healthy upstreams per service and per call edge, and one dashboard per mesh"),
    accessLogs: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            "Every mesh proxy (agent sidecars, consul-dataplane, the TLS edge's Envoy) writes one JSON line per request or connection to its stdout, which the container's awslogs driver ships to the service's log group",
          ),
      })
      .prefault({})
      .describe("JSON access logs: upstream cluster, response code and flags, duration, bytes, request ID, method, path, authority, addresses, start time"),
    traces: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            "Every mesh proxy (agent sidecars and consul-dataplane) and the TLS edge's Envoy trace the HTTP requests they handle with Envoy's OpenTelemetry tracer, and the collector in each task sends the spans to AWS X-Ray; only L7 services (protocol http, http2 or grpc) and the TLS edge make spans",
          ),
        samplingPercent: z
          .number()
          .gt(0, "must be above 0 (turn traces off with enabled: false)")
          .max(100)
          .default(1)
          .describe(
            "Percent of requests a proxy starts a trace for (Envoy random_sampling); a request that arrives with a sampled W3C traceparent is traced whatever this says. X-Ray charges per trace recorded",
          ),
      })
      .prefault({})
      .describe("Request traces from every mesh proxy to AWS X-Ray (W3C trace context; the app must forward traceparent from its inbound request to its outbound ones)"),
    alarms: z
      .strictObject({
        enabled: z.boolean().default(false).describe("Per service: 5xx rate, p99 latency and no healthy upstream alarms (needs metrics.enabled)"),
        snsTopicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "must be an SNS topic ARN")
          .optional()
          .describe("Where alarms and their recovery are sent; omitted: the alarms only change state"),
        errorRatePercent: z.number().min(0.1).max(100).default(5).describe("5xx responses above this percent of a service's requests"),
        p99LatencyMs: z.number().int().min(1).max(3_600_000).default(1000).describe("99th percentile latency of a service's responses above this (ms)"),
        evaluationPeriods: z.number().int().min(1).max(60).default(5).describe("Consecutive metric intervals a signal must breach before its alarm fires"),
      })
      .prefault({}),
  })
  .refine((o) => !o.alarms.enabled || o.metrics.enabled, { message: "alarms read the proxies' metrics: set metrics.enabled: true too", path: ["alarms", "enabled"] })
  .prefault({})
  .describe("Golden signals from the mesh's proxies: metrics, a dashboard, alarms, access logs and traces; everything off unless turned on");

export const meshSpecSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path of the JSON Schema, for editors"),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be lowercase letters, digits and '-', starting with a letter")
      .min(2, "must be at least 2 characters")
      .max(MAX_CLUSTER_NAME, `must be at most ${MAX_CLUSTER_NAME} characters, so derived names fit IAM name prefixes (38)`)
      .default("consul-ecs")
      .describe("The ECS cluster's name and the prefix of every resource name (each checked against its AWS limit)"),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1")
      .default("us-east-1"),
    network: z
      .strictObject({
        vpcCidr: cidr.default("10.0.0.0/16"),
        zones: z
          .array(
            z.strictObject({
              privateSubnet: cidr.describe("Subnet of the hosts, servers and tasks in this zone (no route from the internet)"),
              publicSubnet: cidr.optional().describe("Subnet of this zone's NAT gateway (and load balancers); needed where a NAT gateway runs"),
              availabilityZone: availabilityZone.optional().describe("Omitted: the region's next available zone"),
            }),
          )
          .min(1, "must list at least one zone")
          .max(3, "at most 3 zones")
          .default([{ privateSubnet: "10.0.101.0/24", publicSubnet: "10.0.1.0/28" }])
          .describe("One entry per availability zone (1-3), each with its private subnet and, for NAT, a small public subnet"),
        egress: z
          .enum(["nat-gateway", "nat-gateway-per-zone", "vpc-endpoints"])
          .default("nat-gateway")
          .describe("How the private subnets reach AWS APIs and registries: one shared NAT gateway, a NAT gateway per zone, or VPC endpoints only (no internet)"),
        publicInstances: z
          .boolean()
          .default(false)
          .describe("The original demo's exposure: the server and hosts in the public subnets with public IPs (a warning; never in production)"),
      })
      .prefault({}),
    consul: z
      .strictObject({
        datacenter: z
          .string()
          .regex(/^[a-z0-9-]+$/, "must be lowercase letters, digits and '-'")
          .default("aws"),
        serverInstanceType: instanceType.default("t3.micro"),
        servers: z.number().int().default(1).describe("Consul servers: 3 or 5 in production (Raft quorum), 1 for a demo"),
        serverPrivateIps: z
          .array(ipv4)
          .optional()
          .describe("Fixed addresses, one per server (the original's 10.0.101.100). Omitted: an Auto Scaling group per server, found by EC2 tag (cloud auto-join)"),
        dataVolumeGiB: z.number().int().min(1).max(1024).default(10).describe("Encrypted EBS volume per server for Raft data; it survives server replacement"),
        snapshots: z
          .strictObject({
            enabled: z.boolean().default(true),
            intervalMinutes: z.number().int().min(5).max(1440).default(60),
            retentionDays: z.number().int().min(1).max(3650).default(30),
          })
          .prefault({})
          .describe("consul snapshot save to a versioned, KMS-encrypted S3 bucket"),
        releaseS3Uri: z
          .string()
          .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+\.zip$/, "must be s3://<bucket>/<key>.zip")
          .optional()
          .describe("Where servers download the Consul release zip when they have no internet (egress vpc-endpoints); checked against the pinned SHA-256"),
      })
      .prefault({}),
    ecsHosts: z
      .strictObject({
        instanceType: instanceType.default("t3.small").describe("Sized for its ENI count: awsvpc tasks per host = ENIs - 1"),
        privateIps: z
          .array(ipv4)
          .min(1)
          .optional()
          .describe(`Fixed hosts, one per address. Omitted without autoScaling: the original's ${DEFAULT_ECS_HOST_IPS.join(" and ")}`),
        autoScaling: z
          .strictObject({
            minSize: z.number().int().min(0).max(1000).default(1),
            maxSize: z.number().int().min(1).max(1000),
            targetCapacityPercent: z.number().int().min(1).max(100).default(100).describe("ECS managed scaling target: 100 packs hosts, lower keeps spare room"),
          })
          .optional()
          .describe("An Auto Scaling group across the zones behind an ECS capacity provider (managed scaling and termination protection)"),
      })
      .refine((hosts) => !(hosts.privateIps && hosts.autoScaling), "set privateIps (fixed hosts) or autoScaling (an Auto Scaling group), not both")
      // One placement, always: the Auto Scaling group when asked for, else fixed hosts.
      .transform(({ instanceType, privateIps, autoScaling }) =>
        autoScaling ? { instanceType, autoScaling } : { instanceType, privateIps: privateIps ?? [...DEFAULT_ECS_HOST_IPS] },
      )
      .prefault({}),
    images: z
      .strictObject({
        pullThroughCache: z
          .boolean()
          .default(true)
          .describe("Pull the mesh's images published on ECR Public through an ECR pull-through cache (private KMS-encrypted copies in your account, no Docker Hub limits)"),
        dockerHubCredentialsSecretArn: secretsManagerArn
          .regex(/:secret:ecr-pullthroughcache\//, "must be a secret named ecr-pullthroughcache/... (ECR requires the prefix)")
          .optional()
          .describe("Docker Hub credentials for a pull-through cache of the mesh images only on Docker Hub (Envoy); omitted: pulled from Docker Hub directly"),
        allowAnonymousDockerHubPulls: z
          .boolean()
          .default(false)
          .describe(
            "Let Fargate agent tasks pull Envoy from Docker Hub anonymously on every start (10 pulls per hour per NAT address: a crash loop locks the service out for an hour); off: such a service is an error until it has dockerHubCredentialsSecretArn, the dataplane architecture or EC2",
          ),
      })
      .prefault({}),
    logRetentionDays: z
      .literal(LOG_RETENTION_DAYS, { message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}` })
      .default(365)
      .describe("CloudWatch Logs retention in days (one of the values CloudWatch accepts; 365 or more for CKV_AWS_338)"),
    services: z
      .record(serviceName, serviceSchema)
      .refine((services) => Object.keys(services).length > 0, "must define at least one service")
      .describe("Services keyed by Consul service name (also the suffix of the ECS service and task family)"),
    architecture: architecture.default("agent"),
    fargateCpuArchitecture: z
      .enum(ECS_CPU_ARCHITECTURES)
      .default(CPU_ARCHITECTURES.x86_64.ecs)
      .describe("CPU architecture of every Fargate service that does not set cpuArchitecture (EC2 services run on the hosts')"),
    versions: z
      .strictObject({
        consul: z.enum(Object.keys(CONSUL_RELEASES) as [keyof typeof CONSUL_RELEASES, ...(keyof typeof CONSUL_RELEASES)[]]).default(DEFAULT_VERSIONS.consul),
        consulEcs: version("0.10.0").default(DEFAULT_VERSIONS.consulEcs),
        consulDataplane: version("2.0.1").default(DEFAULT_VERSIONS.consulDataplane),
        envoy: version("1.37.11").default(DEFAULT_VERSIONS.envoy),
        fips: z
          .boolean()
          .default(DEFAULT_VERSIONS.fips)
          .describe(
            "Run the FIPS 140-2 builds of consul-ecs and consul-dataplane (public.ecr.aws/hashicorp/<name>-fips:<version>-fips1402, lib/versions.ts FIPS_IMAGES); dataplane services only: the Consul servers (CE) and Envoy of agent tasks and the TLS edge are not FIPS builds",
          ),
      })
      .prefault({})
      .describe("Versions from HashiCorp's compatibility tables (lib/versions.ts); a pair outside them is an error"),
    tlsEdge: tlsEdgeSchema.optional().describe("System 2: an Envoy sidecar terminating TLS inside a Fargate task, found through Cloud Map"),
    intentions: z.array(intentionSchema).default([]).describe("Service-to-service authorization; anything not allowed (explicitly or by an upstream) is denied"),
    observability: observabilitySchema,
    traffic: z
      .strictObject({
        maxRetryAmplification: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(4)
          .describe("The product of retry attempts along any call path stays at or under this, so one failure deep in the graph cannot become a storm of requests"),
      })
      .prefault({})
      .describe("Bounds the L7 traffic rules check over the call graph (lib/rules/traffic.ts)"),
  })
  .describe("A Consul service mesh on AWS ECS");

/**
 * Fields of 0.1.0's spec that are gone, by path (formatPath), with what replaces
 * them: the structure check names the replacement instead of calling the key unknown.
 */
export const RETIRED_FIELDS: Readonly<Record<string, string>> = {
  availabilityZone: "(0.1.0) was removed: set network.zones[0].availabilityZone (each zone names its own)",
  "network.publicSubnetCidr":
    "(0.1.0) was replaced by network.zones: the subnet is private now, so write it as network.zones[0].privateSubnet, with a small publicSubnet for the NAT gateway (network.publicInstances: true gives the old public exposure)",
  "consul.serverPrivateIp": "(0.1.0) was renamed to consul.serverPrivateIps, a list with one address per server: serverPrivateIps: [<address>]",
};

export type MeshSpec = z.output<typeof meshSpecSchema>;
export type MeshSpecInput = z.input<typeof meshSpecSchema>;
export type ServiceSpec = z.output<typeof serviceSchema>;
export type PassiveHealthCheckSpec = z.output<typeof passiveHealthCheckSchema>;
export type RetriesSpec = z.output<typeof retriesSchema>;
export type LimitsSpec = z.output<typeof limitsSchema>;
export type UpstreamSpec = z.output<typeof upstreamSchema>;
export type PermissionSpec = z.output<typeof permissionSchema>;
export type IntentionSpec = z.output<typeof intentionSchema>;
export type HealthCheckSpec = z.output<typeof healthCheckSchema>;
export type SecretRefSpec = z.output<typeof secretRef>;
export type RouteSpec = z.output<typeof routeSchema>;
export type ObservabilitySpec = z.output<typeof observabilitySchema>;
export type AutoscalingSpec = z.output<typeof autoscalingSchema>;
