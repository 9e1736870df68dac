/**
 * Daily results and statistics as VeighNa's CTA backtester computes them, checked against values
 * worked out by hand on a small fixed run (three days, two trades) of recorded ticks.
 */
import { describe, expect, it } from "vitest";
import {
  Backtest, calculateDailyResults, calculateStatistics, replayFeed, type InstrumentSpec, type RecordedTick, type Strategy,
} from "../../sim/index.ts";

/** Shanghai wall-clock time (UTC+8) on a day of January 2025. */
const sh = (day: number, hour: number, minute: number): number => Date.UTC(2025, 0, day, hour - 8, minute);

function tick(datetime: number, last: number, bid: number, ask: number): RecordedTick {
  return { datetime, lastPrice: last, volume: 0, lastVolume: 1, bidPrices: [bid], bidVolumes: [5], askPrices: [ask], askVolumes: [5] };
}

const TICKS: RecordedTick[] = [
  tick(sh(2, 9, 30), 100, 99, 100), // the strategy buys 2 at 100 …
  tick(sh(2, 9, 31), 100, 99, 100), // … filled here at the ask, 100
  tick(sh(2, 10, 0), 102, 101, 102), // day 1 closes at 102
  tick(sh(3, 9, 30), 98, 97, 98), // the strategy sells 2 at 97 …
  tick(sh(3, 9, 31), 97, 97, 98), // … filled here at the bid, 97
  tick(sh(3, 14, 0), 96, 95, 96), // day 2 closes at 96
  tick(sh(4, 9, 30), 99, 98, 99),
  tick(sh(4, 10, 0), 101, 100, 101), // day 3 closes at 101, flat
];

/** size 10, commission 0.1% of turnover, slippage 1 per unit of volume. */
const SPEC: InstrumentSpec = {
  symbol: "T1", exchange: "LOCAL", size: 10, pricetick: 1, marginRate: 0.1, commissionRate: 0.001, slippage: 1,
  feed: replayFeed(TICKS, 1),
};

const script: Strategy = {
  onTick(t, ctx) {
    if (t.datetime === sh(2, 9, 30)) void ctx.buy(100, 2);
    if (t.datetime === sh(3, 9, 30)) void ctx.sell(97, 2);
  },
};

describe("backtest daily results and statistics (VeighNa's formulas)", () => {
  it("match the values worked out by hand on a three-day run", async () => {
    const bt = new Backtest({ instruments: [SPEC], balance: 100_000, start: sh(2, 9, 30) });
    const r = await bt.run(script, { vtSymbol: "T1.LOCAL", durationMs: sh(4, 10, 1) - sh(2, 9, 30) });
    expect(r.trades.map((t) => [t.direction, t.price, t.volume])).toEqual([["LONG", 100, 2], ["SHORT", 97, 2]]);

    // Day 1: bought 2 at 100, close 102.  trading 2·(102−100)·10 = 40; turnover 2·10·100 = 2000;
    // commission 2000·0.001 = 2; slippage 2·10·1 = 20; net 40 − 2 − 20 = 18; balance 100 018.
    // Day 2: held 2 from 102 to 96: holding 2·(96−102)·10 = −120; sold 2 at 97: trading −2·(96−97)·10 = 20;
    // turnover 1940; commission 1.94; slippage 20; net −120 + 20 − 1.94 − 20 = −121.94; balance 99 896.06.
    // Day 3: flat, no trades: net 0; balance 99 896.06.
    const [d1, d2, d3] = r.daily;
    expect(r.daily).toHaveLength(3);
    expect(d1).toMatchObject({ date: "2025-01-02", closePrice: 102, preClose: 0, startPos: 0, endPos: 2, tradeCount: 1, holdingPnl: 0 });
    expect(d1!.tradingPnl).toBeCloseTo(40, 9);
    expect(d1!.turnover).toBeCloseTo(2000, 9);
    expect(d1!.commission).toBeCloseTo(2, 9);
    expect(d1!.slippage).toBeCloseTo(20, 9);
    expect(d1!.netPnl).toBeCloseTo(18, 9);
    expect(d1!.balance).toBeCloseTo(100_018, 9);
    expect(d2).toMatchObject({ date: "2025-01-03", closePrice: 96, preClose: 102, startPos: 2, endPos: 0, tradeCount: 1 });
    expect(d2!.holdingPnl).toBeCloseTo(-120, 9);
    expect(d2!.tradingPnl).toBeCloseTo(20, 9);
    expect(d2!.turnover).toBeCloseTo(1940, 9);
    expect(d2!.commission).toBeCloseTo(1.94, 9);
    expect(d2!.netPnl).toBeCloseTo(-121.94, 9);
    expect(d2!.balance).toBeCloseTo(99_896.06, 6);
    expect(d2!.drawdown).toBeCloseTo(-121.94, 6); // below day 1's 100 018
    expect(d3).toMatchObject({ date: "2025-01-04", closePrice: 101, preClose: 96, startPos: 0, endPos: 0, tradeCount: 0, netPnl: 0 });

    const s = r.statistics;
    const r1 = Math.log(100_018 / 100_000);
    const r2 = Math.log(99_896.06 / 100_018);
    const mean = (r1 + r2 + 0) / 3;
    const std = Math.sqrt(((r1 - mean) ** 2 + (r2 - mean) ** 2 + (0 - mean) ** 2) / 2);
    const ddpercent = (-121.94 / 100_018) * 100;
    expect(s).toMatchObject({
      startDate: "2025-01-02", endDate: "2025-01-04", totalDays: 3, profitDays: 1, lossDays: 1, capital: 100_000,
      totalTradeCount: 2, maxDrawdownDuration: 1, positiveBalance: true,
    });
    const expected: Record<string, number> = {
      endBalance: 99_896.06,
      maxDrawdown: -121.94,
      maxDdpercent: ddpercent,
      totalNetPnl: -103.94,
      dailyNetPnl: -103.94 / 3,
      totalCommission: 3.94,
      dailyCommission: 3.94 / 3,
      totalSlippage: 40,
      dailySlippage: 40 / 3,
      totalTurnover: 3940,
      dailyTurnover: 3940 / 3,
      dailyTradeCount: 2 / 3,
      totalReturn: -0.10394, // (99 896.06 / 100 000 − 1) · 100
      annualReturn: (-0.10394 / 3) * 240,
      dailyReturn: mean * 100,
      returnStd: std * 100,
      sharpeRatio: (mean / std) * Math.sqrt(240),
      returnDrawdownRatio: 0.10394 / ddpercent,
    };
    for (const [key, value] of Object.entries(expected)) {
      expect(s[key as keyof typeof s], key).toBeCloseTo(value, 6);
    }
    // The account agrees: what the exchange charged and marked is what the daily results add up to.
    expect(r.account.balance).toBeCloseTo(s.endBalance, 6);
    // The equity curve ends at the same balance, and its drawdown is never positive.
    expect(r.equity.at(-1)!.balance).toBeCloseTo(s.endBalance, 6);
    expect(r.equity.every((p) => p.drawdown <= 0)).toBe(true);
  });

  it("reports progress as the virtual time goes by", async () => {
    const seen: number[] = [];
    const bt = new Backtest({ seed: 3 });
    await bt.run({}, { vtSymbol: "rb2601.SHFE", durationMs: 600_000, onProgress: (f) => seen.push(f) });
    expect(seen).toHaveLength(100);
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f, i) => i === 0 || f > seen[i - 1]!)).toBe(true);
  });
});

describe("calculateStatistics edge cases", () => {
  const costs = { size: 1, rate: 0, slippage: 0 };
  it("gives zero statistics, as VeighNa does, when the balance ever falls to zero or below", () => {
    const daily = calculateDailyResults(
      [{ date: "2025-01-02", closePrice: 10 }, { date: "2025-01-03", closePrice: 1 }],
      [{ datetime: Date.UTC(2025, 0, 2, 2), direction: "LONG", price: 10, volume: 20 }], costs, 100,
    );
    expect(daily[1]!.balance).toBe(-80); // 100 + 20·(1 − 10)
    const s = calculateStatistics(daily, { capital: 100 });
    expect(s).toMatchObject({ positiveBalance: false, totalDays: 0, endBalance: 0, sharpeRatio: 0, capital: 100 });
  });

  it("has no standard deviation, Sharpe ratio or drawdown ratio for a single day", () => {
    const daily = calculateDailyResults([{ date: "2025-01-02", closePrice: 10 }], [], costs, 100);
    const s = calculateStatistics(daily, { capital: 100 });
    expect(s).toMatchObject({ totalDays: 1, returnStd: 0, sharpeRatio: 0, returnDrawdownRatio: 0, maxDrawdown: 0, endBalance: 100 });
  });
});
