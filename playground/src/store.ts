/**
 * What the page knows about the exchange, built only from events (VeighNa's OmsEngine, in small):
 * the latest tick per instrument, every order by id, recent trades, positions, accounts and
 * contracts. Views read it on their frame; `changed` tells them which part moved.
 */
import type { AccountData, ContractData, LogData, OrderData, PositionData, TickData, TradeData } from "../../sim/object.ts";

export type Part = "tick" | "order" | "trade" | "position" | "account" | "contract" | "log";

const MAX_TRADES = 200;
const MAX_LOGS = 200;
const FINAL_ORDERS_KEPT = 500;

export class Store {
  readonly contracts = new Map<string, ContractData>();
  readonly ticks = new Map<string, TickData>();
  readonly orders = new Map<string, OrderData>();
  /** Newest first. */
  readonly trades: TradeData[] = [];
  readonly positions = new Map<string, PositionData>();
  readonly accounts = new Map<string, AccountData>();
  /** Newest first. */
  readonly logs: LogData[] = [];
  readonly #listeners = new Set<(part: Part, data: unknown) => void>();
  readonly #tradeIds = new Set<string>();

  /** Listen to every change; returns the function that stops listening. */
  onChange(listener: (part: Part, data: unknown) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Apply one event by its VeighNa type (`eTick.IF2512.CFFEX`, `eOrder.SIM.3`, `eLog`). */
  apply(type: string, data: unknown): void {
    if (typeof data !== "object" || data === null) return;
    if (type.startsWith("eTick.")) this.#set("tick", this.ticks, (data as TickData).vtSymbol, data);
    else if (type.startsWith("eOrder.")) this.#order(data as OrderData);
    else if (type.startsWith("eTrade.")) this.#trade(data as TradeData);
    else if (type.startsWith("ePosition.")) this.#set("position", this.positions, (data as PositionData).vtPositionId, data);
    else if (type.startsWith("eAccount.")) this.#set("account", this.accounts, (data as AccountData).vtAccountId, data);
    else if (type.startsWith("eContract.")) this.#set("contract", this.contracts, (data as ContractData).vtSymbol, data);
    else if (type === "eLog") this.#log(data as LogData);
  }

  activeOrders(): OrderData[] {
    return [...this.orders.values()].filter((o) => o.status === "SUBMITTING" || o.status === "NOTTRADED" || o.status === "PARTTRADED").reverse();
  }

  /** Forget everything (a new session). */
  clear(): void {
    for (const map of [this.contracts, this.ticks, this.orders, this.positions, this.accounts]) map.clear();
    this.trades.length = 0;
    this.logs.length = 0;
    this.#tradeIds.clear();
    for (const part of ["contract", "tick", "order", "trade", "position", "account", "log"] as const) this.#emit(part, undefined);
  }

  #set<T>(part: Part, map: Map<string, T>, key: unknown, data: unknown): void {
    if (typeof key !== "string") return;
    map.set(key, data as T);
    this.#emit(part, data);
  }

  #order(order: OrderData): void {
    if (typeof order.vtOrderId !== "string") return;
    // Re-insert so the map's order is the order of last change (newest last).
    this.orders.delete(order.vtOrderId);
    this.orders.set(order.vtOrderId, order);
    if (this.orders.size > FINAL_ORDERS_KEPT) {
      for (const [id, o] of this.orders) {
        if (this.orders.size <= FINAL_ORDERS_KEPT) break;
        if (o.status === "ALLTRADED" || o.status === "CANCELLED" || o.status === "REJECTED") this.orders.delete(id);
      }
    }
    this.#emit("order", order);
  }

  #trade(trade: TradeData): void {
    // A reconnect reloads trades: keep each one once.
    if (typeof trade.vtTradeId !== "string" || this.#tradeIds.has(trade.vtTradeId)) return;
    this.#tradeIds.add(trade.vtTradeId);
    this.trades.unshift(trade);
    if (this.trades.length > MAX_TRADES) this.#tradeIds.delete(this.trades.pop()!.vtTradeId);
    this.#emit("trade", trade);
  }

  #log(log: LogData): void {
    this.logs.unshift(log);
    if (this.logs.length > MAX_LOGS) this.logs.pop();
    this.#emit("log", log);
  }

  #emit(part: Part, data: unknown): void {
    for (const listener of this.#listeners) listener(part, data);
  }
}
