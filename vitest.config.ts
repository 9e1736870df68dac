import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The browser suite has its own config (test/e2e/vitest.config.ts) and script (npm run test:e2e).
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Network and process suites spawn children; two cores are all CI has.
    maxWorkers: 2,
  },
});
