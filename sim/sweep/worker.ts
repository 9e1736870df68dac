/**
 * The worker side of a sweep: exposes `runJob` through comlink on any endpoint (a Web Worker's
 * `self`, a MessagePort, or Node's `parentPort` through a small adapter), so the caller awaits
 * `remote.run(job, proxy(onProgress))` instead of speaking a message protocol of our own.
 */
import { expose, releaseProxy, type Endpoint, type Remote } from "comlink";
import { runJob, type BacktestJob, type JobResult } from "./job.ts";

export interface BacktestRunner {
  run(job: BacktestJob, onProgress?: (fraction: number) => void): Promise<JobResult>;
}

export const runner: BacktestRunner = {
  async run(job, onProgress) {
    // The callback is a comlink proxy: report at most every whole percent, and release it at the end.
    let last = -1;
    const report = onProgress
      ? (f: number) => {
        const pct = Math.floor(f * 100);
        if (pct === last) return;
        last = pct;
        void onProgress(f);
      }
      : undefined;
    try {
      return await runJob(job, report);
    } finally {
      // Lets the caller's side close the callback's channel (an open port keeps a process alive).
      (onProgress as Remote<(f: number) => void> | undefined)?.[releaseProxy]();
    }
  },
};

/** Serve `runner` on `endpoint` (call once in the worker). */
export function exposeRunner(endpoint: Endpoint): void {
  expose(runner, endpoint);
}
