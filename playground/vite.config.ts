/**
 * The playground's Vite config. Run from the repository root:
 *   vite --config playground/vite.config.ts          (dev server)
 *   vite build --config playground/vite.config.ts    (static build into playground/dist)
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

export default defineConfig({
  root: here,
  // Relative asset URLs: the built page works from any path (a sub-folder, a file server).
  base: "./",
  // The page imports lib/, transports/ and sim/ from the repository root.
  server: { fs: { allow: [repoRoot] } },
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    reportCompressedSize: true,
  },
});
