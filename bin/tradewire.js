#!/usr/bin/env node
// The npm entry point of `tradewire`. The installed package runs the compiled CLI in dist/bin
// (npm builds it on pack and on install from git or a folder). In a checkout, where the
// TypeScript sources sit beside this file, it runs them through tsx (a devDependency), so the
// command never runs a stale build. Under Deno run the source: deno run -A bin/tradewire.ts
import { existsSync } from "node:fs";

const source = new URL("./tradewire.ts", import.meta.url);
const compiled = new URL("../dist/bin/tradewire.js", import.meta.url);

async function tsxLoader() {
  try {
    return await import("tsx/esm/api");
  } catch {
    return undefined;
  }
}

const tsx = existsSync(source) ? await tsxLoader() : undefined;
if (tsx) {
  tsx.register();
  await import(source.href);
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  console.error("Error: tradewire is not built: run `npm run build` in its folder (or `npm install`, which builds it)");
  process.exit(1);
}
