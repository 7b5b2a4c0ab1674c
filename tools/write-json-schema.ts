// The JSON Schema of spec files, from the zod schema (the single source of truth), so editors
// can autocomplete and check them. Prints it, or writes it where --out says; `npm run schema`
// passes --out schema/mesh-spec.schema.json, and a test fails when that file is out of date.
import * as fs from "node:fs";
import * as path from "node:path";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";
import { parseCli, runTool } from "./support";

const USAGE = `usage: npx tsx tools/write-json-schema.ts [--out <file>]

Prints the JSON Schema of mesh spec files (generated from the zod schema), or writes it to <file>.
  --out <file>   write here instead of printing (npm run schema: --out schema/mesh-spec.schema.json)
  -h, --help     this text`;

export function main(args: readonly string[]): number {
  const { values } = parseCli(USAGE, { out: { type: "string" } }, false, args);
  if (values.out === undefined) {
    process.stdout.write(meshSpecJsonSchema());
  } else {
    fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    fs.writeFileSync(values.out, meshSpecJsonSchema());
    console.log(`wrote ${values.out}`);
  }
  return 0;
}

void runTool(require.main === module, "write-json-schema", main);
