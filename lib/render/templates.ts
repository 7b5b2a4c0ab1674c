// Every text artifact (container definitions, Consul HCL, user data, Envoy YAML) comes from a
// Handlebars template in templates/. Templates hold text; values reach them only through
// typed contexts (lib/plan/texts.ts) and the quoting helpers, so no template builds its own
// escaping.
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { PROJECT_ROOT } from "../project-root";
import { hclLiteral, heredoc, plainPath, shellWord, singleLine, type HclValue } from "./quoting";

const TEMPLATES_DIR = path.join(PROJECT_ROOT, "templates");

const handlebars = Handlebars.create();
handlebars.registerHelper("json", (value: unknown) => {
  if (value === undefined) throw new Error("json: value is undefined");
  return JSON.stringify(value);
});
handlebars.registerHelper("hcl", (value: HclValue) => hclLiteral(value));
handlebars.registerHelper("sh", (value: string | number) => shellWord(value));
handlebars.registerHelper("path", (value: string) => plainPath(value));
handlebars.registerHelper("line", (value: string | number) => singleLine(value));
handlebars.registerHelper("heredoc", (delimiter: string, body: string) => heredoc(delimiter, body));
// A condition, not an output: true when a field is present (not null), even if it is an empty list.
handlebars.registerHelper("present", (value: unknown) => value !== null && value !== undefined);

const QUOTING_HELPERS = new Set(["json", "hcl", "sh", "path", "heredoc", "line"]);

/** A bare {{value}} would bypass the quoting helpers: every output must go through one of them. */
function assertEveryValueQuoted(source: string, name: string): void {
  const visitor = new Handlebars.Visitor();
  visitor.MustacheStatement = (node: hbs.AST.MustacheStatement) => {
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

/** Renders templates/<name> with a context. Templates are compiled once per process. */
export function render(name: string, context: object): string {
  return load(name)(context);
}
