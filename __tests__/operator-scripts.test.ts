// The operator scripts need AWS and plugins this machine lacks: prove they stop early with the
// fix when a prerequisite is missing, using stand-in commands on a controlled PATH.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const scripts = ["scripts/exec-curl.sh", "scripts/consul-port-forward.sh"];

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A PATH with only the named stand-ins (each exits with the given status) plus coreutils. */
function fakePath(commands: Record<string, number>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-bin-"));
  tempDirs.push(dir);
  for (const [name, status] of Object.entries(commands)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\nexit ${status}\n`, { mode: 0o755 });
  }
  return `${dir}:/usr/bin:/bin`;
}

function run(script: string, commands: Record<string, number>, args: string[] = []) {
  const result = spawnSync("bash", [script, ...args], { encoding: "utf8", env: { PATH: fakePath(commands), HOME: os.tmpdir() } });
  return { status: result.status, stderr: result.stderr };
}

describe.each(scripts)("%s", (script) => {
  it("names the AWS CLI when it is missing", () => {
    expect(run(script, {})).toEqual({ status: 1, stderr: expect.stringMatching(/aws is not installed: install the AWS CLI v2/) });
  });

  it("says so when there are no AWS credentials", () => {
    expect(run(script, { aws: 255 })).toEqual({ status: 1, stderr: expect.stringMatching(/no usable AWS credentials/) });
  });

  it("names the Session Manager plugin when it is missing", () => {
    expect(run(script, { aws: 0 })).toEqual({ status: 1, stderr: expect.stringMatching(/session-manager-plugin is not installed/) });
  });

  it("rejects a port that is not a number before calling AWS", () => {
    const args = script.includes("exec-curl") ? ["http-client", "80; rm -rf /"] : ["80; rm -rf /"];
    expect(run(script, { aws: 0, "session-manager-plugin": 0 }, args)).toEqual({ status: 1, stderr: expect.stringMatching(/must be a number/) });
  });
});
