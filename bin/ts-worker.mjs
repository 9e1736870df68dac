// Node 20 cannot start a worker from a .ts file: register tsx's loader in the worker, then load
// the TypeScript entry named in workerData.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
