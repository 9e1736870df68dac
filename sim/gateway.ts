/**
 * The gateway interface (VeighNa's `BaseGateway`) and the simulator's gateway.
 *
 * Code written against `Gateway` runs unchanged on `SimGateway` (in process) and `RpcGateway`
 * (over RPC): every method returns a promise, and data arrives as events on the `EventEngine`,
 * typed by VeighNa's names suffixed by identifier (`eTick.IF2512.CFFEX`, `eOrder.SIM.7`).
 */
import type {
  AccountData, BarData, CancelRequest, CancelResult, ContractData, HistoryRequest, LogData, OrderData,
  OrderRequest, PositionData, SubscribeRequest, TickData, TradeData,
} from "./object.ts";
import {
  EVENT_ACCOUNT, EVENT_CONTRACT, EVENT_LOG, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, EVENT_TRADE, type EventEngine,
} from "./event.ts";
import type { AccountState } from "./account.ts";
import type { SimExchange } from "./exchange.ts";

export interface Gateway {
  readonly gatewayName: string;
  readonly eventEngine: EventEngine;
  /** Connect, then report contracts, account, positions, orders and trades as events. */
  connect(setting?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
  /** Receive `eTick.<vtSymbol>` events for one instrument. */
  subscribe(req: SubscribeRequest): Promise<void>;
  /** Returns the new order's `vtOrderId` (also for a rejected order: see its `statusMsg`). */
  sendOrder(req: OrderRequest): Promise<string>;
  cancelOrder(req: CancelRequest): Promise<CancelResult>;
  /** Report the account as an `eAccount.` event. */
  queryAccount(): Promise<void>;
  /** Report every position as `ePosition.` events. */
  queryPosition(): Promise<void>;
  queryHistory(req: HistoryRequest): Promise<BarData[]>;
}

/** VeighNa's logging levels. */
export const LogLevel = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 } as const;

/** Puts data on the event engine under VeighNa's event names (`BaseGateway.on_xxx`). */
export class GatewayEvents {
  constructor(
    private readonly eventEngine: EventEngine,
    private readonly gatewayName: string,
    private readonly now: () => number,
  ) {}

  /** `eTick.<vtSymbol>` per symbol, made once: a fresh string per tick costs a hash per dispatch. */
  readonly #tickTypes = new Map<string, string>();

  /** The symbol of the last tick and its type: one instrument's ticks usually come in a row. */
  #lastSymbol = "";
  #lastTickType = "";

  tick(tick: TickData): void {
    if (tick.vtSymbol !== this.#lastSymbol) {
      let type = this.#tickTypes.get(tick.vtSymbol);
      if (type === undefined) {
        type = EVENT_TICK + tick.vtSymbol;
        this.#tickTypes.set(tick.vtSymbol, type);
      }
      this.#lastSymbol = tick.vtSymbol;
      this.#lastTickType = type;
    }
    this.eventEngine.put(this.#lastTickType, tick);
  }

  order(order: OrderData): void {
    this.eventEngine.put(EVENT_ORDER + order.vtOrderId, order);
  }

  trade(trade: TradeData): void {
    this.eventEngine.put(EVENT_TRADE + trade.vtSymbol, trade);
  }

  position(position: PositionData): void {
    this.eventEngine.put(EVENT_POSITION + position.vtSymbol, position);
  }

  account(account: AccountData): void {
    this.eventEngine.put(EVENT_ACCOUNT + account.vtAccountId, account);
  }

  contract(contract: ContractData): void {
    this.eventEngine.put(EVENT_CONTRACT + contract.vtSymbol, contract);
  }

  log(msg: string, level: number = LogLevel.INFO): void {
    const log: LogData = { gatewayName: this.gatewayName, msg, level, datetime: this.now() };
    this.eventEngine.put(EVENT_LOG, log);
  }
}

export interface SimGatewayOptions {
  exchange: SimExchange;
  eventEngine: EventEngine;
  /** Default "SIM". Each gateway is one account on the exchange. */
  gatewayName?: string;
  /** Starting balance of the account when it is first opened. Default 1 000 000. */
  balance?: number;
  currency?: string;
}

/** One account's connection to a `SimExchange`. */
export class SimGateway implements Gateway {
  readonly gatewayName: string;
  readonly eventEngine: EventEngine;
  readonly exchange: SimExchange;
  readonly account: AccountState;
  readonly #on: GatewayEvents;
  readonly #ticks = new Map<string, () => void>();
  #detach: (() => void) | undefined;

  constructor(options: SimGatewayOptions) {
    this.exchange = options.exchange;
    this.eventEngine = options.eventEngine;
    this.gatewayName = options.gatewayName ?? "SIM";
    const open: { balance?: number; currency?: string } = {};
    if (options.balance !== undefined) open.balance = options.balance;
    if (options.currency !== undefined) open.currency = options.currency;
    this.account = this.exchange.openAccount(this.gatewayName, open);
    this.#on = new GatewayEvents(this.eventEngine, this.gatewayName, () => this.exchange.clock.now());
  }

  get connected(): boolean {
    return this.#detach !== undefined;
  }

  async connect(_setting: Record<string, unknown> = {}): Promise<void> {
    if (this.#detach) return;
    const on = this.#on;
    this.#detach = this.exchange.attach(this.account, {
      order: (o) => on.order(o),
      trade: (t) => on.trade(t),
      position: (p) => on.position(p),
      account: (a) => on.account(a),
    });
    on.log("Simulated exchange connected");
    for (const c of this.exchange.contracts()) on.contract({ ...c, gatewayName: this.gatewayName });
    on.log("Contracts loaded");
    on.account(this.exchange.accountData(this.account));
    on.log("Account loaded");
    for (const p of this.exchange.positionsData(this.account)) on.position(p);
    on.log("Positions loaded");
    for (const o of this.exchange.ordersData(this.account)) on.order(o);
    on.log("Orders loaded");
    for (const t of this.exchange.tradesData(this.account)) on.trade(t);
    on.log("Trades loaded");
    this.exchange.start();
  }

  async close(): Promise<void> {
    for (const off of this.#ticks.values()) off();
    this.#ticks.clear();
    this.#detach?.();
    this.#detach = undefined;
  }

  async subscribe(req: SubscribeRequest): Promise<void> {
    const vtSymbol = `${req.symbol}.${req.exchange}`;
    if (this.#ticks.has(vtSymbol)) return;
    if (!this.exchange.hasSymbol(vtSymbol)) {
      this.#on.log(`Subscribe failed: unknown symbol ${vtSymbol}`, LogLevel.WARNING);
      return;
    }
    const name = this.gatewayName;
    const on = this.#on;
    this.#ticks.set(vtSymbol, this.exchange.subscribeTicks(vtSymbol, (tick) => {
      tick.gatewayName = name;
      on.tick(tick);
    }));
  }

  async sendOrder(req: OrderRequest): Promise<string> {
    return this.sendOrderNow(req);
  }

  /** `sendOrder` without the promise, for synchronous strategy code and benchmarks. */
  sendOrderNow(req: OrderRequest): string {
    return `${this.gatewayName}.${this.exchange.sendOrder(this.account, req)}`;
  }

  async cancelOrder(req: CancelRequest): Promise<CancelResult> {
    return this.cancelOrderNow(req);
  }

  cancelOrderNow(req: CancelRequest): CancelResult {
    const result = this.exchange.cancelOrder(this.account, req);
    if (!result.accepted) this.#on.log(`Cancel rejected: ${result.reason}`, LogLevel.WARNING);
    return result;
  }

  async queryAccount(): Promise<void> {
    this.#on.account(this.exchange.accountData(this.account));
  }

  async queryPosition(): Promise<void> {
    for (const p of this.exchange.positionsData(this.account)) this.#on.position(p);
  }

  async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    return this.exchange.queryHistory(req).map((b) => ({ ...b, gatewayName: this.gatewayName }));
  }
}
