// The built-in default: the original demo (http-server and http-client), as examples/default.yaml
// writes it, read once through the spec reader. One file, so the built-in default and the example
// users copy cannot drift apart.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "../project-root";
import { parseDocument } from "./document";
import type { MeshSpecInput } from "./schema";

const DEFAULT_SPEC_FILE = path.join(PROJECT_ROOT, "examples", "default.yaml");

export const DEFAULT_SPEC = parseDocument(fs.readFileSync(DEFAULT_SPEC_FILE, "utf8"), DEFAULT_SPEC_FILE) as MeshSpecInput;
