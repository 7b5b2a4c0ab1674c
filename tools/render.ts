// npm run render: every text artifact the stacks carry, written out for review and checked
// by the judges the tests use too (tools/judges).
//
// The spec (MESH_SPEC, cdktf.json context.meshSpec, or the built-in default) is synthesized
// in-process into a temp dir, and the artifacts are read back from the synthesized Terraform
// JSON (not re-rendered from templates), so what is reviewed is what Terraform would deploy:
//
//   review/<spec-name>/<stack>/<service>.containers.json   container definitions, pretty-printed
//   review/<spec-name>/<stack>/<service>.<container>.<n>.hcl   each `-hcl` argument of a container
//   review/<spec-name>/<stack>/<service>.<container>.sh     each `sh -c` script of a container
//   review/<spec-name>/<stack>/<instance>.user-data.sh      EC2 user data, materialized
//   review/<spec-name>/<stack>/<instance>.files/<file>      files the user data writes (heredocs)
//   review/<spec-name>/<stack>/<name>.envoy.yaml            Envoy configs found in the stack
//   review/<spec-name>/<stack>/consul-config-entries.json   the Consul config entries the stack applies
//
// "Materialized": Terraform references become placeholders and `$${` / `%%{` become `${` / `%{`,
// which is the text the instance or container receives. Exit 1 when any validator fails or the
// model has an error; exit 2 when a validator could not run because its program is missing (an
// unchecked artifact is not a failed one: the table says "not run" and the end names the tool
// and how to get it).
//
// First it prints the deployability model of the spec (lib/rules/model.ts): a table per task,
// host and server with each need, its verdict and the path or arrangement that meets it. When
// the rules reject the spec, the model is printed with the errors, and nothing is rendered. Then
// the call edges (lib/plan/traffic.ts): who calls whom, what the intentions allow, the timeout
// and the retries Consul applies on each.
// Last, the IAM judge's table: each AWS call a role makes, its resource, and the statement that
// allows it; a denied call fails the run, a grant no call uses is a warning.
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { stateBackendFrom } from "../stacks";
import { loadSpec, RejectedPlan, type LoadedSpec } from "../lib/pipeline";
import { formatSpecIssues, SpecError } from "../lib/issues";
import { cdktfContext, modelTables, parseCli, PROJECT_ROOT, runTool, table, usageError } from "./support";
import { synthesizePlan } from "./synthesize";
import * as judges from "./judges";
import { judgeConsulConfig } from "./judges/consul-config";
import { judgeConfigEntries } from "./judges/consul-config-entries";
import { CONSUL_DEFAULT_REQUEST_TIMEOUT_MS, formatDuration } from "../lib/plan/traffic";
import { judgeConsulEcsConfig } from "./judges/consul-ecs-config";
import { USER_DATA_MAX_BYTES } from "../lib/aws-limits";
import { compressedUserDataBytes } from "../lib/rules/artifacts";
import { ENVOY_API, judgeEnvoyBootstrap } from "./judges/envoy";
import type { MeshPlan } from "../lib/plan/types";
import { evaluateIam, iamTableRows, type IamReport } from "./judges/iam";
import { meshCalls } from "./judges/iam-calls";
import { judgeScriptInputs } from "./judges/script-inputs";

const USAGE = `usage: npm run render -- [--spec <file>] [--out <dir>]

Synthesizes a spec in a temp dir and writes every text artifact of its stacks (container definitions,
Consul HCL, scripts, user data, Envoy configs) for review, each checked by the judges the tests use.
  --spec <file>   the spec (default: MESH_SPEC, else cdktf.json context.meshSpec, else the built-in default)
  --out <dir>     where to write (default: review/<spec name>/, git-ignored); it must be empty, missing,
                  or an earlier render's output, which is replaced
  -h, --help      this text

Exit status: 0 every check passed, 1 an artifact failed a check, 2 a check could not run (a judge's
program such as shellcheck is missing; the output says how to get it) or bad usage.`;

/** Marks a directory as render output, so a later run may replace it and nothing else. */
export const OUTPUT_MARKER = ".mesh-render-output";

interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly [key: string]: unknown;
}

interface Check {
  readonly artifact: string;
  readonly validator: string;
  readonly problems: readonly string[];
  /** Set when the validator could not run: its program is missing. */
  readonly missing?: judges.MissingToolError;
}

/** Problems as strings, whatever shape a validator returns them in. */
function asProblems(result: unknown): string[] {
  if (result === undefined || result === null || result === true) return [];
  if (result === false) return ["failed"];
  if (typeof result === "string") return result.trim() === "" ? [] : [result];
  if (Array.isArray(result)) return result.flatMap(asProblems);
  if (typeof result === "object") {
    const r = result as Record<string, unknown>;
    if ("ok" in r && r.ok === true) return [];
    for (const key of ["errors", "problems", "issues", "findings"]) if (key in r) return asProblems(r[key]);
    if ("message" in r) return [String(r.message)];
    return [JSON.stringify(result)];
  }
  return [String(result)];
}

/** One run's checks: rows in call order, and the validators still running. */
interface Checks {
  readonly rows: Check[];
  readonly pending: Promise<void>[];
}

/** Runs a validator (sync or async); a throw is a failure with its message. Rows keep call order. */
function runCheck({ rows: checks, pending }: Checks, artifact: string, validator: string, run: () => unknown): void {
  const row: { artifact: string; validator: string; problems: string[]; missing?: judges.MissingToolError } = { artifact, validator, problems: [] };
  checks.push(row);
  const fail = (error: unknown) => {
    if (error instanceof judges.MissingToolError) row.missing = error;
    else row.problems = [(error as Error)?.message ?? String(error)];
  };
  try {
    const result = run();
    if (result instanceof Promise)
      pending.push(
        result.then((r) => {
          row.problems = asProblems(r);
        }, fail),
      );
    else row.problems = asProblems(result);
  } catch (error) {
    fail(error);
  }
}

/** lintShell's { ok, output } as problems. */
function shellProblems(script: string, shell: "sh" | "bash"): string[] {
  const { ok, output } = judges.lintShell(script, shell);
  return ok ? [] : output.split("\n").filter((line) => line.trim() !== "");
}

/** The shell a script is written for: its shebang, else the one that runs it. */
function shellOf(script: string, runner: string): "sh" | "bash" {
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(script);
  const name = (shebang ? (shebang[1]!.endsWith("/env") ? (shebang[2] ?? "") : shebang[1]!) : runner).replace(/^.*\//, "");
  return name === "bash" ? "bash" : "sh";
}

/** Heredocs of a shell script: `cat > <path> <<'DELIM'` ... `DELIM`. */
export function heredocFiles(script: string): { target: string; body: string }[] {
  const lines = script.split("\n");
  const files: { target: string; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*cat\s+>>?\s*(\S+)\s+<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\2\s*$/.exec(lines[i]!);
    if (!open) continue;
    const delimiter = open[3]!;
    const end = lines.findIndex((line, j) => j > i && line === delimiter);
    if (end < 0) continue;
    files.push({ target: open[1]!.replace(/^["']|["']$/g, ""), body: `${lines.slice(i + 1, end).join("\n")}\n` });
    i = end;
  }
  return files;
}

/** Any string inside a value, with where it was found. */
function* strings(value: unknown, at: string): Generator<[string, string]> {
  if (typeof value === "string") yield [at, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${at}[${i}]`);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) yield* strings(v, `${at}.${k}`);
}

/** An Envoy config: YAML or JSON with static_resources / dynamic_resources / admin at the top. */
function envoyConfig(text: string): Record<string, unknown> | undefined {
  if (!/static_resources|dynamic_resources/.test(text)) return undefined;
  try {
    const doc = YAML.parse(text) as unknown;
    return doc && typeof doc === "object" && ("static_resources" in doc || "dynamic_resources" in doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function synthesize({ plan, source }: LoadedSpec): { specName: string; source: string; stacks: Record<string, TerraformJson> } {
  return { specName: plan.name, source, stacks: synthesizePlan(plan, stateBackendFrom(process.env, cdktfContext("stateBackend"), plan)) as Record<string, TerraformJson> };
}

/** "service_http-server_task_definition" -> "http-server"; other task definitions by resource name. */
function serviceOf(resourceName: string): string {
  return /^service_(.+)_task_definition$/.exec(resourceName)?.[1] ?? resourceName.replace(/_task_definition$/, "");
}

const materialize = (text: string): string => judges.materializeTerraformString(text);

/** Empties an output directory that is missing, empty or an earlier render's; refuses any other. */
function prepareOutput(root: string, explicit: boolean): void {
  if (fs.existsSync(root)) {
    const entries = fs.readdirSync(root);
    const ours = entries.includes(OUTPUT_MARKER) || (!explicit && entries.length > 0 && path.dirname(root) === path.join(PROJECT_ROOT, "review"));
    if (entries.length > 0 && !ours) usageError(`--out ${root}: not empty and not an earlier render's output; nothing was written`, USAGE);
    fs.rmSync(root, { recursive: true, force: true });
  }
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, OUTPUT_MARKER), "Written by npm run render; the next run replaces this directory.\n");
}

/** The model of the spec, printed; the number of its errors. */
function printModel(plan: MeshPlan): number {
  const { text, errors } = modelTables(plan);
  console.log(`Deployability model of ${plan.name} (lib/rules/model.ts)\n\n${text}\n`);
  return errors;
}

/**
 * The call edges as a table: source, destination, its protocol, what the intentions allow ("*":
 * everything, "-": nothing, else the allow permissions), the timeout and the retries.
 */
export function trafficTable(plan: MeshPlan): string {
  const rows = plan.traffic.edges.map((edge) => {
    const route = plan.traffic.routes.get(edge.destination);
    const timeout =
      edge.timeoutMs === undefined
        ? "-"
        : `${formatDuration(edge.timeoutMs)}${route?.timeoutMs === undefined && edge.timeoutMs === CONSUL_DEFAULT_REQUEST_TIMEOUT_MS ? " (default)" : ""}`;
    const retries = edge.attempts === 1 ? "-" : `${edge.attempts} attempts on ${[...(route?.on ?? []), ...(route?.statusCodes ?? []).map(String)].join(", ")}`;
    return [edge.source, edge.destination, edge.protocol, edge.allowed, timeout, retries, splitOf(plan, edge.destination)];
  });
  return table([["source", "destination", "protocol", "allowed", "timeout", "retries", "split"], ...rows]);
}

/** Where a destination's requests go: its routes in order ("<match> -> <target>"), then its split or default version; "-" for one version. */
function splitOf(plan: MeshPlan, destination: string): string {
  const service = plan.services.find((s) => s.name === destination);
  if (service === undefined) return "-";
  const routes = service.routes.map((r) => {
    const match = [
      r.methods?.join(","),
      r.pathExact ?? (r.pathPrefix === undefined ? undefined : `${r.pathPrefix}*`),
      r.headers.map((h) => `[${h.name}${h.exact === undefined ? "" : `=${h.exact}`}]`).join(""),
    ].filter((part) => part !== undefined && part !== "");
    return `${match.join(" ")} -> ${r.version ?? r.service}`;
  });
  const split = service.split;
  const rest =
    split !== undefined
      ? Object.keys(split)
          .sort()
          .map((version) => `${version} ${split[version]} %`)
          .join(", ")
      : service.versions.length > 0
        ? `${service.defaultVersion} (default)`
        : undefined;
  const parts = [...routes, ...(rest === undefined ? [] : [rest])];
  return parts.length === 0 ? "-" : parts.join("; ");
}

/** Parsed JSON, or the text itself when it is not JSON (the judge then says so). */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Where a stack puts EC2 user data. */
const USER_DATA_ATTRIBUTES = [
  ["aws_instance", "user_data"],
  ["aws_instance", "user_data_base64"],
  ["aws_launch_template", "user_data"],
] as const;

/** The script of a user data value: a literal script, or `${base64gzip|base64encode(local.NAME)}`; undefined for anything else. */
export function userDataOf(value: unknown, locals: Record<string, unknown>): { text: string; gzipped: boolean } | undefined {
  if (typeof value !== "string") return undefined;
  const local = /^\$\{(base64gzip|base64encode)\(local\.([A-Za-z0-9_-]+)\)\}$/.exec(value);
  if (!local) return value.startsWith("#!") ? { text: value, gzipped: false } : undefined;
  const text = locals[local[2]!];
  return typeof text === "string" ? { text, gzipped: local[1] === "base64gzip" } : undefined;
}

export async function main(args: readonly string[]): Promise<number> {
  const { values } = parseCli(USAGE, { spec: { type: "string" }, out: { type: "string" } }, false, args);
  const env = values.spec === undefined ? process.env : { ...process.env, MESH_SPEC: path.resolve(values.spec) };
  let loaded: LoadedSpec;
  try {
    loaded = loadSpec(env, cdktfContext("meshSpec"));
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    if (error instanceof RejectedPlan) printModel(error.plan);
    console.error(error.message);
    return 1;
  }
  if (loaded.warnings.length > 0) console.error(formatSpecIssues(loaded.source, [], loaded.warnings));
  const modelErrors = printModel(loaded.plan);
  if (loaded.plan.traffic.edges.length > 0) console.log(`Call edges of ${loaded.plan.name} (lib/plan/traffic.ts)\n\n${trafficTable(loaded.plan)}\n`);
  const { specName, source, stacks } = synthesize(loaded);
  const root = values.out === undefined ? path.join(PROJECT_ROOT, "review", specName) : path.resolve(values.out);
  prepareOutput(root, values.out !== undefined);
  const written: string[] = [];
  const write = (relative: string, text: string): string => {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(relative);
    return relative;
  };
  const run: Checks = { rows: [], pending: [] };
  const checks = run.rows;
  const check = (artifact: string, validator: string, validate: () => unknown): void => runCheck(run, artifact, validator, validate);

  /** A file a script writes with a heredoc: written out, and checked by its kind. */
  const embeddedFile = (dir: string, target: string, body: string): void => {
    const file = write(`${dir}/${path.basename(target).replace(/^\$\{?\w+\}?\/?/, "") || "file"}`, body);
    const envoy = /\.ya?ml$/.test(target) ? envoyConfig(body) : undefined;
    if (envoy) check(file, "judgeEnvoyBootstrap", () => judgeEnvoyBootstrap(body));
    else if (/\.ya?ml$/.test(target))
      check(file, "YAML.parse", () => {
        YAML.parse(body);
        return [];
      });
    else if (target.endsWith(".hcl")) check(file, "judgeConsulConfig", () => judgeConsulConfig(body, "agent", path.basename(target)));
    else if (target.endsWith(".json"))
      check(file, "JSON.parse", () => {
        JSON.parse(body);
        return [];
      });
    else if (body.startsWith("#!")) check(file, "lintShell", () => shellProblems(body, shellOf(body, "sh")));
  };

  for (const [stackName, config] of Object.entries(stacks)) {
    const resources = config.resource ?? {};
    // Every string of the stack (container definitions, user data, policies, ...) as a Terraform
    // template: escapes, expressions and references.
    check(`${stackName}/cdk.tf.json`, "terraformTemplateProblems", () => judges.terraformTemplateProblems(config));

    // The Consul config entries (intentions, service-defaults, routers) against the reference of the pinned Consul.
    const entries = resources.consul_config_entry ?? {};
    if (Object.keys(entries).length > 0) {
      const readable = Object.fromEntries(Object.entries(entries).map(([id, e]) => [id, { kind: e.kind, name: e.name, config: jsonOrText(String(e.config_json)) }]));
      const file = write(`${stackName}/consul-config-entries.json`, `${JSON.stringify(readable, null, 2)}\n`);
      check(file, "judgeConfigEntries", () => judgeConfigEntries(config));
    }

    for (const [name, task] of Object.entries(resources.aws_ecs_task_definition ?? {})) {
      const service = serviceOf(name);
      const raw = String(task.container_definitions ?? "");
      const artifact = `${stackName}/${service}.containers.json`;
      let containers: Record<string, unknown>[];
      try {
        containers = JSON.parse(materialize(raw)) as Record<string, unknown>[];
      } catch (error) {
        check(artifact, "JSON.parse", () => [`not JSON after materializing: ${(error as Error).message}`]);
        continue;
      }
      const shown = write(artifact, `${JSON.stringify(containers, null, 2)}\n`);
      const networkMode = (task.network_mode ?? "awsvpc") as judges.ContainerDefinitionOptions["networkMode"];
      check(shown, "ecsContainerDefinitionErrors", () => judges.ecsContainerDefinitionErrors(containers, { networkMode }));
      check(shown, "taskDefinitionErrors", () => judges.taskDefinitionErrors(task as judges.TaskDefinitionFields, containers));

      for (const container of containers) {
        const cname = String(container.name);
        const args = [...((container.entryPoint as string[] | undefined) ?? []), ...((container.command as string[] | undefined) ?? [])];
        // Every `-hcl <text>` argument (agent config, service registration, ...), wherever it is.
        let n = 0;
        args.forEach((arg, i) => {
          if (arg !== "-hcl" || typeof args[i + 1] !== "string") return;
          n += 1;
          const text = args[i + 1]!;
          const kind = /^\s*service\s*\{/m.test(text) ? "service" : "agent";
          const file = write(`${stackName}/${service}.${cname}.${n}-${kind}.hcl`, text.endsWith("\n") ? text : `${text}\n`);
          check(file, "judgeConsulConfig", () => judgeConsulConfig(text, kind === "service" ? "service-definition" : "agent", path.basename(file)));
        });
        // Every script run by a shell: sh/bash -c / -ec <script>.
        args.forEach((arg, i) => {
          if (!/^-[a-z]*c$/.test(arg) || !/(^|\/)(ba)?sh$/.test(args[i - 1] ?? "") || typeof args[i + 1] !== "string") return;
          const text = args[i + 1]!;
          const shell = shellOf(text, args[i - 1]!);
          const file = write(`${stackName}/${service}.${cname}.sh`, `#!/bin/${shell}\n${text}${text.endsWith("\n") ? "" : "\n"}`);
          check(file, "lintShell", () => shellProblems(`#!/bin/${shell}\n${text}`, shell));
          for (const { target, body } of heredocFiles(text)) embeddedFile(`${stackName}/${service}.${cname}.files`, target, body);
        });
        // The consul-ecs configuration of a dataplane task's mesh-init and health-sync.
        for (const variable of (container.environment as { name?: string; value?: string }[] | undefined) ?? []) {
          if (variable.name !== "CONSUL_ECS_CONFIG_JSON" || typeof variable.value !== "string") continue;
          const config = variable.value;
          const file = write(`${stackName}/${service}.${cname}.consul-ecs.json`, `${config}\n`);
          check(file, "judgeConsulEcsConfig", () => judgeConsulEcsConfig(config));
        }
        const health = (container.healthCheck as { command?: string[] } | undefined)?.command;
        if (health && (health[0] === "CMD-SHELL" || /(^|\/)(ba)?sh$/.test(health[1] ?? ""))) {
          const script = health[0] === "CMD-SHELL" ? health[1]! : health[health.length - 1]!;
          const shell = health[0] === "CMD-SHELL" ? "sh" : health[1]!.replace(/^.*\//, "");
          const file = write(`${stackName}/${service}.${cname}.healthcheck.${shell === "bash" ? "bash" : "sh"}`, `#!/bin/${shell}\n${script}\n`);
          check(file, "lintShell", () => shellProblems(`#!/bin/${shell}\n${script}`, shell === "bash" ? "bash" : "sh"));
        }
      }

      for (const [at, text] of strings(containers, service)) {
        const envoy = envoyConfig(text);
        if (!envoy) continue;
        const file = write(`${stackName}/${service}.${at.replace(/[^A-Za-z0-9_.-]+/g, "_")}.envoy.yaml`, text.endsWith("\n") ? text : `${text}\n`);
        check(file, "judgeEnvoyBootstrap", () => judgeEnvoyBootstrap(text));
      }
    }

    // User data of instances and launch templates: a literal, or a local the stack gzips or encodes.
    for (const [type, attribute] of USER_DATA_ATTRIBUTES) {
      for (const [name, resource] of Object.entries(resources[type] ?? {})) {
        const value = resource[attribute];
        if (value === undefined) continue;
        const found = userDataOf(value, (config.locals ?? {}) as Record<string, unknown>);
        if (!found) {
          check(`${stackName}/${name}`, `read ${attribute}`, () => [`user data render cannot read: ${JSON.stringify(value).slice(0, 80)}`]);
          continue;
        }
        const script = materialize(found.text);
        const shown = write(`${stackName}/${name}.user-data.sh`, script);
        check(shown, "lintShell", () => shellProblems(script, shellOf(script, "sh")));
        const bytes = found.gzipped ? compressedUserDataBytes(script) : Buffer.byteLength(script);
        check(shown, `EC2 user data <= ${USER_DATA_MAX_BYTES} bytes${found.gzipped ? " gzipped" : ""}`, () => (bytes > USER_DATA_MAX_BYTES ? [`${bytes} bytes`] : []));
        for (const { target, body } of heredocFiles(script)) embeddedFile(`${stackName}/${name}.files`, target, body);
      }
    }

    // Envoy configs anywhere else in the stack (e.g. a TLS edge task's bootstrap).
    for (const [type, byName] of Object.entries(resources)) {
      if (type === "aws_ecs_task_definition") continue;
      for (const [name, body] of Object.entries(byName)) {
        for (const [at, text] of strings(body, `${type}.${name}`)) {
          const envoy = envoyConfig(materialize(text));
          if (!envoy) continue;
          const file = write(`${stackName}/${name}.${at.split(".").pop()}.envoy.yaml`, materialize(text));
          check(file, "judgeEnvoyBootstrap", () => judgeEnvoyBootstrap(text));
        }
      }
    }
  }

  // Who may do what: every AWS call of the stacks' roles, allowed by which statement (tools/judges/iam.ts).
  let iam: IamReport | undefined;
  check("IAM of every role", "evaluateIam (iam-simulate)", async () => {
    iam = await evaluateIam(stacks, meshCalls(stacks, loaded.plan));
    return iam.verdicts.filter((v) => !v.allowed).map((v) => `${v.call.role} ${v.call.action} on ${v.call.resource} (${v.call.caller}): ${v.denial}`);
  });

  // The servers' units with hostile answers from Consul, SSM and ECS (tools/judges/script-inputs.ts).
  check("server scripts with hostile inputs", "judgeScriptInputs", () => judgeScriptInputs(stacks));

  await Promise.all(run.pending);
  if (iam) {
    console.log(`IAM: ${iam.verdicts.length} calls of the stacks' roles (recorded from the scripts, or declared with their sources in tools/judges/iam-calls.ts)\n`);
    console.log(`${table(iamTableRows(iam))}\n`);
    for (const u of iam.unused) console.log(`IAM warning: ${u.stack}/${u.role} policy ${u.policy} statement #${u.statement} grants ${u.action}, which no call uses`);
    for (const b of iam.broad) console.log(`IAM warning: ${b.stack}/${b.role} policy ${b.policy} statement #${b.statement} grants ${b.what}`);
  }
  const failed = checks.filter((c) => c.problems.length > 0);
  const notRun = checks.filter((c) => c.missing !== undefined);
  const shownRoot = path.relative(PROJECT_ROOT, root).startsWith("..") ? root : path.relative(PROJECT_ROOT, root);
  console.log(`Rendered ${written.length} files from ${source} into ${shownRoot}/ (artifacts below are relative to it)\n`);
  console.log(
    table([
      ["artifact", "validator", "result"],
      ...checks.map((c) => [c.artifact, c.validator, c.missing ? `not run (${c.missing.tool} missing)` : c.problems.length === 0 ? "ok" : `FAIL (${c.problems.length})`]),
    ]),
  );
  for (const c of failed) {
    console.log(`\n${c.artifact} (${c.validator}):`);
    for (const p of c.problems.slice(0, 20)) console.log(`  - ${p}`);
    if (c.problems.length > 20) console.log(`  ... and ${c.problems.length - 20} more`);
  }
  console.log(
    `\nEnvoy configs were judged against the Envoy ${ENVOY_API.envoyRelease} API (data-plane-api ${ENVOY_API.dataPlaneApiCommit.slice(0, 7)} of ${ENVOY_API.commitDate}, vendored in tools/judges/envoy-api), reviewed for line ${ENVOY_API.reviewedForEnvoy}; this spec's Envoy (agent tasks and the TLS edge) is ${loaded.plan.versions.envoy}${loaded.plan.versions.envoy.startsWith(`${ENVOY_API.reviewedForEnvoy}.`) ? "" : ": a field its line lacks (added after it) would pass here"}`,
  );
  const passed = checks.length - failed.length - notRun.length;
  console.log(`\n${passed}/${checks.length} checks passed${failed.length ? `, ${failed.length} failed` : ""}${notRun.length ? `, ${notRun.length} not run` : ""}`);
  // One line per missing program, however many checks needed it.
  for (const [tool, message] of new Map(notRun.map((c) => [c.missing!.tool, c.missing!.message]))) {
    const count = notRun.filter((c) => c.missing!.tool === tool).length;
    console.error(`render: ${count} check${count === 1 ? "" : "s"} not run: ${message}`);
  }
  return failed.length > 0 || modelErrors > 0 ? 1 : notRun.length > 0 ? 2 : 0;
}

void runTool(require.main === module, "render", main, 2);
