/**
 * A worked example: the double moving-average crossover (VeighNa's DoubleMaStrategy) on
 * one-minute bars. Long when the fast average crosses above the slow one, short when it crosses
 * below; orders are marketable limits a few ticks through the touch.
 */
import type { BarData } from "./object.ts";
import type { Strategy, StrategyContext } from "./strategy.ts";

export interface MaCrossOptions {
  /** Bars in the fast average. Default 5. */
  fast?: number;
  /** Bars in the slow average. Default 20. */
  slow?: number;
  /** Volume per trade. Default 1. */
  volume?: number;
  /** How far through the touch to price orders, in price units. Default 0 (at the touch). */
  slip?: number;
}

export class MaCrossStrategy implements Strategy {
  readonly fast: number;
  readonly slow: number;
  readonly volume: number;
  readonly slip: number;
  readonly closes: number[] = [];

  constructor(options: MaCrossOptions = {}) {
    this.fast = options.fast ?? 5;
    this.slow = options.slow ?? 20;
    this.volume = options.volume ?? 1;
    this.slip = options.slip ?? 0;
    if (!(this.fast >= 1 && this.slow > this.fast)) throw new RangeError("Need 1 ≤ fast < slow");
  }

  onBar(bar: BarData, ctx: StrategyContext): void {
    this.closes.push(bar.closePrice);
    if (this.closes.length > this.slow + 1) this.closes.shift();
    if (this.closes.length < this.slow + 1) return;
    const fastNow = mean(this.closes, this.fast, 0);
    const slowNow = mean(this.closes, this.slow, 0);
    const fastPrev = mean(this.closes, this.fast, 1);
    const slowPrev = mean(this.closes, this.slow, 1);
    const up = fastPrev <= slowPrev && fastNow > slowNow;
    const down = fastPrev >= slowPrev && fastNow < slowNow;
    if (!up && !down) return;
    if (ctx.activeOrders().length) {
      void ctx.cancelAll();
      return;
    }
    const tick = ctx.lastTick;
    if (!tick) return;
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

/** Mean of the `n` values ending `back` places before the last. */
function mean(values: number[], n: number, back: number): number {
  let sum = 0;
  const end = values.length - back;
  for (let i = end - n; i < end; i++) sum += values[i]!;
  return sum / n;
}

/** Keeps the decimals of `like`, so a price built from a tick stays on the tick grid. */
function round(price: number, like: number): number {
  const decimals = (String(like).split(".")[1] ?? "").length;
  return Number(price.toFixed(Math.max(decimals, 2)));
}
