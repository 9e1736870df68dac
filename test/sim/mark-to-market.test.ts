/**
 * What the simulator reports between trades: open positions marked to the market (issue 13,
 * item 6) at most once per `markIntervalMs`, as a real gateway's periodic queries do; and a
 * rejected order reported with the price it was sent with (item 12).
 */
import { describe, expect, it } from "vitest";
import { SimExchange, SimGateway, EventEngine, VirtualClock, type AccountData, type Event, type OrderData, type PositionData } from "../../sim/index.ts";
import { setup, snapshot, T0, TEST_SPEC, VT, type Book } from "./helpers.ts";

const BOOK: Book = { bids: [[99, 50]], asks: [[100, 50]], last: 100 };

const positionsOf = (events: Event[], gateway: string) =>
  events.filter((e) => e.type.startsWith("ePosition.") && (e.data as PositionData).gatewayName === gateway).map((e) => e.data as PositionData);
const accountsOf = (events: Event[], gateway: string) => events.filter((e) => e.type.startsWith(`eAccount.${gateway}.`)).map((e) => e.data as AccountData);

/** An exchange whose market is applied by hand at chosen times (the helpers' `market` steps 1 s). */
async function handDriven(markIntervalMs?: number) {
  const clock = new VirtualClock({ start: T0 });
  const exchange = new SimExchange({ clock, instruments: [TEST_SPEC], ...(markIntervalMs === undefined ? {} : { markIntervalMs }) });
  const eventEngine = new EventEngine();
  const events: Event[] = [];
  eventEngine.registerGeneral((e) => events.push(e));
  const A = new SimGateway({ exchange, eventEngine, gatewayName: "A" });
  const B = new SimGateway({ exchange, eventEngine, gatewayName: "B" });
  await A.connect();
  await B.connect();
  const at = (offsetMs: number, book: Book) => {
    clock.advanceTo(T0 + offsetMs);
    exchange.applyMarket(VT, snapshot(T0 + offsetMs, book));
  };
  // A buys 2 lots at 100 on the first market event.
  A.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", offset: "OPEN", type: "LIMIT", price: 100, volume: 2, reference: "" });
  at(0, BOOK);
  expect(positionsOf(events, "A").at(-1)).toMatchObject({ direction: "LONG", volume: 2, price: 100, pnl: 0 });
  return { events, at };
}

describe("mark to market", () => {
  it("reports an open position's P&L, then its account's, when the price moves without a trade", async () => {
    const { events, at } = await handDriven();
    const positionsBefore = positionsOf(events, "A").length;
    const accountBefore = accountsOf(events, "A").at(-1)!;
    const from = events.length;
    at(1_000, { bids: [[103, 10]], asks: [[105, 10]], last: 104 });
    // (104 − 100) × 2 lots × size 10.
    const marked = positionsOf(events, "A");
    expect(marked).toHaveLength(positionsBefore + 1);
    expect(marked.at(-1)).toMatchObject({ direction: "LONG", volume: 2, price: 100, pnl: 80 });
    const account = accountsOf(events, "A").at(-1)!;
    expect(account.holdingProfit).toBe(80);
    expect(account.balance).toBeCloseTo(accountBefore.balance + 80, 6);
    expect(account.available).toBeCloseTo(account.balance - account.frozen, 6);
    // Position before account, as after a trade; nothing for B, which holds nothing.
    const types = events.slice(from).map((e) => e.type).filter((t) => !t.startsWith("eTick."));
    expect(types).toEqual(["ePosition.T1.LOCAL", "eAccount.A.A"]);
  });

  it("marks at most once per interval, and only positions whose P&L moved", async () => {
    const { events, at } = await handDriven(1_000);
    const count = () => positionsOf(events, "A").length;
    const start = count();
    at(1_000, { bids: [[101, 10]], asks: [[102, 10]], last: 101 });
    expect(count()).toBe(start + 1);
    // Within the interval: the price moves, nothing is reported yet.
    at(1_300, { bids: [[105, 10]], asks: [[106, 10]], last: 105 });
    at(1_600, { bids: [[106, 10]], asks: [[107, 10]], last: 106 });
    expect(count()).toBe(start + 1);
    // The interval is over: the P&L as of now.
    at(2_000, { bids: [[106, 10]], asks: [[107, 10]], last: 106 });
    expect(count()).toBe(start + 2);
    expect(positionsOf(events, "A").at(-1)!.pnl).toBe(120);
    // Same price later: the P&L has not moved, nothing to say.
    const accounts = accountsOf(events, "A").length;
    at(3_000, { bids: [[106, 10]], asks: [[107, 10]], last: 106 });
    expect(count()).toBe(start + 2);
    expect(accountsOf(events, "A")).toHaveLength(accounts);
  });

  it("reports positions on trades only with markIntervalMs 0", async () => {
    const { events, at } = await handDriven(0);
    const positions = positionsOf(events, "A").length;
    const accounts = accountsOf(events, "A").length;
    at(1_000, { bids: [[103, 10]], asks: [[105, 10]], last: 104 });
    at(5_000, { bids: [[93, 10]], asks: [[95, 10]], last: 94 });
    expect(positionsOf(events, "A")).toHaveLength(positions);
    expect(accountsOf(events, "A")).toHaveLength(accounts);
  });

  it("marks a short position the other way, on the helpers' one-second market", async () => {
    const s = await setup();
    s.send(s.gateways.B!, { direction: "SHORT", price: 99, volume: 1 });
    s.market(BOOK);
    s.market({ bids: [[96, 10]], asks: [[97, 10]], last: 96 });
    // (99 − 96) × 1 lot × size 10, short.
    expect(positionsOf(s.events, "B").at(-1)).toMatchObject({ direction: "SHORT", volume: 1, pnl: 30 });
    expect(accountsOf(s.events, "B").at(-1)!.holdingProfit).toBe(30);
  });
});

describe("a rejected order", () => {
  it("keeps the price it was sent with, in its event and in the order list", async () => {
    const s = await setup({ spec: { pricetick: 0.2 } });
    s.market({ bids: [[4000, 10]], asks: [[4000.2, 10]], last: 4000 });
    const A = s.gateways.A!;
    const id = s.send(A, { price: 4000.3 });
    const order = s.order(id);
    expect(order.status).toBe("REJECTED");
    expect(order.statusMsg).toMatch(/Price 4000.3 is not a multiple of the price tick 0.2/);
    expect(order.price).toBe(4000.3);
    const listed = s.exchange.ordersData(s.exchange.openAccount("A")).find((o: OrderData) => `A.${o.orderid}` === id);
    expect(listed?.price).toBe(4000.3);
    // An accepted order on the grid reports its price as the grid's.
    const ok = s.send(A, { price: 3990.2 });
    expect(s.order(ok)).toMatchObject({ status: "SUBMITTING", price: 3990.2 });
  });
});
