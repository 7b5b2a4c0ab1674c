// System 2, "TLS all the way to the container": the spec of the tls-edge stack. The mesh spec
// embeds it as `tlsEdge` (optional); this file owns its fields, defaults and cross-field rules.
// Defaults mirror the original demo (service envoy-ssl-tutorial in namespace dev, Fargate
// 0.25 vCPU / 512 MiB, one task) except where the original was insecure (public IP, 0.0.0.0/0).
import { z } from "zod";
import { ECR_REPOSITORY_NAME, ECS_CPU_ARCHITECTURES, fargateSizeProblem, IMAGE_TAG, LOG_RETENTION_DAYS, NAME_LIMITS } from "../aws-limits";
import { imageTagProblem, INVALID_TAG } from "../image-reference";
import { TLS_EDGE_PORTS } from "../facts";

/** One DNS label (RFC 1035): lowercase letters, digits and '-', not starting or ending with '-'. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** A DNS name is at most 253 characters (RFC 1035, as Route 53 counts it). */
const MAX_DNS_NAME = 253;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

export const cidr = z.cidrv4({ message: "must be an IPv4 CIDR block such as 10.0.0.0/16" });
export const port = z.number().int().min(1, "must be between 1 and 65535").max(65535, "must be between 1 and 65535");

export type TlsEdgeNetwork = { readonly from: "mesh" } | { readonly from: "existing"; readonly vpcId: string; readonly vpcCidr?: string; readonly subnetIds: string[] };

/**
 * Where the service runs. `{ from: "mesh" }`: the mesh stack's VPC and its private subnets (public
 * ones with assignPublicIp), passed in by the app. Otherwise an existing VPC, as in the original,
 * named here and only here (the rules read it: another environment is another spec file); a
 * missing vpcCidr is read from the VPC.
 */
const networkSchema = z
  .strictObject({
    from: z
      .enum(["mesh", "existing"])
      .optional()
      .describe('"mesh": the mesh stack\'s VPC and subnets; "existing": a VPC of yours (vpcId and subnetIds). Omitted: "existing" when an ID is given, else "mesh"'),
    vpcId: z.string().regex(VPC_ID, "must be a VPC ID such as vpc-0abc12345def67890").optional().describe("Existing VPC of the tasks (required for an existing VPC)"),
    vpcCidr: cidr.optional().describe("CIDR of the existing VPC: the default HTTPS clients. Omitted: read from the VPC at plan time"),
    subnetIds: z
      .array(z.string().regex(SUBNET_ID, "must be a subnet ID such as subnet-0abc12345def67890"))
      .min(1, "must list at least one subnet")
      .optional()
      .describe("Subnets of the tasks in the existing VPC, at most one per availability zone (required for an existing VPC)"),
  })
  .superRefine((network, ctx) => {
    const issue = customIssue(ctx);
    if (network.from === "mesh") {
      for (const key of ["vpcId", "vpcCidr", "subnetIds"] as const) {
        if (network[key] !== undefined) issue([key], `the mesh's network brings its own ${key}; remove ${key} or set from: "existing"`);
      }
      return;
    }
    if (network.from === undefined && Object.values(network).every((v) => v === undefined)) return;
    for (const key of ["vpcId", "subnetIds"] as const) {
      if (network[key] === undefined) {
        issue([key], `an existing VPC needs its ${key} here (it is no longer a Terraform variable: another environment is another spec file), or set from: "mesh"`);
      }
    }
  })
  .transform((network): TlsEdgeNetwork => {
    const { vpcId, vpcCidr, subnetIds } = network;
    if (vpcId === undefined || subnetIds === undefined) return { from: "mesh" };
    return { from: "existing", vpcId, ...(vpcCidr === undefined ? {} : { vpcCidr }), subnetIds };
  });

export const tlsEdgeSchema = z
  .strictObject({
    serviceName: z
      .string()
      .min(1, "must not be empty")
      .max(NAME_LIMITS.cloudMapServiceName, `must be at most ${NAME_LIMITS.cloudMapServiceName} characters (Cloud Map service name)`)
      .regex(/^[a-z0-9-]+$/, "must be lowercase letters, digits and '-' (it names the ECS cluster, the Cloud Map service and the ECR repository)")
      .default("envoy-ssl-tutorial")
      .describe("Name of the ECS cluster, service and task family, the Cloud Map service (DNS <serviceName>.<namespace>) and the log group /ecs/<serviceName>"),
    namespace: z
      .string()
      .min(1, "must not be empty")
      .max(MAX_DNS_NAME, `must be at most ${MAX_DNS_NAME} characters (a DNS name)`)
      .default("dev")
      .describe("Cloud Map private DNS namespace created in the VPC (a DNS name such as dev or internal.example)"),
    appPort: port.default(8080).describe(`Port the app listens on at 127.0.0.1; 1024 or above, not ${TLS_EDGE_PORTS.ready} (Envoy's ready listener)`),
    cpu: z.number().int().positive().default(256).describe("Fargate task CPU units (256 = 0.25 vCPU)"),
    memory: z.number().int().positive().default(512).describe("Fargate task memory (MiB); must be allowed for the CPU value"),
    cpuArchitecture: z
      .enum(ECS_CPU_ARCHITECTURES)
      // Not the mesh's fargateCpuArchitecture: the edge ran X86_64 before this field existed, and an
      // ARM64 mesh upgrading must not move its edge onto images pushed for amd64.
      .default("X86_64")
      .describe(
        "CPU architecture of the tasks (ECS runtimePlatform; ARM64 runs on Graviton). scripts/push-images.sh builds the app for it and checks the mirrored Envoy (and collector) publish it. Independent of the mesh's fargateCpuArchitecture",
      ),
    desiredCount: z.number().int().min(0).max(1000).default(1).describe("Number of tasks once an app image tag is set (0 tasks until then)"),
    allowedCidrs: z.array(cidr).default([]).describe("Client networks allowed to port 443; empty (the default) means the VPC CIDR only"),
    assignPublicIp: z
      .boolean()
      .default(false)
      .describe("Give tasks a public IP (the original did). Only to reach AWS APIs without NAT or VPC endpoints; ingress stays limited to the allowed networks"),
    vpcEndpoints: z
      .boolean()
      .default(false)
      .describe(
        "Create VPC endpoints (ECR API, ECR Docker, CloudWatch Logs, Secrets Manager, S3 gateway) in an existing VPC without a NAT gateway, so tasks without a public IP pull images and read secrets privately. " +
          "Off by default: the mesh's network has a NAT gateway or endpoints of its own (this would duplicate them), and an existing VPC is assumed to have either",
      ),
    logRetentionDays: z
      .literal(LOG_RETENTION_DAYS, { message: `must be one of ${LOG_RETENTION_DAYS.join(", ")}` })
      .default(365)
      .describe("CloudWatch Logs retention of /ecs/<serviceName>"),
    caGeneration: z
      .number()
      .int()
      .min(1)
      .max(9999)
      .default(1)
      .describe("Generation of the edge's CA, which scripts/tls-edge-ca.sh makes outside Terraform and the tasks pin: raise it by one to rotate the CA"),
    appImageTag: z
      .string()
      // The pattern also goes into the JSON Schema (editors); the rule below then finds only the floating tag.
      .regex(IMAGE_TAG, { message: INVALID_TAG, abort: true })
      .superRefine((tag, ctx) => {
        const problem = imageTagProblem(tag);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe("Default of the Terraform variable app_image_tag. Omitted: the service runs 0 tasks until app_image_tag is set"),
    ecrRepositoryName: z
      .string()
      .superRefine((name, ctx) => {
        const problem = ecrRepositoryNameProblem(name);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe("ECR repository of the app image; default <serviceName>/flask-app"),
    network: networkSchema.default({ from: "mesh" }).describe("The mesh's VPC, or an existing VPC"),
  })
  .superRefine((spec, ctx) => {
    const issue = customIssue(ctx);
    const size = fargateSizeProblem(spec.cpu, spec.memory);
    if (size) issue([size.field], size.message);
    const portProblem = appPortProblem(spec.appPort);
    if (portProblem) issue(["appPort"], portProblem);
    // The service name is the first label of its A record (Cloud Map, RFC 1035).
    if (spec.serviceName.length > NAME_LIMITS.dnsLabel || !DNS_LABEL.test(spec.serviceName)) {
      issue(
        ["serviceName"],
        `must be a DNS label (at most ${NAME_LIMITS.dnsLabel} characters, not starting or ending with '-'): it is the host name ${spec.serviceName}.${spec.namespace}`,
      );
    }
    spec.namespace.split(".").forEach((label, i) => {
      if (label.length > NAME_LIMITS.dnsLabel || !DNS_LABEL.test(label)) {
        issue(["namespace"], `label ${i + 1} ("${label}") must be 1-${NAME_LIMITS.dnsLabel} lowercase letters, digits or '-', not starting or ending with '-'`);
      }
    });
    const fqdn = `${spec.serviceName}.${spec.namespace}`;
    if (fqdn.length > MAX_DNS_NAME) issue(["namespace"], `${fqdn} is longer than ${MAX_DNS_NAME} characters (a DNS name)`);
    spec.allowedCidrs.forEach((block, i) => {
      if (block.endsWith("/0")) issue(["allowedCidrs", i], "must not be the whole internet: list the client networks (the default, [], allows the VPC only)");
    });
  })
  .describe("System 2: an Envoy sidecar terminating TLS inside a Fargate task, found through Cloud Map private DNS");

/** Reports a custom issue at a path under the value being refined. */
function customIssue(ctx: z.RefinementCtx): (path: PropertyKey[], message: string) => void {
  return (path, message) => ctx.addIssue({ code: "custom", path, message });
}

/** Why a port cannot be the app's (Envoy holds 443 and the admin port; the app is not root), or undefined. */
function appPortProblem(appPort: number): string | undefined {
  if (appPort === TLS_EDGE_PORTS.listener) return `${appPort} is Envoy's TLS listener in the same task; choose another port such as 8080`;
  if (appPort === TLS_EDGE_PORTS.ready) return `${appPort} is Envoy's ready listener in the same task; choose another port such as 8080`;
  if (appPort < 1024) return `${appPort} is a privileged port and the app runs as a non-root user; choose 1024 or above`;
  return undefined;
}

/**
 * Why a repository name ECR refuses, or undefined (CreateRepository: at least 2 characters, the
 * pattern). Its length limit, and the names made from serviceName, are the name rule's (lib/rules/names.ts).
 */
function ecrRepositoryNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return `ECR repository names are lowercase; use "${name.toLowerCase()}"`;
  if (name.length < 2 || !ECR_REPOSITORY_NAME.test(name)) {
    return `"${name}" is not a valid ECR repository name (at least 2 characters, lowercase segments of letters and digits joined by '.', '_', '-' or '/')`;
  }
  return undefined;
}

export type TlsEdgeSpec = z.output<typeof tlsEdgeSchema>;
export type TlsEdgeSpecInput = z.input<typeof tlsEdgeSchema>;
