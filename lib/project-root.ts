// The project's root, where the app reads what it ships beside its code at run time: the
// templates (lib/render/templates.ts) and the built-in default spec (lib/spec/default-spec.ts).
import * as fs from "node:fs";
import * as path from "node:path";

/** The nearest folder above this file that holds package.json and templates/ (from lib/ and from the dist/ build alike). */
export const PROJECT_ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json")) && fs.existsSync(path.join(dir, "templates"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`templates/ not found above ${__dirname}`);
  }
})();
