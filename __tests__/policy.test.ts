// The security policy suite: each rule fails on a deliberately bad Terraform JSON fragment and
// passes on a good one; then every example spec (and the built-in default) must pass it all.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { POLICY_RULES, READONLY_ROOT_EXCEPTION_LABEL, runPolicy, type PolicyOptions, type TerraformJson } from "../tools/policy-rules";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { synthAllStacks } from "./support/synth";

// ---------------------------------------------------------------------------------------------
// Fixture builders
// ---------------------------------------------------------------------------------------------

type Body = Record<string, unknown>;

/** A document of resources: res(["aws_vpc", "main", {...}], ...). */
function res(...entries: [type: string, name: string, body: Body][]): TerraformJson {
  const resource: Record<string, Record<string, Body>> = {};
  for (const [type, name, body] of entries) (resource[type] ??= {})[name] = body;
  return { resource };
}

/** Documents combined: their resource, data and output maps merged. */
function merge(...docs: TerraformJson[]): TerraformJson {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const doc of docs) {
    for (const [section, byType] of Object.entries(doc) as [string, Record<string, Record<string, unknown>>][]) {
      const target = (out[section] ??= {});
      for (const [type, byName] of Object.entries(byType)) target[type] = { ...target[type], ...byName };
    }
  }
  return out as TerraformJson;
}

const data = (type: string, name: string, body: Body): TerraformJson => ({ data: { [type]: { [name]: body } } });
const output = (name: string, body: Body): TerraformJson => ({ output: { [name]: body } });

const ingress = (body: Body): TerraformJson =>
  res(["aws_vpc_security_group_ingress_rule", "r", { security_group_id: "${aws_security_group.sg.id}", description: "test rule", ...body }]);

const instance = (body: Body): TerraformJson =>
  res([
    "aws_instance",
    "host",
    {
      ami: "ami-123",
      iam_instance_profile: "${aws_iam_instance_profile.p.name}",
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 },
      root_block_device: { encrypted: true },
      user_data: "#!/bin/bash\necho hello\n",
      ...body,
    },
  ]);

const userData = (text: string) => instance({ user_data: text });

/** A launch template as CDKTF writes it: nested blocks as arrays or objects, its bools as strings. */
const launchTemplate = (body: Body): TerraformJson =>
  res([
    "aws_launch_template",
    "lt",
    {
      image_id: "ami-123",
      iam_instance_profile: { name: "${aws_iam_instance_profile.p.name}" },
      metadata_options: { http_tokens: "required", http_put_response_hop_limit: 1 },
      block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "true", volume_type: "gp3" } }],
      network_interfaces: [{ associate_public_ip_address: "false", security_groups: ["${aws_security_group.sg.id}"] }],
      ...body,
    },
  ]);

const LT = "aws_launch_template.lt";

const service = (networkConfiguration: unknown): TerraformJson =>
  res([
    "aws_ecs_service",
    "s",
    { name: "s", cluster: "${aws_ecs_cluster.c.id}", task_definition: "${aws_ecs_task_definition.t.arn}", network_configuration: networkConfiguration },
  ]);

const ENCRYPTED_EXEC = {
  kms_key_id: "${aws_kms_key.exec.arn}",
  logging: "OVERRIDE",
  log_configuration: { cloud_watch_encryption_enabled: true, cloud_watch_log_group_name: "${aws_cloudwatch_log_group.exec.name}" },
};
const cluster = (executeCommandConfiguration: unknown): TerraformJson =>
  res([
    "aws_ecs_cluster",
    "c",
    { name: "c", setting: [{ name: "containerInsights", value: "enabled" }], configuration: { execute_command_configuration: executeCommandConfiguration } },
  ]);

const secretsManagerSecret = (body: Body): TerraformJson => res(["aws_secretsmanager_secret", "s", { name_prefix: "mesh/token-", ...body }]);
const logGroup = (body: Body): TerraformJson => res(["aws_cloudwatch_log_group", "g", { name: "g", kms_key_id: "${aws_kms_key.k.arn}", ...body }]);

const GOOD_CONTAINER = {
  name: "app",
  image: "hashicorp/http-echo:1.0.0",
  essential: true,
  readonlyRootFilesystem: true,
  environment: [{ name: "API_URL", value: "http://127.0.0.1:9091" }],
  secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf" }],
  logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "${aws_cloudwatch_log_group.g.name}", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app" } },
};

const task = (containers: Body[], body: Body = {}, name = "t"): TerraformJson =>
  res([
    "aws_ecs_task_definition",
    name,
    {
      family: "app",
      execution_role_arn: "${aws_iam_role.exec.arn}",
      task_role_arn: "${aws_iam_role.task.arn}",
      container_definitions: JSON.stringify(containers),
      ...body,
    },
  ]);

const container = (overrides: Body) => task([{ ...GOOD_CONTAINER, ...overrides }]);
const env = (name: string, value: string) => container({ environment: [{ name, value }] });
const secret = (valueFrom: string) => container({ secrets: [{ name: "DB_PASSWORD", valueFrom }] });

const rolePolicy = (statement: Body | Body[]) =>
  res(["aws_iam_role_policy", "p", { role: "${aws_iam_role.r.id}", policy: JSON.stringify({ Version: "2012-10-17", Statement: statement }) }]);

const policyDocument = (statement: Body[]) => data("aws_iam_policy_document", "d", { statement });

const VPC: [string, string, Body] = ["aws_vpc", "main", { cidr_block: "10.0.0.0/16" }];
const FLOW_LOG: [string, string, Body] = ["aws_flow_log", "fl", { vpc_id: "${aws_vpc.main.id}", traffic_type: "ALL" }];
const CLOSED_DEFAULT_SG: [string, string, Body] = ["aws_default_security_group", "d", { vpc_id: "${aws_vpc.main.id}" }];

// ---------------------------------------------------------------------------------------------
// Bad and good fragments, per rule
// ---------------------------------------------------------------------------------------------

interface BadCase {
  rule: string;
  name: string;
  doc: TerraformJson;
  address: string;
  options?: PolicyOptions;
}

interface GoodCase {
  rule: string;
  name: string;
  doc: TerraformJson;
  options?: PolicyOptions;
}

/** A bucket and its policy, with these statements. */
const bucket = (statements: Body[]): TerraformJson =>
  res(
    ["aws_s3_bucket", "b", { bucket_prefix: "mesh-" }],
    ["aws_s3_bucket_policy", "bp", { bucket: "${aws_s3_bucket.b.id}", policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) }],
  );
const OBJECTS = "${aws_s3_bucket.b.arn}/*";
const TLS_ONLY = { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: ["${aws_s3_bucket.b.arn}", OBJECTS], Condition: { Bool: { "aws:SecureTransport": "false" } } };
const KMS_ONLY = { Effect: "Deny", Principal: "*", Action: "s3:PutObject", Resource: OBJECTS, Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" } } };
const NAMED_READER = {
  Effect: "Deny",
  Principal: "*",
  Action: ["s3:GetObject", "s3:GetObjectVersion"],
  Resource: OBJECTS,
  Condition: { ArnNotEquals: { "aws:PrincipalArn": "${aws_iam_role.restore.arn}" } },
};
const logsKey = (condition: Body | undefined): TerraformJson =>
  res([
    "aws_kms_key",
    "k",
    {
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "logs.us-east-1.amazonaws.com" }, Action: ["kms:Decrypt"], Resource: "*", ...(condition ? { Condition: condition } : {}) },
        ],
      }),
    },
  ]);
const taskRole = (statement: Body): TerraformJson =>
  merge(task([GOOD_CONTAINER]), res(["aws_iam_role", "task", { assume_role_policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }) }]));
const ECS_TRUST = { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" };

/** An Envoy sidecar started as the agent tasks start it, with an overlay whose admin is `admin`. */
const envoy = (admin: Body | undefined, mounts: Body[] = [{ sourceVolume: "envoy-admin", containerPath: "/envoy-admin", readOnly: false }]): Body => ({
  ...GOOD_CONTAINER,
  name: "envoy",
  entryPoint: ["/usr/local/bin/envoy"],
  command: ["--config-path", "/consul/envoy/bootstrap.json", ...(admin ? ["--config-yaml", JSON.stringify({ admin: { address: admin } })] : [])],
  mountPoints: mounts,
});
const ADMIN_PIPE = { pipe: { path: "/envoy-admin/admin.sock", mode: 384 } };
const ADMIN_TCP = { socket_address: { address: "127.0.0.1", port_value: 19000 } };
const DATAPLANE = {
  ...GOOD_CONTAINER,
  name: "consul-dataplane",
  entryPoint: ["/consul/consul-ecs", "envoy-entrypoint"],
  command: ["consul-dataplane", "-config-file", "/consul/c.json"],
};

/** The servers' RPC from their own group: what marks a group as the Consul servers'. */
const SERVER_RPC: [string, string, Body] = [
  "aws_vpc_security_group_ingress_rule",
  "rpc",
  {
    security_group_id: "${aws_security_group.servers.id}",
    referenced_security_group_id: "${aws_security_group.servers.id}",
    ip_protocol: "tcp",
    from_port: 8300,
    to_port: 8300,
  },
];
/** A Consul server group (RPC from itself) and one more ingress rule on it. */
const servers = (extra: Body, ...more: TerraformJson[]): TerraformJson =>
  merge(res(SERVER_RPC, ["aws_vpc_security_group_ingress_rule", "r", { security_group_id: "${aws_security_group.servers.id}", description: "test rule", ...extra }]), ...more);
const FROM_TASKS = { referenced_security_group_id: "${aws_security_group.tasks.id}", ip_protocol: "tcp", from_port: 8300, to_port: 8300 };
/** The same server group written with inline blocks: RPC from itself (self), and one more block. */
const inlineServers = (extra: Body, ...more: TerraformJson[]): TerraformJson =>
  merge(
    res([
      "aws_security_group",
      "servers",
      {
        description: "servers",
        ingress: [
          { description: "RPC between servers", protocol: "tcp", from_port: 8300, to_port: 8300, self: true },
          { description: "test rule", ...extra },
        ],
      },
    ]),
    ...more,
  );
const INLINE_FROM_TASKS = { protocol: "tcp", from_port: 8300, to_port: 8300, security_groups: ["${aws_security_group.tasks.id}"] };
/** An aws_security_group_rule (type ingress) on the servers' group; `servers` is marked by SERVER_RPC or by `rpc` below. */
const legacyRule = (body: Body): [string, string, Body] => [
  "aws_security_group_rule",
  "legacy",
  { type: "ingress", security_group_id: "${aws_security_group.servers.id}", description: "test rule", ...body },
];
const LEGACY_FROM_TASKS = { protocol: "tcp", from_port: 8300, to_port: 8300, source_security_group_id: "${aws_security_group.tasks.id}" };
const LEGACY_SERVER_RPC: [string, string, Body] = [
  "aws_security_group_rule",
  "rpc",
  { type: "ingress", security_group_id: "${aws_security_group.servers.id}", description: "RPC between servers", protocol: "tcp", from_port: 8300, to_port: 8300, self: true },
];
const AGENT_TASK = task([{ ...GOOD_CONTAINER, name: "consul-agent", portMappings: [{ containerPort: 8301, protocol: "tcp" }] }]);

const loginRole = (name: string): [string, string, Body] => ["aws_iam_role", name, { path: "/consul-ecs/mesh/", assume_role_policy: "{}" }];
const pin = (name: string): [string, string, Body] => [
  "aws_ssm_parameter",
  `${name}_login`,
  { name: `/mesh/consul/login-roles/${name}`, type: "String", value: `\${aws_iam_role.${name}.unique_id}` },
];
const REAPER = { Effect: "Allow", Action: ["ecs:DescribeTasks"], Resource: ["arn:aws:ecs:us-east-1:111122223333:task/mesh/*"] };

const TD = "aws_ecs_task_definition.t";
const RULE = "aws_vpc_security_group_ingress_rule.r";
const RULE_ON_SERVERS = RULE;

/** A host that runs a Consul server (its user data writes server = true), attached to `groups`. */
const serverHost = (groups: string[]): TerraformJson =>
  instance({ user_data: "#!/bin/bash\ncat > /etc/consul.d/server.hcl <<EOF\nserver = true\nEOF\n", vpc_security_group_ids: groups });
/** One ingress rule on the servers' group, which nothing marks as the servers' but the host it is attached to. */
const onServerGroup = (extra: Body): TerraformJson =>
  res(["aws_vpc_security_group_ingress_rule", "r", { security_group_id: "${aws_security_group.servers.id}", description: "test rule", ...extra }]);

const BAD: BadCase[] = [
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "a Consul server whose security group is not this configuration's (nothing to check it against)",
    doc: serverHost(["sg-0123456789abcdef0"]),
    address: "aws_instance.host",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "the servers' DNS open to the tasks, their group known only from the server host",
    doc: merge(serverHost(["${aws_security_group.servers.id}"]), onServerGroup({ ...FROM_TASKS, from_port: 8600, to_port: 8600 }), AGENT_TASK),
    address: RULE,
  },
  {
    rule: "MESH_DATAPLANE_LOGIN",
    name: "a login role without its pinning parameter",
    doc: merge(res(loginRole("web"), loginRole("api"), pin("api")), rolePolicy(REAPER)),
    address: "aws_iam_role.web",
  },
  { rule: "MESH_DATAPLANE_LOGIN", name: "dataplane tasks without a reaper", doc: task([DATAPLANE, GOOD_CONTAINER]), address: TD },
  {
    rule: "MESH_DATAPLANE_LOGIN",
    name: "a task definition it cannot read (it may run consul-dataplane), without a reaper",
    doc: task([], { container_definitions: "${jsonencode(local.containers)}" }),
    address: TD,
  },
  {
    rule: "MESH_DATAPLANE_LOGIN",
    name: "a role's unique ID in a parameter the servers do not read",
    doc: merge(res(loginRole("web"), ["aws_ssm_parameter", "elsewhere", { name: "/mesh/other/web", type: "String", value: "${aws_iam_role.web.unique_id}" }]), rolePolicy(REAPER)),
    address: "aws_iam_role.web",
  },
  { rule: "MESH_PROXY_ADMIN", name: "Envoy's admin on 127.0.0.1:19000", doc: task([envoy(ADMIN_TCP), GOOD_CONTAINER]), address: TD },
  { rule: "MESH_PROXY_ADMIN", name: "Envoy from a consul connect envoy bootstrap, admin not moved", doc: task([envoy(undefined), GOOD_CONTAINER]), address: TD },
  {
    rule: "MESH_PROXY_ADMIN",
    name: "the admin socket in a volume the app mounts",
    doc: task([envoy(ADMIN_PIPE), { ...GOOD_CONTAINER, mountPoints: [{ sourceVolume: "envoy-admin", containerPath: "/x", readOnly: true }] }]),
    address: TD,
  },
  { rule: "MESH_PROXY_ADMIN", name: "the admin socket in no volume of Envoy's", doc: task([envoy(ADMIN_PIPE, []), GOOD_CONTAINER]), address: TD },
  {
    rule: "MESH_PROXY_ADMIN",
    name: "consul-dataplane's admin bound beyond loopback",
    doc: task([{ ...DATAPLANE, command: [...DATAPLANE.command, "-envoy-admin-bind-address", "0.0.0.0"] }, GOOD_CONTAINER]),
    address: TD,
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "the servers' DNS open to the tasks",
    doc: servers({ ...FROM_TASKS, from_port: 8600, to_port: 8600 }, AGENT_TASK),
    address: RULE_ON_SERVERS,
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from a CIDR",
    doc: servers({ ip_protocol: "tcp", from_port: 8300, to_port: 8300, cidr_ipv4: "10.0.0.0/16" }, AGENT_TASK),
    address: RULE_ON_SERVERS,
  },
  { rule: "MESH_SERVER_EXPOSURE", name: "server RPC from the tasks, with no agent task", doc: servers(FROM_TASKS, task([DATAPLANE])), address: RULE_ON_SERVERS },
  // The same exposures written as inline ingress blocks and as aws_security_group_rule resources.
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from the tasks, with no agent task, in an inline block",
    doc: inlineServers(INLINE_FROM_TASKS, task([DATAPLANE])),
    address: "aws_security_group.servers",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server gossip from a CIDR, in an inline block",
    doc: inlineServers({ protocol: "udp", from_port: 8301, to_port: 8301, cidr_blocks: ["10.0.0.0/16"] }, AGENT_TASK),
    address: "aws_security_group.servers",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "the servers' DNS open to the tasks, in an inline block",
    doc: inlineServers({ ...INLINE_FROM_TASKS, from_port: 8600, to_port: 8600 }, AGENT_TASK),
    address: "aws_security_group.servers",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from the tasks, with no agent task, as an aws_security_group_rule",
    doc: merge(res(SERVER_RPC, legacyRule(LEGACY_FROM_TASKS)), task([DATAPLANE])),
    address: "aws_security_group_rule.legacy",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from a CIDR, as an aws_security_group_rule",
    doc: merge(res(SERVER_RPC, legacyRule({ protocol: "tcp", from_port: 8300, to_port: 8300, cidr_blocks: ["10.0.0.0/16"] })), AGENT_TASK),
    address: "aws_security_group_rule.legacy",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from the tasks, with no agent task, the servers' group marked by an aws_security_group_rule (self)",
    doc: merge(res(LEGACY_SERVER_RPC, legacyRule(LEGACY_FROM_TASKS)), task([DATAPLANE])),
    address: "aws_security_group_rule.legacy",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "auto_encrypt's allow_tls in the servers' user data, with no agent task",
    doc: servers(
      { ip_protocol: "tcp", from_port: 8501, to_port: 8501, cidr_ipv4: "10.0.0.0/16" },
      userData("#!/bin/bash\ncat > /etc/consul.d/server.hcl <<EOF\nauto_encrypt {\n  allow_tls = true\n}\nEOF\n"),
    ),
    address: "aws_instance.host",
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "ecs:DescribeTasks granted, with no dataplane task",
    doc: servers(
      { ip_protocol: "tcp", from_port: 8501, to_port: 8501, cidr_ipv4: "10.0.0.0/16" },
      rolePolicy({ Effect: "Allow", Action: ["ecs:DescribeTasks"], Resource: "arn:aws:ecs:*:*:task/c/*" }),
    ),
    address: "aws_iam_role_policy.p",
  },
  {
    rule: "MESH_IMDS_HOP_LIMIT",
    name: "an instance answering IMDS 2 hops away",
    doc: instance({ metadata_options: { http_tokens: "required", http_put_response_hop_limit: 2 } }),
    address: "aws_instance.host",
  },
  { rule: "MESH_IMDS_HOP_LIMIT", name: "a launch template without a hop limit", doc: launchTemplate({ metadata_options: [{ http_tokens: "required" }] }), address: LT },
  { rule: "MESH_S3_PROTECTIONS", name: "a bucket without the TLS-only deny", doc: bucket([KMS_ONLY, NAMED_READER]), address: "aws_s3_bucket.b" },
  { rule: "MESH_S3_PROTECTIONS", name: "a bucket refusing only other keys (an SSE-S3 header passes)", doc: bucket([TLS_ONLY, NAMED_READER]), address: "aws_s3_bucket.b" },
  { rule: "MESH_S3_PROTECTIONS", name: "a bucket any principal of the account may read", doc: bucket([TLS_ONLY, KMS_ONLY]), address: "aws_s3_bucket.b" },
  { rule: "MESH_S3_PROTECTIONS", name: "a bucket without a policy", doc: res(["aws_s3_bucket", "b", {}]), address: "aws_s3_bucket.b" },
  {
    rule: "MESH_S3_PROTECTIONS",
    name: "SSE-S3 let back in",
    doc: bucket([TLS_ONLY, { ...KMS_ONLY, Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": ["aws:kms", "AES256"] } } }, NAMED_READER]),
    address: "aws_s3_bucket.b",
  },
  {
    rule: "MESH_S3_PROTECTIONS",
    name: "versions readable by anyone",
    doc: bucket([TLS_ONLY, KMS_ONLY, { ...NAMED_READER, Action: ["s3:GetObject"] }]),
    address: "aws_s3_bucket.b",
  },
  {
    rule: "MESH_S3_PROTECTIONS",
    name: "every role a reader",
    doc: bucket([TLS_ONLY, KMS_ONLY, { ...NAMED_READER, Condition: { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::*:role/*" } } }]),
    address: "aws_s3_bucket.b",
  },
  { rule: "MESH_S3_PROTECTIONS", name: "TLS only for listing", doc: bucket([{ ...TLS_ONLY, Action: "s3:ListBucket" }, KMS_ONLY, NAMED_READER]), address: "aws_s3_bucket.b" },
  {
    rule: "MESH_S3_PROTECTIONS",
    name: "TLS only for one principal",
    doc: bucket([{ ...TLS_ONLY, Principal: { AWS: "arn:aws:iam::1:root" } }, KMS_ONLY, NAMED_READER]),
    address: "aws_s3_bucket.b",
  },
  {
    rule: "MESH_KMS_LOGS_SCOPED",
    name: "logs may use the key for every log group",
    doc: logsKey({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:log-group:*" } }),
    address: "aws_kms_key.k",
  },
  { rule: "MESH_KMS_LOGS_SCOPED", name: "logs may use the key with no condition", doc: logsKey(undefined), address: "aws_kms_key.k" },
  {
    rule: "MESH_KMS_LOGS_SCOPED",
    name: "every log group under /",
    doc: logsKey({
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:us-east-1:111122223333:log-group:/ecs/mesh/*", "arn:aws:logs:us-east-1:111122223333:log-group:/*"] },
    }),
    address: "aws_kms_key.k",
  },
  {
    rule: "MESH_KMS_LOGS_SCOPED",
    name: "any region and account",
    doc: logsKey({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:*:*:*" } }),
    address: "aws_kms_key.k",
  },
  {
    rule: "MESH_TASK_ROLE_TRUST",
    name: "a task role with the account but no source ARN",
    doc: taskRole({ ...ECS_TRUST, Condition: { StringEquals: { "aws:SourceAccount": "111122223333" } } }),
    address: "aws_iam_role.task",
  },
  {
    rule: "MESH_TASK_ROLE_TRUST",
    name: "a task role anyone may assume",
    doc: taskRole({
      Effect: "Allow",
      Principal: { AWS: "*", Service: "ecs-tasks.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": "999999999999" }, ArnLike: { "aws:SourceArn": "arn:aws:ecs:*:*:*" } },
    }),
    address: "aws_iam_role.task",
  },
  { rule: "MESH_TASK_ROLE_TRUST", name: "a task role any ECS task may assume", doc: taskRole(ECS_TRUST), address: "aws_iam_role.task" },
  {
    rule: "MESH_TASK_ROLE_TRUST",
    name: "a task role whose trust policy is a data document (unreadable here)",
    doc: merge(task([GOOD_CONTAINER]), res(["aws_iam_role", "task", { assume_role_policy: "${data.aws_iam_policy_document.trust.json}" }])),
    address: "aws_iam_role.task",
  },
  {
    rule: "MESH_TASK_ROLE_TRUST",
    name: "a task role whose trust policy has no statement",
    doc: merge(task([GOOD_CONTAINER]), res(["aws_iam_role", "task", { assume_role_policy: JSON.stringify({ Version: "2012-10-17", Statement: [] }) }])),
    address: "aws_iam_role.task",
  },
  { rule: "MESH_KMS_LOGS_SCOPED", name: "a key policy that is not JSON", doc: res(["aws_kms_key", "k", { policy: "{bad" }]), address: "aws_kms_key.k" },
  // Security groups
  { rule: "CKV_AWS_24", name: "SSH from 0.0.0.0/0", doc: ingress({ ip_protocol: "tcp", from_port: 22, to_port: 22, cidr_ipv4: "0.0.0.0/0" }), address: RULE },
  { rule: "CKV_AWS_24", name: "a TCP range covering 22 from ::/0", doc: ingress({ ip_protocol: "tcp", from_port: 0, to_port: 1024, cidr_ipv6: "::/0" }), address: RULE },
  {
    rule: "CKV_AWS_24",
    name: "all traffic (-1) from 0.0.0.0/0, inline",
    doc: res(["aws_security_group", "sg", { description: "x", ingress: [{ description: "all", protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] }] }]),
    address: "aws_security_group.sg",
  },
  {
    rule: "CKV_AWS_24",
    name: "aws_security_group_rule with ::/0",
    doc: res(["aws_security_group_rule", "ssh", { type: "ingress", description: "ssh", protocol: "tcp", from_port: 22, to_port: 22, ipv6_cidr_blocks: ["::/0"] }]),
    address: "aws_security_group_rule.ssh",
  },
  {
    rule: "CKV_AWS_24",
    name: "a port from a variable, from 0.0.0.0/0",
    doc: ingress({ ip_protocol: "tcp", from_port: "${var.port}", to_port: "${var.port}", cidr_ipv4: "0.0.0.0/0" }),
    address: RULE,
  },
  {
    rule: "MESH_CONSUL_PORTS",
    name: "Consul HTTPS API from 0.0.0.0/0",
    doc: ingress({ ip_protocol: "tcp", from_port: 8501, to_port: 8501, cidr_ipv4: "0.0.0.0/0" }),
    address: RULE,
  },
  { rule: "MESH_CONSUL_PORTS", name: "Serf over UDP from ::/0", doc: ingress({ ip_protocol: "udp", from_port: 8301, to_port: 8301, cidr_ipv6: "::/0" }), address: RULE },
  {
    rule: "MESH_CONSUL_PORTS",
    name: "a range 8000-9000 from 0.0.0.0/0",
    doc: ingress({ ip_protocol: "tcp", from_port: 8000, to_port: 9000, cidr_ipv4: "0.0.0.0/0" }),
    address: RULE,
  },
  { rule: "MESH_CONSUL_PORTS", name: "Consul DNS from 0.0.0.0/0", doc: ingress({ ip_protocol: "udp", from_port: 8600, to_port: 8600, cidr_ipv4: "0.0.0.0/0" }), address: RULE },
  { rule: "MESH_CONSUL_PORTS", name: "Envoy admin from 0.0.0.0/0", doc: ingress({ ip_protocol: "tcp", from_port: 19000, to_port: 19000, cidr_ipv4: "0.0.0.0/0" }), address: RULE },
  { rule: "MESH_CONSUL_PORTS", name: "all traffic (-1) from 0.0.0.0/0", doc: ingress({ ip_protocol: "-1", cidr_ipv4: "0.0.0.0/0" }), address: RULE },
  { rule: "CKV_AWS_23", name: "a security group without description", doc: res(["aws_security_group", "sg", { name: "x" }]), address: "aws_security_group.sg" },
  {
    rule: "CKV_AWS_23",
    name: "a rule with an empty description",
    doc: ingress({ description: " ", ip_protocol: "tcp", from_port: 443, to_port: 443, cidr_ipv4: "10.0.0.0/16" }),
    address: RULE,
  },
  {
    rule: "CKV_AWS_23",
    name: "an inline rule without description",
    doc: res(["aws_security_group", "sg", { description: "x", egress: [{ protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["10.0.0.0/8"] }] }]),
    address: "aws_security_group.sg",
  },
  // Instances
  { rule: "CKV_AWS_79", name: "http_tokens optional", doc: instance({ metadata_options: { http_tokens: "optional" } }), address: "aws_instance.host" },
  { rule: "CKV_AWS_79", name: "no metadata_options", doc: instance({ metadata_options: undefined }), address: "aws_instance.host" },
  { rule: "CKV_AWS_8", name: "unencrypted root volume", doc: instance({ root_block_device: { encrypted: false } }), address: "aws_instance.host" },
  { rule: "CKV_AWS_8", name: "no root_block_device", doc: instance({ root_block_device: undefined }), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "an AWS access key", doc: userData("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "a PEM private key", doc: userData("cat > key.pem <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIE...\nEOF\n"), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "a literal token=", doc: userData("consul acl set-agent-token -token=5f4dcc3b-5aa7-65d6 agent x\n"), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "a literal password=", doc: userData('DB_PASSWORD="correct-horse-battery"\n'), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "a random_uuid inlined", doc: userData("MGMT=${random_uuid.management.result}\n"), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "an ephemeral value inlined", doc: userData("GOSSIP=${base64encode(ephemeral.random_password.gossip.result)}\n"), address: "aws_instance.host" },
  { rule: "CKV_AWS_46", name: "a tls_private_key inlined", doc: userData("echo '${tls_private_key.server.private_key_pem}' > key.pem\n"), address: "aws_instance.host" },
  {
    rule: "CKV_AWS_46",
    name: "a secret version's value inlined",
    doc: userData("KEY='${data.aws_secretsmanager_secret_version.gossip.secret_string}'\n"),
    address: "aws_instance.host",
  },
  { rule: "CKV_AWS_46", name: "a secret variable inlined", doc: userData("export CONSUL_HTTP_TOKEN='${var.consul_token}'\n"), address: "aws_instance.host" },
  {
    rule: "CKV_AWS_46",
    name: "a PEM in user_data_base64",
    doc: instance({ user_data: undefined, user_data_base64: Buffer.from("-----BEGIN PRIVATE KEY-----\n").toString("base64") }),
    address: "aws_instance.host",
  },
  {
    rule: "CKV_AWS_46",
    name: "a launch template",
    doc: res(["aws_launch_template", "lt", { user_data: "${base64encode(random_password.db.result)}" }]),
    address: "aws_launch_template.lt",
  },
  { rule: "CKV2_AWS_41", name: "no instance profile", doc: instance({ iam_instance_profile: undefined }), address: "aws_instance.host" },
  { rule: "CKV_AWS_79", name: "a launch template with http_tokens optional", doc: launchTemplate({ metadata_options: [{ http_tokens: "optional" }] }), address: LT },
  { rule: "CKV_AWS_79", name: "a launch template without metadata_options", doc: launchTemplate({ metadata_options: undefined }), address: LT },
  {
    rule: "CKV_AWS_8",
    name: 'a launch template root mapping with ebs.encrypted "false"',
    doc: launchTemplate({ block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "false" } }] }),
    address: LT,
  },
  {
    rule: "CKV_AWS_8",
    name: "a launch template whose /dev/xvda mapping (not the first) is unencrypted",
    doc: launchTemplate({
      block_device_mappings: [
        { device_name: "/dev/xvdb", ebs: [{ encrypted: "true" }] },
        { device_name: "/dev/xvda", ebs: [{ volume_size: 30 }] },
      ],
    }),
    address: LT,
  },
  { rule: "CKV_AWS_8", name: "a launch template without block_device_mappings", doc: launchTemplate({ block_device_mappings: undefined }), address: LT },
  { rule: "CKV2_AWS_41", name: "a launch template without instance profile", doc: launchTemplate({ iam_instance_profile: undefined }), address: LT },
  { rule: "CKV2_AWS_41", name: "a launch template instance profile with neither name nor arn", doc: launchTemplate({ iam_instance_profile: [{ name: "" }] }), address: LT },
  { rule: "CKV_AWS_88", name: "an instance with a public IP", doc: instance({ associate_public_ip_address: true }), address: "aws_instance.host" },
  {
    rule: "CKV_AWS_88",
    name: 'a launch template interface with associate_public_ip_address "true"',
    doc: launchTemplate({ network_interfaces: [{ associate_public_ip_address: "true" }] }),
    address: LT,
  },
  {
    rule: "CKV_AWS_88",
    name: "a launch template interface (object) with associate_public_ip_address true",
    doc: launchTemplate({ network_interfaces: { associate_public_ip_address: true } }),
    address: LT,
  },
  // ECS
  { rule: "CKV_AWS_65", name: "no settings", doc: res(["aws_ecs_cluster", "c", { name: "c" }]), address: "aws_ecs_cluster.c" },
  {
    rule: "CKV_AWS_65",
    name: "containerInsights disabled",
    doc: res(["aws_ecs_cluster", "c", { name: "c", setting: [{ name: "containerInsights", value: "disabled" }] }]),
    address: "aws_ecs_cluster.c",
  },
  { rule: "CKV_AWS_224", name: "ECS Exec without kms_key_id", doc: cluster({ ...ENCRYPTED_EXEC, kms_key_id: undefined }), address: "aws_ecs_cluster.c" },
  {
    rule: "CKV_AWS_224",
    name: "ECS Exec logs unencrypted",
    doc: cluster({ ...ENCRYPTED_EXEC, log_configuration: { cloud_watch_encryption_enabled: false, cloud_watch_log_group_name: "x" } }),
    address: "aws_ecs_cluster.c",
  },
  {
    rule: "CKV_AWS_224",
    name: "ECS Exec with logging DEFAULT and no log_configuration (arrays)",
    doc: res(["aws_ecs_cluster", "c", { name: "c", configuration: [{ execute_command_configuration: [{ kms_key_id: "${aws_kms_key.exec.arn}", logging: "DEFAULT" }] }] }]),
    address: "aws_ecs_cluster.c",
  },
  {
    rule: "CKV_AWS_333",
    name: "a service with assign_public_ip true",
    doc: service({ assign_public_ip: true, subnets: ["${aws_subnet.public.id}"] }),
    address: "aws_ecs_service.s",
  },
  {
    rule: "CKV_AWS_333",
    name: 'a service with assign_public_ip "true" (array)',
    doc: service([{ assign_public_ip: "true", subnets: ["${aws_subnet.public.id}"] }]),
    address: "aws_ecs_service.s",
  },
  { rule: "CKV_AWS_249", name: "one role for both", doc: task([GOOD_CONTAINER], { task_role_arn: "${aws_iam_role.exec.arn}" }), address: TD },
  { rule: "CKV_AWS_249", name: "no task role", doc: task([GOOD_CONTAINER], { task_role_arn: undefined }), address: TD },
  { rule: "MESH_ECS_PRIVILEGED", name: "a privileged container", doc: container({ privileged: true }), address: TD },
  { rule: "MESH_ECS_PRIVILEGED", name: "opaque container_definitions (fails closed)", doc: task([], { container_definitions: "${jsonencode(local.containers)}" }), address: TD },
  { rule: "MESH_ECS_LOGGING", name: "a container without logConfiguration", doc: container({ logConfiguration: undefined }), address: TD },
  {
    rule: "MESH_ECS_LOGGING",
    name: "a second container without logConfiguration",
    doc: task([GOOD_CONTAINER, { ...GOOD_CONTAINER, name: "sidecar", logConfiguration: undefined }]),
    address: TD,
  },
  { rule: "CKV_AWS_336", name: "a writable root filesystem", doc: container({ readonlyRootFilesystem: false }), address: TD },
  { rule: "CKV_AWS_336", name: "readonlyRootFilesystem not set", doc: container({ readonlyRootFilesystem: undefined }), address: TD },
  {
    rule: "CKV_AWS_336",
    name: "an exception label without a reason",
    doc: container({ readonlyRootFilesystem: false, dockerLabels: { [READONLY_ROOT_EXCEPTION_LABEL]: "" } }),
    address: TD,
  },
  {
    rule: "CKV_AWS_336",
    name: "an allow-list entry for another task",
    doc: container({ readonlyRootFilesystem: false }),
    address: TD,
    options: { writableRootContainers: [{ container: "app", task: "aws_ecs_task_definition.other", reason: "ECS Exec" }] },
  },
  { rule: "AVD-AWS-0036", name: "a password in the environment", doc: env("DB_PASSWORD", "correct-horse-battery"), address: TD },
  { rule: "AVD-AWS-0036", name: "an API key from a variable in the environment", doc: env("API_KEY", "${var.api_key}"), address: TD },
  {
    rule: "AVD-AWS-0036",
    name: "a random token in an innocent-looking variable",
    doc: env("CONSUL_CONFIG", 'acl { tokens { agent = "${random_uuid.agent.result}" } }'),
    address: TD,
  },
  { rule: "AVD-AWS-0036", name: "a PEM private key in the environment", doc: env("TLS", "-----BEGIN EC PRIVATE KEY-----\nMHcC\n"), address: TD },
  { rule: "AVD-AWS-0036", name: "an AWS access key in the environment", doc: env("AWS_ID", "AKIAIOSFODNN7EXAMPLE"), address: TD },
  { rule: "MESH_SECRET_BY_REFERENCE", name: "a literal secret in valueFrom", doc: secret("correct-horse-battery"), address: TD },
  { rule: "MESH_SECRET_BY_REFERENCE", name: "a random password in valueFrom", doc: secret("${random_password.db.result}"), address: TD },
  { rule: "MESH_SECRET_BY_REFERENCE", name: "a non-secret ARN", doc: secret("arn:aws:s3:::bucket/key"), address: TD },
  // ECR, logs
  { rule: "CKV_AWS_163", name: "no scan on push", doc: res(["aws_ecr_repository", "r", { name: "r", image_tag_mutability: "IMMUTABLE" }]), address: "aws_ecr_repository.r" },
  {
    rule: "CKV_AWS_51",
    name: "mutable tags",
    doc: res(["aws_ecr_repository", "r", { name: "r", image_tag_mutability: "MUTABLE", image_scanning_configuration: { scan_on_push: true } }]),
    address: "aws_ecr_repository.r",
  },
  {
    rule: "CKV_AWS_66",
    name: "no retention",
    doc: res(["aws_cloudwatch_log_group", "g", { name: "g", kms_key_id: "${aws_kms_key.k.arn}" }]),
    address: "aws_cloudwatch_log_group.g",
  },
  {
    rule: "CKV_AWS_66",
    name: "retention 0 (never expire)",
    doc: res(["aws_cloudwatch_log_group", "g", { name: "g", retention_in_days: 0, kms_key_id: "${aws_kms_key.k.arn}" }]),
    address: "aws_cloudwatch_log_group.g",
  },
  { rule: "CKV_AWS_158", name: "no KMS key", doc: res(["aws_cloudwatch_log_group", "g", { name: "g", retention_in_days: 30 }]), address: "aws_cloudwatch_log_group.g" },
  { rule: "CKV_AWS_338", name: "no retention", doc: logGroup({}), address: "aws_cloudwatch_log_group.g" },
  { rule: "CKV_AWS_338", name: "30 days", doc: logGroup({ retention_in_days: 30 }), address: "aws_cloudwatch_log_group.g" },
  { rule: "CKV_AWS_338", name: "364 days as a string", doc: logGroup({ retention_in_days: "364" }), address: "aws_cloudwatch_log_group.g" },
  // Secrets Manager
  { rule: "CKV_AWS_149", name: "no kms_key_id", doc: secretsManagerSecret({}), address: "aws_secretsmanager_secret.s" },
  { rule: "CKV_AWS_149", name: "an empty kms_key_id", doc: secretsManagerSecret({ kms_key_id: "" }), address: "aws_secretsmanager_secret.s" },
  {
    rule: "CKV_AWS_149",
    name: "the AWS-managed alias/aws/secretsmanager",
    doc: secretsManagerSecret({ kms_key_id: "alias/aws/secretsmanager" }),
    address: "aws_secretsmanager_secret.s",
  },
  {
    rule: "CKV_AWS_149",
    name: "an AWS-managed alias ARN",
    doc: secretsManagerSecret({ kms_key_id: "arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager" }),
    address: "aws_secretsmanager_secret.s",
  },
  // IAM
  { rule: "CKV_AWS_63", name: 'Action "*"', doc: rolePolicy({ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b" }), address: "aws_iam_role_policy.p" },
  {
    rule: "CKV_AWS_63",
    name: '"iam:*" in a policy document',
    doc: policyDocument([{ actions: ["iam:*"], resources: ["arn:aws:iam::123456789012:role/x"] }]),
    address: "data.aws_iam_policy_document.d",
  },
  {
    rule: "CKV_AWS_63",
    name: "an inline_policy on a role",
    doc: res([
      "aws_iam_role",
      "r",
      { assume_role_policy: "{}", inline_policy: [{ name: "x", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::b"] }] }) }] },
    ]),
    address: "aws_iam_role.r",
  },
  { rule: "CKV_AWS_63", name: "Allow with NotAction", doc: rolePolicy({ Effect: "Allow", NotAction: "iam:*", Resource: "*" }), address: "aws_iam_role_policy.p" },
  { rule: "CKV_AWS_63", name: "an opaque policy (fails closed)", doc: res(["aws_iam_policy", "p", { policy: "${jsonencode(local.policy)}" }]), address: "aws_iam_policy.p" },
  { rule: "CKV_AWS_355", name: 's3:GetObject on "*"', doc: rolePolicy({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" }), address: "aws_iam_role_policy.p" },
  {
    rule: "CKV_AWS_355",
    name: 'secrets on "*" in a policy document',
    doc: policyDocument([{ actions: ["secretsmanager:GetSecretValue"], resources: ["*"] }]),
    address: "data.aws_iam_policy_document.d",
  },
  {
    rule: "CKV_AWS_355",
    name: "a scopable action beside unscopable ones",
    doc: rolePolicy({ Effect: "Allow", Action: ["ssmmessages:OpenDataChannel", "logs:PutLogEvents"], Resource: ["*"] }),
    address: "aws_iam_role_policy.p",
  },
  { rule: "CKV_AWS_355", name: "ec2:* is not ec2:Describe*", doc: rolePolicy({ Effect: "Allow", Action: ["ec2:*"], Resource: "*" }), address: "aws_iam_role_policy.p" },
  // VPC
  { rule: "CKV2_AWS_11", name: "a VPC without flow log", doc: res(VPC), address: "aws_vpc.main" },
  { rule: "CKV2_AWS_11", name: "a flow log of another VPC", doc: res(VPC, ["aws_flow_log", "fl", { vpc_id: "${aws_vpc.other.id}" }]), address: "aws_vpc.main" },
  { rule: "CKV2_AWS_12", name: "a VPC whose default security group is unmanaged", doc: res(VPC), address: "aws_vpc.main" },
  {
    rule: "CKV2_AWS_12",
    name: "a default security group with rules",
    doc: res(VPC, ["aws_default_security_group", "d", { vpc_id: "${aws_vpc.main.id}", ingress: [{ protocol: "-1", self: true, from_port: 0, to_port: 0 }] }]),
    address: "aws_default_security_group.d",
  },
  // Outputs
  { rule: "MESH_SENSITIVE_OUTPUTS", name: "a random password", doc: output("db_password", { value: "${random_password.db.result}" }), address: "output.db_password" },
  { rule: "MESH_SENSITIVE_OUTPUTS", name: "a private key", doc: output("key", { value: "${tls_private_key.ca.private_key_pem}" }), address: "output.key" },
  {
    rule: "MESH_SENSITIVE_OUTPUTS",
    name: "a secret's value",
    doc: output("token", { value: "${data.aws_secretsmanager_secret_version.t.secret_string}", sensitive: false }),
    address: "output.token",
  },
  {
    rule: "MESH_SENSITIVE_OUTPUTS",
    name: "a secret read ephemerally",
    doc: output("token", { value: "${ephemeral.aws_secretsmanager_secret_version.t.secret_string}" }),
    address: "output.token",
  },
  { rule: "MESH_SENSITIVE_OUTPUTS", name: "a token variable in a map", doc: output("cfg", { value: { url: "https://x", token: "${var.consul_token}" } }), address: "output.cfg" },
  // No secret in state
  { rule: "MESH_NO_SECRET_IN_STATE", name: "a managed random_uuid", doc: res(["random_uuid", "token", {}]), address: "random_uuid.token" },
  { rule: "MESH_NO_SECRET_IN_STATE", name: "a managed random_password", doc: res(["random_password", "pw", { length: 32 }]), address: "random_password.pw" },
  { rule: "MESH_NO_SECRET_IN_STATE", name: "a managed tls_private_key", doc: res(["tls_private_key", "ca", { algorithm: "ECDSA" }]), address: "tls_private_key.ca" },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "a certificate signed with a CA key input",
    doc: res(["tls_locally_signed_cert", "server", { cert_request_pem: "${var.csr}", ca_private_key_pem: "${var.ca_key}", ca_cert_pem: "${var.ca}" }]),
    address: "tls_locally_signed_cert.server",
  },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "a secret read by a data source",
    doc: data("aws_secretsmanager_secret_version", "token", { secret_id: "${aws_secretsmanager_secret.token.arn}" }),
    address: "data.aws_secretsmanager_secret_version.token",
  },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "a secret_string",
    doc: res(["aws_secretsmanager_secret_version", "token", { secret_id: "${aws_secretsmanager_secret.token.id}", secret_string: "${var.token}" }]),
    address: "aws_secretsmanager_secret_version.token",
  },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "a secret_string_wo that can never be rewritten (no version)",
    doc: res(["aws_secretsmanager_secret_version", "token", { secret_id: "${aws_secretsmanager_secret.token.id}", secret_string_wo: "${ephemeral.random_password.token.result}" }]),
    address: "aws_secretsmanager_secret_version.token",
  },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "a SecureString parameter's value",
    doc: res(["aws_ssm_parameter", "token", { name: "/mesh/token", type: "SecureString", value: "${var.token}" }]),
    address: "aws_ssm_parameter.token",
  },
  ...(
    [
      ["aws_ssm_parameter", { name: "/mesh/token" }, "a parameter read with decryption (the default)"],
      ["aws_kms_secrets", { secret: [{ name: "token", payload: "AQICAH..." }] }, "KMS-decrypted plaintext"],
      ["aws_secretsmanager_random_password", { password_length: 32 }, "a generated password"],
      ["terraform_remote_state", { backend: "s3", config: { bucket: "b", key: "mesh.tfstate" } }, "another stack's whole state"],
    ] as const
  ).map(([type, body, what]) => ({
    rule: "MESH_NO_SECRET_IN_STATE",
    name: `a data source of ${what}`,
    doc: { data: { [type]: { read: body } } } as TerraformJson,
    address: `data.${type}.read`,
  })),
];

const GOOD: GoodCase[] = [
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "a server host with its group, admitting the agents' RPC",
    doc: merge(serverHost(["${aws_security_group.servers.id}"]), onServerGroup(FROM_TASKS), AGENT_TASK),
  },
  {
    rule: "MESH_NO_SECRET_IN_STATE",
    name: "an ephemeral password through write-only arguments, a plain parameter naming the secret, and a non-credential random_pet",
    doc: merge(
      { ephemeral: { random_password: { token: { length: 32, special: false } } } } as TerraformJson,
      res(
        ["aws_secretsmanager_secret", "token", { name_prefix: "mesh/token-", kms_key_id: "${aws_kms_key.k.arn}" }],
        [
          "aws_secretsmanager_secret_version",
          "token",
          { secret_id: "${aws_secretsmanager_secret.token.id}", secret_string_wo: "${ephemeral.random_password.token.result}", secret_string_wo_version: 1 },
        ],
        ["aws_ssm_parameter", "token_arn", { name: "/mesh/token-arn", type: "String", value: "${aws_secretsmanager_secret.token.arn}" }],
        ["aws_ssm_parameter", "key", { name: "/mesh/key", type: "SecureString", value_wo: "${ephemeral.random_password.token.result}", value_wo_version: 1 }],
        ["random_pet", "suffix", {}],
      ),
      {
        data: {
          aws_ssm_parameter: {
            token_arn: { name: "/mesh/token-arn", with_decryption: false },
            ami: { name: "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id" },
          },
        },
      } as TerraformJson,
    ),
  },
  {
    rule: "MESH_DATAPLANE_LOGIN",
    name: "every login role pinned, and a reaper for the dataplane tasks",
    doc: merge(res(loginRole("web"), pin("web")), task([DATAPLANE, GOOD_CONTAINER]), rolePolicy(REAPER)),
  },
  {
    rule: "MESH_PROXY_ADMIN",
    name: "Envoy's admin on a socket only Envoy and its init container mount",
    doc: task([
      envoy(ADMIN_PIPE),
      { ...GOOD_CONTAINER, name: "init", essential: false, mountPoints: [{ sourceVolume: "envoy-admin", containerPath: "/a", readOnly: false }] },
      GOOD_CONTAINER,
    ]),
  },
  { rule: "MESH_PROXY_ADMIN", name: "consul-dataplane, the architecture's documented boundary", doc: task([DATAPLANE, GOOD_CONTAINER]) },
  { rule: "MESH_SERVER_EXPOSURE", name: "server RPC from the tasks that run agents", doc: servers(FROM_TASKS, AGENT_TASK) },
  { rule: "MESH_SERVER_EXPOSURE", name: "server RPC from the tasks that run agents, in an inline block", doc: inlineServers(INLINE_FROM_TASKS, AGENT_TASK) },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "server RPC from the tasks that run agents, as aws_security_group_rule resources",
    doc: merge(res(LEGACY_SERVER_RPC, legacyRule(LEGACY_FROM_TASKS)), AGENT_TASK),
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "dataplane tasks: gRPC TLS from the tasks in an inline block, the reaper's ECS access",
    doc: inlineServers(
      { ...INLINE_FROM_TASKS, from_port: 8503, to_port: 8503 },
      task([DATAPLANE]),
      rolePolicy({ Effect: "Allow", Action: ["ecs:DescribeTasks"], Resource: "arn:aws:ecs:*:*:task/c/*" }),
    ),
  },
  {
    rule: "MESH_SERVER_EXPOSURE",
    name: "dataplane tasks: gRPC TLS from the tasks, the reaper's ECS access",
    doc: servers(
      { ...FROM_TASKS, from_port: 8503, to_port: 8503 },
      task([DATAPLANE]),
      rolePolicy({ Effect: "Allow", Action: ["ecs:DescribeTasks"], Resource: "arn:aws:ecs:*:*:task/c/*" }),
    ),
  },
  { rule: "MESH_IMDS_HOP_LIMIT", name: "hop limit 1", doc: merge(instance({}), launchTemplate({})) },
  { rule: "MESH_IMDS_HOP_LIMIT", name: "IMDS off", doc: instance({ metadata_options: { http_endpoint: "disabled" } }) },
  { rule: "MESH_S3_PROTECTIONS", name: "TLS only, SSE-KMS only, one reader", doc: bucket([TLS_ONLY, KMS_ONLY, NAMED_READER]) },
  {
    rule: "MESH_KMS_LOGS_SCOPED",
    name: "the mesh's log groups",
    doc: logsKey({ ArnLike: { "kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:us-east-1:111122223333:log-group:/ecs/mesh/*"] } }),
  },
  {
    rule: "MESH_TASK_ROLE_TRUST",
    name: "tasks of the account",
    doc: taskRole({ ...ECS_TRUST, Condition: { StringEquals: { "aws:SourceAccount": "111122223333" }, ArnLike: { "aws:SourceArn": "arn:aws:ecs:us-east-1:111122223333:*" } } }),
  },
  { rule: "CKV_AWS_24", name: "SSH from ${var.admin_cidr}", doc: ingress({ ip_protocol: "tcp", from_port: 22, to_port: 22, cidr_ipv4: "${var.admin_cidr}" }) },
  { rule: "CKV_AWS_24", name: "SSH from the VPC", doc: ingress({ ip_protocol: "tcp", from_port: 22, to_port: 22, cidr_ipv4: "10.0.0.0/16" }) },
  {
    rule: "CKV_AWS_24",
    name: "HTTPS from 0.0.0.0/0, UDP 22, egress everywhere",
    doc: res([
      "aws_security_group",
      "sg",
      {
        description: "x",
        ingress: [
          { description: "https", protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"] },
          { description: "udp", protocol: "udp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] },
        ],
        egress: [{ description: "all", protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] }],
      },
    ]),
  },
  { rule: "MESH_CONSUL_PORTS", name: "the UI from ${var.admin_cidr}", doc: ingress({ ip_protocol: "tcp", from_port: 8501, to_port: 8501, cidr_ipv4: "${var.admin_cidr}" }) },
  { rule: "MESH_CONSUL_PORTS", name: "server RPC from the VPC", doc: ingress({ ip_protocol: "tcp", from_port: 8300, to_port: 8300, cidr_ipv4: "10.0.0.0/16" }) },
  {
    rule: "MESH_CONSUL_PORTS",
    name: "Envoy listeners (21000-21255) from another group",
    doc: ingress({ ip_protocol: "tcp", from_port: 21000, to_port: 21255, referenced_security_group_id: "${aws_security_group.sg.id}" }),
  },
  {
    rule: "MESH_CONSUL_PORTS",
    name: "ports beside the admin ones from 0.0.0.0/0",
    doc: ingress({ ip_protocol: "tcp", from_port: 8503 + 1, to_port: 8599, cidr_ipv4: "0.0.0.0/0" }),
  },
  { rule: "MESH_CONSUL_PORTS", name: "ICMP from 0.0.0.0/0", doc: ingress({ ip_protocol: "icmp", from_port: 8, to_port: 0, cidr_ipv4: "0.0.0.0/0" }) },
  {
    rule: "CKV_AWS_23",
    name: "described group and rules",
    doc: res(
      ["aws_security_group", "sg", { description: "x", ingress: [{ description: "https", protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["10.0.0.0/8"] }] }],
      ["aws_vpc_security_group_egress_rule", "e", { description: "all", ip_protocol: "-1", cidr_ipv4: "10.0.0.0/8" }],
    ),
  },
  { rule: "CKV_AWS_79", name: "IMDSv2 required", doc: instance({}) },
  { rule: "CKV_AWS_8", name: "encrypted root volume (object or list)", doc: instance({ root_block_device: [{ encrypted: true }] }) },
  {
    rule: "CKV_AWS_46",
    name: "secrets fetched at boot by ARN",
    doc: userData(
      [
        "#!/bin/bash",
        "readonly TOKEN_SECRET='${aws_secretsmanager_secret.token.arn}'",
        'agent_token="$(aws secretsmanager get-secret-value --secret-id "$TOKEN_SECRET" --query SecretString --output text)"',
        'printf "token = %s" "$${agent_token}"',
        "enable_token_persistence = true",
        "token_file=/etc/consul.d/agent.token",
        "ECS_CLUSTER=${aws_ecs_cluster.c.name}",
      ].join("\n"),
    ),
  },
  {
    rule: "CKV_AWS_46",
    name: "a CA certificate and a public key",
    doc: userData("echo '${tls_self_signed_cert.ca.cert_pem}' > ca.pem\necho '${tls_private_key.k.public_key_openssh}' >> keys\n"),
  },
  { rule: "CKV_AWS_79", name: "IMDS disabled (http_endpoint disabled)", doc: instance({ metadata_options: { http_endpoint: "disabled", http_tokens: "optional" } }) },
  {
    rule: "CKV_AWS_79",
    name: "a launch template requiring IMDSv2 (array)",
    doc: launchTemplate({ metadata_options: [{ http_tokens: "required", http_put_response_hop_limit: 1 }] }),
  },
  { rule: "CKV_AWS_8", name: "a launch template with an encrypted root mapping", doc: launchTemplate({}) },
  {
    rule: "CKV_AWS_8",
    name: "a launch template: /dev/xvda encrypted, a data volume first",
    doc: launchTemplate({
      block_device_mappings: [
        { device_name: "/dev/xvdb", ebs: { volume_size: 100 } },
        { device_name: "/dev/xvda", ebs: [{ encrypted: true }] },
      ],
    }),
  },
  { rule: "CKV2_AWS_41", name: "an instance profile", doc: instance({}) },
  {
    rule: "CKV2_AWS_41",
    name: "a launch template instance profile by name or by arn",
    doc: merge(
      launchTemplate({}),
      res(["aws_launch_template", "lt2", { metadata_options: { http_tokens: "required" }, iam_instance_profile: [{ arn: "${aws_iam_instance_profile.p.arn}" }] }]),
    ),
  },
  { rule: "CKV_AWS_88", name: "an instance without associate_public_ip_address", doc: instance({}) },
  { rule: "CKV_AWS_88", name: "an instance with associate_public_ip_address false", doc: instance({ associate_public_ip_address: false }) },
  {
    rule: "CKV_AWS_88",
    name: 'a launch template interface with "false", or none',
    doc: merge(launchTemplate({}), res(["aws_launch_template", "lt2", { network_interfaces: undefined }])),
  },
  { rule: "CKV_AWS_65", name: "containerInsights enabled", doc: res(["aws_ecs_cluster", "c", { name: "c", setting: [{ name: "containerInsights", value: "enabled" }] }]) },
  { rule: "CKV_AWS_224", name: "ECS Exec with a CMK and encrypted CloudWatch logs", doc: cluster(ENCRYPTED_EXEC) },
  {
    rule: "CKV_AWS_224",
    name: "ECS Exec with a CMK and encrypted S3 logs (arrays)",
    doc: res([
      "aws_ecs_cluster",
      "c",
      {
        name: "c",
        configuration: [
          {
            execute_command_configuration: [
              { kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/1", log_configuration: [{ s3_bucket_name: "b", s3_bucket_encryption_enabled: true }] },
            ],
          },
        ],
      },
    ]),
  },
  {
    rule: "CKV_AWS_224",
    name: "no execute_command_configuration, and logging NONE (not judged)",
    doc: merge(res(["aws_ecs_cluster", "c", { name: "c" }]), res(["aws_ecs_cluster", "c2", { name: "c2", configuration: { execute_command_configuration: { logging: "NONE" } } }])),
  },
  {
    rule: "CKV_AWS_333",
    name: "assign_public_ip false, or no network_configuration",
    doc: merge(service({ assign_public_ip: false, subnets: ["${aws_subnet.private.id}"] }), res(["aws_ecs_service", "s2", { name: "s2" }])),
  },
  { rule: "CKV_AWS_249", name: "distinct roles", doc: task([GOOD_CONTAINER]) },
  { rule: "MESH_ECS_PRIVILEGED", name: "unprivileged", doc: container({ privileged: false }) },
  { rule: "MESH_ECS_LOGGING", name: "awslogs", doc: task([GOOD_CONTAINER, { ...GOOD_CONTAINER, name: "sidecar" }]) },
  { rule: "CKV_AWS_336", name: "read-only root", doc: container({}) },
  { rule: "CKV_AWS_336", name: "the Consul agent (default allow-list)", doc: container({ name: "consul-agent", readonlyRootFilesystem: false }) },
  {
    rule: "CKV_AWS_336",
    name: "an exception label with a reason",
    doc: container({ readonlyRootFilesystem: false, dockerLabels: { [READONLY_ROOT_EXCEPTION_LABEL]: "ECS Exec: its agent writes into the container" } }),
  },
  {
    rule: "CKV_AWS_336",
    name: "an allow-list entry for this task",
    doc: container({ readonlyRootFilesystem: false }),
    options: { writableRootContainers: [{ container: "app", task: TD, reason: "ECS Exec" }] },
  },
  {
    rule: "AVD-AWS-0036",
    name: "plain settings, ARNs and references to ARNs",
    doc: container({
      environment: [
        { name: "API_URL", value: "http://x" },
        { name: "KMS_KEY_ARN", value: "${aws_kms_key.k.arn}" },
        { name: "TOKEN_SECRET_ARN", value: "arn:aws:secretsmanager:us-east-1:123456789012:secret:t" },
        { name: "CONSUL_HTTP_TOKEN", value: "" },
      ],
    }),
  },
  { rule: "MESH_SECRET_BY_REFERENCE", name: "a Secrets Manager ARN", doc: container({}) },
  {
    rule: "MESH_SECRET_BY_REFERENCE",
    name: "references with a JSON key, and an SSM ARN",
    doc: container({
      secrets: [
        { name: "A", valueFrom: "${aws_secretsmanager_secret.a.arn}:SecretID::" },
        { name: "B", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/x" },
        { name: "C", valueFrom: "${var.db_secret_arn}" },
      ],
    }),
  },
  { rule: "CKV_AWS_163", name: "scan on push", doc: res(["aws_ecr_repository", "r", { name: "r", image_scanning_configuration: { scan_on_push: true } }]) },
  { rule: "CKV_AWS_51", name: "immutable tags", doc: res(["aws_ecr_repository", "r", { name: "r", image_tag_mutability: "IMMUTABLE" }]) },
  { rule: "CKV_AWS_66", name: "30 days", doc: res(["aws_cloudwatch_log_group", "g", { name: "g", retention_in_days: 30 }]) },
  { rule: "CKV_AWS_158", name: "a KMS key", doc: res(["aws_cloudwatch_log_group", "g", { name: "g", kms_key_id: "${aws_kms_key.k.arn}" }]) },
  { rule: "CKV_AWS_338", name: "365 days", doc: logGroup({ retention_in_days: 365 }) },
  { rule: "CKV_AWS_338", name: "0 (never expire)", doc: logGroup({ retention_in_days: 0 }) },
  { rule: "CKV_AWS_338", name: "a variable (not judged)", doc: logGroup({ retention_in_days: "${var.log_retention_days}" }) },
  {
    rule: "CKV_AWS_149",
    name: "a customer-managed key by reference, by ARN and by alias",
    doc: merge(
      secretsManagerSecret({ kms_key_id: "${aws_kms_key.secrets.arn}" }),
      res(
        ["aws_secretsmanager_secret", "s2", { kms_key_id: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }],
        ["aws_secretsmanager_secret", "s3", { kms_key_id: "alias/mesh-secrets" }],
      ),
    ),
  },
  {
    rule: "CKV_AWS_63",
    name: "scoped actions, a Deny *, a key policy document, a reference to a document",
    doc: merge(
      rolePolicy([
        { Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" },
        { Effect: "Deny", Action: "*", Resource: "*" },
      ]),
      data("aws_iam_policy_document", "key", {
        statement: [{ actions: ["kms:*"], resources: ["*"], principals: [{ type: "AWS", identifiers: ["arn:aws:iam::123456789012:root"] }] }],
      }),
      res(["aws_iam_policy", "p2", { policy: "${data.aws_iam_policy_document.key.json}" }]),
    ),
  },
  {
    rule: "CKV_AWS_355",
    name: "unscopable actions on * and scoped ones on ARNs",
    doc: rolePolicy([
      { Effect: "Allow", Action: ["ssmmessages:CreateControlChannel", "ec2:DescribeInstances", "xray:PutTraceSegments"], Resource: "*" },
      { Effect: "Allow", Action: "logs:PutLogEvents", Resource: "${aws_cloudwatch_log_group.g.arn}:*" },
    ]),
  },
  {
    rule: "CKV_AWS_355",
    name: "an action added to the allow-list by option",
    doc: rolePolicy({ Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" }),
    options: { unscopableActions: [{ action: "logs:DescribeLogGroups", reason: "test" }] },
  },
  { rule: "CKV2_AWS_11", name: "a flow log", doc: res(VPC, FLOW_LOG) },
  { rule: "CKV2_AWS_12", name: "a closed default security group", doc: res(VPC, CLOSED_DEFAULT_SG) },
  { rule: "MESH_SENSITIVE_OUTPUTS", name: "a sensitive secret", doc: output("db_password", { value: "${random_password.db.result}", sensitive: true }) },
  {
    rule: "MESH_SENSITIVE_OUTPUTS",
    name: "ARNs of secrets, certificates and public keys",
    doc: {
      output: {
        arn: { value: "${aws_secretsmanager_secret.token.arn}" },
        ca: { value: "${tls_self_signed_cert.ca.cert_pem}" },
        pub: { value: "${tls_private_key.k.public_key_pem}" },
      },
    },
  },
];

const byId = (id: string) => {
  const rule = POLICY_RULES.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
};

describe("policy rules", () => {
  it("has bad and good fragments for every rule, and unique rule ids", () => {
    const ids = POLICY_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...new Set(BAD.map((c) => c.rule))].sort()).toEqual([...ids].sort());
    expect([...new Set(GOOD.map((c) => c.rule))].sort()).toEqual([...ids].sort());
  });

  it.each(BAD.map((c) => [c.rule, c.name, c] as const))("%s fails on %s", (_id, _name, c) => {
    const findings = byId(c.rule).check(c.doc, c.options);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.rule === c.rule && f.message.length > 0)).toBe(true);
    expect(findings.map((f) => f.address)).toContain(c.address);
    // runPolicy reports it too.
    expect(runPolicy(c.doc, c.options)).toEqual(expect.arrayContaining([expect.objectContaining({ rule: c.rule, address: c.address })]));
  });

  it.each(GOOD.map((c) => [c.rule, c.name, c] as const))("%s passes on %s", (_id, _name, c) => {
    expect(byId(c.rule).check(c.doc, c.options)).toEqual([]);
  });

  it("MESH_DATAPLANE_LOGIN says it cannot read a task definition, whether or not a role may reap", () => {
    const opaque = task([], { container_definitions: "${jsonencode(local.containers)}" });
    for (const doc of [opaque, merge(opaque, rolePolicy(REAPER))]) {
      expect(byId("MESH_DATAPLANE_LOGIN").check(doc)).toEqual([
        {
          rule: "MESH_DATAPLANE_LOGIN",
          address: TD,
          message: "container_definitions is not a JSON array literal: cannot tell whether the task runs consul-dataplane and needs the reaper",
        },
      ]);
    }
  });

  it("accepts a fully compliant mini stack", () => {
    const doc = merge(
      res(
        VPC,
        FLOW_LOG,
        CLOSED_DEFAULT_SG,
        ["aws_security_group", "sg", { description: "tasks", vpc_id: "${aws_vpc.main.id}" }],
        [
          "aws_vpc_security_group_ingress_rule",
          "ui",
          { security_group_id: "${aws_security_group.sg.id}", description: "UI from admin", ip_protocol: "tcp", from_port: 8501, to_port: 8501, cidr_ipv4: "${var.admin_cidr}" },
        ],
        ["aws_cloudwatch_log_group", "g", { name: "g", retention_in_days: 365, kms_key_id: "${aws_kms_key.k.arn}" }],
        ["aws_secretsmanager_secret", "s", { name_prefix: "mesh/token-", kms_key_id: "${aws_kms_key.secrets.arn}" }],
      ),
      cluster(ENCRYPTED_EXEC),
      service({ assign_public_ip: false, subnets: ["${aws_subnet.private.id}"] }),
      launchTemplate({}),
      task([GOOD_CONTAINER]),
      instance({}),
      rolePolicy({ Effect: "Allow", Action: "ssmmessages:OpenDataChannel", Resource: "*" }),
      output("arn", { value: "${aws_secretsmanager_secret.token.arn}" }),
    );
    expect(Object.keys(doc.resource!)).toHaveLength(13);
    expect(runPolicy(doc)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Every example spec and the built-in default, all stacks
// ---------------------------------------------------------------------------------------------

const EXAMPLES = fs
  .readdirSync("examples")
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .map((f) => path.join("examples", f));

const SPECS: [string, () => unknown][] = [["the built-in default", () => DEFAULT_SPEC], ...EXAMPLES.map((f): [string, () => unknown] => [f, () => loadSpecFile(f).spec])];

/** Resource types the rules inspect: a synthesized mesh without them would pass vacuously. */
const INSPECTED = [
  "aws_vpc",
  "aws_security_group",
  "aws_vpc_security_group_ingress_rule",
  "aws_ecs_cluster",
  "aws_ecs_task_definition",
  "aws_cloudwatch_log_group",
  "aws_iam_role_policy",
  "aws_secretsmanager_secret",
  "aws_ecs_service",
];

describe("the synthesized stacks of every example spec", () => {
  it("covers at least the three shipped examples", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
  });

  it.each(SPECS)("%s passes every policy rule, MESH_NO_SECRET_IN_STATE included", (_name, spec) => {
    const stacks = synthAllStacks(spec() as never);
    expect(Object.keys(stacks)).toEqual(expect.arrayContaining(["mesh", "intentions"]));
    expect(Object.keys(stacks.mesh.resource)).toEqual(expect.arrayContaining(INSPECTED));
    // Servers and hosts are EC2 instances (fixed addresses) or launch templates (Auto Scaling groups): the instance rules read both.
    expect(Object.keys(stacks.mesh.resource).some((type) => type === "aws_instance" || type === "aws_launch_template")).toBe(true);
    const findings = Object.entries(stacks).flatMap(([stack, doc]) => runPolicy(doc as TerraformJson).map((f) => ({ stack, ...f })));
    expect(findings.map((f) => `${f.stack}: ${f.rule} ${f.address}: ${f.message}`)).toEqual([]);
  });

  it("fails when a protection in place is dropped: the snapshot bucket's TLS-only deny, the hosts' IMDS hop limit, the key's log groups, a task role's trust condition", () => {
    const production = () => synthAllStacks(loadSpecFile("examples/production.yaml").spec as never).mesh as TerraformJson;
    const rulesAfter = (change: (doc: TerraformJson) => void): string[] => {
      const doc = production();
      change(doc);
      return runPolicy(doc).map((f) => `${f.rule} ${f.address}`);
    };
    const resource = (doc: TerraformJson, type: string, name: string) => doc.resource![type]![name] as Record<string, any>;
    const editPolicy = (body: Record<string, any>, key: string, edit: (statements: any[]) => any[]) => {
      const document = JSON.parse(body[key]);
      body[key] = JSON.stringify({ ...document, Statement: edit(document.Statement) });
    };
    expect(rulesAfter(() => {})).toEqual([]);
    expect(rulesAfter((doc) => editPolicy(resource(doc, "aws_s3_bucket_policy", "snapshots_policy"), "policy", (st) => st.filter((s) => s.Sid !== "TlsOnly")))).toEqual([
      "MESH_S3_PROTECTIONS aws_s3_bucket.snapshots_bucket",
    ]);
    expect(
      rulesAfter((doc) => {
        resource(doc, "aws_launch_template", "ecs_hosts_launch_template").metadata_options.http_put_response_hop_limit = 2;
      }),
    ).toEqual(["MESH_IMDS_HOP_LIMIT aws_launch_template.ecs_hosts_launch_template"]);
    expect(
      rulesAfter((doc) =>
        editPolicy(resource(doc, "aws_kms_key", "kms_key_key"), "policy", (st) =>
          st.map((s) => (s.Principal?.Service ? { ...s, Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111122223333:log-group:*" } } } : s)),
        ),
      ),
    ).toEqual(["MESH_KMS_LOGS_SCOPED aws_kms_key.kms_key_key"]);
    expect(
      rulesAfter((doc) => editPolicy(resource(doc, "aws_iam_role", "service_web_task_role_role"), "assume_role_policy", (st) => st.map(({ Condition: _, ...s }) => s))),
    ).toEqual(["MESH_TASK_ROLE_TRUST aws_iam_role.service_web_task_role_role"]);
    // A dataplane-only mesh: the servers' DNS, RPC to the tasks, auto_encrypt.
    expect(
      rulesAfter((doc) => {
        const rules = doc.resource!.aws_vpc_security_group_ingress_rule!;
        rules.dns = { ...rules.consul_servers_security_group_ingress_server_rpc, from_port: 8600, to_port: 8600, description: "DNS" };
        rules.rpc_from_tasks = { ...rules.consul_servers_security_group_ingress_grpc_tls_from_tasks, from_port: 8300, to_port: 8300, description: "RPC" };
        (doc.locals as Record<string, string>).consul_servers_server_2_user_data = (doc.locals as Record<string, string>).consul_servers_server_2_user_data!.replace(
          "tls {",
          "auto_encrypt {\n  allow_tls = true\n}\ntls {",
        );
      }),
    ).toEqual([
      "MESH_SERVER_EXPOSURE aws_vpc_security_group_ingress_rule.dns",
      "MESH_SERVER_EXPOSURE aws_vpc_security_group_ingress_rule.rpc_from_tasks",
      "MESH_SERVER_EXPOSURE aws_launch_template.consul_servers_server_2_launch_template",
    ]);
    // The servers' group found from the server hosts when no rule marks it (its RPC from itself gone); a server host on a group from elsewhere cannot be checked.
    expect(
      rulesAfter((doc) => {
        const rules = doc.resource!.aws_vpc_security_group_ingress_rule!;
        rules.dns = { ...rules.consul_servers_security_group_ingress_server_rpc, from_port: 8600, to_port: 8600, description: "DNS" };
        delete rules.consul_servers_security_group_ingress_server_rpc;
      }),
    ).toEqual(["MESH_SERVER_EXPOSURE aws_vpc_security_group_ingress_rule.dns"]);
    expect(
      rulesAfter((doc) => {
        resource(doc, "aws_launch_template", "consul_servers_server_2_launch_template").network_interfaces[0].security_groups = ["sg-0123456789abcdef0"];
      }),
    ).toEqual(["MESH_SERVER_EXPOSURE aws_launch_template.consul_servers_server_2_launch_template"]);
    // The same RPC to the tasks, added as an inline block on the servers' group and as an aws_security_group_rule (a user's own resources).
    expect(
      rulesAfter((doc) => {
        const tasks = "${aws_security_group.ecs_task_security_group_group.id}";
        (doc.resource!.aws_security_group_rule ??= {}).rpc_from_tasks = {
          type: "ingress",
          security_group_id: "${aws_security_group.consul_servers_security_group_group.id}",
          source_security_group_id: tasks,
          protocol: "tcp",
          from_port: 8300,
          to_port: 8300,
          description: "RPC",
        };
        resource(doc, "aws_security_group", "consul_servers_security_group_group").ingress = [
          { description: "RPC and HTTP", protocol: "tcp", from_port: 8300, to_port: 8500, security_groups: [tasks] },
        ];
      }),
    ).toEqual(["MESH_SERVER_EXPOSURE aws_security_group.consul_servers_security_group_group", "MESH_SERVER_EXPOSURE aws_security_group_rule.rpc_from_tasks"]);
    // A service's login role no longer pinned by its unique ID; the reaper's permission gone.
    expect(rulesAfter((doc) => delete doc.resource!.aws_ssm_parameter!.service_web_login_role_parameter)).toEqual(["MESH_DATAPLANE_LOGIN aws_iam_role.service_web_task_role_role"]);
    expect(
      rulesAfter((doc) => {
        for (const name of Object.keys(doc.resource!.aws_iam_role_policy!)) if (name.endsWith("describe-mesh-tasks")) delete doc.resource!.aws_iam_role_policy![name];
      }),
    ).toEqual(["MESH_DATAPLANE_LOGIN aws_ecs_task_definition.service_api_task_definition"]);
  });

  it("fails when an Envoy's admin API returns to TCP: the agent sidecar without its overlay, the TLS edge's config, an app mounting the socket's volume", () => {
    const stacks = () => synthAllStacks(loadSpecFile("examples/tls-edge.yaml").spec as never);
    const findingsAfter = (stack: string, task: string, edit: (containers: any[]) => void): string[] => {
      const doc = stacks()[stack] as TerraformJson;
      const body = doc.resource!.aws_ecs_task_definition![task] as Record<string, any>;
      const containers = JSON.parse(body.container_definitions);
      edit(containers);
      body.container_definitions = JSON.stringify(containers);
      return runPolicy(doc).map((f) => `${f.rule} ${f.address}`);
    };
    const sidecar = "service_http-client_task_definition";
    expect(findingsAfter("mesh", sidecar, () => {})).toEqual([]);
    expect(
      findingsAfter("mesh", sidecar, (cs) => {
        const envoy = cs.find((c) => c.name === "envoy-sidecar");
        envoy.command.splice(envoy.command.indexOf("--config-yaml"), 2);
      }),
    ).toEqual([`MESH_PROXY_ADMIN aws_ecs_task_definition.${sidecar}`]);
    expect(
      findingsAfter("mesh", sidecar, (cs) => {
        cs.find((c) => c.name === "app").mountPoints = [{ sourceVolume: "envoy-admin", containerPath: "/x", readOnly: true }];
      }),
    ).toEqual([`MESH_PROXY_ADMIN aws_ecs_task_definition.${sidecar}`]);
    const edge = Object.keys((stacks()["tls-edge"] as TerraformJson).resource!.aws_ecs_task_definition!)[0]!;
    expect(
      findingsAfter("tls-edge", edge, (cs) => {
        const envoy = cs.find((c) => c.name === "envoy");
        envoy.entryPoint[2] = envoy.entryPoint[2].replace(
          /admin:\n {2}address:\n {4}pipe:\n {6}path: .*\n {6}mode: .*\n/,
          'admin:\n  address:\n    socket_address:\n      address: "127.0.0.1"\n      port_value: 9901\n',
        );
      }),
    ).toEqual([`MESH_PROXY_ADMIN aws_ecs_task_definition.${edge}`]);
  });
});
