/**
 * A backtest's daily results and statistics, computed as VeighNa's CTA backtester computes them
 * (`vnpy_ctastrategy/backtesting.py`: `DailyResult.calculate_pnl`, `calculate_result`,
 * `calculate_statistics`), so a VeighNa user reads the same numbers for the same trades.
 *
 * Daily results, per trading day d (a day that had market data), with `size` the contract
 * multiplier, `rate` the commission rate and `slippage` the slippage per unit of volume:
 *
 *   preClose      = the previous day's closePrice (0 on the first day; VeighNa stores 1 there to
 *                   avoid a division, and the holding PnL is 0 either way as startPos is 0)
 *   startPos      = the previous day's endPos (0 on the first day)
 *   holdingPnl    = startPos × (closePrice − preClose) × size
 *   for each trade t of the day, with posChange = +volume (LONG) or −volume (SHORT):
 *     endPos     += posChange
 *     tradingPnl += posChange × (closePrice − t.price) × size
 *     turnover   += t.volume × size × t.price
 *     commission += t.volume × size × t.price × rate
 *     slippage   += t.volume × size × slippage
 *   totalPnl      = tradingPnl + holdingPnl
 *   netPnl        = totalPnl − commission − slippage
 *   balance       = capital + Σ netPnl up to d
 *   return        = ln(balance / previous balance) (capital before the first day; 0 if the ratio ≤ 0)
 *   highlevel     = the highest balance up to d (from the first day's balance, as VeighNa)
 *   drawdown      = balance − highlevel;   ddpercent = drawdown / highlevel × 100
 *
 * Statistics over the n days (all zero, as in VeighNa, when any balance is ≤ 0: `positiveBalance`
 * is false then):
 *
 *   totalNetPnl = Σ netPnl; dailyNetPnl = totalNetPnl / n (likewise commission, slippage,
 *   turnover, tradeCount); endBalance = the last balance; maxDrawdown = min drawdown;
 *   maxDdpercent = min ddpercent; maxDrawdownDuration = calendar days from the highest balance
 *   before the deepest drawdown to that drawdown's day;
 *   totalReturn = (endBalance / capital − 1) × 100;  annualReturn = totalReturn / n × annualDays;
 *   dailyReturn = mean(return) × 100;  returnStd = sample standard deviation (n − 1) of return × 100
 *   (0 for one day); sharpeRatio = (dailyReturn − riskFree / √annualDays) / returnStd × √annualDays
 *   (0 when returnStd is 0; VeighNa's formula, riskFree included as it writes it);
 *   returnDrawdownRatio = −totalReturn / maxDdpercent (0 without a drawdown).
 */
import type { Direction } from "./constant.ts";

/** What the daily results need of a trade. */
export interface DailyTrade {
  datetime: number;
  direction: Direction;
  price: number;
  volume: number;
}

/** The closing price of one trading day. */
export interface DailyClose {
  /** "YYYY-MM-DD" in the run's time zone (see `tradingDay`). */
  date: string;
  closePrice: number;
}

export interface ContractCosts {
  /** Contract multiplier. */
  size: number;
  /** Commission as a fraction of turnover. */
  rate: number;
  /** Slippage cost per unit of volume, in price units. */
  slippage: number;
}

export interface DailyResult {
  date: string;
  closePrice: number;
  preClose: number;
  startPos: number;
  endPos: number;
  tradeCount: number;
  turnover: number;
  commission: number;
  slippage: number;
  tradingPnl: number;
  holdingPnl: number;
  totalPnl: number;
  netPnl: number;
  balance: number;
  /** Log return of the day's balance. */
  return: number;
  highlevel: number;
  drawdown: number;
  ddpercent: number;
}

export interface BacktestStatistics {
  startDate: string;
  endDate: string;
  totalDays: number;
  profitDays: number;
  lossDays: number;
  capital: number;
  endBalance: number;
  maxDrawdown: number;
  maxDdpercent: number;
  maxDrawdownDuration: number;
  totalNetPnl: number;
  dailyNetPnl: number;
  totalCommission: number;
  dailyCommission: number;
  totalSlippage: number;
  dailySlippage: number;
  totalTurnover: number;
  dailyTurnover: number;
  totalTradeCount: number;
  dailyTradeCount: number;
  totalReturn: number;
  annualReturn: number;
  dailyReturn: number;
  returnStd: number;
  sharpeRatio: number;
  returnDrawdownRatio: number;
  /** Every day's balance stayed above 0 (otherwise, as in VeighNa, the statistics are zero). */
  positiveBalance: boolean;
}

/** Numeric statistics: what a sweep can rank by. */
export type StatisticName = { [K in keyof BacktestStatistics]: BacktestStatistics[K] extends number ? K : never }[keyof BacktestStatistics];

const DAY_MS = 86_400_000;

/** The calendar date ("YYYY-MM-DD") of `time` at a fixed offset from UTC (default +8 h, China). */
export function tradingDay(time: number, utcOffsetMinutes = 480): string {
  return new Date(time + utcOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** VeighNa's `calculate_result` plus the balance columns of `calculate_statistics` (see the file header). */
export function calculateDailyResults(
  closes: readonly DailyClose[], trades: readonly DailyTrade[], costs: ContractCosts, capital: number,
  dayOf: (time: number) => string = (t) => tradingDay(t),
): DailyResult[] {
  const byDay = new Map<string, DailyTrade[]>();
  for (const t of trades) {
    const d = dayOf(t.datetime);
    const list = byDay.get(d);
    if (list) list.push(t);
    else byDay.set(d, [t]);
  }
  const out: DailyResult[] = [];
  let preClose = 0;
  let startPos = 0;
  let balance = capital;
  let highlevel = -Infinity;
  for (const { date, closePrice } of closes) {
    const dayTrades = byDay.get(date) ?? [];
    byDay.delete(date);
    let endPos = startPos;
    let tradingPnl = 0;
    let turnover = 0;
    let commission = 0;
    let slippage = 0;
    for (const t of dayTrades) {
      const posChange = t.direction === "LONG" ? t.volume : -t.volume;
      endPos += posChange;
      tradingPnl += posChange * (closePrice - t.price) * costs.size;
      const value = t.volume * costs.size * t.price;
      turnover += value;
      commission += value * costs.rate;
      slippage += t.volume * costs.size * costs.slippage;
    }
    const holdingPnl = startPos * (closePrice - preClose) * costs.size;
    const totalPnl = tradingPnl + holdingPnl;
    const netPnl = totalPnl - commission - slippage;
    const previous = balance;
    balance += netPnl;
    const ratio = balance / previous;
    highlevel = Math.max(highlevel, balance);
    const drawdown = balance - highlevel;
    out.push({
      date, closePrice, preClose, startPos, endPos, tradeCount: dayTrades.length, turnover, commission, slippage,
      tradingPnl, holdingPnl, totalPnl, netPnl, balance,
      return: ratio > 0 && Number.isFinite(ratio) ? Math.log(ratio) : 0,
      highlevel, drawdown, ddpercent: highlevel !== 0 ? (drawdown / highlevel) * 100 : 0,
    });
    preClose = closePrice;
    startPos = endPos;
  }
  if (byDay.size) throw new RangeError(`Trades on days without a close: ${[...byDay.keys()].join(", ")}`);
  return out;
}

export interface StatisticsOptions {
  capital: number;
  /** Trading days in a year. Default 240 (VeighNa's). */
  annualDays?: number;
  /** VeighNa's `risk_free`. Default 0. */
  riskFree?: number;
}

/** VeighNa's `calculate_statistics` (see the file header). */
export function calculateStatistics(daily: readonly DailyResult[], options: StatisticsOptions): BacktestStatistics {
  const capital = options.capital;
  const annualDays = options.annualDays ?? 240;
  const riskFree = options.riskFree ?? 0;
  const stats: BacktestStatistics = {
    startDate: "", endDate: "", totalDays: 0, profitDays: 0, lossDays: 0, capital, endBalance: 0, maxDrawdown: 0,
    maxDdpercent: 0, maxDrawdownDuration: 0, totalNetPnl: 0, dailyNetPnl: 0, totalCommission: 0, dailyCommission: 0,
    totalSlippage: 0, dailySlippage: 0, totalTurnover: 0, dailyTurnover: 0, totalTradeCount: 0, dailyTradeCount: 0,
    totalReturn: 0, annualReturn: 0, dailyReturn: 0, returnStd: 0, sharpeRatio: 0, returnDrawdownRatio: 0,
    positiveBalance: daily.length > 0 && daily.every((d) => d.balance > 0),
  };
  if (!stats.positiveBalance) return stats;
  const n = daily.length;
  const sum = (f: (d: DailyResult) => number): number => daily.reduce((s, d) => s + f(d), 0);
  stats.startDate = daily[0]!.date;
  stats.endDate = daily[n - 1]!.date;
  stats.totalDays = n;
  stats.profitDays = daily.filter((d) => d.netPnl > 0).length;
  stats.lossDays = daily.filter((d) => d.netPnl < 0).length;
  stats.endBalance = daily[n - 1]!.balance;
  // The deepest drawdown (its first day, as pandas' idxmin) and the highest balance before it (idxmax).
  let deepest = 0;
  for (let i = 1; i < n; i++) if (daily[i]!.drawdown < daily[deepest]!.drawdown) deepest = i;
  let peak = 0;
  for (let i = 1; i <= deepest; i++) if (daily[i]!.balance > daily[peak]!.balance) peak = i;
  stats.maxDrawdown = daily[deepest]!.drawdown;
  stats.maxDdpercent = Math.min(...daily.map((d) => d.ddpercent));
  stats.maxDrawdownDuration = Math.round((Date.parse(daily[deepest]!.date) - Date.parse(daily[peak]!.date)) / DAY_MS);
  stats.totalNetPnl = sum((d) => d.netPnl);
  stats.dailyNetPnl = stats.totalNetPnl / n;
  stats.totalCommission = sum((d) => d.commission);
  stats.dailyCommission = stats.totalCommission / n;
  stats.totalSlippage = sum((d) => d.slippage);
  stats.dailySlippage = stats.totalSlippage / n;
  stats.totalTurnover = sum((d) => d.turnover);
  stats.dailyTurnover = stats.totalTurnover / n;
  stats.totalTradeCount = sum((d) => d.tradeCount);
  stats.dailyTradeCount = stats.totalTradeCount / n;
  stats.totalReturn = (stats.endBalance / capital - 1) * 100;
  stats.annualReturn = (stats.totalReturn / n) * annualDays;
  const meanReturn = sum((d) => d.return) / n;
  stats.dailyReturn = meanReturn * 100;
  stats.returnStd = n > 1 ? Math.sqrt(sum((d) => (d.return - meanReturn) ** 2) / (n - 1)) * 100 : 0;
  if (stats.returnStd) {
    const dailyRiskFree = riskFree / Math.sqrt(annualDays);
    stats.sharpeRatio = ((stats.dailyReturn - dailyRiskFree) / stats.returnStd) * Math.sqrt(annualDays);
  }
  if (stats.maxDdpercent) stats.returnDrawdownRatio = -stats.totalReturn / stats.maxDdpercent;
  return stats;
}
