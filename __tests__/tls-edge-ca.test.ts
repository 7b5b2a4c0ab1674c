// scripts/tls-edge-ca.sh, the operator script that makes the TLS edge's CA outside Terraform, run
// with real openssl and jq against a fake Secrets Manager that keeps PutSecretValue's documented
// rules (a ClientRequestToken becomes the VersionId; the same token with the same data does
// nothing, with other data fails with ResourceExistsException; a version never changes): its
// first run, a re-run, two runs at once, a malformed stored value, and a rotation.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Testing } from "cdktf";
import { requireShellcheck } from "../tools/judges";
import { planOf } from "./support/synth";
import { TlsEdgeStack } from "../stacks/tls-edge-stack";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import type { MeshSpecInput } from "../lib/spec/schema";

const temporary: string[] = [];
afterAll(() => temporary.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};

const CA_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:envoy-ssl-tutorial/tls-ca-20261207000000000000000001-AbCdEf";
const TRUST_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:envoy-ssl-tutorial/tls-ca-certificate-20261207000000000000000002-GhIjKl";

interface Generation {
  /** The synthesized stack's JSON (cdktf.out/stacks/tls-edge/cdk.tf.json) with this caGeneration. */
  readonly synthesized: unknown;
  /** Its output ca_generation once deployed: the references are ARNs. */
  readonly deployed: Record<string, unknown>;
}

function generationOutput(caGeneration: number): Generation {
  const plan = planOf({ ...structuredClone(DEFAULT_SPEC), tlsEdge: { caGeneration } } as MeshSpecInput).tlsEdge!;
  const doc = JSON.parse(Testing.synth(new TlsEdgeStack(Testing.app(), "tls-edge", plan)));
  const value = doc.output.ca_generation.value;
  expect(value.caSecretArn).toBe("${aws_secretsmanager_secret.certificate_ca.arn}");
  expect(value.caCertificateSecretArn).toBe("${aws_secretsmanager_secret.certificate_ca_certificate.arn}");
  return { synthesized: doc, deployed: { ...value, caSecretArn: CA_SECRET, caCertificateSecretArn: TRUST_SECRET } };
}

/** A fake `aws` keeping PutSecretValue's rules (see the fixture's header). */
const FAKE_AWS = fs.readFileSync("__tests__/fixtures/fake-aws-secretsmanager.sh", "utf8");

interface Setup {
  readonly project: string;
  readonly store: string;
  readonly env: Record<string, string>;
}

/** A copy of the script in a project folder with the stack "deployed", a fake aws and terraform, and a fresh store. */
function setup(output: Generation, store = tempDir("fake-sm-")): Setup {
  const project = tempDir("project-");
  fs.mkdirSync(path.join(project, "scripts"));
  for (const file of ["tls-edge-ca.sh", "lib.sh"]) fs.copyFileSync(path.join("scripts", file), path.join(project, "scripts", file));
  fs.mkdirSync(path.join(project, "cdktf.out/stacks/tls-edge"), { recursive: true });
  fs.writeFileSync(path.join(project, "cdktf.out/stacks/tls-edge/cdk.tf.json"), JSON.stringify(output.synthesized));
  const bin = tempDir("fake-bin-");
  fs.writeFileSync(path.join(bin, "aws"), FAKE_AWS, { mode: 0o755 });
  const outputFile = path.join(bin, "ca_generation.json");
  fs.writeFileSync(outputFile, JSON.stringify(output.deployed));
  fs.writeFileSync(path.join(bin, "terraform"), `#!/bin/sh\n[ "$2 $3 $4" = "output -json ca_generation" ] && exec cat '${outputFile}'\nexit 1\n`, { mode: 0o755 });
  const tmp = tempDir("script-tmp-");
  return { project, store, env: { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, TMPDIR: tmp, FAKE_SM: store } };
}

function run(s: Setup, extra: Record<string, string> = {}) {
  const result = spawnSync("bash", [path.join(s.project, "scripts/tls-edge-ca.sh")], { encoding: "utf8", env: { ...s.env, ...extra } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runAsync(s: Setup, extra: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(s.project, "scripts/tls-edge-ca.sh")], { env: { ...s.env, ...extra } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every stored version, by secret: { [secret]: { [versionId]: value } }. */
function stored(s: Setup, secret: string): Record<string, string> {
  const hash = spawnSync("sh", ["-c", 'printf %s "$1" | sha1sum | cut -c1-12', "sh", secret], { encoding: "utf8" }).stdout.trim();
  const dir = path.join(s.store, hash);
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(fs.readdirSync(dir).map((version) => [version, fs.readFileSync(path.join(dir, version), "utf8")]));
}

const calls = (s: Setup) => fs.readFileSync(path.join(s.store, "calls"), "utf8").trim().split("\n");

function openssl(args: string[], input: string): string {
  const result = spawnSync("openssl", args, { input, encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

const GENERATION_1 = "consul-ecs-mesh-tls-edge-ca-generation-0001";

describe("scripts/tls-edge-ca.sh", () => {
  const first = setup(generationOutput(1));
  const firstRun = run(first);

  it("passes shellcheck -x", () => {
    requireShellcheck();
    const result = spawnSync("shellcheck", ["-x", "scripts/tls-edge-ca.sh"], { encoding: "utf8" });
    expect(result.status, result.stdout).toBe(0);
  });

  it("first run: makes a P-256 CA, writes it once under the plan's version ID, and the certificate alone for clients", () => {
    expect(firstRun.stderr).toBe(`created CA version ${GENERATION_1} in ${CA_SECRET}\nclients trust version ${GENERATION_1} of ${TRUST_SECRET}\n`);
    expect(firstRun.status).toBe(0);
    const ca = stored(first, CA_SECRET);
    expect(Object.keys(ca)).toEqual([GENERATION_1]);
    const { CertPEM, KeyPEM } = JSON.parse(ca[GENERATION_1]!);
    const text = openssl(["x509", "-noout", "-text"], CertPEM);
    expect(text).toMatch(/Subject: O ?= ?consul-ecs-mesh, CN ?= ?TLS edge CA envoy-ssl-tutorial\.dev/);
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(text).toMatch(/ASN1 OID: prime256v1/);
    expect(openssl(["pkey", "-pubout"], KeyPEM)).toBe(openssl(["x509", "-noout", "-pubkey"], CertPEM));
    // Clients get the certificate, never the key; stdout prints the same.
    expect(stored(first, TRUST_SECRET)).toEqual({ [GENERATION_1]: CertPEM });
    expect(firstRun.stdout).toBe(CertPEM);
    // The key went through a 0600 file in a folder removed on exit, never an argument.
    expect(calls(first).join("\n")).not.toMatch(/PRIVATE KEY|BEGIN/);
    expect(calls(first).filter((c) => c.includes("put-secret-value"))).toEqual([
      expect.stringMatching(/^secretsmanager put-secret-value --cli-input-json file:\/\/.*\/request\.json$/),
      expect.stringMatching(/^secretsmanager put-secret-value --cli-input-json file:\/\/.*\/request\.json$/),
    ]);
    expect(fs.readdirSync(first.env.TMPDIR!)).toEqual([]);
  });

  it("re-run: makes nothing, writes no new version, prints the same certificate", () => {
    const before = { ca: stored(first, CA_SECRET), trust: stored(first, TRUST_SECRET) };
    const again = run(first);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toBe(`CA version ${GENERATION_1} exists in ${CA_SECRET}: nothing to make\nclients trust version ${GENERATION_1} of ${TRUST_SECRET}\n`);
    expect({ ca: stored(first, CA_SECRET), trust: stored(first, TRUST_SECRET) }).toEqual(before);
    expect(again.stdout).toBe(firstRun.stdout);
    // Only the clients' copy is put again (same token, same data: Secrets Manager does nothing).
    expect(calls(first).filter((c) => c.includes("put-secret-value")).length).toBe(3);
  });

  it("two runs at once (both find no CA, both make one): one is stored, both end with it", async () => {
    const a = setup(generationOutput(1));
    const b = setup(generationOutput(1), a.store);
    const [one, two] = await Promise.all([runAsync(a, { FAKE_RACE: "2" }), runAsync(b, { FAKE_RACE: "2" })]);
    expect([one.status, two.status], `${one.stderr}\n${two.stderr}`).toEqual([0, 0]);
    const messages = [one.stderr, two.stderr].map((e) => e.split("\n")[0]).sort();
    expect(messages).toEqual([`CA version ${GENERATION_1} was written by another run first: using that one`, `created CA version ${GENERATION_1} in ${CA_SECRET}`]);
    // Both made a CA and tried to put it: the store kept the first, and both print its certificate.
    expect(calls(a).filter((c) => c.includes("put-secret-value")).length).toBe(4);
    const ca = stored(a, CA_SECRET);
    expect(Object.keys(ca)).toEqual([GENERATION_1]);
    expect(one.stdout).toBe(JSON.parse(ca[GENERATION_1]!).CertPEM);
    expect(two.stdout).toBe(one.stdout);
  });

  it.each([
    ["not JSON", "-----BEGIN PRIVATE KEY-----"],
    ["a certificate that is no CA", "leaf"],
    ["a key that is not the certificate's", "mismatch"],
  ])("a stored version that is %s stops with one line, writing nothing", (_name, kind) => {
    const s = setup(generationOutput(1));
    const other = setup(generationOutput(1));
    expect(run(other).status).toBe(0);
    const good = JSON.parse(stored(other, CA_SECRET)[GENERATION_1]!);
    const another = setup(generationOutput(1));
    expect(run(another).status).toBe(0);
    const leaf = spawnSync(
      "sh",
      [
        "-c",
        'openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1/k" 2>/dev/null && openssl req -x509 -new -config /dev/null -key "$1/k" -subj /CN=leaf -days 1',
        "sh",
        tempDir("leaf-"),
      ],
      { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } },
    );
    const value =
      kind === "leaf"
        ? JSON.stringify({ CertPEM: leaf.stdout, KeyPEM: good.KeyPEM })
        : kind === "mismatch"
          ? JSON.stringify({ CertPEM: good.CertPEM, KeyPEM: JSON.parse(stored(another, CA_SECRET)[GENERATION_1]!).KeyPEM })
          : kind;
    const hash = spawnSync("sh", ["-c", 'printf %s "$1" | sha1sum | cut -c1-12', "sh", CA_SECRET], { encoding: "utf8" }).stdout.trim();
    fs.mkdirSync(path.join(s.store, hash), { recursive: true });
    fs.writeFileSync(path.join(s.store, hash, GENERATION_1), value);
    const result = run(s);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `CA version ${GENERATION_1} exists in ${CA_SECRET}: nothing to make\nerror: version ${GENERATION_1} of ${CA_SECRET} is not a CA this script writes ({CertPEM, KeyPEM}: a CA certificate, valid now, and its key): a version cannot be changed, so raise tlsEdge.caGeneration and run again\n`,
    );
    expect(calls(s).filter((c) => c.includes("put-secret-value"))).toEqual([]);
    expect(result.stdout).toBe("");
  });

  it("rotation: the next generation (synthesized, not yet deployed) is a new CA in a new version; clients trust both until the previous is gone", () => {
    const s = setup(generationOutput(1));
    expect(run(s).status).toBe(0);
    // The raised caGeneration is synthesized; the deployed stack still pins generation 1.
    const rotated = setup({ synthesized: generationOutput(2).synthesized, deployed: generationOutput(1).deployed }, s.store);
    const result = run(rotated);
    expect(result.status, result.stderr).toBe(0);
    const ca = stored(s, CA_SECRET);
    expect(Object.keys(ca).sort()).toEqual([GENERATION_1, "consul-ecs-mesh-tls-edge-ca-generation-0002"]);
    const [old, next] = [GENERATION_1, "consul-ecs-mesh-tls-edge-ca-generation-0002"].map((v) => JSON.parse(ca[v]!).CertPEM as string);
    expect(next).not.toBe(old);
    expect(stored(s, TRUST_SECRET)["consul-ecs-mesh-tls-edge-ca-generation-0002"]).toBe(`${next}${old}`);
    expect(result.stdout).toBe(`${next}${old}`);
    // The first generation's versions are untouched.
    expect(stored(s, TRUST_SECRET)[GENERATION_1]).toBe(old);
  });

  it("stops before any AWS call when the stack's output is not what it expects", () => {
    const s = setup({ synthesized: { output: { ca_generation: { value: { versionId: "short", days: 1825 } } } }, deployed: {} });
    const result = run(s);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("error: output ca_generation of stack tls-edge is not what this script expects: synthesize and deploy the stack with this checkout\n");
    expect(calls(s)).toEqual(["sts get-caller-identity"]);
  });

  it.each([
    ["a common name that would add subject fields", { commonName: "TLS edge CA x/CN=evil" }],
    ["a previous version ID that is no version ID", { previousVersionId: "--version-stage" }],
  ])("stops before any AWS call on %s", (_, bad) => {
    const output = generationOutput(2);
    const synthesized = structuredClone(output.synthesized) as { output: { ca_generation: { value: Record<string, unknown> } } };
    Object.assign(synthesized.output.ca_generation.value, bad);
    const s = setup({ ...output, synthesized });
    const result = run(s);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("error: output ca_generation of stack tls-edge is not what this script expects: synthesize and deploy the stack with this checkout\n");
    expect(calls(s)).toEqual(["sts get-caller-identity"]);
  });
});
