/**
 * Orders get their first chance on the first market event after they were sent: a stop is live
 * once accepted and triggers on the first event that trades through it (issue 14), and no other
 * order type waits an extra event either.
 */
import { describe, expect, it } from "vitest";
import type { OrderType } from "../../sim/index.ts";
import { setup, type Book } from "./helpers.ts";

/** A quiet market at 1000: bid 999, ask 1001, last 1000. */
const AT_1000: Book = { bids: [[999, 5], [998, 5]], asks: [[1001, 5], [1002, 5]], last: 1000 };

describe("stop orders fire on time", () => {
  it("a buy stop triggers on the first event that trades through it (a spike), with no later event needed", async () => {
    const s = await setup();
    s.market(AT_1000);
    const id = s.send(s.gateways.A!, { type: "STOP", price: 1005, volume: 1 });
    expect(s.order(id).status).toBe("SUBMITTING");
    s.market({ bids: [[1005, 5]], asks: [[1006, 5]], last: 1006 });
    expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[1006, 1]]);
    expect(s.order(id).status).toBe("ALLTRADED");
    // The market is back at 1000: nothing changes, and nothing was waiting for this event.
    s.market(AT_1000);
    expect(s.trades(id)).toHaveLength(1);
  });

  it("a sell stop triggers on the first event that trades through it (a dip)", async () => {
    const s = await setup();
    s.market(AT_1000);
    const id = s.send(s.gateways.A!, { type: "STOP", direction: "SHORT", price: 995, volume: 2 });
    s.market({ bids: [[994, 5]], asks: [[995, 5]], last: 994 });
    expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[994, 2]]);
    expect(s.order(id).status).toBe("ALLTRADED");
  });

  it("a stop that the market gaps through fills at the worse, market price on that event", async () => {
    const s = await setup();
    s.market(AT_1000);
    const buy = s.send(s.gateways.A!, { type: "STOP", price: 1005, volume: 3 });
    const sell = s.send(s.gateways.B!, { type: "STOP", direction: "SHORT", price: 995, volume: 1 });
    s.market({ bids: [[1009, 5]], asks: [[1010, 2], [1011, 5]], last: 1010 });
    // Bought at the market's asks, level by level: never at the stop price it jumped over.
    expect(s.trades(buy).map((t) => [t.price, t.volume])).toEqual([[1010, 2], [1011, 1]]);
    expect(s.order(sell).status).toBe("NOTTRADED");
    s.market({ bids: [[985, 5]], asks: [[986, 5]], last: 985 });
    expect(s.trades(sell).map((t) => [t.price, t.volume])).toEqual([[985, 1]]);
  });

  it("a stop the first event does not reach is armed (NOTTRADED) and fires when a later event reaches it", async () => {
    const s = await setup();
    s.market(AT_1000);
    const id = s.send(s.gateways.A!, { type: "STOP", price: 1005, volume: 1 });
    s.market({ ...AT_1000, last: 1004 });
    expect(s.order(id).status).toBe("NOTTRADED");
    s.market({ bids: [[1004, 5]], asks: [[1005, 5]], last: 1005 });
    expect(s.trades(id).map((t) => t.price)).toEqual([1005]);
  });

  it("is not triggered by a trade from before it was sent", async () => {
    const s = await setup();
    s.market({ bids: [[1005, 5]], asks: [[1006, 5]], last: 1006 });
    const id = s.send(s.gateways.A!, { type: "STOP", price: 1005, volume: 1 });
    s.market(AT_1000);
    expect(s.order(id).status).toBe("NOTTRADED");
    expect(s.trades(id)).toEqual([]);
  });

  it("fires in the same event when another account's order trades through it", async () => {
    const s = await setup();
    s.market(AT_1000);
    const stop = s.send(s.gateways.A!, { type: "STOP", price: 1003, volume: 1 });
    s.market(AT_1000);
    expect(s.order(stop).status).toBe("NOTTRADED");
    // B's market order sweeps the asks 1001…1004; those trades reach A's stop, which then buys
    // what is left, in this event.
    const sweep = s.send(s.gateways.B!, { type: "MARKET", price: 0, volume: 9 });
    s.market({ bids: [[999, 5]], asks: [[1001, 3], [1003, 3], [1004, 5]], last: 1000 });
    expect(s.trades(sweep).map((t) => [t.price, t.volume])).toEqual([[1001, 3], [1003, 3], [1004, 3]]);
    expect(s.trades(stop).map((t) => [t.price, t.volume])).toEqual([[1004, 1]]);
  });

  it("fires when a triggered stop's own fills reach another stop (a cascade), in the same event", async () => {
    const s = await setup();
    s.market(AT_1000);
    const first = s.send(s.gateways.A!, { type: "STOP", price: 1001, volume: 4 });
    const second = s.send(s.gateways.B!, { type: "STOP", price: 1003, volume: 1 });
    s.market({ bids: [[1000, 5]], asks: [[1001, 2], [1003, 2], [1005, 5]], last: 1001 });
    expect(s.trades(first).map((t) => [t.price, t.volume])).toEqual([[1001, 2], [1003, 2]]);
    expect(s.trades(second).map((t) => [t.price, t.volume])).toEqual([[1005, 1]]);
  });

  it("with order latency, is live from its arrival: trades before it do not count, the first after does", async () => {
    const s = await setup({ latencyMs: 1500 });
    s.market(AT_1000);
    const id = s.send(s.gateways.A!, { type: "STOP", price: 1005, volume: 1 });
    s.market({ bids: [[1005, 5]], asks: [[1006, 5]], last: 1006 }); // 1 s: still in flight
    expect(s.order(id).status).toBe("SUBMITTING");
    s.market({ bids: [[1006, 5]], asks: [[1007, 5]], last: 1007 }); // 2 s: arrived, and traded through
    expect(s.trades(id).map((t) => t.price)).toEqual([1007]);
  });
});

describe("no order type waits an extra market event", () => {
  // Sent while the market is at 1000; the next event moves the touch to 1002/1003.
  const NEXT: Book = { bids: [[1002, 5]], asks: [[1003, 5], [1004, 5]], last: 1003 };
  const cases: Array<[OrderType, number]> = [["LIMIT", 1003], ["MARKET", 0], ["FAK", 1003], ["FOK", 1004], ["STOP", 1002]];
  for (const [type, price] of cases) {
    it(`${type}: fills on the first event after it was sent, at that event's prices`, async () => {
      const s = await setup();
      s.market(AT_1000);
      const id = s.send(s.gateways.A!, { type, price, volume: 2 });
      expect(s.order(id).status).toBe("SUBMITTING");
      s.market(NEXT);
      expect(s.trades(id).map((t) => [t.price, t.volume])).toEqual([[1003, 2]]);
      expect(s.order(id).status).toBe("ALLTRADED");
    });
  }

  it("a limit that rests on its first event is crossed by the very next event's depth", async () => {
    const s = await setup();
    s.market(AT_1000);
    const id = s.send(s.gateways.A!, { price: 1000, volume: 1 });
    s.market(AT_1000);
    expect(s.order(id).status).toBe("NOTTRADED");
    s.market({ bids: [[998, 5]], asks: [[999, 5]], last: 999 });
    expect(s.trades(id).map((t) => t.price)).toEqual([1000]);
  });
});
