// Writes schema/mesh-spec.schema.json from the zod schema, the single source of truth, so
// editors can autocomplete and check spec files. A test fails when the file is out of date.
import * as fs from "node:fs";
import * as path from "node:path";
import { meshSpecJsonSchema } from "../lib/spec/json-schema";

const target = path.join(__dirname, "..", "schema", "mesh-spec.schema.json");
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, meshSpecJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
