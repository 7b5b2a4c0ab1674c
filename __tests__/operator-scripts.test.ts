// The operator scripts need AWS and plugins this machine lacks: prove they stop early with the
// fix when a prerequisite is missing, using stand-in commands on a controlled PATH.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const scripts = ["scripts/exec-curl.sh", "scripts/consul-port-forward.sh"];
const withCommandLine = [...scripts, "scripts/push-images.sh", "scripts/roll-consul-servers.sh"];

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

describe.each(withCommandLine)("%s command line", (script) => {
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
    const option = script.includes("exec-curl") ? "--service" : script.includes("push-images") ? "--stack" : script.includes("roll-consul") ? "--poll-seconds" : "--local-port";
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

// npm test's pretest: it must name what is missing in one line, and never pass without the tools.
describe("tools/ensure-tools.sh", () => {
  /** A PATH of only the given stand-ins (name -> script body) and the few programs the script uses. */
  function toolsPath(standIns: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ensure-tools-bin-"));
    tempDirs.push(dir);
    for (const program of ["sed", "head", "cat", "mktemp", "rm", "sort", "tr"]) {
      fs.symlinkSync(spawnSync("/bin/sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).stdout.trim(), path.join(dir, program));
    }
    for (const [name, body] of Object.entries(standIns)) fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return dir;
  }
  const run = (args: string[], standIns: Record<string, string>) => {
    const result = spawnSync("/bin/bash", ["tools/ensure-tools.sh", ...args], { encoding: "utf8", env: { PATH: toolsPath(standIns), HOME: os.tmpdir() } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const terraform = (version: string) => `echo "Terraform v${version}"; echo "on linux_amd64"`;
  const debianTools = { shellcheck: "exit 0", jq: "exit 0", unzip: "exit 0", sha256sum: "exit 0", ip: "exit 0", unshare: "exit 0" };

  it("passes when the Debian tools and terraform >= 1.11 are there", () => {
    expect(run([], { ...debianTools, terraform: terraform("1.11.4"), id: "echo 0" })).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("names what is missing and the packages to install in one line when it may not install", () => {
    const { shellcheck: _, ip: __, ...others } = debianTools;
    for (const [args, id] of [
      [["--check"], "echo 0"],
      [[], "echo 1000"],
    ] as const) {
      const result = run([...args], { ...others, terraform: terraform("1.11.4"), id });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(/^ensure-tools: shellcheck ip not installed .*'apt-get install -y iproute2 shellcheck'/);
    }
  });

  it("names terraform when it is missing or older than 1.11 (write-only arguments)", () => {
    expect(run([], { ...debianTools, id: "echo 0" })).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^ensure-tools: terraform is not installed: install Terraform >= 1.11/),
    });
    for (const [version, minor] of [
      ["1.9.8", "1.9"],
      ["1.10.5", "1.10"],
    ]) {
      expect(run([], { ...debianTools, terraform: terraform(version!), id: "echo 0" })).toMatchObject({
        status: 1,
        stderr: expect.stringMatching(new RegExp(`^ensure-tools: terraform ${minor!.replace(".", "\\.")} is too old`)),
      });
    }
  });

  it("prints its usage for --help and refuses an unknown argument with exit 2", () => {
    expect(run(["--help"], {})).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: tools\/ensure-tools.sh/) });
    expect(run(["--bogus"], {})).toMatchObject({ status: 2, stderr: expect.stringMatching(/unknown argument '--bogus'/) });
  });
});

/**
 * The scripts in a copy of the project with a deployed-looking mesh stack, on a PATH of recording
 * stand-ins: each answers from `answers` (the first glob matching its arguments, in order; an
 * answer list is used up one by one, its last answer repeating) and appends its command line to
 * calls.log.
 */
function operatorRun(script: string, args: string[], answers: Record<string, [pattern: string, answers: string[], exit?: number][]>) {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "operator-"));
  tempDirs.push(project);
  fs.cpSync("scripts", path.join(project, "scripts"), { recursive: true });
  fs.mkdirSync(path.join(project, "cdktf.out", "stacks", "mesh"), { recursive: true });
  const bin = path.join(project, "bin");
  fs.mkdirSync(bin);
  const log = path.join(project, "calls.log");
  for (const [program, rules] of Object.entries(answers)) {
    const cases = rules
      .map(([pattern, outputs, exit], i) => {
        const counter = path.join(project, `${program}.${i}.count`);
        const list = outputs.map((o) => `'${o.replace(/'/g, "'\\''")}'`).join(" ");
        return `  ${pattern.replace(/ /g, "\\ ")})\n    n=$(cat '${counter}' 2>/dev/null || echo 0); echo $((n + 1)) > '${counter}'\n    set -- ${list}; [ "$n" -lt "$#" ] || n=$(($# - 1)); shift "$n"; printf '%s\\n' "$1"; exit ${exit ?? 0} ;;`;
      })
      .join("\n");
    fs.writeFileSync(
      path.join(bin, program),
      `#!/bin/bash\nprintf '%s\\n' "${program} $*" >> '${log}'\ncase "$*" in\n${cases}\n  *) echo "unexpected: ${program} $*" >&2; exit 99 ;;\nesac\n`,
      { mode: 0o755 },
    );
  }
  const result = spawnSync("bash", [path.join(project, script), ...args], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin`, HOME: project } });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: result.status, stderr: result.stderr, calls };
}

describe("scripts/consul-port-forward.sh", () => {
  it("forwards the HTTPS API of a running server it finds by the servers' tag", () => {
    const result = operatorRun("scripts/consul-port-forward.sh", ["--local-port", "18501"], {
      aws: [
        ["sts get-caller-identity*", ["{}"]],
        ["ec2 describe-instances *", ["i-0aaaabbbbccccdddd"]],
        ["ssm start-session *", [""]],
      ],
      terraform: [["-chdir=cdktf.out/stacks/mesh output -raw consul_server_tag", ["consul-ecs-mesh:server=prod-mesh"]]],
      "session-manager-plugin": [["*", [""]]],
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toEqual([
      "aws sts get-caller-identity",
      "terraform -chdir=cdktf.out/stacks/mesh output -raw consul_server_tag",
      "aws ec2 describe-instances --filters Name=tag:consul-ecs-mesh:server,Values=prod-mesh Name=instance-state-name,Values=running --query sort_by(Reservations[].Instances[], &InstanceId)[0].InstanceId --output text",
      "aws ssm start-session --target i-0aaaabbbbccccdddd --document-name AWS-StartPortForwardingSession --parameters portNumber=8501,localPortNumber=18501",
    ]);
  });

  it("says so when no server is running", () => {
    const result = operatorRun("scripts/consul-port-forward.sh", [], {
      aws: [
        ["sts get-caller-identity*", ["{}"]],
        ["ec2 describe-instances *", ["None"]],
      ],
      terraform: [["*output -raw consul_server_tag", ["consul-ecs-mesh:server=prod-mesh"]]],
      "session-manager-plugin": [["*", [""]]],
    });
    expect(result).toMatchObject({ status: 1, stderr: "error: no running Consul server tagged consul-ecs-mesh:server=prod-mesh\n" });
  });
});

describe("scripts/roll-consul-servers.sh", () => {
  const terraform: [string, string[]][] = [["*output -json consul_server_groups", ['["prod-mesh-consul-server-1","prod-mesh-consul-server-2","prod-mesh-consul-server-3"]']]];

  it("refreshes each server's group only after the previous refresh succeeded", () => {
    const result = operatorRun("scripts/roll-consul-servers.sh", ["--poll-seconds", "0"], {
      aws: [
        ["sts get-caller-identity*", ["{}"]],
        ["autoscaling start-instance-refresh *server-1 *", ["r-1"]],
        ["autoscaling start-instance-refresh *server-2 *", ["r-2"]],
        ["autoscaling start-instance-refresh *server-3 *", ["r-3"]],
        ["autoscaling describe-instance-refreshes *server-1 *", ["Pending", "InProgress", "Successful"]],
        ["autoscaling describe-instance-refreshes *server-2 *", ["Successful"]],
        ["autoscaling describe-instance-refreshes *server-3 *", ["InProgress", "Successful"]],
      ],
      terraform,
    });
    expect(result.status, result.stderr).toBe(0);
    const steps = result.calls
      .filter((c) => c.startsWith("aws autoscaling"))
      .map((c) => c.replace(/^aws autoscaling (\S+) --auto-scaling-group-name prod-mesh-consul-(server-\d).*$/, "$1 $2"));
    expect(steps).toEqual([
      "start-instance-refresh server-1",
      "describe-instance-refreshes server-1",
      "describe-instance-refreshes server-1",
      "describe-instance-refreshes server-1",
      "start-instance-refresh server-2",
      "describe-instance-refreshes server-2",
      "start-instance-refresh server-3",
      "describe-instance-refreshes server-3",
      "describe-instance-refreshes server-3",
    ]);
    // Terminate first (the data volume moves to the new instance); the lifecycle hook gates "healthy".
    expect(result.calls.find((c) => c.includes("start-instance-refresh"))).toContain('--preferences {"MinHealthyPercentage":0,"MaxHealthyPercentage":100,"SkipMatching":false}');
  });

  it("stops at a refresh that fails, leaving the remaining servers alone", () => {
    const result = operatorRun("scripts/roll-consul-servers.sh", ["--poll-seconds", "0"], {
      aws: [
        ["sts get-caller-identity*", ["{}"]],
        ["autoscaling start-instance-refresh *server-1 *", ["r-1"]],
        ["autoscaling start-instance-refresh *server-2 *", ["r-2"]],
        ["autoscaling describe-instance-refreshes *server-1 *", ["Successful"]],
        // Not listed yet, running, then cancelled by an operator: it waits for the end, then stops.
        ["autoscaling describe-instance-refreshes *server-2 *", ["None", "InProgress", "Cancelling", "Cancelled"]],
      ],
      terraform,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/prod-mesh-consul-server-2: instance refresh r-2 ended Cancelled; the remaining servers were not touched/);
    expect(result.calls.filter((c) => c.includes("describe-instance-refreshes --auto-scaling-group-name prod-mesh-consul-server-2"))).toHaveLength(4);
    expect(result.calls.some((c) => c.includes("server-3"))).toBe(false);
  });

  it("points servers at fixed addresses to terraform apply -replace", () => {
    const result = operatorRun("scripts/roll-consul-servers.sh", [], { aws: [["sts get-caller-identity*", ["{}"]]], terraform: [] });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("servers at fixed addresses (consul.serverPrivateIps) are replaced one at a time with terraform apply -replace");
  });
});
