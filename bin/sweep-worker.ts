/** A Node worker thread serving the backtest runner (sim/sweep) through comlink. */
import { parentPort } from "node:worker_threads";
import { exposeRunner } from "../sim/sweep/index.ts";
import { nodeEndpoint } from "./node-endpoint.ts";

if (!parentPort) throw new Error("sweep-worker.ts runs in a worker thread");
// Built and installed, on Node: strategies written in TypeScript load through tsx when it is
// installed beside tradewire (an optional peer); from the sources ts-worker.mjs registered it.
if (import.meta.url.endsWith(".js") && !("Deno" in globalThis)) {
  await import("tsx/esm/api").then(({ register }) => register(), () => {});
}
exposeRunner(nodeEndpoint(parentPort));
