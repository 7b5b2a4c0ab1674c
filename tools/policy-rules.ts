// Security policy over synthesized Terraform JSON (cdk.tf.json): the checks a reviewer runs with
// checkov or trivy, plus the mesh's own (Consul admin ports, secrets by reference, sensitive
// outputs). Pure functions: no file system, no test framework. Rule IDs are checkov's
// (https://www.checkov.io/5.Policy%20Index/terraform.html) or trivy's (https://avd.aquasec.com/)
// where a scanner has the check, MESH_* otherwise.
import * as YAML from "yaml";
import { CONSUL_PORTS, READONLY_ROOT_EXCEPTION_LABEL } from "../lib/facts";
import { taskRolePath } from "../lib/plan/dataplane";
import { loginRolePath } from "../lib/plan/names";

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type TfBlock = Record<string, unknown>;

/** The parsed cdk.tf.json of one stack (only the parts the rules read are typed). */
export interface TerraformJson {
  resource?: Record<string, Record<string, TfBlock>>;
  data?: Record<string, Record<string, TfBlock>>;
  variable?: Record<string, TfBlock>;
  output?: Record<string, TfBlock>;
  provider?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PolicyFinding {
  rule: string;
  /** Terraform address: aws_instance.x, data.aws_iam_policy_document.y, output.z. */
  address: string;
  message: string;
}

/** A writable root filesystem accepted for a container (any task, or only `task`), and why. */
export interface WritableRootException {
  readonly container: string;
  /** Terraform address of the task definition; omitted: every task definition. */
  readonly task?: string;
  readonly reason: string;
}

/** An IAM action that supports only Resource "*" (a trailing "*" matches a prefix), and why. */
export interface UnscopableAction {
  readonly action: string;
  readonly reason: string;
}

export interface PolicyOptions {
  /** Added to DEFAULT_POLICY_OPTIONS.writableRootContainers. */
  readonly writableRootContainers?: readonly WritableRootException[];
  /** Added to DEFAULT_POLICY_OPTIONS.unscopableActions. */
  readonly unscopableActions?: readonly UnscopableAction[];
}

type ResolvedOptions = Required<PolicyOptions>;

export interface PolicyRule {
  id: string;
  title: string;
  check(doc: TerraformJson, options?: PolicyOptions): PolicyFinding[];
}

export { READONLY_ROOT_EXCEPTION_LABEL };

export const DEFAULT_POLICY_OPTIONS: ResolvedOptions = {
  writableRootContainers: [{ container: "consul-agent", reason: "the Consul agent writes its data dir and the config files it renders at start" }],
  unscopableActions: [
    { action: "ecr:GetAuthorizationToken", reason: "registry-wide token: no resource type" },
    { action: "ssmmessages:CreateControlChannel", reason: "Session Manager / ECS Exec channels: no resource type" },
    { action: "ssmmessages:CreateDataChannel", reason: "Session Manager / ECS Exec channels: no resource type" },
    { action: "ssmmessages:OpenControlChannel", reason: "Session Manager / ECS Exec channels: no resource type" },
    { action: "ssmmessages:OpenDataChannel", reason: "Session Manager / ECS Exec channels: no resource type" },
    { action: "xray:PutTraceSegments", reason: "X-Ray daemon: no resource type" },
    { action: "xray:PutTelemetryRecords", reason: "X-Ray daemon: no resource type" },
    { action: "xray:GetSamplingRules", reason: "X-Ray daemon: no resource type" },
    { action: "xray:GetSamplingTargets", reason: "X-Ray daemon: no resource type" },
    { action: "cloudwatch:PutMetricData", reason: "metrics have no ARN" },
    { action: "ec2:Describe*", reason: "EC2 Describe calls have no resource-level permissions" },
    { action: "logs:DescribeLogGroups", reason: "no resource type (Service Authorization Reference, CloudWatch Logs); ECS Exec's agent calls it" },
    { action: "sts:GetCallerIdentity", reason: "needs no permission and has no resource" },
  ],
};

// ---------------------------------------------------------------------------------------------
// Terraform JSON helpers
// ---------------------------------------------------------------------------------------------

interface Located {
  address: string;
  body: TfBlock;
}

function resources(doc: TerraformJson, type: string): Located[] {
  return Object.entries(doc.resource?.[type] ?? {}).map(([name, body]) => ({ address: `${type}.${name}`, body }));
}

function dataSources(doc: TerraformJson, type: string): Located[] {
  return Object.entries(doc.data?.[type] ?? {}).map(([name, body]) => ({ address: `data.${type}.${name}`, body }));
}

const finding = (rule: string, address: string, message: string): PolicyFinding => ({ rule, address, message });

/** Nested blocks are objects or arrays of objects in Terraform JSON. */
function blocks(value: unknown): TfBlock[] {
  if (Array.isArray(value)) return value.filter(isObject);
  return isObject(value) ? [value] : [];
}

function isObject(value: unknown): value is TfBlock {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string");
}

const nonEmpty = (value: unknown): value is string => typeof value === "string" && value.trim() !== "";

/** A Terraform bool: the provider schema types some (launch template ones) as strings, so "true" counts. */
const isTrue = (value: unknown) => value === true || value === "true";

/** A literal number, or a string of digits (Terraform converts it); undefined for references and the rest. */
function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  return typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** Every string inside a value (outputs hold lists and maps). */
function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isObject(value)) return Object.values(value).flatMap(allStrings);
  return [];
}

/** Bodies of the ${...} and %{...} sequences of a Terraform string ($${ and %%{ are literal). */
export function interpolations(text: string): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < text.length - 1; i++) {
    const c = text[i]!;
    if ((c !== "$" && c !== "%") || text[i + 1] !== "{") continue;
    if (i > 0 && text[i - 1] === c) continue; // escaped
    let depth = 1;
    let inString = false;
    let j = i + 2;
    for (; j < text.length && depth > 0; j++) {
      const d = text[j]!;
      if (inString) {
        if (d === "\\") j++;
        else if (d === '"') inString = false;
      } else if (d === '"') inString = true;
      else if (d === "{") depth++;
      else if (d === "}") depth--;
    }
    bodies.push(text.slice(i + 2, j - 1));
    i = j - 1;
  }
  return bodies;
}

/** The text of a Terraform string with every interpolation replaced by "$REF". */
function literalText(text: string): string {
  let out = text;
  for (const body of interpolations(text)) out = out.replace(`{${body}}`, "REF");
  return out;
}

export interface TfRef {
  kind: "resource" | "data" | "ephemeral" | "var" | "local";
  type: string;
  name: string;
  attr?: string;
}

const REF = /(?<![\w."-])(?:(data|ephemeral)\.)?([a-zA-Z][\w-]*)\.([a-zA-Z_][\w-]*)(?:\[[^\]]*\]|\.\*)?(?:\.([a-zA-Z_]\w*))?/g;
const NOT_REFS = new Set(["count", "each", "path", "terraform", "self", "module"]);

/** Terraform references (resources, data sources, ephemeral resources, variables, locals) in a string's interpolations. */
export function references(text: string): TfRef[] {
  const refs: TfRef[] = [];
  for (const body of interpolations(text)) {
    for (const m of body.matchAll(REF)) {
      const [, prefix, type, name, attr] = m as unknown as [string, "data" | "ephemeral" | undefined, string, string, string | undefined];
      if (prefix) refs.push({ kind: prefix, type, name, attr });
      else if (type === "var" || type === "local") refs.push({ kind: type, type, name });
      else if (!NOT_REFS.has(type) && type.includes("_")) refs.push({ kind: "resource", type, name, attr });
    }
  }
  return refs;
}

const SECRET_WORDS = /secret|token|password|passwd|private_key|credential/i;
/** Attributes that name or locate a secret rather than hold it (ARNs, IDs, names). */
const IDENTIFIER = /^(arn|id|name|name_prefix|description|tags|tags_all)$|_(arn|arns|id|ids|name)$/;
/** random_* resources that are not credentials. */
const NOT_SECRET_RANDOM = new Set(["random_pet", "random_integer", "random_shuffle"]);

/** Does the reference evaluate to secret material (rather than to the ARN or ID of a secret)? */
export function isSecretRef(ref: TfRef): boolean {
  if (ref.kind === "var" || ref.kind === "local") return SECRET_WORDS.test(ref.name) && !IDENTIFIER.test(ref.name);
  if (ref.type.startsWith("random_")) return !NOT_SECRET_RANDOM.has(ref.type);
  if (ref.type === "tls_private_key") return ref.attr === undefined || ref.attr.startsWith("private_key");
  if (ref.type.startsWith("consul_acl_token") && ref.attr === "secret_id") return true;
  if (ref.type === "aws_ssm_parameter" && ref.attr === "value") return true; // insecure_value is the plaintext variant
  if (ref.attr === undefined) return SECRET_WORDS.test(ref.type);
  return (SECRET_WORDS.test(ref.type) || SECRET_WORDS.test(ref.attr)) && !IDENTIFIER.test(ref.attr);
}

const describeRef = (r: TfRef) =>
  r.kind === "var" || r.kind === "local" ? `${r.kind}.${r.name}` : `${r.kind === "resource" ? "" : `${r.kind}.`}${r.type}.${r.name}${r.attr ? `.${r.attr}` : ""}`;

function secretRefsIn(text: string): string[] {
  return [...new Set(references(text).filter(isSecretRef).map(describeRef))];
}

const AWS_ACCESS_KEY = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/;
const PRIVATE_KEY_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Secret material written literally: AWS access key IDs and PEM private keys. */
function literalSecretsIn(text: string): string[] {
  const literal = literalText(text);
  return [...(AWS_ACCESS_KEY.test(literal) ? ["an AWS access key ID"] : []), ...(PRIVATE_KEY_PEM.test(literal) ? ["a PEM private key"] : [])];
}

/** Everything in a string that is or inlines a secret. */
function secretsIn(text: string): string[] {
  return [...literalSecretsIn(text), ...secretRefsIn(text).map((r) => `the value of ${r}`)];
}

// ---------------------------------------------------------------------------------------------
// Security groups
// ---------------------------------------------------------------------------------------------

interface SgRule {
  address: string;
  /** Where in the resource: "ingress[0]" for inline rules, "" for rule resources. */
  where: string;
  direction: string;
  protocol: unknown;
  fromPort: unknown;
  toPort: unknown;
  cidrs: string[];
  description: unknown;
  /** The group the rule belongs to (its resource name), when the rule names it by reference. */
  group?: string;
  /** The stack's security groups it admits, by resource name (`self` is the rule's own group). */
  peers: string[];
  /** What else it admits: CIDR blocks, prefix lists, groups not named by a reference to the stack's (an ID, a variable). */
  otherSources: string[];
}

/** The resource name of the stack's security group a value refers to (`${aws_security_group.NAME.id}`). */
const securityGroupOf = (value: string) => /(?<![\w.])aws_security_group\.([\w-]+)\./.exec(value)?.[1];

/** The sources of a rule: the stack's groups it admits (its own for `self`), and every other source. */
function sourcesOf(group: string | undefined, self: unknown, groupRefs: unknown, others: readonly unknown[]): Pick<SgRule, "peers" | "otherSources"> {
  const refs = strings(groupRefs);
  const peers = [...refs.flatMap((ref) => securityGroupOf(ref) ?? []), ...(isTrue(self) && group !== undefined ? [group] : [])];
  return { peers, otherSources: [...others.flatMap(strings), ...refs.filter((ref) => securityGroupOf(ref) === undefined)] };
}

/** Every rule of every flavour: inline blocks, aws_security_group_rule, aws_vpc_security_group_*_rule. */
function securityGroupRules(doc: TerraformJson): SgRule[] {
  const inline = resources(doc, "aws_security_group").flatMap(({ address, body }) =>
    (["ingress", "egress"] as const).flatMap((direction) =>
      blocks(body[direction]).map((b, i) => {
        const group = address.slice("aws_security_group.".length);
        return {
          address,
          where: `${direction}[${i}]`,
          direction,
          protocol: b.protocol,
          fromPort: b.from_port,
          toPort: b.to_port,
          cidrs: [...strings(b.cidr_blocks), ...strings(b.ipv6_cidr_blocks)],
          description: b.description,
          group,
          ...sourcesOf(group, b.self, b.security_groups, [b.cidr_blocks, b.ipv6_cidr_blocks, b.prefix_list_ids]),
        };
      }),
    ),
  );
  const legacy = resources(doc, "aws_security_group_rule").map(({ address, body }) => {
    const group = securityGroupOf(strings(body.security_group_id)[0] ?? "");
    return {
      address,
      where: "",
      direction: String(body.type),
      protocol: body.protocol,
      fromPort: body.from_port,
      toPort: body.to_port,
      cidrs: [...strings(body.cidr_blocks), ...strings(body.ipv6_cidr_blocks)],
      description: body.description,
      group,
      ...sourcesOf(group, body.self, body.source_security_group_id, [body.cidr_blocks, body.ipv6_cidr_blocks, body.prefix_list_ids]),
    };
  });
  const vpcRules = (["ingress", "egress"] as const).flatMap((direction) =>
    resources(doc, `aws_vpc_security_group_${direction}_rule`).map(({ address, body }) => {
      const group = securityGroupOf(strings(body.security_group_id)[0] ?? "");
      return {
        address,
        where: "",
        direction,
        protocol: body.ip_protocol,
        fromPort: body.from_port,
        toPort: body.to_port,
        cidrs: [...strings(body.cidr_ipv4), ...strings(body.cidr_ipv6)],
        description: body.description,
        group,
        ...sourcesOf(group, undefined, body.referenced_security_group_id, [body.cidr_ipv4, body.cidr_ipv6, body.prefix_list_id]),
      };
    }),
  );
  return [...inline, ...legacy, ...vpcRules];
}

/** A literal /0 block (0.0.0.0/0, ::/0); a Terraform reference such as ${var.admin_cidr} is not. */
const isOpenCidr = (cidr: string) => !cidr.includes("${") && /\/0$/.test(cidr.trim());

type Protocol = "all" | "tcp" | "udp" | "other";

function protocolOf(value: unknown): Protocol {
  const p = value === undefined ? "-1" : String(value).toLowerCase();
  if (p === "-1" || p === "all") return "all";
  if (p === "tcp" || p === "6") return "tcp";
  if (p === "udp" || p === "17") return "udp";
  return "other";
}

function portOf(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) ? n : undefined;
}

/** Does the rule admit traffic to any port in [lo, hi] over one of the protocols? Unknown ports do. */
function reaches(rule: SgRule, lo: number, hi: number, protocols: readonly Protocol[]): boolean {
  const protocol = protocolOf(rule.protocol);
  if (protocol === "all") return true;
  if (!protocols.includes(protocol)) return false;
  const from = portOf(rule.fromPort);
  const to = portOf(rule.toPort);
  if (from === undefined || to === undefined) return true;
  return from <= hi && to >= lo;
}

const ruleName = (r: SgRule) => (r.where ? `${r.where} ` : "");
const openIngress = (doc: TerraformJson) => securityGroupRules(doc).filter((r) => r.direction === "ingress" && r.cidrs.some(isOpenCidr));

// Prevents SSH brute force and exploitation from the whole internet.
function checkSshOpenToWorld(doc: TerraformJson): PolicyFinding[] {
  return openIngress(doc)
    .filter((r) => reaches(r, 22, 22, ["tcp"]))
    .map((r) => finding("CKV_AWS_24", r.address, `${ruleName(r)}admits SSH (22) from ${r.cidrs.filter(isOpenCidr).join(", ")}`));
}

/** Consul server RPC, Serf LAN/WAN, HTTP/HTTPS/gRPC/gRPC-TLS API, DNS; Envoy admin. */
export const ADMIN_PORTS: readonly { readonly name: string; readonly from: number; readonly to: number }[] = [
  { name: "Consul RPC and Serf (8300-8302)", from: 8300, to: 8302 },
  { name: "Consul HTTP/HTTPS/gRPC API (8500-8503)", from: 8500, to: 8503 },
  { name: "Consul DNS (8600)", from: 8600, to: 8600 },
  { name: "Envoy admin (19000)", from: 19000, to: 19000 },
];

// Prevents exposing Consul's API, RPC, gossip and DNS, and Envoy's admin API, to the internet.
function checkAdminPortsOpenToWorld(doc: TerraformJson): PolicyFinding[] {
  return openIngress(doc).flatMap((r) => {
    const hit = ADMIN_PORTS.filter((p) => reaches(r, p.from, p.to, ["tcp", "udp"])).map((p) => p.name);
    return hit.length ? [finding("MESH_CONSUL_PORTS", r.address, `${ruleName(r)}admits ${hit.join(", ")} from ${r.cidrs.filter(isOpenCidr).join(", ")}`)] : [];
  });
}

// Prevents unreviewable rules: every group and rule says why it exists.
function checkSecurityGroupDescriptions(doc: TerraformJson): PolicyFinding[] {
  const groups = resources(doc, "aws_security_group")
    .filter(({ body }) => !nonEmpty(body.description))
    .map(({ address }) => finding("CKV_AWS_23", address, "security group has no description"));
  const rules = securityGroupRules(doc)
    .filter((r) => !nonEmpty(r.description))
    .map((r) => finding("CKV_AWS_23", r.address, `${ruleName(r)}rule has no description`));
  return [...groups, ...rules];
}

// ---------------------------------------------------------------------------------------------
// EC2 instances
// ---------------------------------------------------------------------------------------------

/** Instances and launch templates: CKV_AWS_79 and CKV_AWS_88 (checkov) cover both; CKV_AWS_8 and CKV2_AWS_41 only instances there. */
const hosts = (doc: TerraformJson): Located[] => [...resources(doc, "aws_instance"), ...resources(doc, "aws_launch_template")];
const isLaunchTemplate = (address: string) => address.startsWith("aws_launch_template.");

// Prevents SSRF-style theft of instance role credentials through IMDSv1.
// As checkov's IMDSv1Disabled: http_tokens "required", or no metadata service at all (http_endpoint "disabled").
function checkImdsV2(doc: TerraformJson): PolicyFinding[] {
  return hosts(doc)
    .filter(({ body }) => {
      const options = blocks(body.metadata_options)[0];
      return options?.http_tokens !== "required" && options?.http_endpoint !== "disabled";
    })
    .map(({ address }) => finding("CKV_AWS_79", address, 'metadata_options.http_tokens is not "required" (IMDSv1 allowed): set it to "required"'));
}

// Prevents a container in bridge or host network mode from reaching the instance role through IMDS:
// a response with hop limit 1 dies at the container's network hop.
function checkImdsHopLimit(doc: TerraformJson): PolicyFinding[] {
  return hosts(doc)
    .filter(({ body }) => {
      const options = blocks(body.metadata_options)[0];
      return options?.http_endpoint !== "disabled" && numberOf(options?.http_put_response_hop_limit) !== 1;
    })
    .map(({ address }) => finding("MESH_IMDS_HOP_LIMIT", address, "metadata_options.http_put_response_hop_limit is not 1: containers can reach the instance role through IMDS"));
}

// Prevents readable data on detached or snapshotted root volumes.
function checkRootVolumeEncrypted(doc: TerraformJson): PolicyFinding[] {
  const instances = resources(doc, "aws_instance")
    .filter(({ body }) => blocks(body.root_block_device)[0]?.encrypted !== true)
    .map(({ address }) => finding("CKV_AWS_8", address, "root_block_device.encrypted is not true: set it to true"));
  return [...instances, ...resources(doc, "aws_launch_template").flatMap(({ address, body }) => launchTemplateRootVolume(address, body))];
}

/** Root device names of the AMIs in use: Amazon Linux and ECS-optimized (/dev/xvda), Ubuntu and Debian (/dev/sda1). */
const ROOT_DEVICES = new Set(["/dev/xvda", "/dev/sda1"]);

/** A launch template's root mapping (the one naming a root device, else the first) must ask for encryption. */
function launchTemplateRootVolume(address: string, body: TfBlock): PolicyFinding[] {
  const mappings = blocks(body.block_device_mappings);
  if (mappings.length === 0)
    return [
      finding(
        "CKV_AWS_8",
        address,
        'no block_device_mappings: the root volume is encrypted only if the AMI\'s snapshot is; add a mapping for the root device (/dev/xvda) with ebs.encrypted = "true"',
      ),
    ];
  const index = Math.max(
    0,
    mappings.findIndex((m) => typeof m.device_name === "string" && ROOT_DEVICES.has(m.device_name)),
  );
  const root = mappings[index]!;
  if (isTrue(blocks(root.ebs)[0]?.encrypted)) return [];
  return [finding("CKV_AWS_8", address, `block_device_mappings[${index}] (${String(root.device_name ?? "no device_name")}): ebs.encrypted is not "true": set it to "true"`)];
}

// Prevents hosts reachable from the internet: a public IP bypasses the NAT/load balancer boundary.
// As checkov's EC2PublicIP: an instance's associate_public_ip_address, a launch template's first network interface's.
function checkNoPublicIp(doc: TerraformJson): PolicyFinding[] {
  return hosts(doc).flatMap(({ address, body }) => {
    if (isLaunchTemplate(address)) {
      return isTrue(blocks(body.network_interfaces)[0]?.associate_public_ip_address)
        ? [
            finding(
              "CKV_AWS_88",
              address,
              'network_interfaces[0].associate_public_ip_address is "true": set it to "false" and launch into a private subnet (NAT or VPC endpoints for egress)',
            ),
          ]
        : [];
    }
    return isTrue(body.associate_public_ip_address)
      ? [finding("CKV_AWS_88", address, "associate_public_ip_address is true: set it to false and launch into a private subnet (NAT or VPC endpoints for egress)")]
      : [];
  });
}

const CREDENTIAL_ASSIGNMENT = /\b[\w.-]*(?:password|passwd|token|secret)[\w.-]*\s*=\s*(["']?)([^\s"'`]+)\1/gi;
const NOT_A_CREDENTIAL = /^(?:[$%({</]|(?:true|false|null|none|required|optional|enabled|disabled|\d+)$)/i;

/** `password=...` / `token=...` with a literal value (not $VAR, ${ref}, a path or a boolean). */
function credentialAssignments(text: string): string[] {
  return [...literalText(text).matchAll(CREDENTIAL_ASSIGNMENT)]
    .filter((m) => m[2]!.length >= 6 && !NOT_A_CREDENTIAL.test(m[2]!))
    .map((m) => `a literal credential (${m[0]!.split("=")[0]!.trim()}=...)`);
}

/** A local CDKTF gzips or encodes into user data: `${base64gzip(local.NAME)}`, `${base64encode(local.NAME)}`. */
const USER_DATA_LOCAL = /^\$\{base64(?:gzip|encode)\(local\.([A-Za-z0-9_-]+)\)\}$/;

/** The user data scripts of an instance or launch template: literal, base64, or the local Terraform encodes. */
function userDataOf(body: TfBlock, doc: TerraformJson): string[] {
  const plain = strings(body.user_data).map((v) => {
    const local = USER_DATA_LOCAL.exec(v.trim());
    const value = local ? (doc.locals as Record<string, unknown> | undefined)?.[local[1]!] : undefined;
    return typeof value === "string" ? value : v;
  });
  const encoded = strings(body.user_data_base64).map((v) => (v.includes("${") ? v : Buffer.from(v, "base64").toString("utf8")));
  return [...plain, ...encoded];
}

// Prevents credentials in user data, which any process on the host and anyone with ec2:DescribeInstanceAttribute can read.
function checkUserDataSecrets(doc: TerraformJson): PolicyFinding[] {
  return [...resources(doc, "aws_instance"), ...resources(doc, "aws_launch_template")].flatMap(({ address, body }) =>
    userDataOf(body, doc).flatMap((text) => {
      const found = [...secretsIn(text), ...credentialAssignments(text)];
      return found.length ? [finding("CKV_AWS_46", address, `user data contains ${found.join("; ")}`)] : [];
    }),
  );
}

// Prevents long-lived keys on hosts: instances get AWS access through a role.
function checkInstanceProfile(doc: TerraformJson): PolicyFinding[] {
  return hosts(doc).flatMap(({ address, body }) => {
    if (!isLaunchTemplate(address))
      return nonEmpty(body.iam_instance_profile)
        ? []
        : [finding("CKV2_AWS_41", address, "no iam_instance_profile: attach an instance profile whose role grants what the host needs")];
    const profile = blocks(body.iam_instance_profile)[0];
    return nonEmpty(profile?.name) || nonEmpty(profile?.arn)
      ? []
      : [finding("CKV2_AWS_41", address, "no iam_instance_profile with a name or arn: attach an instance profile whose role grants what the host needs")];
  });
}

// ---------------------------------------------------------------------------------------------
// ECS
// ---------------------------------------------------------------------------------------------

// Prevents blind spots: no per-task CPU, memory and network metrics when a task misbehaves.
function checkContainerInsights(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecs_cluster")
    .filter(({ body }) => !blocks(body.setting).some((s) => s.name === "containerInsights" && (s.value === "enabled" || s.value === "enhanced")))
    .map(({ address }) => finding("CKV_AWS_65", address, "containerInsights is not enabled"));
}

// Prevents ECS Exec sessions (interactive shells in tasks) from running unencrypted or unrecorded.
// As checkov's ECSClusterLoggingEncryptedWithCMK: no execute_command_configuration, or logging "NONE", is not judged.
function checkExecSessionsEncrypted(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecs_cluster").flatMap(({ address, body }) => {
    const exec = blocks(blocks(body.configuration)[0]?.execute_command_configuration)[0];
    if (!exec || exec.logging === "NONE") return [];
    const where = "configuration.execute_command_configuration";
    const problems: string[] = [];
    if (!nonEmpty(exec.kms_key_id)) problems.push(`${where}.kms_key_id is not set: set it to a customer-managed KMS key`);
    const log = blocks(exec.log_configuration)[0];
    if (!isTrue(log?.cloud_watch_encryption_enabled) && !isTrue(log?.s3_bucket_encryption_enabled)) {
      problems.push(`${where}.log_configuration encrypts no session log: set cloud_watch_encryption_enabled (or s3_bucket_encryption_enabled) to true`);
    }
    return problems.map((p) => finding("CKV_AWS_224", address, p));
  });
}

// Prevents tasks reachable from the internet: a public IP on the task ENI bypasses the load balancer.
function checkServiceNoPublicIp(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecs_service")
    .filter(({ body }) => isTrue(blocks(body.network_configuration)[0]?.assign_public_ip))
    .map(({ address }) =>
      finding("CKV_AWS_333", address, "network_configuration.assign_public_ip is true: set it to false and run the tasks in private subnets (NAT or VPC endpoints for egress)"),
    );
}

// Prevents the app from holding the execution role's rights (pulling images, reading every task secret).
function checkDistinctTaskRoles(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecs_task_definition").flatMap(({ address, body }) => {
    const { execution_role_arn: exec, task_role_arn: task } = body;
    if (!nonEmpty(exec) || !nonEmpty(task)) return [finding("CKV_AWS_249", address, "execution_role_arn and task_role_arn must both be set")];
    return exec === task ? [finding("CKV_AWS_249", address, "execution_role_arn and task_role_arn are the same role")] : [];
  });
}

interface Container {
  name: string;
  def: TfBlock;
}

/** The containers of a task definition, or undefined when container_definitions is not a JSON literal. */
function containersOf(body: TfBlock): Container[] | undefined {
  let parsed: unknown = body.container_definitions;
  if (typeof parsed === "string") {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(parsed) || !parsed.every(isObject)) return undefined;
  return parsed.map((def, i) => ({ name: typeof def.name === "string" ? def.name : `#${i}`, def }));
}

/** Runs a per-container check over every task definition; an opaque definition fails closed. */
function eachContainer(doc: TerraformJson, rule: string, check: (c: Container, task: string) => string[]): PolicyFinding[] {
  return resources(doc, "aws_ecs_task_definition").flatMap(({ address, body }) => {
    const containers = containersOf(body);
    if (!containers) return [finding(rule, address, "container_definitions is not a JSON array literal: cannot check it")];
    return containers.flatMap((c) => check(c, address).map((problem) => finding(rule, address, `container "${c.name}": ${problem}`)));
  });
}

// Prevents container escape: a privileged container is root on the host.
function checkNoPrivilegedContainers(doc: TerraformJson): PolicyFinding[] {
  return eachContainer(doc, "MESH_ECS_PRIVILEGED", (c) => (c.def.privileged === true ? ["privileged is true"] : []));
}

// Prevents containers whose output, and evidence of an incident, is lost.
function checkContainerLogging(doc: TerraformJson): PolicyFinding[] {
  return eachContainer(doc, "MESH_ECS_LOGGING", (c) => (nonEmpty(blocks(c.def.logConfiguration)[0]?.logDriver) ? [] : ["no logConfiguration"]));
}

// Prevents an attacker in a container from persisting tools or changing binaries on its filesystem.
function checkReadonlyRootFilesystem(doc: TerraformJson, options: ResolvedOptions): PolicyFinding[] {
  return eachContainer(doc, "CKV_AWS_336", (c, task) => {
    if (c.def.readonlyRootFilesystem === true) return [];
    const allowed = options.writableRootContainers.some((e) => e.container === c.name && (e.task === undefined || e.task === task) && nonEmpty(e.reason));
    const label = blocks(c.def.dockerLabels)[0]?.[READONLY_ROOT_EXCEPTION_LABEL];
    return allowed || nonEmpty(label)
      ? []
      : [`readonlyRootFilesystem is not true (add the ${READONLY_ROOT_EXCEPTION_LABEL} label or an allow-list entry, with a reason, if the image needs it)`];
  });
}

const SECRET_ENV_NAME = /SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL/i;

/** Is the value plain text (or a variable), rather than empty, an ARN or references to non-secret resources? */
function isLiteralValue(value: string): boolean {
  if (value.trim() === "" || value.startsWith("arn:")) return false;
  const refs = references(value);
  const onlyReferences = literalText(value).replace(/\$REF/g, "").trim() === "";
  return !(onlyReferences && refs.length > 0 && refs.every((r) => (r.kind === "resource" || r.kind === "data") && !isSecretRef(r)));
}

// Prevents secrets in plaintext task definitions, which ecs:DescribeTaskDefinition shows to anyone with read access.
function checkNoSecretsInEnvironment(doc: TerraformJson): PolicyFinding[] {
  return eachContainer(doc, "AVD-AWS-0036", (c) =>
    blocks(c.def.environment).flatMap((env) => {
      const name = String(env.name);
      const value = typeof env.value === "string" ? env.value : String(env.value ?? "");
      const found = secretsIn(value);
      if (found.length) return [`environment ${name} contains ${found.join("; ")}: move it to secrets (valueFrom)`];
      return SECRET_ENV_NAME.test(name) && isLiteralValue(value) ? [`environment ${name} looks like a secret with a literal value: move it to secrets (valueFrom)`] : [];
    }),
  );
}

const SECRET_ARN = /^arn:[\w-]+:(secretsmanager|ssm):/;

// Prevents a secret written into valueFrom itself, where it is as plaintext as the environment.
function checkSecretsByReference(doc: TerraformJson): PolicyFinding[] {
  return eachContainer(doc, "MESH_SECRET_BY_REFERENCE", (c) =>
    blocks(c.def.secrets).flatMap((s) => {
      const from = s.valueFrom;
      if (typeof from === "string" && SECRET_ARN.test(from)) return [];
      if (typeof from === "string" && from.startsWith("${") && references(from).length > 0 && secretsIn(from).length === 0) return [];
      return [`secrets ${String(s.name)}: valueFrom is neither a Secrets Manager/SSM ARN nor a reference to one`];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// ECR and CloudWatch Logs
// ---------------------------------------------------------------------------------------------

// Prevents deploying images with known CVEs unnoticed.
function checkEcrScanOnPush(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecr_repository")
    .filter(({ body }) => blocks(body.image_scanning_configuration)[0]?.scan_on_push !== true)
    .map(({ address }) => finding("CKV_AWS_163", address, "image_scanning_configuration.scan_on_push is not true"));
}

// Prevents a pushed tag from silently replacing the image a task definition names.
function checkEcrImmutableTags(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecr_repository")
    .filter(({ body }) => body.image_tag_mutability !== "IMMUTABLE")
    .map(({ address }) => finding("CKV_AWS_51", address, 'image_tag_mutability is not "IMMUTABLE"'));
}

// Prevents logs kept forever (cost, and data kept longer than needed) or lost by accident.
function checkLogRetention(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_cloudwatch_log_group")
    .filter(({ body }) => !(typeof body.retention_in_days === "number" ? body.retention_in_days > 0 : nonEmpty(body.retention_in_days)))
    .map(({ address }) => finding("CKV_AWS_66", address, "retention_in_days is not set"));
}

/** A year in days: CKV_AWS_338's minimum retention (0, never expire, passes too). */
const ONE_YEAR_DAYS = 365;

// Prevents losing the evidence of an incident noticed months later.
// As checkov's CloudWatchLogGroupRetentionYear: a reference (a non-number) is not judged.
function checkLogRetentionOneYear(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_cloudwatch_log_group").flatMap(({ address, body }) => {
    const value = body.retention_in_days;
    if (value === undefined || value === null) return [finding("CKV_AWS_338", address, `retention_in_days is not set: set it to ${ONE_YEAR_DAYS} or more`)];
    const days = numberOf(value);
    if (days === undefined || days === 0 || days >= ONE_YEAR_DAYS) return [];
    return [finding("CKV_AWS_338", address, `retention_in_days is ${days}: set it to ${ONE_YEAR_DAYS} or more`)];
  });
}

// Prevents log contents (tokens in debug output, request data) readable without a key the account controls.
function checkLogKms(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_cloudwatch_log_group")
    .filter(({ body }) => !nonEmpty(body.kms_key_id))
    .map(({ address }) => finding("CKV_AWS_158", address, "kms_key_id is not set"));
}

// ---------------------------------------------------------------------------------------------
// Secrets Manager
// ---------------------------------------------------------------------------------------------

// Prevents secrets readable by anyone the account's AWS-managed key (aws/secretsmanager) lets decrypt:
// a customer-managed key's policy says who may. As checkov's SecretManagerSecretEncrypted: any "aws/" alias fails.
function checkSecretCmk(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_secretsmanager_secret").flatMap(({ address, body }) => {
    const key = body.kms_key_id;
    if (!nonEmpty(key)) return [finding("CKV_AWS_149", address, "kms_key_id is not set (AWS-managed aws/secretsmanager key): set it to a customer-managed KMS key")];
    return key.includes("aws/") ? [finding("CKV_AWS_149", address, `kms_key_id "${key}" is an AWS-managed key: set it to a customer-managed KMS key`)] : [];
  });
}

// Prevents secrets readable by whoever reads the state (or a plan file, or a remote_state reader):
// a secret is made where it is used, or reaches AWS only through a write-only argument from an
// ephemeral value. Non-credential random_* (NOT_SECRET_RANDOM) may stay managed.
function checkNoSecretInState(doc: TerraformJson): PolicyFinding[] {
  const rule = "MESH_NO_SECRET_IN_STATE";
  const ephemeral = "an ephemeral value through a write-only argument";
  const managedRandom = Object.keys(doc.resource ?? {})
    .filter((type) => type.startsWith("random_") && !NOT_SECRET_RANDOM.has(type))
    .flatMap((type) =>
      resources(doc, type).map(({ address }) =>
        finding(rule, address, `a managed ${type} keeps its value in state: use an ephemeral random_password and pass it only to write-only arguments`),
      ),
    );
  const privateKeys = resources(doc, "tls_private_key").map(({ address }) =>
    finding(rule, address, "a managed private key is in state: make the key where it is used (on the instance or task), or use AWS Private CA"),
  );
  const keyInputs = [
    ["tls_self_signed_cert", "private_key_pem"],
    ["tls_cert_request", "private_key_pem"],
    ["tls_locally_signed_cert", "ca_private_key_pem"],
  ].flatMap(([type, input]) =>
    resources(doc, type!)
      .filter(({ body }) => body[input!] !== undefined)
      .map(({ address }) => finding(rule, address, `${input} puts a private key in state as this resource's input: sign where the key is made`)),
  );
  const secretReads = [
    ...dataSources(doc, "aws_secretsmanager_secret_version").map(({ address }) =>
      finding(rule, address, "a data source keeps the secret's value in state: read it with an ephemeral aws_secretsmanager_secret_version"),
    ),
    ...dataSources(doc, "aws_secretsmanager_random_password").map(({ address }) =>
      finding(rule, address, "a data source keeps the generated password in state: use the ephemeral aws_secretsmanager_random_password or random_password"),
    ),
    ...dataSources(doc, "aws_kms_secrets").map(({ address }) =>
      finding(rule, address, "a data source keeps the decrypted plaintext in state: decrypt with the ephemeral aws_kms_secrets"),
    ),
    // Decrypted unless with_decryption is false, then in state; AWS's public parameters (/aws/service/) are Strings.
    ...dataSources(doc, "aws_ssm_parameter")
      .filter(({ body }) => body.with_decryption !== false && !String(body.name).startsWith("/aws/service/"))
      .map(({ address }) =>
        finding(rule, address, "a data source keeps the parameter's value in state, decrypted if it is a SecureString: read a secret with the ephemeral aws_ssm_parameter"),
      ),
    // Another stack's whole state, every secret in it included, is read into this one's.
    ...dataSources(doc, "terraform_remote_state").map(({ address }) =>
      finding(rule, address, "reading another stack's state hands this stack every secret in it: pass the few values it needs through SSM String parameters"),
    ),
  ];
  const versions = resources(doc, "aws_secretsmanager_secret_version").flatMap(({ address, body }) => [
    ...["secret_string", "secret_binary"]
      .filter((argument) => body[argument] !== undefined)
      .map((argument) =>
        finding(rule, address, `${argument} is kept in state: write secret_string_wo (with secret_string_wo_version) from ${ephemeral}, or let the user of the secret make it`),
      ),
    ...(body.secret_string_wo !== undefined && body.secret_string_wo_version === undefined
      ? [finding(rule, address, "secret_string_wo without secret_string_wo_version: Terraform can never write a new value; set a version and bump it to rotate")]
      : []),
  ]);
  const parameters = resources(doc, "aws_ssm_parameter")
    .filter(({ body }) => body.type === "SecureString" && body.value !== undefined)
    .map(({ address }) => finding(rule, address, `a SecureString's value is kept in state: write value_wo (with value_wo_version) from ${ephemeral}`));
  return [...managedRandom, ...privateKeys, ...keyInputs, ...secretReads, ...versions, ...parameters];
}

// ---------------------------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------------------------

interface Statement {
  effect: string;
  actions: string[];
  notActions: string[];
  resources: string[];
}

interface IdentityPolicy {
  address: string;
  where: string;
  /** undefined: the policy is not a JSON literal and cannot be checked. */
  statements?: Statement[];
}

const POLICY_DOCUMENT_REF = /^\$\{data\.aws_iam_policy_document\.[\w-]+\.(json|minified_json)\}$/;

function parsePolicyString(address: string, where: string, policy: unknown): IdentityPolicy[] {
  if (typeof policy !== "string") return [];
  if (POLICY_DOCUMENT_REF.test(policy.trim())) return []; // checked where the document is defined
  try {
    const json = JSON.parse(policy) as { Statement?: unknown };
    const statements = blocks(json.Statement).map((s) => ({
      effect: String(s.Effect ?? ""),
      actions: strings(s.Action),
      notActions: strings(s.NotAction),
      resources: strings(s.Resource),
    }));
    return [{ address, where, statements }];
  } catch {
    return [{ address, where }];
  }
}

/** Identity-based policies (role, user, group, managed; documents without principals). Resource policies are out of scope. */
function identityPolicies(doc: TerraformJson): IdentityPolicy[] {
  const attached = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"].flatMap((type) =>
    resources(doc, type).flatMap(({ address, body }) => parsePolicyString(address, "", body.policy)),
  );
  const inline = resources(doc, "aws_iam_role").flatMap(({ address, body }) =>
    blocks(body.inline_policy).flatMap((p, i) => parsePolicyString(address, `inline_policy[${i}] `, p.policy)),
  );
  const documents = dataSources(doc, "aws_iam_policy_document").map(({ address, body }) => ({
    address,
    where: "",
    statements: blocks(body.statement)
      .filter((s) => blocks(s.principals).length === 0 && blocks(s.not_principals).length === 0)
      .map((s) => ({ effect: String(s.effect ?? "Allow"), actions: strings(s.actions), notActions: strings(s.not_actions), resources: strings(s.resources) })),
  }));
  return [...attached, ...inline, ...documents];
}

const allows = (s: Statement) => s.effect.toLowerCase() === "allow";
const isWildcardAction = (action: string) => action === "*" || /^[\w-]+:\*$/.test(action);

// Prevents admin-equivalent grants: "*" or "service:*" hands over every present and future action.
function checkNoWildcardActions(doc: TerraformJson): PolicyFinding[] {
  return identityPolicies(doc).flatMap(({ address, where, statements }) => {
    if (!statements) return [finding("CKV_AWS_63", address, `${where}policy is not a JSON literal: cannot check it`)];
    return statements
      .filter(allows)
      .flatMap((s, i) => [
        ...s.actions.filter(isWildcardAction).map((a) => finding("CKV_AWS_63", address, `${where}statement ${i} allows action "${a}"`)),
        ...(s.notActions.length ? [finding("CKV_AWS_63", address, `${where}statement ${i} allows NotAction (every other action)`)] : []),
      ]);
  });
}

function isUnscopable(action: string, allowList: readonly UnscopableAction[]): boolean {
  const a = action.toLowerCase();
  return allowList.some(({ action: pattern }) => {
    const p = pattern.toLowerCase();
    return p.endsWith("*") ? a.startsWith(p.slice(0, -1)) : a === p;
  });
}

// ---------------------------------------------------------------------------------------------
// S3 and KMS: what the mesh's backups and key may be used for
// ---------------------------------------------------------------------------------------------

/** The statements of a policy document given as a JSON string (references left as they are); undefined: not one, so it cannot be checked. */
function policyStatements(value: unknown): TfBlock[] | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return blocks((JSON.parse(value) as TfBlock).Statement);
  } catch {
    return undefined;
  }
}

const actionsOf = (statement: TfBlock): string[] => strings(statement.Action);
const conditionOf = (statement: TfBlock, operator: string, key: string): string[] => strings(blocks(blocks(statement.Condition)[0]?.[operator])[0]?.[key]);

// Prevents the control plane's backups (every ACL token's secret, the Connect CA's key) from being
// read in transit, written unencrypted, or read by anyone the account's IAM lets in.
function checkBucketProtections(doc: TerraformJson): PolicyFinding[] {
  const policies = resources(doc, "aws_s3_bucket_policy");
  return resources(doc, "aws_s3_bucket").flatMap(({ address }) => {
    const name = address.slice("aws_s3_bucket.".length);
    const statements = policies
      .filter(({ body }) => strings(body.bucket).some((b) => b.includes(`aws_s3_bucket.${name}.`)))
      .flatMap(({ body }) => policyStatements(body.policy) ?? []);
    const denies = statements.filter((st) => st.Effect === "Deny");
    const out: PolicyFinding[] = [];
    // Each deny must hold for every principal and every object of the bucket.
    const everyone = (st: TfBlock) => st.Principal === "*" && strings(st.Resource).some((r) => r.endsWith("/*"));
    const kmsOnly = (st: TfBlock) => {
      const values = [...conditionOf(st, "StringNotEquals", "s3:x-amz-server-side-encryption"), ...conditionOf(st, "StringNotEqualsIfExists", "s3:x-amz-server-side-encryption")];
      return values.length === 1 && values[0] === "aws:kms";
    };
    const namedReader = (st: TfBlock) => {
      const readers = conditionOf(st, "ArnNotEquals", "aws:PrincipalArn");
      return readers.length === 1 && !readers[0]!.includes("*") && ["s3:GetObject", "s3:GetObjectVersion"].every((a) => actionsOf(st).includes(a));
    };
    if (!denies.some((st) => everyone(st) && actionsOf(st).includes("s3:*") && conditionOf(st, "Bool", "aws:SecureTransport").includes("false"))) {
      out.push(finding("MESH_S3_PROTECTIONS", address, "no bucket policy denies every request without TLS (s3:* where aws:SecureTransport is false)"));
    }
    if (!denies.some((st) => everyone(st) && actionsOf(st).includes("s3:PutObject") && kmsOnly(st))) {
      out.push(finding("MESH_S3_PROTECTIONS", address, "no bucket policy refuses uploads encrypted otherwise than SSE-KMS (an SSE-S3 header would pass)"));
    }
    if (!denies.some((st) => everyone(st) && namedReader(st))) {
      out.push(
        finding(
          "MESH_S3_PROTECTIONS",
          address,
          "no bucket policy limits object reads (GetObject and GetObjectVersion) to one named role: any principal the account's IAM lets in reads the snapshots",
        ),
      );
    }
    return out;
  });
}

// Prevents another log group of the account from using the mesh's key through CloudWatch Logs.
function checkKmsLogsScoped(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_kms_key").flatMap(({ address, body }) => {
    // No policy: the default key policy, which lets only the account's IAM policies in.
    if (body.policy === undefined) return [];
    const statements = policyStatements(body.policy);
    if (!statements) return [finding("MESH_KMS_LOGS_SCOPED", address, "the key policy is not a JSON literal: cannot check it")];
    return statements
      .filter((st) => st.Effect === "Allow" && strings(blocks(st.Principal)[0]?.Service).some((service) => service.startsWith("logs.")))
      .filter((st) => {
        const arns = conditionOf(st, "ArnLike", "kms:EncryptionContext:aws:logs:arn");
        // Every pattern names a folder or a group: /name... with no wildcard before its first name.
        return arns.length === 0 || arns.some((arn) => !/^arn:[^:*]+:logs:[^:*]+:[^:*]+:log-group:\/[^/*]/.test(arn));
      })
      .map(() =>
        finding(
          "MESH_KMS_LOGS_SCOPED",
          address,
          "CloudWatch Logs may use the key for any log group of the account: name the mesh's log groups in kms:EncryptionContext:aws:logs:arn",
        ),
      );
  });
}

// Prevents a role that ECS assumes for one account's tasks from being assumed for another's (confused deputy).
function checkTaskRoleTrust(doc: TerraformJson): PolicyFinding[] {
  const taskRoles = new Set(
    resources(doc, "aws_ecs_task_definition").flatMap(({ body }) => strings(body.task_role_arn).map((ref) => /aws_iam_role\.([^.]+)\./.exec(ref)?.[1] ?? "")),
  );
  return resources(doc, "aws_iam_role")
    .filter(({ address }) => taskRoles.has(address.slice("aws_iam_role.".length)))
    .filter(({ body }) => {
      // Unreadable or empty: nothing shows the conditions are there.
      const statements = policyStatements(body.assume_role_policy) ?? [];
      return (
        statements.length === 0 ||
        !statements.every(
          (st) =>
            isObject(st.Principal) &&
            !("AWS" in st.Principal) &&
            conditionOf(st, "StringEquals", "aws:SourceAccount").length > 0 &&
            conditionOf(st, "ArnLike", "aws:SourceArn").length > 0,
        )
      );
    })
    .map(({ address }) =>
      finding(
        "MESH_TASK_ROLE_TRUST",
        address,
        "the task role's trust policy lacks aws:SourceAccount and aws:SourceArn conditions, or trusts more than ECS: it could be assumed for another account's tasks",
      ),
    );
}

// Prevents grants on every resource of a kind when the action can name the ones the workload uses.
// (checkov: CKV_AWS_355 for policies, CKV_AWS_356 for aws_iam_policy_document.)
function checkNoStarResource(doc: TerraformJson, options: ResolvedOptions): PolicyFinding[] {
  return identityPolicies(doc).flatMap(({ address, where, statements }) =>
    (statements ?? []).filter(allows).flatMap((s, i) => {
      if (!s.resources.includes("*")) return [];
      const scopable = s.actions.filter((a) => !isUnscopable(a, options.unscopableActions));
      return scopable.length ? [finding("CKV_AWS_355", address, `${where}statement ${i} allows ${scopable.join(", ")} on Resource "*"`)] : [];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// VPC
// ---------------------------------------------------------------------------------------------

const referencesVpc = (value: unknown, vpcName: string) => strings(value).some((v) => v.includes(`aws_vpc.${vpcName}.`));

// Prevents having no record of who talked to what during an incident.
function checkVpcFlowLogs(doc: TerraformJson): PolicyFinding[] {
  const logs = resources(doc, "aws_flow_log");
  return Object.keys(doc.resource?.aws_vpc ?? {})
    .filter((vpc) => !logs.some(({ body }) => referencesVpc(body.vpc_id, vpc)))
    .map((vpc) => finding("CKV2_AWS_11", `aws_vpc.${vpc}`, "no aws_flow_log for this VPC"));
}

// Prevents resources launched without a security group from getting the default group's open rules.
function checkDefaultSecurityGroupClosed(doc: TerraformJson): PolicyFinding[] {
  const defaults = resources(doc, "aws_default_security_group");
  return Object.keys(doc.resource?.aws_vpc ?? {}).flatMap((vpc) => {
    const managed = defaults.filter(({ body }) => referencesVpc(body.vpc_id, vpc));
    if (managed.length === 0) return [finding("CKV2_AWS_12", `aws_vpc.${vpc}`, "no aws_default_security_group restricts this VPC's default security group")];
    return managed
      .filter(({ body }) => blocks(body.ingress).length > 0 || blocks(body.egress).length > 0)
      .map(({ address }) => finding("CKV2_AWS_12", address, "default security group has ingress or egress rules"));
  });
}

// ---------------------------------------------------------------------------------------------
// Trust boundaries inside a task and around the Consul servers
// ---------------------------------------------------------------------------------------------

/** A container's entryPoint and command, as one list of words. */
const wordsOf = (def: TfBlock): string[] => [...strings(def.entryPoint), ...strings(def.command)];

/** Whether a container runs consul-dataplane (its binary among its words). */
const runsConsulDataplane = (def: TfBlock) => wordsOf(def).some((w) => /(^|\/)consul-dataplane$/.test(w));

/** Envoy configs a container's definition shows: --config-yaml values, and YAML documents its scripts write. */
function envoyConfigsOf(def: TfBlock): TfBlock[] {
  const words = wordsOf(def);
  const texts = [
    ...words.flatMap((w, i) => (words[i - 1] === "--config-yaml" ? [w] : [])),
    // A heredoc body in a start script that holds an Envoy config (YAML with admin or static_resources at the top).
    ...words.flatMap((w) => [...w.matchAll(/<<-?'?([A-Z_]+)'?\n([\s\S]*?)\n\1\n/g)].map((m) => m[2]!).filter((body) => /^(admin|static_resources):/m.test(body))),
  ];
  return texts.flatMap((text) => {
    try {
      const parsed = YAML.parse(text) as unknown;
      return isObject(parsed) ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

const runsEnvoy = (def: TfBlock) => wordsOf(def).some((w) => /(^|\/)envoy$|\benvoy --config-path\b/.test(w));

// Prevents an app from reading its proxy's configuration (in agent tasks: the Consul token in the
// bootstrap, through config_dump) or stopping it: the containers of a task share one network
// namespace, so an admin API on a TCP port is open to all of them. On a Unix socket, only the
// containers that mount its volume reach it; the app must not be one of them. consul-dataplane
// keeps Envoy's admin on TCP (it drives readiness and shutdown through it, and Envoy's config holds
// no token there: the dataplane architecture's boundary, in the README's trust model); on loopback only.
function checkProxyAdmin(doc: TerraformJson): PolicyFinding[] {
  return resources(doc, "aws_ecs_task_definition").flatMap(({ address, body }) => {
    const containers = containersOf(body);
    if (!containers) return [finding("MESH_PROXY_ADMIN", address, "container_definitions is not a JSON array literal: cannot check it")];
    return containers.flatMap(({ name, def }) => {
      if (runsConsulDataplane(def)) {
        const words = wordsOf(def);
        const bind = words.flatMap((w, i) => (/^--?envoy-admin-bind-address(=|$)/.test(w) ? [w.includes("=") ? w.split("=")[1]! : (words[i + 1] ?? "")] : []));
        return bind
          .filter((a) => a !== "127.0.0.1" && a !== "localhost")
          .map((a) => finding("MESH_PROXY_ADMIN", address, `container "${name}" binds consul-dataplane's Envoy admin API to ${a}: beyond the task's loopback`));
      }
      if (!runsEnvoy(def)) return [];
      const admin = envoyConfigsOf(def)
        .map((config) => blocks(config.admin)[0])
        .filter(isObject)
        .at(-1);
      const address_ = admin ? blocks(admin.address)[0] : undefined;
      const pipe = address_ ? blocks(address_.pipe)[0] : undefined;
      if (!pipe || typeof pipe.path !== "string")
        return [
          finding(
            "MESH_PROXY_ADMIN",
            address,
            `container "${name}" runs Envoy with its admin API ${address_ ? "on a TCP address" : "where its definition does not show it (consul connect envoy puts it on 127.0.0.1:19000)"}: every container of the task can read its configuration and stop it; put admin on a Unix socket (admin.address.pipe)`,
          ),
        ];
      const mount = blocks(def.mountPoints).find((m) => typeof m.containerPath === "string" && pipe.path!.toString().startsWith(`${m.containerPath}/`));
      if (!mount) return [finding("MESH_PROXY_ADMIN", address, `container "${name}": the admin socket ${pipe.path} is in no volume it mounts`)];
      const sharers = containers
        .filter((c) => c.name !== name && c.def.essential !== false && blocks(c.def.mountPoints).some((m) => m.sourceVolume === mount.sourceVolume))
        .map((c) => c.name);
      return sharers.length
        ? [
            finding(
              "MESH_PROXY_ADMIN",
              address,
              `container "${name}": its admin socket's volume ${String(mount.sourceVolume)} is mounted by ${sharers.join(", ")} too, which then reach the admin API`,
            ),
          ]
        : [];
    });
  });
}

/** Ports of a Consul server the tasks reach only when they run client agents, and the DNS port nothing in the mesh queries. */
const AGENT_PORTS = { rpc: CONSUL_PORTS.serverRpc, serfLan: CONSUL_PORTS.serfLan, serfWan: CONSUL_PORTS.serfWan, dns: CONSUL_PORTS.dns } as const;

/** Task definitions whose containers do something: a Consul client agent maps Serf (8301); consul-dataplane runs the dataplane. */
function taskKinds(doc: TerraformJson): { agents: boolean; dataplanes: boolean } {
  const all = resources(doc, "aws_ecs_task_definition").flatMap(({ body }) => containersOf(body) ?? []);
  return {
    agents: all.some(({ def }) => blocks(def.portMappings).some((p) => portOf(p.containerPort) === AGENT_PORTS.serfLan)),
    dataplanes: all.some(({ def }) => runsConsulDataplane(def)),
  };
}

/** The stack's security groups a host is attached to: an instance's vpc_security_group_ids, a launch template's (or its network interfaces'). */
function hostSecurityGroups(body: TfBlock): string[] {
  const refs = [...strings(body.vpc_security_group_ids), ...blocks(body.network_interfaces).flatMap((n) => strings(n.security_groups))];
  return [...new Set(refs.flatMap((ref) => securityGroupOf(ref) ?? []))];
}

// Prevents the Consul servers from exposing more than the task architectures in use need: RPC and
// gossip to tasks without client agents, DNS that nothing queries, auto_encrypt's unauthenticated
// certificate signing without agents, and the dataplane reaper's ECS access without dataplane tasks.
function checkServerExposure(doc: TerraformJson): PolicyFinding[] {
  // Inline blocks, aws_security_group_rule and aws_vpc_security_group_ingress_rule alike: any of them opens a port.
  const rules = securityGroupRules(doc).filter((r) => r.direction === "ingress" && r.group !== undefined);
  // The servers' groups: those attached to a host whose user data configures a Consul server, and
  // any that takes RPC (8300) from itself (servers written some other way).
  const serverHosts = hosts(doc).filter(({ body }) => userDataOf(body, doc).some((text) => /^\s*server\s*=\s*true\b/m.test(text)));
  const hostGroups = serverHosts.map((host) => ({ ...host, groups: hostSecurityGroups(host.body) }));
  const servers = new Set([
    ...hostGroups.flatMap((h) => h.groups),
    ...rules.filter((r) => r.peers.includes(r.group!) && reaches(r, AGENT_PORTS.rpc, AGENT_PORTS.rpc, ["tcp"])).map((r) => r.group!),
  ]);
  // A server whose groups are not this configuration's: what it admits cannot be read here; say so.
  const unknown = hostGroups
    .filter((h) => h.groups.length === 0)
    .map((h) =>
      finding(
        "MESH_SERVER_EXPOSURE",
        h.address,
        "runs a Consul server (server = true in its user data), but none of its security groups is an aws_security_group of this configuration, so what it admits cannot be checked: attach the servers' group by reference (vpc_security_group_ids)",
      ),
    );
  // No server host and no group marked by its RPC: this configuration has no Consul servers.
  if (servers.size === 0) return unknown;
  const { agents, dataplanes } = taskKinds(doc);
  const onServers = rules.filter((r) => servers.has(r.group!));
  const reachesPorts = (r: SgRule, lo: number, hi: number) => reaches(r, lo, hi, ["tcp", "udp"]);
  const findings = [
    ...unknown,
    ...onServers
      .filter((r) => reachesPorts(r, AGENT_PORTS.dns, AGENT_PORTS.dns))
      .map((r) => finding("MESH_SERVER_EXPOSURE", r.address, `${ruleName(r)}admits the servers' DNS (8600), which nothing in the mesh queries`)),
    ...onServers
      .filter((r) => reachesPorts(r, AGENT_PORTS.rpc, AGENT_PORTS.serfWan) && r.otherSources.length > 0)
      .map((r) =>
        finding(
          "MESH_SERVER_EXPOSURE",
          r.address,
          `${ruleName(r)}admits server RPC or gossip (8300-8302) from ${r.otherSources.join(", ")}: only from security groups that hold agents`,
        ),
      ),
    ...(agents
      ? []
      : onServers.flatMap((r) => {
          const others = r.peers.filter((peer) => !servers.has(peer));
          return reachesPorts(r, AGENT_PORTS.rpc, AGENT_PORTS.serfLan) && others.length > 0
            ? [finding("MESH_SERVER_EXPOSURE", r.address, `${ruleName(r)}admits server RPC or gossip from ${others.join(", ")}, but no task runs a Consul client agent`)]
            : [];
        })),
  ];
  if (!agents) {
    for (const { address, body } of [...resources(doc, "aws_instance"), ...resources(doc, "aws_launch_template")]) {
      if (userDataOf(body, doc).some((text) => /^\s*allow_tls\s*=\s*true\b/m.test(text)))
        findings.push(
          finding(
            "MESH_SERVER_EXPOSURE",
            address,
            "the server config turns on auto_encrypt's allow_tls (certificates for any agent with a token), but no task runs a Consul client agent",
          ),
        );
    }
  }
  if (!dataplanes) {
    for (const { address, statements } of identityPolicies(doc)) {
      if ((statements ?? []).some((st) => allows(st) && st.actions.some((a) => /^ecs:(DescribeTasks|\*)$/i.test(a))))
        findings.push(finding("MESH_SERVER_EXPOSURE", address, "grants ecs:DescribeTasks, which only the dataplane tasks' reaper needs, and no task runs consul-dataplane"));
    }
  }
  return findings;
}

/** The Consul IAM login path of dataplane task roles (taskRolePath of any cluster), and where their pinning parameters live (loginRolePath/<service>). */
const LOGIN_ROLE_PATH = new RegExp(`^${escapeRegExp(taskRolePath("CLUSTER")).replace("CLUSTER", "[^/]+")}$`);
const LOGIN_PARAMETER = new RegExp(`^${escapeRegExp(loginRolePath("CLUSTER")).replace("CLUSTER", "[^/]+")}/[^/]+$`);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Prevents one service from becoming another, and killed tasks' tokens from living on: every role
// the servers' IAM auth method trusts (a task role under the login path) has its identity pinned
// by a parameter holding its unique ID (a role someone else creates or tags under the path gets
// none), and a stack with dataplane tasks lets its servers ask ECS which of them are gone.
function checkDataplaneLogin(doc: TerraformJson): PolicyFinding[] {
  const pinned = new Set(
    resources(doc, "aws_ssm_parameter")
      .filter(({ body }) => strings(body.name).some((name) => LOGIN_PARAMETER.test(name.replace(/\$\{[^}]+\}/g, "CLUSTER"))))
      .flatMap(({ body }) => strings(body.value).flatMap((v) => /^\$\{aws_iam_role\.([\w-]+)\.unique_id\}$/.exec(v)?.[1] ?? [])),
  );
  const unpinned = resources(doc, "aws_iam_role")
    .filter(({ body }) => strings(body.path).some((p) => LOGIN_ROLE_PATH.test(p)))
    .filter(({ address }) => !pinned.has(address.slice("aws_iam_role.".length)))
    .map(({ address }) =>
      finding(
        "MESH_DATAPLANE_LOGIN",
        address,
        "a role under the Consul login path with no parameter pinning its unique ID: the servers cannot tell its service's identity from a role anyone creates or tags there",
      ),
    );
  const reaper = identityPolicies(doc).some(({ statements }) =>
    (statements ?? []).some((st) => allows(st) && st.actions.some((a) => /^ecs:DescribeTasks$/i.test(a)) && st.resources.some((r) => /:task\//.test(r))),
  );
  const tasks = resources(doc, "aws_ecs_task_definition").map(({ address, body }) => ({ address, containers: containersOf(body) }));
  // A definition it cannot read may run consul-dataplane: say so, never count it as a task without one.
  const unreadable = tasks
    .filter(({ containers }) => !containers)
    .map(({ address }) =>
      finding("MESH_DATAPLANE_LOGIN", address, "container_definitions is not a JSON array literal: cannot tell whether the task runs consul-dataplane and needs the reaper"),
    );
  const dataplaneTasks = tasks.filter(({ containers }) => containers?.some(({ def }) => runsConsulDataplane(def)));
  return [
    ...unpinned,
    ...unreadable,
    ...(dataplaneTasks.length > 0 && !reaper
      ? [
          finding(
            "MESH_DATAPLANE_LOGIN",
            dataplaneTasks[0]!.address,
            "dataplane tasks, but no role may call ecs:DescribeTasks on the cluster's tasks: nothing removes what a killed task leaves in Consul",
          ),
        ]
      : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

// Prevents secrets printed in plan/apply logs and CI output.
function checkSensitiveOutputs(doc: TerraformJson): PolicyFinding[] {
  return Object.entries(doc.output ?? {}).flatMap(([name, body]) => {
    const found = [...new Set(allStrings(body.value).flatMap(secretsIn))];
    return found.length && body.sensitive !== true ? [finding("MESH_SENSITIVE_OUTPUTS", `output.${name}`, `holds ${found.join("; ")} but is not sensitive`)] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

const rule = (id: string, title: string, check: (doc: TerraformJson, options: ResolvedOptions) => PolicyFinding[]): PolicyRule => ({
  id,
  title,
  check: (doc, options) => check(doc, resolveOptions(options)),
});

export const POLICY_RULES: PolicyRule[] = [
  rule("CKV_AWS_24", "No SSH (22) ingress from 0.0.0.0/0 or ::/0", checkSshOpenToWorld),
  rule("MESH_CONSUL_PORTS", "No Consul (8300-8302, 8500-8503, 8600) or Envoy admin (19000) ingress from 0.0.0.0/0 or ::/0", checkAdminPortsOpenToWorld),
  rule("CKV_AWS_23", "Every security group and rule has a description", checkSecurityGroupDescriptions),
  rule("CKV_AWS_79", "Instances and launch templates require IMDSv2", checkImdsV2),
  rule("MESH_IMDS_HOP_LIMIT", "Instances and launch templates answer IMDS with hop limit 1", checkImdsHopLimit),
  rule("CKV_AWS_8", "Instance and launch template root volumes are encrypted", checkRootVolumeEncrypted),
  rule("CKV_AWS_46", "No secrets in user data", checkUserDataSecrets),
  rule("CKV2_AWS_41", "Instances and launch templates have an instance profile", checkInstanceProfile),
  rule("CKV_AWS_88", "Instances and launch templates get no public IP", checkNoPublicIp),
  rule("CKV_AWS_65", "ECS clusters have Container Insights", checkContainerInsights),
  rule("CKV_AWS_224", "ECS Exec sessions are encrypted with a customer-managed key and logged encrypted", checkExecSessionsEncrypted),
  rule("CKV_AWS_333", "ECS services assign no public IP", checkServiceNoPublicIp),
  rule("CKV_AWS_249", "Task execution role and task role are set and distinct", checkDistinctTaskRoles),
  rule("MESH_ECS_PRIVILEGED", "No privileged containers", checkNoPrivilegedContainers),
  rule("MESH_ECS_LOGGING", "Every container has a log configuration", checkContainerLogging),
  rule("CKV_AWS_336", "Containers have read-only root filesystems unless an exception says why", checkReadonlyRootFilesystem),
  rule("AVD-AWS-0036", "No plaintext secrets in container environments", checkNoSecretsInEnvironment),
  rule("MESH_SECRET_BY_REFERENCE", "Container secrets come from Secrets Manager/SSM ARNs or references to them", checkSecretsByReference),
  rule("CKV_AWS_163", "ECR repositories scan on push", checkEcrScanOnPush),
  rule("CKV_AWS_51", "ECR image tags are immutable", checkEcrImmutableTags),
  rule("CKV_AWS_66", "Log groups have a retention", checkLogRetention),
  rule("CKV_AWS_338", "Log groups keep logs for at least a year (or forever)", checkLogRetentionOneYear),
  rule("CKV_AWS_158", "Log groups are encrypted with KMS", checkLogKms),
  rule("CKV_AWS_149", "Secrets Manager secrets use a customer-managed KMS key", checkSecretCmk),
  rule("CKV_AWS_63", 'No "*" or "service:*" actions in IAM policies', checkNoWildcardActions),
  rule("CKV_AWS_355", 'No Resource "*" for actions that can be scoped', checkNoStarResource),
  rule("MESH_S3_PROTECTIONS", "Buckets deny requests without TLS, uploads not SSE-KMS, and reads by all but a named role", checkBucketProtections),
  rule("MESH_KMS_LOGS_SCOPED", "CloudWatch Logs may use a key for named log groups only", checkKmsLogsScoped),
  rule("MESH_PROXY_ADMIN", "Envoy's admin API on a Unix socket the app does not mount (consul-dataplane's: loopback only)", checkProxyAdmin),
  rule("MESH_SERVER_EXPOSURE", "Consul servers open RPC, gossip, DNS, auto_encrypt and the reaper's ECS access only for the task architectures in use", checkServerExposure),
  rule("MESH_DATAPLANE_LOGIN", "Every role under the Consul login path is pinned by its unique ID, and dataplane tasks have a reaper", checkDataplaneLogin),
  rule("MESH_TASK_ROLE_TRUST", "Task roles are assumable only for tasks of their account (aws:SourceAccount)", checkTaskRoleTrust),
  rule("CKV2_AWS_11", "Every VPC has flow logs", checkVpcFlowLogs),
  rule("CKV2_AWS_12", "Every VPC's default security group allows nothing", checkDefaultSecurityGroupClosed),
  rule("MESH_SENSITIVE_OUTPUTS", "Outputs holding secrets are sensitive", checkSensitiveOutputs),
  rule(
    "MESH_NO_SECRET_IN_STATE",
    "No secret in state: no managed random credential or private key, no secret read by a data source, secret values only through write-only arguments",
    checkNoSecretInState,
  ),
];

function resolveOptions(options: PolicyOptions = {}): ResolvedOptions {
  return {
    writableRootContainers: [...DEFAULT_POLICY_OPTIONS.writableRootContainers, ...(options.writableRootContainers ?? [])],
    unscopableActions: [...DEFAULT_POLICY_OPTIONS.unscopableActions, ...(options.unscopableActions ?? [])],
  };
}

/** Every finding of every rule, in rule order. */
export function runPolicy(doc: TerraformJson, options: PolicyOptions = {}): PolicyFinding[] {
  return POLICY_RULES.flatMap((r) => r.check(doc, options));
}
