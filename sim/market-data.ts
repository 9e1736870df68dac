/**
 * Simulated liquidity: market snapshots in integer ticks and lots, either generated from a seeded
 * random walk or replayed from recorded ticks. The matching engine consumes them as "market
 * events"; orders match the synthetic depth, and depth they take is gone until the next snapshot.
 */
import type { Random } from "./random.ts";

export interface MarketSnapshot {
  /** Epoch milliseconds. */
  datetime: number;
  /** Last market trade price, ticks. */
  lastPrice: number;
  /** Lots the rest of the market traded since the previous snapshot. */
  lastVolume: number;
  /** [priceTicks, lots], best first, up to five levels. */
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

/** A time-ordered source of snapshots; `undefined` when it has no more. */
export interface MarketFeed {
  next(): MarketSnapshot | undefined;
}

export interface RandomWalkOptions {
  random: Random;
  /** First bid price, ticks. */
  startTicks: number;
  /** First snapshot time, epoch milliseconds. */
  start: number;
  /** Milliseconds between snapshots (plus up to `jitterMs`). Default 500. */
  intervalMs?: number;
  jitterMs?: number;
  /** Standard deviation of each step, ticks. Default 1. */
  volatility?: number;
  /** Mean of each step, ticks. Default 0. */
  drift?: number;
  /** Largest resting volume per synthetic level, lots. Default 20. */
  maxLevelVolume?: number;
  /** Largest market volume per snapshot, lots. Default 10. */
  maxTradeVolume?: number;
  /** Price floor, ticks. Default 1. */
  minTicks?: number;
  /** Stop after this many snapshots. Default unbounded. */
  count?: number;
}

/** A random walk with drift and volatility and a synthetic five-level book around it. */
export function randomWalkFeed(options: RandomWalkOptions): MarketFeed {
  const rnd = options.random;
  const interval = options.intervalMs ?? 500;
  const jitter = options.jitterMs ?? 0;
  const vol = options.volatility ?? 1;
  const drift = options.drift ?? 0;
  const maxLevel = options.maxLevelVolume ?? 20;
  const maxTrade = options.maxTradeVolume ?? 10;
  const floor = options.minTicks ?? 1;
  const count = options.count ?? Infinity;
  if (!(interval > 0)) throw new RangeError("intervalMs must be positive");
  if (!Number.isInteger(options.startTicks) || options.startTicks < floor) {
    throw new RangeError("startTicks must be an integer at or above the floor");
  }
  let bid = options.startTicks;
  let time = options.start;
  let n = 0;
  return {
    next(): MarketSnapshot | undefined {
      if (n >= count) return undefined;
      if (n > 0) {
        time += interval + (jitter > 0 ? rnd.int(0, jitter) : 0);
        const move = Math.round(drift + vol * rnd.normal());
        bid = Math.max(floor, bid + move);
      }
      n++;
      const spread = rnd.next() < 0.85 ? 1 : 2;
      const ask = bid + spread;
      const bids: Array<[number, number]> = [];
      const asks: Array<[number, number]> = [];
      for (let i = 0; i < 5; i++) {
        if (bid - i >= floor) bids.push([bid - i, rnd.int(1, maxLevel)]);
        asks.push([ask + i, rnd.int(1, maxLevel)]);
      }
      const lastPrice = rnd.next() < 0.5 ? bid : ask;
      return { datetime: time, lastPrice, lastVolume: rnd.int(0, maxTrade), bids, asks };
    },
  };
}

/** A recorded tick in price units, as parsed from CSV. */
export interface RecordedTick {
  datetime: number;
  lastPrice: number;
  /** Cumulative volume (as recorded by exchanges) or per-tick when `lastVolume` is absent. */
  volume: number;
  lastVolume?: number;
  bidPrices: number[];
  bidVolumes: number[];
  askPrices: number[];
  askVolumes: number[];
}

/** Hard bound on replayed text, so a mistaken input cannot take the process down. */
const MAX_CSV_CHARS = 256 * 1024 * 1024;

/**
 * Parses recorded ticks from CSV text (the simulator never reads files: the caller passes the
 * text). Headers are matched ignoring case and underscores, so VeighNa's `last_price`,
 * `bid_price_1`, `bid_volume_1` and camelCase `lastPrice`, `bidPrice1` both work. `datetime` is
 * epoch milliseconds or an ISO-8601 string. Columns needed: datetime, last_price; optional:
 * volume, last_volume, bid/ask price/volume 1–5.
 */
export function parseTickCsv(text: string): RecordedTick[] {
  if (typeof text !== "string") throw new TypeError("CSV must be a string");
  if (text.length > MAX_CSV_CHARS) throw new RangeError("CSV text is too large");
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines.shift();
  if (header === undefined) return [];
  const cols = header.split(",").map((h) => h.trim().replace(/_/g, "").toLowerCase());
  const at = (name: string): number => cols.indexOf(name);
  const iDate = at("datetime");
  const iLast = at("lastprice");
  if (iDate < 0 || iLast < 0) throw new RangeError("CSV needs datetime and last_price columns");
  const iVol = at("volume");
  const iLastVol = at("lastvolume");
  const levels = [1, 2, 3, 4, 5].map((k) => ({
    bp: at(`bidprice${k}`), bv: at(`bidvolume${k}`), ap: at(`askprice${k}`), av: at(`askvolume${k}`),
  }));
  const out: RecordedTick[] = [];
  lines.forEach((line, row) => {
    const f = line.split(",").map((s) => s.trim());
    const num = (i: number): number => (i < 0 || f[i] === undefined || f[i] === "" ? 0 : Number(f[i]));
    const rawDate = f[iDate] ?? "";
    const datetime = /^\d+(\.\d+)?$/.test(rawDate) ? Number(rawDate) : Date.parse(rawDate);
    const lastPrice = num(iLast);
    if (!Number.isFinite(datetime) || !Number.isFinite(lastPrice)) {
      throw new RangeError(`CSV row ${row + 2}: bad datetime or last_price`);
    }
    const tick: RecordedTick = {
      datetime, lastPrice, volume: num(iVol), bidPrices: [], bidVolumes: [], askPrices: [], askVolumes: [],
    };
    if (iLastVol >= 0) tick.lastVolume = num(iLastVol);
    for (const l of levels) {
      const bp = num(l.bp);
      const ap = num(l.ap);
      if (bp > 0) { tick.bidPrices.push(bp); tick.bidVolumes.push(num(l.bv)); }
      if (ap > 0) { tick.askPrices.push(ap); tick.askVolumes.push(num(l.av)); }
    }
    out.push(tick);
  });
  return out;
}

/** Replays recorded ticks, converting prices to ticks and volumes to lots. */
export function replayFeed(ticks: readonly RecordedTick[], pricetick: number, minVolume = 1): MarketFeed {
  let i = 0;
  let prevCum: number | undefined;
  const toTicks = (p: number): number => Math.round(p / pricetick);
  const toLots = (v: number): number => Math.max(0, Math.round(v / minVolume));
  return {
    next(): MarketSnapshot | undefined {
      const t = ticks[i++];
      if (!t) return undefined;
      let lastVolume: number;
      if (t.lastVolume !== undefined) lastVolume = t.lastVolume;
      else {
        lastVolume = prevCum === undefined ? 0 : Math.max(0, t.volume - prevCum);
        prevCum = t.volume;
      }
      const side = (ps: number[], vs: number[]): Array<[number, number]> =>
        ps.map((p, k): [number, number] => [toTicks(p), toLots(vs[k] ?? 0)]).filter(([, v]) => v > 0);
      return {
        datetime: t.datetime,
        lastPrice: toTicks(t.lastPrice),
        lastVolume: toLots(lastVolume),
        bids: side(t.bidPrices, t.bidVolumes),
        asks: side(t.askPrices, t.askVolumes),
      };
    },
  };
}
