// The IAM judge (tools/judges/iam.ts, iam-calls.ts) on every shipped spec: each call the mesh
// makes (recorded from its scripts, declared for the programs it runs, implicit where AWS calls
// as the caller) is allowed, and each grant is used. Then on broken policies: the production
// servers as they shipped without kms:CreateGrant, a script's permission removed, a grant no
// call uses.
import * as fs from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { loadSpecFile } from "../lib/pipeline";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";
import type { MeshPlan } from "../lib/plan/types";
import { type AwsCall, evaluateIam, iamTableRows, type IamReport, StackValues, type TerraformDoc } from "../tools/judges/iam";
import { declaredCalls, meshCalls, scriptCalls } from "../tools/judges/iam-calls";
import { discoverServers } from "../lib/plan/aws-apis";
import type { AwsApiCall } from "../lib/plan/types";
import { MeshStack } from "../stacks/mesh-stack";
import { planOf, synthAllStacks } from "./support/synth";

const example = (file: string): TerraformDoc => structuredClone(loadSpecFile(path.join("examples", file)).spec) as TerraformDoc;
const ECR_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/http-echo:1.0.0";

/** Combinations the examples do not cover, each changing what some role calls. */
const VARIANTS: [string, MeshSpecInput][] = [
  ["one Auto Scaling server (no peers to join)", { ...DEFAULT_SPEC, consul: { servers: 1 } } as MeshSpecInput],
  ["dataplane tasks with a fixed server", { ...DEFAULT_SPEC, architecture: "dataplane" } as MeshSpecInput],
  [
    "agent tasks behind VPC endpoints, Consul from S3, Envoy through the Docker Hub cache, apps from ECR",
    (() => {
      const spec = example("production.yaml");
      spec.architecture = "agent";
      for (const service of Object.values<TerraformDoc>(spec.services)) Object.assign(service, { architecture: undefined, image: ECR_IMAGE });
      spec.images = { ...spec.images, dockerHubCredentialsSecretArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf" };
      spec.network = { ...spec.network, egress: "vpc-endpoints" };
      spec.consul = { ...spec.consul, releaseS3Uri: "s3://my-bucket/consul_2.0.1_linux_amd64.zip" };
      return spec as MeshSpecInput;
    })(),
  ],
  [
    "ECS Exec on every dataplane service",
    (() => {
      const spec = example("production.yaml");
      for (const service of Object.values<TerraformDoc>(spec.services)) Object.assign(service, { enableExecuteCommand: true, readonlyRootFilesystem: false });
      return spec as MeshSpecInput;
    })(),
  ],
];

const SPECS: [string, MeshSpecInput][] = [
  ["the default", DEFAULT_SPEC],
  ...fs
    .readdirSync("examples")
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f): [string, MeshSpecInput] => [f, example(f) as MeshSpecInput]),
  ...VARIANTS,
];

/** The spec's stacks and the calls their roles make (the scripts run once per spec). */
const judged = new Map<string, { stacks: Record<string, TerraformDoc>; calls: AwsCall[] }>();
function judge(name: string): { stacks: Record<string, TerraformDoc>; calls: AwsCall[] } {
  let entry = judged.get(name);
  if (!entry) {
    const spec = SPECS.find(([n]) => n === name)![1];
    const stacks = synthAllStacks(spec);
    entry = { stacks, calls: meshCalls(stacks, planOf(spec)) };
    judged.set(name, entry);
  }
  return { stacks: structuredClone(entry.stacks), calls: entry.calls };
}

const denied = (report: IamReport) => report.verdicts.filter((v) => !v.allowed);

/** The stacks with one statement removed from a role's inline policy (by policy name prefix and action). */
function withoutStatement(stacks: Record<string, TerraformDoc>, policyName: string, action: string): Record<string, TerraformDoc> {
  let removed = 0;
  for (const policy of Object.values<TerraformDoc>(stacks.mesh!.resource.aws_iam_role_policy)) {
    if (policy.name_prefix !== `${policyName}-`) continue;
    const document = JSON.parse(policy.policy);
    const kept = document.Statement.filter((s: TerraformDoc) => ![s.Action].flat().includes(action));
    removed += document.Statement.length - kept.length;
    policy.policy = JSON.stringify({ ...document, Statement: kept });
  }
  expect(removed, `statements granting ${action} in ${policyName}`).toBeGreaterThan(0);
  return stacks;
}

describe.each(SPECS.map(([name]) => name))("IAM of %s", (name) => {
  it("allows every call its roles make, and grants nothing no call uses", async () => {
    const { stacks, calls } = judge(name);
    const report = await evaluateIam(stacks, calls);
    expect(denied(report).map((v) => `${v.call.role} ${v.call.action} ${v.call.resource} (${v.call.caller}): ${v.denial}`)).toEqual([]);
    expect(report.unused).toEqual([]);
    expect(report.broad).toEqual([]);
    // Every role the stacks grant something makes calls, recorded from scripts or declared (a task role
    // with nothing granted is the app's own, empty until the app needs AWS).
    const granted = Object.entries(stacks).flatMap(([stack, doc]) =>
      [...Object.values<TerraformDoc>(doc.resource?.aws_iam_role_policy ?? {}), ...Object.values<TerraformDoc>(doc.resource?.aws_iam_role_policy_attachment ?? {})].map(
        (p) => `${stack}/${/^\$\{aws_iam_role\.([^.]+)\./.exec(p.role)![1]}`,
      ),
    );
    expect(new Set(calls.map((c) => `${c.stack}/${c.role}`))).toEqual(new Set(granted));
  });
});

describe("calls a container makes itself", () => {
  it("come from its container plan, which must agree with what its synthesized definition runs", () => {
    const [, spec] = SPECS.find(([n]) => n === "dataplane tasks with a fixed server")!;
    const { stacks, calls } = judge("dataplane tasks with a fixed server");
    expect(calls.filter((c) => c.action === "ec2:DescribeInstances" && c.caller.startsWith("consul-ecs-mesh-init")).map((c) => c.caller)).toEqual([
      "consul-ecs-mesh-init of service_http-client_task_definition: server discovery by tag (provider=aws)",
      "consul-ecs-mesh-init of service_http-server_task_definition: server discovery by tag (provider=aws)",
    ]);
    // A plan whose mesh-init states no call, beside a definition that still runs server discovery.
    const plan = planOf(spec);
    const silent: MeshPlan = {
      ...plan,
      services: plan.services.map((s) => ({ ...s, task: { ...s.task, containers: s.task.containers.map(({ calls: _, ...c }) => c) } })),
    };
    expect(() => meshCalls(stacks, silent)).toThrow(/consul-ecs-mesh-init runs server discovery \(provider=aws\), but its container plan states no ec2 call/);
  });

  it("are the judge's own model of what runs, so a wrong action in the plan (which the grant is built from) is a finding", async () => {
    const [, spec] = SPECS.find(([n]) => n === "dataplane tasks with a fixed server")!;
    const plan = planOf(spec);
    const typo: MeshPlan = {
      ...plan,
      services: plan.services.map((s) => ({
        ...s,
        task: { ...s.task, containers: s.task.containers.map((c) => (c.calls ? { ...c, calls: c.calls.map((call) => ({ ...call, actions: ["ec2:DescribeInstance"] })) } : c)) },
      })),
    };
    const stacks = { mesh: JSON.parse(Testing.synth(new MeshStack(Testing.app(), "mesh", typo))) as TerraformDoc };
    const report = await evaluateIam(stacks, meshCalls(stacks, typo));
    expect(denied(report).filter((v) => v.call.action === "ec2:DescribeInstances").length).toBe(2);
    expect(JSON.stringify(report.unused)).toMatch(/ec2:DescribeInstance\b/);
  });
});

describe("calls recorded from the server scripts", () => {
  it("are what the production servers' user data and units run: the volume attach with its KMS grant, the hook, secrets, snapshots, the reaper", () => {
    const { calls } = judge("production.yaml");
    const server1 = calls.filter((c) => c.role === "consul_servers_server_1_role_role" && c.source === "recorded").map((c) => `${c.action} (${c.caller.replace(/^\S+ /, "")})`);
    expect([...new Set(server1)]).toEqual([
      "ec2:DescribeVolumes (user data: aws ec2 describe-volumes)",
      "ec2:AttachVolume (user data: aws ec2 attach-volume)",
      "secretsmanager:GetSecretValue (user data: aws secretsmanager get-secret-value)",
      // The first boot of the mesh writes the RPC CA (the judge's stubs answer that no server has yet).
      "secretsmanager:PutSecretValue (user data: aws secretsmanager put-secret-value)",
      "autoscaling:CompleteLifecycleAction (user data: aws autoscaling complete-lifecycle-action)",
      "ssm:GetParametersByPath (consul-acl-sync.service: aws ssm get-parameters-by-path)",
      "s3:PutObject (consul-snapshot.service: aws s3api put-object)",
      "ecs:DescribeTasks (consul-task-reaper.service: aws ecs describe-tasks)",
    ]);
    const grant = calls.find((c) => c.role === "consul_servers_server_1_role_role" && c.action === "kms:CreateGrant")!;
    expect(grant).toMatchObject({
      resource: expect.stringMatching(/^arn:aws:kms:us-east-1:111122223333:key\//),
      context: { "kms:GrantIsForAWSResource": "true", "kms:ViaService": "ec2.us-east-1.amazonaws.com" },
      source: expect.stringMatching(/Requirements for Amazon EBS encryption/),
    });
  });

  it("follow the spec: Consul from S3, and no instance discovery for a server without peers", () => {
    const s3 = judge(VARIANTS[2]![0]).calls.filter((c) => c.role.startsWith("consul_servers") && c.action === "s3:GetObject");
    expect(s3.map((c) => [c.resource, c.source])).toEqual([1, 2, 3].map(() => ["arn:aws:s3:::my-bucket/consul_2.0.1_linux_amd64.zip", "recorded"]));
    const single = judge(VARIANTS[0]![0]);
    expect(single.calls.filter((c) => c.role.startsWith("consul_servers") && c.action === "ec2:DescribeInstances")).toEqual([]);
    // The actions the server roles' policies grant, parsed: production's three servers do discover each other.
    const serverActions = (stacks: Record<string, TerraformDoc>) =>
      Object.values(stacks.mesh!.resource.aws_iam_role_policy as Record<string, { role: string; policy: string }>)
        .filter((p) => p.role.includes("aws_iam_role.consul_servers_"))
        .flatMap((p) => (JSON.parse(p.policy) as { Statement: { Action: string[] }[] }).Statement.flatMap((st) => st.Action));
    expect(serverActions(judge("production.yaml").stacks)).toContain("ec2:DescribeInstances");
    expect(serverActions(single.stacks)).not.toContain("ec2:DescribeInstances");
  });

  it("cover the fixed server of an agent mesh too: no attach and no hook (Terraform attaches the volume), no reaper", () => {
    const actions = new Set(
      judge("the default")
        .calls.filter((c) => c.source === "recorded")
        .map((c) => c.action),
    );
    // No reaper either (no dataplane task): no ecs:DescribeTasks.
    expect(actions).toEqual(new Set(["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "ssm:GetParametersByPath", "s3:PutObject"]));
  });
});

describe("what the judge reports", () => {
  it("the production servers as they shipped: kms:CreateGrant for their own volume attach is denied, with the statement to add", async () => {
    const { stacks, calls } = judge("production.yaml");
    const shipped = withoutStatement(stacks, "server-placement", "kms:CreateGrant");
    const report = await evaluateIam(shipped, calls);
    expect(denied(report).map((v) => [v.call.role, v.call.action])).toEqual([1, 2, 3].map((n) => [`consul_servers_server_${n}_role_role`, "kms:CreateGrant"]));
    expect(denied(report)[0]!.denial).toMatch(
      /^no statement allows it; add to consul_servers_server_1_role_role: \{"Effect":"Allow","Action":\["kms:CreateGrant"\],"Resource":\["arn:aws:kms:[^"]+"\],"Condition":\{"Bool":\{"kms:GrantIsForAWSResource":"true"\},"StringEquals":\{"kms:ViaService":"ec2\.us-east-1\.amazonaws\.com"\}\}\}$/,
    );
    // The key policy is evaluated too: a key policy without the account's statement denies even a role that asks.
    const noAccount = judge("production.yaml").stacks;
    const key = Object.values<TerraformDoc>(noAccount.mesh!.resource.aws_kms_key)[0]!;
    const keyPolicy = JSON.parse(key.policy);
    key.policy = JSON.stringify({ ...keyPolicy, Statement: keyPolicy.Statement.filter((s: TerraformDoc) => s.Sid !== "AccountAdministration") });
    const keyDenied = denied(await evaluateIam(noAccount, calls));
    expect(keyDenied.length).toBeGreaterThan(0);
    expect(keyDenied.every((v) => v.call.action.startsWith("kms:"))).toBe(true);
  });

  it("the servers' data key for the RPC CA: each put uses the SecretARN-conditioned grant, and the same call for another secret is denied", async () => {
    const { stacks, calls } = judge("the default");
    const puts = calls.filter((c) => c.role === "consul_servers_server_1_role_role" && c.action === "kms:GenerateDataKey" && c.caller.endsWith("put-secret-value"));
    const secretOf = (c: AwsCall) => String(c.context?.["kms:EncryptionContext:SecretARN"]);
    expect(puts.map((c) => secretOf(c).replace(/^.*:secret:consul-ecs\/consul\/([a-z-]+)-\d+.*$/, "$1"))).toEqual(["rpc-ca-key", "ca-cert"]);
    const report = await evaluateIam(stacks, puts);
    expect(report.verdicts.map((v) => [v.allowed, v.allowedBy])).toEqual([
      [true, ["read-consul-secrets #3"]],
      [true, ["read-consul-secrets #3"]],
    ]);
    // The same data key for the gossip key's secret (Secrets Manager would ask it to write that secret), or not through Secrets Manager.
    const gossip = calls.find((c) => c.action === "kms:Decrypt" && secretOf(c).includes("/gossip-key-"))!;
    const elsewhere: AwsCall[] = [
      { ...puts[0]!, context: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": secretOf(gossip) } },
      { ...puts[0]!, context: { "kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:EncryptionContext:SecretARN": secretOf(puts[0]!) } },
      { ...puts[0]!, context: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
    ];
    expect(denied(await evaluateIam(stacks, elsewhere)).length).toBe(3);
  });

  it("a permission a script uses, removed: the servers' autoscaling:CompleteLifecycleAction", async () => {
    const { stacks, calls } = judge("production.yaml");
    const report = await evaluateIam(withoutStatement(stacks, "server-placement", "autoscaling:CompleteLifecycleAction"), calls);
    expect(denied(report).map((v) => `${v.call.role} ${v.call.action} ${v.call.caller}`)).toEqual(
      [1, 2, 3].map(
        (n) =>
          `consul_servers_server_${n}_role_role autoscaling:CompleteLifecycleAction consul_servers_server_${n}_launch_template user data: aws autoscaling complete-lifecycle-action`,
      ),
    );
  });

  it("a VPC endpoint policy that leaves a call out: the snapshot upload through the S3 gateway", async () => {
    const { stacks, calls } = judge("production.yaml");
    const endpoint = stacks.mesh!.resource.aws_vpc_endpoint.network_endpoints_s3;
    const onlyEcrLayers = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*" }],
    };
    endpoint.policy = JSON.stringify(onlyEcrLayers);
    expect(denied(await evaluateIam(stacks, calls)).map((v) => `${v.call.role} ${v.call.action}`)).toEqual(
      [1, 2, 3].map((n) => `consul_servers_server_${n}_role_role s3:PutObject`),
    );
  });

  it("the snapshot bucket: only the restore role reads, whatever a role's own policy says; writes are SSE-KMS with the mesh key", async () => {
    const { stacks, calls } = judge("production.yaml");
    const values = new StackValues("mesh", stacks.mesh!);
    const bucket = values.text("${aws_s3_bucket.snapshots_bucket.arn}");
    const key = values.text("${aws_kms_key.kms_key_key.arn}");
    // A server role that an operator widened to read the bucket.
    const policy = Object.values<TerraformDoc>(stacks.mesh!.resource.aws_iam_role_policy).find((p) => p.role.includes("server_1") && p.name_prefix === "save-snapshots-")!;
    const document = JSON.parse(policy.policy);
    policy.policy = JSON.stringify({ ...document, Statement: [...document.Statement, { Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] });
    const server = (action: string, context: Record<string, string> = {}): AwsCall => ({
      stack: "mesh",
      role: "consul_servers_server_1_role_role",
      caller: "an attacker on server 1",
      action,
      resource: `${bucket}/snapshots/dc/x.snap`,
      context,
      source: "test",
    });
    const verdicts = (
      await evaluateIam(stacks, [
        ...calls,
        server("s3:GetObject"),
        server("s3:GetObjectVersion"),
        server("s3:PutObject", { "s3:x-amz-server-side-encryption": "AES256" }),
        // A request without the headers (the bucket's default would apply): refused too.
        { ...server("s3:PutObject"), caller: "an upload without encryption headers" },
      ])
    ).verdicts;
    const of = (action: string, role: string) => verdicts.filter((v) => v.call.action === action && v.call.role === role && v.call.resource.startsWith(bucket));
    expect(of("s3:GetObject", "consul_servers_server_1_role_role").map((v) => [v.allowed, v.denial])).toEqual([[false, expect.stringMatching(/^explicitly denied/)]]);
    expect(of("s3:GetObjectVersion", "consul_servers_server_1_role_role").map((v) => v.allowed)).toEqual([false]);
    expect(of("s3:PutObject", "consul_servers_server_1_role_role").map((v) => [v.call.caller, v.allowed])).toEqual([
      [expect.stringMatching(/consul-snapshot\.service/), true],
      ["an attacker on server 1", false],
      ["an upload without encryption headers", false],
    ]);
    expect(of("s3:GetObject", "snapshots_restore_role").map((v) => v.allowed)).toEqual([true]);
    expect(verdicts.find((v) => v.call.role === "snapshots_restore_role" && v.call.action === "kms:Decrypt")).toMatchObject({ allowed: true, call: { resource: key } });
  });

  it('a grant wider than its calls: Resource "*" for calls on named resources, an action wildcard', async () => {
    const { stacks, calls } = judge("production.yaml");
    for (const policy of Object.values<TerraformDoc>(stacks.mesh!.resource.aws_iam_role_policy).filter((p) => p.role.includes("server_1"))) {
      const document = JSON.parse(policy.policy);
      for (const statement of document.Statement) {
        if ([statement.Action].flat().includes("secretsmanager:GetSecretValue")) statement.Resource = "*";
        if ([statement.Action].flat().includes("kms:CreateGrant")) Object.assign(statement, { Action: ["kms:*"], Resource: "*", Condition: undefined });
      }
      policy.policy = JSON.stringify(document);
    }
    const report = await evaluateIam(stacks, calls);
    expect(denied(report)).toEqual([]);
    expect(report.broad.map((b) => `${b.role} ${b.policy} #${b.statement}: ${b.what.replace(/ \(.*\)$/, "")}`)).toEqual([
      'consul_servers_server_1_role_role read-consul-secrets #1: Resource "*", where its calls name their resources',
      'consul_servers_server_1_role_role server-placement #3: Resource "*", where its calls name their resources',
      "consul_servers_server_1_role_role server-placement #3: kms:*, where its calls use kms:CreateGrant, kms:Decrypt, kms:GenerateDataKey",
    ]);
  });

  it("a grant no call uses, with its role, policy and statement", async () => {
    const { stacks, calls } = judge("the default");
    const policy = Object.values<TerraformDoc>(stacks.mesh!.resource.aws_iam_role_policy).find((p) => p.name_prefix === "read-consul-secrets-")!;
    const document = JSON.parse(policy.policy);
    policy.policy = JSON.stringify({ ...document, Statement: [...document.Statement, { Effect: "Allow", Action: ["s3:DeleteBucket"], Resource: "*" }] });
    const report = await evaluateIam(stacks, calls);
    expect(report.unused).toEqual([
      { stack: "mesh", role: "consul_servers_server_1_role_role", policy: "read-consul-secrets", statement: document.Statement.length + 1, action: "s3:DeleteBucket" },
    ]);
  });

  it("prints a row per call: role, action, resource, caller, verdict and the statement that allows it", async () => {
    const { stacks, calls } = judge("production.yaml");
    const rows = iamTableRows(await evaluateIam(stacks, calls));
    expect(rows[0]).toEqual(["role", "call", "resource", "caller", "verdict", "allowed by"]);
    expect(rows).toContainEqual([
      "consul_servers_server_2_role_role",
      "kms:CreateGrant",
      expect.stringMatching(/:key\//),
      expect.stringMatching(/user data: aws ec2 attach-volume$/),
      "allowed",
      "server-placement #3",
    ]);
  });
});

/** The message a judge stops with; a judge that goes on fails the test. */
function refusal(judgeIt: () => unknown): string {
  try {
    judgeIt();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the judge went on");
}

describe("what the judge refuses to judge", () => {
  const DATAPLANE = "dataplane tasks with a fixed server";
  const dataplaneSpec = SPECS.find(([n]) => n === DATAPLANE)![1];
  const dataplaneMesh = () => synthAllStacks(dataplaneSpec).mesh as TerraformDoc;
  /** The dataplane plan with calls added to http-server's app container (its synthesized definition runs no discovery). */
  function withAppCalls(calls: readonly AwsApiCall[]): MeshPlan {
    const plan = planOf(dataplaneSpec);
    return {
      ...plan,
      services: plan.services.map((s) =>
        s.name !== "http-server"
          ? s
          : { ...s, task: { ...s.task, containers: s.task.containers.map((c) => (c.name === "app" ? { ...c, calls: [...(c.calls ?? []), ...calls] } : c)) } },
      ),
    };
  }

  it("an aws command a server script runs that it has no entry for", () => {
    const mesh = synthAllStacks(DEFAULT_SPEC).mesh as TerraformDoc;
    const script = mesh.locals.consul_servers_server_1_user_data as string;
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    mesh.locals.consul_servers_server_1_user_data = script.replace("#!/bin/bash\n", "#!/bin/bash\naws sts get-caller-identity --output json\n");
    expect(refusal(() => scriptCalls(new StackValues("mesh", mesh)))).toBe(
      "aws sts get-caller-identity: the IAM judge has no entry for this command: add one to cliCalls (tools/judges/iam-calls.ts)",
    );
  });

  it("a call a container plan states on an API it has no model of", () => {
    const values = new StackValues("mesh", dataplaneMesh());
    expect(declaredCalls(values, withAppCalls([])).length).toBeGreaterThan(0);
    expect(refusal(() => declaredCalls(values, withAppCalls([{ api: "secretsmanager", actions: ["secretsmanager:GetSecretValue"], why: "its own secret" }])))).toBe(
      "service_http-server_task_definition: app states calls the IAM judge has no model of (secretsmanager): teach the judge what it runs",
    );
  });

  it("server discovery (ec2) in a container plan whose synthesized definition runs none", () => {
    const values = new StackValues("mesh", dataplaneMesh());
    expect(refusal(() => declaredCalls(values, withAppCalls([discoverServers("app")])))).toBe(
      "service_http-server_task_definition: app has an ec2 call in its container plan, but its definition runs no server discovery",
    );
  });

  it("a task definition whose family no task of the plan has", () => {
    const mesh = dataplaneMesh();
    mesh.resource.aws_ecs_task_definition["service_http-server_task_definition"].family = "someone-elses-family";
    expect(refusal(() => declaredCalls(new StackValues("mesh", mesh), planOf(dataplaneSpec)))).toBe("mesh: the plan has no task of family someone-elses-family");
  });

  it("a stack whose AWS provider's region is not a literal, or is missing", async () => {
    const stacks = synthAllStacks(dataplaneSpec) as Record<string, TerraformDoc>;
    stacks.mesh!.provider.aws[0].region = "${var.aws_region}";
    const message = 'mesh: its AWS provider has no literal region ("${var.aws_region}"): the judge cannot tell which ARNs are this stack\'s';
    expect(refusal(() => meshCalls(stacks, planOf(dataplaneSpec)))).toBe(message);
    expect(
      await evaluateIam(stacks, []).then(
        () => "accepted",
        (error: Error) => error.message,
      ),
    ).toBe(message);
    delete stacks.mesh!.provider.aws[0].region;
    expect(refusal(() => new StackValues("mesh", stacks.mesh!))).toBe(
      "mesh: its AWS provider has no literal region (undefined): the judge cannot tell which ARNs are this stack's",
    );
  });
});

describe("the licence boundary", () => {
  it("keeps the AGPL simulator out of the synth path: nothing in lib/, stacks/, bin/ or main.ts imports it, and it is a dev dependency", () => {
    const files = ["main.ts", ...["lib", "stacks", "bin"].flatMap((dir) => fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => path.join(dir, f)))].filter((f) =>
      /\.(ts|js|mjs|cjs)$/.test(f),
    );
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => fs.readFileSync(f, "utf8").includes("@cloud-copilot/"))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
    expect(Object.keys(pkg.dependencies).filter((d: string) => d.startsWith("@cloud-copilot/"))).toEqual([]);
    expect(pkg.devDependencies["@cloud-copilot/iam-simulate"]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("stand-in values", () => {
  it("give one reference one value wherever it is named, and read names from the resources", () => {
    const { stacks } = judge("production.yaml");
    const values = new StackValues("mesh", stacks.mesh!);
    const key = values.text("${aws_kms_key.kms_key_key.arn}");
    expect(values.text("x ${aws_kms_key.kms_key_key.arn} $${HOME}")).toBe(`x ${key} \${HOME}`);
    expect(values.text("${aws_ecs_cluster.ecs_cluster.arn}")).toBe("arn:aws:ecs:us-east-1:111122223333:cluster/prod-mesh");
    expect(values.text("${aws_secretsmanager_secret.consul_secrets_gossip_key.arn}")).toMatch(
      /^arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-mesh\/consul\/gossip-key-\w+-\w{6}$/,
    );
  });
});
