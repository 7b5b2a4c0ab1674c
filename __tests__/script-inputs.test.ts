// The script-inputs judge (tools/judges/script-inputs.ts) runs the servers' units of a synthesized
// stack with hostile answers from Consul, SSM and ECS. The shipped stacks pass; each protection the
// reaper and consul-acl-sync have, dropped from the rendered user data, is reported.
import { describe, expect, it } from "vitest";
import { DEFAULT_SPEC } from "../lib/spec/default-spec";
import { loadSpecFile } from "../lib/pipeline";
import { judgeScriptInputs } from "../tools/judges/script-inputs";
import { synthAllStacks } from "./support/synth";

const production = () => synthAllStacks(loadSpecFile("examples/production.yaml").spec as never) as Record<string, any>;

/** The mesh stack with its first server only (every server installs the same units): one boot per judge run. */
function firstServerOnly(stacks: Record<string, any>): Record<string, any> {
  const resource = stacks.mesh.resource as Record<string, Record<string, unknown>>;
  for (const type of ["aws_instance", "aws_launch_template"]) {
    const names = Object.keys(resource[type] ?? {});
    const keep = names.filter((n) => n.startsWith("consul_servers_")).sort()[0];
    for (const name of names) if (name !== keep) delete resource[type]![name];
  }
  return stacks;
}

/** The stacks with every server's user data edited; the edit must change something. */
function edited(edit: (userData: string) => string, stacks: Record<string, any> = firstServerOnly(production())): Record<string, any> {
  const locals = stacks.mesh.locals as Record<string, string>;
  const servers = Object.keys(locals).filter((name) => name.startsWith("consul_servers_"));
  expect(servers.length).toBeGreaterThan(0);
  for (const name of servers) {
    const after = edit(locals[name]!);
    expect(after, name).not.toBe(locals[name]);
    locals[name] = after;
  }
  return { mesh: stacks.mesh };
}

describe("the servers' scripts with hostile inputs", () => {
  it("the production stacks pass: no hostile value reaches an argument or a URL, nothing of a running task is removed", () => {
    expect(judgeScriptInputs(production())).toEqual([]);
  });

  it("reports a reaper that names its tasks as arguments", () => {
    const problems = judgeScriptInputs(edited((u) => u.replace('--cli-input-json "$request"', '--cluster "$CLUSTER_ARN" --tasks "${tasks[@]:i:100}"')));
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("consul-task-reaper.service: describe-tasks names its tasks as arguments, not as JSON input")]));
  });

  it("reports a reaper that no longer checks task IDs", () => {
    const problems = judgeScriptInputs(edited((u) => u.replaceAll('| tostring | if test($id) then . else "" end', "| tostring")));
    // The first hostile ID reaches jq as an option: the reaper stops, and with it every cleanup.
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/consul-task-reaper\.service: failed on hostile input \(exit 2\): one hostile value stops it for every task: jq: Unknown option --endpoint-url/),
      ]),
    );
  });

  it("reports a reaper that asks ECS about another cluster's tasks", () => {
    const another = "arn:aws:ecs:us-east-1:111122223333:cluster/another-mesh";
    const problems = judgeScriptInputs(
      edited((u) => u.replace(`jq -cn --arg cluster "$CLUSTER_ARN" '{cluster: $cluster,`, `jq -cn --arg cluster "${another}" '{cluster: $cluster,`)),
    );
    expect(problems).toEqual([`mesh/consul_servers_server_1_launch_template consul-task-reaper.service: describe-tasks asks about cluster "${another}", not this mesh's`]);
  });

  it("reports a reaper that deregisters the service of a task ECS reports running", () => {
    const problems = judgeScriptInputs(edited((u) => u.replace(`'.[] | select(.task == "" or (.task as $t`, `'.[] | select(true or (.task as $t`)));
    expect(problems).toEqual(["mesh/consul_servers_server_1_launch_template consul-task-reaper.service: deregistered the service of a running task"]);
  });

  it("reports a sync that deletes in a run that met hostile parameters", () => {
    const problems = judgeScriptInputs(edited((u) => u.replace(/if \(\(skipped\)\); then\n[^\n]*\n {2}exit 1\nfi\n/, "")));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("consul-acl-sync.service: deleted /v1/acl/token/0e0e0e0e-4444-4000-8000-000000000001 in a run that met hostile SSM parameters"),
      ]),
    );
    const rules = judgeScriptInputs(edited((u) => u.replace("if ((rules_skipped == 0)); then", "if true; then")));
    expect(rules).toEqual(expect.arrayContaining([expect.stringContaining("consul-acl-sync.service: deleted /v1/acl/binding-rule/0e0e0e0e-5555-4000-8000-000000000001")]));
  });

  it("reports a hostile value that reaches Consul unchecked: a role ID that becomes a binding rule's selector", () => {
    const problems = judgeScriptInputs(edited((u) => u.replace(' || ! "$role_id" =~ $ROLE_ID', "")));
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("consul-acl-sync.service: wrote a value it did not check into Consul (/v1/acl/binding-rule)")]));
  });

  it("reports a hostile value that reaches the AWS CLI as an option (the agent mesh's token sync)", () => {
    expect(judgeScriptInputs({ mesh: (synthAllStacks(DEFAULT_SPEC) as Record<string, any>).mesh })).toEqual([]);
    // The secret ARN check of consul-acl-sync, dropped: an SSM value becomes --secret-id.
    const problems = judgeScriptInputs(edited((u) => u.replace(/ \|\| ! "\$arn" =~ \$arn_pattern/, ""), firstServerOnly(synthAllStacks(DEFAULT_SPEC) as Record<string, any>)));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/consul-acl-sync\.service: aws got a value read from Consul or SSM as an argument: "--endpoint-url=https:\/\/attacker\.example"/),
      ]),
    );
  });
});
