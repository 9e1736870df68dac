/**
 * One backtest as plain data, so it can cross to a worker (structured clone): where the strategy
 * comes from (a module and an export, since functions cannot cross), its parameters, and the
 * backtest's settings. `runJob` is what a worker does with it; it runs the same in any thread.
 */
import { Backtest, DEFAULT_INSTRUMENTS, type BacktestOptions, type BacktestResult } from "../backtest.ts";
import type { InstrumentSpec } from "../exchange.ts";
import { parseTickCsv, replayFeed } from "../market-data.ts";
import type { BacktestStatistics } from "../statistics.ts";
import type { Strategy } from "../strategy.ts";

export interface StrategyRef {
  /** A module specifier the worker can import: a file: or https: URL, or a package name. */
  module: string;
  /**
   * The export that makes the strategy: a class (`new X(params)`) or a function (`X(params)`).
   * Default: the default export, else the module's only exported function or class.
   */
  export?: string;
}

export interface BacktestJob {
  strategy: StrategyRef;
  /** Handed to the strategy's constructor or factory. */
  params: Record<string, unknown>;
  vtSymbol: string;
  durationMs: number;
  /** Plain-data settings of the backtest (instruments without functions; see `csv`). */
  backtest?: Omit<BacktestOptions, "instruments"> & { instruments?: InstrumentSpec[] };
  /** Recorded ticks (CSV text, as `parseTickCsv` reads) replayed as the traded instrument's market. */
  csv?: string;
  /** Return the daily results, trades and equity curve too (a report needs them; a sweep does not). Default false. */
  detail?: boolean;
}

export interface JobResult {
  params: Record<string, unknown>;
  statistics: BacktestStatistics | undefined;
  /** Why the job failed (bad parameters, a strategy exception); `statistics` is undefined then. */
  error?: string;
  pnl: number;
  ticks: number;
  tradeCount: number;
  /** With `detail`: the whole result. */
  detail?: Pick<BacktestResult, "daily" | "trades" | "equity" | "account" | "pos">;
}

/** Make the job's strategy: import its module and call or construct its export. */
export async function loadStrategy(ref: StrategyRef, params: Record<string, unknown>): Promise<Strategy> {
  const mod = (await import(ref.module).catch((error: unknown) => {
    // Node without a TypeScript loader cannot import a .ts strategy: say how to get one.
    if ((error as { code?: unknown } | null)?.code === "ERR_UNKNOWN_FILE_EXTENSION") {
      throw new TypeError(`${ref.module}: a TypeScript strategy needs a loader on Node (npm install tsx beside tradewire), or give a .js file`, { cause: error });
    }
    throw error;
  })) as Record<string, unknown>;
  const functions = Object.keys(mod).filter((k) => typeof mod[k] === "function");
  const name = ref.export ?? (typeof mod["default"] === "function" || functions.length !== 1 ? "default" : functions[0]!);
  const make = mod[name];
  if (typeof make !== "function") {
    throw new TypeError(`${ref.module} has no export ${JSON.stringify(name)} that makes a strategy (exports: ${functions.join(", ") || "none"})`);
  }
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(make));
  return (isClass ? new (make as new (p: unknown) => Strategy)(params) : (make as (p: unknown) => Strategy)(params));
}

/** The instruments of a job: its own or the defaults, the traded one replaying `csv` when given. */
export function jobInstruments(job: BacktestJob): InstrumentSpec[] {
  const specs = job.backtest?.instruments ?? DEFAULT_INSTRUMENTS;
  if (job.csv === undefined) return specs;
  const ticks = parseTickCsv(job.csv);
  return specs.map((spec) =>
    `${spec.symbol}.${spec.exchange}` === job.vtSymbol ? { ...spec, feed: replayFeed(ticks, spec.pricetick, spec.minVolume ?? 1) } : spec);
}

/** Run one job; `onProgress` hears the fraction of virtual time done. Failures are results, not throws. */
export async function runJob(job: BacktestJob, onProgress?: (fraction: number) => void): Promise<JobResult> {
  const params = job.params;
  try {
    const strategy = await loadStrategy(job.strategy, params);
    const bt = new Backtest({ ...job.backtest, instruments: jobInstruments(job) });
    const run: Parameters<Backtest["run"]>[1] = { vtSymbol: job.vtSymbol, durationMs: job.durationMs };
    if (onProgress) run.onProgress = onProgress;
    const r = await bt.run(strategy, run);
    const out: JobResult = { params, statistics: r.statistics, pnl: r.pnl, ticks: r.ticks, tradeCount: r.trades.length };
    if (job.detail) out.detail = { daily: r.daily, trades: r.trades, equity: r.equity, account: r.account, pos: r.pos };
    return out;
  } catch (error) {
    return { params, statistics: undefined, error: error instanceof Error ? error.message : String(error), pnl: 0, ticks: 0, tradeCount: 0 };
  }
}
