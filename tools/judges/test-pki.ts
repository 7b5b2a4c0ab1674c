// Real keys and certificates made with the host's openssl, for the stubs that answer as Secrets
// Manager would once a server stored the RPC CA (tools/judges/iam-calls.ts and the script runner
// tests): the scripts check them with openssl, so a stand-in string would fail their checks.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Pem {
  readonly certPem: string;
  readonly keyPem: string;
}

function openssl(dir: string, args: readonly string[]): void {
  const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${result.stderr || result.error?.message}`);
}

/** Runs `make` in a fresh folder with a minimal openssl request config (req.cnf), then removes the folder. */
function inTempDir<T>(make: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "test-pki-"));
  try {
    fs.writeFileSync(path.join(dir, "req.cnf"), "[req]\ndistinguished_name = dn\n[dn]\n");
    return make(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A P-256 key and a self-signed certificate: a CA (basicConstraints CA:TRUE) unless `ca` is false. */
export function selfSigned(subject: string, options: { readonly ca?: boolean; readonly days?: number } = {}): Pem {
  return inTempDir((dir) => {
    openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"]);
    openssl(dir, [
      "req",
      "-config",
      "req.cnf",
      "-x509",
      "-new",
      "-key",
      "key.pem",
      "-subj",
      subject,
      "-days",
      String(options.days ?? 365),
      "-addext",
      `basicConstraints=critical,CA:${options.ca === false ? "FALSE" : "TRUE"}`,
      "-out",
      "cert.pem",
    ]);
    return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), keyPem: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
  });
}

/** A P-256 key and a certificate for it signed by `ca`, valid for `days`. */
export function signedBy(ca: Pem, subject: string, days: number): Pem {
  return inTempDir((dir) => {
    fs.writeFileSync(path.join(dir, "ca.pem"), ca.certPem);
    fs.writeFileSync(path.join(dir, "ca-key.pem"), ca.keyPem);
    openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "key.pem"]);
    openssl(dir, ["req", "-config", "req.cnf", "-new", "-key", "key.pem", "-subj", subject, "-out", "req.csr"]);
    openssl(dir, ["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-CAserial", "ca.srl", "-days", String(days), "-out", "cert.pem"]);
    return { certPem: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), keyPem: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
  });
}

/** The RPC CA secret's value as the servers store it: one JSON with both PEMs. */
export function rpcCaSecretValue(ca: Pem): string {
  return JSON.stringify({ CertPEM: ca.certPem, KeyPEM: ca.keyPem });
}
