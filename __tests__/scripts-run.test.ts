// Every shell script the project renders, run unchanged under the real shell in a temporary root
// (tools/judges/run-script.ts), with stubs for what cannot run here. The assertions are on what
// the script does: the files it writes (contents, modes, owners), the commands it runs in order,
// how it fails, and what a second run changes. Each assertion helper is also run against a
// mutated script, to show that it catches the mistake it is there for.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heredocBody, lintShell } from "../tools/judges";
import {
  commandLines,
  exactArgs,
  ownersOf,
  ScriptRoot,
  sha256,
  storedZip,
  stubProgram,
  STUB_PATH,
  userDataRun,
  type Answer,
  type FileSpec,
  type RunResult,
  type Stub,
  type StubCall,
} from "../tools/judges/run-script";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { CONSUL } from "../lib/versions";
import { DATAPLANE_UID, ENVOY_PORTS, ENVOY_UID, SERVER_PATHS, TASK_PATHS, TLS_EDGE_PATHS, TLS_EDGE_PORTS } from "../lib/facts";
import { DATAPLANE_CONTAINERS } from "../lib/plan/dataplane";
import { CONTAINER_NAMES, CONTROL_PLANE_WAIT } from "../lib/plan/containers";
import { HOST_CLUSTER_SLOT } from "../lib/plan/text";
import { RPC_CA_GENERATION, rpcCaToken, SERVER_LAUNCH_HOOK, SERVER_SLOTS } from "../lib/plan/server";
import type { TemplateText } from "../lib/plan/text";
import { METRICS_LOG_GROUP_SLOT } from "../lib/plan/observability";
import { TLS_EDGE_CONTAINERS, TLS_EDGE_SLOTS, tlsEdgeEnvoyConfigText } from "../lib/plan/tls-edge";
import type { MeshPlan, ServicePlan } from "../lib/plan/types";
import { renderContainerDefinitions } from "../lib/render/containers";
import { renderText } from "../lib/render/text";
import { planOf, renderServiceTask } from "./support/synth";
import { type Pem, rpcCaSecretValue, selfSigned, signedBy } from "../tools/judges/test-pki";

/** The base64 lines of a PEM: a key's bytes, each of which must never reach a command line. */
function pemLines(pem: string): string[] {
  return pem.split("\n").filter((l) => l && !l.startsWith("-----"));
}

// ---------------------------------------------------------------------------------------------
// Fixtures: what AWS, Consul and the AMI would answer
// ---------------------------------------------------------------------------------------------

const roots: ScriptRoot[] = [];
/** A fresh root, removed after the file's tests. */
function newRoot(): ScriptRoot {
  const root = ScriptRoot.create();
  roots.push(root);
  return root;
}
afterAll(() => {
  for (const root of roots) root.dispose();
});

const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:${name}`;
const DATA_VOLUME = "vol-0123456789abcdef0";
const INSTANCE_ID = "i-0aaaabbbbccccdddd";
const ASG_NAME = "prod-mesh-consul-server-1";
const SNAPSHOT_BUCKET = "prod-mesh-consul-snapshots";
const CLUSTER_ARN = "arn:aws:ecs:us-east-1:111122223333:cluster/prod-mesh";
/** Consul's node name of the first Auto Scaling server, and its node ID (kept on its data volume). */
const SERVER_1 = "consul-server-1";
const NODE_ID = "8f2e1c3a-0b4d-4e5f-9a6b-7c8d9e0f1a2b";
/** A binding rule consul-acl-sync makes: one service's identity for one task role's unique ID. */
const OUR_BINDING_RULE = { ID: "0d3f4e5a-1111-2222-3333-444455556666", BindType: "service", BindName: "web", Selector: 'entity_id == "AROAWEB0000000000000A"' };
/** The rule servers before per-role rules made (the service name from the role's tag), which an old leader keeps during a roll. */
const LEGACY_BINDING_RULE = { ID: "7b7b7b7b-1111-2222-3333-444455556666", BindType: "service", BindName: "${entity_tags.consul.hashicorp.com.service-name}", Selector: "" };
const SNAPSHOT_KEY = "arn:aws:kms:us-east-1:111122223333:key/0b0c0d0e-1111-2222-3333-444455556666";

const SECRET = {
  gossipKey: Buffer.alloc(32, 7).toString("base64"),
  managementToken: "5b0f3a52-8a3e-4f7e-9d1c-2f3b4c5d6e7f",
  agentAccessor: "11111111-2222-3333-4444-555555555555",
  agentSecret: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
  /** What a task receives as CONSUL_CA_PEM (ECS reads the CA certificate secret). */
  caCert: "-----BEGIN CERTIFICATE-----\nMIIBmesh-ca\n-----END CERTIFICATE-----",
} as const;
/** The mesh's RPC CA as a server stored it (a real one: the script checks it with openssl). */
const RPC_CA = selfSigned("/O=consul-ecs-mesh/CN=Consul CA dc1");
const AGENT_TOKEN_JSON = JSON.stringify({ AccessorID: SECRET.agentAccessor, SecretID: SECRET.agentSecret });
/** Values that must never appear in a command line (a process list shows them to every user). */
const SECRET_VALUES = [SECRET.gossipKey, SECRET.managementToken, SECRET.agentSecret, ...pemLines(RPC_CA.keyPem)];

/** What the ConsulServers construct binds into a server's user data (Terraform references there). */
function serverBindings(plan: MeshPlan): Record<string, string> {
  return {
    [SERVER_SLOTS.gossipKey]: secretArn("gossip"),
    [SERVER_SLOTS.caCert]: secretArn("ca"),
    [SERVER_SLOTS.rpcCaKey]: secretArn("rpc-ca-key"),
    [SERVER_SLOTS.managementToken]: secretArn("management"),
    [SERVER_SLOTS.agentToken]: secretArn("agent"),
    [SERVER_SLOTS.dataVolume]: DATA_VOLUME,
    [SERVER_SLOTS.autoScalingGroup]: ASG_NAME,
    [SERVER_SLOTS.snapshotBucket]: SNAPSHOT_BUCKET,
    [SERVER_SLOTS.snapshotKey]: SNAPSHOT_KEY,
    [SERVER_SLOTS.loginRoles]: `arn:aws:iam::111122223333:role/consul-ecs/${plan.name}/*`,
    [SERVER_SLOTS.clusterArn]: CLUSTER_ARN,
  };
}

/** The server's user data exactly as the construct renders it. */
const shippedUserData = (plan: MeshPlan) => renderText(plan.server.nodes[0]!.userData, serverBindings(plan));

/**
 * The fake release: a zip whose `consul` is a stub (mode 0644: the script's chmod makes it
 * executable). No fake can match the real pinned SHA-256, so the success path renders the same
 * template, templates/user-data/consul-server.sh.hbs, with the fake archive's SHA-256 in its
 * context; releaseUserData() proves that is the only difference from the shipped text.
 */
const FAKE_RELEASE = storedZip([{ name: "consul", content: stubProgram("consul"), mode: 0o644 }]);

function releaseUserData(plan: MeshPlan): string {
  const text: TemplateText = plan.server.nodes[0]!.userData;
  const script = renderText({ ...text, context: { ...text.context, sha256: sha256(FAKE_RELEASE) } }, serverBindings(plan));
  expect(script.split(sha256(FAKE_RELEASE)).join(CONSUL.sha256.amd64)).toBe(shippedUserData(plan));
  return script;
}

const ok = (stdout = ""): Answer => ({ stdout });
const failing = (stderr: string, exit = 1): Answer => ({ stderr, exit });
const secretRule = (arn: string, value: string, extra: readonly string[] = []): { when: string; answers: Answer[] } => ({
  when: exactArgs("secretsmanager", "get-secret-value", ...extra, "--secret-id", arn, "--query", "SecretString", "--output", "text"),
  answers: [ok(`${value}\n`)],
});

const SERVER_SECRET_RULES = [
  secretRule(secretArn("gossip"), SECRET.gossipKey),
  secretRule(secretArn("management"), SECRET.managementToken),
  secretRule(secretArn("agent"), AGENT_TOKEN_JSON),
  // The RPC CA another server stored (its first boot is below: "The RPC CA, made at boot").
  secretRule(secretArn("rpc-ca-key"), rpcCaSecretValue(RPC_CA)),
  secretRule(secretArn("ca"), RPC_CA.certPem),
];

const throttled = failing("An error occurred (ThrottlingException) when calling the GetSecretValue operation: Rate exceeded\n", 254);
const IMDS_TOKEN = "AQAEAimds-session-token==";

/** A healthy first boot: nothing installed, a blank data volume, AWS and Consul answering. */
function serverStubs(overrides: Readonly<Record<string, Stub>> = {}): Record<string, Stub> {
  return {
    dnf: { otherwise: ok() },
    curl: {
      rules: [
        { when: "* --output * https://releases.hashicorp.com/consul/*", answers: [{ writes: { content: FAKE_RELEASE, after: "--output" } }] },
        { when: "* -X PUT * http://169.254.169.254/latest/api/token", answers: [ok(IMDS_TOKEN)] },
        { when: "* http://169.254.169.254/latest/meta-data/instance-id", answers: [ok(INSTANCE_ID)] },
      ],
    },
    sha256sum: { real: { program: "/usr/bin/sha256sum" }, readsStdin: true },
    unzip: { real: { program: "/usr/bin/unzip" } },
    install: { real: { program: "/usr/bin/install", dropOptions: ["-o", "-g"] } },
    chown: { otherwise: ok(), listDirectories: true },
    id: { rules: [{ when: "consul", answers: [failing("id: 'consul': no such user")] }] },
    useradd: { otherwise: ok() },
    blkid: { otherwise: { exit: 2 } },
    "mkfs.xfs": { otherwise: ok("meta-data=/dev/xvdf isize=512\n") },
    mountpoint: { otherwise: { exit: 32 } },
    mount: { otherwise: ok() },
    aws: {
      recordEnv: ["AWS_REGION"],
      rules: [
        ...SERVER_SECRET_RULES,
        { when: `ec2 describe-volumes --volume-ids ${DATA_VOLUME} *`, answers: [ok("None\n")] },
        { when: `ec2 attach-volume --volume-id ${DATA_VOLUME} *`, answers: [ok('{"State": "attaching"}\n')] },
        { when: "autoscaling complete-lifecycle-action *", answers: [ok()] },
      ],
    },
    consul: {
      recordEnv: ["CONSUL_HTTP_ADDR", "CONSUL_CACERT", "CONSUL_HTTP_TOKEN_FILE", "CONSUL_HTTP_TOKEN"],
      rules: [
        { when: "version", answers: [ok(`Consul v${CONSUL.version}\nRevision 0123abcd\nBuild Date 2025-01-01T00:00:00Z\n`)] },
        { when: exactArgs("validate", SERVER_PATHS.configDir), answers: [ok("Configuration is valid!\n")] },
        { when: exactArgs("operator", "autopilot", "state", "-format=json"), answers: [ok('{"Healthy": true, "FailureTolerance": 1}\n')] },
        // The dataplane login the leader's consul-acl-sync created.
        { when: exactArgs("acl", "auth-method", "read", "-name", "iam-ecs-service-token"), answers: [ok("Name: iam-ecs-service-token\nType: aws-iam\n")] },
        { when: exactArgs("acl", "binding-rule", "list", "-method", "iam-ecs-service-token", "-format=json"), answers: [ok(`${JSON.stringify([OUR_BINDING_RULE])}\n`)] },
        { when: exactArgs("catalog", "nodes", "-node-meta", "synthetic-node=true"), answers: [ok(`Node  ID  Address  DC\n${CLUSTER_ARN}  ab12  127.0.0.1  prod\n`)] },
        // Alone in the cluster: no member of another name with its node ID.
        { when: exactArgs("members", "-detailed"), answers: [ok(`Node  Address  Status  Tags\n${SERVER_1}  10.20.0.10:8301  alive  id=${NODE_ID},role=consul\n`)] },
      ],
    },
    systemctl: { otherwise: ok() },
    "systemd-run": { otherwise: ok() },
    sleep: { otherwise: ok() },
    ...overrides,
  };
}

/** The AMI: fstab with the root volume, systemd's unit folder, and the data volume's device node. */
const AMI_FSTAB = "UUID=0d2f1b7e-root / xfs defaults,noatime 1 1\n";
function serverAmi(device: "xvdf" | "nvme"): Record<string, FileSpec> {
  return {
    "/etc/fstab": AMI_FSTAB,
    "/etc/systemd/system": { directory: true, mode: 0o755 },
    ...(device === "xvdf"
      ? { "/dev/xvdf": "" }
      : { "/dev/nvme1n1": "", [`/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME.replace(/-/g, "")}`]: { symlink: "../../nvme1n1" } }),
  };
}

/** Runs user data as cloud-init does, with the AMI's files on the first run. */
function runUserData(root: ScriptRoot, script: string, stubs: Record<string, Stub>, files: Record<string, FileSpec> = {}): RunResult {
  const { files: userDataFiles, argv } = userDataRun(script);
  return root.run({ argv, files: { ...files, ...userDataFiles }, stubs });
}

/** Command lines with the per-run temporary folder named /tmp/WORK. */
/** The servers' local Consul API, which their scripts call. */
const API = "https://127.0.0.1:8501/v1";
/** The Consul API requests of a run, as "METHOD /path". */
const apiCalls = (result: RunResult) => result.calls.filter((c) => c.program === "curl").map((c) => `${c.args[c.args.indexOf("-X") + 1]} ${c.args.at(-1)!.slice(API.length)}`);
const lines = (calls: readonly StubCall[], except: readonly string[] = []) => commandLines(calls, { except }).map((l) => l.replace(/\/tmp\/tmp\.[A-Za-z0-9]+/g, "/tmp/WORK"));
const indexOf = (calls: readonly StubCall[], line: string) => lines(calls).indexOf(line);
const sleeps = (calls: readonly StubCall[]) => calls.filter((c) => c.program === "sleep").map((c) => c.args.join(" "));

// ---------------------------------------------------------------------------------------------
// Assertions, each also run against a mutated script below
// ---------------------------------------------------------------------------------------------

/** Failed before installing anything: no binary, no user, no config, no unit, nothing started. */
function expectNothingInstalledOrStarted(result: RunResult): void {
  expect(result.exitCode).not.toBe(0);
  expect(result.created, "files the failed run left behind").toEqual([]);
  expect(result.calls.map((c) => c.program)).not.toContain("systemctl");
  expect(result.calls.map((c) => c.program)).not.toContain("useradd");
}

/** Consul is started only after its configuration was validated, and only if it was valid. */
function expectStartedOnlyAfterValidation(result: RunResult, valid: boolean): void {
  const validate = indexOf(result.calls, `consul validate ${SERVER_PATHS.configDir}`);
  const start = indexOf(result.calls, "systemctl enable --now consul");
  expect(validate, "consul validate ran").toBeGreaterThanOrEqual(0);
  if (valid) expect(start).toBeGreaterThan(validate);
  else {
    expect(result.exitCode).toBe(1);
    expect(
      result.calls.filter((c) => c.program === "systemctl"),
      "systemctl after a rejected configuration",
    ).toEqual([]);
  }
}

/** Runs the host's openssl on files of the root; its stdout, or throws with its stderr. */
function openssl(args: readonly string[]): string {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

/** The server's certificate: signed by `ca`, for its own key, for the names clients check, valid about a year. */
function expectServerCertificate(root: ScriptRoot, ca: Pem, privateIp?: string): void {
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ca-")), "ca.pem");
  fs.writeFileSync(caFile, ca.certPem);
  const cert = root.hostPath(SERVER_PATHS.certFile);
  expect(openssl(["verify", "-CAfile", caFile, cert])).toBe(`${cert}: OK\n`);
  expect(openssl(["x509", "-in", cert, "-noout", "-pubkey"])).toBe(openssl(["pkey", "-in", root.hostPath(SERVER_PATHS.keyFile), "-pubout"]));
  expect(openssl(["x509", "-in", cert, "-noout", "-subject"]).trim()).toBe(`subject=CN = server.${DEFAULT_PLAN.datacenter}.consul`);
  expect(openssl(["x509", "-in", cert, "-noout", "-ext", "subjectAltName,extendedKeyUsage"])).toBe(
    `X509v3 Extended Key Usage: \n    TLS Web Server Authentication, TLS Web Client Authentication\nX509v3 Subject Alternative Name: \n    DNS:server.${DEFAULT_PLAN.datacenter}.consul, DNS:localhost, IP Address:127.0.0.1${privateIp ? `, IP Address:${privateIp}` : ""}\n`,
  );
  // CERTIFICATE_DAYS.server: valid for more than 364 days, not 366.
  expect(spawnSync("openssl", ["x509", "-in", cert, "-noout", "-checkend", String(364 * 86400)]).status).toBe(0);
  expect(spawnSync("openssl", ["x509", "-in", cert, "-noout", "-checkend", String(366 * 86400)]).status).toBe(1);
  fs.rmSync(path.dirname(caFile), { recursive: true });
}

/** The server script never puts a secret on a command line. */
function expectNoSecretInArguments(calls: readonly StubCall[], secrets: readonly string[] = SECRET_VALUES): void {
  for (const call of calls) for (const secret of secrets) expect(call.args.join(" "), `${call.program} arguments`).not.toContain(secret);
}

// ---------------------------------------------------------------------------------------------
// The Consul server's user data
// ---------------------------------------------------------------------------------------------

const DEFAULT_PLAN = planOf(DEFAULT_SPEC);
const PRODUCTION_PLAN = loadSpecFile("examples/production.yaml").plan;

const RELEASE_URL = `https://releases.hashicorp.com/consul/${CONSUL.version}/consul_${CONSUL.version}_linux_amd64.zip`;
const secretRead = (arn: string) => `aws secretsmanager get-secret-value --secret-id ${arn} --query SecretString --output text`;

describe("Consul server user data, fixed server (Terraform attaches the data volume)", () => {
  let script: string;
  let root: ScriptRoot;
  let first: RunResult;

  beforeAll(() => {
    expect(DEFAULT_PLAN.server.placement).toBe("fixed");
    script = releaseUserData(DEFAULT_PLAN);
    root = newRoot();
    // The gossip key's secret version lags the deploy: two failed reads, then the value.
    const stubs = serverStubs();
    const late = { when: secretRule(secretArn("gossip"), "").when, answers: [throttled, throttled, ok(`${SECRET.gossipKey}\n`)] };
    first = runUserData(root, script, { ...stubs, aws: { ...stubs.aws, rules: [late, ...stubs.aws!.rules!] } }, serverAmi("xvdf"));
  });

  it("boots a fresh server: installs the checked release, prepares the volume, writes its config, validates, then starts", () => {
    const result = first;
    expect(result.stderr).toMatch(new RegExp(`consul-server-bootstrap: Consul ${CONSUL.version.replace(/\./g, "\\.")} server is running\n$`));
    expect(result.exitCode).toBe(0);
    // The gossip key's three reads appear once here (the retries are checked below).
    expect(lines(result.calls, ["sleep"]).filter((l, i, all) => l !== all[i - 1])).toEqual([
      "dnf install -y unzip jq openssl",
      `curl --fail --silent --show-error --location --output /tmp/WORK/consul.zip ${RELEASE_URL}`,
      "sha256sum --check --strict -",
      "unzip -o /tmp/WORK/consul.zip consul -d /usr/local/bin",
      "id consul",
      "useradd --system --home-dir /etc/consul.d --shell /sbin/nologin consul",
      "blkid /dev/xvdf",
      "mkfs.xfs -L consul-data /dev/xvdf",
      "install -d -m 0750 /opt/consul",
      "mountpoint -q /opt/consul",
      "mount /opt/consul",
      "install -d -o consul -g consul -m 0750 /etc/consul.d /opt/consul /opt/consul/data /opt/consul/tls",
      secretRead(secretArn("gossip")),
      secretRead(secretArn("management")),
      secretRead(secretArn("agent")),
      // The RPC CA another server stored: read, checked, nothing written to Secrets Manager.
      secretRead(secretArn("rpc-ca-key")),
      secretRead(secretArn("ca")),
      "install -o consul -g consul -m 0640 /tmp/WORK/trust.pem /opt/consul/tls/ca.pem",
      // Its own key, made in place (never a wider mode), and its certificate signed with the CA.
      "install -o consul -g consul -m 0600 /dev/null /opt/consul/tls/server-key.pem",
      "install -o consul -g consul -m 0640 /tmp/WORK/server.pem /opt/consul/tls/server.pem",
      "chown -R consul:consul /etc/consul.d",
      "install -m 0600 /dev/null /etc/consul.d/management.token",
      "chown root:root /etc/consul.d/management.token",
      "consul validate /etc/consul.d",
      "install -m 0700 /dev/null /usr/local/bin/consul-acl-sync",
      // No task reaper: an agent-only mesh has no dataplane task to reap.
      "install -m 0700 /dev/null /usr/local/bin/consul-snapshot",
      "systemctl daemon-reload",
      "systemctl enable --now consul",
      "systemctl enable --now consul-acl-sync.timer",
      "systemctl enable --now consul-snapshot.timer",
    ]);
    // A secret that is not readable yet is read again, after 2 s, then 4 s.
    expect(result.calls.filter((c) => c.args.includes(secretArn("gossip")))).toHaveLength(3);
    expect(sleeps(result.calls)).toEqual(["2", "4"]);
    expect(result.console).toContain(`consul-server-bootstrap: reading the gossip key from Secrets Manager (${secretArn("gossip")}): attempt 2 of 8 failed, retrying in 4s\n`);
    // The checksum was checked against the pinned value, on the downloaded file; validate ran the installed binary.
    const check = result.calls.find((c) => c.program === "sha256sum")!;
    expect(check.stdin?.replace(/\/tmp\/tmp\.[A-Za-z0-9]+/, "/tmp/WORK")).toBe(`${sha256(FAKE_RELEASE)}  /tmp/WORK/consul.zip\n`);
    expect(result.calls.find((c) => c.args[0] === "validate")!.invokedAs).toBe(SERVER_PATHS.binary);
    expectStartedOnlyAfterValidation(result, true);
    expect(result.calls.filter((c) => c.program === "aws").every((c) => c.env.AWS_REGION === "us-east-1")).toBe(true);
    expectNoSecretInArguments(result.calls);
    expect(result.console.endsWith(`consul-server-bootstrap: Consul ${CONSUL.version} server is running\n`)).toBe(true);
  });

  it("writes exactly these files, with these contents, modes and owners", () => {
    const owners = ownersOf(first.calls);
    const actual = Object.fromEntries(first.created.map((p) => [p, { mode: root.mode(p).toString(8), owner: owners.get(p.replace(/\/$/, "")) ?? "root:root" }]));
    const consul = "consul:consul";
    const root_ = "root:root";
    expect(actual).toEqual({
      "/etc/consul.d/": { mode: "750", owner: consul },
      "/etc/consul.d/acl-sync.env": { mode: "640", owner: root_ },
      "/etc/consul.d/consul.hcl": { mode: "640", owner: consul },
      "/etc/consul.d/management.token": { mode: "600", owner: root_ },
      "/etc/consul.d/secrets.hcl": { mode: "640", owner: consul },
      "/etc/consul.d/snapshot.env": { mode: "640", owner: root_ },
      "/etc/systemd/system/consul-acl-sync.service": { mode: "640", owner: root_ },
      "/etc/systemd/system/consul-acl-sync.timer": { mode: "640", owner: root_ },
      "/etc/systemd/system/consul-snapshot.service": { mode: "640", owner: root_ },
      "/etc/systemd/system/consul-snapshot.timer": { mode: "640", owner: root_ },
      "/etc/systemd/system/consul.service": { mode: "640", owner: root_ },
      "/opt/": { mode: "755", owner: root_ },
      "/opt/consul/": { mode: "750", owner: consul },
      "/opt/consul/data/": { mode: "750", owner: consul },
      "/opt/consul/tls/": { mode: "750", owner: consul },
      "/opt/consul/tls/ca.pem": { mode: "640", owner: consul },
      "/opt/consul/tls/server-key.pem": { mode: "600", owner: consul },
      "/opt/consul/tls/server.pem": { mode: "640", owner: consul },
      "/usr/local/bin/consul": { mode: "755", owner: root_ },
      "/usr/local/bin/consul-acl-sync": { mode: "700", owner: root_ },
      "/usr/local/bin/consul-snapshot": { mode: "700", owner: root_ },
    });

    const shipped = shippedUserData(DEFAULT_PLAN);
    expect(root.read(SERVER_PATHS.configFile)).toBe(heredocBody(shipped, "CONSUL_CONFIG"));
    expect(root.read(SERVER_PATHS.secretsFile)).toBe(
      `encrypt = "${SECRET.gossipKey}"\nacl {\n  tokens {\n    initial_management = "${SECRET.managementToken}"\n    agent              = "${SECRET.agentSecret}"\n  }\n}\n`,
    );
    expect(root.read(SERVER_PATHS.managementTokenFile)).toBe(SECRET.managementToken);
    expect(root.read(SERVER_PATHS.caFile)).toBe(RPC_CA.certPem);
    expectServerCertificate(root, RPC_CA, DEFAULT_PLAN.server.nodes[0]!.privateIp!);
    expect(root.read("/etc/systemd/system/consul.service")).toBe(heredocBody(shipped, "CONSUL_UNIT"));
    expect(root.read(SERVER_PATHS.aclSyncBinary)).toBe(heredocBody(shipped, "ACL_SYNC"));
    expect(root.read("/etc/systemd/system/consul-acl-sync.service")).toBe(heredocBody(shipped, "SYNC_UNIT"));
    expect(root.read("/etc/systemd/system/consul-acl-sync.timer")).toBe(heredocBody(shipped, "SYNC_TIMER"));
    expect(root.read(SERVER_PATHS.snapshotBinary)).toBe(heredocBody(shipped, "SNAPSHOT"));
    expect(root.read(SERVER_PATHS.aclSyncEnvFile)).toBe(
      `AWS_REGION=us-east-1\nAGENT_TOKEN_SECRET=${secretArn("agent")}\nSERVICE_TOKEN_PATH=/${DEFAULT_PLAN.name}/consul/service-tokens\nSERVICE_ACL_NAME_PREFIX=${DEFAULT_PLAN.name}/consul/service-token/\n`,
    );
    // An agent-only mesh has no dataplane task for a reaper to clean up after.
    expect(root.exists(SERVER_PATHS.taskReaperBinary)).toBe(false);
    expect(shipped.includes("TASK_REAPER")).toBe(false);
    expect(root.read("/etc/fstab")).toBe(`${AMI_FSTAB}LABEL=consul-data /opt/consul xfs defaults,nofail 0 2\n`);
    expect(root.read(SERVER_PATHS.binary)).toBe(stubProgram("consul"));
  });

  it("runs again on the same root (a reboot) without reinstalling, reformatting or duplicating anything", () => {
    const snapshot = () => Object.fromEntries(root.paths().map((p) => [p, p.endsWith("/") ? root.mode(p) : `${root.mode(p)} ${root.read(p)}`]));
    const before = snapshot();
    const second = runUserData(
      root,
      script,
      serverStubs({
        id: { rules: [{ when: "consul", answers: [ok("uid=998(consul) gid=998(consul) groups=998(consul)\n")] }] },
        blkid: { otherwise: ok('/dev/xvdf: LABEL="consul-data" TYPE="xfs"\n') },
        mountpoint: { otherwise: ok() },
      }),
    );
    expect(second.exitCode).toBe(0);
    expect(second.stderr).toContain(`Consul ${CONSUL.version} is already installed`);
    const programs = second.calls.map((c) => c.program);
    for (const absent of ["curl", "sha256sum", "unzip", "useradd", "mkfs.xfs", "mount"]) expect(programs, `${absent} on the second run`).not.toContain(absent);
    expect(lines(second.calls).slice(0, 4)).toEqual(["dnf install -y unzip jq openssl", "consul version", "id consul", "blkid /dev/xvdf"]);
    expectStartedOnlyAfterValidation(second, true);
    expect(snapshot(), "every file and mode after the second run").toEqual(before);
    expect(root.read("/etc/fstab").match(/^LABEL=consul-data /gm)).toHaveLength(1);
    expect(ownersOf(second.calls).get(SERVER_PATHS.managementTokenFile)).toBe("root:root");
  });

  it("a checksum mismatch (the shipped script, its real pinned SHA-256): nothing installed, nothing started", () => {
    const fresh = newRoot();
    const result = runUserData(fresh, shippedUserData(DEFAULT_PLAN), serverStubs(), serverAmi("xvdf"));
    expect(result.exitCode).toBe(1);
    const message = `consul-server-bootstrap: FAILED: the Consul ${CONSUL.version} archive does not match its pinned SHA-256 (lib/versions.ts); nothing was installed\n`;
    expect(result.stderr).toContain(message);
    expect(result.console).toBe(message);
    expect(result.calls.find((c) => c.program === "sha256sum")!.stdin).toMatch(new RegExp(`^${CONSUL.sha256.amd64}  /tmp/tmp\\.[A-Za-z0-9]+/consul\\.zip\n$`));
    expect(lines(result.calls).at(-1)).toBe("sha256sum --check --strict -");
    expectNothingInstalledOrStarted(result);
  });

  it("a secret not readable yet: retried with backoff, then a clear failure on stderr and the console, nothing started", () => {
    const fresh = newRoot();
    const denied = failing(
      "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT\n",
      254,
    );
    const stubs = serverStubs();
    const aws: Stub = { ...stubs.aws, rules: [{ when: secretRule(secretArn("gossip"), "").when, answers: [denied] }, ...stubs.aws!.rules!] };
    const result = runUserData(fresh, script, { ...stubs, aws }, serverAmi("xvdf"));
    expect(result.exitCode).toBe(1);
    expect(result.calls.filter((c) => c.args.includes(secretArn("gossip")))).toHaveLength(8);
    expect(sleeps(result.calls)).toEqual(["2", "4", "8", "16", "32", "60", "60"]);
    const what = `reading the gossip key from Secrets Manager (${secretArn("gossip")})`;
    expect(result.stderr).toContain(`consul-server-bootstrap: ${what}: attempt 1 of 8 failed, retrying in 2s\n`);
    expect(result.stderr).toContain(`consul-server-bootstrap: ${what}: attempt 7 of 8 failed, retrying in 60s\n`);
    const failure = `consul-server-bootstrap: FAILED: ${what}: still failing after 8 attempts\n`;
    expect(result.stderr.endsWith(failure)).toBe(true);
    expect(result.console.endsWith(failure)).toBe(true);
    expect(result.console.split("\n").filter(Boolean)).toHaveLength(8);
    for (const file of [SERVER_PATHS.configFile, SERVER_PATHS.secretsFile, "/etc/systemd/system/consul.service"]) expect(fresh.exists(file), file).toBe(false);
    expect(result.calls.map((c) => c.program)).not.toContain("systemctl");
  });

  it("a configuration consul validate rejects: nothing enabled or started", () => {
    const fresh = newRoot();
    const stubs = serverStubs();
    const consul: Stub = { ...stubs.consul, rules: [{ when: "validate *", answers: [failing("Config validation failed: bootstrap_expect: invalid\n")] }] };
    const result = runUserData(fresh, script, { ...stubs, consul }, serverAmi("xvdf"));
    expect(result.stderr).toContain("consul-server-bootstrap: FAILED: consul validate rejected the configuration\n");
    expectStartedOnlyAfterValidation(result, false);
  });
});

describe("The RPC CA, made at boot by the first server (race-safe), and each server's own key and certificate", () => {
  const TOKEN = rpcCaToken(RPC_CA_GENERATION);
  const notFound = failing(
    "An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT\n",
    254,
  );
  const exists = failing(
    `An error occurred (ResourceExistsException) when calling the PutSecretValue operation: You can't modify an existing version, you can only create a new version.\n`,
    254,
  );
  const get = (name: string) => secretRule(secretArn(name), "").when;
  const getVersion = (name: string) => secretRule(secretArn(name), "", []).when.replace("--query", `--version-id ${TOKEN} --query`);
  const put = "secretsmanager put-secret-value --cli-input-json file://*";
  /** The server stubs with these Secrets Manager answers for the CA's two secrets first. */
  const withCa = (rules: readonly { when: string; answers: Answer[] }[]): Record<string, Stub> => {
    const stubs = serverStubs();
    return { ...stubs, aws: { ...stubs.aws, recordFilesAfterPrefix: "file://", rules: [...rules, ...stubs.aws!.rules!.filter((r) => !/rpc-ca-key|:ca /.test(r.when))] } };
  };
  /** Each PutSecretValue request: the secret, the token and the value, as the CLI read them from the file. */
  const puts = (result: RunResult) =>
    result.calls
      .filter((c) => c.program === "aws" && c.args[1] === "put-secret-value")
      .map(
        (c) =>
          JSON.parse(c.files[c.args[c.args.indexOf("--cli-input-json") + 1]!.slice("file://".length)]!) as { SecretId: string; ClientRequestToken: string; SecretString: string },
      );

  let a: { root: ScriptRoot; result: RunResult };
  let stored: { ca: string; cert: string };

  beforeAll(() => {
    const root = newRoot();
    const result = runUserData(
      root,
      releaseUserData(DEFAULT_PLAN),
      withCa([
        { when: get("rpc-ca-key"), answers: [notFound] },
        { when: get("ca"), answers: [notFound] },
        { when: put, answers: [ok('{"VersionId": "consul-ecs-mesh-rpc-ca-generation-0001"}\n')] },
      ]),
      serverAmi("xvdf"),
    );
    a = { root, result };
    const [ca, cert] = puts(result);
    stored = { ca: ca!.SecretString, cert: cert!.SecretString };
  });

  it("first boot of the mesh: makes the CA, puts each secret once under the generation's token (values in a file, never arguments), then its own certificate", () => {
    const { result, root } = a;
    expect(result.exitCode).toBe(0);
    expect(lines(result.calls).filter((l) => /secretsmanager|tls/.test(l))).toEqual([
      "install -d -o consul -g consul -m 0750 /etc/consul.d /opt/consul /opt/consul/data /opt/consul/tls",
      secretRead(secretArn("gossip")),
      secretRead(secretArn("management")),
      secretRead(secretArn("agent")),
      secretRead(secretArn("rpc-ca-key")),
      "aws secretsmanager put-secret-value --cli-input-json file:///tmp/WORK/rpc-ca.json.request",
      secretRead(secretArn("ca")),
      "aws secretsmanager put-secret-value --cli-input-json file:///tmp/WORK/ca-cert.pem.request",
      "install -o consul -g consul -m 0640 /tmp/WORK/trust.pem /opt/consul/tls/ca.pem",
      "install -o consul -g consul -m 0600 /dev/null /opt/consul/tls/server-key.pem",
      "install -o consul -g consul -m 0640 /tmp/WORK/server.pem /opt/consul/tls/server.pem",
    ]);
    const requests = puts(result);
    expect(requests.map((r) => [r.SecretId, r.ClientRequestToken])).toEqual([
      [secretArn("rpc-ca-key"), TOKEN],
      [secretArn("ca"), TOKEN],
    ]);
    expect(TOKEN.length).toBeGreaterThanOrEqual(32);
    const ca = JSON.parse(stored.ca) as { CertPEM: string; KeyPEM: string };
    expect(Object.keys(ca)).toEqual(["CertPEM", "KeyPEM"]);
    expect(openssl(["x509", "-noout", "-subject", "-ext", "basicConstraints", "-in", root.hostPath(SERVER_PATHS.caFile)])).toBe(
      `subject=O = consul-ecs-mesh, CN = Consul CA ${DEFAULT_PLAN.datacenter}\nX509v3 Basic Constraints: critical\n    CA:TRUE\n`,
    );
    expect(stored.cert).toBe(ca.CertPEM);
    expect(root.read(SERVER_PATHS.caFile)).toBe(ca.CertPEM);
    expectServerCertificate(root, { certPem: ca.CertPEM, keyPem: ca.KeyPEM }, DEFAULT_PLAN.server.nodes[0]!.privateIp!);
    // The CA key reached Secrets Manager only through the request file; nothing of it or of the server's key is left outside the data volume.
    expectNoSecretInArguments(result.calls, [...pemLines(ca.KeyPEM), ...pemLines(root.read(SERVER_PATHS.keyFile))]);
    expect(result.created.filter((p) => p.startsWith("/tmp/"))).toEqual([]);
    expect(result.stderr).toContain(`consul-server-bootstrap: made the RPC CA and stored it (${secretArn("rpc-ca-key")}, version ${TOKEN})\n`);
  });

  it("two servers at once: B finds no value, its put loses (ResourceExistsException), it reads A's version by its ID, and both hold byte-identical CA files", () => {
    const b = newRoot();
    const result = runUserData(
      b,
      releaseUserData(DEFAULT_PLAN),
      withCa([
        { when: getVersion("rpc-ca-key"), answers: [ok(`${stored.ca}\n`)] },
        { when: get("rpc-ca-key"), answers: [notFound] },
        { when: get("ca"), answers: [ok(`${stored.cert}\n`)] },
        { when: put, answers: [exists] },
      ]),
      serverAmi("xvdf"),
    );
    expect(result.exitCode).toBe(0);
    expect(lines(result.calls).filter((l) => /secretsmanager .*(rpc-ca-key|:ca )|put-secret-value/.test(l))).toEqual([
      secretRead(secretArn("rpc-ca-key")),
      "aws secretsmanager put-secret-value --cli-input-json file:///tmp/WORK/rpc-ca.json.request",
      `aws secretsmanager get-secret-value --secret-id ${secretArn("rpc-ca-key")} --version-id ${TOKEN} --query SecretString --output text`,
      secretRead(secretArn("ca")),
    ]);
    // B made its own CA first (its put carried another value), and threw it away.
    expect(puts(result)[0]!.SecretString).not.toBe(stored.ca);
    expect(result.stderr).toContain(`another server stored the RPC CA first (${secretArn("rpc-ca-key")}, version ${TOKEN}): using its value`);
    expect(fs.readFileSync(b.hostPath(SERVER_PATHS.caFile))).toEqual(fs.readFileSync(a.root.hostPath(SERVER_PATHS.caFile)));
    const ca = JSON.parse(stored.ca) as { CertPEM: string; KeyPEM: string };
    expectServerCertificate(b, { certPem: ca.CertPEM, keyPem: ca.KeyPEM }, DEFAULT_PLAN.server.nodes[0]!.privateIp!);
    // Each server has its own key.
    expect(b.read(SERVER_PATHS.keyFile)).not.toBe(a.root.read(SERVER_PATHS.keyFile));
  });

  it("a reboot: reads both secrets, puts nothing, keeps its key and its certificate", () => {
    const key = a.root.read(SERVER_PATHS.keyFile);
    const cert = a.root.read(SERVER_PATHS.certFile);
    const result = runUserData(
      a.root,
      releaseUserData(DEFAULT_PLAN),
      withCa([
        { when: get("rpc-ca-key"), answers: [ok(`${stored.ca}\n`)] },
        { when: get("ca"), answers: [ok(`${stored.cert}\n`)] },
      ]),
    );
    expect(result.exitCode).toBe(0);
    expect(lines(result.calls).filter((l) => /put-secret-value|server-key\.pem|server\.pem|--version-id/.test(l))).toEqual([]);
    expect(a.root.read(SERVER_PATHS.keyFile)).toBe(key);
    expect(a.root.read(SERVER_PATHS.certFile)).toBe(cert);
    expect(result.stderr).toContain("the server certificate is signed by the RPC CA and valid for more than 30 days");
  });

  it("a server certificate with 30 days or fewer left, or signed by another CA: signed again with the same key at boot", () => {
    const ca = JSON.parse(stored.ca) as { CertPEM: string; KeyPEM: string };
    const mesh = { certPem: ca.CertPEM, keyPem: ca.KeyPEM };
    for (const [what, signer, days] of [
      ["expiring", mesh, 10],
      ["another CA's", selfSigned("/CN=another CA"), 365],
    ] as const) {
      const root = newRoot();
      const old = signedBy(signer, "/CN=server.dc1.consul", days);
      const result = runUserData(
        root,
        releaseUserData(DEFAULT_PLAN),
        withCa([
          { when: get("rpc-ca-key"), answers: [ok(`${stored.ca}\n`)] },
          { when: get("ca"), answers: [ok(`${stored.cert}\n`)] },
        ]),
        {
          ...serverAmi("xvdf"),
          [SERVER_PATHS.keyFile]: { content: old.keyPem, mode: 0o600 },
          [SERVER_PATHS.certFile]: { content: old.certPem, mode: 0o640 },
        },
      );
      expect(result.exitCode, what).toBe(0);
      expect(
        lines(result.calls).filter((l) => /server-key\.pem|server\.pem/.test(l)),
        what,
      ).toEqual(["install -o consul -g consul -m 0640 /tmp/WORK/server.pem /opt/consul/tls/server.pem"]);
      expect(root.read(SERVER_PATHS.keyFile), what).toBe(old.keyPem);
      expectServerCertificate(root, mesh, DEFAULT_PLAN.server.nodes[0]!.privateIp!);
    }
  });

  it("a CA rotation: trusts both CAs while the CA certificate secret holds both, and signs with the new one only once rpc-ca-key holds it", () => {
    const old = JSON.parse(stored.ca) as { CertPEM: string; KeyPEM: string };
    const oldCa = { certPem: old.CertPEM, keyPem: old.KeyPEM };
    const next = selfSigned("/O=consul-ecs-mesh/CN=Consul CA next");
    const boot = (root: ScriptRoot, rpcCa: Pem, bundle: string, fresh = false) =>
      runUserData(
        root,
        releaseUserData(DEFAULT_PLAN),
        withCa([
          { when: get("rpc-ca-key"), answers: [ok(`${rpcCaSecretValue(rpcCa)}\n`)] },
          { when: get("ca"), answers: [ok(`${bundle}\n`)] },
        ]),
        ...(fresh ? [serverAmi("xvdf")] : []),
      );
    const root = newRoot();
    expect(boot(root, oldCa, old.CertPEM, true).exitCode).toBe(0);
    const key = root.read(SERVER_PATHS.keyFile);
    const cert = root.read(SERVER_PATHS.certFile);
    // Phase 1: the old CA still signs, the CA certificate secret carries the new one after it.
    const trustBoth = boot(root, oldCa, `${old.CertPEM}${next.certPem}`);
    expect(trustBoth.exitCode).toBe(0);
    expect(root.read(SERVER_PATHS.caFile)).toBe(`${old.CertPEM}${next.certPem}`);
    expect(root.read(SERVER_PATHS.certFile)).toBe(cert);
    // Phase 2: rpc-ca-key holds the new CA (the new certificate first in the bundle): signed again, same key.
    const signNew = boot(root, next, `${next.certPem}${old.CertPEM}`);
    expect(signNew.exitCode).toBe(0);
    expect(signNew.stderr).toContain("signed this server's certificate with the RPC CA");
    expect(root.read(SERVER_PATHS.keyFile)).toBe(key);
    expect(root.read(SERVER_PATHS.caFile)).toBe(`${next.certPem}${old.CertPEM}`);
    expectServerCertificate(root, next, DEFAULT_PLAN.server.nodes[0]!.privateIp!);
    // A bundle whose first certificate is not the signing CA is refused.
    const wrongOrder = boot(newRoot(), next, `${old.CertPEM}${next.certPem}`, true);
    expect(wrongOrder.exitCode).toBe(1);
    expect(wrongOrder.console).toContain("FAILED: the CA certificate secret");
  });

  it("a CA secret holding something else: exit 1 with one FAILED line naming the secret, Consul not configured or started", () => {
    const other = selfSigned("/CN=other CA");
    const leaf = selfSigned("/CN=not a CA", { ca: false });
    for (const [what, value, certValue] of [
      ["not JSON", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", undefined],
      ["a key that is not the certificate's", JSON.stringify({ CertPEM: RPC_CA.certPem, KeyPEM: other.keyPem }), undefined],
      ["a certificate that is no CA", rpcCaSecretValue(leaf), undefined],
      ["a CA certificate secret of another CA", rpcCaSecretValue(RPC_CA), other.certPem],
    ] as const) {
      const root = newRoot();
      const result = runUserData(
        root,
        releaseUserData(DEFAULT_PLAN),
        withCa([
          { when: get("rpc-ca-key"), answers: [ok(`${value}\n`)] },
          { when: get("ca"), answers: [ok(`${certValue ?? RPC_CA.certPem}\n`)] },
        ]),
        serverAmi("xvdf"),
      );
      const secret = certValue ? `CA certificate secret (${secretArn("ca")})` : `RPC CA secret (${secretArn("rpc-ca-key")})`;
      expect(result.exitCode, what).toBe(1);
      expect(
        result.console.split("\n").filter((l) => l.includes("FAILED")),
        what,
      ).toEqual([`consul-server-bootstrap: FAILED: the ${secret} holds a value this mesh did not write: fix it or delete its versions, then boot again`]);
      expect(
        result.calls.map((c) => c.program),
        what,
      ).not.toContain("systemctl");
      expect(
        lines(result.calls).filter((l) => /put-secret-value/.test(l)),
        what,
      ).toEqual([]);
      for (const file of [SERVER_PATHS.configFile, SERVER_PATHS.secretsFile, SERVER_PATHS.caFile, SERVER_PATHS.certFile]) expect(root.exists(file), `${what}: ${file}`).toBe(false);
    }
  });
});

describe("Consul server user data, Auto Scaling server (attaches its own volume, completes the lifecycle hook)", () => {
  let script: string;
  let root: ScriptRoot;
  let boot: RunResult;

  beforeAll(() => {
    expect(PRODUCTION_PLAN.server.placement).toBe("auto-scaling");
    script = releaseUserData(PRODUCTION_PLAN);
    root = newRoot();
    const stubs = serverStubs();
    // The replaced instance still holds the volume on the first try.
    const aws: Stub = {
      ...stubs.aws,
      rules: [
        { when: `ec2 describe-volumes --volume-ids ${DATA_VOLUME} *`, answers: [ok("i-0replacedinstance\n"), ok("None\n")] },
        { when: `ec2 attach-volume --volume-id ${DATA_VOLUME} *`, answers: [failing("An error occurred (VolumeInUse)\n", 254), ok('{"State": "attaching"}\n')] },
        ...stubs.aws!.rules!,
      ],
    };
    boot = runUserData(root, script, { ...stubs, aws }, serverAmi("nvme"));
  });

  it("reads its instance ID through IMDSv2, attaches its volume (retrying while the old instance holds it) and finds it by NVMe ID", () => {
    expect(boot.exitCode, boot.stderr.slice(-1500)).toBe(0);
    const volume = lines(boot.calls).filter((l) => /169\.254\.169\.254|describe-volumes|attach-volume|blkid|mkfs|sleep/.test(l));
    expect(volume).toEqual([
      "curl --fail --silent -X PUT -H X-aws-ec2-metadata-token-ttl-seconds: 60 http://169.254.169.254/latest/api/token",
      `curl --fail --silent -H X-aws-ec2-metadata-token: ${IMDS_TOKEN} http://169.254.169.254/latest/meta-data/instance-id`,
      `aws ec2 describe-volumes --volume-ids ${DATA_VOLUME} --query Volumes[0].Attachments[0].InstanceId --output text`,
      `aws ec2 attach-volume --volume-id ${DATA_VOLUME} --instance-id ${INSTANCE_ID} --device /dev/sdf`,
      "sleep 2",
      `aws ec2 describe-volumes --volume-ids ${DATA_VOLUME} --query Volumes[0].Attachments[0].InstanceId --output text`,
      `aws ec2 attach-volume --volume-id ${DATA_VOLUME} --instance-id ${INSTANCE_ID} --device /dev/sdf`,
      "blkid /dev/nvme1n1",
      "mkfs.xfs -L consul-data /dev/nvme1n1",
    ]);
    expect(boot.stderr).toContain(`consul-server-bootstrap: attaching data volume ${DATA_VOLUME}: attempt 1 of 12 failed, retrying in 2s\n`);
  });

  it("completes the lifecycle action only after starting Consul and seeing the cluster healthy, as the management token", () => {
    const all = lines(boot.calls);
    const hook = `aws autoscaling complete-lifecycle-action --lifecycle-action-result CONTINUE --instance-id ${INSTANCE_ID} --lifecycle-hook-name ${SERVER_LAUNCH_HOOK} --auto-scaling-group-name ${ASG_NAME}`;
    // (A first boot has no node ID yet: no former name to look for.)
    expect(all.slice(-11)).toEqual([
      "systemctl daemon-reload",
      "systemctl enable --now consul",
      "systemctl enable --now consul-acl-sync.timer",
      "systemctl enable --now consul-task-reaper.timer",
      "systemctl enable --now consul-snapshot.timer",
      "consul operator autopilot state -format=json",
      // Dataplane tasks start once the group is in service: their login target exists by then. The
      // server makes it too, once: during a roll the leader may be an old server.
      `systemd-run --wait --collect --quiet --property=EnvironmentFile=${SERVER_PATHS.aclSyncEnvFile} --setenv=ACL_SYNC_ANY_SERVER=1 ${SERVER_PATHS.aclSyncBinary}`,
      "consul acl auth-method read -name iam-ecs-service-token",
      "consul acl binding-rule list -method iam-ecs-service-token -format=json",
      "consul catalog nodes -node-meta synthetic-node=true",
      hook,
    ]);
    expect(boot.calls.find((c) => c.args[0] === "operator")!.env).toEqual({
      CONSUL_HTTP_ADDR: "https://127.0.0.1:8501",
      CONSUL_CACERT: SERVER_PATHS.caFile,
      CONSUL_HTTP_TOKEN_FILE: SERVER_PATHS.managementTokenFile,
      CONSUL_HTTP_TOKEN: undefined,
    });
    expect(root.read(SERVER_PATHS.snapshotEnvFile)).toBe(
      `AWS_REGION=us-east-1\nSNAPSHOT_BUCKET=${SNAPSHOT_BUCKET}\nSNAPSHOT_PREFIX=snapshots/prod\nSNAPSHOT_KMS_KEY=${SNAPSHOT_KEY}\n`,
    );
    expectNoSecretInArguments(boot.calls);
  });

  it("a cluster that never becomes healthy: abandons the lifecycle action (the group replaces it) and fails clearly", () => {
    const fresh = newRoot();
    const stubs = serverStubs();
    const consul: Stub = { ...stubs.consul, rules: [{ when: "operator autopilot state *", answers: [ok('{"Healthy": false}\n')] }, ...stubs.consul!.rules!] };
    const result = runUserData(fresh, script, { ...stubs, consul }, serverAmi("nvme"));
    expect(result.exitCode).toBe(1);
    expect(result.calls.filter((c) => c.args[0] === "operator")).toHaveLength(20);
    expect(lines(result.calls).at(-1)).toBe(
      `aws autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON --instance-id ${INSTANCE_ID} --lifecycle-hook-name ${SERVER_LAUNCH_HOOK} --auto-scaling-group-name ${ASG_NAME}`,
    );
    expect(result.stderr).toContain("consul-server-bootstrap: FAILED: waiting for the cluster to be healthy with this server: still failing after 20 attempts\n");
    expect(result.console.endsWith("consul-server-bootstrap: FAILED: the cluster did not become ready with this server; the Auto Scaling group replaces it\n")).toBe(true);
  });

  it("removes a member of a former name holding its node ID (the instance it replaced), once joined; nothing else", () => {
    const fresh = newRoot();
    const stubs = serverStubs();
    const members = [
      "Node  Address  Status  Tags",
      `${SERVER_1}  10.20.0.11:8301  alive  id=${NODE_ID},role=consul`,
      `ip-10-20-0-10.ec2.internal  10.20.0.10:8301  failed  build=2.0.1,id=${NODE_ID},role=consul`,
      // Another failed server, another ID: Consul's autopilot handles it.
      "consul-server-2  10.20.16.10:8301  failed  id=11111111-2222-3333-4444-555555555555,role=consul",
      // A name no CLI argument may take.
      `-prune  10.20.0.12:8301  failed  id=${NODE_ID}`,
    ].join("\n");
    const consul: Stub = {
      ...stubs.consul,
      rules: [{ when: exactArgs("members", "-detailed"), answers: [ok(`${members}\n`)] }, { when: "force-leave *", answers: [ok()] }, ...stubs.consul!.rules!],
    };
    const result = runUserData(fresh, script, { ...stubs, consul }, { ...serverAmi("nvme"), [`${SERVER_PATHS.dataDir}/node-id`]: NODE_ID });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lines(result.calls).filter((l) => l.startsWith("consul force-leave"))).toEqual(["consul force-leave -prune ip-10-20-0-10.ec2.internal"]);
    expect(result.stderr).toContain("removed member ip-10-20-0-10.ec2.internal (10.20.0.10:8301): this server's node ID under a former name");
  });

  it("takes an empty answer from the binding rule list for no rule: waits, then abandons", () => {
    const stubs = serverStubs();
    const consul: Stub = { ...stubs.consul, rules: [{ when: "acl binding-rule list *", answers: [ok("")] }, ...stubs.consul!.rules!] };
    const result = runUserData(newRoot(), script, { ...stubs, consul }, serverAmi("nvme"));
    expect(result.exitCode).toBe(1);
    expect(lines(result.calls).at(-1)).toMatch(/^aws autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON /);
  });

  it("takes the tag-based rule an old leader keeps during a roll as this mesh's", () => {
    const stubs = serverStubs();
    const consul: Stub = {
      ...stubs.consul,
      rules: [{ when: "acl binding-rule list *", answers: [ok(`${JSON.stringify([LEGACY_BINDING_RULE])}\n`)] }, ...stubs.consul!.rules!],
    };
    const result = runUserData(newRoot(), script, { ...stubs, consul }, serverAmi("nvme"));
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lines(result.calls).at(-1)).toMatch(/^aws autoscaling complete-lifecycle-action --lifecycle-action-result CONTINUE /);
  });

  it.each([
    ["a rule for any role", { ...OUR_BINDING_RULE, Selector: "" }],
    ["a selector on something else", { ...OUR_BINDING_RULE, Selector: 'entity_name == "web"' }],
    ["another bind name from the tag", { ...LEGACY_BINDING_RULE, BindName: "${entity_tags.team}" }],
    ["a role ID with more after it", { ...OUR_BINDING_RULE, Selector: 'entity_id == "AROAWEB0000000000000A" or entity_id != ""' }],
    ["a bare role ID", { ...OUR_BINDING_RULE, Selector: "AROAWEB0000000000000A" }],
  ])("waits for a binding rule this mesh makes, not %s", (_name, foreign) => {
    const fresh = newRoot();
    const stubs = serverStubs();
    const consul: Stub = {
      ...stubs.consul,
      rules: [{ when: "acl binding-rule list *", answers: [ok(`${JSON.stringify([foreign])}\n`)] }, ...stubs.consul!.rules!],
    };
    const result = runUserData(fresh, script, { ...stubs, consul }, serverAmi("nvme"));
    expect(result.exitCode).toBe(1);
    expect(result.calls.filter((c) => c.args.join(" ").startsWith("acl binding-rule list"))).toHaveLength(10);
    expect(lines(result.calls).at(-1)).toMatch(/^aws autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON /);
    expect(result.stderr).toContain("FAILED: waiting for the dataplane tasks' IAM login (auth method, binding rule, synthetic node): still failing after 10 attempts\n");
  });

  it("a dataplane login the leader never creates: waits for it, bounded, then abandons (no task may start and sign a login that cannot succeed)", () => {
    const fresh = newRoot();
    const stubs = serverStubs();
    const missing = failing("Error reading auth method: Unexpected response code: 404\n");
    const consul: Stub = { ...stubs.consul, rules: [{ when: "acl auth-method read *", answers: [missing] }, ...stubs.consul!.rules!] };
    const result = runUserData(fresh, script, { ...stubs, consul }, serverAmi("nvme"));
    expect(result.exitCode).toBe(1);
    expect(result.calls.filter((c) => c.args.join(" ").startsWith("acl auth-method read"))).toHaveLength(10);
    // It never asked for the rest of the login target, and abandoned the launch.
    expect(result.calls.filter((c) => c.args[0] === "catalog")).toEqual([]);
    expect(lines(result.calls).at(-1)).toMatch(/^aws autoscaling complete-lifecycle-action --lifecycle-action-result ABANDON /);
    expect(result.stderr).toContain("FAILED: waiting for the dataplane tasks' IAM login (auth method, binding rule, synthetic node): still failing after 10 attempts\n");
  });

  describe("the commands of the units it installed", () => {
    /** ExecStart as argv, the EnvironmentFile's variables, and the unit's other keys. */
    function unit(path: string): { argv: string[]; env: Record<string, string>; keys: Record<string, string> } {
      const keys = Object.fromEntries(
        root
          .read(path)
          .split("\n")
          .filter((l) => /^[A-Za-z]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      const env = keys.EnvironmentFile
        ? Object.fromEntries(
            root
              .read(keys.EnvironmentFile)
              .split("\n")
              .filter(Boolean)
              .map((l) => {
                expect(l, "EnvironmentFile lines need no quoting").toMatch(/^[A-Z_]+=[^"'\\ ]*$/);
                return [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)];
              }),
          )
        : {};
      expect(keys.ExecStart, `${path} has ExecStart`).toBeDefined();
      return { argv: keys.ExecStart!.split(" "), env, keys };
    }

    it("consul.service starts the installed binary on the config folder, as the user the script created", () => {
      const { argv, keys } = unit("/etc/systemd/system/consul.service");
      expect(argv).toEqual([SERVER_PATHS.binary, "agent", `-config-dir=${SERVER_PATHS.configDir}`]);
      expect(root.read(keys.ConditionFileNotEmpty!).length).toBeGreaterThan(0);
      expect(keys.User).toBe("consul");
      expect(lines(boot.calls)).toContain(`useradd --system --home-dir ${SERVER_PATHS.configDir} --shell /sbin/nologin consul`);
      const result = root.run({ argv, stubs: { consul: { otherwise: ok() } } });
      expect(result.exitCode).toBe(0);
      expect(result.calls.map((c) => [c.invokedAs, ...c.args])).toEqual([[SERVER_PATHS.binary, "agent", "-config-dir=/etc/consul.d"]]);
    });

    const token = (accessor: string, secret: string) => JSON.stringify({ AccessorID: accessor, SecretID: secret });
    const WEB = { accessor: "0e0e0e0e-0000-4000-8000-000000000001", secret: "5e5e5e5e-0000-4000-8000-00000000000a" };
    const API_SVC = { accessor: "0e0e0e0e-0000-4000-8000-000000000002", secret: "5e5e5e5e-0000-4000-8000-00000000000b" };
    const OLD = "0e0e0e0e-0000-4000-8000-0000000000ff";
    /** A service token secret as Terraform names it: the prefix, the service, 26 hex digits, Secrets Manager's 6 characters. */
    const tokenSecret = (service: string) => secretArn(`prod-mesh/consul/service-token/${service}-20261207061234567800000001-AbCdEf`);
    const PARAMETERS = {
      Parameters: [
        { Name: "/prod-mesh/consul/service-tokens/web", Value: tokenSecret("web") },
        { Name: "/prod-mesh/consul/service-tokens/api", Value: tokenSecret("api") },
      ],
    };
    const curlRule = (method: string, path: string, answers: Answer[], data = false) => ({
      when: `* -X ${method} ${data ? "--data @- " : ""}${exactArgs(`${API}${path}`)}`,
      answers,
    });

    describe("consul-acl-sync.service", () => {
      const notFound = failing("curl: (22) The requested URL returned error: 403\n", 22);
      const region = ["--region", "us-east-1"];
      const SELF = "10.20.0.10";
      const AUTH_METHOD_URL = "/acl/auth-method/iam-ecs-service-token";
      const RULE = { ours: "0d3f4e5a-1111-2222-3333-444455556666", foreign: "9a9a9a9a-1111-2222-3333-444455556666", legacy: "7b7b7b7b-1111-2222-3333-444455556666" };
      /** The unique IDs of the task roles Terraform made for web and api. */
      const ROLE_ID = { web: "AROAWEB0000000000000A", api: "AROAAPI0000000000000B" };
      const ROLE_PARAMETERS = {
        Parameters: [
          { Name: "/prod-mesh/consul/login-roles/web", Value: ROLE_ID.web },
          { Name: "/prod-mesh/consul/login-roles/api", Value: ROLE_ID.api },
        ],
      };
      const wantedMethod = {
        Name: "iam-ecs-service-token",
        Type: "aws-iam",
        Description: "ECS tasks of the mesh log in with their task role",
        Config: {
          BoundIAMPrincipalARNs: ["arn:aws:iam::111122223333:role/consul-ecs/prod-mesh/*"],
          EnableIAMEntityDetails: true,
          IAMEntityTags: ["consul.hashicorp.com.service-name"],
          // A login signed for these servers cannot be replayed against another Consul.
          ServerIDHeaderValue: "server.prod.consul",
        },
      };
      const ruleFor = (service: "web" | "api") => ({
        AuthMethod: "iam-ecs-service-token",
        Description: `Tasks of ${service} log in with its task role`,
        BindType: "service",
        BindName: service,
        Selector: `entity_id == "${ROLE_ID[service]}"`,
      });
      type Consul = {
        leader: string;
        method?: object;
        rules: object[];
        node: boolean;
        /** An SSM answer: JSON, or a string as it comes. */
        parameters?: object | string;
        roleParameters?: object | string;
        secrets?: readonly { when: string; answers: Answer[] }[];
        /** As a new server's bootstrap runs it. */
        anyServer?: boolean;
      };
      const asAnswer = (value: object | string) => (typeof value === "string" ? value : JSON.stringify(value));
      const run = (consul: Consul) => {
        const { argv, env } = unit("/etc/systemd/system/consul-acl-sync.service");
        expect(argv).toEqual([SERVER_PATHS.aclSyncBinary]);
        return root.run({
          argv,
          env: { PATH: STUB_PATH, ...env, ...(consul.anyServer ? { ACL_SYNC_ANY_SERVER: "1" } : {}) },
          stubs: {
            aws: {
              rules: [
                secretRule(secretArn("agent"), AGENT_TOKEN_JSON, region),
                secretRule(tokenSecret("web"), token(WEB.accessor, WEB.secret), region),
                secretRule(tokenSecret("api"), token(API_SVC.accessor, API_SVC.secret), region),
                ...(consul.secrets ?? []),
                {
                  when: exactArgs("ssm", "get-parameters-by-path", ...region, "--path", "/prod-mesh/consul/service-tokens", "--output", "json"),
                  answers: [ok(`${asAnswer(consul.parameters ?? PARAMETERS)}\n`)],
                },
                {
                  when: exactArgs("ssm", "get-parameters-by-path", ...region, "--path", "/prod-mesh/consul/login-roles", "--output", "json"),
                  answers: [ok(`${asAnswer(consul.roleParameters ?? ROLE_PARAMETERS)}\n`)],
                },
              ],
            },
            curl: {
              readsStdin: "* --data @- *",
              rules: [
                curlRule("GET", "/acl/policies", [ok("[]")]),
                curlRule("GET", "/status/leader", [ok(JSON.stringify(`${consul.leader}:8300`))]),
                curlRule("GET", "/agent/self", [ok(JSON.stringify({ Member: { Addr: SELF } }))]),
                curlRule("GET", AUTH_METHOD_URL, [consul.method ? ok(JSON.stringify(consul.method)) : notFound]),
                curlRule("PUT", "/acl/auth-method", [ok("{}")], true),
                curlRule("PUT", AUTH_METHOD_URL, [ok("{}")], true),
                curlRule("GET", "/acl/binding-rules?authmethod=iam-ecs-service-token", [ok(JSON.stringify(consul.rules))]),
                curlRule("DELETE", `/acl/binding-rule/${RULE.foreign}`, [ok("true")]),
                curlRule("DELETE", `/acl/binding-rule/${RULE.legacy}`, [ok("true")]),
                curlRule("PUT", "/acl/binding-rule", [ok("{}")], true),
                curlRule("GET", `/catalog/node/${encodeURIComponent(CLUSTER_ARN)}`, [ok(consul.node ? JSON.stringify({ Node: { Node: CLUSTER_ARN } }) : "null")]),
                curlRule("PUT", "/catalog/register", [ok("true")], true),
                curlRule("GET", "/acl/policy/name/mesh-agents", [notFound]),
                curlRule("PUT", "/acl/policy", [ok("{}")], true),
                curlRule("GET", `/acl/token/${SECRET.agentAccessor}`, [notFound]),
                curlRule("GET", `/acl/token/${WEB.accessor}`, [ok("{}")]),
                curlRule("GET", `/acl/token/${API_SVC.accessor}`, [notFound]),
                curlRule("PUT", "/acl/token", [ok("{}")], true),
                curlRule("GET", "/acl/tokens", [
                  ok(
                    JSON.stringify([
                      { AccessorID: WEB.accessor, Description: "managed-by:consul-ecs-mesh service:web" },
                      { AccessorID: OLD, Description: "managed-by:consul-ecs-mesh service:orders" },
                      { AccessorID: "00000000-0000-0000-0000-000000000002", Description: "Anonymous Token" },
                    ]),
                  ),
                ]),
                curlRule("DELETE", `/acl/token/${OLD}`, [ok("true")]),
              ],
            },
          },
        });
      };
      const bodies = (result: RunResult) => result.calls.filter((c) => c.program === "curl" && c.stdin !== undefined).map((c) => JSON.parse(c.stdin!));

      it("on the leader of a new cluster: creates the dataplane login with a rule per service role, replaces a foreign binding rule, then the policy and tokens; deletes removed services' tokens", () => {
        const result = run({ leader: SELF, rules: [{ ID: RULE.foreign, AuthMethod: "iam-ecs-service-token", BindType: "service", BindName: "admin" }], node: false });
        expect(result.stderr).toBe(`created ACL token ${SECRET.agentAccessor}\ncreated ACL token ${API_SVC.accessor}\n`);
        expect(result.exitCode).toBe(0);
        expect(apiCalls(result)).toEqual([
          "GET /acl/policies",
          "GET /status/leader",
          "GET /agent/self",
          `GET ${AUTH_METHOD_URL}`,
          "PUT /acl/auth-method",
          "GET /acl/binding-rules?authmethod=iam-ecs-service-token",
          "PUT /acl/binding-rule",
          "PUT /acl/binding-rule",
          `DELETE /acl/binding-rule/${RULE.foreign}`,
          `GET /catalog/node/${encodeURIComponent(CLUSTER_ARN)}`,
          "PUT /catalog/register",
          "GET /acl/policy/name/mesh-agents",
          "PUT /acl/policy",
          `GET /acl/token/${SECRET.agentAccessor}`,
          "PUT /acl/token",
          `GET /acl/token/${WEB.accessor}`,
          `GET /acl/token/${API_SVC.accessor}`,
          "PUT /acl/token",
          "GET /acl/tokens",
          `DELETE /acl/token/${OLD}`,
        ]);
        expect(bodies(result)).toEqual([
          wantedMethod,
          ruleFor("web"),
          ruleFor("api"),
          { Node: CLUSTER_ARN, Address: "127.0.0.1", NodeMeta: { "synthetic-node": "true" } },
          {
            Name: "mesh-agents",
            Description: expect.any(String),
            Rules: 'node_prefix "" { policy = "write" }\nservice_prefix "" { policy = "read" }\nagent_prefix "" { policy = "read" }',
          },
          { AccessorID: SECRET.agentAccessor, SecretID: SECRET.agentSecret, Description: "mesh agents", Policies: [{ Name: "mesh-agents" }] },
          { AccessorID: API_SVC.accessor, SecretID: API_SVC.secret, Description: "managed-by:consul-ecs-mesh service:api", ServiceIdentities: [{ ServiceName: "api" }] },
        ]);
        // Every request authenticates with the management token through a header file, verifies the server by the CA, and no secret is an argument.
        for (const call of result.calls.filter((c) => c.program === "curl")) {
          expect(call.args.slice(0, 7)).toEqual([
            "--fail",
            "--silent",
            "--show-error",
            "--cacert",
            SERVER_PATHS.caFile,
            "-H",
            expect.stringMatching(/^@\/tmp\/tmp\.[A-Za-z0-9]+$/),
          ]);
        }
        expectNoSecretInArguments(result.calls, [...SECRET_VALUES, WEB.secret, API_SVC.secret]);
        expect(result.stdout).toBe(
          [
            "created auth method iam-ecs-service-token",
            "created binding rule of iam-ecs-service-token for web",
            "created binding rule of iam-ecs-service-token for api",
            `deleted binding rule ${RULE.foreign} of iam-ecs-service-token`,
            `registered synthetic node ${CLUSTER_ARN}`,
            `deleted ACL token ${OLD} of a removed service`,
            "",
          ].join("\n"),
        );
        expect(
          root.paths().filter((p) => p.startsWith("/tmp/")),
          "the header file is removed",
        ).toEqual([]);
      });

      it("on the leader, with the login in place: writes nothing of it again; a changed auth method is updated", () => {
        const inPlace = {
          leader: SELF,
          method: { ...wantedMethod, ID: "x" },
          rules: [
            { ID: RULE.ours, ...ruleFor("web"), Description: "old words" },
            { ID: RULE.foreign, ...ruleFor("api") },
          ],
          node: true,
        };
        const again = apiCalls(run(inPlace));
        expect(again.filter((c) => /auth-method|binding-rule|catalog/.test(c))).toEqual([
          `GET ${AUTH_METHOD_URL}`,
          "GET /acl/binding-rules?authmethod=iam-ecs-service-token",
          `GET /catalog/node/${encodeURIComponent(CLUSTER_ARN)}`,
        ]);
        const widened = run({ ...inPlace, method: { ...wantedMethod, Config: { ...wantedMethod.Config, BoundIAMPrincipalARNs: ["arn:aws:iam::111122223333:role/*"] } } });
        expect(apiCalls(widened)).toContain(`PUT ${AUTH_METHOD_URL}`);
        expect(bodies(widened)[0]).toEqual(wantedMethod);
        expect(widened.stdout).toMatch(/^updated auth method iam-ecs-service-token\n/);
      });

      it("a parameter or secret this mesh did not write: skipped, never an argument or a URL, and that run deletes no token", () => {
        const HOSTILE = { endpoint: "--endpoint-url=https://attacker.example", query: "--query=Parameters" };
        const parameters = {
          Parameters: [
            { Name: "/prod-mesh/consul/service-tokens/web", Value: HOSTILE.endpoint },
            // Another service's secret: web-bff's token would become api's.
            { Name: "/prod-mesh/consul/service-tokens/api", Value: tokenSecret("web-bff") },
            { Name: '/prod-mesh/consul/service-tokens/x", ServiceIdentities: [], "y": "', Value: tokenSecret("x") },
            { Name: "/prod-mesh/consul/service-tokens/cache", Value: `${tokenSecret("cache")}\n${HOSTILE.query}` },
            { Name: "/prod-mesh/consul/service-tokens/orders", Value: "x".repeat(10 * 1024) },
            { Value: tokenSecret("db") },
            // The right shape, but its secret's JSON is not a token.
            { Name: "/prod-mesh/consul/service-tokens/search", Value: tokenSecret("search") },
          ],
        };
        const result = run({
          leader: SELF,
          method: { ...wantedMethod },
          rules: [
            { ID: RULE.ours, ...ruleFor("web") },
            { ID: RULE.foreign, ...ruleFor("api") },
          ],
          node: true,
          parameters,
          secrets: [secretRule(tokenSecret("search"), JSON.stringify({ AccessorID: "../../acl/bootstrap", SecretID: "x" }), region)],
        });
        expect(result.exitCode).toBe(1);
        expect(result.calls.filter((c) => c.program === "aws").map((c) => c.args.join(" "))).toEqual([
          "ssm get-parameters-by-path --region us-east-1 --path /prod-mesh/consul/login-roles --output json",
          `secretsmanager get-secret-value --region us-east-1 --secret-id ${secretArn("agent")} --query SecretString --output text`,
          "ssm get-parameters-by-path --region us-east-1 --path /prod-mesh/consul/service-tokens --output json",
          `secretsmanager get-secret-value --region us-east-1 --secret-id ${tokenSecret("search")} --query SecretString --output text`,
        ]);
        expect(apiCalls(result).filter((c) => c.includes("..") || c.startsWith("DELETE") || c === "GET /acl/tokens")).toEqual([]);
        expect(result.stderr).toContain(`skipped parameter "/prod-mesh/consul/service-tokens/web": not a service token parameter of this mesh\n`);
        expect(result.stderr.match(/^skipped parameter /gm)).toHaveLength(6);
        expect(result.stderr).toContain(`skipped secret ${tokenSecret("search")}: its AccessorID and SecretID are not UUIDs\n`);
        expect(result.stderr).toMatch(/deleted no token: a parameter or its secret was not one this mesh wrote\n$/);
      });

      it("gives a service's identity only to its own role: a rule per login role parameter, the tag-based rule of older servers replaced", () => {
        const legacy = { ID: RULE.legacy, AuthMethod: "iam-ecs-service-token", BindType: "service", BindName: "${entity_tags.consul.hashicorp.com.service-name}", Selector: "" };
        const result = run({ leader: SELF, method: { ...wantedMethod }, rules: [legacy, { ID: RULE.ours, ...ruleFor("web") }], node: true });
        expect(result.exitCode, result.stderr).toBe(0);
        // The missing rule first, then the old one goes: logins never meet a method without a rule.
        expect(apiCalls(result).filter((c) => c.includes("binding-rule"))).toEqual([
          "GET /acl/binding-rules?authmethod=iam-ecs-service-token",
          "PUT /acl/binding-rule",
          `DELETE /acl/binding-rule/${RULE.legacy}`,
        ]);
        expect(bodies(result).filter((b) => "BindType" in b)).toEqual([ruleFor("api")]);
      });

      it("a login role parameter this mesh did not write gives no identity, reaches no argument, and that run deletes no rule", () => {
        const roleParameters = {
          Parameters: [
            { Name: "/prod-mesh/consul/login-roles/web", Value: ROLE_ID.web },
            { Name: "/prod-mesh/consul/login-roles/admin", Value: "--endpoint-url=https://attacker.example" },
            { Name: "/prod-mesh/consul/login-roles/cache", Value: `${ROLE_ID.api}\n--query=Parameters` },
            { Name: "/prod-mesh/consul/login-roles/orders", Value: "A".repeat(10 * 1024) },
            // Another service's role: orders would get api's identity, or the other way round.
            { Name: "/prod-mesh/consul/login-roles/search", Value: ROLE_ID.web },
            { Name: "/other-mesh/consul/login-roles/api", Value: ROLE_ID.api },
            { Name: '/prod-mesh/consul/login-roles/x" or true or "', Value: ROLE_ID.api },
            { Name: "/prod-mesh/consul/login-roles/db", Value: "AIDAUSER000000000000" },
            { Value: ROLE_ID.api },
          ],
        };
        const result = run({
          leader: SELF,
          method: { ...wantedMethod },
          rules: [{ ID: RULE.foreign, AuthMethod: "iam-ecs-service-token", BindType: "service", BindName: "admin" }],
          node: true,
          roleParameters,
        });
        expect(result.exitCode).toBe(1);
        // Only web's rule is made; the foreign rule stays until a clean run.
        expect(bodies(result).filter((b) => "BindType" in b)).toEqual([ruleFor("web")]);
        expect(apiCalls(result).filter((c) => c.startsWith("DELETE /acl/binding-rule"))).toEqual([]);
        expect(result.stderr.match(/^skipped parameter .*: not a login role parameter of this mesh$/gm)).toHaveLength(8);
        expect(result.stderr).toMatch(/deleted no binding rule: a login role parameter was not one this mesh wrote\n$/);
        for (const call of result.calls) expect(call.args.join(" ")).not.toMatch(/attacker|--query=Parameters/);
      });

      it.each([
        ["login role", { roleParameters: "<html>Service Unavailable</html>" }],
        ["login role", { roleParameters: { Parameters: null } }],
        ["service token", { parameters: "" }],
        ["service token", { parameters: { NextToken: "x" } }],
      ] as const)("an SSM answer that is no %s parameter list stops the run before it changes anything", (kind, answer) => {
        const result = run({
          leader: SELF,
          method: { ...wantedMethod },
          rules: [{ ID: RULE.foreign, AuthMethod: "iam-ecs-service-token", BindType: "service", BindName: "admin" }],
          node: true,
          ...answer,
        });
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toContain("SSM answered something that is not a parameter list: changed nothing");
        // What it manages from that list: binding rules, or service tokens.
        const touched = kind === "login role" ? /^(PUT|DELETE) \/acl\/binding-rule/ : /^DELETE \/acl\/token\/|^GET \/acl\/tokens$/;
        expect(apiCalls(result).filter((c) => touched.test(c))).toEqual([]);
      });

      it("on a follower: stops after asking who leads, so servers never race to create the same token", () => {
        const follower = run({ leader: "10.20.16.10", rules: [], node: false });
        expect(follower.exitCode).toBe(0);
        expect(apiCalls(follower)).toEqual(["GET /acl/policies", "GET /status/leader", "GET /agent/self"]);
        expect(follower.calls.filter((c) => c.program === "aws")).toEqual([]);
        // A new server's bootstrap runs it once anyway: during a roll the leader may be an old server.
        const bootstrapping = run({ leader: "10.20.16.10", rules: [], node: false, anyServer: true });
        expect(bootstrapping.exitCode).toBe(0);
        expect(apiCalls(bootstrapping)).toEqual(expect.arrayContaining(["PUT /acl/auth-method", "PUT /acl/binding-rule", "PUT /catalog/register"]));
        expect(apiCalls(bootstrapping)).not.toContain("GET /status/leader");
      });
    });

    it("consul-acl-sync without its EnvironmentFile: stops before any call, naming the variable", () => {
      const result = root.run({ argv: [SERVER_PATHS.aclSyncBinary], stubs: {} });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/AWS_REGION: parameter null or not set/);
      expect(result.calls).toEqual([]);
    });

    it("consul-snapshot.service: the leader saves a snapshot and uploads it with the KMS key; a follower does nothing", () => {
      const { argv, env } = unit("/etc/systemd/system/consul-snapshot.service");
      expect(argv).toEqual([SERVER_PATHS.snapshotBinary]);
      const consulEnv = ["CONSUL_HTTP_ADDR", "CONSUL_CACERT", "CONSUL_HTTP_TOKEN_FILE"];
      const run = (state: string) =>
        root.run({
          argv,
          env: { PATH: STUB_PATH, ...env },
          stubs: {
            consul: {
              recordEnv: consulEnv,
              rules: [
                { when: "info", answers: [ok(`agent:\n\tserver = true\nraft:\n\tlast_log_index = 42\n\tstate = ${state}\n`)] },
                { when: "snapshot save /tmp/*", answers: [ok("Saved and verified snapshot to index 42\n")] },
              ],
            },
            aws: { rules: [{ when: "s3api put-object *", answers: [ok('{"ETag": "\\"abc\\""}\n')] }] },
          },
        });
      const leader = run("Leader");
      expect(leader.exitCode).toBe(0);
      const [info, save, upload] = leader.calls;
      expect(leader.calls).toHaveLength(3);
      expect(info!.args).toEqual(["info"]);
      expect(info!.env).toEqual({ CONSUL_HTTP_ADDR: "https://127.0.0.1:8501", CONSUL_CACERT: SERVER_PATHS.caFile, CONSUL_HTTP_TOKEN_FILE: SERVER_PATHS.managementTokenFile });
      expect(save!.args.slice(0, 2)).toEqual(["snapshot", "save"]);
      const file = save!.args[2]!;
      // One PutObject carrying both encryption headers (the bucket policy refuses a request without them).
      expect(upload!.args).toEqual([
        "s3api",
        "put-object",
        "--bucket",
        SNAPSHOT_BUCKET,
        "--key",
        expect.stringMatching(/^snapshots\/prod\/\d{4}\/\d{2}\/\d{2}\/\d{8}T\d{6}Z\.snap$/),
        "--body",
        file,
        "--server-side-encryption",
        "aws:kms",
        "--ssekms-key-id",
        SNAPSHOT_KEY,
      ]);
      expect(leader.stdout).toBe(`saved s3://${SNAPSHOT_BUCKET}/${upload!.args[5]}\n`);
      expect(root.exists(file), "the local snapshot is removed").toBe(false);

      const follower = run("Follower");
      expect(follower.exitCode).toBe(0);
      expect(follower.stdout).toBe("not the Raft leader: no snapshot from this server\n");
      expect(lines(follower.calls)).toEqual(["consul info"]);
    });

    describe("consul-task-reaper.service", () => {
      const cluster = CLUSTER_ARN;
      const task = {
        live: "1111aaaa1111aaaa1111aaaa1111aaaa",
        stopped: "2222bbbb2222bbbb2222bbbb2222bbbb",
        forgotten: "3333cccc3333cccc3333cccc3333cccc",
        /** A running task of another service (api). */
        api: "4444dddd4444dddd4444dddd4444dddd",
        /** A running task of web's version v2: its own ECS service, which carries web's name tag. */
        canary: "5555eeee5555eeee5555eeee5555eeee",
        /** A running task of an ECS service whose name starts like a version of web's, without the tag. */
        lookalike: "6666ffff6666ffff6666ffff6666ffff",
      };
      const LONG_AGO = "2026-01-01T00:00:00.123456789Z";
      /** A login token: the binding rule gave it web's identity unless `identity` says otherwise. */
      const login = (accessor: string, meta: unknown, created = LONG_AGO, identity = "web") => ({
        AccessorID: accessor,
        CreateTime: created,
        Description: `token created via login: ${typeof meta === "string" ? meta : JSON.stringify(meta)}`,
        ServiceIdentities: [{ ServiceName: identity }],
      });
      const ofTask = (taskId: string, ofCluster = cluster) => ({ "consul.hashicorp.com/cluster": ofCluster, "consul.hashicorp.com/task-id": taskId });
      const accessor = (n: number) => `a0000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
      // What a compromised app can put into its own login meta and service meta (it logs in with its task role).
      const HOSTILE = {
        query: "--query={tasks:tasks[].{lastStatus:'STOPPED',taskArn:taskArn},failures:failures}",
        endpoint: "--endpoint-url=https://attacker.example",
        newline: `${task.live}\n--query=tasks`,
        long: "x".repeat(10 * 1024),
      };
      // Built when the reaper runs: "young" must be younger than its grace period then, however long the suite has run.
      const tokensAt = (now: string) => [
        login(accessor(1), ofTask(task.live)),
        login(accessor(2), ofTask(task.stopped)),
        login(accessor(3), ofTask(task.stopped)),
        login(accessor(4), ofTask(task.forgotten)),
        // Name no task of this cluster: removed once older than the grace period.
        login(accessor(5), ofTask(HOSTILE.query)),
        login(accessor(6), ofTask(HOSTILE.endpoint)),
        login(accessor(7), ofTask(HOSTILE.newline)),
        login(accessor(8), ofTask(HOSTILE.long)),
        login(accessor(9), ofTask(task.live, "arn:aws:ecs:us-east-1:111122223333:cluster/other")),
        login(accessor(10), { "consul.hashicorp.com/cluster": cluster }),
        login(accessor(11), "not json"),
        // A login in progress (no meta yet would be odd, but young): left alone.
        login(accessor(12), ofTask(HOSTILE.query), now),
        // An accessor that is not a UUID never reaches a URL.
        login("../../agent/leave", ofTask(HOSTILE.query)),
        // web's identity naming api's running task, to live as long as api does: removed after the grace period.
        login(accessor(13), ofTask(task.api)),
        login(accessor(14), ofTask(task.api), now),
        // api's own token for its task: stays.
        login(accessor(15), ofTask(task.api), LONG_AGO, "api"),
        // web's token for its v2 task: stays; api's naming it, or web's naming the untagged lookalike, goes.
        login(accessor(16), ofTask(task.canary)),
        login(accessor(17), ofTask(task.canary), LONG_AGO, "api"),
        login(accessor(18), ofTask(task.lookalike)),
        { AccessorID: "a0000000-0000-4000-8000-0000000000ff", Description: "managed-by:consul-ecs-mesh service:web" },
      ];
      const service = (id: string, taskId?: string) => ({ ID: id, Service: "web", Meta: taskId === undefined ? {} : { "task-id": taskId } });
      const services = [
        service(`web-${task.live}`, task.live),
        service(`web-${task.live}-sidecar-proxy`, task.live),
        service(`web-${task.stopped}`, task.stopped),
        service(`web-${task.stopped}-sidecar-proxy`, task.stopped),
        service("registered-by-hand"),
        service("web-hostile\n--query", HOSTILE.query),
      ];
      const describeRequest = JSON.stringify({ cluster, tasks: [task.live, task.stopped, task.forgotten, task.api, task.canary, task.lookalike], include: ["TAGS"] });
      const nameTag = (service: string) => [
        { key: "aws:ecs:serviceName", value: "ignored" },
        { key: "consul.hashicorp.com.service-name", value: service },
      ];
      const describeAnswer = JSON.stringify({
        tasks: [
          { taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.live}`, lastStatus: "RUNNING", desiredStatus: "STOPPED", group: "service:prod-mesh-web" },
          { taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.stopped}`, lastStatus: "STOPPED", group: "service:prod-mesh-web" },
          { taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.api}`, lastStatus: "RUNNING", group: "service:prod-mesh-api" },
          { taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.canary}`, lastStatus: "RUNNING", group: "service:prod-mesh-web-v2", tags: nameTag("web") },
          { taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.lookalike}`, lastStatus: "RUNNING", group: "service:prod-mesh-web-v2" },
        ],
        failures: [{ arn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.forgotten}`, reason: "MISSING" }],
      });
      const gone = failing("curl: (22) The requested URL returned error: 403\n", 22);
      const run = (leader: string, described = describeAnswer) => {
        const { argv, env } = unit("/etc/systemd/system/consul-task-reaper.service");
        expect(argv).toEqual([SERVER_PATHS.taskReaperBinary]);
        return root.run({
          argv,
          env: { PATH: STUB_PATH, ...env },
          stubs: {
            curl: {
              readsStdin: "* --data @- *",
              rules: [
                curlRule("GET", "/status/leader", [ok(JSON.stringify(`${leader}:8300`))]),
                curlRule("GET", "/agent/self", [ok(JSON.stringify({ Member: { Addr: "10.20.0.10" } }))]),
                curlRule("GET", "/acl/tokens?authmethod=iam-ecs-service-token", [ok(JSON.stringify(tokensAt(new Date().toISOString())))]),
                curlRule("GET", `/catalog/node-services/${encodeURIComponent(cluster)}`, [ok(JSON.stringify({ Node: { Node: cluster }, Services: services }))]),
                curlRule("PUT", "/catalog/deregister", [ok("true")], true),
                // health-sync's logout got there first: the run goes on.
                curlRule("DELETE", `/acl/token/${accessor(3)}`, [gone]),
                { when: "* -X DELETE https://127.0.0.1:8501/v1/acl/token/*", answers: [ok("true")] },
              ],
            },
            aws: { rules: [{ when: "ecs describe-tasks *", answers: [ok(described)] }] },
          },
        });
      };
      const deregistered = (result: RunResult) => result.calls.filter((c) => c.stdin !== undefined).map((c) => JSON.parse(c.stdin!));
      const deleted = (result: RunResult) => apiCalls(result).filter((c) => c.startsWith("DELETE "));
      const seenGone = SERVER_PATHS.taskReaperSeenGone;
      let first: RunResult;
      let seenAfterFirst: string;
      let second: RunResult;
      beforeAll(() => {
        if (root.exists(seenGone)) root.writeFiles({ [seenGone]: "" });
        first = run("10.20.0.10");
        seenAfterFirst = root.read(seenGone);
        second = run("10.20.0.10");
      });

      it("asks ECS about the cluster's valid task IDs only, as JSON input: no hostile value reaches the AWS CLI's arguments", () => {
        for (const result of [first, second]) {
          expect(result.exitCode, result.stderr).toBe(0);
          expect(result.calls.filter((c) => c.program === "aws").map((c) => c.args)).toEqual([
            ["ecs", "describe-tasks", "--region", "us-east-1", "--cli-input-json", describeRequest, "--output", "json"],
          ]);
          for (const value of [...Object.values(HOSTILE), "attacker.example", "cluster/other"]) {
            expect(
              result.calls.some((c) => c.program === "aws" && c.args.join(" ").includes(value)),
              value,
            ).toBe(false);
          }
          // Nothing from Consul ends up in a URL but validated accessors.
          expect(apiCalls(result).filter((c) => c.includes("..") || c.includes("leave"))).toEqual([]);
        }
      });

      it("removes a task's services and tokens only once ECS reported it gone in two runs in a row; a running task's stay", () => {
        // First run: the stopped and forgotten tasks are seen once, nothing of theirs goes.
        expect(deregistered(first).map((b) => b.ServiceID)).toEqual(["registered-by-hand", "web-hostile\n--query"]);
        expect(deleted(first)).not.toContain(`DELETE /acl/token/${accessor(2)}`);
        expect(seenAfterFirst).toBe(`${task.stopped}\n${task.forgotten}\n`);
        // Second run: both confirmed.
        expect(deregistered(second).map((b) => b.ServiceID)).toEqual([`web-${task.stopped}`, `web-${task.stopped}-sidecar-proxy`, "registered-by-hand", "web-hostile\n--query"]);
        for (const body of deregistered(second)) expect(body).toEqual({ Node: cluster, ServiceID: expect.any(String) });
        expect(deleted(second)).toEqual(expect.arrayContaining([accessor(2), accessor(3), accessor(4)].map((a) => `DELETE /acl/token/${a}`)));
        // The live task keeps its services and its token, whatever its neighbours put in their meta.
        for (const result of [first, second]) {
          expect(
            deregistered(result)
              .map((b) => b.ServiceID)
              .filter((id) => id.includes(task.live)),
          ).toEqual([]);
          expect(deleted(result)).not.toContain(`DELETE /acl/token/${accessor(1)}`);
        }
      });

      it("removes, after the grace period, every login token that names no task of this cluster: hostile, foreign or missing meta; and one whose task runs another service", () => {
        const unmapped = [5, 6, 7, 8, 9, 10, 11, 13, 17, 18].map((n) => `DELETE /acl/token/${accessor(n)}`);
        expect(deleted(first)).toEqual(unmapped);
        expect(first.stdout).toContain(`deleted login token ${accessor(13)} (its task ${task.api} runs another service)`);
        // A version's task is its service's by the ECS service's name tag, not by its group; without the tag, the group decides.
        expect(deleted(second)).not.toContain(`DELETE /acl/token/${accessor(16)}`);
        expect(first.stdout).toContain(`deleted login token ${accessor(17)} (its task ${task.canary} runs another service)`);
        expect(first.stdout).toContain(`deleted login token ${accessor(18)} (its task ${task.lookalike} runs another service)`);
        // Young, or api's own: left alone.
        expect(deleted(first)).not.toContain(`DELETE /acl/token/${accessor(14)}`);
        expect(deleted(second)).not.toContain(`DELETE /acl/token/${accessor(15)}`);
        expect(deleted(first)).not.toContain(`DELETE /acl/token/${accessor(12)}`);
        expect(first.stdout).toContain(`deleted login token ${accessor(9)} (it names no task of this cluster)`);
        expect(first.stdout).toContain('deregistered "web-hostile\\n--query" (it names no task)');
        expect(first.stdout.split("\n").every((line) => !line.startsWith("--"))).toBe(true);
      });

      it("a hostile answer is data too: task IDs in ECS's reply are checked before they are acted on", () => {
        const forged = JSON.stringify({ tasks: [{ taskArn: `arn:aws:ecs:us-east-1:111122223333:task/prod-mesh/${task.live}\n--x`, lastStatus: "STOPPED" }], failures: [] });
        root.writeFiles({ [seenGone]: `${task.live}\n` });
        const result = run("10.20.0.10", forged);
        expect(result.exitCode).toBe(0);
        expect(
          deregistered(result)
            .map((b) => b.ServiceID)
            .filter((id) => id.includes(task.live)),
        ).toEqual([]);
        expect(root.read(seenGone)).toBe("\n");
      });

      it("keeps working with 1,500 login tokens (its lists go through files, not arguments), and asks ECS about every task once", () => {
        const { argv, env } = unit("/etc/systemd/system/consul-task-reaper.service");
        const taskIds = Array.from({ length: 1500 }, (_, i) => i.toString(16).padStart(32, "0"));
        const many = taskIds.map((taskId, i) => login(`b0000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`, ofTask(taskId)));
        const result = root.run({
          argv,
          env: { PATH: STUB_PATH, ...env },
          stubs: {
            curl: {
              rules: [
                curlRule("GET", "/status/leader", [ok(JSON.stringify("10.20.0.10:8300"))]),
                curlRule("GET", "/agent/self", [ok(JSON.stringify({ Member: { Addr: "10.20.0.10" } }))]),
                curlRule("GET", "/acl/tokens?authmethod=iam-ecs-service-token", [ok(JSON.stringify(many))]),
                curlRule("GET", `/catalog/node-services/${encodeURIComponent(cluster)}`, [ok(JSON.stringify({ Services: [] }))]),
              ],
            },
            aws: { rules: [{ when: "ecs describe-tasks *", answers: [ok(JSON.stringify({ tasks: [], failures: [] }))] }] },
          },
          timeoutMs: 60_000,
        });
        expect(result.exitCode, result.stderr.slice(-500)).toBe(0);
        const described = result.calls.filter((c) => c.program === "aws").map((c) => JSON.parse(c.args[c.args.indexOf("--cli-input-json") + 1]!) as { tasks: string[] });
        expect(described.map((request) => request.tasks.length)).toEqual(Array(15).fill(100));
        expect(described.flatMap((request) => request.tasks).sort()).toEqual([...taskIds].sort());
        expect(result.stderr).toBe("");
      });

      it("on a follower: only asks who leads", () => {
        const follower = run("10.20.16.10");
        expect(follower.exitCode).toBe(0);
        expect(follower.calls.map((c) => `${c.program} ${c.args.at(-1)}`)).toEqual([`curl ${API}/status/leader`, `curl ${API}/agent/self`]);
      });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The ECS hosts' user data
// ---------------------------------------------------------------------------------------------

const HOST_USER_DATA = renderText(DEFAULT_PLAN.hosts.userData, { [HOST_CLUSTER_SLOT]: "mesh" });
const ECS_CONFIG =
  'ECS_CLUSTER=mesh\nECS_INSTANCE_ATTRIBUTES={"purchase-option":"ondemand"}\nECS_AWSVPC_BLOCK_IMDS=true\nECS_ENABLE_TASK_IAM_ROLE=true\nECS_IMAGE_PULL_BEHAVIOR=once\n';
/** The ECS-optimized AMI has /etc/ecs. */
const ECS_AMI: Record<string, FileSpec> = { "/etc/ecs": { directory: true, mode: 0o755 } };

/** A second run on the same root (a re-run of the user data) leaves ecs.config as the first run wrote it. */
function expectSameEcsConfigAfterSecondRun(root: ScriptRoot, userData: string): void {
  const once = root.read("/etc/ecs/ecs.config");
  expect(runUserData(root, userData, {}).exitCode).toBe(0);
  expect(root.read("/etc/ecs/ecs.config")).toBe(once);
}

describe("ECS host user data", () => {
  it("writes ecs.config, calls nothing, and a second run leaves it identical", () => {
    const root = newRoot();
    const result = runUserData(root, HOST_USER_DATA, {}, ECS_AMI);
    expect(result.exitCode).toBe(0);
    expect(result.calls).toEqual([]);
    expect(result.created).toEqual(["/etc/ecs/ecs.config"]);
    expect(root.read("/etc/ecs/ecs.config")).toBe(ECS_CONFIG);
    expect(root.mode("/etc/ecs/ecs.config")).toBe(0o644);
    expectSameEcsConfigAfterSecondRun(root, HOST_USER_DATA);
  });
});

// ---------------------------------------------------------------------------------------------
// The mesh task's scripts
// ---------------------------------------------------------------------------------------------

const SERVICE: ServicePlan = DEFAULT_PLAN.services.find((s) => s.name === "http-server")!;
const TASK = renderServiceTask(SERVICE);
const containerOf = (name: string) => TASK.find((c) => c.name === name)!;
const TASK_SECRETS: Record<string, string> = {
  CONSUL_AGENT_TOKEN: SECRET.agentSecret,
  CONSUL_CA_PEM: SECRET.caCert,
  CONSUL_GOSSIP_KEY: SECRET.gossipKey,
  CONSUL_SERVICE_TOKEN: "7e7e7e7e-0000-4000-8000-000000000007",
  CONSUL_HTTP_TOKEN: "7e7e7e7e-0000-4000-8000-000000000007",
};

/** The environment ECS gives a container: its environment list and its secrets' values (by the test), and the image's PATH. */
function containerEnv(container: Record<string, any>, omit: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = { PATH: STUB_PATH };
  for (const { name, value } of container.environment ?? []) env[name] = value;
  for (const { name } of container.secrets ?? []) {
    const value = TASK_SECRETS[name];
    if (value === undefined) throw new Error(`no test value for the secret ${name}`);
    env[name] = value;
  }
  for (const name of omit) delete env[name];
  return env;
}

/** ECS runs entryPoint + command (exec form). */
const argvOf = (container: Record<string, any>): string[] => [...(container.entryPoint ?? []), ...(container.command ?? [])];

describe("consul-agent entry script", () => {
  it("writes the CA and the secrets file for the consul user only, drops the secrets from the environment, then execs the image's entrypoint", () => {
    const agent = containerOf(CONTAINER_NAMES.consulAgent);
    const root = newRoot();
    const secretEnv = ["CONSUL_CA_PEM", "CONSUL_GOSSIP_KEY", "CONSUL_AGENT_TOKEN", "CONSUL_SERVICE_TOKEN"];
    const result = root.run({
      argv: argvOf(agent),
      env: containerEnv(agent),
      // The image's volumes.
      files: { [TASK_PATHS.consulConfigDir]: { directory: true, mode: 0o755 }, [TASK_PATHS.consulDataDir]: { directory: true, mode: 0o755 } },
      stubs: { chown: { otherwise: ok() }, "docker-entrypoint.sh": { otherwise: ok(), recordEnv: secretEnv } },
    });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.created).toEqual([TASK_PATHS.caFile, TASK_PATHS.secretsFile]);
    expect(root.read(TASK_PATHS.caFile)).toBe(`${SECRET.caCert}\n`);
    expect(root.read(TASK_PATHS.secretsFile)).toBe(
      `encrypt = "${SECRET.gossipKey}"\nacl {\n  tokens {\n    agent                            = "${SECRET.agentSecret}"\n    config_file_service_registration = "${TASK_SECRETS.CONSUL_SERVICE_TOKEN}"\n  }\n}\n`,
    );
    expect([root.mode(TASK_PATHS.caFile), root.mode(TASK_PATHS.secretsFile)]).toEqual([0o600, 0o600]);
    expect(lines(result.calls, ["docker-entrypoint.sh"])).toEqual([`chown consul:consul ${TASK_PATHS.caFile} ${TASK_PATHS.secretsFile}`]);
    const entry = result.calls.at(-1)!;
    expect(entry.program).toBe("docker-entrypoint.sh");
    expect(entry.args).toEqual(agent.command);
    expect(entry.env).toEqual(Object.fromEntries(secretEnv.map((v) => [v, undefined])));
    expectNoSecretInArguments(result.calls, Object.values(TASK_SECRETS));
  });
});

/** The bootstrap file is complete, Envoy's only and owned by its user; no partial file is left. */
function expectBootstrapWritten(root: ScriptRoot, result: RunResult): void {
  expect(root.read(TASK_PATHS.envoyBootstrapFile)).toBe(ENVOY_JSON);
  expect(root.mode(TASK_PATHS.envoyBootstrapFile)).toBe(0o600);
  expect(root.exists(`${TASK_PATHS.envoyBootstrapFile}.tmp`)).toBe(false);
  expect(ownersOf(result.calls).get(`${TASK_PATHS.envoyBootstrapFile}.tmp`)).toBe(`${ENVOY_UID}:`);
}

const ENVOY_JSON = '{"admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 19000}}}, "node": {"cluster": "http-server"}}\n';

describe("envoy-bootstrap script", () => {
  const bootstrap = containerOf(CONTAINER_NAMES.envoyBootstrap);
  const consulEnv = ["CONSUL_HTTP_TOKEN", "CONSUL_HTTP_ADDR", "CONSUL_GRPC_ADDR"];
  const volume = { [TASK_PATHS.envoyBootstrapDir]: { directory: true as const, mode: 0o755 }, [TASK_PATHS.envoyAdminDir]: { directory: true as const, mode: 0o755 } };
  const connect = exactArgs("connect", "envoy", "-sidecar-for", SERVICE.name, "-admin-bind", `127.0.0.1:${ENVOY_PORTS.admin}`, "-bootstrap");

  function bootstrapStubs(tokenReads: Answer[]): Record<string, Stub> {
    return {
      consul: {
        recordEnv: consulEnv,
        rules: [
          { when: "acl token read -self", answers: tokenReads },
          { when: connect, answers: [ok(ENVOY_JSON)] },
        ],
      },
      sleep: { otherwise: ok() },
      chown: { otherwise: ok() },
    };
  }

  it("waits for its token to be known, then writes the bootstrap for Envoy only (write, chown, rename) and gives Envoy its admin socket directory", () => {
    const root = newRoot();
    const result = root.run({
      argv: argvOf(bootstrap),
      env: containerEnv(bootstrap),
      files: volume,
      stubs: bootstrapStubs([failing("ACL not found\n"), failing("ACL not found\n"), failing("ACL not found\n"), ok()]),
    });
    expect(result.exitCode).toBe(0);
    expect(lines(result.calls)).toEqual([
      "consul acl token read -self",
      "sleep 5",
      "consul acl token read -self",
      "sleep 5",
      "consul acl token read -self",
      "sleep 5",
      "consul acl token read -self",
      `consul ${connect}`,
      `chown ${ENVOY_UID} ${TASK_PATHS.envoyBootstrapFile}.tmp`,
      `chown ${ENVOY_UID} ${TASK_PATHS.envoyAdminDir}`,
    ]);
    // Only Envoy's user may enter the directory of the admin socket.
    expect(root.mode(TASK_PATHS.envoyAdminDir)).toBe(0o700);
    for (const call of result.calls.filter((c) => c.program === "consul")) {
      expect(call.env).toEqual({ CONSUL_HTTP_TOKEN: TASK_SECRETS.CONSUL_HTTP_TOKEN, CONSUL_HTTP_ADDR: "127.0.0.1:8500", CONSUL_GRPC_ADDR: "127.0.0.1:8502" });
    }
    expectBootstrapWritten(root, result);
    expectNoSecretInArguments(result.calls, [TASK_SECRETS.CONSUL_HTTP_TOKEN!]);
  });

  it("a token Consul never learns: waits the bounded time, then fails naming the service and what to check", () => {
    // The same template with 3 attempts instead of 120 (each attempt costs two processes); the
    // text differs from the shipped one in those numbers only.
    const plan = SERVICE.task.containers.find((c) => c.name === CONTAINER_NAMES.envoyBootstrap)!;
    const text = plan.command![0] as TemplateText;
    const short = renderText({ ...text, context: { ...text.context, attempts: 3, waitSeconds: 3 * CONTROL_PLANE_WAIT.intervalSeconds } });
    const shipped = bootstrap.command[0] as string;
    expect(
      short.replace("-ge 3 ]", `-ge ${CONTROL_PLANE_WAIT.attempts} ]`).replace("after 15 s", `after ${CONTROL_PLANE_WAIT.attempts * CONTROL_PLANE_WAIT.intervalSeconds} s`),
    ).toBe(shipped);

    const root = newRoot();
    const result = root.run({ argv: ["/bin/sh", "-ec", short], env: containerEnv(bootstrap), files: volume, stubs: bootstrapStubs([failing("ACL not found\n", 1)]) });
    expect(result.exitCode).toBe(1);
    expect(lines(result.calls)).toEqual(["consul acl token read -self", "sleep 5", "consul acl token read -self", "sleep 5", "consul acl token read -self"]);
    expect(result.stderr).toBe(
      `after 15 s, Consul still does not know the ACL token of ${SERVICE.name}: is the server up (its system log shows consul-server-bootstrap) and has its consul-acl-sync timer run?\n`,
    );
    expect(result.created).toEqual([]);
  });

  it.each(["SERVICE_NAME", "CONSUL_HTTP_TOKEN", "ENVOY_BOOTSTRAP", "ENVOY_UID", "ENVOY_ADMIN_BIND", "ENVOY_ADMIN_DIR"])("without %s: stops at once, naming it", (variable) => {
    const root = newRoot();
    const result = root.run({ argv: argvOf(bootstrap), env: containerEnv(bootstrap, [variable]), files: volume, stubs: bootstrapStubs([ok()]) });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(new RegExp(`${variable}: parameter not set or null\n$`));
    expect(result.calls).toEqual([]);
  });
});

/** HTTP/1.1 with a Host: Envoy's HTTP connection manager refuses HTTP/1.0 unless told to accept it. */
const READY_REQUEST = "GET /ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

describe("consul-ecs mesh-init entry script (dataplane tasks)", () => {
  const plan = loadSpecFile("examples/production.yaml").plan.services.find((s) => s.architecture === "dataplane")!;
  const meshInit = renderServiceTask(plan).find((c) => c.name === DATAPLANE_CONTAINERS.meshInit)!;
  const env = () => Object.fromEntries([["PATH", STUB_PATH], ...meshInit.environment.map((e: { name: string; value: string }) => [e.name, e.value])]);

  it("gives consul-dataplane's user the directory of its xDS socket, then runs mesh-init as the image's user", () => {
    expect(meshInit.user).toBe("0");
    const root = newRoot();
    const result = root.run({
      argv: argvOf(meshInit),
      env: env(),
      files: { [TASK_PATHS.dataplaneXdsDir]: { directory: true, mode: 0o755 } },
      stubs: { chown: { otherwise: ok() }, "su-exec": { otherwise: ok() } },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(lines(result.calls)).toEqual([`chown ${DATAPLANE_UID}:${DATAPLANE_UID} ${TASK_PATHS.dataplaneXdsDir}`, "su-exec consul-ecs /bin/consul-ecs mesh-init"]);
    expect(root.mode(TASK_PATHS.dataplaneXdsDir)).toBe(0o700);
  });

  it("without XDS_DIR: stops before changing anything, naming it", () => {
    const root = newRoot();
    const { XDS_DIR: _, ...rest } = env();
    const result = root.run({ argv: argvOf(meshInit), env: rest, stubs: { chown: { otherwise: ok() }, "su-exec": { otherwise: ok() } } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/XDS_DIR: parameter not set or null\n$/);
    expect(result.calls).toEqual([]);
  });
});

describe("Envoy readiness checks (mesh sidecar and TLS edge)", () => {
  const sidecarCheck: string[] = containerOf(CONTAINER_NAMES.envoySidecar).healthCheck.command;
  const cases: [string, number, string | undefined, number][] = [
    ["LIVE on the ready listener: healthy", ENVOY_PORTS.ready, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nLIVE\n", 0],
    ["still initializing: unhealthy", ENVOY_PORTS.ready, "HTTP/1.1 503 Service Unavailable\r\n\r\nPRE_INITIALIZING\n", 1],
    ["nothing listening: unhealthy", ENVOY_PORTS.ready, undefined, 1],
    ["only the old admin port answers: unhealthy", ENVOY_PORTS.admin, "HTTP/1.1 200 OK\r\n\r\nLIVE\n", 1],
  ];

  it.each(cases)("%s", (_name, port, response, exit) => {
    expect(sidecarCheck.slice(0, 3)).toEqual(["CMD", "bash", "-c"]);
    const root = newRoot();
    const result = root.run({ argv: sidecarCheck.slice(1), listeners: response === undefined ? [] : [{ port, response }] });
    expect(result.exitCode).toBe(exit);
    if (port !== ENVOY_PORTS.ready) expect(result.requests[port] ?? "").toBe("");
    else if (response !== undefined) expect(result.requests[port]).toBe(READY_REQUEST);
    else expect(result.stderr).toContain(`/dev/tcp/127.0.0.1/${port}: Connection refused`);
  });

  it("the TLS edge's Envoy check asks its own ready listener", () => {
    const edge = loadSpecFile("examples/tls-edge.yaml").plan.tlsEdge!;
    const envoy = edge.task.containers.find((c) => c.name === TLS_EDGE_CONTAINERS.envoy)!;
    const check = envoy.healthCheck!.command.map((part) => (typeof part === "string" ? part : renderText(part as TemplateText)));
    const root = newRoot();
    const result = root.run({ argv: check.slice(1), listeners: [{ port: TLS_EDGE_PORTS.ready, response: "HTTP/1.1 200 OK\r\n\r\nLIVE\n" }] });
    expect(result.exitCode).toBe(0);
    expect(result.requests[TLS_EDGE_PORTS.ready]).toBe(READY_REQUEST);
  });
});

// ---------------------------------------------------------------------------------------------
// The TLS edge's init container (real openssl) and Envoy start script
// ---------------------------------------------------------------------------------------------

describe("TLS edge tasks", () => {
  const edgePlan = loadSpecFile("examples/tls-edge.yaml").plan.tlsEdge!;
  const CA_ARN = secretArn("envoy-ssl-tutorial/tls-ca-AbCdEf");
  const containers = renderContainerDefinitions(edgePlan.task, {
    [TLS_EDGE_SLOTS.appImage]: "111122223333.dkr.ecr.us-east-1.amazonaws.com/envoy-ssl-tutorial:1",
    [TLS_EDGE_SLOTS.envoyImage]: "111122223333.dkr.ecr.us-east-1.amazonaws.com/envoy-ssl-tutorial-envoy:v1.37.11",
    [TLS_EDGE_SLOTS.caCertificate]: `${CA_ARN}:CertPEM::${edgePlan.ca.versionId}`,
    [TLS_EDGE_SLOTS.caPrivateKey]: `${CA_ARN}:KeyPEM::${edgePlan.ca.versionId}`,
    [TLS_EDGE_SLOTS.logGroup]: "/ecs/envoy-ssl-tutorial",
    // The example ships metrics: its collector's image and EMF log group.
    [TLS_EDGE_SLOTS.collectorImage]: "111122223333.dkr.ecr.us-east-1.amazonaws.com/envoy-ssl-tutorial/otel-collector:v0.49.0",
    [METRICS_LOG_GROUP_SLOT]: "/ecs/envoy-ssl-tutorial/proxy-metrics",
  }) as Record<string, any>[];
  const envoy = containers.find((c) => c.name === TLS_EDGE_CONTAINERS.envoy)!;
  const init = containers.find((c) => c.name === TLS_EDGE_CONTAINERS.certificateInit)!;
  const dir = TLS_EDGE_PATHS.configDir;

  /** Real openssl on the host, in a folder of this file's. */
  const work = fs.mkdtempSync(`${os.tmpdir()}/tls-edge-ca-`);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const openssl = (args: string[], input?: string) => {
    const result = spawnSync("openssl", args, { cwd: work, encoding: "utf8", ...(input === undefined ? {} : { input }) });
    if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  /** A CA as scripts/tls-edge-ca.sh makes one (P-256, CA:TRUE), valid for `days`. */
  function makeCa(name: string, days: number): { cert: string; key: string } {
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
    const cert = openssl([
      "req",
      "-x509",
      "-new",
      "-config",
      "/dev/null",
      "-key",
      `${name}.key`,
      "-subj",
      `/CN=${name}`,
      "-days",
      String(days),
      "-addext",
      "basicConstraints=critical,CA:TRUE,pathlen:0",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    return { cert, key: fs.readFileSync(`${work}/${name}.key`, "utf8") };
  }
  const ca = makeCa("edge-ca", 5 * 365);
  const stubs = { chown: { otherwise: ok() }, openssl: { real: { program: "/usr/bin/openssl" } } };
  const runInit = (root: ScriptRoot, env: Record<string, string>) =>
    root.run({ argv: argvOf(init), env: { PATH: STUB_PATH, ...env }, files: { [dir]: { directory: true, mode: 0o755 } }, stubs });

  it("the init container makes this task's own key and a certificate for the service's name that chains to the CA", () => {
    expect(init.entryPoint.slice(0, 2)).toEqual(["/bin/sh", "-ec"]);
    const root = newRoot();
    const result = runInit(root, { TLS_EDGE_CA_CERT: ca.cert, TLS_EDGE_CA_KEY: ca.key });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    // Key and certificate only: the CA and the request went with the work folder.
    expect(result.created).toEqual([`${dir}/cert.pem`, `${dir}/key.pem`]);
    for (const file of ["cert.pem", "key.pem"]) expect(root.mode(`${dir}/${file}`), file).toBe(0o600);
    expect(lines(result.calls, ["openssl"])).toEqual([`chown envoy:envoy ${dir} ${dir}/cert.pem ${dir}/key.pem`]);
    fs.writeFileSync(`${work}/ca.pem`, ca.cert);
    fs.writeFileSync(`${work}/task-cert.pem`, root.read(`${dir}/cert.pem`));
    expect(openssl(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "task-cert.pem"]).trim()).toBe("task-cert.pem: OK");
    expect(openssl(["x509", "-in", "task-cert.pem", "-noout", "-ext", "subjectAltName,basicConstraints,extendedKeyUsage"])).toMatch(
      new RegExp(`Subject Alternative Name: \\n\\s+DNS:${edgePlan.dnsName.replace(/\./g, "\\.")}\\n[\\s\\S]*CA:FALSE[\\s\\S]*TLS Web Server Authentication`),
    );
    // The key in the volume is the certificate's; the CA key went only through a pipe, never an argument.
    const publicKey = (args: string[], input: string) => openssl(args, input);
    expect(publicKey(["pkey", "-pubout"], root.read(`${dir}/key.pem`))).toBe(publicKey(["x509", "-noout", "-pubkey"], root.read(`${dir}/cert.pem`)));
    const argv = result.calls.map((call) => call.args.join(" ")).join("\n");
    expect(argv).not.toMatch(/PRIVATE KEY|BEGIN/);
    expect(result.calls.filter((call) => call.program === "openssl").map((call) => call.args[0])).toEqual(["x509", "genpkey", "req", "rand", "x509", "verify"]);
    // Another task (a fresh volume) makes another key.
    const other = newRoot();
    expect(runInit(other, { TLS_EDGE_CA_CERT: ca.cert, TLS_EDGE_CA_KEY: ca.key }).exitCode).toBe(0);
    expect(other.read(`${dir}/key.pem`)).not.toBe(root.read(`${dir}/key.pem`));
  });

  it.each(["TLS_EDGE_CA_CERT", "TLS_EDGE_CA_KEY"])("the init container without %s stops before making anything", (variable) => {
    const root = newRoot();
    const env: Record<string, string> = { TLS_EDGE_CA_CERT: ca.cert, TLS_EDGE_CA_KEY: ca.key };
    delete env[variable];
    const result = runInit(root, env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe("TLS_EDGE_CA_CERT and TLS_EDGE_CA_KEY must come from the task's secrets (the edge CA that scripts/tls-edge-ca.sh writes)\n");
    expect(result.created).toEqual([]);
  });

  it("the init container refuses a CA that expires before the task's certificate would, and a key that is not the CA's", () => {
    const short = makeCa("short-ca", 30);
    const expiring = newRoot();
    const result = runInit(expiring, { TLS_EDGE_CA_CERT: short.cert, TLS_EDGE_CA_KEY: short.key });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^the edge CA expires within 365 days, before this task's certificate would: rotate the CA \(raise tlsEdge\.caGeneration/);
    expect(expiring.exists(`${dir}/key.pem`)).toBe(false);
    const mismatched = newRoot();
    const wrongKey = runInit(mismatched, { TLS_EDGE_CA_CERT: ca.cert, TLS_EDGE_CA_KEY: short.key });
    expect(wrongKey.exitCode).not.toBe(0);
    expect(mismatched.exists(`${dir}/cert.pem`)).toBe(false);
  });

  it("Envoy writes its config for the envoy user beside the init container's key and certificate, then execs the image's entrypoint", () => {
    expect(envoy.entryPoint.slice(0, 2)).toEqual(["/bin/sh", "-ec"]);
    expect(envoy.secrets).toBeUndefined();
    const root = newRoot();
    const made = {
      [dir]: { directory: true, mode: 0o755 } as const,
      [`${dir}/cert.pem`]: { content: "cert\n", mode: 0o600 },
      [`${dir}/key.pem`]: { content: "key\n", mode: 0o600 },
    };
    const envoyStubs = { chown: { otherwise: ok() }, [TLS_EDGE_PATHS.imageEntrypoint]: { otherwise: ok() } };
    const result = root.run({ argv: argvOf(envoy), env: { PATH: STUB_PATH }, files: made, stubs: envoyStubs });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.created).toEqual([`${dir}/envoy.yaml`]);
    expect(root.read(`${dir}/envoy.yaml`)).toBe(renderText(tlsEdgeEnvoyConfigText(edgePlan.appPort, TLS_EDGE_PATHS.configDir, false, edgePlan.metrics?.intervalSeconds)));
    expect(root.read(`${dir}/envoy.yaml`)).toBe(heredocBody(envoy.entryPoint[2], "ENVOY_YAML"));
    expect(root.mode(`${dir}/envoy.yaml`)).toBe(0o600);
    expect(root.mode(dir)).toBe(0o700);
    expect(lines(result.calls)).toEqual([
      `chown envoy:envoy ${dir} ${dir}/envoy.yaml`,
      `${TLS_EDGE_PATHS.imageEntrypoint} envoy --config-path ${dir}/envoy.yaml --disable-hot-restart --log-level info`,
    ]);
    // Without them (the init container did not run): nothing written, nothing started.
    const bare = newRoot();
    const refused = bare.run({ argv: argvOf(envoy), env: { PATH: STUB_PATH }, files: { [dir]: { directory: true, mode: 0o755 } }, stubs: envoyStubs });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toBe(`no certificate and key in ${dir}: the init container makes them before Envoy starts\n`);
    expect(refused.calls).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The judge judged: mutated scripts fail the assertions above; the runner fails loudly
// ---------------------------------------------------------------------------------------------

describe("mutated scripts are caught", () => {
  it("a server script that ignores a checksum mismatch installs and starts Consul", () => {
    const shipped = shippedUserData(DEFAULT_PLAN);
    const mutated = shipped.replace("sha256sum --check --strict - ||", "sha256sum --check --strict - || true ||");
    expect(mutated).not.toBe(shipped);
    const root = newRoot();
    // useradd fails right after the install, so the run stops there: enough to see what was installed.
    const result = runUserData(root, mutated, serverStubs({ useradd: { otherwise: failing("useradd: cannot lock /etc/passwd\n", 1) } }), serverAmi("xvdf"));
    expect(result.created).toEqual(["/usr/local/bin/consul"]);
    expect(() => expectNothingInstalledOrStarted(result)).toThrow();
  });

  it("an ECS host script that appends to ecs.config is not idempotent", () => {
    const mutated = HOST_USER_DATA.replace("cat > /etc/ecs/ecs.config", "cat >> /etc/ecs/ecs.config");
    expect(mutated).not.toBe(HOST_USER_DATA);
    const root = newRoot();
    expect(runUserData(root, mutated, {}, ECS_AMI).exitCode).toBe(0);
    expect(() => expectSameEcsConfigAfterSecondRun(root, mutated)).toThrow();
  });

  it("an envoy-bootstrap script that writes the bootstrap in place leaves no owner change and a readable partial file", () => {
    const bootstrap = containerOf(CONTAINER_NAMES.envoyBootstrap);
    const script = bootstrap.command[0] as string;
    const mutated = script.replace('-bootstrap > "$ENVOY_BOOTSTRAP.tmp"', '-bootstrap > "$ENVOY_BOOTSTRAP"').replace(/chown .*\nmv .*\n/, "");
    expect(mutated).not.toBe(script);
    const root = newRoot();
    const result = root.run({
      argv: ["/bin/sh", "-ec", mutated],
      env: containerEnv(bootstrap),
      files: { [TASK_PATHS.envoyBootstrapDir]: { directory: true }, [TASK_PATHS.envoyAdminDir]: { directory: true } },
      stubs: { consul: { otherwise: ok(ENVOY_JSON) }, sleep: { otherwise: ok() }, chown: { otherwise: ok() } },
    });
    expect(result.exitCode).toBe(0);
    expect(() => expectBootstrapWritten(root, result)).toThrow();
  });
});

describe("the runner", () => {
  it("keeps every absolute path inside the root and the host's system folders read-only", () => {
    const root = newRoot();
    const probe = `/etc/run-script-probe-${process.pid}`;
    const result = root.run({ argv: ["/bin/sh", "-c", `echo inside > ${probe}; touch /usr/bin/run-script-probe; echo "uid $(id -u)"`] });
    expect(root.read(probe)).toBe("inside\n");
    expect(fs.existsSync(probe)).toBe(false);
    expect(result.stderr).toContain("Read-only file system");
    expect(result.stdout).toBe("uid 0\n");
  });

  it("fails a call no stub answers, naming it", () => {
    const root = newRoot();
    expect(() => root.run({ argv: ["/bin/sh", "-c", "aws s3 ls s3://bucket"], stubs: { aws: { rules: [{ when: "sts *", answers: [ok()] }] } } })).toThrow(
      /calls no stub rule answers[\s\S]*aws s3 ls s3:\/\/bucket/,
    );
  });

  it("fails loudly when namespaces cannot be created, and when a script outlives its time", () => {
    expect(() => ScriptRoot.create({ unshare: "/nonexistent/unshare" })).toThrow(/cannot create the namespaces/);
    const root = newRoot();
    expect(() => root.run({ argv: ["/usr/bin/sleep", "5"], timeoutMs: 300 })).toThrow(/did not finish within 300 ms/);
  });

  it("has shell files that pass bash -n and shellcheck", () => {
    for (const file of ["tools/judges/run-script-engine.sh", "tools/judges/run-script-init.sh"]) {
      expect(lintShell(fs.readFileSync(file, "utf8"), "bash"), file).toEqual({ ok: true, output: "" });
    }
  });

  it("refuses user data without a #! line (cloud-init would not run it)", () => {
    expect(() => userDataRun("set -e\necho hi\n")).toThrow(/no #! line/);
  });
});
