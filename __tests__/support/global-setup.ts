// cdktf's Testing.app() makes a cdktf.outdir.* folder in the system's temporary folder for every
// app and never removes it: remove the ones this run made, so `npm test` leaves nothing behind.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export default function setup(): () => void {
  const before = new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("cdktf.outdir.")));
  return () => {
    for (const name of fs.readdirSync(os.tmpdir())) {
      if (name.startsWith("cdktf.outdir.") && !before.has(name)) fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
    }
  };
}
