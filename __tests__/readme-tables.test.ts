// The README's Inputs and Outputs tables (tools/readme-tables.ts) are generated from the
// synthesized stacks: they must show every variable and output, and the README must be current.
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import {
  block,
  documentedStacks,
  extractBlock,
  inputsMarkdown,
  MARKERS,
  outputsMarkdown,
  replaceBlock,
  TRUST_SOURCE,
  trustMarkdown,
  VERSIONS_SOURCE,
  versionsMarkdown,
} from "../tools/readme-tables";

const stacks = documentedStacks();

describe("README inputs and outputs tables", () => {
  it("list every variable of every stack with its type, default and validation", () => {
    const inputs = inputsMarkdown(stacks);
    for (const stack of stacks) {
      for (const name of Object.keys(stack.json.variable ?? {})) expect(inputs).toMatch(new RegExp(`^\\| \`${name}\` \\|`, "m"));
    }
    expect(inputs).toContain("| `aws_ec2_key` | string, nullable | `null` | EC2 key pair for SSH");
    expect(inputs).toMatch(/\| `admin_cidr` \| string, nullable \| `null` \| .* \| admin_cidr must be a CIDR block/);
    expect(inputs).toContain("**tls-edge** (synthesized from `examples/tls-edge.yaml`)");
  });

  it("list every output but CDKTF's cross-stack plumbing", () => {
    const outputs = outputsMarkdown(stacks);
    expect(outputs).toContain("| `consul_ui_url` | Consul UI over HTTPS");
    expect(outputs).toContain("| `intentions` |");
    expect(outputs).toContain("| `service_dns_name` |");
    expect(outputs).not.toContain("cross-stack-output-");
  });

  it("replace only the text between the markers, and refuse a README without them", () => {
    const [start, end] = MARKERS.inputs;
    const text = `# T\n${start}\nold\n${end}\nafter\n`;
    const updated = replaceBlock(text, "inputs", "NEW")!;
    expect(updated).toBe(`# T\n${start}\nNEW\n${end}\nafter\n`);
    expect(extractBlock(updated, "inputs")).toBe("NEW");
    expect(replaceBlock("# none\n", "inputs", "NEW")).toBeUndefined();
    expect(replaceBlock(`${end}\n${start}\n`, "inputs", "NEW")).toBeUndefined();
  });

  it("are current in README.md (npm run readme:tables -- --readme)", () => {
    const readme = fs.readFileSync("README.md", "utf8");
    expect(extractBlock(readme, "inputs"), "README.md lacks the inputs markers").toBe(block(inputsMarkdown(stacks)));
    expect(extractBlock(readme, "outputs"), "README.md lacks the outputs markers").toBe(block(outputsMarkdown(stacks)));
    expect(extractBlock(readme, "trust"), "README.md lacks the trust markers").toBe(block(trustMarkdown(), TRUST_SOURCE));
    expect(extractBlock(readme, "versions"), "README.md lacks the versions markers").toBe(block(versionsMarkdown(), VERSIONS_SOURCE));
  });

  it("state what the app of each kind of task reaches, from the trust model", () => {
    const trust = trustMarkdown();
    expect(trust).toContain("**agent tasks** (from the built-in default spec): the app reaches no credential and no admin endpoint.");
    // With metrics on, the app reaches what the collector's task role grants: the mesh's telemetry.
    expect(trust).toContain("**the TLS edge task** (from `examples/tls-edge.yaml`): the app reaches, as the architecture's boundary:");
    expect(trust).toMatch(
      /\*\*agent tasks with metrics\*\* \(from `examples\/three-tier.yaml`\): the app reaches, as the architecture's boundary:\n\n.*\n.*\n\| `telemetry-write` \| the task role: logs:CreateLogStream, logs:PutLogEvents, for /,
    );
    expect(trust).toMatch(/\| `signed-login` \| the task role: .* \| the task role is the service's mesh identity/);
  });
});
