// The AWS calls the mesh makes, for the IAM judge (tools/judges/iam.ts), from what runs:
//   - recorded: each EC2 instance's user data, and every unit it installs, run unchanged under
//     the script runner (tools/judges/run-script.ts) with AWS, Consul and the AMI stubbed so that
//     every path that calls AWS is taken; each `aws` command it makes becomes calls (cliCalls);
//   - declared: what programs call on a role's behalf (declaredCalls: the ECS agent with the
//     execution role, consul-ecs and Consul with the task role, the SSM agent, the ECS agent on the
//     hosts, VPC Flow Logs, an operator's restore), read from the synthesized task definitions,
//     services, instances and bucket policies, each with its source (SOURCES); a container's own
//     calls are its plan's (ContainerPlan.calls, which the task role's grant and the network-path
//     rule read too), checked against whether its synthesized definition runs server discovery;
//   - implicit: what AWS calls as the caller when it serves a call (a KMS grant for attaching an
//     encrypted volume, a KMS decrypt for reading an encrypted secret), with their sources.
import { DISCOVER_SOURCE } from "../../lib/plan/aws-apis";
import { ecsServiceNamesOf, ecsServicesOf } from "../../lib/plan/names";
import type { MeshPlan, TaskPlan } from "../../lib/plan/types";
import { type AwsCall, type StackValues, stackValuesOf, type TerraformDoc } from "./iam";
import { type Answer, exactArgs, type FileSpec, ScriptRoot, type Stub, type StubCall, userDataRun } from "./run-script";
import { type Pem, rpcCaSecretValue, selfSigned } from "./test-pki";

let judgeCaPem: Pem | undefined;
/** The RPC CA the judge's Secrets Manager holds once a server stored it (made once per process). */
function judgeCa(): Pem {
  judgeCaPem ??= selfSigned("/CN=IAM judge CA");
  return judgeCaPem;
}

/** Where each declared or implicit call is documented. */
const SOURCES = {
  remoteWrite:
    "aws-otel-collector v0.49.0 vendor/.../prometheusremotewriteexporter signed by sigv4authextension (service aps): RemoteWrite, POST /workspaces/<id>/api/v1/remote_write, authorized as aps:RemoteWrite on the workspace (AMP User Guide, IAM permissions)",
  emfExporter:
    "aws-otel-collector v0.49.0 vendor/.../awsemfexporter with internal/aws/cwlogs pusher: CreateLogStream, then PutLogEvents on its log_stream_name (CreateLogGroup only when the group is missing)",
  xrayExporter: "aws-otel-collector v0.49.0 vendor/.../awsxrayexporter/awsxray.go: PutTraceSegments, up to 50 segments a call",
  xrayTelemetry: "aws-otel-collector v0.49.0 vendor/.../internal/aws/xray/telemetry/sender.go: PutTelemetryRecords when the exporter's telemetry.enabled",
  ebsEncryption: "EBS User Guide, Requirements for Amazon EBS encryption: attaching a volume under a customer managed key creates a KMS grant as the caller",
  secretsKms: "Secrets Manager User Guide, Secret encryption and decryption: GetSecretValue decrypts with the secret's KMS key as the caller",
  secretsKmsWrite:
    "Secrets Manager User Guide, Secret encryption and decryption: PutSecretValue has Secrets Manager call kms:GenerateDataKey with the secret's KMS key as the caller (encryption context SecretARN)",
  s3Kms: "S3 User Guide, Using server-side encryption with AWS KMS keys: PutObject needs kms:GenerateDataKey, a multipart upload and GetObject kms:Decrypt",
  executionRole: "ECS Developer Guide, Amazon ECS task execution IAM role: image pulls, awslogs, secrets",
  pullThroughCache: "ECR User Guide, IAM permissions for pull through cache: the first pull imports the image and creates its repository",
  ecsExec: "ECS Developer Guide, Monitor Amazon ECS containers with ECS Exec: the task role opens SSM channels, writes the session log, decrypts with the session key",
  consulLogin: "Consul AWS IAM auth method: the server sends the task's signed iam:GetRole request to AWS (EnableIAMEntityDetails)",
  ssmAgent: "Systems Manager User Guide, Session Manager minimum instance permissions",
  ecsAgent: "ECS Developer Guide, Amazon ECS container instance IAM role: the ECS agent registers, polls and submits state changes",
  flowLogs: "VPC User Guide, IAM role for publishing flow logs to CloudWatch Logs",
  restore: "README, Snapshots and restore: aws s3 ls and aws s3 cp with the restore role",
} as const;

type Call = Omit<AwsCall, "stack" | "role" | "caller">;

/** AWS CLI options that take no value, and those that take a list (the scripts' only ones; any other takes one value). */
const FLAG_OPTIONS = new Set(["--only-show-errors", "--quiet", "--no-progress", "--recursive"]);
const LIST_OPTIONS = new Set(["--tasks", "--volume-ids", "--instance-ids"]);

/**
 * The calls one `aws` command makes (its own, and the implicit ones AWS makes as the caller); `files`: the
 * content of the files its arguments named when it ran (--cli-input-json file://F), as the stub recorded them.
 */
function cliCalls(values: StackValues, args: readonly string[], files: Readonly<Record<string, string>> = {}): Call[] {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    if (!args[i]!.startsWith("--")) {
      positional.push(args[i]!);
      continue;
    }
    const option = args[i]!;
    const optionValues: string[] = [];
    if (LIST_OPTIONS.has(option)) while (i + 1 < args.length && !args[i + 1]!.startsWith("--")) optionValues.push(args[++i]!);
    else if (!FLAG_OPTIONS.has(option)) optionValues.push(args[++i] ?? "");
    options.set(option, optionValues);
  }
  // --cli-input-json carries the request's parameters ({"cluster": ..., "tasks": [...]}): read them as options.
  const inputArg = options.get("--cli-input-json")?.[0];
  const input = inputArg?.startsWith("file://") ? files[inputArg.slice("file://".length)] : inputArg;
  if (inputArg !== undefined && input === undefined) throw new Error(`aws ${args.slice(0, 2).join(" ")}: ${inputArg} was not recorded (recordFilesAfterPrefix)`);
  if (input !== undefined) {
    for (const [key, value] of Object.entries(JSON.parse(input) as Record<string, unknown>)) {
      options.set(`--${key.replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, [value].flat().map(String));
    }
  }
  const [service, operation, ...rest] = positional;
  const one = (name: string): string => {
    const v = options.get(name)?.[0];
    if (v === undefined) throw new Error(`aws ${service} ${operation}: no ${name} (the IAM judge cannot tell the resource)`);
    return v;
  };
  const { partition: p, region: r, account: a } = values;
  const recorded = (action: string, resource: string, context?: AwsCall["context"]): Call => ({ action, resource, source: "recorded", ...(context ? { context } : {}) });
  switch (`${service} ${operation}`) {
    case "ec2 describe-volumes":
      return [recorded("ec2:DescribeVolumes", "*")];
    case "ec2 attach-volume": {
      const volume = findByAttribute(values, "aws_ebs_volume", "id", one("--volume-id"));
      const instanceTags = serverInstanceTags(values);
      const volumeArn = values.text(`\${aws_ebs_volume.${volume.name}.arn}`);
      const tagContext = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
      const calls: Call[] = [
        recorded("ec2:AttachVolume", volumeArn, tagContext(values.policyTags(volume.resource.tags))),
        recorded("ec2:AttachVolume", `arn:${p}:ec2:${r}:${a}:instance/${one("--instance-id")}`, tagContext(instanceTags)),
      ];
      const key = volume.resource.kms_key_id;
      if (key) {
        calls.push({
          action: "kms:CreateGrant",
          resource: values.text(String(key)),
          context: { "kms:GrantIsForAWSResource": "true", "kms:ViaService": `ec2.${r}.amazonaws.com` },
          source: SOURCES.ebsEncryption,
        });
      }
      return calls;
    }
    case "autoscaling complete-lifecycle-action": {
      const group = findByAttribute(values, "aws_autoscaling_group", "name", one("--auto-scaling-group-name"));
      return [recorded("autoscaling:CompleteLifecycleAction", values.text(`\${aws_autoscaling_group.${group.name}.arn}`))];
    }
    case "secretsmanager get-secret-value":
      return secretRead(values, one("--secret-id"), "recorded");
    case "secretsmanager put-secret-value": {
      const arn = one("--secret-id");
      const key = secretKeyOf(values, arn);
      return [
        recorded("secretsmanager:PutSecretValue", arn),
        ...(key
          ? [
              {
                action: "kms:GenerateDataKey",
                resource: key,
                context: { "kms:ViaService": `secretsmanager.${values.region}.amazonaws.com`, "kms:EncryptionContext:SecretARN": arn },
                source: SOURCES.secretsKmsWrite,
              },
            ]
          : []),
      ];
    }
    case "ssm get-parameters-by-path":
      return [recorded("ssm:GetParametersByPath", `arn:${p}:ssm:${r}:${a}:parameter${one("--path")}`)];
    case "ecs describe-tasks": {
      const cluster = one("--cluster");
      const name = cluster.slice(cluster.lastIndexOf("/") + 1);
      const tasks = options.get("--tasks");
      if (!tasks?.length) throw new Error("aws ecs describe-tasks: no --tasks (the IAM judge cannot tell the resource)");
      return tasks.map((task) => recorded("ecs:DescribeTasks", `arn:${p}:ecs:${r}:${a}:task/${name}/${task}`));
    }
    case "s3api put-object": {
      const key = options.get("--ssekms-key-id")?.[0];
      const object = recorded("s3:PutObject", `arn:${p}:s3:::${one("--bucket")}/${one("--key")}`, {
        ...(options.has("--server-side-encryption") ? { "s3:x-amz-server-side-encryption": one("--server-side-encryption") } : {}),
        ...(key ? { "s3:x-amz-server-side-encryption-aws-kms-key-id": key } : {}),
      });
      return [object, ...(key ? [{ action: "kms:GenerateDataKey", resource: key, context: { "kms:ViaService": `s3.${r}.amazonaws.com` }, source: SOURCES.s3Kms }] : [])];
    }
    case "s3 cp": {
      const [from, to] = rest;
      if (from?.startsWith("s3://")) return [recorded("s3:GetObject", `arn:${p}:s3:::${from.slice(5)}`)];
      if (!to?.startsWith("s3://")) throw new Error(`aws s3 cp ${from} ${to}: neither side is S3`);
      const key = options.get("--sse-kms-key-id")?.[0];
      const object = recorded("s3:PutObject", `arn:${p}:s3:::${to.slice(5)}`, {
        ...(options.has("--sse") ? { "s3:x-amz-server-side-encryption": one("--sse") } : {}),
        ...(key ? { "s3:x-amz-server-side-encryption-aws-kms-key-id": key } : {}),
      });
      const via = { "kms:ViaService": `s3.${r}.amazonaws.com` };
      return [object, ...(key ? ["kms:GenerateDataKey", "kms:Decrypt"].map((action) => ({ action, resource: key, context: via, source: SOURCES.s3Kms })) : [])];
    }
    default:
      throw new Error(`aws ${service} ${operation}: the IAM judge has no entry for this command: add one to cliCalls (tools/judges/iam-calls.ts)`);
  }
}

/** GetSecretValue on a secret ARN (an ECS valueFrom may add :json-key:stage:version), and the decrypt with its key. */
function secretRead(values: StackValues, valueFrom: string, source: string): Call[] {
  const arn = valueFrom.replace(/^(arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:[^:]+)(:.*)?$/, "$1");
  const calls: Call[] = [{ action: "secretsmanager:GetSecretValue", resource: arn, source }];
  const key = secretKeyOf(values, arn);
  if (key) {
    calls.push({
      action: "kms:Decrypt",
      resource: key,
      context: { "kms:ViaService": `secretsmanager.${values.region}.amazonaws.com`, "kms:EncryptionContext:SecretARN": arn },
      source: SOURCES.secretsKms,
    });
  }
  return calls;
}

/** The KMS key of the stack's secret with this ARN; undefined: none (AWS managed) or not the stack's. */
function secretKeyOf(values: StackValues, arn: string): string | undefined {
  const secret = Object.entries<TerraformDoc>(values.doc.resource?.aws_secretsmanager_secret ?? {}).find(
    ([name]) => values.text(`\${aws_secretsmanager_secret.${name}.arn}`) === arn,
  );
  return secret?.[1].kms_key_id ? values.text(String(secret[1].kms_key_id)) : undefined;
}

function findByAttribute(values: StackValues, type: string, attribute: string, value: string): { name: string; resource: TerraformDoc } {
  for (const [name, resource] of Object.entries<TerraformDoc>(values.doc.resource?.[type] ?? {})) {
    if (values.text(`\${${type}.${name}.${attribute}}`) === value) return { name, resource };
  }
  throw new Error(`${values.stack}: no ${type} has ${attribute} ${value}`);
}

/** The tags the servers' launch templates give their instances (the AttachVolume condition reads them). */
function serverInstanceTags(values: StackValues): Record<string, string> {
  for (const template of Object.values<TerraformDoc>(values.doc.resource?.aws_launch_template ?? {})) {
    const tags = (template.tag_specifications ?? []).find((t: TerraformDoc) => t.resource_type === "instance")?.tags;
    if (tags && Object.keys(tags).some((k) => k.endsWith(":server"))) return values.policyTags(tags);
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Recorded: user data and the units it installs, run under stubs
// ---------------------------------------------------------------------------------------------

const ok = (stdout = ""): Answer => ({ stdout });
const SELF = "10.0.101.100";

/** The SSM folder of a parameter name: what get-parameters-by-path lists it under. */
const folderOf = (name: string) => name.replace(/\/[^/]+$/, "");

/** The folders the stack's SSM parameters are in: where its scripts list parameters. */
export function parameterPaths(values: StackValues): string[] {
  const names = Object.values<TerraformDoc>(values.doc.resource?.aws_ssm_parameter ?? {}).map((p) => values.text(String(p.name)));
  return [...new Set(names.map(folderOf))].sort();
}

/** What AWS, Consul and the AMI answer, so that every AWS-calling path of the server scripts runs. */
function stubs(values: StackValues, clusterArn: string): Record<string, Stub> {
  const parameters = Object.values<TerraformDoc>(values.doc.resource?.aws_ssm_parameter ?? {}).map((p) => ({
    Name: values.text(String(p.name)),
    Value: values.text(String(p.value)),
  }));
  const token = (n: number) => `0e0e0e0e-0000-4000-8000-00000000000${n}`;
  const secretValue = (arn: string): string => {
    if (/gossip/.test(arn)) return Buffer.alloc(32, 7).toString("base64");
    if (/management-token/.test(arn)) return token(1);
    if (/token/.test(arn)) return JSON.stringify({ AccessorID: token(2), SecretID: token(3) });
    return "-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----";
  };
  const secretArns = Object.keys(values.doc.resource?.aws_secretsmanager_secret ?? {}).map((name) => values.text(`\${aws_secretsmanager_secret.${name}.arn}`));
  // What the servers write (the RPC CA): no value yet, so the first boot makes and puts it, then reads its version.
  const ca = judgeCa();
  const serverWritten = secretArns.flatMap((arn) =>
    /\/consul\/rpc-ca-key-/.test(arn) ? [{ arn, value: rpcCaSecretValue(ca) }] : /\/consul\/ca-cert-/.test(arn) ? [{ arn, value: ca.certPem }] : [],
  );
  const notFound = {
    stderr:
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT\n",
    exit: 254,
  };
  const api = "https://127.0.0.1:8501/v1";
  const curl = (path: string, stdout: string) => ({ when: `* ${exactArgs(`${api}${path}`)}`, answers: [ok(stdout)] });
  const task = "1111aaaa1111aaaa1111aaaa1111aaaa";
  return {
    dnf: { otherwise: ok() },
    curl: {
      readsStdin: "* --data @- *",
      rules: [
        { when: "* http://169.254.169.254/latest/api/token", answers: [ok("imds-token")] },
        { when: "* http://169.254.169.254/latest/meta-data/instance-id", answers: [ok("i-0aaaabbbbccccdddd")] },
        { when: "* https://releases.hashicorp.com/*", answers: [ok()] },
        curl("/status/leader", JSON.stringify(`${SELF}:8300`)),
        curl("/agent/self", JSON.stringify({ Member: { Addr: SELF } })),
        curl("/catalog/nodes?node-meta=synthetic-node:true", JSON.stringify([{ Node: clusterArn }])),
        curl(
          "/acl/tokens?authmethod=iam-ecs-service-token",
          JSON.stringify([
            {
              AccessorID: token(4),
              Description: `token created via login: ${JSON.stringify({ "consul.hashicorp.com/cluster": clusterArn, "consul.hashicorp.com/task-id": task })}`,
            },
          ]),
        ),
        curl(`/catalog/node-services/${encodeURIComponent(clusterArn)}`, JSON.stringify({ Services: [] })),
        { when: "* -X GET */catalog/node/*", answers: [ok("null")] },
        { when: "* -X GET */acl/binding-rules?*", answers: [ok("[]")] },
        { when: "* -X GET */acl/tokens", answers: [ok("[]")] },
        // Nothing exists yet: every creating path runs.
        { when: "* -X GET *", answers: [{ stderr: "curl: (22) The requested URL returned error: 403\n", exit: 22 }] },
      ],
      otherwise: ok("{}"),
    },
    // It reads the checksum line from a pipe: it must read it, or the writer dies of SIGPIPE (pipefail).
    sha256sum: { otherwise: ok(), readsStdin: true },
    unzip: { otherwise: ok() },
    install: { real: { program: "/usr/bin/install", dropOptions: ["-o", "-g"] } },
    chown: { otherwise: ok() },
    id: { otherwise: { exit: 1 } },
    useradd: { otherwise: ok() },
    blkid: { otherwise: { exit: 2 } },
    "mkfs.xfs": { otherwise: ok() },
    mountpoint: { otherwise: { exit: 32 } },
    mount: { otherwise: ok() },
    aws: {
      recordFilesAfterPrefix: "file://",
      rules: [
        ...serverWritten.flatMap(({ arn, value }) => [
          { when: `secretsmanager get-secret-value --secret-id ${exactArgs(arn)} --version-id *`, answers: [ok(`${value}\n`)] },
          { when: `secretsmanager get-secret-value --secret-id ${exactArgs(arn)} *`, answers: [notFound] },
        ]),
        ...secretArns.map((arn) => ({ when: `secretsmanager get-secret-value * --secret-id ${exactArgs(arn)} *`, answers: [ok(`${secretValue(arn)}\n`)] })),
        ...secretArns.map((arn) => ({ when: `secretsmanager get-secret-value --secret-id ${exactArgs(arn)} *`, answers: [ok(`${secretValue(arn)}\n`)] })),
        // Each path answers with the parameters directly under it, as SSM does (not recursive).
        ...parameterPaths(values).map((path) => ({
          when: `ssm get-parameters-by-path * --path ${exactArgs(path)} *`,
          answers: [ok(JSON.stringify({ Parameters: parameters.filter((p) => folderOf(p.Name) === path) }))],
        })),
        { when: "ssm get-parameters-by-path *", answers: [ok(JSON.stringify({ Parameters: [] }))] },
        { when: "ec2 describe-volumes *", answers: [ok("None\n")] },
        { when: "ecs describe-tasks *", answers: [ok(JSON.stringify({ tasks: [], failures: [] }))] },
      ],
      otherwise: ok(),
    },
    "/usr/local/bin/consul": {
      rules: [
        // Not installed yet: the download path runs.
        { when: "version", answers: [ok("Consul v0.0.0\n")] },
        { when: "operator autopilot state *", answers: [ok('{"Healthy": true}\n')] },
        {
          when: "acl binding-rule list *",
          answers: [
            ok(`${JSON.stringify([{ ID: "0d3f4e5a-1111-2222-3333-444455556666", BindType: "service", BindName: "web", Selector: 'entity_id == "AROAWEB0000000000000A"' }])}\n`),
          ],
        },
        { when: "catalog nodes *", answers: [ok(`Node  ID  Address  DC\n${clusterArn}  ab12  127.0.0.1  dc\n`)] },
        { when: "members -detailed", answers: [ok("Node  Address  Status  Tags\n")] },
        { when: "info", answers: [ok("raft:\n\tstate = Leader\n")] },
      ],
      otherwise: ok(),
    },
    systemctl: { otherwise: ok() },
    // The unit it starts is run on its own below.
    "systemd-run": { otherwise: ok() },
    sleep: { otherwise: ok() },
  };
}

/** The AMIs: fstab, systemd's unit folder, the data volume's device (AL2023), the ECS agent's folder (ECS-optimized). */
const AMI: Record<string, FileSpec> = {
  "/etc/fstab": "UUID=root / xfs defaults 1 1\n",
  "/etc/systemd/system": { directory: true, mode: 0o755 },
  "/dev/xvdf": "",
  "/etc/ecs": { directory: true, mode: 0o755 },
};

/** Each instance's user data with the role it runs as: instances, and launch templates (Auto Scaling groups). */
export function userDataRuns(values: StackValues): { name: string; role: string; script: string }[] {
  const runs: { name: string; role: string; script: string }[] = [];
  const roleOfProfile = (profileRef: unknown): string | undefined => {
    const profile = values.referenced(profileRef);
    const role = profile && values.referenced(values.resource("aws_iam_instance_profile", profile.name)?.role);
    return role?.name;
  };
  // A literal script, or `${base64gzip|base64encode(local.NAME)}`.
  const scriptOf = (value: unknown): string | undefined => {
    if (typeof value !== "string") return undefined;
    const local = /^\$\{base64(?:gzip|encode)\(local\.([A-Za-z0-9_-]+)\)\}$/.exec(value);
    if (local) return values.text(String(values.doc.locals?.[local[1]!]));
    return value.startsWith("#!") ? values.text(value) : undefined;
  };
  const add = (name: string, profile: unknown, userData: unknown) => {
    if (userData === undefined) return;
    const role = roleOfProfile(profile);
    const script = scriptOf(userData);
    // User data the judge cannot read or attribute is a failure, never a skipped instance.
    if (!role || !script) throw new Error(`${values.stack}: ${name}'s user data or its role cannot be read: the IAM judge would miss its calls`);
    runs.push({ name, role, script });
  };
  for (const [name, instance] of Object.entries<TerraformDoc>(values.doc.resource?.aws_instance ?? {}))
    add(name, instance.iam_instance_profile, instance.user_data_base64 ?? instance.user_data);
  for (const [name, template] of Object.entries<TerraformDoc>(values.doc.resource?.aws_launch_template ?? {})) add(name, template.iam_instance_profile?.name, template.user_data);
  return runs;
}

/** One oneshot unit the user data installed, run once. */
export interface UnitRun {
  readonly unit: string;
  readonly exitCode: number;
  readonly stderr: string;
  readonly stdout: string;
  readonly calls: readonly StubCall[];
}

/**
 * Runs one instance's user data under the judge's stubs, then every oneshot unit it installed (the
 * timers' services) under `unitStubs` (default: the same stubs, which take every AWS-calling path).
 */
export function runInstalledUnits(
  values: StackValues,
  script: string,
  clusterArn: string,
  unitStubs: (base: Record<string, Stub>) => Record<string, Stub> = (base) => base,
): { boot: readonly StubCall[]; units: UnitRun[] } {
  const root = ScriptRoot.create();
  try {
    const { files, argv } = userDataRun(script);
    const stub = stubs(values, clusterArn);
    const boot = root.run({ argv, files: { ...AMI, ...files }, stubs: stub });
    if (boot.exitCode !== 0) throw new Error(`the user data failed under the IAM judge's stubs (exit ${boot.exitCode}): ${boot.stderr.slice(-600)}`);
    const units: UnitRun[] = [];
    for (const unit of root.paths().filter((p) => /^\/etc\/systemd\/system\/[^/]+\.service$/.test(p))) {
      const text = root.read(unit);
      if (!/^Type=oneshot$/m.test(text)) {
        // Consul itself makes its calls from Go (cloud auto-join), declared with their sources; any other long-running unit is unexpected.
        if (unit.endsWith("/consul.service")) continue;
        throw new Error(`${unit} is not a oneshot unit: the IAM judge cannot run it to record its calls`);
      }
      const execStart = /^ExecStart=(.+)$/m.exec(text)![1]!;
      const envFile = /^EnvironmentFile=(.+)$/m.exec(text)?.[1];
      const env = envFile
        ? Object.fromEntries(
            root
              .read(envFile)
              .split("\n")
              .filter(Boolean)
              .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
          )
        : {};
      const result = root.run({ argv: execStart.split(" "), env, stubs: unitStubs(stub) });
      units.push({ unit, exitCode: result.exitCode, stderr: result.stderr, stdout: result.stdout, calls: result.calls });
    }
    return { boot: boot.calls, units };
  } finally {
    root.dispose();
  }
}

/** Each run's calls: the user data's, then every unit's, each of which must succeed under the judge's stubs. */
function recordRuns(values: StackValues, script: string, clusterArn: string): { what: string; calls: readonly StubCall[] }[] {
  const { boot, units } = runInstalledUnits(values, script, clusterArn);
  for (const run of units) if (run.exitCode !== 0) throw new Error(`${run.unit} failed under the IAM judge's stubs (exit ${run.exitCode}): ${run.stderr.slice(-600)}`);
  return [{ what: "user data", calls: boot }, ...units.map((run) => ({ what: run.unit.replace(/^.*\//, ""), calls: run.calls }))];
}

/** The cluster ARN the stack's scripts name (the stand-in of its ECS cluster). */
export function clusterArnOf(values: StackValues): string {
  const cluster = Object.keys(values.doc.resource?.aws_ecs_cluster ?? {})[0];
  return cluster ? values.text(`\${aws_ecs_cluster.${cluster}.arn}`) : `arn:aws:ecs:${values.region}:${values.account}:cluster/none`;
}

/** The calls the instances' scripts make, as the runner recorded them. */
export function scriptCalls(values: StackValues): AwsCall[] {
  const clusterArn = clusterArnOf(values);
  const out: AwsCall[] = [];
  for (const { name, role, script } of userDataRuns(values)) {
    for (const { what, calls } of recordRuns(values, script, clusterArn)) {
      for (const c of calls.filter((call) => call.program === "aws")) {
        const args = c.args.filter((arg, i, all) => arg !== "--region" && all[i - 1] !== "--region");
        for (const call of cliCalls(values, args, c.files)) out.push({ stack: values.stack, role, caller: `${name} ${what}: aws ${args.slice(0, 2).join(" ")}`, ...call });
      }
    }
  }
  return dedupe(out);
}

// ---------------------------------------------------------------------------------------------
// Declared: what programs call with a role, read from the task definitions, services, instances
// ---------------------------------------------------------------------------------------------

interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly secrets?: readonly { readonly valueFrom: string }[];
  readonly repositoryCredentials?: { readonly credentialsParameter: string };
  readonly environment?: readonly { readonly name: string; readonly value: string }[];
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly logConfiguration?: { readonly options?: Readonly<Record<string, string>> };
}

/**
 * The calls the ECS agent, consul-ecs, Consul, the SSM agent and VPC Flow Logs make on the stack's
 * roles' behalf; what a container calls itself comes from its plan (ContainerPlan.calls).
 */
export function declaredCalls(values: StackValues, plan: MeshPlan): AwsCall[] {
  const tasksByFamily = new Map<string, TaskPlan>([
    // One task family per ECS service: per version of a service with versions.
    ...plan.services.flatMap(ecsServicesOf).map((s): [string, TaskPlan] => [ecsServiceNamesOf(plan.names, s).ecsService, s.task]),
    ...(plan.tlsEdge ? [[plan.tlsEdge.serviceName, plan.tlsEdge.task] as [string, TaskPlan]] : []),
  ]);
  const out: AwsCall[] = [];
  const { partition: p, region: r, account: a } = values;
  const add = (role: string | undefined, caller: string, calls: readonly Call[]) => {
    if (calls.length > 0 && !role) throw new Error(`${values.stack}: ${caller} makes ${calls[0]!.action}, but the IAM judge finds no role of the stack it runs as`);
    for (const c of calls) out.push({ stack: values.stack, role: role!, caller, ...c });
  };
  const roleOf = (ref: unknown) => values.referenced(ref)?.name;
  const cachePrefixes = Object.values<TerraformDoc>(values.doc.resource?.aws_ecr_pull_through_cache_rule ?? {}).map((rule) => values.text(String(rule.ecr_repository_prefix)));
  const servicesByTask = new Map<string, TerraformDoc>();
  for (const service of Object.values<TerraformDoc>(values.doc.resource?.aws_ecs_service ?? {})) {
    const task = values.referenced(service.task_definition);
    if (task) servicesByTask.set(task.name, service);
  }

  for (const [name, task] of Object.entries<TerraformDoc>(values.doc.resource?.aws_ecs_task_definition ?? {})) {
    const containers = JSON.parse(values.text(String(task.container_definitions))) as ContainerDefinition[];
    const execution = roleOf(task.execution_role_arn);
    const taskRole = roleOf(task.task_role_arn);
    const who = `ECS agent for ${name}`;
    const family = values.text(String(task.family));
    const planTask = tasksByFamily.get(family);
    if (!planTask) throw new Error(`${values.stack}: the plan has no task of family ${family}`);
    const planned = new Map(planTask.containers.map((c) => [c.name, c]));
    for (const c of containers) {
      const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(c.image);
      if (ecr) {
        // The repository is in the image's own account and region.
        const repository = `arn:${p}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`;
        const pulls: Call[] = [
          { action: "ecr:GetAuthorizationToken", resource: "*", source: SOURCES.executionRole },
          ...["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"].map((action) => ({
            action,
            resource: repository,
            source: SOURCES.executionRole,
          })),
        ];
        // A repository under a cache rule's prefix is the pull-through cache's, made at the first pull.
        if (cachePrefixes.some((prefix) => ecr[3]!.startsWith(`${prefix}/`))) {
          pulls.push(...["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"].map((action) => ({ action, resource: repository, source: SOURCES.pullThroughCache })));
        }
        add(execution, `${who}: pull ${c.name}`, pulls);
      }
      const group = c.logConfiguration?.options?.["awslogs-group"];
      if (group) {
        const groupArn = `arn:${p}:logs:${r}:${a}:log-group:${group}`;
        const stream = `${groupArn}:log-stream:${c.logConfiguration?.options?.["awslogs-stream-prefix"] ?? "x"}/${c.name}/${"0".repeat(32)}`;
        add(execution, `${who}: awslogs of ${c.name}`, [
          { action: "logs:CreateLogStream", resource: stream, source: SOURCES.executionRole },
          { action: "logs:PutLogEvents", resource: stream, source: SOURCES.executionRole },
        ]);
      }
      for (const secret of c.secrets ?? []) {
        if (secret.valueFrom.includes(":secretsmanager:")) add(execution, `${who}: secrets of ${c.name}`, secretRead(values, secret.valueFrom, SOURCES.executionRole));
        else if (secret.valueFrom.includes(":ssm:"))
          add(execution, `${who}: secrets of ${c.name}`, [{ action: "ssm:GetParameters", resource: secret.valueFrom, source: SOURCES.executionRole }]);
      }
      if (c.repositoryCredentials)
        add(execution, `${who}: registry credentials of ${c.name}`, secretRead(values, c.repositoryCredentials.credentialsParameter, SOURCES.executionRole));
      // What a container calls itself: the judge's own model of the program (go-discover), never the
      // plan's actions, which the grant is built from. The plan must state the same API (its endpoint
      // and route come from there), and nothing the judge has no model of.
      const container = planned.get(c.name);
      if (!container) throw new Error(`${name}: ${c.name} is in the synthesized definition but not in its plan: the IAM judge cannot tell what it calls`);
      const calls = container.calls ?? [];
      // The metrics collector (ADOT): its EMF exporter writes its log stream of the group its configuration names.
      const collectorConfig = c.environment?.find((e) => e.name === "AOT_CONFIG_CONTENT")?.value;
      const exporters = collectorConfig ? (JSON.parse(collectorConfig).exporters ?? {}) : {};
      const emf = exporters.awsemf;
      if (collectorConfig && (emf !== undefined) !== calls.some((call) => call.api === "logs"))
        throw new Error(`${name}: ${c.name} runs a collector whose EMF exporter and logs call must come together`);
      if (emf) {
        const stream = `arn:${p}:logs:${r}:${a}:log-group:${values.text(String(emf.log_group_name))}:log-stream:${emf.log_stream_name}`;
        add(taskRole, `${c.name} of ${name}: EMF metrics (awsemfexporter cwlogs pusher)`, [
          { action: "logs:CreateLogStream", resource: stream, source: SOURCES.emfExporter },
          { action: "logs:PutLogEvents", resource: stream, source: SOURCES.emfExporter },
        ]);
      }
      // The X-Ray exporter: segments always, telemetry records when its telemetry is on; X-Ray has no resource-level permissions.
      const xray = exporters.awsxray;
      if (collectorConfig && (xray !== undefined) !== calls.some((call) => call.api === "xray"))
        throw new Error(`${name}: ${c.name} runs a collector whose X-Ray exporter and xray call must come together`);
      if (xray) {
        add(taskRole, `${c.name} of ${name}: spans (awsxrayexporter)`, [
          { action: "xray:PutTraceSegments", resource: "*", source: SOURCES.xrayExporter },
          ...(xray.telemetry?.enabled === true ? [{ action: "xray:PutTelemetryRecords", resource: "*", source: SOURCES.xrayTelemetry }] : []),
        ]);
      }
      // Its remote write: the workspace the URL names, in the account of the role that signs it.
      const remoteWrite = exporters.prometheusremotewrite;
      if (remoteWrite !== undefined) {
        if (calls.every((call) => call.api !== "aps-workspaces"))
          throw new Error(`${name}: ${c.name} remote-writes to Prometheus, but its container plan states no aps-workspaces call`);
        add(taskRole, `${c.name} of ${name}: Prometheus remote write (prometheusremotewriteexporter, sigv4auth)`, [
          { action: "aps:RemoteWrite", resource: workspaceOfRemoteWrite(values, values.text(String(remoteWrite.endpoint))), source: SOURCES.remoteWrite },
        ]);
      }
      const unknown = calls.filter(
        (call) => call.api !== "ec2" && !((call.api === "logs" || call.api === "xray") && collectorConfig) && !(call.api === "aps-workspaces" && remoteWrite !== undefined),
      );
      if (unknown.length > 0)
        throw new Error(`${name}: ${c.name} states calls the IAM judge has no model of (${unknown.map((u) => u.api).join(", ")}): teach the judge what it runs`);
      const discovers = /provider=aws/.test(JSON.stringify([c.command, c.entryPoint, c.environment]));
      if (discovers !== calls.some((call) => call.api === "ec2")) {
        throw new Error(
          `${name}: ${c.name} ${discovers ? "runs server discovery (provider=aws), but its container plan states no ec2 call" : "has an ec2 call in its container plan, but its definition runs no server discovery"}`,
        );
      }
      if (discovers) add(taskRole, `${c.name} of ${name}: server discovery by tag (provider=aws)`, [{ action: "ec2:DescribeInstances", resource: "*", source: DISCOVER_SOURCE }]);
      const consulEcs = c.environment?.find((e) => e.name === "CONSUL_ECS_CONFIG_JSON")?.value;
      if (consulEcs && JSON.parse(consulEcs).consulLogin?.enabled === true) {
        if (!taskRole) throw new Error(`${name}: ${c.name} logs in to Consul with the task role, but the task has none`);
        add(taskRole, `Consul server, with the signed login of ${c.name} in ${name}`, [
          { action: "iam:GetRole", resource: values.text(`\${aws_iam_role.${taskRole}.arn}`), source: SOURCES.consulLogin },
        ]);
      }
    }
    const service = servicesByTask.get(name);
    if (service?.enable_execute_command) add(taskRole, `ECS Exec in ${name}`, execCalls(values, service));
  }

  const sessions = (role: string | undefined, instance: string) =>
    add(role, `SSM agent on ${instance}`, [
      { action: "ssm:UpdateInstanceInformation", resource: `arn:${p}:ec2:${r}:${a}:instance/i-0aaaabbbbccccdddd`, source: SOURCES.ssmAgent },
      ...["CreateControlChannel", "CreateDataChannel", "OpenControlChannel", "OpenDataChannel"].map((c) => ({
        action: `ssmmessages:${c}`,
        resource: "*",
        source: SOURCES.ssmAgent,
      })),
    ]);
  for (const { name, role, script } of userDataRuns(values)) {
    sessions(role, name);
    if (/retry_join += \[.*provider=aws/.test(script))
      add(role, `Consul on ${name}: cloud auto-join`, [{ action: "ec2:DescribeInstances", resource: "*", source: DISCOVER_SOURCE }]);
    if (/^ECS_CLUSTER=/m.test(script)) {
      const cluster = /^ECS_CLUSTER=(.+)$/m.exec(script)![1]!;
      const clusterArn = `arn:${p}:ecs:${r}:${a}:cluster/${cluster}`;
      const instanceArn = `arn:${p}:ecs:${r}:${a}:container-instance/${cluster}/${"0".repeat(32)}`;
      add(role, `ECS agent on ${name}`, [
        { action: "ecs:RegisterContainerInstance", resource: clusterArn, source: SOURCES.ecsAgent },
        { action: "ecs:DiscoverPollEndpoint", resource: "*", source: SOURCES.ecsAgent },
        { action: "ecs:Poll", resource: instanceArn, source: SOURCES.ecsAgent },
        { action: "ecs:StartTelemetrySession", resource: instanceArn, source: SOURCES.ecsAgent },
        { action: "ecs:SubmitTaskStateChange", resource: clusterArn, source: SOURCES.ecsAgent },
        { action: "ecs:SubmitContainerStateChange", resource: clusterArn, source: SOURCES.ecsAgent },
        { action: "ecs:DeregisterContainerInstance", resource: clusterArn, source: SOURCES.ecsAgent },
      ]);
    }
  }

  // A bucket whose policy lets one role read (a Deny on reads for every other principal): an
  // operator restoring with that role lists the bucket and copies a snapshot (README: restore).
  for (const policy of Object.values<TerraformDoc>(values.doc.resource?.aws_s3_bucket_policy ?? {})) {
    const bucketArn = `arn:${p}:s3:::${values.text(String(policy.bucket))}`;
    const encryption = Object.values<TerraformDoc>(values.doc.resource?.aws_s3_bucket_server_side_encryption_configuration ?? {}).find(
      (e) => values.text(String(e.bucket)) === values.text(String(policy.bucket)),
    );
    const key = encryption?.rule?.[0]?.apply_server_side_encryption_by_default?.kms_master_key_id;
    for (const statement of [JSON.parse(String(policy.policy)).Statement].flat() as TerraformDoc[]) {
      const reader = statement.Effect === "Deny" ? roleOf(statement.Condition?.ArnNotEquals?.["aws:PrincipalArn"]) : undefined;
      if (!reader) continue;
      add(reader, "an operator restoring a snapshot (README: Snapshots and restore)", [
        { action: "s3:ListBucket", resource: bucketArn, source: SOURCES.restore, outsideVpc: true },
        { action: "s3:GetObject", resource: `${bucketArn}/snapshots/dc/2026/12/07/20261207T000000Z.snap`, source: SOURCES.restore, outsideVpc: true },
        ...(key ? [{ action: "kms:Decrypt", resource: values.text(String(key)), context: { "kms:ViaService": `s3.${r}.amazonaws.com` }, source: SOURCES.s3Kms }] : []),
      ]);
    }
  }

  for (const [name, log] of Object.entries<TerraformDoc>(values.doc.resource?.aws_flow_log ?? {})) {
    const group = values.text(String(log.log_destination));
    const stream = `${group}:log-stream:eni-0aaaabbbbccccdddd-all`;
    add(roleOf(log.iam_role_arn), `VPC Flow Logs (${name})`, [
      { action: "logs:CreateLogStream", resource: stream, source: SOURCES.flowLogs, outsideVpc: true },
      { action: "logs:PutLogEvents", resource: stream, source: SOURCES.flowLogs, outsideVpc: true },
      { action: "logs:DescribeLogStreams", resource: group, source: SOURCES.flowLogs, outsideVpc: true },
    ]);
  }
  return dedupe(out);
}

/** The workspace a remote-write URL writes to (https://aps-workspaces.<region>.<suffix>/workspaces/<id>/api/v1/remote_write); any other URL is no AMP remote write. */
function workspaceOfRemoteWrite(values: StackValues, url: string): string {
  const m = /^https:\/\/aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/workspaces\/(ws-[0-9A-Za-z-]+)\/api\/v1\/remote_write$/.exec(url);
  if (!m) throw new Error(`${values.stack}: ${url} is not an Amazon Managed Service for Prometheus remote-write URL`);
  return `arn:${values.partition}:aps:${m[1]}:${values.account}:workspace/${m[2]}`;
}

/** ECS Exec: SSM channels, the session log in the cluster's log group, the session key. */
function execCalls(values: StackValues, service: TerraformDoc): Call[] {
  const { partition: p, region: r, account: a } = values;
  const cluster = values.referenced(service.cluster);
  const config = cluster ? values.resource("aws_ecs_cluster", cluster.name)?.configuration?.execute_command_configuration : undefined;
  const calls: Call[] = ["CreateControlChannel", "CreateDataChannel", "OpenControlChannel", "OpenDataChannel"].map((c) => ({
    action: `ssmmessages:${c}`,
    resource: "*",
    source: SOURCES.ecsExec,
  }));
  if (config?.kms_key_id) calls.push({ action: "kms:Decrypt", resource: values.text(String(config.kms_key_id)), source: SOURCES.ecsExec });
  const group = config?.log_configuration?.cloud_watch_log_group_name;
  if (group) {
    const arn = `arn:${p}:logs:${r}:${a}:log-group:${values.text(String(group))}`;
    const stream = `${arn}:log-stream:ecs-execute-command-${"0".repeat(17)}`;
    calls.push(
      { action: "logs:DescribeLogGroups", resource: "*", source: SOURCES.ecsExec },
      { action: "logs:CreateLogStream", resource: stream, source: SOURCES.ecsExec },
      { action: "logs:DescribeLogStreams", resource: arn, source: SOURCES.ecsExec },
      { action: "logs:PutLogEvents", resource: stream, source: SOURCES.ecsExec },
    );
  }
  return calls;
}

function dedupe(calls: readonly AwsCall[]): AwsCall[] {
  const seen = new Set<string>();
  return calls.filter((c) => {
    const key = JSON.stringify([c.stack, c.role, c.action, c.resource, c.context ?? {}]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every call the stacks' roles make: recorded from the scripts, declared for the programs, with the implicit ones. */
export function meshCalls(stacks: Readonly<Record<string, TerraformDoc>>, plan: MeshPlan): AwsCall[] {
  return [...stackValuesOf(stacks).values()].flatMap((values) => [...scriptCalls(values), ...declaredCalls(values, plan)]);
}
