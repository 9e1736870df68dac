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
import { proxy, releaseProxy, wrap, type Endpoint, type Remote } from "comlink";
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
  /** Makes the workers of the sweep's own pool (unless `pool` is given). */
  createWorker: WorkerFactory;
  /** Workers to start (never more than jobs). Default 1. */
  workers?: number;
  /** Run on this pool instead (kept open: many sweeps can share one). */
  pool?: SweepPool;
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

/**
 * Workers serving the runner, kept for many jobs (starting a worker costs far more than a short
 * backtest). `run` hands each worker the next job as it finishes one; results come back in the
 * jobs' order.
 */
export class SweepPool {
  readonly #workers: Array<{ worker: SweepWorker; remote: Remote<BacktestRunner> }>;

  constructor(createWorker: WorkerFactory, size: number) {
    if (!(size >= 1)) throw new RangeError("A pool needs at least one worker");
    this.#workers = Array.from({ length: size }, () => {
      const worker = createWorker();
      return { worker, remote: wrap<BacktestRunner>(worker.endpoint) };
    });
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Run every job; `onProgress` hears their combined progress, 0…1. */
  async run(jobs: readonly BacktestJob[], onProgress?: (fraction: number) => void): Promise<JobResult[]> {
    const results = new Array<JobResult>(jobs.length);
    const progress = new Array<number>(jobs.length).fill(0);
    let reported = -1;
    const report = (): void => {
      if (!onProgress) return;
      const f = progress.reduce((a, b) => a + b, 0) / jobs.length;
      if (f === reported) return;
      reported = f;
      onProgress(f);
    };
    let next = 0;
    await Promise.all(this.#workers.map(async ({ remote }) => {
      while (next < jobs.length) {
        const i = next++;
        let finished = false;
        const callback = proxy((f: number) => {
          // Progress travels on its own channel and may arrive after the result: never go back.
          if (finished || f <= progress[i]!) return;
          progress[i] = f;
          report();
        });
        results[i] = await remote.run(jobs[i]!, callback);
        finished = true;
        progress[i] = 1;
        report();
      }
    }));
    return results;
  }

  /** End the workers. */
  async close(): Promise<void> {
    const all = this.#workers.splice(0);
    for (const { remote } of all) remote[releaseProxy]();
    await Promise.all(all.map(({ worker }) => worker.terminate()));
  }
}

/** The jobs of a sweep, in the grid's order. */
export function sweepJobs(options: Pick<SweepOptions, "job" | "grid" | "fixed">): BacktestJob[] {
  return parameterGrid(options.grid).map((p) => ({ ...options.job, params: { ...options.fixed, ...p } }));
}

/**
 * Run the sweep and rank it, on `options.pool` if given (left open), else on a pool of
 * `options.workers` started for it and ended before this returns (or throws).
 */
export async function runSweep(options: SweepOptions): Promise<RankedResult[]> {
  const jobs = sweepJobs(options);
  if (options.pool) return rank(await options.pool.run(jobs, options.onProgress), options.target);
  const pool = new SweepPool(options.createWorker, Math.max(1, Math.min(options.workers ?? 1, jobs.length)));
  try {
    return rank(await pool.run(jobs, options.onProgress), options.target);
  } finally {
    await pool.close();
  }
}

/** Best first by `target`; failed jobs last; ties keep the grid's order (a stable sort). */
export function rank(results: readonly JobResult[], target: StatisticName): RankedResult[] {
  return results
    .map((r) => ({ ...r, rank: 0, value: r.statistics ? r.statistics[target] : -Infinity }))
    .sort((a, b) => b.value - a.value || 0)
    .map((r, i) => ({ ...r, rank: i + 1 }));
}
