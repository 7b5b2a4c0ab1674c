// The IAM judge: every AWS call the mesh makes is allowed by the policies in force, and every
// grant is used by a call. The calls come from what runs (tools/judges/iam-calls.ts: the server
// scripts run under the script runner, and a sourced table of what the ECS agent, consul-ecs,
// Consul and the SSM agent call on a role's behalf, with the implicit KMS calls AWS documents).
// Each call is evaluated by @cloud-copilot/iam-simulate against the role's identity policies
// (inline, and the AWS managed policies below), the KMS key policy, the bucket policy and the
// policies of the stack's VPC endpoints for its service, with
// resources resolved from the synthesized JSON: Terraform references become stand-in values
// (one account, the stack's region, names from the resources' own name or prefix).
//
// iam-simulate is AGPL-3.0: it is a development dependency of this review tooling only, never
// imported by lib/ or stacks/ (README, Licence).
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { createHash } from "node:crypto";
import { materializeTerraformString } from "./index";

// biome-ignore lint/suspicious/noExplicitAny: a synthesized Terraform document, walked by key
export type TerraformDoc = Record<string, any>;

/** The account every stand-in ARN is in. */
export const STAND_IN_ACCOUNT = "111122223333";

/** A deterministic stand-in for what AWS generates (IDs, name suffixes): hex of a name. */
function hexOf(name: string, length: number): string {
  return createHash("sha256").update(name).digest("hex").slice(0, length);
}

function uuidOf(name: string): string {
  const h = hexOf(name, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Stand-in values of a stack's Terraform references, consistent across everything that names
 * them: a policy's `${aws_kms_key.k.arn}` and a script's `--sse-kms-key-id` become the same ARN.
 */
export class StackValues {
  readonly partition = "aws";
  readonly account = STAND_IN_ACCOUNT;
  readonly region: string;

  constructor(
    readonly stack: string,
    readonly doc: TerraformDoc,
    /** SSM parameters another stack writes (name -> its value there): what this stack's aws_ssm_parameter data sources read. @default none */
    private readonly published: ReadonlyMap<string, string> = new Map(),
  ) {
    // The stack's region is the spec's, written into its AWS provider.
    const region = doc.provider?.aws?.[0]?.region;
    if (typeof region !== "string" || region.includes("${"))
      throw new Error(`${stack}: its AWS provider has no literal region (${JSON.stringify(region)}): the judge cannot tell which ARNs are this stack's`);
    this.region = region;
  }

  /** A string of the stack with every reference replaced by its stand-in, `$${` read as `${`. */
  text(value: string): string {
    return materializeTerraformString(value, (expression) => this.expression(expression));
  }

  /** A policy document (a JSON string with references) as an object. */
  policy(value: unknown): { Version: string; Statement: Record<string, unknown>[] } {
    const parsed = JSON.parse(this.text(String(value)));
    return { ...parsed, Statement: [parsed.Statement].flat() };
  }

  /** A resource's tags with their values resolved (conditions on aws:ResourceTag read them). */
  policyTags(tags: unknown): Record<string, string> {
    return Object.fromEntries(Object.entries((tags ?? {}) as Record<string, unknown>).map(([k, v]) => [k, this.text(String(v))]));
  }

  resource(type: string, name: string): TerraformDoc | undefined {
    return this.doc.resource?.[type]?.[name];
  }

  /** The resource a string refers to in full (`${aws_x.y.attr}`), with the attribute. */
  referenced(value: unknown): { type: string; name: string; attribute: string } | undefined {
    const m = typeof value === "string" ? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$/.exec(value) : null;
    return m ? { type: m[1]!, name: m[2]!, attribute: m[3]! } : undefined;
  }

  private expression(expression: string): string {
    const parts = expression.split(".");
    if (!/^[A-Za-z0-9_.-]+$/.test(expression)) return `unresolved(${hexOf(expression, 8)})`;
    if (parts[0] === "var") return this.variable(parts[1]!);
    if (parts[0] === "local") return this.text(String(this.doc.locals?.[parts[1]!] ?? `local-${parts[1]}`));
    if (parts[0] === "data") {
      const [, type, , attribute] = parts;
      if (type === "aws_partition") return attribute === "dns_suffix" ? "amazonaws.com" : this.partition;
      if (type === "aws_caller_identity") return this.account;
      if (type === "aws_region") return this.region;
      // A parameter another stack of the app writes: its value there (the mesh's workspace for the TLS edge).
      if (type === "aws_ssm_parameter" && attribute === "value") {
        const name = this.doc.data?.aws_ssm_parameter?.[parts[2]!]?.name;
        const value = typeof name === "string" ? this.published.get(name) : undefined;
        if (value !== undefined) return value;
      }
      return `data-${hexOf(expression, 12)}`;
    }
    if (parts.length === 3) return this.attribute(parts[0]!, parts[1]!, parts[2]!);
    return `unresolved(${hexOf(expression, 8)})`;
  }

  private variable(name: string): string {
    const value = this.doc.variable?.[name]?.default;
    return typeof value === "string" ? this.text(value) : typeof value === "number" ? String(value) : `var-${name}`;
  }

  /** The name a resource gets: its name, or its prefix with Terraform's 26-character suffix. */
  nameOf(type: string, name: string): string {
    const r = this.resource(type, name) ?? {};
    if (typeof r.name === "string") return this.text(r.name);
    if (typeof r.bucket === "string") return this.text(r.bucket);
    const prefix = r.name_prefix ?? r.bucket_prefix;
    if (typeof prefix === "string") return `${this.text(prefix)}20261207000000${hexOf(name, 12)}`;
    return `${name.replace(/_/g, "-")}`;
  }

  private attribute(type: string, name: string, attribute: string): string {
    const r = this.resource(type, name) ?? {};
    const resourceName = this.nameOf(type, name);
    const { partition: p, region: re, account: a } = this;
    const arns: Record<string, () => string> = {
      aws_iam_role: () => `arn:${p}:iam::${a}:role${r.path ? this.text(r.path) : "/"}${resourceName}`,
      aws_kms_key: () => `arn:${p}:kms:${re}:${a}:key/${uuidOf(name)}`,
      aws_secretsmanager_secret: () => `arn:${p}:secretsmanager:${re}:${a}:secret:${resourceName}-${hexOf(name, 6)}`,
      aws_ebs_volume: () => `arn:${p}:ec2:${re}:${a}:volume/vol-${hexOf(name, 17)}`,
      aws_s3_bucket: () => `arn:${p}:s3:::${resourceName}`,
      aws_cloudwatch_log_group: () => `arn:${p}:logs:${re}:${a}:log-group:${resourceName}`,
      aws_ecs_cluster: () => `arn:${p}:ecs:${re}:${a}:cluster/${resourceName}`,
      aws_ssm_parameter: () => `arn:${p}:ssm:${re}:${a}:parameter/${resourceName.replace(/^\//, "")}`,
      aws_ecr_repository: () => `arn:${p}:ecr:${re}:${a}:repository/${resourceName}`,
      aws_autoscaling_group: () => `arn:${p}:autoscaling:${re}:${a}:autoScalingGroup:${uuidOf(name)}:autoScalingGroupName/${resourceName}`,
      aws_iam_instance_profile: () => `arn:${p}:iam::${a}:instance-profile/${resourceName}`,
      aws_prometheus_workspace: () => `arn:${p}:aps:${re}:${a}:workspace/ws-${hexOf(name, 12)}`,
    };
    switch (attribute) {
      case "arn":
        return (arns[type] ?? (() => `arn:${p}:${type.replace(/^aws_/, "")}:${re}:${a}:${name}`))();
      case "id":
        if (type === "aws_ebs_volume") return `vol-${hexOf(name, 17)}`;
        if (type === "aws_instance") return `i-${hexOf(name, 17)}`;
        if (type === "aws_secretsmanager_secret" || type === "aws_ecs_cluster") return this.attribute(type, name, "arn");
        if (type === "aws_iam_role" || type === "aws_s3_bucket" || type === "aws_cloudwatch_log_group" || type === "aws_iam_instance_profile") return resourceName;
        return `${type}-${hexOf(name, 12)}`;
      case "key_id":
        return uuidOf(name);
      case "unique_id":
        if (type === "aws_iam_role") return `AROA${hexOf(name, 17).toUpperCase()}`;
        return `${type}.${name}.${attribute}`;
      case "name":
      case "bucket":
        return resourceName;
      case "prometheus_endpoint":
        return `https://aps-workspaces.${re}.amazonaws.com/workspaces/ws-${hexOf(name, 12)}/`;
      case "repository_url":
        return `${a}.dkr.ecr.${re}.amazonaws.com/${resourceName}`;
      case "value":
        return typeof r.value === "string" ? this.text(r.value) : `value-${name}`;
      default:
        return `${type}.${name}.${attribute}`;
    }
  }
}

/** A call to AWS made with a role's credentials. */
export interface AwsCall {
  readonly stack: string;
  /** The role's resource name (aws_iam_role.<name>). */
  readonly role: string;
  /** Who makes it, as an operator would say it. */
  readonly caller: string;
  readonly action: string;
  /** The resource's ARN (a stand-in), or "*" for actions without resource-level permissions. */
  readonly resource: string;
  /** Request context keys and values the call carries (a resource's tags, kms:ViaService ...). */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** "recorded": the script runner saw the script make it; else the document that says it is made. */
  readonly source: string;
  /** Made from outside the VPC (an operator's machine, an AWS service): no VPC endpoint policy applies. @default false */
  readonly outsideVpc?: boolean;
}

export interface CallVerdict {
  readonly call: AwsCall;
  readonly allowed: boolean;
  /** The statements that allow it: "<policy> #<n>" (n counts from 1). */
  readonly allowedBy: readonly string[];
  /** Why not, and the statement to add, when it is denied. */
  readonly denial?: string;
}

export interface UnusedGrant {
  readonly stack: string;
  readonly role: string;
  readonly policy: string;
  readonly statement: number;
  readonly action: string;
}

/** A statement wider than the calls it allows: Resource "*" for calls on named resources, or an action wildcard. */
export interface BroadGrant {
  readonly stack: string;
  readonly role: string;
  readonly policy: string;
  readonly statement: number;
  readonly what: string;
}

export interface IamReport {
  readonly verdicts: readonly CallVerdict[];
  readonly unused: readonly UnusedGrant[];
  readonly broad: readonly BroadGrant[];
}

/**
 * AWS managed policies the stacks attach, as the AWS managed policy reference and the ECS
 * developer guide ("Amazon ECS managed policies") document them. AWS only adds permissions to
 * a managed policy, never removes them, so a call these allow is allowed by the current version.
 */
export const MANAGED_POLICIES: Readonly<Record<string, object>> = {
  "service-role/AmazonECSTaskExecutionRolePolicy": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: "*",
      },
    ],
  },
  "service-role/AmazonEC2ContainerServiceforEC2Role": {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: [
          "ecs:CreateCluster",
          "ecs:DeregisterContainerInstance",
          "ecs:DiscoverPollEndpoint",
          "ecs:Poll",
          "ecs:RegisterContainerInstance",
          "ecs:StartTelemetrySession",
          "ecs:Submit*",
          "ecr:GetAuthorizationToken",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ],
        Resource: "*",
      },
    ],
  },
};

interface RolePolicy {
  readonly name: string;
  readonly managed: boolean;
  readonly document: { Version: string; Statement: Record<string, unknown>[] };
}

/** A role's identity policies, by the role's resource name, across the stacks. */
function rolePolicies(values: StackValues): Map<string, RolePolicy[]> {
  const byRole = new Map<string, RolePolicy[]>();
  const add = (roleRef: unknown, policy: RolePolicy) => {
    const role = values.referenced(roleRef);
    if (role?.type !== "aws_iam_role") throw new Error(`${values.stack}: policy ${policy.name} is attached to ${String(roleRef)}, not a role of the stack`);
    byRole.set(role.name, [...(byRole.get(role.name) ?? []), policy]);
  };
  for (const [name, p] of Object.entries<TerraformDoc>(values.doc.resource?.aws_iam_role_policy ?? {})) {
    add(p.role, { name: String(p.name_prefix ?? p.name ?? name).replace(/-$/, ""), managed: false, document: values.policy(p.policy) });
  }
  for (const [, attachment] of Object.entries<TerraformDoc>(values.doc.resource?.aws_iam_role_policy_attachment ?? {})) {
    const managed = /:policy\/(.+)$/.exec(values.text(String(attachment.policy_arn)))?.[1];
    const document = managed ? MANAGED_POLICIES[managed] : undefined;
    if (!document)
      throw new Error(
        `${values.stack}: no document for managed policy ${attachment.policy_arn}: add it to MANAGED_POLICIES (tools/judges/iam.ts) from the AWS managed policy reference`,
      );
    add(attachment.role, { name: managed!, managed: true, document: document as RolePolicy["document"] });
  }
  return byRole;
}

/** The resource policy that also decides a call: the KMS key's policy, or the bucket's. */
function resourcePolicyOf(values: StackValues, call: AwsCall): RolePolicy["document"] | undefined {
  if (call.action.startsWith("kms:")) {
    for (const [name, key] of Object.entries<TerraformDoc>(values.doc.resource?.aws_kms_key ?? {})) {
      if (values.text(`\${aws_kms_key.${name}.arn}`) === call.resource) return key.policy ? values.policy(key.policy) : undefined;
    }
    // KMS always consults the key policy: a key the stack does not define cannot be judged.
    throw new Error(`${values.stack}: ${call.action} (${call.caller}) uses ${call.resource}, a KMS key the stack does not define`);
  }
  if (call.action.startsWith("s3:")) {
    for (const [, policy] of Object.entries<TerraformDoc>(values.doc.resource?.aws_s3_bucket_policy ?? {})) {
      const bucketArn = `arn:${values.partition}:s3:::${values.text(String(policy.bucket))}`;
      if (call.resource === bucketArn || call.resource.startsWith(`${bucketArn}/`)) return values.policy(policy.policy);
    }
  }
  return undefined;
}

/**
 * Policies of the stack's VPC endpoints for the call's service (an endpoint without a policy
 * allows everything). The judge assumes a call goes through an endpoint of its service when the
 * stack has one: with `vpc-endpoints` egress every AWS call does, and S3 always takes the gateway.
 */
function endpointPoliciesOf(values: StackValues, call: AwsCall): { name: string; policy: RolePolicy["document"] }[] {
  // A call AWS makes as the caller (kms:ViaService) comes from the service, not through the VPC.
  if (call.outsideVpc || call.context?.["kms:ViaService"] !== undefined) return [];
  const prefix = call.action.slice(0, call.action.indexOf(":"));
  return Object.entries<TerraformDoc>(values.doc.resource?.aws_vpc_endpoint ?? {}).flatMap(([name, endpoint]) => {
    if (!endpoint.policy) return [];
    // service_name is a literal (com.amazonaws.<region>.<service>) or the data source that looks it up.
    const lookup = /^\$\{data\.aws_vpc_endpoint_service\.([A-Za-z0-9_-]+)\.service_name\}$/.exec(String(endpoint.service_name));
    const service = lookup
      ? String(values.doc.data?.aws_vpc_endpoint_service?.[lookup[1]!]?.service ?? "")
      : values.text(String(endpoint.service_name)).replace(/^com\.amazonaws\.[a-z0-9-]+\./, "");
    return service.split(".")[0]!.replace(/-(agent|telemetry)$/, "") === prefix ? [{ name, policy: values.policy(endpoint.policy) }] : [];
  });
}

/**
 * The simulator (iam-simulate) knows a key with a variable part only after a slash (aws:PrincipalTag/x): it
 * ignores KMS's `kms:EncryptionContext:<key>` (a colon, e.g. kms:EncryptionContext:SecretARN, which Secrets
 * Manager sends with each Decrypt and GenerateDataKey), so a statement conditioned on it never matches.
 * The judge decides those entries itself against the call's context: a matching entry is dropped, one that
 * does not match (or a key the call lacks) becomes a condition that cannot hold, so the statement's index and
 * the rest of its condition stay the simulator's. Operators beyond these are refused, never guessed.
 */
const ENCRYPTION_CONTEXT_KEY = /^kms:EncryptionContext:/i;
const NEVER = { Null: { "aws:PrincipalArn": "true" } };
function withEncryptionContextDecided(document: RolePolicy["document"], call: AwsCall): RolePolicy["document"] {
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".")}$`,
    );
  const matches: Record<string, (value: string, wanted: string) => boolean> = {
    StringEquals: (value, wanted) => value === wanted,
    ArnEquals: (value, wanted) => value === wanted,
    StringLike: (value, wanted) => glob(wanted).test(value),
    ArnLike: (value, wanted) => glob(wanted).test(value),
  };
  const context = Object.fromEntries(Object.entries(call.context ?? {}).map(([k, v]) => [k.toLowerCase(), [v].flat()]));
  const Statement = document.Statement.map((statement) => {
    const condition = statement.Condition as Record<string, Record<string, string | string[]>> | undefined;
    if (!condition || !Object.values(condition).some((entries) => Object.keys(entries).some((k) => ENCRYPTION_CONTEXT_KEY.test(k)))) return statement;
    let holds = true;
    const kept: Record<string, Record<string, string | string[]>> = {};
    for (const [operator, entries] of Object.entries(condition)) {
      for (const [key, wanted] of Object.entries(entries)) {
        if (!ENCRYPTION_CONTEXT_KEY.test(key)) {
          kept[operator] = { ...kept[operator], [key]: wanted };
          continue;
        }
        const match = matches[operator];
        if (!match) throw new Error(`${call.stack}: ${operator} on ${key}: the IAM judge evaluates kms:EncryptionContext keys only with ${Object.keys(matches).join(", ")}`);
        const values = context[key.toLowerCase()] ?? [];
        holds &&= values.length > 0 && values.every((value) => [wanted].flat().some((w) => match(value, w)));
      }
    }
    const { Condition: _dropped, ...rest } = statement;
    if (!holds) return { ...rest, Condition: NEVER };
    return Object.keys(kept).length > 0 ? { ...rest, Condition: kept } : rest;
  });
  return { ...document, Statement };
}

/** "ecs:Submit*" matches "ecs:SubmitTaskStateChange". */
function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  );
  return re.test(action);
}

/** Each stack's values, its SSM parameter reads resolved to what the stack that writes them writes. */
export function stackValuesOf(stacks: Readonly<Record<string, TerraformDoc>>): Map<string, StackValues> {
  const published = new Map<string, string>();
  for (const [stack, doc] of Object.entries(stacks)) {
    const values = new StackValues(stack, doc);
    for (const parameter of Object.values<TerraformDoc>(doc.resource?.aws_ssm_parameter ?? {})) {
      if (typeof parameter.name === "string" && typeof parameter.value === "string") published.set(values.text(parameter.name), values.text(parameter.value));
    }
  }
  return new Map(Object.entries(stacks).map(([stack, doc]) => [stack, new StackValues(stack, doc, published)]));
}

/** Evaluates every call of the stacks, and lists the grants of their inline policies that no call uses. */
export async function evaluateIam(stacks: Readonly<Record<string, TerraformDoc>>, calls: readonly AwsCall[]): Promise<IamReport> {
  const verdicts: CallVerdict[] = [];
  /** The calls each inline statement allowed, by stack/role/policy/index. */
  const allowedCalls = new Map<string, AwsCall[]>();
  const valuesOf = stackValuesOf(stacks);
  const policiesOf = new Map([...valuesOf].map(([stack, values]) => [stack, rolePolicies(values)]));
  for (const call of calls) {
    const values = valuesOf.get(call.stack)!;
    const policies = policiesOf.get(call.stack)!.get(call.role) ?? [];
    const principal = values.text(`\${aws_iam_role.${call.role}.arn}`);
    const resourcePolicy = resourcePolicyOf(values, call);
    const simulation: Simulation = {
      identityPolicies: policies.map((p) => ({ name: p.name, policy: withEncryptionContextDecided(p.document, call) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: withEncryptionContextDecided(resourcePolicy, call) } : {}),
      vpcEndpointPolicies: endpointPoliciesOf(values, call),
      request: {
        action: call.action,
        principal,
        resource: { accountId: values.account, resource: call.resource },
        contextVariables: { "aws:SecureTransport": "true", "aws:PrincipalArn": principal, "aws:PrincipalAccount": values.account, ...call.context },
      },
    } as Simulation;
    const response = await runSimulation(simulation, {});
    if (response.resultType === "error")
      throw new Error(`iam-simulate rejected ${call.action} on ${call.resource} (${call.caller}): ${JSON.stringify(response.errors).slice(0, 600)}`);
    const result = response.resultType === "single" ? response.result : response.results[0]!;
    const allowed = response.overallResult === "Allowed";
    const allowedBy: string[] = [];
    for (const s of result.analysis?.identityAnalysis?.allowStatements ?? []) {
      const policy = policies.find((p) => p.name === s.policyId);
      const index = s.statement.index() - 1;
      allowedBy.push(`${s.policyId} #${index + 1}`);
      if (allowed && policy && !policy.managed) {
        const statementKey = `${call.stack}/${call.role}/${policy.name}/${index}`;
        allowedCalls.set(statementKey, [...(allowedCalls.get(statementKey) ?? []), call]);
      }
    }
    verdicts.push({
      call,
      allowed,
      allowedBy,
      ...(allowed ? {} : { denial: denialOf(response.overallResult, call, allowedBy.length > 0) }),
    });
  }
  const unused: UnusedGrant[] = [];
  const broad: BroadGrant[] = [];
  for (const [stack, byRole] of policiesOf) {
    for (const [role, policies] of byRole) {
      for (const policy of policies.filter((p) => !p.managed)) {
        policy.document.Statement.forEach((statement, index) => {
          if (statement.Effect !== "Allow") return;
          const allowedHere = allowedCalls.get(`${stack}/${role}/${policy.name}/${index}`) ?? [];
          const grant = { stack, role, policy: policy.name, statement: index + 1 };
          if ([statement.Resource].flat().includes("*") && allowedHere.length > 0 && allowedHere.every((c) => c.resource !== "*")) {
            broad.push({ ...grant, what: `Resource "*", where its calls name their resources (${allowedHere[0]!.action} on ${allowedHere[0]!.resource})` });
          }
          for (const pattern of ([statement.Action].flat() as string[]).filter((a) => a.includes("*"))) {
            const actions = [...new Set(allowedHere.filter((c) => actionMatches(pattern, c.action)).map((c) => c.action))].sort();
            if (actions.length > 0) broad.push({ ...grant, what: `${pattern}, where its calls use ${actions.join(", ")}` });
          }
          for (const pattern of [statement.Action].flat() as string[]) {
            if (!allowedHere.some((c) => actionMatches(pattern, c.action))) unused.push({ ...grant, action: pattern });
          }
        });
      }
    }
  }
  return { verdicts, unused, broad };
}

function denialOf(result: string, call: AwsCall, roleAllows: boolean): string {
  const conditions = Object.entries(call.context ?? {}).filter(([key]) => /^kms:(GrantIsForAWSResource|ViaService)$/.test(key));
  const statement = JSON.stringify({
    Effect: "Allow",
    Action: [call.action],
    Resource: [call.resource],
    ...(conditions.length ? { Condition: Object.fromEntries(conditions.map(([k, v]) => [k === "kms:GrantIsForAWSResource" ? "Bool" : "StringEquals", { [k]: v }])) } : {}),
  });
  if (result === "ExplicitlyDenied") return "explicitly denied by a Deny statement (of the role, the key or the bucket)";
  if (!roleAllows) return `no statement allows it; add to ${call.role}: ${statement}`;
  return `the role allows it, but the ${call.action.startsWith("kms:") ? "key" : "resource"} policy does not let ${call.role} in`;
}

/** The report as rows: role, call, resource, verdict and what allows it. */
export function iamTableRows(report: IamReport): string[][] {
  return [
    ["role", "call", "resource", "caller", "verdict", "allowed by"],
    ...report.verdicts.map((v) => [
      v.call.role,
      v.call.action,
      v.call.resource,
      v.call.caller,
      v.allowed ? "allowed" : "DENIED",
      v.allowed ? v.allowedBy.join(", ") : (v.denial ?? ""),
    ]),
  ];
}
