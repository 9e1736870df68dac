/** A Node worker thread serving the backtest runner (sim/sweep) through comlink. */
import { parentPort } from "node:worker_threads";
import { exposeRunner } from "../sim/sweep/index.ts";
import { nodeEndpoint } from "./node-endpoint.ts";

if (!parentPort) throw new Error("sweep-worker.ts runs in a worker thread");
exposeRunner(nodeEndpoint(parentPort));
