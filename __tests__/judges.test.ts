// The judges of tools/judges judged: each one must reject known-bad input with a
// message that says where, and accept a valid minimal input. A judge that cannot fail proves nothing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  MissingToolError,
  SHELLCHECK_MISSING,
  ecsContainerDefinitionErrors,
  heredocBody,
  lintShell,
  materializeTerraformString,
  parseHcl,
  taskDefinitionErrors,
  terraformTemplateProblems,
} from "../tools/judges";

const awslogs = {
  logDriver: "awslogs",
  options: { "awslogs-group": "/ecs/demo", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "demo" },
};

/** A valid two-container task: an app that waits for a healthy sidecar. */
function validContainers(): Record<string, any>[] {
  return [
    {
      name: "sidecar",
      image: "envoyproxy/envoy:v1.31.0",
      essential: true,
      portMappings: [{ containerPort: 21000, hostPort: 21000, protocol: "tcp" }],
      healthCheck: { command: ["CMD", "true"], interval: 10, timeout: 5, retries: 3, startPeriod: 10 },
      memoryReservation: 64,
      logConfiguration: awslogs,
    },
    {
      name: "app",
      image: "hashicorp/http-echo:1.0.0",
      essential: true,
      memory: 256,
      memoryReservation: 128,
      portMappings: [{ containerPort: 8080 }],
      environment: [{ name: "MODE", value: "demo" }],
      dockerLabels: { "mesh.policy/x": "y" },
      dependsOn: [{ containerName: "sidecar", condition: "HEALTHY" }],
      logConfiguration: awslogs,
    },
  ];
}

describe("ecsContainerDefinitionErrors", () => {
  it("accepts a valid minimal task", () => {
    expect(ecsContainerDefinitionErrors(validContainers())).toEqual([]);
    expect(ecsContainerDefinitionErrors([{ name: "only", image: "busybox", memory: 64, logConfiguration: awslogs }])).toEqual([]);
  });

  it("reports an unknown field with its JSON path", () => {
    const defs = validContainers();
    defs[0]!.healthCheck.intervall = 10;
    defs[1]!.portMapings = [];
    expect(ecsContainerDefinitionErrors(defs)).toEqual(["[0].healthCheck.intervall: unknown field", "[1].portMapings: unknown field"]);
  });

  it("reports a string where the API wants an integer, and other wrong types", () => {
    const defs = validContainers();
    defs[1]!.memory = "256";
    defs[0]!.essential = "true";
    defs[0]!.healthCheck.retries = 3.5;
    defs[1]!.command = "serve";
    defs[1]!.dockerLabels = { a: 1 };
    expect(ecsContainerDefinitionErrors(defs)).toEqual([
      '[0].essential: expected a boolean, got the string "true"',
      "[0].healthCheck.retries: expected a JSON integer, got number 3.5",
      '[1].memory: expected a JSON integer, got the string "256"',
      "[1].dockerLabels.a: expected a string, got number 1",
      '[1].command: expected an array, got the string "serve"',
    ]);
  });

  it("reports a missing required member", () => {
    const defs = validContainers();
    delete defs[0]!.healthCheck.command;
    defs[1]!.dependsOn = [{ containerName: "sidecar" }];
    defs[1]!.ulimits = [{ name: "nofile", softLimit: 1024 }];
    expect(ecsContainerDefinitionErrors(defs)).toEqual([
      "[0].healthCheck.command: missing required member",
      "[1].dependsOn[0].condition: missing required member",
      "[1].ulimits[0].hardLimit: missing required member",
    ]);
  });

  it("reports HEALTHY on a container without a healthCheck, unknown conditions and targets", () => {
    const defs = validContainers();
    delete defs[0]!.healthCheck;
    expect(ecsContainerDefinitionErrors(defs)).toEqual(['[1].dependsOn[0]: HEALTHY needs a healthCheck on "sidecar", which has none']);
    defs[1]!.dependsOn = [
      { containerName: "sidecar", condition: "READY" },
      { containerName: "ghost", condition: "START" },
    ];
    expect(ecsContainerDefinitionErrors(defs)).toEqual([
      '[1].dependsOn[0].condition: "READY" is not one of START, COMPLETE, SUCCESS, HEALTHY',
      '[1].dependsOn[1].containerName: no container named "ghost" in this task',
    ]);
  });

  it("reports SUCCESS/COMPLETE on an essential container", () => {
    const defs = validContainers();
    defs[1]!.dependsOn = [{ containerName: "sidecar", condition: "SUCCESS" }];
    expect(ecsContainerDefinitionErrors(defs)).toEqual(['[1].dependsOn[0]: SUCCESS cannot be set on the essential container "sidecar"']);
    defs[0]!.essential = false;
    expect(ecsContainerDefinitionErrors(defs)).toEqual([]);
  });

  it("reports a dependsOn cycle", () => {
    const defs = validContainers();
    defs[0]!.dependsOn = [{ containerName: "app", condition: "START" }];
    expect(ecsContainerDefinitionErrors(defs)).toEqual(["(root): dependsOn cycle sidecar -> app -> sidecar"]);
    defs[0]!.dependsOn = [{ containerName: "sidecar", condition: "START" }];
    expect(ecsContainerDefinitionErrors(defs)).toEqual(["[0].dependsOn[0].containerName: a container cannot depend on itself"]);
  });

  it("reports duplicate ports and a hostPort that differs from containerPort under awsvpc", () => {
    const defs = validContainers();
    defs[1]!.portMappings = [
      { containerPort: 21000, protocol: "tcp" },
      { containerPort: 8080, hostPort: 80 },
    ];
    expect(ecsContainerDefinitionErrors(defs)).toEqual([
      "[1].portMappings[0]: 21000/tcp is already mapped by [0].portMappings[0] (containers of one awsvpc task share the network namespace)",
      "[1].portMappings[1].hostPort: awsvpc needs hostPort absent or equal to containerPort 8080, got 80",
    ]);
    // The same port over UDP is a different socket; bridge mode gives every container its own namespace.
    defs[1]!.portMappings = [{ containerPort: 21000, protocol: "udp" }];
    expect(ecsContainerDefinitionErrors(defs)).toEqual([]);
    defs[1]!.portMappings = [{ containerPort: 21000, hostPort: 0 }];
    expect(ecsContainerDefinitionErrors(defs, { networkMode: "bridge" })).toEqual([]);
  });

  it("reports names, essentials, memory, networkMode, logging and privileged", () => {
    const defs = validContainers();
    defs[0]!.name = "app";
    defs[1]!.name = "bad name!";
    expect(ecsContainerDefinitionErrors(defs)).toEqual(
      expect.arrayContaining(['[1].name: "bad name!" must be 1-255 of [A-Za-z0-9_-]', '[1].dependsOn[0].containerName: no container named "sidecar" in this task']),
    );
    const dup = validContainers();
    dup[1]!.name = "sidecar";
    expect(ecsContainerDefinitionErrors(dup)).toContain('[1].name: duplicate container name "sidecar"');

    const other = validContainers();
    other.forEach((c) => (c.essential = false));
    other[1]!.memory = 128;
    other[1]!.networkMode = "awsvpc";
    other[1]!.privileged = true;
    delete other[0]!.logConfiguration;
    other[1]!.logConfiguration = { logDriver: "awslogs", options: { "awslogs-group": "/ecs/demo" } };
    expect(ecsContainerDefinitionErrors(other)).toEqual([
      "[1].networkMode: networkMode is a task definition field, not a container field",
      "(root): at least one container must be essential",
      "[1].memory: 128 must be greater than memoryReservation 128",
      "[0].logConfiguration: every container needs a log configuration",
      '[1].logConfiguration.options["awslogs-region"]: awslogs needs awslogs-region',
      '[1].logConfiguration.options["awslogs-stream-prefix"]: awslogs needs awslogs-stream-prefix',
      "[1].privileged: privileged containers are not allowed",
    ]);
  });

  it("rejects what is not a list of objects", () => {
    expect(ecsContainerDefinitionErrors({ name: "x" })).toEqual(["(root): container definitions must be an array, got an object"]);
    expect(ecsContainerDefinitionErrors([])).toEqual(["(root): a task needs at least one container definition"]);
    expect(ecsContainerDefinitionErrors(["x"])).toEqual(['[0]: expected an object, got the string "x"']);
  });
});

describe("taskDefinitionErrors", () => {
  const ec2 = { cpu: "256", memory: "512", network_mode: "awsvpc", requires_compatibilities: ["EC2"] };
  const fargate = { cpu: "512", memory: "1024", network_mode: "awsvpc", requires_compatibilities: ["FARGATE"] };

  it("accepts valid EC2 and Fargate sizes", () => {
    expect(taskDefinitionErrors(ec2, validContainers())).toEqual([]);
    expect(taskDefinitionErrors(fargate, validContainers())).toEqual([]);
    expect(taskDefinitionErrors({ ...fargate, cpu: 256, memory: 2048 }, validContainers())).toEqual([]);
  });

  it("reports containers that need more memory or cpu than the task has", () => {
    const defs = validContainers();
    defs[1]!.memory = 600;
    defs[1]!.cpu = 512;
    expect(taskDefinitionErrors(ec2, defs)).toEqual([
      "memory: the containers' memory adds up to 600 MiB, more than the task's 512 MiB",
      "cpu: the containers' cpu adds up to 512 units, more than the task's 256",
    ]);
    const reserving = validContainers();
    reserving[0]!.memoryReservation = 450;
    expect(taskDefinitionErrors(ec2, reserving)).toEqual(["memory: the containers reserve 578 MiB, more than the task's 512 MiB"]);
  });

  it("requires container memory without task memory", () => {
    const defs = validContainers();
    delete defs[0]!.memoryReservation;
    expect(taskDefinitionErrors({ network_mode: "awsvpc", requires_compatibilities: ["EC2"] }, defs)).toEqual([
      '[0]: without task-level memory, container "sidecar" needs memory or memoryReservation',
    ]);
  });

  it("reports Fargate without awsvpc and invalid cpu/memory pairs", () => {
    expect(taskDefinitionErrors({ ...fargate, network_mode: "bridge" }, validContainers())).toEqual(['network_mode: FARGATE requires awsvpc, got "bridge"']);
    expect(taskDefinitionErrors({ ...fargate, cpu: "256", memory: "4096" }, validContainers())).toEqual(["memory: 4096 MiB is not valid with 256 Fargate cpu units (512-2048)"]);
    expect(taskDefinitionErrors({ ...fargate, cpu: "300" }, validContainers())).toEqual(["cpu: 300 is not a Fargate task size (256, 512, 1024, 2048, 4096, 8192, 16384)"]);
    expect(taskDefinitionErrors({ network_mode: "awsvpc", requires_compatibilities: ["FARGATE"] }, validContainers())).toEqual([
      "cpu/memory: FARGATE requires task-level cpu and memory",
    ]);
  });

  it("reads the API's camelCase field names as well as Terraform's", () => {
    expect(taskDefinitionErrors({ cpu: "256", memory: "4096", networkMode: "bridge", requiresCompatibilities: ["FARGATE"] }, validContainers())).toEqual([
      'network_mode: FARGATE requires awsvpc, got "bridge"',
      "memory: 4096 MiB is not valid with 256 Fargate cpu units (512-2048)",
    ]);
  });
});

describe("parseHcl", () => {
  it("parses valid HCL, blocks as arrays", async () => {
    expect(await parseHcl('server = false\nacl {\n  default_policy = "deny"\n}\n')).toEqual({ server: false, acl: [{ default_policy: "deny" }] });
  });

  it("throws with the parser's message on invalid HCL", async () => {
    await expect(parseHcl('service {\n  name = "web"\n', "service.hcl")).rejects.toThrow(/service\.hcl is not valid HCL: .*service\.hcl:\d+/);
    await expect(parseHcl("port = = 80\n")).rejects.toThrow(/Invalid expression/);
  });
});

describe("lintShell", () => {
  it("passes a clean script", () => {
    expect(lintShell('#!/bin/bash\nset -euo pipefail\nrm -- "$1"\n', "bash")).toEqual({ ok: true, output: "" });
    expect(lintShell('rm -- "$1"\n', "sh")).toEqual({ ok: true, output: "" });
  });

  it("reports a shellcheck finding (unquoted $1)", () => {
    const result = lintShell("rm $1\n", "sh");
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/SC2086/);
    expect(result.output).toContain("<sh script>:1:");
  });

  it("reports a bash syntax error", () => {
    const result = lintShell('if [ -n "$1" ]; then\n  echo yes\n', "bash");
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/^bash -n: .*syntax error/m);
  });

  it("throws, never skips, when shellcheck is missing", () => {
    const saved = process.env.PATH;
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-shellcheck-"));
    process.env.PATH = empty;
    try {
      expect(() => lintShell("echo ok\n", "sh")).toThrow(SHELLCHECK_MISSING);
      expect(() => lintShell("echo ok\n", "sh")).toThrow(MissingToolError);
    } finally {
      process.env.PATH = saved;
      fs.rmSync(empty, { recursive: true, force: true });
    }
    expect(SHELLCHECK_MISSING).toMatch(/^shellcheck is not installed: run `apt-get install -y shellcheck`/);
  });

  it("lints sh as POSIX sh (bashisms fail)", () => {
    const script = 'if [[ -n "$1" ]]; then echo "$1"; fi\n';
    expect(lintShell(script, "bash").ok).toBe(true);
    const sh = lintShell(script, "sh");
    expect(sh.ok).toBe(false);
    expect(sh.output).toMatch(/SC3010/);
  });
});

describe("terraformTemplateProblems", () => {
  const doc = (value: unknown): Record<string, any> => ({
    variable: { aws_region: { type: "string" } },
    data: { aws_partition: { partition: {} } },
    ephemeral: { random_password: { gossip: { length: 32 } } },
    locals: { prefix: "x" },
    resource: {
      aws_instance: { host: { user_data: value, count: 2 } },
      aws_ecs_cluster: { main: { name: "demo" } },
    },
  });

  it("accepts references that exist, escaped sequences and built-ins", async () => {
    const ok =
      "${var.aws_region} ${data.aws_partition.partition.partition} ${aws_ecs_cluster.main.name} ${local.prefix}-${terraform.workspace} " +
      "${base64encode(ephemeral.random_password.gossip.result)} " +
      '${count.index} ${jsonencode({ a = "}" })} ${[for s in aws_ecs_cluster.main[*].name : upper(s)]} $${HOME} %%{literal}';
    expect(await terraformTemplateProblems(doc(ok))).toEqual([]);
    expect(await terraformTemplateProblems({ resource: { a: { b: { "//": { note: "${ignored" } } } } })).toEqual([]);
  });

  it("reports an unescaped ${foo} (a shell variable Terraform would read)", async () => {
    expect(await terraformTemplateProblems(doc('echo "${foo}"'))).toEqual([
      '$.resource.aws_instance.host.user_data: "${foo}" at offset 6: foo: not a reference (a resource reference is <type>.<name>; a shell ${foo} left unescaped?)',
    ]);
  });

  it("reports an interpolated constant (a shell ${1} left unescaped)", async () => {
    expect(await terraformTemplateProblems(doc('echo "${1}"'))).toEqual([
      '$.resource.aws_instance.host.user_data: "${1}" at offset 6 interpolates a constant (a shell parameter left unescaped? a literal ${ must be written $${)',
    ]);
  });

  it("reports a reference to a missing resource, variable, local, data source or ephemeral resource", async () => {
    const problems = await terraformTemplateProblems(
      doc("${aws_ecs_cluster.gone.name} ${var.nope} ${local.nope} ${data.aws_partition.other.partition} ${ephemeral.random_password.other.result} ${each.key} ${path.nope}"),
    );
    expect(problems.map((p) => p.replace(/^.*? at offset \d+: /, ""))).toEqual([
      "aws_ecs_cluster.gone.name: no resource aws_ecs_cluster.gone in this stack",
      'var.nope: no variable "nope" in this stack',
      'local.nope: no local "nope" in this stack',
      "data.aws_partition.other.partition: no data source aws_partition.other in this stack",
      "ephemeral.random_password.other.result: no ephemeral resource random_password.other in this stack",
      "each.key: used outside a block with for_each",
      "path.nope: path.nope is not defined",
    ]);
  });

  it("reports unparsable expressions, unterminated sequences and %{ directives", async () => {
    expect(await terraformTemplateProblems(doc(["${1 +}", "x ${var.aws_region", "%{ if true }y%{ endif }"]))).toEqual([
      '$.resource.aws_instance.host.user_data[0]: "${1 +}" at offset 0 is not a Terraform expression: ' +
        "cdk.tf.json:0,3-3: Missing expression; Expected the start of an expression, but found the end of the file.",
      expect.stringMatching(/^\$\.resource\.aws_instance\.host\.user_data\[1\]: unterminated \$\{ at offset 2/),
      expect.stringMatching(/^\$\.resource\.aws_instance\.host\.user_data\[2\]: template directive "%\{ if true \}" at offset 0/),
      expect.stringMatching(/^\$\.resource\.aws_instance\.host\.user_data\[2\]: template directive "%\{ endif \}" at offset 13/),
    ]);
  });
});

describe("materializeTerraformString", () => {
  it("replaces references with stable placeholders and unescapes $${ and %%{", () => {
    expect(materializeTerraformString("a=${var.x} b=${ var.y } c=${var.x} d=$${HOME} e=%%{x} f=$$${y}")).toBe("a=TF_REF_0 b=TF_REF_1 c=TF_REF_0 d=${HOME} e=%{x} f=$${y}");
    expect(materializeTerraformString('${jsonencode({a = "}"})}!')).toBe("TF_REF_0!");
    expect(materializeTerraformString("no templates")).toBe("no templates");
  });

  it("throws on an unterminated ${", () => {
    expect(() => materializeTerraformString("x ${var.y")).toThrow(/unterminated \$\{ at offset 2/);
  });
});

describe("heredocBody", () => {
  const script = "cat > /a <<'ONE'\nline 1\n$x\nONE\ncat > /b <<TWO\n$y\nTWO\n";

  it("returns the body of a quoted heredoc", () => {
    expect(heredocBody(script, "ONE")).toBe("line 1\n$x\n");
  });

  it("rejects missing, unquoted and unterminated heredocs", () => {
    expect(() => heredocBody(script, "THREE")).toThrow(/no heredoc <<'THREE'/);
    expect(() => heredocBody(script, "TWO")).toThrow(/not quoted/);
    expect(() => heredocBody("cat <<'END'\nbody\n", "END")).toThrow(/not terminated/);
  });
});
