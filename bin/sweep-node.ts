/** Sweep workers on Node's worker_threads: one thread per core by default. */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { WorkerFactory } from "../sim/sweep/index.ts";
import { nodeEndpoint } from "./node-endpoint.ts";

/** Starts a worker thread serving the backtest runner. */
export const nodeWorkerFactory: WorkerFactory = () => {
  const worker = new Worker(new URL("./ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./sweep-worker.ts", import.meta.url).href },
  });
  return { endpoint: nodeEndpoint(worker), terminate: () => worker.terminate() };
};

/** Every core this process may use. */
export function coreCount(): number {
  return availableParallelism();
}
