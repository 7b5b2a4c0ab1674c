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
    const option = script.includes("exec-curl") ? "--port" : "--local-port";
    expect(run(script, { aws: 0, "session-manager-plugin": 0 }, [`${option}=80; rm -rf /`])).toEqual({ status: 1, stderr: expect.stringMatching(/must be a number/) });
  });
});

describe.each([...scripts, "scripts/push-images.sh"])("%s command line", (script) => {
  it("prints its usage for --help and -h, exit 0, before looking for any tool", () => {
    for (const flag of ["--help", "-h"]) {
      const result = spawnSync("bash", [script, flag], { encoding: "utf8", env: { PATH: fakePath({}), HOME: os.tmpdir() } });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: ${script}`));
      expect(result.stderr).toBe("");
    }
  });

  it("rejects an unknown option with exit 2 and the usage, before calling anything", () => {
    const result = spawnSync("bash", [script, "--bogus"], { encoding: "utf8", env: { PATH: fakePath({ aws: 0, docker: 0 }), HOME: os.tmpdir() } });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: unknown (option|argument) '--bogus'\nusage: /);
  });

  it("rejects an option without its value", () => {
    const option = script.includes("exec-curl") ? "--service" : script.includes("push-images") ? "--stack" : "--local-port";
    const result = spawnSync("bash", [script, option], { encoding: "utf8", env: { PATH: fakePath({}), HOME: os.tmpdir() } });
    expect(result).toMatchObject({ status: 2, stderr: expect.stringMatching(new RegExp(`^error: ${option} needs a value`)) });
  });
});

describe("scripts/exec-curl.sh arguments", () => {
  it("takes --service and --port, or the same as positionals, and refuses a third", () => {
    const tools = { aws: 0, "session-manager-plugin": 0 };
    expect(run("scripts/exec-curl.sh", tools, ["--service", "Bad_Name"])).toEqual({ status: 1, stderr: expect.stringMatching(/service must be a service name/) });
    expect(run("scripts/exec-curl.sh", tools, ["Bad_Name"])).toEqual({ status: 1, stderr: expect.stringMatching(/service must be a service name/) });
    expect(run("scripts/exec-curl.sh", tools, ["a", "1", "2"])).toMatchObject({ status: 2, stderr: expect.stringMatching(/too many arguments/) });
  });
});
