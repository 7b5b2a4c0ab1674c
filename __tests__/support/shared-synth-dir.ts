import * as os from "node:os";
import * as path from "node:path";

/** Where a test run (one process and its worker threads) keeps the synthesized specs its workers share. */
export function sharedSynthDir(pid: number = process.pid): string {
  return path.join(os.tmpdir(), `mesh-tests-synth-${pid}`);
}
