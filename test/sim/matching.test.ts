import { describe, expect, it } from "vitest";
import { REASON } from "../../sim/index.ts";
import { setup } from "./helpers.ts";

const BOOK = { bids: [[99, 5], [98, 5]] as Array<[number, number]>, asks: [[100, 2], [101, 3], [102, 5]] as Array<[number, number]> };

describe("matching rules", () => {
  it("matches an order at the next market event, never against the data that triggered it", async () => {
    const s = await setup();
    s.market(BOOK);
    const id = s.send(s.gateways.A!, { price: 100, volume: 1 });
    expect(s.order(id).status).toBe("SUBMITTING");
    expect(s.trades(id)).toEqual([]);
    s.market({ ...BOOK, asks: [[103, 2]] });
    // The book it was sent against had ask 100; the next event's does not cross it.
    expect(s.order(id).status).toBe("NOTTRADED");
    expect(s.trades(id)).toEqual([]);
  });

  it("walks a marketable limit level by level at the resting prices, never beyond the limit", async () => {
    const s = await setup();
    const id = s.send(s.gateways.A!, { price: 101, volume: 7 });
    s.market(BOOK);
    expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[100, 2], [101, 3]]);
    const o = s.order(id);
    expect(o.status).toBe("PARTTRADED");
    expect(o.traded).toBe(5);
    // The remainder rests at its own price and shows in the published book.
    expect(s.exchange.lastTick("T1.LOCAL")?.bidPrice1).toBe(101);
    expect(s.exchange.lastTick("T1.LOCAL")?.bidVolume1).toBe(2);
  });

  it("does not fill the whole order at ask1 regardless of its volume: liquidity taken is gone", async () => {
    const s = await setup();
    const a = s.send(s.gateways.A!, { price: 100, volume: 2 });
    const b = s.send(s.gateways.B!, { price: 100, volume: 2 });
    s.market(BOOK);
    expect(s.order(a).status).toBe("ALLTRADED");
    expect(s.order(b).status).toBe("NOTTRADED");
    expect(s.trades(b)).toEqual([]);
  });

  it("fills a resting limit at its own price when the market crosses it", async () => {
    const s = await setup();
    s.market(BOOK);
    const id = s.send(s.gateways.A!, { price: 99, volume: 3 });
    s.market(BOOK);
    expect(s.order(id).status).toBe("NOTTRADED");
    s.market({ bids: [[95, 5]], asks: [[96, 2], [97, 4]] });
    expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[99, 2], [99, 1]]);
    expect(s.order(id).status).toBe("ALLTRADED");
  });

  it("fills a market order across levels and cancels what the book cannot fill", async () => {
    const s = await setup();
    s.market(BOOK);
    const id = s.send(s.gateways.A!, { type: "MARKET", price: 0, volume: 12 });
    s.market(BOOK);
    expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[100, 2], [101, 3], [102, 5]]);
    expect(s.order(id)).toMatchObject({ status: "CANCELLED", traded: 10, statusMsg: REASON.noLiquidity });
  });

  it("fills and kills a FAK order, and kills a FOK order that cannot fill in full", async () => {
    const s = await setup();
    const fak = s.send(s.gateways.A!, { type: "FAK", price: 100, volume: 5 });
    const fok = s.send(s.gateways.B!, { type: "FOK", price: 101, volume: 9 });
    s.market(BOOK);
    expect(s.order(fak)).toMatchObject({ status: "CANCELLED", traded: 2 });
    expect(s.order(fok)).toMatchObject({ status: "CANCELLED", traded: 0, statusMsg: REASON.fokUnfilled });
    expect(s.trades(fok)).toEqual([]);
    const fok2 = s.send(s.gateways.B!, { type: "FOK", price: 102, volume: 9 });
    s.market(BOOK);
    expect(s.order(fok2)).toMatchObject({ status: "ALLTRADED", traded: 9 });
  });

  it("fills a stop that the market gaps through at the worse, market price", async () => {
    const s = await setup();
    s.market(BOOK);
    const id = s.send(s.gateways.A!, { type: "STOP", price: 103, volume: 1 });
    s.market(BOOK);
    expect(s.order(id).status).toBe("NOTTRADED");
    s.market({ bids: [[109, 5]], asks: [[110, 5]], last: 110 });
    expect(s.trades(id).map((t) => t.price)).toEqual([110]);
    const sell = s.send(s.gateways.B!, { type: "STOP", direction: "SHORT", price: 100, volume: 1 });
    s.market({ bids: [[109, 5]], asks: [[110, 5]], last: 110 });
    expect(s.order(sell).status).toBe("NOTTRADED");
    s.market({ bids: [[90, 5]], asks: [[91, 5]], last: 90 });
    expect(s.trades(sell).map((t) => t.price)).toEqual([90]);
  });

  it("gives price-time priority among resting orders and lets them go before synthetic depth at one price", async () => {
    const s = await setup({ accounts: ["A", "B", "C"] });
    const a = s.send(s.gateways.A!, { direction: "SHORT", price: 105, volume: 1 });
    const b = s.send(s.gateways.B!, { direction: "SHORT", price: 105, volume: 1 });
    const better = s.send(s.gateways.B!, { direction: "SHORT", price: 104, volume: 1 });
    s.market(BOOK);
    expect([s.order(a).status, s.order(b).status, s.order(better).status]).toEqual(["NOTTRADED", "NOTTRADED", "NOTTRADED"]);
    // Room for two: 104 first (price), then A, which rested before B at 105 (time).
    const c = s.send(s.gateways.C!, { price: 105, volume: 2 });
    s.market({ bids: [[99, 5]], asks: [[105, 9]] });
    expect(s.trades(better).map((t) => t.price)).toEqual([104]);
    expect(s.trades(a).map((t) => [t.price, t.volume])).toEqual([[105, 1]]);
    expect(s.trades(b)).toEqual([]);
    expect(s.trades(c).map((t) => [t.price, t.volume])).toEqual([[104, 1], [105, 1]]);
    // B, still resting, goes before the market's own depth at 105.
    const d = s.send(s.gateways.C!, { price: 105, volume: 2 });
    s.market({ bids: [[99, 5]], asks: [[105, 9]] });
    expect(s.trades(b).map((t) => [t.price, t.volume])).toEqual([[105, 1]]);
    expect(s.trades(d).map((t) => [t.price, t.volume])).toEqual([[105, 1], [105, 1]]);
  });

  it("fills resting orders at one price in time order when the market crosses them", async () => {
    const s = await setup({ accounts: ["A", "B", "C"] });
    const first = s.send(s.gateways.A!, { direction: "SHORT", price: 105, volume: 1 });
    const second = s.send(s.gateways.B!, { direction: "SHORT", price: 105, volume: 1 });
    const third = s.send(s.gateways.C!, { direction: "SHORT", price: 105, volume: 1 });
    s.market(BOOK);
    // The market bids 106 for one lot, then for one more: the oldest order at 105 fills first.
    s.market({ bids: [[106, 1]], asks: [[107, 5]] });
    expect([first, second, third].map((id) => s.order(id).status)).toEqual(["ALLTRADED", "NOTTRADED", "NOTTRADED"]);
    s.market({ bids: [[106, 1]], asks: [[107, 5]] });
    expect([first, second, third].map((id) => s.order(id).status)).toEqual(["ALLTRADED", "ALLTRADED", "NOTTRADED"]);
  });

  it("prevents self-trades: the taker's remainder is cancelled and the resting order is untouched", async () => {
    const s = await setup();
    const resting = s.send(s.gateways.A!, { direction: "SHORT", price: 100, volume: 2 });
    s.market({ bids: [[95, 5]], asks: [[106, 5]] });
    const self = s.send(s.gateways.A!, { price: 100, volume: 1 });
    s.market({ bids: [[95, 5]], asks: [[106, 5]] });
    expect(s.order(self)).toMatchObject({ status: "CANCELLED", traded: 0, statusMsg: REASON.selfTrade });
    expect(s.order(resting)).toMatchObject({ status: "NOTTRADED", traded: 0 });
    const other = s.send(s.gateways.B!, { price: 100, volume: 1 });
    s.market({ bids: [[95, 5]], asks: [[106, 5]] });
    expect(s.trades(other).map((t) => t.price)).toEqual([100]);
    expect(s.order(resting)).toMatchObject({ status: "PARTTRADED", traded: 1 });
  });

  it("cancels an active order and refuses to cancel a final one, with a reason", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    const id = s.send(A, { price: 90, volume: 1 });
    const orderid = id.split(".")[1]!;
    expect(await A.cancelOrder({ orderid, symbol: "T1", exchange: "LOCAL" })).toEqual({ accepted: true, reason: "" });
    expect(s.order(id).status).toBe("CANCELLED");
    const again = await A.cancelOrder({ orderid, symbol: "T1", exchange: "LOCAL" });
    expect(again.accepted).toBe(false);
    expect(again.reason).toMatch(/already final \(CANCELLED\)/);
    expect((await A.cancelOrder({ orderid: "999", symbol: "T1", exchange: "LOCAL" })).reason).toMatch(/Unknown order/);
    // Another account cannot cancel it either.
    const mine = s.send(A, { price: 90, volume: 1 });
    const theirs = await s.gateways.B!.cancelOrder({ orderid: mine.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(theirs.accepted).toBe(false);
    const logs = s.events.filter((e) => e.type === "eLog").map((e) => (e.data as { msg: string }).msg);
    expect(logs.some((m) => m.startsWith("Cancel rejected"))).toBe(true);
  });

  it("rejects bad orders with a reason in the status message", async () => {
    const s = await setup({ balance: 10_000 });
    const A = s.gateways.A!;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ symbol: "NOPE" }, /Unknown symbol: NOPE\.LOCAL/],
      [{ price: 100.5 }, /not a multiple of the price tick 1/],
      [{ price: Number.NaN }, /Price must be positive/],
      [{ volume: 1.5 }, /not a multiple of the minimum volume 1/],
      [{ volume: -1 }, /Volume must be positive/],
      [{ volume: 101 }, /Insufficient funds: needs 10100, 10000 available/],
      [{ offset: "NONE" }, /Offset is required/],
      [{ direction: "SHORT", offset: "CLOSE" }, /Insufficient position to close/],
      [{ type: "RFQ" }, /Unsupported order type/],
      [{ direction: "NET" }, /Direction must be LONG or SHORT/],
    ];
    for (const [req, reason] of cases) {
      const id = s.send(A, req);
      expect(s.order(id).status, JSON.stringify(req)).toBe("REJECTED");
      expect(s.order(id).statusMsg).toMatch(reason);
    }
    s.exchange.setHalted("T1.LOCAL", true);
    expect(s.order(s.send(A, {})).statusMsg).toBe("Market closed");
  });

  it("emits order, trade, position and account in that order for a fill", async () => {
    const s = await setup();
    s.send(s.gateways.A!, { price: 100, volume: 1 });
    const from = s.events.length;
    s.market(BOOK);
    const kinds = s.events.slice(from).filter((e) => e.data && (e.data as { gatewayName: string }).gatewayName === "A")
      .map((e) => e.type.split(".")[0]);
    expect(kinds).toEqual(["eOrder", "eTrade", "ePosition", "eAccount"]);
  });

  it("cancels an order still waiting for its first market event", async () => {
    const s = await setup();
    const id = s.send(s.gateways.A!, { price: 100, volume: 1 });
    await s.gateways.A!.cancelOrder({ orderid: id.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    s.market(BOOK);
    expect(s.order(id).status).toBe("CANCELLED");
    expect(s.trades(id)).toEqual([]);
  });

  it("waits for the configured latency before an order can match", async () => {
    const s = await setup({ latencyMs: 1500 });
    const id = s.send(s.gateways.A!, { price: 100, volume: 1 });
    s.market(BOOK); // 1 s later: still in flight
    expect(s.order(id).status).toBe("SUBMITTING");
    s.market(BOOK); // 2 s later: arrived
    expect(s.order(id).status).toBe("ALLTRADED");
  });

  it("forgets the oldest final orders of a long-running account, never active ones", async () => {
    const s = await setup({ maxHistory: 10 });
    const A = s.gateways.A!;
    const resting = s.send(A, { price: 50, volume: 1 });
    for (let i = 0; i < 30; i++) s.send(A, { price: 100.5 }); // rejected: off tick
    const kept = s.exchange.ordersData(A.account);
    expect(kept.length).toBeLessThanOrEqual(11);
    expect(kept.map((o) => o.vtOrderId)).toContain(resting);
    const old = await A.cancelOrder({ orderid: "2", symbol: "T1", exchange: "LOCAL" });
    expect(old.reason).toMatch(/Unknown order/);
  });

  it("rejects orders outside trading hours", async () => {
    const s = await setup({ spec: { isOpen: (t) => new Date(t).getUTCMinutes() < 31 } });
    s.market(BOOK);
    expect(s.order(s.send(s.gateways.A!, {})).status).toBe("SUBMITTING");
    s.clock.advance(60_000);
    expect(s.order(s.send(s.gateways.A!, {}))).toMatchObject({ status: "REJECTED", statusMsg: "Market closed" });
  });
});
