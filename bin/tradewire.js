#!/usr/bin/env node
// The npm entry point: registers tsx's loader in this process, then runs the TypeScript CLI.
// (Under Deno run the source directly: deno run -A bin/tradewire.ts)
import { register } from "tsx/esm/api";

register();
await import("./tradewire.ts");
