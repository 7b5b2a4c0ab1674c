// Runs a rendered script, unchanged, under the real shell, in a temporary root: a private mount,
// network and PID namespace (unshare) whose root directory is a fresh folder, with the host's
// /usr, /bin and /lib bound in read-only and everything else (/etc, /opt, /usr/local, /dev,
// /consul, /tmp ...) a folder of that root. So every absolute path a script writes lands in the
// temporary root without parameterising the script, and nothing on the host can change.
//
// What cannot run here (aws, curl, systemctl, consul, dnf, useradd, mount, an image's entrypoint
// ...) is a stub, first on PATH or at the absolute path the script calls: it records its
// arguments (and, where asked, its stdin, chosen environment variables and the files under a
// directory argument) and answers as the test scripted it. A stub may instead record and then run
// the real program (sha256sum, unzip, install without its owner options).
//
// No mechanism is ever skipped: a missing unshare, a failed mount or an unanswered stub call
// throws with the reason. Used by __tests__/scripts-run.test.ts.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { crc32 } from "node:zlib";
import { shellWord } from "../../lib/render/quoting";

/** Where the stubs live inside the root (run-script-engine.sh says it too); scripts see it, but never write there. */
const STUB_HOME = "/.run-script";
/** PATH of every run unless the test sets one: the stubs first, then a server's usual PATH. */
export const STUB_PATH = `${STUB_HOME}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** One answer of a stub. */
export interface Answer {
  readonly stdout?: string;
  readonly stderr?: string;
  /** @default 0 */
  readonly exit?: number;
  /** Bytes the stub writes to the file named by the argument after a flag (curl --output FILE). */
  readonly writes?: { readonly content: string | Uint8Array; readonly after: string };
}

export interface StubRule {
  /** A bash glob over the arguments joined by spaces (escape literal *?[ with exactArgs()). */
  readonly when: string;
  /** One answer per matching call; the last one repeats ("fail twice, then succeed"). */
  readonly answers: readonly Answer[];
}

export interface Stub {
  /** Tried in order; the first whose glob matches answers. */
  readonly rules?: readonly StubRule[];
  /** The answer when no rule matches; without one, an unmatched call is an error of the test. */
  readonly otherwise?: Answer;
  /**
   * Read and record stdin: always, or when the arguments match this glob. Only when the real
   * program would read it: a stub that reads stdin inside a `while read` loop swallows the loop's input.
   */
  readonly readsStdin?: boolean | string;
  /** Environment variables recorded with each call (undefined when unset). */
  readonly recordEnv?: readonly string[];
  /** Records every path under each directory argument at the time of the call (what `chown -R` changes). */
  readonly listDirectories?: boolean;
  /**
   * Records the content, at the time of the call, of the file each argument starting with this
   * prefix names (`file://`: the AWS CLI's --cli-input-json file://F), which the script may remove right after.
   */
  readonly recordFilesAfterPrefix?: string;
  /** Records the call, then runs the real program (a path inside the read-only system folders) without these options and their values. */
  readonly real?: { readonly program: string; readonly dropOptions?: readonly string[] };
}

/** A file of the root before a run: text or bytes, a folder, or a symbolic link. */
export type FileSpec =
  | string
  | Uint8Array
  | { readonly content: string | Uint8Array; readonly mode?: number }
  | { readonly directory: true; readonly mode?: number }
  | { readonly symlink: string };

/** A TCP server on 127.0.0.1 inside the run's own network namespace: it reads one request (up to a blank line) and answers. */
export interface Listener {
  readonly port: number;
  readonly response: string;
}

export interface RunOptions {
  /** Exec form, as ECS or cloud-init starts it: ["/bin/sh", "-ec", script, ...] or the path of a script file. */
  readonly argv: readonly string[];
  /** The whole environment (nothing is inherited from the test); PATH defaults to STUB_PATH. */
  readonly env?: Readonly<Record<string, string>>;
  /** By command name (on PATH) or absolute path. Every run declares its own stubs; their call counts start at 0. */
  readonly stubs?: Readonly<Record<string, Stub>>;
  /** Files written into the root before this run (the AMI's or the image's state). */
  readonly files?: Readonly<Record<string, FileSpec>>;
  readonly listeners?: readonly Listener[];
  /** @default 30000 */
  readonly timeoutMs?: number;
}

export interface StubCall {
  /** The stub's name: a command name, or the absolute path it was declared at. */
  readonly program: string;
  /** The path the stub was run by ($0): /.run-script/bin/NAME for a PATH stub, or e.g. the installed /usr/local/bin/consul. */
  readonly invokedAs: string;
  readonly args: readonly string[];
  /** The recorded environment variables; undefined: unset. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Present when the stub read its stdin. */
  readonly stdin?: string;
  /** Every path under a directory argument, when the stub lists them. */
  readonly listing: readonly string[];
  /** The content of each file an argument named after the stub's recordFilesAfterPrefix, by path ("" for a missing file). */
  readonly files: Readonly<Record<string, string>>;
  readonly answered: boolean;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** What the script wrote to /dev/console (a FIFO drained into this string, as the EC2 system log shows it). */
  readonly console: string;
  readonly calls: readonly StubCall[];
  /** The requests each listener received, by port. */
  readonly requests: Readonly<Record<number, string>>;
  /** Processes the run created in its PID namespace, the runner's own (init, mounts, console reader) included: what a run costs. */
  readonly processes: number;
  /** Paths the run created (ScriptRoot.paths() after the run that were not there before it, the test's files and stubs written). */
  readonly created: readonly string[];
}

/** A glob that matches exactly these arguments. */
export function exactArgs(...args: readonly string[]): string {
  return args.join(" ").replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}

/** The program a stub file runs: written by the runner for every stub, and by tests into archives (a fake consul binary). */
export function stubProgram(name: string): string {
  return `#!/bin/bash\nstub_name=${shellWord(name)}\nstub_id=${stubId(name)}\nsource ${STUB_HOME}/engine "$@"\n`;
}

/** `program arg arg ...` of each call, for readable assertions on the order of commands. */
export function commandLines(calls: readonly StubCall[], options: { readonly except?: readonly string[] } = {}): string[] {
  return calls.filter((c) => !(options.except ?? []).includes(c.program)).map((c) => [c.program, ...c.args].join(" "));
}

/**
 * The owner each path was given by the recorded chown and install calls, in call order:
 * `chown [-R] OWNER PATH...` (with -R, every path the stub listed under the directory at that
 * moment), and `install` (-o/-g, or root:root: install replaces its targets). Paths absent from
 * the map were created by root and never handed over.
 */
export function ownersOf(calls: readonly StubCall[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const call of calls) {
    if (call.program === "chown") {
      const operands = call.args.filter((a) => !a.startsWith("-"));
      const [owner, ...paths] = operands;
      if (owner === undefined) continue;
      const full = owner.includes(":") ? owner : `${owner}:`;
      for (const p of [...paths, ...call.listing]) owners.set(p, full);
    } else if (call.program === "install") {
      let user = "root";
      let group = "root";
      let directories = false;
      const operands: string[] = [];
      for (let i = 0; i < call.args.length; i++) {
        const arg = call.args[i]!;
        if (arg === "-o") user = call.args[++i]!;
        else if (arg === "-g") group = call.args[++i]!;
        else if (arg === "-m") i++;
        else if (arg === "-d") directories = true;
        else if (arg.startsWith("-")) throw new Error(`ownersOf: install option ${arg} is not modelled`);
        else operands.push(arg);
      }
      for (const p of directories ? operands : operands.slice(-1)) owners.set(p, `${user}:${group}`);
    }
  }
  return owners;
}

// ---------------------------------------------------------------------------------------------
// A zip archive (stored, no compression): the fake release a stub "downloads".
// ---------------------------------------------------------------------------------------------

/** A zip of regular files with Unix modes (APPNOTE.TXT 4.3: local headers, central directory, end record). */
export function storedZip(entries: readonly { readonly name: string; readonly content: string | Uint8Array; readonly mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, "utf8");
    const data = Buffer.from(entry.content);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0 (so the mode below counts)
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38); // external attributes: regular file + mode
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export function sha256(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// The stub engine: bash, sourced by every stub file, so a call costs one bash start.
// ---------------------------------------------------------------------------------------------

function stubId(name: string): string {
  return name.startsWith("/") ? `abs${name.replace(/[^A-Za-z0-9._-]/g, "_")}` : name.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** The stub engine and the namespace's init, kept as shell files beside this one (shellcheck reads them there). */
const ENGINE = fs.readFileSync(path.join(__dirname, "run-script-engine.sh"), "utf8");
const INIT = path.join(__dirname, "run-script-init.sh");

/** The rules file of one stub: bash assignments the engine sources. */
function rulesFile(stub: Stub, blob: (content: string | Uint8Array) => string): string {
  const lines: string[] = [];
  const answer = (key: string, a: Answer): void => {
    if (a.stdout !== undefined) lines.push(`__out[${key}]=${shellWord(a.stdout)}`);
    if (a.stderr !== undefined) lines.push(`__err[${key}]=${shellWord(a.stderr)}`);
    if (a.exit !== undefined) {
      if (!Number.isInteger(a.exit) || a.exit < 0 || a.exit > 255) throw new Error(`stub answer: exit ${a.exit} is not 0-255`);
      lines.push(`__exit[${key}]=${a.exit}`);
    }
    if (a.writes) {
      lines.push(`__blob[${key}]=${blob(a.writes.content)}`);
      lines.push(`__blob_after[${key}]=${shellWord(a.writes.after)}`);
    }
  };
  const rules = stub.rules ?? [];
  lines.push(`__patterns=(${rules.map((r) => shellWord(r.when)).join(" ")})`);
  lines.push(`__nresp=(${rules.map((r) => r.answers.length).join(" ")})`);
  rules.forEach((rule, i) => {
    if (rule.answers.length === 0) throw new Error(`stub rule "${rule.when}": needs at least one answer`);
    rule.answers.forEach((a, k) => answer(`${i}.${k}`, a));
  });
  if (stub.otherwise) {
    lines.push("__default=1");
    answer("d", stub.otherwise);
  }
  if (stub.readsStdin) lines.push(`__stdin_when=${shellWord(stub.readsStdin === true ? "*" : stub.readsStdin)}`);
  if (stub.recordEnv?.length) lines.push(`__record_env=(${stub.recordEnv.map((v) => shellWord(v)).join(" ")})`);
  if (stub.listDirectories) lines.push("__list_dirs=1");
  if (stub.recordFilesAfterPrefix) lines.push(`__file_prefix=${shellWord(stub.recordFilesAfterPrefix)}`);
  if (stub.real) {
    if (stub.rules || stub.otherwise) throw new Error("stub: a real program and scripted answers exclude each other");
    lines.push(`__real=${shellWord(stub.real.program)}`);
    lines.push(`__drop=(${(stub.real.dropOptions ?? []).map((o) => shellWord(o)).join(" ")})`);
  }
  return `${lines.join("\n")}\n`;
}

function parseCalls(log: Buffer): StubCall[] {
  if (log.length === 0) return [];
  const fields = log.toString("utf8").split("\0");
  if (fields.pop() !== "") throw new Error("run-script: the stub call log ends mid-record");
  const calls: StubCall[] = [];
  let i = 0;
  const next = (): string => {
    if (i >= fields.length) throw new Error("run-script: truncated stub call record");
    return fields[i++]!;
  };
  const count = (): number => {
    const n = Number(next());
    if (!Number.isInteger(n) || n < 0) throw new Error("run-script: malformed stub call record");
    return n;
  };
  while (i < fields.length) {
    if (next() !== "CALL") throw new Error("run-script: malformed stub call record");
    const program = next();
    const invokedAs = next();
    const key = next();
    const args = Array.from({ length: count() }, next);
    const env = Object.fromEntries(
      Array.from({ length: count() }, next).map((entry) => {
        const eq = entry.indexOf("=");
        return eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
    const hasStdin = next() === "1";
    const stdin = next();
    const listing = Array.from({ length: count() }, next);
    const files = Object.fromEntries(Array.from({ length: count() }, () => [next(), next()] as const));
    calls.push({ program, invokedAs, args, env, ...(hasStdin ? { stdin } : {}), listing, files, answered: key !== "none" });
  }
  return calls;
}

// ---------------------------------------------------------------------------------------------
// The namespace
// ---------------------------------------------------------------------------------------------

// One connection at a time: read up to the blank line, record it, answer, close.
const LISTENER = String.raw`const net = require("net"), fs = require("fs");
const [port, responseFile, requestFile, readyFile] = process.argv.slice(1);
const response = fs.readFileSync(responseFile);
net.createServer((socket) => {
  let request = Buffer.alloc(0);
  socket.on("error", () => {});
  socket.on("data", (chunk) => {
    request = Buffer.concat([request, chunk]);
    if (request.includes("\r\n\r\n")) { fs.appendFileSync(requestFile, request); socket.end(response); }
  });
}).listen(Number(port), "127.0.0.1", () => fs.writeFileSync(readyFile, ""));`;

/** The unshare options that work here, by unshare program: decided once per process. */
const namespaceArgs = new Map<string, readonly string[]>();

/** A user namespace where allowed (the script's root is not the host's), plain namespaces as root otherwise. */
function namespaces(unshare: string): readonly string[] {
  const known = namespaceArgs.get(unshare);
  if (known) return known;
  const common = ["--mount", "--net", "--pid", "--fork", "--kill-child", "--propagation", "private"];
  const attempts: (readonly string[])[] = [["--user", "--map-root-user", ...common]];
  if (process.getuid?.() === 0) attempts.push(common);
  const failures: string[] = [];
  for (const args of attempts) {
    // --mount-proc: creating the namespaces is not enough, mounting in them must work too.
    const probe = spawnSync(unshare, [...args, "--mount-proc", "--", "/bin/true"], { encoding: "utf8", timeout: 10_000 });
    if (!probe.error && probe.status === 0) {
      namespaceArgs.set(unshare, args);
      return args;
    }
    failures.push(`${unshare} ${args.join(" ")}: ${probe.error?.message ?? (probe.stderr.trim() || `exit ${probe.status}`)}`);
  }
  throw new Error(
    "run-script: cannot create the namespaces a script runs in. Run as root, or allow unprivileged user namespaces " +
      "(Ubuntu 23.10+: sysctl kernel.apparmor_restrict_unprivileged_userns=0; Debian: kernel.unprivileged_userns_clone=1):\n  " +
      failures.join("\n  "),
  );
}

let toolsFound = false;

/** The host programs the runner itself needs, asked once per process. */
function requireTools(): void {
  if (toolsFound) return;
  const tools = ["bash", "chroot", "env", "mount", "ip", "mkfifo", "cat"];
  const found = spawnSync("bash", ["-c", 'for tool; do command -v "$tool" >/dev/null || echo "$tool"; done', "probe", ...tools], { encoding: "utf8" });
  const missing = found.stdout.split("\n").filter(Boolean);
  if (found.status !== 0 || missing.length > 0)
    throw new Error(`run-script: ${missing.join(", ") || "bash"} not installed on this machine; the runner needs it to build the script's root`);
  toolsFound = true;
}

/** Top-level folders a system keeps programs and libraries in: bound read-only, or copied when they are symbolic links (merged /usr). */
const SYSTEM_TOP_LEVEL = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] as const;
/** Devices bound from the host (each bind costs a process): the scripts open /dev/null only; /dev/console is the runner's FIFO, the rest of /dev the root's own. */
const DEVICES = ["null"] as const;

export interface ScriptRootOptions {
  /** The unshare program (a test of the runner passes a missing one). @default "unshare" */
  readonly unshare?: string;
}

/**
 * A temporary root that scripts run in, one or more times (a second run sees the first one's
 * files: a rebooted server). Inside it /usr is the host's, read-only, except /usr/local, which is
 * the root's own (scripts install there). dispose() removes it.
 */
export class ScriptRoot {
  /** The root folder on the host. */
  readonly dir: string;
  /** The root's /usr/local on the host (bound over the host's read-only /usr/local inside the namespace). */
  private readonly usrLocal: string;
  private readonly control: string;
  private readonly base: string;
  /** Paths of the runner's own making (mount points, /dev links, the stub folder), left out of paths(). */
  private readonly runnerPaths = new Set<string>();
  private readonly unshareArgs: readonly string[];
  /** Top-level folders bound read-only from the host. */
  private readonly readOnlyTop: string[] = [];
  private readonly topLinks = new Map<string, string>();
  private disposed = false;

  private constructor(options: ScriptRootOptions) {
    const unshare = options.unshare ?? "unshare";
    requireTools();
    if (!fs.statSync("/usr/local", { throwIfNoEntry: false })?.isDirectory()) {
      throw new Error("run-script: the host has no /usr/local folder to bind the root's own /usr/local over");
    }
    this.unshareArgs = [unshare, ...namespaces(unshare)];
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), "run-script-"));
    this.dir = path.join(this.base, "root");
    this.usrLocal = path.join(this.base, "usr-local");
    this.control = path.join(this.base, "control");
    fs.mkdirSync(this.control);
    fs.mkdirSync(this.dir, { mode: 0o755 });
    fs.chmodSync(this.dir, 0o755);

    // Bind mounts: [source on the host, target in the root, read-only].
    const mounts: [string, string, boolean][] = [];
    for (const top of SYSTEM_TOP_LEVEL) {
      const stat = fs.lstatSync(`/${top}`, { throwIfNoEntry: false });
      if (stat?.isSymbolicLink()) {
        this.topLinks.set(top, fs.readlinkSync(`/${top}`));
        fs.symlinkSync(fs.readlinkSync(`/${top}`), path.join(this.dir, top));
        this.runnerPaths.add(`/${top}`);
      } else if (stat?.isDirectory()) {
        this.readOnlyTop.push(top);
        this.makeRunnerPath(`/${top}`, "directory");
        mounts.push([`/${top}`, path.join(this.dir, top), true]);
      }
    }
    this.makeRunnerPath("/usr", "directory");
    mounts.push(["/usr", path.join(this.dir, "usr"), true]);
    for (const dir of ["bin", "sbin"]) fs.mkdirSync(path.join(this.usrLocal, dir), { recursive: true, mode: 0o755 });
    fs.chmodSync(this.usrLocal, 0o755);
    mounts.push([this.usrLocal, path.join(this.dir, "usr/local"), false]);
    for (const p of ["/usr/local", "/usr/local/bin", "/usr/local/sbin"]) this.runnerPaths.add(p);
    for (const dev of DEVICES) {
      this.makeRunnerPath(`/dev/${dev}`, "file");
      mounts.push([`/dev/${dev}`, path.join(this.dir, "dev", dev), false]);
    }
    fs.writeFileSync(path.join(this.control, "mounts"), mounts.map(([from, to, ro]) => `${from}\0${to}\0${ro ? "ro" : "rw"}\0`).join(""));
    this.runnerPaths.add("/dev/console");
    for (const [name, target] of [
      ["fd", "/proc/self/fd"],
      ["stdin", "/proc/self/fd/0"],
      ["stdout", "/proc/self/fd/1"],
      ["stderr", "/proc/self/fd/2"],
    ] as const) {
      fs.symlinkSync(target, path.join(this.dir, "dev", name));
      this.runnerPaths.add(`/dev/${name}`);
    }
    this.makeRunnerPath("/proc", "directory");
    // Libraries in multiarch folders are found through ld.so.cache: a copy, so nothing can write the host's.
    if (fs.existsSync("/etc/ld.so.cache")) {
      this.makeRunnerPath("/etc/ld.so.cache", "file");
      fs.copyFileSync("/etc/ld.so.cache", path.join(this.dir, "etc/ld.so.cache"));
    }
    // A server's usual folders, empty and writable.
    for (const dir of ["/tmp", "/root", "/etc", "/var/lib", "/run"]) this.makeRunnerPath(dir, "directory");
    fs.chmodSync(path.join(this.dir, "tmp"), 0o1777);
    this.makeRunnerPath(STUB_HOME, "directory");
    // The console FIFO (drained by the namespace's init) and the init's pause FIFO, made once per root.
    const fifo = spawnSync("mkfifo", ["-m", "0600", path.join(this.dir, "dev/console"), path.join(this.base, "tick")], { encoding: "utf8" });
    if (fifo.status !== 0) throw new Error(`run-script: mkfifo failed: ${fifo.stderr || fifo.error?.message}`);
  }

  /** A fresh root; throws, naming the reason, when namespaces or a needed tool are unavailable. */
  static create(options: ScriptRootOptions = {}): ScriptRoot {
    return new ScriptRoot(options);
  }

  private makeRunnerPath(p: string, kind: "directory" | "file"): void {
    const host = path.join(this.dir, p);
    fs.mkdirSync(kind === "directory" ? host : path.dirname(host), { recursive: true, mode: 0o755 });
    if (kind === "file") fs.writeFileSync(host, "");
    for (let q = p; q !== "/"; q = path.posix.dirname(q)) this.runnerPaths.add(q);
  }

  /** Where a path of the root is on the host; throws for paths in the read-only system folders. */
  hostPath(p: string): string {
    if (!p.startsWith("/") || p.split("/").includes("..")) throw new Error(`run-script: ${JSON.stringify(p)} is not an absolute path inside the root`);
    const normal = path.posix.normalize(p);
    if (normal === "/usr/local" || normal.startsWith("/usr/local/")) return path.join(this.usrLocal, normal.slice("/usr/local".length));
    if (this.isReadOnlySystemPath(normal)) throw new Error(`run-script: ${p} is in a read-only system folder of the host`);
    return path.join(this.dir, normal);
  }

  private isReadOnlySystemPath(p: string): boolean {
    const [, top = "", ...rest] = p.split("/");
    const link = this.topLinks.get(top);
    const resolved = link === undefined ? p : path.posix.join("/", link, ...rest);
    if (resolved === "/usr" || (resolved.startsWith("/usr/") && !resolved.startsWith("/usr/local/") && resolved !== "/usr/local")) return true;
    return this.readOnlyTop.some((dir) => resolved === `/${dir}` || resolved.startsWith(`/${dir}/`));
  }

  exists(p: string): boolean {
    return fs.lstatSync(this.hostPath(p), { throwIfNoEntry: false }) !== undefined;
  }

  read(p: string): string {
    return fs.readFileSync(this.hostPath(p), "utf8");
  }

  /** Permission bits (0o640 ...). */
  mode(p: string): number {
    return fs.lstatSync(this.hostPath(p)).mode & 0o7777;
  }

  /** Every path the scripts and the test's files created (not the runner's own), sorted; folders end in "/". */
  paths(): string[] {
    const found: string[] = [];
    const walk = (p: string, host: string): void => {
      for (const entry of fs.readdirSync(host, { withFileTypes: true })) {
        const child = path.posix.join(p, entry.name);
        if (child === STUB_HOME || child === "/proc" || child === "/usr") continue;
        const own = !this.runnerPaths.has(child);
        if (entry.isDirectory()) {
          if (own) found.push(`${child}/`);
          walk(child, path.join(host, entry.name));
        } else if (own) found.push(child);
      }
    };
    walk("/", this.dir);
    walk("/usr/local", this.usrLocal);
    return found.sort();
  }

  /** Writes files into the root as they are before a run. */
  writeFiles(files: Readonly<Record<string, FileSpec>>): void {
    for (const [p, spec] of Object.entries(files)) {
      const host = this.hostPath(p);
      fs.mkdirSync(path.dirname(host), { recursive: true });
      if (typeof spec === "string" || spec instanceof Uint8Array) fs.writeFileSync(host, spec);
      else if ("symlink" in spec) fs.symlinkSync(spec.symlink, host);
      else if ("directory" in spec) {
        fs.mkdirSync(host, { recursive: true });
        if (spec.mode !== undefined) fs.chmodSync(host, spec.mode);
      } else {
        fs.writeFileSync(host, spec.content);
        if (spec.mode !== undefined) fs.chmodSync(host, spec.mode);
      }
    }
  }

  /** Runs argv in the root with the given stubs; throws when the run could not happen as asked. */
  run(options: RunOptions): RunResult {
    if (this.disposed) throw new Error("run-script: this root was disposed");
    if (options.argv.length === 0) throw new Error("run-script: argv is empty");
    if (options.files) this.writeFiles(options.files);
    this.installStubs(options.stubs ?? {});
    for (const name of fs.readdirSync(this.control)) if (name !== "mounts") fs.rmSync(path.join(this.control, name), { recursive: true });
    const nul = (items: readonly string[]): string => {
      for (const item of items) if (item.includes("\0")) throw new Error("run-script: an argument or variable contains a NUL byte");
      return items.map((item) => `${item}\0`).join("");
    };
    const env = { PATH: STUB_PATH, ...options.env };
    fs.writeFileSync(path.join(this.control, "argv"), nul(options.argv));
    fs.writeFileSync(path.join(this.control, "env"), nul(Object.entries(env).map(([k, v]) => `${k}=${v}`)));
    // Empty stdin, as cloud-init and ECS give it.
    fs.writeFileSync(path.join(this.control, "stdin"), "");
    const listeners = options.listeners ?? [];
    for (const l of listeners) if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) throw new Error(`run-script: listener port ${l.port} is not 1-65535`);
    fs.writeFileSync(path.join(this.control, "listeners"), listeners.map((l) => `${l.port}\n`).join(""));
    for (const l of listeners) fs.writeFileSync(path.join(this.control, `listener-${l.port}.response`), l.response);
    const before = new Set(this.paths());

    const timeout = options.timeoutMs ?? 30_000;
    const child = spawnSync(
      this.unshareArgs[0]!,
      [...this.unshareArgs.slice(1), `--mount-proc=${path.join(this.dir, "proc")}`, "--", "/bin/bash", INIT, this.dir, this.control, path.join(this.base, "tick")],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", NODE: process.execPath, LISTENER },
        timeout,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const controlFile = (name: string): string | undefined => {
      try {
        return fs.readFileSync(path.join(this.control, name), "utf8");
      } catch {
        return undefined;
      }
    };
    if (child.error && (child.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
      throw new Error(`run-script: ${options.argv[0]} did not finish within ${timeout} ms (a real sleep or wait that a stub should answer?); stderr so far:\n${child.stderr}`);
    }
    if (child.error) throw new Error(`run-script: ${this.unshareArgs[0]} could not run: ${child.error.message}`);
    if (controlFile("setup-ok") === undefined) {
      throw new Error(`run-script: setting up the root failed: ${controlFile("setup-error")?.trim() ?? `unshare exit ${child.status}`}\n${child.stderr}`);
    }
    const exit = controlFile("exit");
    if (exit === undefined)
      throw new Error(`run-script: the namespace ended before the script's exit status was recorded (unshare exit ${child.status}, signal ${child.signal})\n${child.stderr}`);
    const [status, marker, lastPid] = exit.trim().split("\n");
    const consoleText = controlFile("console") ?? "";
    const markerAt = consoleText.lastIndexOf(`\n${marker}\n`);
    if (markerAt < 0) throw new Error("run-script: the console was not drained");
    const calls = parseCalls(fs.readFileSync(path.join(this.dir, STUB_HOME, "calls.log")));
    const unanswered = calls.filter((c) => !c.answered);
    if (unanswered.length > 0) {
      throw new Error(`run-script: calls no stub rule answers (script the answer, or a stub is missing):\n  ${commandLines(unanswered).join("\n  ")}\nstderr:\n${child.stderr}`);
    }
    const requests = Object.fromEntries(listeners.map((l) => [l.port, controlFile(`listener-${l.port}.request`) ?? ""]));
    const created = this.paths().filter((p) => !before.has(p));
    return { exitCode: Number(status), stdout: child.stdout, stderr: child.stderr, console: consoleText.slice(0, markerAt), calls, requests, created, processes: Number(lastPid) };
  }

  private installStubs(stubs: Readonly<Record<string, Stub>>): void {
    const home = path.join(this.dir, STUB_HOME);
    for (const sub of ["bin", "rules", "state", "blobs"]) fs.rmSync(path.join(home, sub), { recursive: true, force: true });
    for (const sub of ["bin", "rules", "state", "blobs"]) fs.mkdirSync(path.join(home, sub), { mode: 0o755 });
    fs.writeFileSync(path.join(home, "engine"), ENGINE, { mode: 0o644 });
    fs.writeFileSync(path.join(home, "calls.log"), "", { mode: 0o666 });
    const ids = new Map<string, string>();
    for (const [name, stub] of Object.entries(stubs)) {
      const id = stubId(name);
      const clash = ids.get(id);
      if (clash !== undefined) throw new Error(`run-script: stubs ${clash} and ${name} share the id ${id}`);
      ids.set(id, name);
      if (stub.real && !this.isReadOnlySystemPath(path.posix.normalize(stub.real.program))) {
        throw new Error(`run-script: stub ${name}: the real program ${stub.real.program} is not in the read-only system folders`);
      }
      let blobs = 0;
      const rules = rulesFile(stub, (content) => {
        const file = `${id}.${blobs++}`;
        fs.writeFileSync(path.join(home, "blobs", file), content);
        return file;
      });
      fs.writeFileSync(path.join(home, "rules", `${id}.sh`), rules);
      if (name.startsWith("/")) {
        fs.mkdirSync(path.dirname(this.hostPath(name)), { recursive: true });
        fs.writeFileSync(this.hostPath(name), stubProgram(name), { mode: 0o755 });
        this.runnerPaths.add(name);
      } else {
        if (name.includes("/")) throw new Error(`run-script: stub name ${name} must be a command name or an absolute path`);
        fs.writeFileSync(path.join(home, "bin", name), stubProgram(name), { mode: 0o755 });
      }
    }
  }

  /** Removes the root; refuses while anything is still mounted under it (the namespace always unmounts on exit). */
  dispose(): void {
    if (this.disposed) return;
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n");
    if (mounts.some((line) => line.split(" ")[4]?.startsWith(this.base))) {
      throw new Error(`run-script: ${this.base} still has mounts on the host; not removing it`);
    }
    fs.rmSync(this.base, { recursive: true, force: true });
    this.disposed = true;
  }
}

/** How cloud-init runs user data: saved as a file and executed, so the kernel reads its #! line. */
export const USER_DATA_PATH = "/var/lib/cloud/instance/scripts/part-001";

/** The files and argv that run user data as cloud-init does; throws when it has no #! line (cloud-init would not run it). */
export function userDataRun(script: string): { readonly files: Record<string, FileSpec>; readonly argv: readonly string[] } {
  if (!/^#!\/\S+/.test(script)) throw new Error("user data: the script has no #! line, so cloud-init does not run it as a script");
  return { files: { [USER_DATA_PATH]: { content: script, mode: 0o700 } }, argv: [USER_DATA_PATH] };
}
