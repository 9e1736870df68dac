/** The small parts: enums and labels, the event engine, clocks, the seeded generator, CSV replay, the book. */
import { describe, expect, it } from "vitest";
import { BarSeries } from "../../sim/bars.ts";
import {
  Direction, EventEngine, Exchange, isMember, labels, OrderBook, parseTickCsv, Random, randomWalkFeed, replayFeed,
  SimExchange, SimGateway, Status, VirtualClock, withGatewayName, type BookEntry, type Event, type OrderData, type TickData,
} from "../../sim/index.ts";

describe("enums", () => {
  it("are their member names on the wire, with VeighNa's values as display labels", () => {
    expect(Direction.LONG).toBe("LONG");
    expect(Status.ALLTRADED).toBe("ALLTRADED");
    expect(Exchange.CBOT).toBe("CBOT");
    expect(labels.Status.ALLTRADED).toBe("全部成交");
    expect(labels.Direction.SHORT).toBe("空");
    expect(isMember(Exchange, "CFFEX")).toBe(true);
    expect(isMember(Exchange, "toString")).toBe(false);
  });

  it("relabels data with another gateway name, recomputing the ids that embed it", () => {
    const order = { gatewayName: "SIM", orderid: "7", vtOrderId: "SIM.7", vtSymbol: "IF2512.CFFEX" } as OrderData;
    expect(withGatewayName(order, "RPC")).toMatchObject({ gatewayName: "RPC", vtOrderId: "RPC.7", vtSymbol: "IF2512.CFFEX" });
    expect(order.vtOrderId).toBe("SIM.7");
  });
});

describe("event engine", () => {
  it("delivers to handlers of the full type, the base type and all events", () => {
    const ee = new EventEngine();
    const seen: string[] = [];
    ee.register("eTick.", (e) => seen.push(`base ${e.type}`));
    ee.register("eTick.IF2512.CFFEX", (e) => seen.push(`exact ${e.type}`));
    ee.registerGeneral((e) => seen.push(`all ${e.type}`));
    ee.put("eTick.IF2512.CFFEX", {});
    ee.put("eTick.rb2601.SHFE", {});
    ee.put("eLog", {});
    expect(seen).toEqual([
      "exact eTick.IF2512.CFFEX", "base eTick.IF2512.CFFEX", "all eTick.IF2512.CFFEX",
      "base eTick.rb2601.SHFE", "all eTick.rb2601.SHFE", "all eLog",
    ]);
  });

  it("queues events put from a handler behind the current one, and rethrows a handler's error after draining", () => {
    const ee = new EventEngine();
    const order: string[] = [];
    ee.register("a", () => {
      ee.put("b", null);
      order.push("a1");
    });
    ee.register("a", () => order.push("a2"));
    ee.register("b", () => {
      order.push("b");
      throw new Error("strategy bug");
    });
    expect(() => ee.put("a", null)).toThrow("strategy bug");
    expect(order).toEqual(["a1", "a2", "b"]);
    // The engine is not left half-way: the next put dispatches in full again.
    expect(() => ee.put("a", null)).toThrow("strategy bug");
    expect(order).toEqual(["a1", "a2", "b", "a1", "a2", "b"]);
    const quiet = new EventEngine({ onError: (error) => order.push(String(error)) });
    quiet.register("x", () => {
      throw new Error("reported");
    });
    quiet.put("x", null);
    expect(order[order.length - 1]).toBe("Error: reported");
  });
});

describe("virtual clock", () => {
  it("runs timers in time order, equal times in the order they were set, and only when told", async () => {
    const clock = new VirtualClock({ start: 1000 });
    const ran: string[] = [];
    clock.setTimer(1500, () => ran.push("b"));
    clock.setTimer(1200, () => ran.push("a"));
    const cancelled = clock.setTimer(1300, () => ran.push("x"));
    clock.setTimer(1500, () => ran.push("c"));
    clock.clearTimer(cancelled);
    expect(ran).toEqual([]);
    clock.advanceTo(1400);
    expect(ran).toEqual(["a"]);
    expect(clock.now()).toBe(1400);
    await clock.runUntil(2000);
    expect(ran).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(2000);
  });

  it("lets awaiting code continue between events in runUntil", async () => {
    const clock = new VirtualClock({ start: 0 });
    const seen: string[] = [];
    clock.setTimer(10, async () => {
      seen.push("first");
      await Promise.resolve();
      seen.push("after await");
    });
    clock.setTimer(20, () => seen.push("second"));
    await clock.runUntil(30);
    expect(seen).toEqual(["first", "after await", "second"]);
  });
});

describe("seeded market data", () => {
  it("is the same for the same seed and different for another", () => {
    const ticks = (seed: number) => {
      const feed = randomWalkFeed({ random: new Random(seed), startTicks: 20_000, start: 0, volatility: 3 });
      return Array.from({ length: 200 }, () => feed.next());
    };
    expect(JSON.stringify(ticks(1))).toBe(JSON.stringify(ticks(1)));
    expect(JSON.stringify(ticks(1))).not.toBe(JSON.stringify(ticks(2)));
    for (const s of ticks(5)) {
      expect(s!.asks[0]![0]).toBeGreaterThan(s!.bids[0]![0]);
      expect(s!.bids).toHaveLength(5);
    }
  });

  it("drifts the way it is told to", () => {
    const feed = randomWalkFeed({ random: new Random(1), startTicks: 10_000, start: 0, volatility: 1, drift: 2 });
    let last = 0;
    for (let i = 0; i < 1000; i++) last = feed.next()!.bids[0]![0];
    expect(last).toBeGreaterThan(11_500);
  });
});

describe("CSV replay", () => {
  const csv = [
    "datetime,last_price,volume,bid_price_1,bid_volume_1,ask_price_1,ask_volume_1,bid_price_2,bid_volume_2",
    "2025-01-02T01:30:00.000Z,4000.2,100,4000.0,3,4000.2,5,3999.8,7",
    "2025-01-02T01:30:00.500Z,4000.4,104,4000.2,2,4000.4,1,,",
    "1735781401000,4000.0,110,3999.8,4,4000.0,6,,",
  ].join("\n");

  it("parses VeighNa-style and camelCase headers", () => {
    const ticks = parseTickCsv(csv);
    expect(ticks).toHaveLength(3);
    expect(ticks[0]).toMatchObject({ datetime: Date.UTC(2025, 0, 2, 1, 30), lastPrice: 4000.2, bidPrices: [4000, 3999.8], askVolumes: [5] });
    expect(parseTickCsv("datetime,lastPrice,bidPrice1,bidVolume1\n0,1,1,2")[0]!.bidVolumes).toEqual([2]);
    expect(() => parseTickCsv("time,price\n1,2")).toThrow(RangeError);
    expect(() => parseTickCsv("datetime,last_price\nnot a date,1")).toThrow(/row 2/);
  });

  it("replays recorded ticks through the exchange, matching against their depth", async () => {
    const clock = new VirtualClock({ start: Date.UTC(2025, 0, 2, 1, 29) });
    const exchange = new SimExchange({
      clock,
      instruments: [{ symbol: "IF2512", exchange: "CFFEX", size: 300, pricetick: 0.2, feed: replayFeed(parseTickCsv(csv), 0.2) }],
    });
    const ee = new EventEngine();
    const events: Event[] = [];
    ee.registerGeneral((e) => events.push(e));
    const gw = new SimGateway({ exchange, eventEngine: ee });
    await gw.connect();
    await gw.subscribe({ symbol: "IF2512", exchange: "CFFEX" });
    clock.advanceTo(Date.UTC(2025, 0, 2, 1, 30));
    const id = await gw.sendOrder({ symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", price: 4000.4, volume: 3, offset: "OPEN" });
    clock.advance(10_000);
    const ticks = events.filter((e) => e.type === "eTick.IF2512.CFFEX").map((e) => e.data as TickData);
    // The last price is the last trade: on the third tick the market printed 4000.0, then the
    // resting buy filled at its own 4000.4. Volumes count the market's and the accounts' lots.
    expect(ticks.map((t) => t.lastPrice)).toEqual([4000.2, 4000.4, 4000.4]);
    expect(ticks.map((t) => t.lastVolume)).toEqual([0, 5, 8]);
    const orders = events.filter((e) => e.type === `eOrder.${id}`).map((e) => e.data as OrderData);
    // Second tick: 1 lot at 4000.4; third tick: the ask at 4000.0 crosses the resting rest, filled at its own 4000.4.
    expect(orders[orders.length - 1]).toMatchObject({ status: "ALLTRADED", traded: 3 });
    const prices = events.filter((e) => e.type.startsWith("eTrade.")).map((e) => (e.data as { price: number }).price);
    expect(prices).toEqual([4000.4, 4000.4]);
  });
});

describe("order book", () => {
  it("removes from the middle of a level in O(1) and keeps time priority", () => {
    const book = new OrderBook<string>();
    for (let i = 1; i <= 5; i++) book.add(i, i, -1, 100, 1, `o${i}`);
    book.remove(3);
    const fills: string[] = [];
    const r = book.take(1, 100, 10, 99, (m) => fills.push(m.data));
    expect(fills).toEqual(["o1", "o2", "o4", "o5"]);
    expect(r).toEqual({ filled: 4, selfTrade: false, capped: false });
    expect(book.size).toBe(0);
    expect(book.asks.prices).toEqual([]);
  });

  it("keeps levels sorted with the best last, and never takes beyond the limit", () => {
    const book = new OrderBook<null>();
    book.add(1, 1, 1, 99, 1, null);
    book.add(2, 1, 1, 101, 1, null);
    book.add(3, 1, 1, 100, 1, null);
    expect(book.bids.prices).toEqual([99, 100, 101]);
    const prices: number[] = [];
    book.take(-1, 100, 5, 2, (_m, _q, p) => prices.push(p));
    expect(prices).toEqual([101, 100]);
    expect(book.bids.depth(5)).toEqual([[99, 1]]);
  });

  it("fills what a maker can pay for, evicts it, and goes on to the next one", () => {
    const book = new OrderBook<string>();
    book.add(1, 1, -1, 100, 5, "poor");
    book.add(2, 2, -1, 100, 5, "rich");
    const fills: Array<[string, number]> = [];
    const evicted: string[] = [];
    const r = book.take(1, 100, 6, 9, (m, q) => fills.push([m.data, q]), undefined,
      (m, q) => (m.data === "poor" ? Math.min(q, 2) : q), (m) => evicted.push(m.data));
    expect(fills).toEqual([["poor", 2], ["rich", 4]]);
    expect(evicted).toEqual(["poor"]);
    expect(r).toEqual({ filled: 6, selfTrade: false, capped: false });
    expect(book.get(1)).toBeUndefined();
    expect(book.asks.depth(5)).toEqual([[100, 1]]);
  });

  it("rests entries its owner made and indexes: one object per resting order, no map of its own", () => {
    const book = new OrderBook<string>({ indexed: false });
    const entry = (id: number, remaining: number): BookEntry<string> =>
      ({ id, owner: id, side: -1, price: 100, remaining, data: `o${id}`, prev: null, next: null, level: null });
    const [a, b, c] = [entry(1, 2), entry(2, 3), entry(3, 4)];
    for (const e of [a, b, c]) book.rest(e);
    expect(() => book.rest(b)).toThrow(RangeError);
    expect(book.size).toBe(3);
    expect(book.unrest(b)).toBe(true);
    expect(book.unrest(b)).toBe(false);
    book.reduceEntry(c, 1);
    expect(book.asks.depth(5)).toEqual([[100, 5]]);
    const fills: Array<[string, number]> = [];
    book.take(1, 100, 3, 9, (m, q) => fills.push([m.data, q]));
    expect(fills).toEqual([["o1", 2], ["o3", 1]]);
    expect([a.level, c.remaining, book.size]).toEqual([null, 2, 1]);
    book.reduceEntry(c, 2);
    expect([c.level, book.size, book.asks.prices]).toEqual([null, 0, []]);
    expect(() => book.remove(1)).toThrow(TypeError);
  });
});

describe("bars", () => {
  it("keeps minute bars and aggregates them to hours for queryHistory", () => {
    const bars = new BarSeries("IF2512", "CFFEX", 100);
    const h = Date.UTC(2025, 0, 2, 2);
    bars.add(h + 10_000, 10, 1);
    bars.add(h + 50_000, 12, 2);
    bars.add(h + 61_000, 8, 3);
    bars.add(h + 3_600_000, 9, 4);
    const minutes = bars.query("MINUTE", 0, Infinity);
    expect(minutes.map((b) => [b.datetime - h, b.openPrice, b.highPrice, b.lowPrice, b.closePrice, b.volume])).toEqual([
      [0, 10, 12, 10, 12, 3], [60_000, 8, 8, 8, 8, 3], [3_600_000, 9, 9, 9, 9, 4],
    ]);
    const hours = bars.query("HOUR", h, h + 3_600_000);
    expect(hours).toHaveLength(1);
    expect(hours[0]).toMatchObject({ interval: "HOUR", openPrice: 10, highPrice: 12, lowPrice: 8, closePrice: 8, volume: 6 });
    expect(bars.query("TICK", 0, Infinity)).toEqual([]);
  });
});

describe("feed start", () => {
  const walkSpec = {
    symbol: "W1", exchange: "LOCAL" as const, size: 1, pricetick: 1, walk: { startPrice: 100, intervalMs: 500 },
  };
  const T = Date.UTC(2025, 0, 2, 1, 30);
  const make = () => {
    const clock = new VirtualClock({ start: T });
    const exchange = new SimExchange({ clock, instruments: [walkSpec, { ...walkSpec, symbol: "W2" }] });
    const ticks: Record<string, number[]> = { "W1.LOCAL": [], "W2.LOCAL": [] };
    // Each tick's time, as ms after the clock's start.
    for (const vt of Object.keys(ticks)) exchange.subscribeTicks(vt, (t) => ticks[vt]!.push(t.datetime - T));
    return { clock, exchange, ticks };
  };

  it("starts a random walk at start(), not at construction, with no burst of stale ticks", () => {
    const { clock, exchange, ticks } = make();
    clock.advance(600_000);
    exchange.start();
    clock.advance(1000);
    // One tick at start, then one every 500 ms, none of them old.
    expect(ticks["W1.LOCAL"]).toEqual([600_000, 600_500, 601_000]);
  });

  it("goes on from now after stop() and start()", () => {
    const { clock, exchange, ticks } = make();
    exchange.start();
    clock.advance(1000);
    exchange.stop();
    clock.advance(60_000);
    expect(ticks["W1.LOCAL"]).toEqual([0, 500, 1000]);
    exchange.start();
    clock.advance(1000);
    expect(ticks["W1.LOCAL"]!.slice(3)).toEqual([61_000, 61_500, 62_000]);
  });

  it("starts the other feeds later after start(vtSymbols) started some", () => {
    const { clock, exchange, ticks } = make();
    exchange.start(["W1.LOCAL"]);
    clock.advance(1000);
    expect(ticks["W2.LOCAL"]).toHaveLength(0);
    exchange.start();
    clock.advance(1000);
    expect(ticks["W1.LOCAL"]).toHaveLength(5);
    expect(ticks["W2.LOCAL"]).toEqual([1000, 1500, 2000]);
  });
});
