/**
 * The Backtest tab's worker: sim/sweep's backtest runner, exposed through comlink on this
 * dedicated worker's own endpoint. The page awaits `remote.run(job, proxy(onProgress))`; there is
 * no message protocol of the playground's own here. The strategy arrives as a module URL (the
 * page turns the tab's edited source into a `data:` URL), imported by `runJob` in this worker.
 */
import type { Endpoint } from "comlink";
import { exposeRunner } from "../../sim/sweep/worker.ts";

exposeRunner(globalThis as unknown as Endpoint);
