// scripts/push-images.sh run with stand-ins: terraform prints the given stack outputs, aws finds
// the images `existing` lists (none by default), and docker logs its arguments and, asked for an
// image's platform, answers the one it last pulled or built for (FAKE_PLATFORM: always that one).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";

export interface PushRun {
  readonly status: number | null;
  /** Every docker command line, in order. */
  readonly docker: string[];
  readonly stderr: string;
}

export interface PushOptions {
  /** Tags describe-images finds in ECR ("already pushed"; shell patterns, "*" every one). @default none */
  readonly existing?: readonly string[];
  /** The platform docker reports for every image, whatever was asked. @default the one last asked for */
  readonly fakePlatform?: string;
}

/** Runs the script against a stack with these outputs; `temporary` collects what to delete afterwards. */
export function runPushImages(outputs: Record<string, string>, temporary: string[], options: PushOptions = {}): PushRun {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "push-bin-"));
  temporary.push(bin);
  const stack = `push-test-${process.pid}-${temporary.length}`;
  const stackDir = path.join("cdktf.out", "stacks", stack);
  fs.mkdirSync(stackDir, { recursive: true });
  temporary.push(stackDir);
  const log = path.join(bin, "docker.log");
  const state = path.join(bin, "platform");
  const cases = Object.entries(outputs)
    .map(([k, v]) => `  ${k}) printf '%s' '${v}' ;;`)
    .join("\n");
  fs.writeFileSync(path.join(bin, "terraform"), `#!/bin/sh\nfor a; do name="$a"; done\ncase "$name" in\n${cases}\n  *) exit 1 ;;\nesac\n`, { mode: 0o755 });
  const found = (options.existing ?? []).map((tag) => `  *imageTag=${tag}*) exit 0 ;;`).join("\n");
  fs.writeFileSync(
    path.join(bin, "aws"),
    `#!/bin/sh\ncase "$*" in\n  *get-login-password*) echo token ;;\n  *sts*) echo "{}" ;;\n${found}\n  *describe-images*) exit 1 ;;\nesac\n`,
    { mode: 0o755 },
  );
  // docker login reads the password from the pipe (unread, aws could die of SIGPIPE under pipefail).
  // No --platform asked: a docker on an x86 machine gives linux/amd64.
  fs.writeFileSync(
    path.join(bin, "docker"),
    `#!/bin/sh
[ "$1" = login ] && cat > /dev/null
echo "$*" >> ${log}
if [ "$1 $2" = "image inspect" ]; then cat ${state} 2>/dev/null || echo linux/amd64; exit 0; fi
case "$1" in pull | build) rm -f ${state} ;; esac
prev=
for a; do [ "$prev" = --platform ] && echo "\${FAKE_PLATFORM:-$a}" > ${state}; prev="$a"; done
exit 0
`,
    { mode: 0o755 },
  );
  const env: Record<string, string> = { PATH: `${bin}:/usr/bin:/bin`, HOME: os.tmpdir(), ...(options.fakePlatform ? { FAKE_PLATFORM: options.fakePlatform } : {}) };
  const result = spawnSync("bash", ["scripts/push-images.sh", "--stack", stack], { encoding: "utf8", env });
  const docker = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: result.status, docker, stderr: result.stderr };
}
