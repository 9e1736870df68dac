/**
 * The matching engine of one instrument, in integer ticks and lots.
 *
 * Liquidity comes from two places: orders of the simulator's accounts resting in the `OrderBook`,
 * and the synthetic depth of the latest market snapshot. A new order waits for the next market
 * event (never matching the data that triggered it), then walks both, best price first, each
 * resting order at its own price; at an equal price, accounts' resting orders go before the
 * synthetic depth. Depth taken is gone until the next snapshot replaces it.
 *
 * At every market event, in this order: the new depth replaces the old and the market's print is
 * the event's first trade; resting orders that the new depth crosses fill at their own price;
 * stops that arrived since the last event are armed (a stop is live once accepted, so the very
 * event after it was sent can trigger it); every armed stop that a trade of this event reached
 * becomes a market order (a gap fills at the worse, market price); then the other orders sent
 * since the last event are matched, and stops their trades reach fire too, in the same event.
 */
import type { Direction, Offset, OrderType, Status } from "./constant.ts";
import { OrderBook, type BookEntry, type Side } from "./book.ts";
import type { MarketSnapshot } from "./market-data.ts";

/**
 * The engine's record of one order, `id` its sequence number. Money fields belong to the account
 * keeping. It is its own book entry (`data` is itself): a resting order is one object, not an
 * order and a node.
 */
export interface SimOrder extends BookEntry<SimOrder> {
  /** Account index: orders of one owner never trade with each other. */
  readonly owner: number;
  readonly side: Side;
  readonly direction: Direction;
  readonly offset: Offset;
  readonly type: OrderType;
  /** Limit or stop price, ticks; 0 for MARKET. */
  readonly price: number;
  readonly lots: number;
  traded: number;
  status: Status;
  statusMsg: string;
  datetime: number;
  readonly reference: string;
  /** Not matched before this time (order latency). */
  readonly eligibleAt: number;
  /** Money held back per remaining opening lot (margin and fee). */
  frozenPerLot: number;
  /** Money held back per remaining closing lot (its fee). */
  closeFeePerLot: number;
  /**
   * Position lots held back for closing: yesterday's and today's (two-sided positions); on a NET
   * position, `closeTd` counts the remaining lots that close it and `closeYd` stays 0.
   */
  closeYd: number;
  closeTd: number;
}

export interface MatchHooks {
  /** `order` traded `lots` at `price` ticks; `order.traded` and `order.status` are already updated. */
  fill(order: SimOrder, lots: number, price: number): void;
  /** `order` changed state without trading (accepted, cancelled). */
  update(order: SimOrder): void;
  /**
   * Lots of `lots` that `order` can pay for at `price` (ticks), checked before each of its fills,
   * as taker and as maker alike; fewer than `lots` fills that many and cancels the rest. Default: all.
   */
  afford?(order: SimOrder, lots: number, price: number): number;
}

export const REASON = {
  selfTrade: "Self-trade prevented: the remainder would trade with your own resting order",
  noLiquidity: "No more liquidity: the remainder was cancelled",
  fokUnfilled: "Fill-or-kill could not fill in full",
  funds: "Insufficient funds: the remainder was cancelled",
} as const;

export class MatchingEngine {
  /** Rests the orders themselves; whoever submits them indexes them (the exchange's active orders). */
  readonly book: OrderBook<SimOrder> = new OrderBook<SimOrder>({ indexed: false });
  /** Synthetic depth: prices best first and the lots still available at each. */
  readonly bidPrices: number[] = [];
  readonly bidVolumes: number[] = [];
  readonly askPrices: number[] = [];
  readonly askVolumes: number[] = [];
  /** Last trade price, ticks (market or account fill). 0 before the first snapshot. */
  lastPrice = 0;
  /** Lots traded today (market plus accounts). */
  volume = 0;
  openPrice = 0;
  highPrice = 0;
  lowPrice = 0;
  /** Time of the latest market event. */
  datetime = 0;
  #pending: SimOrder[] = [];
  #stops: SimOrder[] = [];
  /** Highest and lowest trade price of the current market event, ticks (0: no trade yet). */
  #eventHigh = 0;
  #eventLow = 0;

  constructor(private readonly hooks: MatchHooks) {}

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Queue an accepted order for the next market event. */
  submit(order: SimOrder): void {
    this.#pending.push(order);
  }

  /** Cancel an active order; false when it is not waiting, resting or armed here. */
  cancel(order: SimOrder, reason = ""): boolean {
    let found = this.book.unrest(order);
    if (!found) found = removeFrom(this.#pending, order);
    if (!found) found = removeFrom(this.#stops, order);
    if (!found) return false;
    order.status = "CANCELLED";
    order.statusMsg = reason;
    this.hooks.update(order);
    return true;
  }

  /** Apply one market event. `now` is the clock time (orders with `eligibleAt > now` wait). */
  onMarket(snap: MarketSnapshot, now: number): void {
    this.datetime = snap.datetime;
    this.#eventHigh = this.#eventLow = 0;
    copyLevels(snap.bids, this.bidPrices, this.bidVolumes);
    copyLevels(snap.asks, this.askPrices, this.askVolumes);
    if (snap.lastPrice > 0) this.#trade(snap.lastPrice, snap.lastVolume);
    this.#crossResting();
    if (this.#pending.length) this.#armStops(now);
    if (this.#stops.length) this.#triggerStops();
    if (this.#pending.length) {
      this.#runPending(now);
      // The orders just matched traded too: a stop their prices reached fires now, not an event late.
      if (this.#stops.length) this.#triggerStops();
    }
  }

  /** Five merged levels per side (accounts' orders plus synthetic depth), best first. */
  depth(levels = 5): { bids: Array<[number, number]>; asks: Array<[number, number]> } {
    const out = newDepth();
    this.depthInto(out, levels);
    const pairs = (p: number[], v: number[]) => p.map((price, i): [number, number] => [price, v[i]!]);
    return { bids: pairs(out.bidPrices, out.bidVolumes), asks: pairs(out.askPrices, out.askVolumes) };
  }

  /** `depth` into reused arrays (the per-tick path allocates nothing here). */
  depthInto(out: Depth, levels = 5): void {
    const none: Array<[number, number]> = EMPTY;
    const bids = this.book.bids.prices.length ? this.book.bids.depth(levels) : none;
    const asks = this.book.asks.prices.length ? this.book.asks.depth(levels) : none;
    mergeDepth(bids, this.bidPrices, this.bidVolumes, 1, levels, out.bidPrices, out.bidVolumes);
    mergeDepth(asks, this.askPrices, this.askVolumes, -1, levels, out.askPrices, out.askVolumes);
  }

  /** Best opposite price a new order of `side` would meet now (ticks), or 0 when none. */
  bestOpposite(side: Side): number {
    const level = (side === 1 ? this.book.asks : this.book.bids).best();
    const synth = firstAvailable(side === 1 ? this.askPrices : this.bidPrices, side === 1 ? this.askVolumes : this.bidVolumes);
    if (level && synth !== undefined) return side === 1 ? Math.min(level.price, synth) : Math.max(level.price, synth);
    return level?.price ?? synth ?? 0;
  }

  #trade(price: number, lots: number): void {
    this.lastPrice = price;
    if (this.#eventHigh === 0 || price > this.#eventHigh) this.#eventHigh = price;
    if (this.#eventLow === 0 || price < this.#eventLow) this.#eventLow = price;
    this.volume += lots;
    if (this.openPrice === 0) this.openPrice = this.highPrice = this.lowPrice = price;
    if (price > this.highPrice) this.highPrice = price;
    if (price < this.lowPrice) this.lowPrice = price;
  }

  #fill(order: SimOrder, lots: number, price: number): void {
    order.traded += lots;
    order.status = order.traded === order.lots ? "ALLTRADED" : "PARTTRADED";
    this.hooks.fill(order, lots, price);
  }

  /** Resting orders the new synthetic depth crosses trade at their own price. */
  #crossResting(): void {
    for (let pass = 0; pass < 2; pass++) {
      const side: Side = pass === 0 ? 1 : -1;
      const book = side === 1 ? this.book.bids : this.book.asks;
      const prices = side === 1 ? this.askPrices : this.bidPrices;
      const vols = side === 1 ? this.askVolumes : this.bidVolumes;
      for (;;) {
        const level = book.best();
        if (!level) break;
        const k = firstAvailableIndex(vols);
        if (k < 0) break;
        const synth = prices[k]!;
        if (side === 1 ? synth > level.price : synth < level.price) break;
        const maker = level.head!;
        const want = Math.min(maker.remaining, vols[k]!);
        const q = this.#makerCan(maker, want);
        if (q > 0) {
          vols[k]! -= q;
          this.book.reduceEntry(maker, q);
          this.#trade(level.price, q);
          this.#fill(maker.data, q, level.price);
        }
        if (q < want) this.#evict(maker);
      }
    }
  }

  /** Stops whose latency has passed join the armed ones (still SUBMITTING until #triggerStops). */
  #armStops(now: number): void {
    const pending = this.#pending;
    let keep = 0;
    for (let i = 0; i < pending.length; i++) {
      const o = pending[i]!;
      if (o.type === "STOP" && o.eligibleAt <= now && o.status === "SUBMITTING") this.#stops.push(o);
      else pending[keep++] = o;
    }
    pending.length = keep;
  }

  /**
   * Every armed stop that a trade of this event reached (a buy stop at or below the event's
   * highest trade, a sell stop at or above its lowest) becomes a market order. Its fills are trades
   * too, so this repeats until no more stops fire (a cascade). Stops that arrived with this event
   * and did not fire are reported as armed (NOTTRADED).
   */
  #triggerStops(): void {
    const stops = this.#stops;
    while (stops.length && this.#eventHigh > 0) {
      const high = this.#eventHigh;
      const low = this.#eventLow;
      let fired: SimOrder[] | undefined;
      let keep = 0;
      for (let i = 0; i < stops.length; i++) {
        const o = stops[i]!;
        if (o.side === 1 ? high >= o.price : low <= o.price) (fired ??= []).push(o);
        else stops[keep++] = o;
      }
      stops.length = keep;
      if (!fired) break;
      for (const o of fired) this.#take(o, o.side === 1 ? Infinity : -Infinity);
    }
    for (const o of stops) {
      if (o.status !== "SUBMITTING") continue;
      o.status = "NOTTRADED";
      this.hooks.update(o);
    }
  }

  /** Match the orders (other than stops, armed already) whose latency has passed, in arrival order. */
  #runPending(now: number): void {
    const pending = this.#pending;
    let ready: SimOrder[] | undefined;
    let keep = 0;
    for (let i = 0; i < pending.length; i++) {
      const o = pending[i]!;
      if (o.eligibleAt <= now) (ready ??= []).push(o);
      else pending[keep++] = o;
    }
    pending.length = keep;
    if (!ready) return;
    for (const o of ready) {
      if (o.status !== "SUBMITTING") continue;
      switch (o.type) {
        case "STOP": // armed by #armStops already; kept here so no stop can be taken as a limit
          this.#stops.push(o);
          break;
        case "MARKET":
          this.#take(o, o.side === 1 ? Infinity : -Infinity);
          break;
        case "FOK":
          if (this.#available(o) < o.lots) this.#finish(o, REASON.fokUnfilled);
          else this.#take(o, o.price);
          break;
        default:
          this.#take(o, o.price);
      }
    }
  }

  /** The order `#take` is matching, for the book's callbacks below (made once, not per order). */
  #taker: SimOrder | undefined;
  readonly #onTakerFill = (maker: BookEntry<SimOrder>, q: number, price: number): void => {
    this.#trade(price, q);
    this.#fill(maker.data, q, price);
    this.#fill(this.#taker!, q, price);
  };
  readonly #takerCap = (price: number, q: number): number => this.hooks.afford!(this.#taker!, q, price);
  readonly #makerCap = (maker: BookEntry<SimOrder>, q: number): number => this.#makerCan(maker, q);
  readonly #evictMaker = (maker: BookEntry<SimOrder>): void => this.#finish(maker.data, REASON.funds);

  /** Walk the book and the synthetic depth for `order` within `limit`; then rest or cancel the remainder. */
  #take(order: SimOrder, limit: number): void {
    const side = order.side;
    const prices = side === 1 ? this.askPrices : this.bidPrices;
    const vols = side === 1 ? this.askVolumes : this.bidVolumes;
    // Holds are estimates (best price, stop price): each fill is paid for before it happens.
    const cap = this.hooks.afford ? this.#takerCap : undefined;
    const makerCap = this.hooks.afford ? this.#makerCap : undefined;
    const evict = this.#evictMaker;
    this.#taker = order;
    let selfTrade = false;
    let broke = false;
    while (order.traded < order.lots) {
      const k = firstAvailableIndex(vols);
      const synth = k >= 0 && (side === 1 ? prices[k]! <= limit : prices[k]! >= limit) ? prices[k]! : undefined;
      // Accounts' orders at the synthetic price or better go first.
      const r = this.book.take(side, synth ?? limit, order.lots - order.traded, order.owner, this.#onTakerFill, cap, makerCap, evict);
      if (r.selfTrade) {
        selfTrade = true;
        break;
      }
      if (r.capped) {
        broke = true;
        break;
      }
      if (order.traded >= order.lots || synth === undefined) break;
      let q = Math.min(order.lots - order.traded, vols[k]!);
      const can = cap ? Math.min(q, cap(synth, q)) : q;
      if (can < q) broke = true;
      q = can;
      if (q > 0) {
        vols[k]! -= q;
        this.#trade(synth, q);
        this.#fill(order, q, synth);
      }
      if (broke) break;
    }
    if (order.traded >= order.lots) return;
    if (selfTrade) this.#finish(order, REASON.selfTrade);
    else if (broke) this.#finish(order, REASON.funds);
    else if (order.type === "LIMIT") {
      order.remaining = order.lots - order.traded;
      this.book.rest(order);
      if (order.traded === 0) {
        order.status = "NOTTRADED";
        this.hooks.update(order);
      }
    } else this.#finish(order, REASON.noLiquidity);
  }

  /** Lots of `lots` a resting order can pay for at its own price (its hold may fall short of its cost). */
  #makerCan(maker: BookEntry<SimOrder>, lots: number): number {
    const afford = this.hooks.afford;
    return afford ? Math.min(lots, Math.max(0, Math.floor(afford.call(this.hooks, maker.data, lots, maker.price)))) : lots;
  }

  /** Take a resting order its owner cannot pay for out of the book and cancel it. */
  #evict(maker: BookEntry<SimOrder>): void {
    this.book.unrest(maker);
    this.#finish(maker.data, REASON.funds);
  }

  #finish(order: SimOrder, reason: string): void {
    order.status = "CANCELLED";
    order.statusMsg = reason;
    this.hooks.update(order);
  }

  /** Lots `order` could take now within its limit, stopping at its owner's own orders. */
  #available(order: SimOrder): number {
    const side = order.side;
    const limit = order.price;
    const want = order.lots;
    const prices = side === 1 ? this.askPrices : this.bidPrices;
    const vols = side === 1 ? this.askVolumes : this.bidVolumes;
    const bookSide = side === 1 ? this.book.asks : this.book.bids;
    const within = (p: number): boolean => (side === 1 ? p <= limit : p >= limit);
    let got = 0;
    let k = 0;
    let li = bookSide.prices.length - 1;
    while (got < want) {
      while (k < prices.length && vols[k]! <= 0) k++;
      const sp = k < prices.length && within(prices[k]!) ? prices[k]! : undefined;
      const bp = li >= 0 && within(bookSide.prices[li]!) ? bookSide.prices[li]! : undefined;
      if (sp === undefined && bp === undefined) break;
      if (bp !== undefined && (sp === undefined || (side === 1 ? bp <= sp : bp >= sp))) {
        for (let e = bookSide.levels.get(bp)!.head; e; e = e.next) {
          if (e.owner === order.owner) return got;
          got += e.remaining;
        }
        li--;
      } else {
        got += vols[k]!;
        k++;
      }
    }
    return got;
  }
}

/** Copies [price, lots] levels into the two reused arrays (no allocation per market event). */
function copyLevels(levels: Array<[number, number]>, prices: number[], vols: number[]): void {
  if (prices.length !== levels.length) {
    prices.length = levels.length;
    vols.length = levels.length;
  }
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    prices[i] = l[0];
    vols[i] = l[1];
  }
}

function removeFrom(list: SimOrder[], order: SimOrder): boolean {
  const i = list.indexOf(order);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

function firstAvailableIndex(vols: number[]): number {
  for (let i = 0; i < vols.length; i++) if (vols[i]! > 0) return i;
  return -1;
}

function firstAvailable(prices: number[], vols: number[]): number | undefined {
  const i = firstAvailableIndex(vols);
  return i < 0 ? undefined : prices[i];
}

/** Merged depth, per side: prices best first and the lots at each. */
export interface Depth {
  bidPrices: number[];
  bidVolumes: number[];
  askPrices: number[];
  askVolumes: number[];
}

export function newDepth(): Depth {
  return { bidPrices: [], bidVolumes: [], askPrices: [], askVolumes: [] };
}

const EMPTY: Array<[number, number]> = [];

/** Merges two best-first depth lists (the book's and the synthetic one) into `outP`/`outV`, summing equal prices. */
function mergeDepth(
  book: Array<[number, number]>, prices: number[], vols: number[], side: Side, n: number, outP: number[], outV: number[],
): void {
  let i = 0;
  let k = 0;
  let m = 0;
  if (book.length === 0) {
    // No account orders on this side (the usual case): the synthetic levels that have lots left.
    for (; k < prices.length && m < n; k++) {
      const v = vols[k]!;
      if (v <= 0) continue;
      outP[m] = prices[k]!;
      outV[m] = v;
      m++;
    }
    if (outP.length !== m) {
      outP.length = m;
      outV.length = m;
    }
    return;
  }
  while (m < n) {
    while (k < prices.length && vols[k]! <= 0) k++;
    const hasBook = i < book.length;
    const hasSynth = k < prices.length;
    if (!hasBook && !hasSynth) break;
    const b = hasBook ? book[i]! : undefined;
    if (b && (!hasSynth || (side === 1 ? b[0] > prices[k]! : b[0] < prices[k]!))) {
      outP[m] = b[0];
      outV[m] = b[1];
      i++;
    } else if (b && b[0] === prices[k]) {
      outP[m] = b[0];
      outV[m] = b[1] + vols[k]!;
      i++;
      k++;
    } else {
      outP[m] = prices[k]!;
      outV[m] = vols[k]!;
      k++;
    }
    m++;
  }
  if (outP.length !== m) {
    outP.length = m;
    outV.length = m;
  }
}
