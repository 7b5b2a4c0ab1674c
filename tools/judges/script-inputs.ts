// A judge of the server scripts that act on values others choose (login and service meta in
// Consul, SSM parameters): every oneshot unit a stack's user data installs runs once with hostile
// answers (option-shaped values, a newline, 10 KB of text, another cluster's ARN, missing fields)
// and must pass none of them to the AWS CLI as an argument or to Consul in a URL, ask ECS only
// about this cluster's valid task IDs, as JSON input, leave what belongs to a running task alone,
// and delete no token or binding rule in a run that met a parameter it could not trust. Removing a
// login token or a service that names no task of the cluster is the reaper's job, not a finding.
import { ecsServiceName } from "../../lib/plan/names";
import { StackValues, type TerraformDoc } from "./iam";
import { clusterArnOf, parameterPaths, runInstalledUnits, userDataRuns, type UnitRun } from "./iam-calls";
import { exactArgs, type Stub, type StubCall } from "./run-script";

/** What an attacker who can log in, register a service or write an SSM parameter chooses. */
export const HOSTILE = {
  query: "--query=tasks[0].lastStatus",
  endpoint: "--endpoint-url=https://attacker.example",
  newline: "0123456789abcdef0123456789abcdef\n--region=eu-west-1",
  long: "A".repeat(10 * 1024),
} as const;
const MARKERS = ["--query=", "attacker.example", "--region=eu-west-1", "A".repeat(64)];

/** A task of the cluster that ECS reports RUNNING: what belongs to it must stay. */
const RUNNING = "0123456789abcdef0123456789abcdef";
const RUNNING_SERVICE_NAME = "web";
const RUNNING_SERVICE = `${RUNNING_SERVICE_NAME}-${RUNNING}`;
const RUNNING_TOKEN = "0e0e0e0e-1111-4000-8000-000000000001";
const LONG_AGO = "2026-01-01T00:00:00Z";
const STALE_TOKEN = "0e0e0e0e-4444-4000-8000-000000000001";
const STALE_RULE = "0e0e0e0e-5555-4000-8000-000000000001";

function hostileStubs(base: Record<string, Stub>, clusterArn: string, parameterPaths: readonly string[]): Record<string, Stub> {
  const login = (meta: unknown) => `token created via login: ${JSON.stringify(meta)}`;
  const meta = (task: string, cluster = clusterArn) => ({ "consul.hashicorp.com/cluster": cluster, "consul.hashicorp.com/task-id": task });
  const tokens = [
    { AccessorID: RUNNING_TOKEN, Description: login(meta(RUNNING)), CreateTime: LONG_AGO, ServiceIdentities: [{ ServiceName: RUNNING_SERVICE_NAME }] },
    ...Object.values(HOSTILE).map((task, i) => ({ AccessorID: `0e0e0e0e-2222-4000-8000-00000000000${i}`, Description: login(meta(task)), CreateTime: LONG_AGO })),
    { AccessorID: "0e0e0e0e-3333-4000-8000-000000000001", Description: login(meta(RUNNING, clusterArn.replace(/cluster\/.*$/, "cluster/another"))), CreateTime: LONG_AGO },
    { AccessorID: HOSTILE.query, Description: login(meta(RUNNING)), CreateTime: LONG_AGO },
    { CreateTime: LONG_AGO },
  ];
  const services = {
    Services: [{ ID: RUNNING_SERVICE, Meta: { "task-id": RUNNING } }, ...Object.values(HOSTILE).map((task) => ({ ID: task, Meta: { "task-id": task } })), { ID: "no-meta" }],
  };
  // Under each path the stack writes parameters to: names of the right shape with hostile values, and hostile names.
  const parameters = (path: string) => ({
    Parameters: [
      { Name: `${path}/web`, Value: HOSTILE.endpoint },
      { Name: `${path}/api`, Value: HOSTILE.newline },
      { Name: `${path}/orders`, Value: HOSTILE.long },
      { Name: `${path}/${HOSTILE.query}`, Value: HOSTILE.query },
      { Name: HOSTILE.newline, Value: HOSTILE.endpoint },
      { Value: HOSTILE.query },
    ],
  });
  const group = `service:${ecsServiceName(clusterArn.replace(/^.*:cluster\//, ""), RUNNING_SERVICE_NAME)}`;
  const ecs = { tasks: [{ taskArn: `${clusterArn.replace(":cluster/", ":task/")}/${RUNNING}`, lastStatus: "RUNNING", group }], failures: [] };
  return {
    ...base,
    curl: {
      ...base.curl,
      rules: [
        { when: "* -X GET */acl/tokens[?]authmethod=*", answers: [{ stdout: JSON.stringify(tokens) }] },
        { when: "* -X GET */catalog/node-services/*", answers: [{ stdout: JSON.stringify(services) }] },
        // What a sync run could delete: a token of a removed service, a binding rule no parameter asks for.
        { when: "* -X GET */acl/tokens", answers: [{ stdout: JSON.stringify([{ AccessorID: STALE_TOKEN, Description: "managed-by:consul-ecs-mesh service:removed" }]) }] },
        { when: "* -X GET */acl/binding-rules[?]*", answers: [{ stdout: JSON.stringify([{ ID: STALE_RULE, BindType: "service", BindName: "removed", Selector: "" }]) }] },
        ...(base.curl?.rules ?? []),
      ],
    },
    aws: {
      ...base.aws,
      rules: [
        ...parameterPaths.map((path) => ({ when: `ssm get-parameters-by-path * --path ${exactArgs(path)} *`, answers: [{ stdout: JSON.stringify(parameters(path)) }] })),
        { when: "ssm get-parameters-by-path *", answers: [{ stdout: JSON.stringify(parameters("/x")) }] },
        { when: "ecs describe-tasks *", answers: [{ stdout: JSON.stringify(ecs) }] },
        ...(base.aws?.rules ?? []),
      ],
    },
  };
}

const urlOf = (call: StubCall) => call.args.find((a) => /^https?:\/\//.test(a)) ?? "";
const isDelete = (call: StubCall) => call.program === "curl" && call.args.includes("DELETE");

/** What one unit did with the hostile values. */
function problemsOf(run: UnitRun, clusterArn: string): string[] {
  const problems: string[] = [];
  const unit = run.unit.replace(/^.*\//, "");
  for (const call of run.calls.filter((c) => c.program === "aws" || c.program === "curl")) {
    const leaked = call.args.filter((arg) => MARKERS.some((m) => arg.includes(m)) && !(call.program === "aws" && arg.startsWith("{")));
    if (leaked.length) problems.push(`${unit}: ${call.program} got a value read from Consul or SSM as an argument: ${JSON.stringify(leaked[0]!.slice(0, 80))}`);
    if (call.program === "aws" && call.args[0] === "ecs" && call.args[1] === "describe-tasks") {
      if (call.args.includes("--tasks")) problems.push(`${unit}: describe-tasks names its tasks as arguments, not as JSON input`);
      const input = call.args[call.args.indexOf("--cli-input-json") + 1];
      let request: { cluster?: unknown; tasks?: unknown } = {};
      try {
        request = input ? (JSON.parse(input) as typeof request) : {};
      } catch {
        problems.push(`${unit}: describe-tasks input is not JSON`);
      }
      if (request.cluster !== clusterArn) problems.push(`${unit}: describe-tasks asks about cluster ${JSON.stringify(request.cluster)}, not this mesh's`);
      const invalid = (Array.isArray(request.tasks) ? request.tasks : []).filter((t) => typeof t !== "string" || !/^[0-9a-f]{32}$/.test(t));
      if (invalid.length) problems.push(`${unit}: describe-tasks asks about ${JSON.stringify(String(invalid[0]).slice(0, 80))}, which is no task ID`);
    }
  }
  for (const call of run.calls.filter((c) => c.program === "curl" && c.stdin !== undefined && !urlOf(c).endsWith("/catalog/deregister"))) {
    if (MARKERS.some((m) => call.stdin!.includes(m))) problems.push(`${unit}: wrote a value it did not check into Consul (${urlOf(call).replace(/^https?:\/\/[^/]+/, "")})`);
  }
  for (const call of run.calls.filter(isDelete)) {
    if (urlOf(call).endsWith(`/acl/token/${RUNNING_TOKEN}`)) problems.push(`${unit}: deleted the login token of a running task`);
  }
  for (const call of run.calls.filter((c) => c.program === "curl" && urlOf(c).endsWith("/catalog/deregister"))) {
    if ((call.stdin ?? "").includes(RUNNING_SERVICE)) problems.push(`${unit}: deregistered the service of a running task`);
  }
  // A run that met a parameter it could not trust deletes nothing it manages (tokens, binding rules).
  const readParameters = run.calls.some((c) => c.program === "aws" && c.args[0] === "ssm" && c.args[1] === "get-parameters-by-path");
  if (readParameters) {
    const deleted = run.calls.filter(isDelete).map(urlOf);
    if (deleted.length) problems.push(`${unit}: deleted ${deleted[0]!.replace(/^https?:\/\/[^/]+/, "")} in a run that met hostile SSM parameters`);
    if (run.exitCode === 0) problems.push(`${unit}: met hostile SSM parameters and still reported success`);
  } else if (run.exitCode !== 0) {
    problems.push(`${unit}: failed on hostile input (exit ${run.exitCode}): one hostile value stops it for every task: ${run.stderr.trim().split("\n")[0]!.slice(0, 120)}`);
  }
  return problems;
}

/** One unit's problem with hostile inputs: which stack, which instance or launch template, which unit. */
export interface ScriptInputFinding {
  readonly stack: string;
  /** The aws_instance or aws_launch_template whose user data installed the unit. */
  readonly resource: string;
  readonly problem: string;
}

/** Every problem of every stack's server scripts with hostile inputs; none: they treat what they read as data. */
export function scriptInputFindings(stacks: Readonly<Record<string, TerraformDoc>>): ScriptInputFinding[] {
  return Object.entries(stacks).flatMap(([stack, doc]) => {
    const values = new StackValues(stack, doc);
    const clusterArn = clusterArnOf(values);
    const paths = parameterPaths(values);
    return userDataRuns(values).flatMap(({ name, script }) =>
      runInstalledUnits(values, script, clusterArn, (base) => hostileStubs(base, clusterArn, paths)).units.flatMap((run) =>
        problemsOf(run, clusterArn).map((problem) => ({ stack, resource: name, problem })),
      ),
    );
  });
}

/** The same, one line each: "<stack>/<resource> <unit>: <problem>". */
export function judgeScriptInputs(stacks: Readonly<Record<string, TerraformDoc>>): string[] {
  return scriptInputFindings(stacks).map((f) => `${f.stack}/${f.resource} ${f.problem}`);
}
