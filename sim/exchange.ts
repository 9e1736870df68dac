/**
 * The simulated exchange: instruments with their matching engines and market-data feeds, the
 * accounts trading on them, and the translation between the engine's integers (ticks, lots) and
 * VeighNa's data objects. Gateways (`SimGateway`) are its accounts' connections.
 *
 * Everything runs on the injected clock; randomness comes from the seed; ids come from sequences.
 * Events are collected while an operation runs and delivered when it is over, per account in the
 * order order → trade → position → account, each as a fresh copy.
 */
import type { Exchange, Product } from "./constant.ts";
import { isMember, Direction as DirectionEnum, Exchange as ExchangeEnum, Offset as OffsetEnum, OrderType as OrderTypeEnum } from "./constant.ts";
import type {
  AccountData, BarData, CancelRequest, CancelResult, ContractData, HistoryRequest, OrderData, OrderRequest,
  PositionData, TickData, TradeData,
} from "./object.ts";
import type { Clock, TimerId } from "./clock.ts";
import { Random } from "./random.ts";
import { MatchingEngine, newDepth, type Depth, type SimOrder } from "./matching.ts";
import { randomWalkFeed, type MarketFeed, type MarketSnapshot } from "./market-data.ts";
import { AccountState, type InstrumentTerms, type PositionState } from "./account.ts";
import { BarSeries } from "./bars.ts";

export interface RandomWalkSpec {
  /** First bid price, in price units. */
  startPrice: number;
  /** Standard deviation of each step, ticks. Default 1. */
  volatility?: number;
  /** Mean of each step, ticks. Default 0. */
  drift?: number;
  /** Default 500. */
  intervalMs?: number;
  jitterMs?: number;
  maxLevelVolume?: number;
  maxTradeVolume?: number;
}

export interface InstrumentSpec {
  symbol: string;
  exchange: Exchange;
  name?: string;
  product?: Product;
  /** Contract multiplier. */
  size: number;
  pricetick: number;
  /** Default 1. */
  minVolume?: number;
  /** Default 0.1 (1 for SPOT). */
  marginRate?: number;
  /** One NET position instead of long and short. Default: true for SPOT, else false. */
  netPosition?: boolean;
  /** Fraction of turnover charged per fill. Default 0. */
  commissionRate?: number;
  /** Slippage cost per unit of volume, in price units (as VeighNa's backtester). Default 0. */
  slippage?: number;
  /** Market data: a seeded random walk (the default, from `walk`) or any feed, e.g. `replayFeed`. */
  walk?: RandomWalkSpec;
  feed?: MarketFeed;
  /** Trading hours; orders are rejected with "Market closed" outside them. Default: always open. */
  isOpen?: (time: number) => boolean;
}

export interface SimExchangeOptions {
  clock: Clock;
  /** Seeds the market data. Default 1. */
  seed?: number;
  instruments: InstrumentSpec[];
  /** Earliest time after sending that an order can match. Default 0: the next market event. */
  latencyMs?: number;
  /** Minute bars kept per instrument for `queryHistory`. Default 20 000. */
  maxBars?: number;
  /** Final orders and trades kept per account (a long-running exchange must not grow forever). Default 50 000. */
  maxHistory?: number;
  /**
   * Open positions are marked to the last price at most this often (clock time): a position whose
   * P&L moved is reported again, then its account, as a real gateway's periodic position and
   * account queries report them. Default 1000 ms; 0 reports positions on trades only.
   */
  markIntervalMs?: number;
}

/** Receives one account's events. */
export interface AccountListener {
  order(order: OrderData): void;
  trade(trade: TradeData): void;
  position(position: PositionData): void;
  account(account: AccountData): void;
}

export interface OpenAccountOptions {
  /** Default: the gateway name. */
  accountid?: string;
  /** Starting balance. Default 1 000 000. */
  balance?: number;
  currency?: string;
}

/** Largest order accepted, in lots. */
const MAX_LOTS = 1e9;

class Instrument implements InstrumentTerms {
  readonly vtSymbol: string;
  readonly lotValue: number;
  readonly marginRate: number;
  readonly netPosition: boolean;
  readonly engine: MatchingEngine;
  readonly bars: BarSeries;
  readonly priceDigits: number;
  readonly volumeDigits: number;
  readonly #priceScale: number;
  readonly #volumeScale: number;
  readonly #priceUnit: number;
  readonly #volumeUnit: number;
  /** Lots traded in the latest market event (market and accounts), for `lastVolume`. */
  lastVolumeLots = 0;
  readonly subscribers = new Set<(tick: TickData) => void>();
  timer: TimerId | undefined;
  /** A tick waiting in the outbox, and the delivery that publishes it (made once). */
  outgoing: TickData | undefined;
  deliverTick: (() => void) | undefined;
  /** The clock callback that applies `pending` (see SimExchange.#schedule). */
  fire: (() => void) | undefined;
  /** The feed is on the clock (started and not stopped). */
  running = false;
  /** The snapshot the timer waits for, kept across stop() and start(). */
  pending: MarketSnapshot | undefined;
  halted = false;
  /** Reused by every tick this instrument publishes. */
  readonly depth: Depth = newDepth();
  /** A market event has been applied (there is a tick to report). */
  hasMarket = false;
  #barVolume = 0;

  /** The feed; a random walk is made when the instrument first starts, so it begins then. */
  feed: MarketFeed | undefined;

  constructor(
    readonly contract: ContractData,
    readonly spec: InstrumentSpec,
    /** Given a feed, or the random walk's maker (which starts it at the given time). */
    readonly source: MarketFeed | ((start: number) => MarketFeed),
    engine: (terms: Instrument) => MatchingEngine,
    maxBars: number,
  ) {
    this.vtSymbol = contract.vtSymbol;
    this.feed = typeof source === "function" ? undefined : source;
    this.lotValue = contract.pricetick * contract.size * contract.minVolume;
    this.marginRate = contract.marginRate;
    this.netPosition = contract.netPosition;
    this.priceDigits = digits(contract.pricetick);
    this.volumeDigits = digits(contract.minVolume);
    this.#priceScale = 10 ** this.priceDigits;
    this.#volumeScale = 10 ** this.volumeDigits;
    // A tick (a lot) in units of the last decimal: a whole number, so a conversion is one multiply.
    this.#priceUnit = Math.round(contract.pricetick * this.#priceScale);
    this.#volumeUnit = Math.round(contract.minVolume * this.#volumeScale);
    this.engine = engine(this);
    this.bars = new BarSeries(contract.symbol, contract.exchange, maxBars);
  }

  lastPrice(): number {
    return this.engine.lastPrice;
  }

  price(ticks: number): number {
    return Math.round(ticks * this.#priceUnit) / this.#priceScale;
  }

  volume(lots: number): number {
    return Math.round(lots * this.#volumeUnit) / this.#volumeScale;
  }

  /** Record market activity into the minute bars. */
  recordBar(time: number): void {
    const e = this.engine;
    const delta = e.volume - this.#barVolume;
    this.#barVolume = e.volume;
    if (e.lastPrice > 0) this.bars.add(time, this.price(e.lastPrice), this.volume(delta));
  }
}

/** Events of one operation, delivered when it is over (never re-entrantly into the engine). */
type Delivery = () => void;

/**
 * The deliveries waiting for the end of an operation. Its slots are reused rather than the array
 * truncated: truncating drops the backing store, and every market event would allocate it again.
 */
class Outbox {
  readonly #items: Array<Delivery | undefined> = [];
  #count = 0;

  get length(): number {
    return this.#count;
  }

  push(delivery: Delivery): void {
    this.#items[this.#count++] = delivery;
  }

  run(i: number): void {
    this.#items[i]!();
  }

  clear(): void {
    for (let i = 0; i < this.#count; i++) this.#items[i] = undefined;
    this.#count = 0;
  }
}

export class SimExchange {
  readonly clock: Clock;
  readonly #latency: number;
  readonly #maxHistory: number;
  readonly #instruments = new Map<string, Instrument>();
  readonly #accounts = new Map<string, AccountState>();
  readonly #listeners = new Map<AccountState, AccountListener>();
  readonly #orders = new Map<number, { order: SimOrder; account: AccountState; inst: Instrument }>();
  readonly #ordersByAccount = new Map<AccountState, SimOrder[]>();
  readonly #trades = new Map<AccountState, TradeData[]>();
  readonly #outbox = new Outbox();
  #flushing = false;
  readonly #markInterval: number;
  #markDue = -Infinity;
  /** The P&L each position was last reported with: marking reports only those that moved. */
  readonly #reportedPnl = new WeakMap<PositionState, number>();
  /** The price a rejected order was sent with, reported as sent (not rounded to the tick). */
  readonly #sentPrice = new WeakMap<SimOrder, number>();
  #orderSeq = 0;
  #tradeSeq = 0;
  #started = false;

  constructor(options: SimExchangeOptions) {
    this.clock = options.clock;
    this.#latency = options.latencyMs ?? 0;
    this.#maxHistory = options.maxHistory ?? 50_000;
    this.#markInterval = options.markIntervalMs ?? 1000;
    const random = new Random(options.seed ?? 1);
    const maxBars = options.maxBars ?? 20_000;
    for (const spec of options.instruments) {
      const contract = contractOf(spec);
      if (this.#instruments.has(contract.vtSymbol)) throw new RangeError(`Duplicate instrument ${contract.vtSymbol}`);
      const stream = random.fork();
      const feed = spec.feed ?? ((start: number) => walkFeed(spec, stream, start));
      const inst: Instrument = new Instrument(contract, spec, feed, (terms) => new MatchingEngine({
        fill: (o, lots, price) => this.#onFill(terms, o, lots, price),
        update: (o) => this.#onUpdate(terms, o),
        afford: (o, lots, price) => this.#afford(terms, o, lots, price),
      }), maxBars);
      this.#instruments.set(contract.vtSymbol, inst);
    }
  }

  /**
   * Start the market-data feeds on the clock: all, or only those of `vtSymbols`; feeds already
   * running are left alone. A random walk starts at the clock's now and, after a stop, goes on
   * from now (the snapshots it would have made meanwhile are skipped, not fired in a burst).
   */
  start(vtSymbols?: readonly string[]): void {
    for (const inst of this.#instruments.values()) {
      if (inst.running || (vtSymbols && !vtSymbols.includes(inst.vtSymbol))) continue;
      inst.running = true;
      this.#started = true;
      this.#schedule(inst);
    }
  }

  /** Stop the feeds (pending clock timers are cleared; a feed's next snapshot is kept). */
  stop(): void {
    this.#started = false;
    for (const inst of this.#instruments.values()) {
      inst.running = false;
      if (inst.timer !== undefined) this.clock.clearTimer(inst.timer);
      inst.timer = undefined;
    }
  }

  get running(): boolean {
    return this.#started;
  }

  // ---- accounts ----

  /** Open (or reopen) the account that a gateway trades for. */
  openAccount(gatewayName: string, options: OpenAccountOptions = {}): AccountState {
    const existing = this.#accounts.get(gatewayName);
    if (existing) return existing;
    const balance = options.balance ?? 1_000_000;
    if (!Number.isFinite(balance) || balance < 0) throw new RangeError("Balance must be a non-negative number");
    const acc = new AccountState(this.#accounts.size + 1, options.accountid ?? gatewayName, gatewayName, balance, options.currency ?? "CNY");
    this.#accounts.set(gatewayName, acc);
    this.#ordersByAccount.set(acc, []);
    this.#trades.set(acc, []);
    return acc;
  }

  attach(account: AccountState, listener: AccountListener): () => void {
    this.#listeners.set(account, listener);
    return () => {
      if (this.#listeners.get(account) === listener) this.#listeners.delete(account);
    };
  }

  // ---- queries (fresh copies) ----

  contracts(): ContractData[] {
    return [...this.#instruments.values()].map((i) => ({ ...i.contract }));
  }

  contract(vtSymbol: string): ContractData | undefined {
    const i = this.#instruments.get(vtSymbol);
    return i ? { ...i.contract } : undefined;
  }

  /** The instrument's tick as of now (after the latest market event), or undefined before any. */
  lastTick(vtSymbol: string): TickData | undefined {
    const inst = this.#instruments.get(vtSymbol);
    return inst?.hasMarket ? this.#tickData(inst) : undefined;
  }

  /** Last price in price units (0 before the first market event). */
  lastPrice(vtSymbol: string): number {
    const i = this.#instruments.get(vtSymbol);
    return i ? i.price(i.engine.lastPrice) : 0;
  }

  accountData(account: AccountState): AccountData {
    const balance = account.balance();
    const frozen = account.frozen();
    return {
      gatewayName: account.gatewayName,
      accountid: account.accountid,
      preBalance: money(account.preBalance),
      balance: money(balance),
      frozen: money(frozen),
      available: money(balance - frozen),
      margin: money(account.margin()),
      closeProfit: money(account.closeProfit),
      holdingProfit: money(account.holdingProfit()),
      commission: money(account.commission),
      currency: account.currency,
      vtAccountId: `${account.gatewayName}.${account.accountid}`,
    };
  }

  positionsData(account: AccountState): PositionData[] {
    return [...account.positions.values()].map((p) => this.#positionData(account, p));
  }

  ordersData(account: AccountState): OrderData[] {
    return (this.#ordersByAccount.get(account) ?? []).map((o) => this.#orderData(account, o));
  }

  tradesData(account: AccountState): TradeData[] {
    return (this.#trades.get(account) ?? []).map((t) => ({ ...t }));
  }

  queryHistory(req: HistoryRequest): BarData[] {
    const inst = this.#instruments.get(`${req.symbol}.${req.exchange}`);
    if (!inst) return [];
    return inst.bars.query(req.interval ?? "MINUTE", req.start, req.end ?? Infinity);
  }

  /** Receive every tick of `vtSymbol`: a fresh object per call, gatewayName empty for the receiver to set. */
  subscribeTicks(vtSymbol: string, fn: (tick: TickData) => void): () => void {
    const inst = this.#instruments.get(vtSymbol);
    if (!inst) throw new RangeError(`Unknown symbol: ${vtSymbol}`);
    inst.subscribers.add(fn);
    return () => inst.subscribers.delete(fn);
  }

  hasSymbol(vtSymbol: string): boolean {
    return this.#instruments.has(vtSymbol);
  }

  /** Halt or resume trading in one instrument (orders are rejected with "Market closed"). */
  setHalted(vtSymbol: string, halted: boolean): void {
    const inst = this.#instruments.get(vtSymbol);
    if (!inst) throw new RangeError(`Unknown symbol: ${vtSymbol}`);
    inst.halted = halted;
  }

  /** Daily settlement for every account: today's positions become yesterday's. */
  settle(): void {
    // What closing orders hold of today's lots becomes yesterday's, as the lots themselves do.
    for (const { order, inst } of this.#orders.values()) {
      if (inst.netPosition) continue; // a NET position has no today and yesterday
      order.closeYd += order.closeTd;
      order.closeTd = 0;
    }
    for (const acc of this.#accounts.values()) {
      for (const p of acc.positions.values()) {
        p.frozenYd += p.frozenTd;
        p.frozenTd = 0;
      }
      acc.settle();
      for (const p of acc.positions.values()) this.#emitPosition(acc, p);
      this.#emitAccount(acc);
    }
    this.#flush();
  }

  // ---- trading ----

  /** Accept or reject an order; returns its orderid. Matching happens at the next market event. */
  sendOrder(account: AccountState, req: OrderRequest): string {
    const seq = ++this.#orderSeq;
    const vtSymbol = `${String(req.symbol)}.${String(req.exchange)}`;
    const inst = this.#instruments.get(vtSymbol);
    const now = this.clock.now();
    const lots = inst ? Math.round(Number(req.volume) / inst.contract.minVolume) : 0;
    const priceTicks = inst && req.type !== "MARKET" ? Math.round(Number(req.price) / inst.contract.pricetick) : 0;
    const order: SimOrder = {
      seq,
      owner: account.index,
      side: req.direction === "SHORT" ? -1 : 1,
      direction: isMember(DirectionEnum, req.direction) ? req.direction : "LONG",
      offset: isMember(OffsetEnum, req.offset) ? req.offset : "NONE",
      type: isMember(OrderTypeEnum, req.type) ? req.type : "LIMIT",
      price: Number.isFinite(priceTicks) ? priceTicks : 0,
      lots: Number.isFinite(lots) ? lots : 0,
      traded: 0,
      status: "SUBMITTING",
      statusMsg: "",
      datetime: now,
      reference: typeof req.reference === "string" ? req.reference.slice(0, 256) : "",
      eligibleAt: now + this.#latency,
      frozenPerLot: 0,
      closeFeePerLot: 0,
      closeYd: 0,
      closeTd: 0,
    };
    const reason = this.#check(account, req, inst, order);
    const rec = { order, account, inst: inst ?? this.#placeholder(req) };
    this.#ordersByAccount.get(account)?.push(order);
    this.#orders.set(seq, rec);
    this.#prune(account);
    if (reason) {
      order.status = "REJECTED";
      order.statusMsg = reason;
      const sent = Number(req.price);
      if (req.type !== "MARKET" && Number.isFinite(sent)) this.#sentPrice.set(order, sent);
      this.#emitOrder(order);
    } else {
      this.#hold(account, inst!, order);
      this.#emitOrder(order);
      const closing = closingPosition(account, inst!, order);
      if (closing) this.#emitPosition(account, closing);
      this.#emitAccount(account);
      inst!.engine.submit(order);
    }
    this.#flush();
    return String(seq);
  }

  /** Cancel an active order of `account`; a final, unknown or foreign order is refused with a reason. */
  cancelOrder(account: AccountState, req: CancelRequest): CancelResult {
    const seq = /^\d{1,15}$/.test(String(req.orderid)) ? Number(req.orderid) : NaN;
    const rec = this.#orders.get(seq);
    if (!rec || rec.account !== account) return { accepted: false, reason: `Unknown order: ${String(req.orderid)}` };
    const o = rec.order;
    if (o.status === "ALLTRADED" || o.status === "CANCELLED" || o.status === "REJECTED") {
      return { accepted: false, reason: `Order ${o.seq} is already final (${o.status})` };
    }
    rec.inst.engine.cancel(o);
    this.#flush();
    return { accepted: true, reason: "" };
  }

  /** Forget the oldest final orders and trades once an account holds a tenth more than the limit. */
  #prune(account: AccountState): void {
    const max = this.#maxHistory;
    const orders = this.#ordersByAccount.get(account);
    if (orders && orders.length > max * 1.1) {
      let excess = orders.length - max;
      const kept = orders.filter((o) => {
        const final = o.status === "ALLTRADED" || o.status === "CANCELLED" || o.status === "REJECTED";
        if (final && excess > 0) {
          excess--;
          this.#orders.delete(o.seq);
          return false;
        }
        return true;
      });
      this.#ordersByAccount.set(account, kept);
    }
    const trades = this.#trades.get(account);
    if (trades && trades.length > max * 1.1) trades.splice(0, trades.length - max);
  }

  /** The reason to reject, or "" to accept. */
  #check(account: AccountState, req: OrderRequest, inst: Instrument | undefined, o: SimOrder): string {
    if (!inst) return `Unknown symbol: ${String(req.symbol)}.${String(req.exchange)}`;
    const c = inst.contract;
    if (!isMember(OrderTypeEnum, req.type) || req.type === "RFQ") return `Unsupported order type: ${String(req.type)}`;
    if (req.type === "STOP" && !c.stopSupported) return "Stop orders are not supported";
    if (req.direction !== "LONG" && req.direction !== "SHORT") return `Direction must be LONG or SHORT, not ${String(req.direction)}`;
    if (req.offset !== undefined && !isMember(OffsetEnum, req.offset)) return `Unknown offset: ${String(req.offset)}`;
    const volume = Number(req.volume);
    if (!Number.isFinite(volume) || volume <= 0) return `Volume must be positive, not ${String(req.volume)}`;
    if (!onGrid(volume, c.minVolume, o.lots)) return `Volume ${volume} is not a multiple of the minimum volume ${c.minVolume}`;
    if (o.lots > MAX_LOTS) return `Volume ${volume} is larger than the largest order, ${inst.volume(MAX_LOTS)}`;
    if (req.type !== "MARKET") {
      const price = Number(req.price);
      if (!Number.isFinite(price) || price <= 0) return `Price must be positive, not ${String(req.price)}`;
      if (!onGrid(price, c.pricetick, o.price)) return `Price ${price} is not a multiple of the price tick ${c.pricetick}`;
    }
    if (inst.halted || (inst.spec.isOpen && !inst.spec.isOpen(this.clock.now()))) return "Market closed";
    if (req.type === "MARKET" && inst.engine.lastPrice === 0 && inst.engine.bestOpposite(o.side) === 0) {
      return "No market price yet for a market order";
    }
    const estimate = req.type === "MARKET" ? inst.engine.bestOpposite(o.side) || inst.engine.lastPrice : o.price;
    const fee = this.#feePerLot(inst, estimate);
    // Closing lots need their fee only; lots that open (or grow a NET position) need margin too.
    let closeLots = 0;
    if (!c.netPosition) {
      const offset = req.offset ?? "NONE";
      if (offset === "NONE") return "Offset is required: OPEN, CLOSE, CLOSETODAY or CLOSEYESTERDAY";
      if (offset !== "OPEN") {
        const held = account.findPosition(c.vtSymbol, o.side === 1 ? "SHORT" : "LONG");
        const yd = held ? held.ydLots - held.frozenYd : 0;
        const td = held ? held.lots - held.ydLots - held.frozenTd : 0;
        const can = offset === "CLOSETODAY" ? td : offset === "CLOSEYESTERDAY" ? yd : yd + td;
        if (o.lots > can) return `Insufficient position to close: ${inst.volume(Math.max(0, can))} available`;
        closeLots = o.lots;
      }
    } else {
      closeLots = Math.min(o.lots, account.findPosition(c.vtSymbol, "NET")?.closable(o.side) ?? 0);
      o.closeTd = closeLots;
    }
    o.closeFeePerLot = fee;
    o.frozenPerLot = closeLots === o.lots ? 0 : estimate * inst.lotValue * c.marginRate + fee;
    const needed = o.frozenPerLot * (o.lots - closeLots) + fee * closeLots;
    const free = account.free();
    // A fee-less close goes through whatever the balance: reducing a position is always allowed.
    if (needed > 0 && needed > free + 1e-9) {
      return `Insufficient funds: needs ${money(needed)}, ${money(Math.max(0, free))} available`;
    }
    return "";
  }

  /**
   * Hold back what an accepted order needs: money for its opening lots (margin and fee) and its
   * closing lots (fee), and the position lots it will close.
   */
  #hold(account: AccountState, inst: Instrument, o: SimOrder): void {
    if (inst.netPosition) {
      if (o.closeTd > 0) account.position(inst, "NET").reserveClose(o.side, o.closeTd);
      account.orderFrozen += o.frozenPerLot * (o.lots - o.closeTd) + o.closeFeePerLot * o.closeTd;
      return;
    }
    if (o.offset !== "OPEN") {
      const p = account.position(inst, o.side === 1 ? "SHORT" : "LONG");
      const yd = p.ydLots - p.frozenYd;
      if (o.offset === "CLOSETODAY") o.closeTd = o.lots;
      else if (o.offset === "CLOSEYESTERDAY") o.closeYd = o.lots;
      else {
        o.closeYd = Math.min(yd, o.lots);
        o.closeTd = o.lots - o.closeYd;
      }
      p.frozenYd += o.closeYd;
      p.frozenTd += o.closeTd;
    }
    account.orderFrozen += this.#heldFor(o, o.lots);
  }

  /** Money an order holds for its next `lots` lots: closing lots (fee only) come first. */
  #heldFor(o: SimOrder, lots: number): number {
    const closing = Math.min(lots, o.closeYd + o.closeTd);
    return o.closeFeePerLot * closing + o.frozenPerLot * (lots - closing);
  }

  /** Take `amount` off what an order holds for its remaining lots, opening lots first. */
  #shrinkHold(acc: AccountState, o: SimOrder, amount: number): void {
    const left = o.lots - o.traded;
    const closing = Math.min(left, o.closeYd + o.closeTd);
    const before = this.#heldFor(o, left);
    if (left > closing) o.frozenPerLot = Math.max(0, o.frozenPerLot - amount / (left - closing));
    const rest = amount - (before - this.#heldFor(o, left));
    if (rest > 0 && closing > 0) o.closeFeePerLot = Math.max(0, o.closeFeePerLot - rest / closing);
    acc.orderFrozen = Math.max(0, acc.orderFrozen - (before - this.#heldFor(o, left)));
  }

  /** Give back what an order still holds (cancelled or rejected remainder). */
  #release(account: AccountState, inst: Instrument, o: SimOrder): void {
    const left = o.lots - o.traded;
    account.orderFrozen = Math.max(0, account.orderFrozen - this.#heldFor(o, left));
    if (inst.netPosition) {
      if (o.closeTd) account.position(inst, "NET").reserveClose(o.side, -o.closeTd);
      o.closeTd = 0;
    } else if (o.closeYd || o.closeTd) {
      const p = account.position(inst, o.side === 1 ? "SHORT" : "LONG");
      p.frozenYd -= o.closeYd;
      p.frozenTd -= o.closeTd;
      o.closeYd = o.closeTd = 0;
    }
  }

  /**
   * Lots of a fill (taker or maker) the account can pay for. A lot that opens costs its margin at
   * `price` plus its fee, one that closes its fee. A market order holds money at the best price
   * and a stop at its stop price, so a walk or a gap can cost more: everything the order still
   * holds and the account's free money pay, and what is left unpaid is cancelled. A limit order's
   * remainder may rest, so it keeps its own hold: only free money pays what a lot costs beyond
   * what it held (a short filled above its limit needs more margin; a resting lot whose closing
   * reservation another order used up now opens, and its hold may have been cut to what was free).
   */
  #afford(inst: Instrument, o: SimOrder, lots: number, price: number): number {
    const rec = this.#orders.get(o.seq);
    if (!rec) return lots;
    const acc = rec.account;
    const fee = this.#feePerLot(inst, price);
    const open = price * inst.lotValue * inst.marginRate + fee;
    // Lots that really close: what the position is now, not what the order was sent against.
    const closes = inst.netPosition
      ? Math.min(lots, Math.max(0, -o.side * (acc.findPosition(inst.vtSymbol, "NET")?.lots ?? 0)))
      : o.offset === "OPEN" ? 0 : lots;
    const rests = o.type === "LIMIT";
    const reserved = rests ? Math.min(lots, o.closeYd + o.closeTd) : 0;
    let budget = acc.free() + (rests ? 0 : this.#heldFor(o, o.lots - o.traded)) + 1e-9;
    // The cost of a lot, less what it held, is constant between these break points.
    let done = 0;
    for (const end of [Math.min(closes, reserved), Math.max(closes, reserved), lots]) {
      if (end <= done) continue;
      const held = rests ? (done < reserved ? o.closeFeePerLot : o.frozenPerLot) : 0;
      const extra = (done < closes ? fee : open) - held;
      const n = end - done;
      if (extra > 1e-12) {
        const can = Math.max(0, Math.floor(budget / extra));
        if (can < n) return done + can;
      }
      budget -= extra * n;
      done = end;
    }
    return lots;
  }

  /**
   * After a fill on a NET position, orders may not still hold back more lots for closing than the
   * position has: an order that fills first closes lots whatever another order reserved. The
   * newest reservations give way; those lots will open, so their order now holds their margin
   * (at its price) instead of a fee, as far as free money goes (its fills are checked again).
   */
  #reconcileNet(acc: AccountState, inst: Instrument, position: PositionState): void {
    for (const side of [1, -1] as const) {
      let excess = (side === 1 ? position.netCloseByBuys : position.netCloseBySells) - Math.max(0, -side * position.lots);
      const orders = this.#ordersByAccount.get(acc) ?? [];
      for (let i = orders.length - 1; i >= 0 && excess > 0; i--) {
        const y = orders[i]!;
        if (y.side !== side || y.closeTd <= 0 || !isActive(y) || this.#orders.get(y.seq)?.inst !== inst) continue;
        const k = Math.min(excess, y.closeTd);
        excess -= k;
        const left = y.lots - y.traded;
        const before = this.#heldFor(y, left);
        y.closeTd -= k;
        position.reserveClose(side, -k);
        if (y.frozenPerLot === 0) {
          const estimate = y.type === "MARKET" ? inst.engine.bestOpposite(y.side) || inst.engine.lastPrice : y.price;
          y.frozenPerLot = estimate * inst.lotValue * inst.marginRate + this.#feePerLot(inst, estimate);
        }
        const added = this.#heldFor(y, left) - before;
        acc.orderFrozen += added;
        const short = Math.min(added, -acc.free());
        if (short > 0) this.#shrinkHold(acc, y, short);
      }
    }
  }

  #feePerLot(inst: Instrument, priceTicks: number): number {
    const c = inst.contract;
    return priceTicks * inst.lotValue * (inst.spec.commissionRate ?? 0) + (inst.spec.slippage ?? 0) * c.size * c.minVolume;
  }

  #onUpdate(inst: Instrument, o: SimOrder): void {
    const rec = this.#orders.get(o.seq);
    if (!rec) return;
    o.datetime = this.clock.now();
    const p = o.status === "CANCELLED" ? closingPosition(rec.account, inst, o) : undefined;
    if (o.status === "CANCELLED") this.#release(rec.account, inst, o);
    this.#emitOrder(o);
    if (o.status === "CANCELLED") {
      if (p) this.#emitPosition(rec.account, p);
      this.#emitAccount(rec.account);
    }
  }

  #onFill(inst: Instrument, o: SimOrder, lots: number, price: number): void {
    const rec = this.#orders.get(o.seq);
    if (!rec) return;
    const acc = rec.account;
    const now = this.clock.now();
    o.datetime = now;
    acc.orderFrozen = Math.max(0, acc.orderFrozen - this.#heldFor(o, lots));
    let position: PositionState;
    if (inst.netPosition) {
      position = acc.position(inst, "NET");
      const reserved = Math.min(lots, o.closeTd);
      o.closeTd -= reserved;
      position.reserveClose(o.side, -reserved);
      acc.closeProfit += position.trade(o.side * lots, price);
      this.#reconcileNet(acc, inst, position);
    } else if (o.offset === "OPEN") {
      position = acc.position(inst, o.side === 1 ? "LONG" : "SHORT");
      position.open(lots, price);
    } else {
      position = acc.position(inst, o.side === 1 ? "SHORT" : "LONG");
      const yd = Math.min(o.closeYd, lots);
      const td = lots - yd;
      o.closeYd -= yd;
      o.closeTd -= td;
      position.frozenYd -= yd;
      position.frozenTd -= td;
      acc.closeProfit += position.close(yd, td, price);
    }
    const fee = this.#feePerLot(inst, price) * lots;
    acc.commission += fee;
    // A walk or a gap paid with what the remainder held (see #afford): that hold shrinks.
    if (o.type !== "LIMIT" && o.traded < o.lots && acc.free() < 0) this.#shrinkHold(acc, o, -acc.free());
    const tradeid = String(++this.#tradeSeq);
    const trade: TradeData = {
      gatewayName: acc.gatewayName,
      symbol: inst.contract.symbol,
      exchange: inst.contract.exchange,
      orderid: String(o.seq),
      tradeid,
      direction: o.direction,
      offset: o.offset,
      price: inst.price(price),
      volume: inst.volume(lots),
      datetime: now,
      commission: money(fee),
      vtSymbol: inst.vtSymbol,
      vtOrderId: `${acc.gatewayName}.${o.seq}`,
      vtTradeId: `${acc.gatewayName}.${tradeid}`,
    };
    this.#trades.get(acc)?.push(trade);
    this.#emitOrder(o);
    this.#outbox.push(() => this.#listeners.get(acc)?.trade({ ...trade }));
    this.#emitPosition(acc, position);
    this.#emitAccount(acc);
  }

  // ---- market events ----

  #schedule(inst: Instrument): void {
    const now = this.clock.now();
    const walk = typeof inst.source === "function";
    inst.feed ??= (inst.source as (start: number) => MarketFeed)(now);
    let snap = inst.pending ?? inst.feed.next();
    // A walk has no history to replay: what it would have made while stopped is stale.
    while (walk && snap && snap.datetime < now) snap = inst.feed.next();
    inst.pending = snap;
    if (!snap) {
      inst.timer = undefined;
      return;
    }
    // One callback per instrument, made once (not a closure per market event).
    inst.fire ??= () => this.#fire(inst);
    inst.timer = this.clock.setTimer(snap.datetime, inst.fire);
  }

  #fire(inst: Instrument): void {
    const snap = inst.pending!;
    inst.timer = undefined;
    inst.pending = undefined;
    try {
      this.#onMarket(inst, snap);
    } finally {
      // A listener's exception must not stop the market.
      if (inst.running) this.#schedule(inst);
    }
  }

  /** Apply one snapshot to an instrument directly (for tests and custom drivers). */
  applyMarket(vtSymbol: string, snap: MarketSnapshot): void {
    const inst = this.#instruments.get(vtSymbol);
    if (!inst) throw new RangeError(`Unknown symbol: ${vtSymbol}`);
    this.#onMarket(inst, snap);
  }

  #onMarket(inst: Instrument, snap: MarketSnapshot): void {
    const before = inst.engine.volume;
    inst.engine.onMarket(snap, this.clock.now());
    inst.lastVolumeLots = inst.engine.volume - before;
    inst.hasMarket = true;
    inst.recordBar(snap.datetime);
    if (inst.subscribers.size) {
      // Built only when someone listens; each subscriber gets its own object.
      const tick = this.#tickData(inst);
      if (inst.outgoing === undefined) {
        // The usual case: the instrument's own delivery function, made once, takes the tick.
        inst.outgoing = tick;
        inst.deliverTick ??= () => {
          const t = inst.outgoing!;
          inst.outgoing = undefined;
          publishTick(inst, t);
        };
        this.#outbox.push(inst.deliverTick);
      } else this.#outbox.push(() => publishTick(inst, tick)); // a tick of this instrument is still waiting
    }
    this.#markToMarket();
    this.#flush();
  }

  /** Report open positions whose P&L moved with the market, then their accounts: at most once per markIntervalMs. */
  #markToMarket(): void {
    if (!(this.#markInterval > 0)) return;
    const now = this.clock.now();
    if (now < this.#markDue) return;
    this.#markDue = now + this.#markInterval;
    for (const acc of this.#accounts.values()) {
      let moved = false;
      for (const p of acc.positions.values()) {
        if (p.lots === 0 || this.#reportedPnl.get(p) === money(p.holdingProfit())) continue;
        this.#emitPosition(acc, p);
        moved = true;
      }
      if (moved) this.#emitAccount(acc);
    }
  }

  #tickData(inst: Instrument): TickData {
    const e = inst.engine;
    const c = inst.contract;
    const d = inst.depth;
    e.depthInto(d, 5);
    // Always five entries (0 for an empty level), so no read goes past an array's end.
    const bp = padTo5(d.bidPrices);
    const bv = padTo5(d.bidVolumes);
    const ap = padTo5(d.askPrices);
    const av = padTo5(d.askVolumes);
    return {
      gatewayName: "",
      symbol: c.symbol,
      exchange: c.exchange,
      datetime: e.datetime,
      name: c.name,
      volume: inst.volume(e.volume),
      turnover: 0,
      openInterest: 0,
      lastPrice: inst.price(e.lastPrice),
      lastVolume: inst.volume(inst.lastVolumeLots),
      limitUp: 0,
      limitDown: 0,
      openPrice: inst.price(e.openPrice),
      highPrice: inst.price(e.highPrice),
      lowPrice: inst.price(e.lowPrice),
      preClose: 0,
      bidPrice1: inst.price(bp[0] ?? 0), bidPrice2: inst.price(bp[1] ?? 0), bidPrice3: inst.price(bp[2] ?? 0),
      bidPrice4: inst.price(bp[3] ?? 0), bidPrice5: inst.price(bp[4] ?? 0),
      askPrice1: inst.price(ap[0] ?? 0), askPrice2: inst.price(ap[1] ?? 0), askPrice3: inst.price(ap[2] ?? 0),
      askPrice4: inst.price(ap[3] ?? 0), askPrice5: inst.price(ap[4] ?? 0),
      bidVolume1: inst.volume(bv[0] ?? 0), bidVolume2: inst.volume(bv[1] ?? 0), bidVolume3: inst.volume(bv[2] ?? 0),
      bidVolume4: inst.volume(bv[3] ?? 0), bidVolume5: inst.volume(bv[4] ?? 0),
      askVolume1: inst.volume(av[0] ?? 0), askVolume2: inst.volume(av[1] ?? 0), askVolume3: inst.volume(av[2] ?? 0),
      askVolume4: inst.volume(av[3] ?? 0), askVolume5: inst.volume(av[4] ?? 0),
      vtSymbol: inst.vtSymbol,
    };
  }

  // ---- event delivery ----

  #orderData(account: AccountState, o: SimOrder): OrderData {
    const inst = this.#orders.get(o.seq)?.inst;
    const c = inst?.contract;
    return {
      gatewayName: account.gatewayName,
      symbol: c?.symbol ?? "",
      exchange: c?.exchange ?? "LOCAL",
      orderid: String(o.seq),
      type: o.type,
      direction: o.direction,
      offset: o.offset,
      price: this.#sentPrice.get(o) ?? (inst && o.type !== "MARKET" ? inst.price(o.price) : 0),
      volume: inst ? inst.volume(o.lots) : 0,
      traded: inst ? inst.volume(o.traded) : 0,
      status: o.status,
      datetime: o.datetime,
      reference: o.reference,
      statusMsg: o.statusMsg,
      vtSymbol: inst?.vtSymbol ?? "",
      vtOrderId: `${account.gatewayName}.${o.seq}`,
    };
  }

  #positionData(account: AccountState, p: PositionState): PositionData {
    const inst = this.#instruments.get(p.terms.vtSymbol)!;
    return {
      gatewayName: account.gatewayName,
      symbol: inst.contract.symbol,
      exchange: inst.contract.exchange,
      direction: p.direction,
      volume: inst.volume(p.lots),
      frozen: inst.volume(p.frozen),
      price: round(p.avgPrice * inst.contract.pricetick, inst.priceDigits + 4),
      pnl: money(p.holdingProfit()),
      ydVolume: inst.volume(p.ydLots),
      vtSymbol: inst.vtSymbol,
      vtPositionId: `${account.gatewayName}.${inst.vtSymbol}.${p.direction}`,
    };
  }

  #emitOrder(o: SimOrder): void {
    const rec = this.#orders.get(o.seq);
    if (!rec) return;
    const data = this.#orderData(rec.account, o);
    this.#outbox.push(() => this.#listeners.get(rec.account)?.order(data));
  }

  #emitPosition(acc: AccountState, p: PositionState): void {
    const data = this.#positionData(acc, p);
    this.#reportedPnl.set(p, data.pnl);
    this.#outbox.push(() => this.#listeners.get(acc)?.position(data));
  }

  #emitAccount(acc: AccountState): void {
    const data = this.accountData(acc);
    this.#outbox.push(() => this.#listeners.get(acc)?.account(data));
  }

  /** Deliver the collected events; a listener's exception is rethrown after all are delivered. */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; i < this.#outbox.length; i++) {
        try {
          this.#outbox.run(i);
        } catch (error) {
          failure ??= { error };
        }
      }
    } finally {
      this.#outbox.clear();
      this.#flushing = false;
    }
    if (failure) throw failure.error;
  }

  /** An instrument stand-in for orders on unknown symbols (so they can still be reported). */
  #placeholder(req: OrderRequest): Instrument {
    const exchange = isMember(ExchangeEnum, req.exchange) ? req.exchange : "LOCAL";
    const spec: InstrumentSpec = { symbol: String(req.symbol ?? ""), exchange, size: 1, pricetick: 1 };
    const contract = { ...contractOf(spec), vtSymbol: `${String(req.symbol)}.${String(req.exchange)}` };
    return new Instrument(contract, spec, { next: () => undefined }, () => new MatchingEngine({ fill() {}, update() {} }), 0);
  }
}

/** Hand a tick to every subscriber of its instrument, each its own object. */
function publishTick(inst: Instrument, tick: TickData): void {
  let first = true;
  for (const fn of inst.subscribers) {
    fn(first ? tick : { ...tick });
    first = false;
  }
}

function isActive(o: SimOrder): boolean {
  return o.status === "SUBMITTING" || o.status === "NOTTRADED" || o.status === "PARTTRADED";
}

function padTo5(a: number[]): number[] {
  while (a.length < 5) a.push(0);
  return a;
}

/** The position whose lots an active order holds back for closing, if any. */
function closingPosition(acc: AccountState, inst: Instrument, o: SimOrder): PositionState | undefined {
  if (inst.netPosition) return o.closeTd > 0 ? acc.findPosition(inst.vtSymbol, "NET") : undefined;
  if (o.offset === "OPEN") return undefined;
  return acc.findPosition(inst.vtSymbol, o.side === 1 ? "SHORT" : "LONG");
}

function contractOf(spec: InstrumentSpec): ContractData {
  if (!(spec.pricetick > 0) || !(spec.size > 0)) throw new RangeError(`Bad pricetick or size for ${spec.symbol}`);
  const product = spec.product ?? "FUTURES";
  const minVolume = spec.minVolume ?? 1;
  if (!(minVolume > 0)) throw new RangeError(`Bad minVolume for ${spec.symbol}`);
  return {
    gatewayName: "",
    symbol: spec.symbol,
    exchange: spec.exchange,
    name: spec.name ?? spec.symbol,
    product,
    size: spec.size,
    pricetick: spec.pricetick,
    minVolume,
    marginRate: spec.marginRate ?? (product === "SPOT" ? 1 : 0.1),
    stopSupported: true,
    netPosition: spec.netPosition ?? product === "SPOT",
    historyData: true,
    vtSymbol: `${spec.symbol}.${spec.exchange}`,
  };
}

function walkFeed(spec: InstrumentSpec, random: Random, start: number): MarketFeed {
  const w = spec.walk ?? { startPrice: 100 * spec.pricetick };
  const opts: Parameters<typeof randomWalkFeed>[0] = {
    random,
    startTicks: Math.max(1, Math.round(w.startPrice / spec.pricetick)),
    start,
  };
  if (w.intervalMs !== undefined) opts.intervalMs = w.intervalMs;
  if (w.jitterMs !== undefined) opts.jitterMs = w.jitterMs;
  if (w.volatility !== undefined) opts.volatility = w.volatility;
  if (w.drift !== undefined) opts.drift = w.drift;
  if (w.maxLevelVolume !== undefined) opts.maxLevelVolume = w.maxLevelVolume;
  if (w.maxTradeVolume !== undefined) opts.maxTradeVolume = w.maxTradeVolume;
  return randomWalkFeed(opts);
}

/** True when `value` is `units` whole steps of `step` (within float noise). */
function onGrid(value: number, step: number, units: number): boolean {
  return units >= 1 && Math.abs(units * step - value) <= Math.max(1e-9, Math.abs(value) * 1e-10);
}

/** Decimal places of a step such as 0.2 (1) or 0.001 (3). */
function digits(step: number): number {
  for (let d = 0; d < 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 12;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Money is reported to the cent's hundredth, so sums balance to the cent. */
function money(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

