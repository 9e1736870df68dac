/**
 * Backtests in workers: jobs as plain data, the runner a worker exposes through comlink, and a
 * parameter sweep over a pool of workers made by a factory the caller supplies (sim/ itself never
 * picks a runtime's worker).
 */
export { runJob, loadStrategy, jobInstruments, type BacktestJob, type JobResult, type StrategyRef } from "./job.ts";
export { exposeRunner, runner, type BacktestRunner } from "./worker.ts";
export { runSweep, parameterGrid, rank, sweepJobs, SweepPool, type RankedResult, type SweepOptions, type SweepWorker, type WorkerFactory } from "./sweep.ts";
