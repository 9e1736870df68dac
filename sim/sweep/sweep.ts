/**
 * A parameter sweep (VeighNa's brute-force optimisation): every combination of the parameters'
 * values is one backtest job, run on a pool of workers that each expose the runner through
 * comlink, then ranked by one statistic, best first. The same jobs give the same ranking
 * whatever the pool size or the order jobs finish in: each job is fully determined by its seed
 * and parameters, and ties keep the grid's order.
 *
 * This module never creates a worker: the caller hands a factory (Node worker_threads in
 * `bin/sweep-node.ts`, a Web Worker in a browser, or an in-thread MessageChannel in tests).
 */
import { proxy, releaseProxy, wrap, type Endpoint } from "comlink";
import type { StatisticName } from "../statistics.ts";
import type { BacktestJob, JobResult } from "./job.ts";
import type { BacktestRunner } from "./worker.ts";

/** A started worker serving `exposeRunner`, and how to end it. */
export interface SweepWorker {
  endpoint: Endpoint;
  terminate(): unknown;
}

export type WorkerFactory = () => SweepWorker;

export interface SweepOptions {
  /** Everything but the parameters, shared by every job. */
  job: Omit<BacktestJob, "params" | "detail">;
  /** Values to try per parameter; every combination is a job (keys in the given order). */
  grid: Record<string, readonly unknown[]>;
  /** Parameters every job gets besides the grid's. */
  fixed?: Record<string, unknown>;
  /** The statistic to rank by, higher first (VeighNa's target). */
  target: StatisticName;
  createWorker: WorkerFactory;
  /** Workers to start (never more than jobs). Default 1. */
  workers?: number;
  /** Called with the jobs' combined progress, 0…1. */
  onProgress?: (fraction: number) => void;
}

export interface RankedResult extends JobResult {
  /** 1 for the best. */
  rank: number;
  /** The target statistic's value (−Infinity for a failed job, which ranks last). */
  value: number;
}

/** Every combination of the grid's values, the last key varying fastest. */
export function parameterGrid(grid: Record<string, readonly unknown[]>): Array<Record<string, unknown>> {
  let out: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (values.length === 0) throw new RangeError(`No values for parameter ${key}`);
    out = out.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  return out;
}

/** Run the sweep and rank it. Workers are ended before this returns (or throws). */
export async function runSweep(options: SweepOptions): Promise<RankedResult[]> {
  const params = parameterGrid(options.grid).map((p) => ({ ...options.fixed, ...p }));
  const results = new Array<JobResult>(params.length);
  const progress = new Array<number>(params.length).fill(0);
  let reported = -1;
  const report = (): void => {
    if (!options.onProgress) return;
    const f = progress.reduce((a, b) => a + b, 0) / params.length;
    if (f === reported) return;
    reported = f;
    options.onProgress(f);
  };
  let next = 0;
  const pool = Array.from({ length: Math.max(1, Math.min(options.workers ?? 1, params.length)) }, () => options.createWorker());
  try {
    await Promise.all(pool.map(async (worker) => {
      const remote = wrap<BacktestRunner>(worker.endpoint);
      try {
        while (next < params.length) {
          const i = next++;
          const onProgress = proxy((f: number) => {
            progress[i] = f;
            report();
          });
          results[i] = await remote.run({ ...options.job, params: params[i]! }, onProgress);
          progress[i] = 1;
          report();
        }
      } finally {
        remote[releaseProxy]();
      }
    }));
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return rank(results, options.target);
}

/** Best first by `target`; failed jobs last; ties keep the grid's order (a stable sort). */
export function rank(results: readonly JobResult[], target: StatisticName): RankedResult[] {
  return results
    .map((r) => ({ ...r, rank: 0, value: r.statistics ? r.statistics[target] : -Infinity }))
    .sort((a, b) => b.value - a.value || 0)
    .map((r, i) => ({ ...r, rank: i + 1 }));
}
