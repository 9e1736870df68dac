/**
 * The latest state of everything the gateways reported, kept from the event engine (VeighNa's
 * `OmsEngine`): what RpcService's `getXxx` functions answer from. Answers are copies.
 */
import type { AccountData, ContractData, OrderData, PositionData, TickData, TradeData } from "./object.ts";
import { isActive } from "./object.ts";
import {
  EVENT_ACCOUNT, EVENT_CONTRACT, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, EVENT_TRADE, type EventEngine,
} from "./event.ts";

export class OmsEngine {
  readonly ticks: Map<string, TickData> = new Map();
  readonly orders: Map<string, OrderData> = new Map();
  readonly trades: Map<string, TradeData> = new Map();
  readonly positions: Map<string, PositionData> = new Map();
  readonly accounts: Map<string, AccountData> = new Map();
  readonly contracts: Map<string, ContractData> = new Map();
  readonly activeOrders: Map<string, OrderData> = new Map();
  readonly #off: Array<() => void>;
  readonly #maxHistory: number;

  /** `maxHistory`: final orders and trades kept (oldest forgotten first). Default 100 000. */
  constructor(eventEngine: EventEngine, options: { maxHistory?: number } = {}) {
    this.#maxHistory = options.maxHistory ?? 100_000;
    this.#off = [
      // Copies: a handler that changes the object it was handed must not change what is kept.
      eventEngine.register<TickData>(EVENT_TICK, (e) => void this.ticks.set(e.data.vtSymbol, { ...e.data })),
      eventEngine.register<OrderData>(EVENT_ORDER, (e) => {
        const o = { ...e.data };
        this.orders.set(o.vtOrderId, o);
        if (isActive(o)) this.activeOrders.set(o.vtOrderId, o);
        else this.activeOrders.delete(o.vtOrderId);
        if (this.orders.size > this.#maxHistory * 1.1) this.#forgetOrders();
      }),
      eventEngine.register<TradeData>(EVENT_TRADE, (e) => {
        this.trades.set(e.data.vtTradeId, { ...e.data });
        if (this.trades.size > this.#maxHistory * 1.1) forgetOldest(this.trades, this.trades.size - this.#maxHistory);
      }),
      eventEngine.register<PositionData>(EVENT_POSITION, (e) => void this.positions.set(e.data.vtPositionId, { ...e.data })),
      eventEngine.register<AccountData>(EVENT_ACCOUNT, (e) => void this.accounts.set(e.data.vtAccountId, { ...e.data })),
      eventEngine.register<ContractData>(EVENT_CONTRACT, (e) => void this.contracts.set(e.data.vtSymbol, { ...e.data })),
    ];
  }

  #forgetOrders(): void {
    let excess = this.orders.size - this.#maxHistory;
    for (const [id] of this.orders) {
      if (excess <= 0) break;
      if (this.activeOrders.has(id)) continue;
      this.orders.delete(id);
      excess--;
    }
  }

  close(): void {
    for (const off of this.#off) off();
  }

  getTick(vtSymbol: string): TickData | null {
    return copy(this.ticks.get(vtSymbol));
  }
  getOrder(vtOrderId: string): OrderData | null {
    return copy(this.orders.get(vtOrderId));
  }
  getTrade(vtTradeId: string): TradeData | null {
    return copy(this.trades.get(vtTradeId));
  }
  getPosition(vtPositionId: string): PositionData | null {
    return copy(this.positions.get(vtPositionId));
  }
  getAccount(vtAccountId: string): AccountData | null {
    return copy(this.accounts.get(vtAccountId));
  }
  getContract(vtSymbol: string): ContractData | null {
    return copy(this.contracts.get(vtSymbol));
  }
  getAllTicks(): TickData[] {
    return all(this.ticks);
  }
  getAllOrders(): OrderData[] {
    return all(this.orders);
  }
  getAllTrades(): TradeData[] {
    return all(this.trades);
  }
  getAllPositions(): PositionData[] {
    return all(this.positions);
  }
  getAllAccounts(): AccountData[] {
    return all(this.accounts);
  }
  getAllContracts(): ContractData[] {
    return all(this.contracts);
  }
  /** Active orders, of one instrument when `vtSymbol` is given. */
  getAllActiveOrders(vtSymbol = ""): OrderData[] {
    const list = all(this.activeOrders);
    return vtSymbol ? list.filter((o) => o.vtSymbol === vtSymbol) : list;
  }
}

function forgetOldest<T>(map: Map<string, T>, count: number): void {
  for (const key of map.keys()) {
    if (count-- <= 0) break;
    map.delete(key);
  }
}

function copy<T extends object>(value: T | undefined): T | null {
  return value ? { ...value } : null;
}

function all<T extends object>(map: Map<string, T>): T[] {
  return [...map.values()].map((v) => ({ ...v }));
}
