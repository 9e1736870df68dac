/**
 * Writing strategies against any `Gateway` (VeighNa's CtaTemplate in miniature): a strategy gets
 * ticks, one-minute bars, its orders and trades, and trades with `buy`/`sell`/`short`/`cover`.
 * The same strategy runs on `SimGateway` in a test and on `RpcGateway` against a live service.
 */
import type { Exchange } from "./constant.ts";
import { EVENT_CONTRACT, EVENT_ORDER, EVENT_TICK, EVENT_TRADE } from "./event.ts";
import type { Gateway } from "./gateway.ts";
import {
  isActive, splitVtSymbol,
  type BarData, type CancelResult, type ContractData, type OrderData, type OrderRequest, type TickData, type TradeData,
} from "./object.ts";

/** Builds one-minute bars from ticks (VeighNa's BarGenerator): a bar is reported when the next minute begins. */
export class BarGenerator {
  #bar: BarData | undefined;
  #lastVolume: number | undefined;

  readonly #onBar: (bar: BarData) => void;

  constructor(onBar: (bar: BarData) => void) {
    this.#onBar = onBar;
  }

  updateTick(tick: TickData): void {
    if (!tick.lastPrice) return;
    const start = Math.floor(tick.datetime / 60_000) * 60_000;
    const traded = this.#lastVolume === undefined ? 0 : Math.max(0, tick.volume - this.#lastVolume);
    this.#lastVolume = tick.volume;
    if (this.#bar && this.#bar.datetime !== start) {
      const done = this.#bar;
      this.#bar = undefined;
      this.#onBar(done);
    }
    if (!this.#bar) {
      this.#bar = {
        gatewayName: tick.gatewayName, symbol: tick.symbol, exchange: tick.exchange, datetime: start, interval: "MINUTE",
        volume: 0, turnover: 0, openInterest: tick.openInterest, openPrice: tick.lastPrice, highPrice: tick.lastPrice,
        lowPrice: tick.lastPrice, closePrice: tick.lastPrice, vtSymbol: tick.vtSymbol,
      };
    }
    const bar = this.#bar;
    bar.highPrice = Math.max(bar.highPrice, tick.lastPrice);
    bar.lowPrice = Math.min(bar.lowPrice, tick.lastPrice);
    bar.closePrice = tick.lastPrice;
    bar.volume += traded;
  }
}

export interface Strategy {
  /** Called once, before any market data. */
  onStart?(ctx: StrategyContext): void | Promise<void>;
  onTick?(tick: TickData, ctx: StrategyContext): void;
  /** One-minute bars built from the ticks. */
  onBar?(bar: BarData, ctx: StrategyContext): void;
  onOrder?(order: OrderData, ctx: StrategyContext): void;
  onTrade?(trade: TradeData, ctx: StrategyContext): void;
}

export interface StrategyContextOptions {
  /** Default "strategy". */
  reference?: string;
  /** The contract trades one NET position (orders go out with offset NONE). Default false. */
  netPosition?: boolean;
  /**
   * Final orders and trades kept in `orders` and `trades` (oldest forgotten first; `pos` is
   * unaffected). Default unbounded, which a backtest wants; a strategy left running live should
   * set it.
   */
  maxHistory?: number;
}

/** What a strategy trades through: one instrument on one gateway. */
export class StrategyContext {
  readonly symbol: string;
  readonly exchange: Exchange;
  /** Net position in volume units, from this strategy's trades: long minus short. */
  pos = 0;
  /** This strategy's trades, oldest first (see `maxHistory`). */
  readonly trades: TradeData[] = [];
  /** This strategy's orders by vtOrderId, latest state (see `maxHistory`). */
  readonly orders: Map<string, OrderData> = new Map();
  lastTick: TickData | undefined;
  #netPosition = false;
  readonly #maxHistory: number;
  readonly #off: Array<() => void> = [];

  readonly gateway: Gateway;
  readonly vtSymbol: string;
  /** Tags this strategy's orders, so it follows only its own. */
  readonly reference: string;

  constructor(gateway: Gateway, vtSymbol: string, options: StrategyContextOptions = {}) {
    this.gateway = gateway;
    this.vtSymbol = vtSymbol;
    this.reference = options.reference ?? "strategy";
    this.#netPosition = options.netPosition ?? false;
    this.#maxHistory = options.maxHistory ?? Infinity;
    if (!(this.#maxHistory >= 1)) throw new RangeError("maxHistory must be at least 1");
    const { symbol, exchange } = splitVtSymbol(vtSymbol);
    this.symbol = symbol;
    this.exchange = exchange as Exchange;
  }

  /** Buy to open long. Returns the vtOrderId. */
  buy(price: number, volume: number, type: OrderRequest["type"] = "LIMIT"): Promise<string> {
    return this.#send("LONG", this.#netPosition ? "NONE" : "OPEN", price, volume, type);
  }
  /** Sell to close long. */
  sell(price: number, volume: number, type: OrderRequest["type"] = "LIMIT"): Promise<string> {
    return this.#send("SHORT", this.#netPosition ? "NONE" : "CLOSE", price, volume, type);
  }
  /** Sell to open short. */
  short(price: number, volume: number, type: OrderRequest["type"] = "LIMIT"): Promise<string> {
    return this.#send("SHORT", this.#netPosition ? "NONE" : "OPEN", price, volume, type);
  }
  /** Buy to close short. */
  cover(price: number, volume: number, type: OrderRequest["type"] = "LIMIT"): Promise<string> {
    return this.#send("LONG", this.#netPosition ? "NONE" : "CLOSE", price, volume, type);
  }

  activeOrders(): OrderData[] {
    return [...this.orders.values()].filter(isActive);
  }

  async cancelAll(): Promise<CancelResult[]> {
    return Promise.all(this.activeOrders().map((o) =>
      this.gateway.cancelOrder({ orderid: o.orderid, symbol: o.symbol, exchange: o.exchange })));
  }

  /** Wire `strategy` to the gateway's events and subscribe to the instrument. */
  async start(strategy: Strategy): Promise<void> {
    const ee = this.gateway.eventEngine;
    const name = this.gateway.gatewayName;
    const bars = new BarGenerator((bar) => strategy.onBar?.(bar, this));
    this.#off.push(
      ee.register<ContractData>(EVENT_CONTRACT + this.vtSymbol, (e) => { this.#netPosition = e.data.netPosition; }),
      ee.register<TickData>(EVENT_TICK + this.vtSymbol, (e) => {
        if (e.data.gatewayName !== name) return;
        this.lastTick = e.data;
        strategy.onTick?.(e.data, this);
        bars.updateTick(e.data);
      }),
      ee.register<OrderData>(EVENT_ORDER, (e) => {
        const o = e.data;
        if (o.gatewayName !== name || o.vtSymbol !== this.vtSymbol || o.reference !== this.reference) return;
        this.orders.set(o.vtOrderId, o);
        if (this.orders.size > this.#maxHistory) this.#forgetOrders();
        strategy.onOrder?.(o, this);
      }),
      ee.register<TradeData>(EVENT_TRADE + this.vtSymbol, (e) => {
        const t = e.data;
        if (t.gatewayName !== name || !this.orders.has(t.vtOrderId)) return;
        this.pos += t.direction === "LONG" ? t.volume : -t.volume;
        this.trades.push(t);
        if (this.trades.length > this.#maxHistory) this.trades.splice(0, this.trades.length - this.#maxHistory);
        strategy.onTrade?.(t, this);
      }),
    );
    await strategy.onStart?.(this);
    await this.gateway.subscribe({ symbol: this.symbol, exchange: this.exchange });
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
  }

  /** Forget the oldest final orders beyond `maxHistory` (active ones stay: their fills are to come). */
  #forgetOrders(): void {
    let excess = this.orders.size - this.#maxHistory;
    for (const [id, o] of this.orders) {
      if (excess <= 0) break;
      if (isActive(o)) continue;
      this.orders.delete(id);
      excess--;
    }
  }

  #send(direction: OrderRequest["direction"], offset: OrderRequest["offset"], price: number, volume: number, type: OrderRequest["type"]): Promise<string> {
    return this.gateway.sendOrder({
      symbol: this.symbol, exchange: this.exchange, direction, offset, type, price, volume, reference: this.reference,
    });
  }
}
