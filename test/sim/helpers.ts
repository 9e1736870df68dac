/** Shared set-up for the simulator suites: one hand-driven instrument and recording gateways. */
import {
  EventEngine, SimExchange, SimGateway, VirtualClock,
  type Event, type InstrumentSpec, type MarketSnapshot, type OrderData, type OrderRequest,
} from "../../sim/index.ts";

export const T0 = Date.UTC(2025, 0, 2, 1, 30);
export const VT = "T1.LOCAL";

/** pricetick 1, size 10, minVolume 1: prices read as ticks, money is ×10. */
export const TEST_SPEC: InstrumentSpec = {
  symbol: "T1", exchange: "LOCAL", size: 10, pricetick: 1, marginRate: 0.1, feed: { next: () => undefined },
};

export interface Book {
  bids?: Array<[number, number]>;
  asks?: Array<[number, number]>;
  last?: number;
  lastVolume?: number;
}

export function snapshot(time: number, book: Book): MarketSnapshot {
  const bids = book.bids ?? [];
  const asks = book.asks ?? [];
  return {
    datetime: time,
    lastPrice: book.last ?? bids[0]?.[0] ?? asks[0]?.[0] ?? 0,
    lastVolume: book.lastVolume ?? 0,
    bids: bids.map(([p, v]) => [p, v] as [number, number]),
    asks: asks.map(([p, v]) => [p, v] as [number, number]),
  };
}

export interface SetupOptions {
  spec?: Partial<InstrumentSpec>;
  accounts?: string[];
  balance?: number;
  latencyMs?: number;
  maxHistory?: number;
}

export async function setup(options: SetupOptions = {}) {
  const clock = new VirtualClock({ start: T0 });
  const exchange = new SimExchange({
    clock,
    instruments: [{ ...TEST_SPEC, ...options.spec }],
    latencyMs: options.latencyMs ?? 0,
    maxHistory: options.maxHistory ?? 50_000,
  });
  const eventEngine = new EventEngine();
  const events: Event[] = [];
  eventEngine.registerGeneral((e) => events.push(e));
  const gateways: Record<string, SimGateway> = {};
  for (const name of options.accounts ?? ["A", "B"]) {
    const g = new SimGateway({ exchange, eventEngine, gatewayName: name, balance: options.balance ?? 1_000_000 });
    await g.connect();
    gateways[name] = g;
  }
  let time = T0;
  /** Advance 1 s and apply a market event. */
  const market = (book: Book): void => {
    time += 1000;
    clock.advanceTo(time);
    exchange.applyMarket(VT, snapshot(time, book));
  };
  /** The latest state of an order, from the events. */
  const order = (vtOrderId: string): OrderData => {
    const all = events.filter((e) => e.type === `eOrder.${vtOrderId}`);
    const last = all[all.length - 1];
    if (!last) throw new Error(`No order events for ${vtOrderId}`);
    return last.data as OrderData;
  };
  const trades = (vtOrderId: string) =>
    events.filter((e) => e.type.startsWith("eTrade.") && (e.data as { vtOrderId: string }).vtOrderId === vtOrderId)
      .map((e) => e.data as { price: number; volume: number });
  const send = (g: SimGateway, req: Partial<OrderRequest>): string =>
    g.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN", ...req });
  return { clock, exchange, eventEngine, events, gateways, market, order, trades, send };
}
