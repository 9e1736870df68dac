/** Sweep workers on worker_threads (Node, and Deno's node:worker_threads): one thread per core by default. */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { WorkerFactory } from "../sim/sweep/index.ts";
import { nodeEndpoint } from "./node-endpoint.ts";

/** Starts a worker thread serving the backtest runner. */
export const nodeWorkerFactory: WorkerFactory = () => {
  // From the sources (a checkout, Deno) the worker is sweep-worker.ts; from the package, its build.
  const fromSources = import.meta.url.endsWith(".ts");
  const entry = new URL(fromSources ? "./sweep-worker.ts" : "./sweep-worker.js", import.meta.url);
  // Deno runs TypeScript itself; Node 20 needs tsx's loader registered in the worker first.
  const worker = "Deno" in globalThis || !fromSources
    ? new Worker(entry)
    : new Worker(new URL("./ts-worker.mjs", import.meta.url), { workerData: { entry: entry.href } });
  return { endpoint: nodeEndpoint(worker), terminate: () => worker.terminate() };
};

/** Every core this process may use. */
export function coreCount(): number {
  return availableParallelism();
}
