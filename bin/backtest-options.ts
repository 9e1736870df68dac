/**
 * The help and options of `tradewire backtest`, apart from the command so that the CLI's other
 * commands never load the simulator.
 */
import { availableParallelism } from "node:os";
import type { OptionSpecs } from "./args.ts";

export const BACKTEST_HELP = `Usage: tradewire backtest FILE.ts [options]

Runs the strategy that FILE exports (its default export, or --export NAME: a class or a
function taking the parameters) on the simulated exchange's virtual clock, prints VeighNa's
backtest statistics and writes an HTML report with the balance, drawdown and price charts.
  tradewire backtest sim/ma-cross.ts --symbol rb2601.SHFE --days 3 --params '{"fast":5,"slow":20}'
  tradewire backtest my-strategy.ts --csv ticks.csv --symbol IF2512.CFFEX
  tradewire backtest sim/ma-cross.ts --sweep '{"fast":[3,5,8],"slow":[20,30]}' --rank sharpeRatio

Options:
  --symbol VT_SYMBOL     Instrument: IF2512.CFFEX, rb2601.SHFE, BTCUSDT.GLOBAL (default IF2512.CFFEX)
  --days N               Virtual days to run (default 1; with --csv, the whole file)
  --seed N               Seed of the market data (default 1): the same seed, the same run
  --csv PATH             Replay recorded ticks (VeighNa's or camelCase columns) instead of a random walk
  --capital AMOUNT       Starting balance (default 1000000)
  --export NAME          The export that makes the strategy
  --params JSON          Parameters for the strategy, e.g. '{"fast":5,"slow":20}'
  --sweep JSON           Values to try per parameter; every combination runs, on all cores
  --rank STATISTIC       What --sweep ranks by, higher first (default sharpeRatio)
  --workers N            Worker threads for --sweep (default: every core, ${availableParallelism()} here)
  --out PATH             The HTML report (default backtest-report.html)
  -h, --help             Show this help`;

export const BACKTEST_OPTIONS = {
  symbol: { type: "string", default: "IF2512.CFFEX" },
  days: { type: "string" },
  seed: { type: "string", default: "1" },
  csv: { type: "string" },
  capital: { type: "string", default: "1000000" },
  export: { type: "string" },
  params: { type: "string" },
  sweep: { type: "string" },
  rank: { type: "string", default: "sharpeRatio" },
  workers: { type: "string" },
  out: { type: "string", default: "backtest-report.html" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;
