/** What the exchange remembers of final orders and trades (`maxHistory`), and who gets events made. */
import { describe, expect, it } from "vitest";
import { SimExchange, VirtualClock, type AccountListener, type OrderRequest, type TradeData } from "../../sim/index.ts";
import { setup, snapshot, T0, TEST_SPEC, VT } from "./helpers.ts";

const BOOK = { bids: [[99, 5]] as Array<[number, number]>, asks: [[100, 5]] as Array<[number, number]> };

describe("order and trade history", () => {
  it("keeps every final order and trade by default, for getAllOrders and getAllTrades", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    const filled = s.send(A, { price: 100 });
    const rejected = s.send(A, { price: 100.5 });
    const resting = s.send(A, { price: 90 });
    s.market(BOOK);
    expect(s.exchange.ordersData(A.account).map((o) => [o.vtOrderId, o.status])).toEqual([
      [filled, "ALLTRADED"], [rejected, "REJECTED"], [resting, "NOTTRADED"],
    ]);
    expect(s.exchange.tradesData(A.account).map((t) => t.vtOrderId)).toEqual([filled]);
    const again = await A.cancelOrder({ orderid: filled.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(again.reason).toMatch(/already final \(ALLTRADED\)/);
  });

  it("keeps only active orders with maxHistory 0, while every event still goes out", async () => {
    const s = await setup({ maxHistory: 0 });
    const A = s.gateways.A!;
    const filled = s.send(A, { price: 100, volume: 2 });
    s.send(A, { price: 100.5 }); // rejected: off tick
    const resting = s.send(A, { price: 90 });
    s.market(BOOK);
    expect(s.order(filled).status).toBe("ALLTRADED");
    expect(s.trades(filled)).toEqual([expect.objectContaining({ price: 100, volume: 2 })]);
    expect(s.exchange.ordersData(A.account).map((o) => o.vtOrderId)).toEqual([resting]);
    expect(s.exchange.tradesData(A.account)).toEqual([]);
    const gone = await A.cancelOrder({ orderid: filled.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(gone).toEqual({ accepted: false, reason: `Unknown order: ${filled.split(".")[1]}` });
    const live = await A.cancelOrder({ orderid: resting.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(live.accepted).toBe(true);
    expect(s.order(resting).status).toBe("CANCELLED");
    expect(s.exchange.ordersData(A.account)).toEqual([]);
  });

  it("keeps the latest maxHistory final orders and trades of each account", async () => {
    const s = await setup({ maxHistory: 2 });
    const A = s.gateways.A!;
    const ids = [0, 1, 2].map(() => s.send(A, { price: 100 }));
    const resting = s.send(A, { price: 90 });
    s.market(BOOK);
    expect(s.exchange.ordersData(A.account).map((o) => o.vtOrderId)).toEqual([ids[1], ids[2], resting]);
    expect(s.exchange.tradesData(A.account).map((t) => t.vtOrderId)).toEqual([ids[1], ids[2]]);
    expect(s.exchange.ordersData(s.gateways.B!.account)).toEqual([]);
  });

  it("refuses a negative maxHistory", () => {
    expect(() => new SimExchange({ clock: new VirtualClock(), instruments: [TEST_SPEC], maxHistory: -1 })).toThrow(RangeError);
  });

  it("hands each listener its own trade: changing it changes nothing the exchange keeps", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    const got: TradeData[] = [];
    const off = s.eventEngine.register<TradeData>("eTrade.", (e) => {
      got.push(e.data);
      e.data.price = -1;
    });
    s.send(A, { price: 100 });
    s.market(BOOK);
    off();
    expect(got).toHaveLength(1);
    expect(s.exchange.tradesData(A.account)[0]!.price).toBe(100);
  });

  it("trades for an account nobody listens to, and reports to a listener attached later in order", () => {
    const clock = new VirtualClock({ start: T0 });
    const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
    const quiet = exchange.openAccount("Q");
    const heard: string[] = [];
    const listener: AccountListener = {
      order: (o) => heard.push(`order ${o.status}`),
      trade: () => heard.push("trade"),
      position: (p) => heard.push(`position ${p.volume}`),
      account: () => heard.push("account"),
    };
    const req: OrderRequest = { symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" };
    exchange.sendOrder(quiet, req);
    clock.advanceTo(T0 + 1000);
    exchange.applyMarket(VT, snapshot(T0 + 1000, BOOK));
    expect(exchange.positionsData(quiet)).toMatchObject([{ direction: "LONG", volume: 1 }]);
    exchange.attach(quiet, listener);
    exchange.sendOrder(quiet, req);
    clock.advanceTo(T0 + 2000);
    exchange.applyMarket(VT, snapshot(T0 + 2000, BOOK));
    expect(heard).toEqual([
      "order SUBMITTING", "account", "order ALLTRADED", "trade", "position 2", "account",
    ]);
  });
});
