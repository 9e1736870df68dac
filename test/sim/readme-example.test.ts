/** The README's strategy example, verbatim (imports aside), so it stays true. */
import { describe, expect, it } from "vitest";
import { Backtest, type BarData, type Strategy, type StrategyContext } from "../../sim/index.ts";

/** Long when the 5-bar average crosses above the 20-bar one, short when it crosses below. */
class MaCross implements Strategy {
  closes: number[] = [];
  onBar(bar: BarData, ctx: StrategyContext) {
    const c = this.closes;
    c.push(bar.closePrice);
    if (c.length < 21) return;
    const avg = (n: number, back: number) => c.slice(c.length - back - n, c.length - back).reduce((a, b) => a + b) / n;
    const up = avg(5, 1) <= avg(20, 1) && avg(5, 0) > avg(20, 0);
    const down = avg(5, 1) >= avg(20, 1) && avg(5, 0) < avg(20, 0);
    const tick = ctx.lastTick!;
    if (up && ctx.pos <= 0) {
      if (ctx.pos < 0) ctx.cover(tick.askPrice1, -ctx.pos);
      ctx.buy(tick.askPrice1, 1);
    } else if (down && ctx.pos >= 0) {
      if (ctx.pos > 0) ctx.sell(tick.bidPrice1, ctx.pos);
      ctx.short(tick.bidPrice1, 1);
    }
  }
}

describe("MaCross on IF2512", () => {
  it("trades crossovers, and its PnL is what its trades imply", async () => {
    const bt = new Backtest({ seed: 7 });             // virtual clock: 6 hours run in well under a second
    const result = await bt.run(new MaCross(), { vtSymbol: "IF2512.CFFEX", durationMs: 6 * 3_600_000 });
    expect(result.trades.length).toBeGreaterThan(3);
    const mark = bt.exchange.lastPrice("IF2512.CFFEX");
    const implied = result.trades.reduce((sum, t) =>
      sum + (t.direction === "LONG" ? 1 : -1) * (mark - t.price) * t.volume * 300 - t.commission, 0);
    expect(result.pnl).toBeCloseTo(implied, 1);       // after commission and slippage
  });
});
