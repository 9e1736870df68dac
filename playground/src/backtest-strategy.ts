/**
 * The Backtest tab's starting strategy: sim/ma-cross.ts's `MaCrossStrategy` (VeighNa's
 * DoubleMaStrategy) as plain JavaScript, so the visitor can edit it and run it without a
 * TypeScript compiler in the page. The module must export `Strategy`, a class (`new
 * Strategy(params)`) or a function (`Strategy(params)`) returning an object with `onBar(bar, ctx)`
 * and/or `onTick(tick, ctx)`. test/sim/backtest-strategy.test.ts checks it trades exactly as
 * `MaCrossStrategy` does.
 */
export const STRATEGY_EXPORT = "Strategy";

export const MA_CROSS_SOURCE = `// The double moving-average crossover on one-minute bars (sim/ma-cross.ts).
// params: { fast, slow, volume } from the form; ctx: buy/sell/short/cover, pos, lastTick…
export class Strategy {
  constructor({ fast = 5, slow = 20, volume = 1, slip = 0 } = {}) {
    if (!(fast >= 1 && slow > fast)) throw new RangeError("Need 1 ≤ fast < slow");
    Object.assign(this, { fast, slow, volume, slip, closes: [] });
  }

  onBar(bar, ctx) {
    const closes = this.closes;
    closes.push(bar.closePrice);
    if (closes.length > this.slow + 1) closes.shift();
    if (closes.length < this.slow + 1) return;
    const mean = (n, back) => {
      let sum = 0;
      for (let i = closes.length - back - n; i < closes.length - back; i++) sum += closes[i];
      return sum / n;
    };
    const fastNow = mean(this.fast, 0), slowNow = mean(this.slow, 0);
    const fastPrev = mean(this.fast, 1), slowPrev = mean(this.slow, 1);
    const up = fastPrev <= slowPrev && fastNow > slowNow;
    const down = fastPrev >= slowPrev && fastNow < slowNow;
    if (!up && !down) return;
    if (ctx.activeOrders().length) return void ctx.cancelAll();
    const tick = ctx.lastTick;
    if (!tick) return;
    // Keep the decimals of the touch, so the price stays on the tick grid.
    const round = (price, like) => Number(price.toFixed(Math.max((String(like).split(".")[1] ?? "").length, 2)));
    if (up) {
      const price = round(tick.askPrice1 + this.slip, tick.askPrice1);
      if (ctx.pos < 0) void ctx.cover(price, -ctx.pos);
      if (ctx.pos <= 0) void ctx.buy(price, this.volume);
    } else {
      const price = round(tick.bidPrice1 - this.slip, tick.bidPrice1);
      if (ctx.pos > 0) void ctx.sell(price, ctx.pos);
      if (ctx.pos >= 0) void ctx.short(price, this.volume);
    }
  }
}
`;

/** A module URL for `source`, importable in any worker of the page (no server round trip). */
export function moduleUrl(source: string): string {
  return `data:text/javascript;charset=utf-8,${encodeURIComponent(source)}`;
}
