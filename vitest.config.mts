import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { VERSIONS_PINNED_ON } from "./lib/versions.js";

// The files that take longest (each mostly waits on children: bash under stubs, the app, tsc and
// esbuild, terraform), slowest first. Started first, they overlap the many short files; left to
// vitest's size order on a fresh clone (no timings cached yet), app-command ran last and alone.
const SLOWEST_FIRST = ["iam-judge", "scripts-run", "spec-loader", "artifacts", "app-command", "tls-edge", "operator-scripts", "cli", "terraform-variables"];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => {
      const index = SLOWEST_FIRST.findIndex((name) => file.moduleId.endsWith(`/${name}.test.ts`));
      return index < 0 ? SLOWEST_FIRST.length : index;
    };
    // A stable sort: the other files keep vitest's order (cached durations, else size).
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // Support windows are judged on the day the versions were pinned (lib/rules/versions.ts), so no
    // expectation changes when a line ends; children (the app, cdktf synth) inherit it.
    env: { SOURCE_DATE_EPOCH: String(Date.parse(`${VERSIONS_PINNED_ON}T00:00:00Z`) / 1000) },
    globalSetup: ["__tests__/support/global-setup.ts"],
    setupFiles: ["__tests__/support/setup.ts"],
    // Synthesis of the larger example specs and real-Terraform checks take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files share a worker's loaded modules (cdktf and the AWS provider's classes load once
    // per worker, not once per file): no test may leave global state behind (environment, spies).
    pool: "threads",
    isolate: false,
    // Many tests wait on a child (bash, terraform, the app): a second worker uses that time, even on
    // two cores (vitest would start one there).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: SlowestFirst },
  },
});
