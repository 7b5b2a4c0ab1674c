import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
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
  },
});
