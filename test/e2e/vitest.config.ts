/**
 * The browser suite: `vitest run --config test/e2e/vitest.config.ts`. Kept apart from the root
 * suite (it builds the playground and drives Chromium, tens of seconds), one file at a time.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
