// Quoting for every reader of rendered text. Templates print values only through these (as
// Handlebars helpers, lib/render/templates.ts), so no template builds its own escaping.

/** A value that HCL can express as a literal. */
export type HclValue = string | number | boolean | readonly HclValue[];

/**
 * HCL literal for a value. Strings are double-quoted with HCL escapes. "${" and "%{" are
 * rejected rather than escaped: Consul reads HCL 1 (no template sequences) while HCL 2
 * tools interpret them, so no single escaping is right for both readers. A CDKTF token is the
 * one exception: Terraform replaces it with a value (an ARN, a validated name) before any
 * reader sees the text.
 */
export function hclLiteral(value: HclValue): string {
  if (Array.isArray(value)) return `[${value.map((v) => hclLiteral(v)).join(", ")}]`;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`hcl: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (typeof value !== "string") throw new Error(`hcl: unsupported value ${JSON.stringify(value)}`);
  if (/[$%]\{/.test(value.replace(CDKTF_TOKEN_GLOBAL, ""))) throw new Error(`hcl: ${JSON.stringify(value)} contains a template sequence ("\${" or "%{")`);
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (/[\u0000-\u001f\u007f]/.test(escaped)) throw new Error(`hcl: ${JSON.stringify(value)} contains a control character`);
  return `"${escaped}"`;
}

/** A single shell word: single-quoted, so nothing inside is expanded. */
export function shellWord(value: string | number): string {
  const text = String(value);
  if (text.includes("\u0000")) throw new Error("sh: value contains a NUL byte");
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * An absolute path written bare, in a shell script or a unit file: only characters that mean
 * nothing to either ([A-Za-z0-9._/-]), so it needs no quoting; anything else is an error.
 */
export function plainPath(value: string): string {
  if (!/^\/[A-Za-z0-9._/-]*$/.test(value)) throw new Error(`path: ${JSON.stringify(value)} must be an absolute path of [A-Za-z0-9._/-]`);
  return value;
}

/** A quoted here-document: the body is written verbatim, with no expansion by the shell. */
export function heredoc(delimiter: string, body: string): string {
  if (!/^[A-Z_]+$/.test(delimiter)) throw new Error(`heredoc: delimiter ${delimiter} must be A-Z and _`);
  const text = body.endsWith("\n") ? body : `${body}\n`;
  if (text.split("\n").includes(delimiter)) throw new Error(`heredoc: body contains the delimiter line ${delimiter}`);
  return `<<'${delimiter}'\n${text}${delimiter}`;
}

/** A value written verbatim on one line of a line-oriented config file (ecs.config, a unit file). */
export function singleLine(value: string | number): string {
  const text = String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: line breaks and NUL are what this rejects
  if (/[\r\n\u0000]/.test(text)) throw new Error(`line: ${JSON.stringify(text)} spans more than one line`);
  return text;
}

// In Terraform JSON every string is a template: a literal "${" or "%{" (bash variables,
// Go templates) must be written "$${" / "%%{" or `terraform validate` fails with
// "Invalid reference". CDKTF token placeholders are the only "${" that must survive,
// because CDKTF resolves them into real Terraform references at synth time.
const CDKTF_TOKEN = /(\$\{TfToken\[TOKEN\.\d+\]\})/;
const CDKTF_TOKEN_GLOBAL = new RegExp(CDKTF_TOKEN.source, "g");

/** Escapes template sequences in rendered text while keeping CDKTF tokens as references. */
export function escapeForTerraform(text: string): string {
  return text
    .split(CDKTF_TOKEN)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{")))
    .join("");
}
