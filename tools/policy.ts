// Runs the security policy (tools/policy-rules.ts) over synthesized stacks:
//   npm run policy -- cdktf.out/stacks/*/cdk.tf.json
// Prints the findings as a table. Exit status: 0 no finding, 1 findings, 2 bad usage or input.
import * as fs from "node:fs";
import * as path from "node:path";
import { POLICY_RULES, runPolicy, type PolicyFinding, type TerraformJson } from "./policy-rules";
import { scriptInputFindings } from "./judges/script-inputs";
import { parseCli, runTool, usageError } from "./support";

/** The rule of the servers' scripts with hostile inputs: run, not read, so it lives beside the pure rules. */
const SCRIPT_INPUTS_RULE = "MESH_SCRIPT_INPUTS";

const USAGE = `usage: npm run policy [-- <cdk.tf.json>...]

Runs the security policy (tools/policy-rules.ts) over synthesized stacks and prints the findings.
npm run policy passes cdktf.out/stacks/*/cdk.tf.json (run npm run synth first); with tsx, name the files:
  npx tsx tools/policy.ts cdktf.out/stacks/mesh/cdk.tf.json
  -h, --help   this text

Exit status: 0 no finding, 1 findings, 2 bad usage or unreadable input.`;

/** "cdktf.out/stacks/mesh/cdk.tf.json" -> "mesh"; any other path as given. */
function stackName(file: string): string {
  return path.basename(file) === "cdk.tf.json" ? path.basename(path.dirname(file)) : file;
}

function readStack(file: string): TerraformJson {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file (run cdktf synth first?)" : (error as Error).message;
    throw new Error(`${file}: ${reason}`);
  }
  try {
    return JSON.parse(text) as TerraformJson;
  } catch (error) {
    throw new Error(`${file}: not JSON: ${(error as Error).message}`);
  }
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ")).join("\n");
}

export function main(argv: readonly string[]): number {
  const args = parseCli(USAGE, {}, true, argv).positionals;
  if (args.length === 0) usageError("no stack file given", USAGE);
  const findings: (PolicyFinding & { stack: string })[] = [];
  try {
    const stacks: Record<string, TerraformJson> = {};
    for (const file of args) {
      stacks[stackName(file)] = readStack(file);
      findings.push(...runPolicy(stacks[stackName(file)]!).map((f) => ({ ...f, stack: stackName(file) })));
    }
    // The servers' scripts, run with hostile inputs (tools/judges/script-inputs.ts): the rule for values others choose.
    for (const f of scriptInputFindings(stacks as never)) findings.push({ rule: SCRIPT_INPUTS_RULE, stack: f.stack, address: f.resource, message: f.problem });
  } catch (error) {
    console.error(`policy: ${(error as Error).message}`);
    return 2;
  }
  const checked = `${args.length} stack${args.length === 1 ? "" : "s"}, ${POLICY_RULES.length + 1} rules`;
  if (findings.length === 0) {
    console.log(`policy: no findings (${checked})`);
    return 0;
  }
  console.log(table([["STACK", "RULE", "ADDRESS", "FINDING"], ...findings.map((f) => [f.stack, f.rule, f.address, f.message])]));
  console.log(`\npolicy: ${findings.length} finding${findings.length === 1 ? "" : "s"} (${checked})`);
  return 1;
}

void runTool(require.main === module, "policy", main, 2);
