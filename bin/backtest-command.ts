/**
 * `tradewire backtest FILE.ts`: run a strategy on the simulator's virtual clock in a worker
 * thread (the sweep's runner, through comlink), show a progress bar, print VeighNa's statistics
 * and write an HTML report; with --sweep, run every combination of parameters on all cores,
 * print the ranking and report the best.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { proxy, releaseProxy, wrap } from "comlink";
import { DEFAULT_INSTRUMENTS, parseTickCsv, type StatisticName } from "../sim/index.ts";
import { runSweep, type BacktestJob, type BacktestRunner, type JobResult } from "../sim/sweep/index.ts";
import { UsageError } from "./args.ts";
import { renderReport, STATISTIC_ROWS, statisticsTable } from "./backtest-report.ts";
import { coreCount, nodeWorkerFactory } from "./sweep-node.ts";

const DAY_MS = 86_400_000;
const UTC_OFFSET_MINUTES = 480;

function json(flag: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} must be a JSON object, got ${text}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${flag} must be a JSON object`);
  return value as Record<string, unknown>;
}

function positive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} must be a positive ${integer ? "integer" : "number"}, got ${text}`);
  return n;
}

/** A progress bar on standard error, redrawn on whole percents. */
function progressBar(label: string): { update(f: number): void; done(): void } {
  let shown = -1;
  const draw = (f: number) => {
    const pct = Math.min(100, Math.floor(f * 100));
    if (pct === shown) return;
    shown = pct;
    const filled = Math.round(pct / 2.5);
    process.stderr.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(40 - filled)}] ${String(pct).padStart(3)}%`);
  };
  return { update: draw, done: () => { draw(1); process.stderr.write("\n"); } };
}

/** One job in a worker thread, with progress. */
async function runInWorker(job: BacktestJob, onProgress: (f: number) => void): Promise<JobResult> {
  const worker = nodeWorkerFactory();
  const remote = wrap<BacktestRunner>(worker.endpoint);
  try {
    return await remote.run(job, proxy(onProgress));
  } finally {
    remote[releaseProxy]();
    await worker.terminate();
  }
}

export async function backtestCommand(values: Record<string, unknown>, positionals: string[], out: (line: string) => void): Promise<number> {
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError("backtest needs a strategy file: tradewire backtest FILE.ts");
  if (extra.length) throw new UsageError(`Unexpected argument ${JSON.stringify(extra[0])}`);
  const vtSymbol = values.symbol as string;
  if (!DEFAULT_INSTRUMENTS.some((i) => `${i.symbol}.${i.exchange}` === vtSymbol)) {
    throw new UsageError(`--symbol must be one of ${DEFAULT_INSTRUMENTS.map((i) => `${i.symbol}.${i.exchange}`).join(", ")}, got ${vtSymbol}`);
  }
  const seed = positive("--seed", values.seed as string, true);
  const capital = positive("--capital", values.capital as string, false);
  const params = json("--params", values.params as string | undefined);
  const grid = values.sweep === undefined ? undefined : json("--sweep", values.sweep as string);
  const ranks = STATISTIC_ROWS.map(([, key]) => key).filter((k) => k !== "startDate" && k !== "endDate");
  if (!ranks.includes(values.rank as StatisticName)) throw new UsageError(`--rank must be one of ${ranks.join(", ")}`);
  const target = values.rank as StatisticName;
  const job: BacktestJob = {
    strategy: { module: pathToFileURL(resolve(file)).href, ...(values.export ? { export: values.export as string } : {}) },
    params,
    vtSymbol,
    // Up to, not including, the next midnight: a tick at the very end would open one more day.
    durationMs: positive("--days", (values.days as string | undefined) ?? "1", false) * DAY_MS - 1,
    // From midnight of the first trading day, so --days N is N whole days of results.
    backtest: { seed, balance: capital, utcOffsetMinutes: UTC_OFFSET_MINUTES, start: Date.UTC(2025, 0, 2) - UTC_OFFSET_MINUTES * 60_000 },
  };
  if (values.csv !== undefined) {
    const text = readFileSync(values.csv as string, "utf8");
    const ticks = parseTickCsv(text);
    if (ticks.length === 0) throw new UsageError(`${values.csv as string} has no ticks`);
    job.csv = text;
    job.backtest!.start = ticks[0]!.datetime;
    const whole = ticks[ticks.length - 1]!.datetime - ticks[0]!.datetime + 1;
    job.durationMs = values.days === undefined ? whole : Math.min(whole, job.durationMs);
  }
  const about = [`Strategy: ${file}${values.export ? ` (${values.export as string})` : ""}`, `Symbol: ${vtSymbol}`,
    values.csv !== undefined ? `Market data: ${values.csv as string}` : `Seed: ${seed}, ${Math.round(job.durationMs / DAY_MS)} day(s) of simulated market`];

  let best = params;
  if (grid) {
    for (const [k, v] of Object.entries(grid)) if (!Array.isArray(v)) throw new UsageError(`--sweep: the values of ${k} must be an array`);
    const workers = values.workers === undefined ? coreCount() : positive("--workers", values.workers as string, true);
    const bar = progressBar(`Sweep on ${workers} worker${workers === 1 ? "" : "s"}`);
    const started = performance.now();
    const ranked = await runSweep({
      job, grid: grid as Record<string, unknown[]>, fixed: params, target, createWorker: nodeWorkerFactory, workers, onProgress: bar.update,
    });
    bar.done();
    const seconds = (performance.now() - started) / 1000;
    out(`${ranked.length} backtests in ${seconds.toFixed(1)} s, ranked by ${target}:`);
    out(`${"rank".padEnd(5)} ${target.padStart(14)} ${"net PnL".padStart(14)} ${"max dd %".padStart(9)} ${"trades".padStart(7)}  parameters`);
    for (const r of ranked.slice(0, 20)) {
      const s = r.statistics;
      out(`${String(r.rank).padEnd(5)} ${fmt(r.value).padStart(14)} ${fmt(s?.totalNetPnl).padStart(14)} ${fmt(s?.maxDdpercent).padStart(9)} ${String(r.tradeCount).padStart(7)}  ${JSON.stringify(r.params)}${r.error ? `  error: ${r.error}` : ""}`);
    }
    if (!ranked[0]?.statistics) throw new Error(`Every backtest failed: ${ranked[0]?.error ?? "no jobs"}`);
    best = ranked[0].params;
    about.push(`Best of a sweep of ${ranked.length} by ${target}: ${JSON.stringify(best)}`);
    out("");
  } else if (Object.keys(params).length) about.push(`Parameters: ${JSON.stringify(params)}`);

  const bar = progressBar("Backtest");
  const result = await runInWorker({ ...job, params: best, detail: true }, bar.update);
  bar.done();
  if (result.error || !result.statistics || !result.detail) throw new Error(`The backtest failed: ${result.error ?? "no result"}`);
  out(statisticsTable(result.statistics));
  const path = resolve(values.out as string);
  writeFileSync(path, renderReport({
    title: `Backtest: ${vtSymbol}`, about, statistics: result.statistics, daily: result.detail.daily, equity: result.detail.equity,
    trades: result.detail.trades, utcOffsetMinutes: UTC_OFFSET_MINUTES,
  }));
  out(`\nReport: ${path}`);
  return 0;
}

function fmt(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: 2 });
}
