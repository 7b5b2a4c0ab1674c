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

describe("scripts/roll-consul-servers.sh --rotate-gossip-key", () => {
  const GOSSIP = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-mesh/consul/gossip-key-20261207-AbCdEf";
  const TOKEN_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod-mesh/consul/management-token-20261207-GhIjKl";
  const OLD = "b2xkIGdvc3NpcCBrZXkgb2YgMzIgYnl0ZXMgLi4uLi4=";
  const TOKEN = "0895ec67-a509-cc13-b738-9cdd5871efa8";
  const KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;
  expect(OLD).toMatch(KEY_PATTERN);

  /**
   * The script in a project copy, with a fake aws (Secrets Manager reads and puts into a folder), terraform
   * (the two outputs) and curl (Consul's keyring endpoint over two pools: the servers' WAN and the LAN with
   * the task agents; FAKE_MISS members of the LAN miss an install; a key not on every member cannot be made
   * primary, the primary key cannot be removed). One log of every command line, in order.
   */
  function rotate(options: { readonly keyring?: object[]; readonly miss?: number; readonly token?: string } = {}) {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "rotate-"));
    tempDirs.push(project);
    fs.cpSync("scripts", path.join(project, "scripts"), { recursive: true });
    fs.mkdirSync(path.join(project, "cdktf.out", "stacks", "mesh"), { recursive: true });
    const bin = path.join(project, "bin");
    const store = path.join(project, "store");
    fs.mkdirSync(bin);
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, "gossip"), OLD);
    fs.writeFileSync(path.join(store, "token"), options.token ?? TOKEN);
    const pools = options.keyring ?? [
      { WAN: true, Datacenter: "dc1", Keys: { [OLD]: 3 }, PrimaryKeys: { [OLD]: 3 }, NumNodes: 3 },
      { WAN: false, Datacenter: "dc1", Keys: { [OLD]: 7 }, PrimaryKeys: { [OLD]: 7 }, NumNodes: 7 },
    ];
    fs.writeFileSync(path.join(store, "keyring.json"), JSON.stringify(pools));
    fs.writeFileSync(path.join(project, "ca.pem"), "stand-in CA certificate\n");
    const log = path.join(project, "calls.log");
    fs.writeFileSync(
      path.join(bin, "aws"),
      `#!/bin/bash
printf '%s\\n' "aws $*" >> '${log}'
case "$1 $2" in
  "sts get-caller-identity") echo '{}' ;;
  "secretsmanager get-secret-value") case "$4" in ${GOSSIP}) cat '${store}/gossip' ;; ${TOKEN_ARN}) cat '${store}/token' ;; *) exit 254 ;; esac; echo ;;
  "secretsmanager put-secret-value")
    request="\${4#file://}"
    [ "$(jq -r .SecretId "$request")" = '${GOSSIP}' ] || exit 254
    [ "$(jq -r '.ClientRequestToken | length' "$request")" -ge 32 ] || exit 255
    jq -j .SecretString "$request" > '${store}/gossip'; echo '{}' ;;
  *) exit 99 ;;
esac
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "terraform"),
      `#!/bin/bash
printf '%s\\n' "terraform $*" >> '${log}'
case "$*" in
  *"output -raw consul_gossip_key_secret_arn") echo '${GOSSIP}' ;;
  *"output -raw consul_management_token_secret_arn") echo '${TOKEN_ARN}' ;;
  *) exit 1 ;;
esac
`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "curl"),
      `#!/bin/bash
printf '%s\\n' "curl $*" >> '${log}'
method=GET data="" header="" url=""
while (($#)); do
  case "$1" in
    --request) method=$2; shift 2 ;;
    --data-binary) data=\${2#@}; shift 2 ;;
    --header) header=\${2#@}; shift 2 ;;
    --cacert) [ -f "$2" ] || exit 77; shift 2 ;;
    --*) shift ;;
    *) url=$1; shift ;;
  esac
done
state='${store}/keyring.json'
[ "$url" = https://localhost:8501/v1/operator/keyring ] || exit 6
[ "$(cat "$header")" = 'X-Consul-Token: ${TOKEN}' ] || { echo 'curl: (22) 403' >&2; exit 22; }
[ "$method" = GET ] && exec cat "$state"
k="$(jq -r .Key "$data")"
case "$method" in
  POST) jq --arg k "$k" --argjson miss "\${FAKE_MISS:-0}" 'map(.Keys[$k] = .NumNodes - (if .WAN then 0 else $miss end))' "$state" ;;
  PUT) jq -e --arg k "$k" 'all(.[]; .Keys[$k] == .NumNodes)' "$state" > /dev/null || { echo 'curl: (22) 500' >&2; exit 22; }
    jq --arg k "$k" 'map(.PrimaryKeys = {($k): .NumNodes})' "$state" ;;
  DELETE) jq -e --arg k "$k" 'all(.[]; .PrimaryKeys | has($k) | not)' "$state" > /dev/null || { echo 'curl: (22) 500' >&2; exit 22; }
    jq --arg k "$k" 'map(.Keys |= del(.[$k]))' "$state" ;;
esac > "$state.new" && mv "$state.new" "$state" && echo '{}'
`,
      { mode: 0o755 },
    );
    const result = spawnSync("bash", [path.join(project, "scripts/roll-consul-servers.sh"), "--rotate-gossip-key"], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: project, TMPDIR: project, CONSUL_CACERT: path.join(project, "ca.pem"), FAKE_MISS: String(options.miss ?? 0) },
    });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return {
      status: result.status,
      stderr: result.stderr,
      calls,
      steps: calls.filter((c) => /^curl|put-secret-value/.test(c)).map((c) => (c.startsWith("curl") ? `keyring ${/--request (\S+)/.exec(c)![1]}` : "put-secret-value")),
      secret: fs.readFileSync(path.join(store, "gossip"), "utf8"),
      keyring: JSON.parse(fs.readFileSync(path.join(store, "keyring.json"), "utf8")) as { Keys: Record<string, number>; PrimaryKeys: Record<string, number>; NumNodes: number }[],
      leftovers: fs.readdirSync(project).filter((f) => f.startsWith("tmp.")),
    };
  }

  it("installs a new key on every member, makes it primary, stores it, then removes the old one; no key or token on a command line", () => {
    const r = rotate();
    expect(r.status, r.stderr).toBe(0);
    expect(r.secret).toMatch(KEY_PATTERN);
    expect(r.secret).not.toBe(OLD);
    expect(r.keyring.map((pool) => [pool.Keys, pool.PrimaryKeys])).toEqual([
      [{ [r.secret]: 3 }, { [r.secret]: 3 }],
      [{ [r.secret]: 7 }, { [r.secret]: 7 }],
    ]);
    // Each step checked on every member before the next; the secret changes only once the new key is primary everywhere.
    expect(r.steps).toEqual(["keyring GET", "keyring POST", "keyring GET", "keyring PUT", "keyring GET", "put-secret-value", "keyring DELETE", "keyring GET"]);
    for (const value of [OLD, r.secret, TOKEN]) expect(r.calls.filter((c) => c.includes(value))).toEqual([]);
    expect(r.leftovers).toEqual([]);
    expect(r.stderr).toMatch(/gossip key rotated: the old key is removed from every member\n$/);
  });

  it("a member that misses the install: stops before the new key is used, the old one still primary and in the secret", () => {
    const r = rotate({ miss: 1 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the new key is not installed on every member .*the old key still is; run again once every member is up/);
    expect(r.steps).toEqual(["keyring GET", "keyring POST", "keyring GET"]);
    expect(r.secret).toBe(OLD);
    expect(r.keyring.every((pool) => pool.PrimaryKeys[OLD] === pool.NumNodes)).toBe(true);
  });

  it("a management token that is no UUID (a header line could follow it): stops before any keyring call", () => {
    const r = rotate({ token: `${TOKEN}\r\nX-Other: 1` });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/does not hold a Consul token \(a UUID\): nothing was changed/);
    expect(r.steps).toEqual([]);
    expect(r.secret).toBe(OLD);
  });

  it("a secret whose key the members do not have: changes nothing", () => {
    const other = "b3RoZXIgZ29zc2lwIGtleSBvZiAzMiBieXRlcyAuLi4=";
    const r = rotate({ keyring: [{ WAN: false, Datacenter: "dc1", Keys: { [other]: 4 }, PrimaryKeys: { [other]: 4 }, NumNodes: 4 }] });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not installed on every member: nothing was changed/);
    expect(r.steps).toEqual(["keyring GET"]);
    expect(r.secret).toBe(OLD);
  });
});
