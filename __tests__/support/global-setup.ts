// cdktf's Testing.app() makes a cdktf.outdir.* folder in the system's temporary folder for every
// app and never removes it: remove the ones this run made, and the synthesized specs the workers
// shared (support/synth.ts), so `npm test` leaves nothing behind.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sharedSynthDir } from "./shared-synth-dir";

export default function setup(): () => void {
  // A killed run leaves its folder behind, and a later run may get the same process ID: start empty.
  fs.rmSync(sharedSynthDir(), { recursive: true, force: true });
  const before = new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("cdktf.outdir.")));
  return () => {
    fs.rmSync(sharedSynthDir(), { recursive: true, force: true });
    for (const name of fs.readdirSync(os.tmpdir())) {
      if (name.startsWith("cdktf.outdir.") && !before.has(name)) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
  };
}
