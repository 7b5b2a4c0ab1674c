// scripts/push-images.sh run with stand-ins: terraform prints the given stack outputs, aws finds
// the images `existing` lists (none by default), and docker models two stores, each answering per
// image: registries (what `buildx imagetools inspect` reads and `imagetools create` copies, whole)
// and the local image store (what `build` makes, `image inspect` reads and `push` sends; a push of
// an image not built here fails, and nothing is ever pulled into it).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";

export interface PushRun {
  readonly status: number | null;
  /** Every docker command line, in order. */
  readonly docker: string[];
  readonly stdout: string;
  readonly stderr: string;
  /** The platforms of every image in a registry after the run (sources and mirrors), by reference. */
  readonly registry: Record<string, string[]>;
}

export interface PushOptions {
  /** Tags describe-images finds in ECR ("already pushed"; shell patterns, "*" every one). @default none */
  readonly existing?: readonly string[];
  /**
   * Platforms of images in a registry, by full reference (a source, or an ECR image `existing` finds).
   * @default every other source publishes linux/amd64 and linux/arm64, and so does every ECR image `existing` finds
   */
  readonly registry?: Readonly<Record<string, readonly string[]>>;
  /** The platform `docker build` makes, whatever was asked. @default the one asked for */
  readonly builtPlatform?: string;
}

const BOTH = "linux/amd64,linux/arm64";

/** Runs the script against a stack with these outputs; `temporary` collects what to delete afterwards. */
export function runPushImages(outputs: Record<string, string>, temporary: string[], options: PushOptions = {}, args: readonly string[] = []): PushRun {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "push-bin-"));
  temporary.push(bin);
  const stack = `push-test-${process.pid}-${temporary.length}`;
  const stackDir = path.join("cdktf.out", "stacks", stack);
  fs.mkdirSync(stackDir, { recursive: true });
  temporary.push(stackDir);
  const log = path.join(bin, "docker.log");
  // "<reference> <platform>[,<platform>...]" lines; the last line of a reference wins.
  const registry = path.join(bin, "registry");
  const local = path.join(bin, "local");
  fs.writeFileSync(
    registry,
    Object.entries(options.registry ?? {})
      .map(([ref, platforms]) => `${ref} ${platforms.join(",")}\n`)
      .join(""),
  );
  fs.writeFileSync(local, "");
  const cases = Object.entries(outputs)
    .map(([k, v]) => `  ${k}) printf '%s' '${v}' ;;`)
    .join("\n");
  fs.writeFileSync(path.join(bin, "terraform"), `#!/bin/sh\nfor a; do name="$a"; done\ncase "$name" in\n${cases}\n  *) exit 1 ;;\nesac\n`, { mode: 0o755 });
  const existing = options.existing ?? [];
  const found = existing.map((tag) => `  *imageTag=${tag}*) exit 0 ;;`).join("\n");
  fs.writeFileSync(
    path.join(bin, "aws"),
    `#!/bin/sh\ncase "$*" in\n  *get-login-password*) echo token ;;\n  *sts*) echo "{}" ;;\n${found}\n  *describe-images*) exit 1 ;;\nesac\n`,
    { mode: 0o755 },
  );
  const existingEcr = existing.map((tag) => `    *.dkr.ecr.*:${tag}) echo ${BOTH} ;;`).join("\n");
  // docker login reads the password from the pipe (unread, aws could die of SIGPIPE under pipefail).
  fs.writeFileSync(
    path.join(bin, "docker"),
    `#!/bin/sh
[ "$1" = login ] && cat > /dev/null
echo "$*" >> ${log}
for last; do :; done
lookup() { awk -v r="$2" '$1 == r { p = $2 } END { if (p == "") exit 1; print p }' "$1"; }
# A registry's platforms of an image: what was copied or given, else the defaults.
published() {
  lookup ${registry} "$1" && return 0
  case "$1" in
${existingEcr}
    *.dkr.ecr.*) return 1 ;;
    *) echo ${BOTH} ;;
  esac
}
flag() { prev=; for a in "$@"; do [ "$prev" = "$FLAG" ] && echo "$a"; prev="$a"; done; }
case "$1 $2 $3" in
  "buildx imagetools inspect")
    platforms=$(published "$last") || { echo "ERROR: $last: not found" >&2; exit 1; }
    case "$platforms" in
      *,*) echo "$platforms" | tr ',' '\\n' | awk -F/ 'BEGIN { printf "{" } { printf "%s\\"%s\\": {\\"architecture\\": \\"%s\\", \\"os\\": \\"%s\\"}", (NR > 1 ? ", " : ""), $0, $2, $1 } END { print "}" }' ;;
      *) echo "$platforms" | awk -F/ '{ printf "{\\n  \\"architecture\\": \\"%s\\",\\n  \\"os\\": \\"%s\\"\\n}\\n", $2, $1 }' ;;
    esac
    exit 0 ;;
  "buildx imagetools create")
    platforms=$(published "$last") || exit 1
    echo "$(FLAG=--tag flag "$@") $platforms" >> ${registry}
    exit 0 ;;
esac
case "$1" in
  build) echo "$(FLAG=--tag flag "$@") \${BUILT_PLATFORM:-$(FLAG=--platform flag "$@")}" >> ${local} ;;
  image) lookup ${local} "$last" || exit 1 ;;
  push)
    platform=$(lookup ${local} "$last") || { echo "An image does not exist locally with the tag: $last" >&2; exit 1; }
    echo "$last $platform" >> ${registry} ;;
  pull) echo "the local image store gets nothing pulled in this model" >&2; exit 1 ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: os.tmpdir(), ...(options.builtPlatform ? { BUILT_PLATFORM: options.builtPlatform } : {}) };
  const result = spawnSync("bash", ["scripts/push-images.sh", "--stack", stack, ...args], { encoding: "utf8", env });
  const docker = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  const state: Record<string, string[]> = {};
  for (const line of fs.readFileSync(registry, "utf8").trim().split("\n").filter(Boolean)) {
    const [ref, platforms] = line.split(" ");
    state[ref!] = platforms!.split(",");
  }
  return { status: result.status, docker, stdout: result.stdout, stderr: result.stderr, registry: state };
}
