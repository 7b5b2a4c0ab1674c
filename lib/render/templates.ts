// Every text artifact (container definitions, Consul HCL, user data, Envoy YAML) comes from a
// Handlebars template in templates/. Templates hold text; values reach them only through
// typed contexts and the quoting helpers below, so no template builds its own escaping.
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";

/** The project root: the nearest folder above this file that holds templates/ (works from lib/ and dist/lib/). */
function findTemplatesDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "templates");
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`templates/ not found above ${__dirname}`);
  }
}

export const TEMPLATES_DIR = findTemplatesDir();

/** A value that HCL can express as a literal. */
export type HclValue = string | number | boolean | readonly HclValue[];

/**
 * HCL literal for a value. Strings are double-quoted with HCL escapes. "${" and "%{" are
 * rejected rather than escaped: Consul reads HCL 1 (no template sequences) while HCL 2
 * tools interpret them, so no single escaping is right for both readers.
 */
export function hclLiteral(value: HclValue): string {
  if (Array.isArray(value)) return `[${value.map((v) => hclLiteral(v)).join(", ")}]`;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`hcl: ${value} is not a finite number`);
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (typeof value !== "string") throw new Error(`hcl: unsupported value ${JSON.stringify(value)}`);
  if (/[$%]\{/.test(value)) throw new Error(`hcl: ${JSON.stringify(value)} contains a template sequence ("\${" or "%{")`);
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!);
  if (/[\u0000-\u001f\u007f]/.test(escaped)) throw new Error(`hcl: ${JSON.stringify(value)} contains a control character`);
  return `"${escaped}"`;
}

/** A single shell word: single-quoted, so nothing inside is expanded. */
export function shellWord(value: string | number): string {
  const text = String(value);
  if (text.includes("\u0000")) throw new Error("sh: value contains a NUL byte");
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A quoted here-document: the body is written verbatim, with no expansion by the shell. */
function heredoc(delimiter: string, body: string): string {
  if (!/^[A-Z_]+$/.test(delimiter)) throw new Error(`heredoc: delimiter ${delimiter} must be A-Z and _`);
  const text = body.endsWith("\n") ? body : `${body}\n`;
  if (text.split("\n").includes(delimiter)) throw new Error(`heredoc: body contains the delimiter line ${delimiter}`);
  return `<<'${delimiter}'\n${text}${delimiter}`;
}

/** A value written verbatim on one line of a line-oriented config file (ecs.config, a unit file). */
function line(value: string | number): string {
  const text = String(value);
  if (/[\r\n\u0000]/.test(text)) throw new Error(`line: ${JSON.stringify(text)} spans more than one line`);
  return text;
}

const handlebars = Handlebars.create();
handlebars.registerHelper("json", (value: unknown) => {
  if (value === undefined) throw new Error("json: value is undefined");
  return JSON.stringify(value);
});
handlebars.registerHelper("hcl", (value: HclValue) => hclLiteral(value));
handlebars.registerHelper("sh", (value: string | number) => shellWord(value));
handlebars.registerHelper("line", (value: string | number) => line(value));
handlebars.registerHelper("heredoc", (delimiter: string, body: string) => heredoc(delimiter, body));

const QUOTING_HELPERS = new Set(["json", "hcl", "sh", "heredoc", "line"]);

/** A bare {{value}} would bypass the quoting helpers: every output must go through one of them. */
function assertEveryValueQuoted(source: string, name: string): void {
  const visitor = new Handlebars.Visitor();
  visitor.MustacheStatement = function (node: hbs.AST.MustacheStatement) {
    const helper = (node.path as hbs.AST.PathExpression).original;
    if (!QUOTING_HELPERS.has(helper)) {
      throw new Error(`${name}:${node.loc.start.line}: {{${helper}}} must go through a quoting helper (${[...QUOTING_HELPERS].join(", ")})`);
    }
  };
  visitor.accept(handlebars.parse(source));
}

const compiled = new Map<string, Handlebars.TemplateDelegate>();

function load(name: string): Handlebars.TemplateDelegate {
  let template = compiled.get(name);
  if (!template) {
    const source = fs.readFileSync(path.join(TEMPLATES_DIR, name), "utf8");
    assertEveryValueQuoted(source, name);
    template = handlebars.compile(source, { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  return template;
}

// Partials live beside their templates as *.partial.hbs and are registered once, by file name.
for (const dir of fs.readdirSync(TEMPLATES_DIR, { withFileTypes: true, recursive: true })) {
  if (dir.isFile() && dir.name.endsWith(".partial.hbs")) {
    const source = fs.readFileSync(path.join(dir.parentPath, dir.name), "utf8");
    assertEveryValueQuoted(source, dir.name);
    handlebars.registerPartial(dir.name.replace(/\.partial\.hbs$/, ""), source);
  }
}

/** Renders templates/<name> with a typed context. Templates are compiled once per process. */
export function render<Context extends object>(name: string, context: Context): string {
  return load(name)(context);
}
