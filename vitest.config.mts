import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    globalSetup: ["__tests__/support/global-setup.ts"],
    // Synthesis of the larger example specs and real-Terraform checks take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files share a worker's loaded modules (cdktf and the AWS provider's classes load once
    // per worker, not once per file): no test may leave global state behind (environment, spies).
    pool: "threads",
    isolate: false,
  },
});
