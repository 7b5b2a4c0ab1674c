// The quoting helpers every template prints through, tested against the readers that consume
// their output: HCL by HashiCorp's parser, shell words and here-documents by a real sh,
// Terraform strings by the template judge. Hostile input must come out as data, or be refused.
import { spawnSync } from "node:child_process";
import { parse } from "@cdktf/hcl2json";
import { describe, expect, it } from "vitest";
import { escapeForTerraform, hclLiteral, heredoc, plainPath, shellWord, singleLine } from "../lib/render/quoting";
import { materializeTerraformString, terraformTemplateProblems } from "../tools/judges";

const HOSTILE = [
  "plain",
  "it's",
  'say "hi"',
  "back\\slash",
  "new\nline",
  "tab\tand\rreturn",
  "$(id)",
  "`id`",
  "$HOME ${HOME}",
  "; rm -rf / #",
  "'; echo pwned; '",
  "émoji ✓ 日本",
  "-n",
  "",
];

/** What sh prints for `printf %s <word>`: the word as the shell sees it. */
function shellSees(word: string): string {
  const result = spawnSync("sh", ["-c", `printf %s ${word}`], { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe("hclLiteral", () => {
  it.each(HOSTILE.filter((s) => !s.includes("${")))("round-trips %j through HashiCorp's HCL parser", async (value) => {
    const doc = (await parse("t.hcl", `value = ${hclLiteral(value)}\n`)) as { value: string };
    expect(doc.value).toBe(value);
  });

  it("writes numbers, booleans and nested lists as HCL literals", async () => {
    const doc = await parse("t.hcl", `value = ${hclLiteral([1, true, ["a", 2.5]])}\n`);
    expect(doc).toEqual({ value: [1, true, ["a", 2.5]] });
  });

  it.each(["${var.x}", "%{ if true }", "a${b}"])("refuses the template sequence in %j (HCL 1 and 2 read it differently)", (value) => {
    expect(() => hclLiteral(value)).toThrow(/template sequence/);
  });

  it.each(["\u0000", "\u0007", "\u001b[31m"])("refuses the control character in %j", (value) => {
    expect(() => hclLiteral(value)).toThrow(/control character/);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])("refuses the number %s", (value) => {
    expect(() => hclLiteral(value)).toThrow(/not a finite number/);
  });
});

describe("shellWord", () => {
  it.each(HOSTILE)("is one word that sh reads back as %j, expanding nothing", (value) => {
    expect(shellSees(shellWord(value))).toBe(value);
  });

  it("refuses a NUL byte, which no shell word can carry", () => {
    expect(() => shellWord("a\u0000b")).toThrow(/NUL/);
  });
});

describe("plainPath", () => {
  it.each(["/etc/consul.d", "/consul/envoy/bootstrap.json", "/opt/consul/data", "/usr/local/bin/consul-acl-sync"])(
    "passes %s through unchanged, which sh reads as one word",
    (value) => {
      expect(plainPath(value)).toBe(value);
      expect(shellSees(plainPath(value))).toBe(value);
    },
  );

  it.each(["relative/path", "/with space", "/$HOME", "/a;b", "/a'b", "/a\nb", "/a*", "/~user", ""])("refuses %j", (value) => {
    expect(() => plainPath(value)).toThrow(/absolute path/);
  });
});

describe("heredoc", () => {
  it("writes the body verbatim: no expansion of $, ` or \\", () => {
    const body = "x=$HOME\n`id` $(id) ${PATH}\nback\\slash \"quoted\" 'single'\n";
    const result = spawnSync("sh", ["-c", `cat ${heredoc("BODY", body)}`], { encoding: "utf8" });
    expect(result.stdout).toBe(body);
  });

  it("ends a body without a trailing newline with one", () => {
    const result = spawnSync("sh", ["-c", `cat ${heredoc("BODY", "no newline")}`], { encoding: "utf8" });
    expect(result.stdout).toBe("no newline\n");
  });

  it("refuses a body that contains the delimiter line, which would end it early", () => {
    expect(() => heredoc("BODY", "a\nBODY\nrm -rf /\n")).toThrow(/delimiter line/);
  });

  it.each(["body", "BO DY", "B'", "EOF-1"])("refuses the delimiter %j", (delimiter) => {
    expect(() => heredoc(delimiter, "x")).toThrow(/delimiter/);
  });
});

describe("singleLine", () => {
  it("passes a one-line value through", () => expect(singleLine("ECS_CLUSTER=mesh")).toBe("ECS_CLUSTER=mesh"));

  it.each(["a\nECS_CLUSTER=evil", "a\rb", "a\u0000b"])("refuses %j, which would add a line to a config file", (value) => {
    expect(() => singleLine(value)).toThrow(/more than one line/);
  });
});

describe("escapeForTerraform", () => {
  const TOKEN = "${TfToken[TOKEN.42]}";

  it.each([
    ["${HOME}", "$${HOME}"],
    ["%{ if x }", "%%{ if x }"],
    ["$${already}", "$$${already}"],
    ["a $ b % c {d}", "a $ b % c {d}"],
    [`arn=${TOKEN} home=\${HOME}`, `arn=${TOKEN} home=$\${HOME}`],
  ])("escapes %j as %j", (input, expected) => {
    expect(escapeForTerraform(input)).toBe(expected);
  });

  it.each(HOSTILE.concat(["${HOME}", "%{ for x in y }", "${1}", "$${x}", "a${b}c%{d}e"]))(
    "makes %j a Terraform string whose value is the text itself (no interpolation, no directive)",
    async (text) => {
      const escaped = escapeForTerraform(text);
      expect(await terraformTemplateProblems({ locals: { value: escaped } })).toEqual([]);
      expect(materializeTerraformString(escaped)).toBe(text);
    },
  );

  it("keeps a CDKTF token as the one interpolation", () => {
    expect(materializeTerraformString(escapeForTerraform(`${TOKEN} \${x}`))).toBe("TF_REF_0 ${x}");
  });
});
