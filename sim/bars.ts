/**
 * Minute bars built from market events, kept in a bounded ring for `queryHistory`; hour, day and
 * week bars are aggregated from them on request.
 */
import type { Exchange, Interval } from "./constant.ts";
import type { BarData } from "./object.ts";

const MINUTE = 60_000;
const SPAN: Record<Exclude<Interval, "TICK">, number> = {
  MINUTE,
  HOUR: 60 * MINUTE,
  DAILY: 24 * 60 * MINUTE,
  WEEKLY: 7 * 24 * 60 * MINUTE,
};

export class BarSeries {
  readonly #bars: BarData[] = [];
  #current: BarData | undefined;

  constructor(readonly symbol: string, readonly exchange: Exchange, readonly maxBars: number) {}

  /** Record a trade price and the volume traded since the previous call. */
  add(time: number, price: number, volume: number): void {
    const start = Math.floor(time / MINUTE) * MINUTE;
    let bar = this.#current;
    if (!bar || bar.datetime !== start) {
      if (bar) this.#push(bar);
      bar = {
        gatewayName: "",
        symbol: this.symbol,
        exchange: this.exchange,
        datetime: start,
        interval: "MINUTE",
        volume: 0,
        turnover: 0,
        openInterest: 0,
        openPrice: price,
        highPrice: price,
        lowPrice: price,
        closePrice: price,
        vtSymbol: `${this.symbol}.${this.exchange}`,
      };
      this.#current = bar;
    }
    if (price > bar.highPrice) bar.highPrice = price;
    if (price < bar.lowPrice) bar.lowPrice = price;
    bar.closePrice = price;
    bar.volume += volume;
  }

  /** Bars of `interval` whose start is in [start, end), oldest first, as fresh copies. */
  query(interval: Interval, start: number, end: number): BarData[] {
    if (interval === "TICK") return [];
    const minutes = this.#current ? [...this.#bars, this.#current] : this.#bars;
    const span = SPAN[interval];
    const out: BarData[] = [];
    for (const m of minutes) {
      const t = Math.floor(m.datetime / span) * span;
      const last = out[out.length - 1];
      if (last && last.datetime === t) {
        if (m.highPrice > last.highPrice) last.highPrice = m.highPrice;
        if (m.lowPrice < last.lowPrice) last.lowPrice = m.lowPrice;
        last.closePrice = m.closePrice;
        last.volume += m.volume;
      } else out.push({ ...m, datetime: t, interval });
    }
    return out.filter((b) => b.datetime >= start && b.datetime < end);
  }

  #push(bar: BarData): void {
    if (this.maxBars <= 0) return;
    this.#bars.push(bar);
    if (this.#bars.length > this.maxBars) this.#bars.splice(0, this.#bars.length - this.maxBars);
  }
}
