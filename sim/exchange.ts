/**
 * The simulated exchange: instruments with their matching engines and market-data feeds, and the
 * accounts trading on them. Gateways (`SimGateway`) are its accounts' connections.
 *
 * This file manages orders (checks, ids, cancels), drives the market events and delivers the
 * events; the rooms beside it do the rest: `instrument.ts` (an instrument's state and units),
 * `funds.ts` (holds, fills into positions and accounts), `order-history.ts` (what is
 * remembered), `reports.ts` (VeighNa's data objects), `outbox.ts` (deferred delivery).
 *
 * Everything runs on the injected clock; randomness comes from the seed; ids come from sequences.
 * Events are collected while an operation runs and delivered when it is over, per account in the
 * order order → trade → position → account, each as a fresh copy: every order change and trade,
 * then each position that changed and the account once, as they stand at the end of the
 * operation (a sweep of three levels is three trades, one position and one account report, as a
 * gateway's pushes); an account with no listener attached has its events not made at all.
 */
import { isMember, Direction as DirectionEnum, Offset as OffsetEnum, OrderType as OrderTypeEnum } from "./constant.ts";
import type {
  AccountData, BarData, CancelRequest, CancelResult, ContractData, HistoryRequest, OrderData, OrderRequest,
  PositionData, TickData, TradeData,
} from "./object.ts";
import type { Clock } from "./clock.ts";
import { Random } from "./random.ts";
import type { SimOrder } from "./matching.ts";
import type { MarketFeed, MarketSnapshot } from "./market-data.ts";
import { AccountState, type PositionState } from "./account.ts";
import { Instrument, makeInstrument, placeholderInstrument, type InstrumentSpec } from "./instrument.ts";
import { afford, applyFill, checkFunds, closingPosition, hold, release } from "./funds.ts";
import { OrderHistory } from "./order-history.ts";
import { orderId, vtOrderId, type OrderRecord } from "./order-record.ts";
import { accountData, money, orderData, positionData, tickData } from "./reports.ts";
import { ACCOUNT, ORDER, Outbox, POSITION, TICK, TRADE } from "./outbox.ts";

export type { InstrumentSpec, RandomWalkSpec } from "./instrument.ts";

export interface SimExchangeOptions {
  clock: Clock;
  /** Seeds the market data. Default 1. */
  seed?: number;
  instruments: InstrumentSpec[];
  /** Earliest time after sending that an order can match. Default 0: the next market event. */
  latencyMs?: number;
  /** Minute bars kept per instrument for `queryHistory`. Default 20 000. */
  maxBars?: number;
  /**
   * Final orders and trades remembered per account, for the queries (`getAllOrders`,
   * `getAllTrades`, a gateway's load on connect) and for `cancelOrder`'s "already final" answer;
   * the oldest are forgotten first. Active orders are always remembered. Default 50 000; 0 keeps
   * none (a backtest or a load test that follows the events only: nothing grows with the run).
   */
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

export class SimExchange {
  readonly clock: Clock;
  readonly #latency: number;
  readonly #instruments = new Map<string, Instrument>();
  /** The instruments by symbol then exchange: an order finds its own without building a key. */
  readonly #bySymbol = new Map<string, Map<string, Instrument>>();
  readonly #accounts = new Map<string, AccountState>();
  /** Listeners by account index (an array read per event, not a map lookup). */
  readonly #listeners: Array<AccountListener | undefined> = [];
  /** An account's active orders (made once: a fill passes it, not a new closure). */
  readonly #activeOf = (acc: AccountState): Iterable<OrderRecord> => this.#history.active(acc);
  /** Accounts with a position or account report due when the current operation is over. */
  readonly #due: Array<AccountState | undefined> = [];
  #dueCount = 0;
  readonly #history: OrderHistory;
  readonly #outbox: Outbox;
  readonly #markInterval: number;
  #markDue = -Infinity;
  #orderSeq = 0;
  #tradeSeq = 0;
  #started = false;

  constructor(options: SimExchangeOptions) {
    this.clock = options.clock;
    this.#latency = options.latencyMs ?? 0;
    this.#history = new OrderHistory(options.maxHistory ?? 50_000);
    this.#markInterval = options.markIntervalMs ?? 1000;
    this.#outbox = new Outbox((kind, target, data) => this.#deliver(kind, target, data), () => this.#reportDue());
    const random = new Random(options.seed ?? 1);
    const maxBars = options.maxBars ?? 20_000;
    const hooks = {
      fill: (o: SimOrder, lots: number, price: number) => this.#onFill(o as OrderRecord, lots, price),
      update: (o: SimOrder) => this.#onUpdate(o as OrderRecord),
      afford: (o: SimOrder, lots: number, price: number) => afford(o as OrderRecord, lots, price),
    };
    for (const spec of options.instruments) {
      const inst = makeInstrument(spec, random.fork(), () => hooks, maxBars);
      if (this.#instruments.has(inst.vtSymbol)) throw new RangeError(`Duplicate instrument ${inst.vtSymbol}`);
      this.#instruments.set(inst.vtSymbol, inst);
      let byExchange = this.#bySymbol.get(spec.symbol);
      if (!byExchange) this.#bySymbol.set(spec.symbol, (byExchange = new Map()));
      byExchange.set(spec.exchange, inst);
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
    this.#history.open(acc);
    return acc;
  }

  attach(account: AccountState, listener: AccountListener): () => void {
    this.#listeners[account.index] = listener;
    return () => {
      if (this.#listeners[account.index] === listener) this.#listeners[account.index] = undefined;
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
    return inst?.hasMarket ? tickData(inst) : undefined;
  }

  /** Last price in price units (0 before the first market event). */
  lastPrice(vtSymbol: string): number {
    const i = this.#instruments.get(vtSymbol);
    return i ? i.price(i.engine.lastPrice) : 0;
  }

  accountData(account: AccountState): AccountData {
    return accountData(account);
  }

  positionsData(account: AccountState): PositionData[] {
    return [...account.positions.values()].map((p) => positionData(account, p, p.terms as Instrument));
  }

  /** The account's active orders and its remembered final ones (see `maxHistory`), oldest first. */
  ordersData(account: AccountState): OrderData[] {
    return this.#history.orders(account).map(orderData);
  }

  /** The account's remembered trades (see `maxHistory`), oldest first. */
  tradesData(account: AccountState): TradeData[] {
    return this.#history.trades(account).map((t) => ({ ...t }));
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
    for (const order of this.#history.allActive()) {
      if (order.inst.netPosition) continue; // a NET position has no today and yesterday
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
    this.#outbox.flush();
  }

  // ---- trading ----

  /** Accept or reject an order; returns its orderid. Matching happens at the next market event. */
  sendOrder(account: AccountState, req: OrderRequest): string {
    const seq = ++this.#orderSeq;
    const inst = this.#bySymbol.get(String(req.symbol))?.get(String(req.exchange));
    const now = this.clock.now();
    const lots = inst ? Math.round(Number(req.volume) / inst.contract.minVolume) : 0;
    const priceTicks = inst && req.type !== "MARKET" ? Math.round(Number(req.price) / inst.contract.pricetick) : 0;
    const order: OrderRecord = {
      id: seq,
      owner: account.index,
      side: req.direction === "SHORT" ? -1 : 1,
      // The usual names first (a comparison), then any other member name (a property check).
      direction: req.direction === "LONG" || req.direction === "SHORT" || isMember(DirectionEnum, req.direction) ? req.direction : "LONG",
      offset: req.offset === "NONE" || req.offset === "OPEN" || isMember(OffsetEnum, req.offset) ? req.offset : "NONE",
      type: req.type === "LIMIT" || req.type === "MARKET" || isMember(OrderTypeEnum, req.type) ? req.type : "LIMIT",
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
      account,
      inst: inst ?? placeholderInstrument(req),
      sentPrice: undefined,
      vtOrderId: undefined,
      remaining: 0,
      prev: null,
      next: null,
      level: null,
      data: undefined as unknown as SimOrder, // itself, set below
    };
    (order as { data: SimOrder }).data = order;
    const reason = this.#check(account, req, inst, order);
    if (reason) {
      order.status = "REJECTED";
      order.statusMsg = reason;
      const sent = Number(req.price);
      if (req.type !== "MARKET" && Number.isFinite(sent)) order.sentPrice = sent;
      this.#emitOrder(order);
      this.#history.finish(order);
    } else {
      this.#history.addActive(order);
      hold(account, inst!, order);
      this.#emitOrder(order);
      const closing = closingPosition(account, inst!, order);
      if (closing) this.#emitPosition(account, closing);
      this.#emitAccount(account);
      inst!.engine.submit(order);
    }
    this.#outbox.flush();
    return String(seq);
  }

  /** Cancel an active order of `account`; a final, unknown or foreign order is refused with a reason. */
  cancelOrder(account: AccountState, req: CancelRequest): CancelResult {
    const seq = /^\d{1,15}$/.test(String(req.orderid)) ? Number(req.orderid) : NaN;
    const o = this.#history.get(account, seq);
    if (!o) return { accepted: false, reason: `Unknown order: ${String(req.orderid)}` };
    if (o.status === "ALLTRADED" || o.status === "CANCELLED" || o.status === "REJECTED") {
      return { accepted: false, reason: `Order ${o.id} is already final (${o.status})` };
    }
    o.inst.engine.cancel(o);
    this.#outbox.flush();
    return { accepted: true, reason: "" };
  }

  /** The reason to reject, or "" to accept. */
  #check(account: AccountState, req: OrderRequest, inst: Instrument | undefined, o: SimOrder): string {
    if (!inst) return `Unknown symbol: ${String(req.symbol)}.${String(req.exchange)}`;
    const c = inst.contract;
    // The order took the request's type and offset when they are member names (sendOrder).
    if (o.type !== req.type || req.type === "RFQ") return `Unsupported order type: ${String(req.type)}`;
    if (req.type === "STOP" && !c.stopSupported) return "Stop orders are not supported";
    if (req.direction !== "LONG" && req.direction !== "SHORT") return `Direction must be LONG or SHORT, not ${String(req.direction)}`;
    if (req.offset !== undefined && o.offset !== req.offset) return `Unknown offset: ${String(req.offset)}`;
    const volume = Number(req.volume);
    if (!Number.isFinite(volume) || volume <= 0) return `Volume must be positive, not ${String(req.volume)}`;
    if (!onGrid(volume, c.minVolume, o.lots)) return `Volume ${volume} is not a multiple of the minimum volume ${c.minVolume}`;
    if (o.lots > MAX_LOTS) return `Volume ${volume} is larger than the largest order, ${inst.volume(MAX_LOTS)}`;
    if (req.type !== "MARKET") {
      const price = Number(req.price);
      if (!Number.isFinite(price) || price <= 0) return `Price must be positive, not ${String(req.price)}`;
      if (!onGrid(price, c.pricetick, o.price)) return `Price ${price} is not a multiple of the price tick ${c.pricetick}`;
    }
    if (!inst.isOpen(this.clock.now())) return "Market closed";
    if (req.type === "MARKET" && inst.engine.lastPrice === 0 && inst.engine.bestOpposite(o.side) === 0) {
      return "No market price yet for a market order";
    }
    return checkFunds(account, inst, o, req.type, req.offset);
  }

  // ---- engine hooks ----

  #onUpdate(o: OrderRecord): void {
    o.datetime = this.clock.now();
    const acc = o.account;
    if (o.status !== "CANCELLED") {
      this.#emitOrder(o);
      return;
    }
    const p = closingPosition(acc, o.inst, o);
    release(acc, o.inst, o);
    this.#emitOrder(o);
    this.#history.finish(o);
    if (p) this.#emitPosition(acc, p);
    this.#emitAccount(acc);
  }

  #onFill(o: OrderRecord, lots: number, price: number): void {
    const acc = o.account;
    const inst = o.inst;
    const now = this.clock.now();
    o.datetime = now;
    const fee = inst.feePerLot(price) * lots;
    const position = applyFill(o, lots, price, fee, this.#activeOf);
    const tradeid = String(++this.#tradeSeq);
    this.#emitOrder(o);
    if (o.status === "ALLTRADED") this.#history.finish(o);
    const kept = this.#history.keepsTrades;
    const listened = this.#listeners[acc.index] !== undefined;
    if (kept || listened) {
      const trade: TradeData = {
        gatewayName: acc.gatewayName,
        symbol: inst.contract.symbol,
        exchange: inst.contract.exchange,
        orderid: orderId(o),
        tradeid,
        direction: o.direction,
        offset: o.offset,
        price: inst.price(price),
        volume: inst.volume(lots),
        datetime: now,
        commission: money(fee),
        vtSymbol: inst.vtSymbol,
        vtOrderId: vtOrderId(o),
        vtTradeId: `${acc.gatewayName}.${tradeid}`,
      };
      this.#history.addTrade(acc, trade);
      // A remembered trade stays ours: the listener gets a copy.
      if (listened) this.#outbox.push(TRADE, acc, kept ? { ...trade } : trade);
    }
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
    // Built only when someone listens; each subscriber gets its own object.
    if (inst.subscribers.size) this.#outbox.push(TICK, inst, tickData(inst));
    this.#markToMarket();
    this.#outbox.flush();
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
        if (p.lots === 0 || p.reportedPnl === money(p.holdingProfit())) continue;
        this.#emitPosition(acc, p);
        moved = true;
      }
      if (moved) this.#emitAccount(acc);
    }
  }

  // ---- event delivery ----

  #emitOrder(o: OrderRecord): void {
    if (this.#listeners[o.account.index] !== undefined) this.#outbox.push(ORDER, o.account, orderData(o));
  }

  /** The position changed: it is reported (then its account) once the operation is over. */
  #emitPosition(acc: AccountState, p: PositionState): void {
    if (this.#listeners[acc.index] === undefined) {
      p.reportedPnl = money(p.holdingProfit());
      return;
    }
    if (!p.reportDue) {
      p.reportDue = true;
      // Slots are overwritten, not the array truncated (that would drop its backing store).
      acc.duePositions[acc.dueCount++] = p;
    }
    this.#emitAccount(acc);
  }

  /** The account changed: it is reported once the operation is over, after its positions. */
  #emitAccount(acc: AccountState): void {
    if (acc.reportDue || this.#listeners[acc.index] === undefined) return;
    acc.reportDue = true;
    this.#due[this.#dueCount++] = acc;
  }

  /**
   * The operation's events are out: queue each changed account's changed positions, then the
   * account, as they are now (one report per operation, as a gateway's position and account
   * pushes follow its order and trade pushes).
   */
  #reportDue(): void {
    const due = this.#due;
    const accounts = this.#dueCount;
    this.#dueCount = 0;
    for (let i = 0; i < accounts; i++) {
      const acc = due[i]!;
      due[i] = undefined;
      acc.reportDue = false;
      const positions = acc.duePositions;
      const listened = this.#listeners[acc.index] !== undefined;
      const count = acc.dueCount;
      acc.dueCount = 0;
      for (let j = 0; j < count; j++) {
        const p = positions[j]!;
        p.reportDue = false;
        const data = positionData(acc, p, p.terms as Instrument);
        p.reportedPnl = data.pnl;
        if (listened) this.#outbox.push(POSITION, acc, data);
        positions[j] = undefined;
      }
      if (listened) this.#outbox.push(ACCOUNT, acc, accountData(acc));
    }
  }

  #deliver(kind: number, target: unknown, data: unknown): void {
    if (kind === TICK) return publishTick(target as Instrument, data as TickData);
    const listener = this.#listeners[(target as AccountState).index];
    if (!listener) return;
    switch (kind) {
      case ORDER: return listener.order(data as OrderData);
      case TRADE: return listener.trade(data as TradeData);
      case POSITION: return listener.position(data as PositionData);
      case ACCOUNT: return listener.account(data as AccountData);
    }
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

/** True when `value` is `units` whole steps of `step` (within float noise). */
function onGrid(value: number, step: number, units: number): boolean {
  return units >= 1 && Math.abs(units * step - value) <= Math.max(1e-9, Math.abs(value) * 1e-10);
}
