import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import {
  Backtest, BarGenerator, EventEngine, MaCrossStrategy, RpcGateway, RpcService, SimExchange, SimGateway, StrategyContext,
  VirtualClock, type BarData, type Strategy, type TickData, type TradeData,
} from "../../sim/index.ts";
import { snapshot, T0, TEST_SPEC, VT } from "./helpers.ts";

const HOUR = 3_600_000;

function impliedPnl(trades: TradeData[], mark: number, size: number): number {
  let pnl = 0;
  for (const t of trades) pnl += (t.direction === "LONG" ? 1 : -1) * (mark - t.price) * t.volume * size - t.commission;
  return pnl;
}

describe("strategy harness", () => {
  it("runs a moving-average crossover on the virtual clock; its PnL is what its trades imply", async () => {
    const bt = new Backtest({ seed: 7 });
    const result = await bt.run(new MaCrossStrategy({ fast: 5, slow: 20, slip: 0.4 }), { vtSymbol: "IF2512.CFFEX", durationMs: 6 * HOUR });
    expect(result.ticks).toBeGreaterThan(40_000);
    expect(result.trades.length).toBeGreaterThan(3);
    expect(Math.abs(result.pos)).toBeLessThanOrEqual(1);
    const mark = bt.exchange.lastPrice("IF2512.CFFEX");
    expect(result.pnl).toBeCloseTo(impliedPnl(result.trades, mark, 300), 1);
    expect(result.account.balance).toBeCloseTo(1_000_000 + result.pnl, 1);
  });

  it("gives the same trades and PnL for the same seed, and others for another", async () => {
    const run = (seed: number) =>
      new Backtest({ seed }).run(new MaCrossStrategy(), { vtSymbol: "rb2601.SHFE", durationMs: 3 * HOUR });
    const [a, b, c] = await Promise.all([run(3), run(3), run(4)]);
    expect(JSON.stringify(a.trades)).toBe(JSON.stringify(b.trades));
    expect(a.pnl).toBe(b.pnl);
    expect(JSON.stringify(a.trades)).not.toBe(JSON.stringify(c.trades));
  });

  it("trades a net-position crypto pair in fractional volumes", async () => {
    const bt = new Backtest({ seed: 11 });
    const result = await bt.run(new MaCrossStrategy({ volume: 0.05 }), { vtSymbol: "BTCUSDT.GLOBAL", durationMs: 3 * HOUR });
    expect(result.trades.length).toBeGreaterThan(0);
    for (const t of result.trades) expect(t.offset).toBe("NONE");
    expect([0, 0.05, -0.05]).toContain(Math.round(result.pos * 1000) / 1000);
    const mark = bt.exchange.lastPrice("BTCUSDT.GLOBAL");
    expect(result.pnl).toBeCloseTo(impliedPnl(result.trades, mark, 1), 1);
  });

  it("surfaces a strategy's exception to the test instead of swallowing it", async () => {
    const bt = new Backtest({ seed: 1 });
    let ticks = 0;
    const buggy: Strategy = {
      onTick() {
        if (++ticks === 3) throw new Error("bug in onTick");
      },
    };
    await expect(bt.run(buggy, { vtSymbol: "IF2512.CFFEX", durationMs: 60_000 })).rejects.toThrow("bug in onTick");
  });

  it("builds one-minute bars from ticks", () => {
    const bars: BarData[] = [];
    const gen = new BarGenerator((b) => bars.push(b));
    const tick = (t: number, price: number, volume: number) => ({ datetime: t, lastPrice: price, volume, vtSymbol: VT }) as TickData;
    gen.updateTick(tick(T0, 10, 100));
    gen.updateTick(tick(T0 + 20_000, 12, 103));
    gen.updateTick(tick(T0 + 40_000, 9, 104));
    expect(bars).toEqual([]);
    gen.updateTick(tick(T0 + 60_000, 11, 110));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatchObject({ datetime: T0, openPrice: 10, highPrice: 12, lowPrice: 9, closePrice: 9, volume: 4 });
  });
});

describe("strategy context history", () => {
  it("keeps at most maxHistory final orders and trades, and pos from all of them", async () => {
    const clock = new VirtualClock({ start: T0 });
    const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
    const gateway = new SimGateway({ exchange, eventEngine: new EventEngine() });
    await gateway.connect();
    const ctx = new StrategyContext(gateway, VT, { maxHistory: 3 });
    await ctx.start({});
    const book = { bids: [[99, 50]] as Array<[number, number]>, asks: [[100, 50]] as Array<[number, number]> };
    for (let i = 1; i <= 8; i++) {
      await ctx.buy(100, 1);
      clock.advanceTo(T0 + i * 1000);
      exchange.applyMarket(VT, snapshot(T0 + i * 1000, book));
    }
    const resting = await ctx.buy(90, 1);
    expect(ctx.pos).toBe(8);
    expect(ctx.trades.map((t) => t.orderid)).toEqual(["6", "7", "8"]);
    expect([...ctx.orders.keys()]).toEqual(["SIM.7", "SIM.8", resting]);
    expect(() => new StrategyContext(gateway, VT, { maxHistory: 0 })).toThrow(RangeError);
  });
});

describe("the same strategy over RpcGateway", () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  it("runs unchanged against a served simulator", async () => {
    const clock = new VirtualClock({ start: T0 });
    const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
    const serverEvents = new EventEngine();
    const sim = new SimGateway({ exchange, eventEngine: serverEvents });
    const hub = memoryHub();
    const service = new RpcService({ server: new RpcServer({ transport: hub.server, heartbeatMs: 0 }), eventEngine: serverEvents, gateways: [sim] });
    await service.start();
    stops.push(() => service.stop());
    await sim.connect();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0 });
    stops.push(() => client.stop());
    const gateway = new RpcGateway({ client, eventEngine: new EventEngine() });
    await gateway.connect();

    let traded!: (t: TradeData) => void;
    const done = new Promise<TradeData>((resolve) => (traded = resolve));
    const buyOnce: Strategy = {
      onTick(tick, ctx) {
        if (ctx.pos === 0 && ctx.activeOrders().length === 0 && ctx.orders.size === 0) void ctx.buy(tick.askPrice1, 2);
      },
      onTrade(trade, ctx) {
        if (ctx.pos === 2) traded(trade);
      },
    };
    const ctx = new StrategyContext(gateway, VT);
    await ctx.start(buyOnce);
    const book = { bids: [[99, 5]] as Array<[number, number]>, asks: [[100, 5]] as Array<[number, number]> };
    // Market events on the server until the strategy has its fill (each is awaited over the wire).
    let t = T0;
    let filled: TradeData | undefined;
    void done.then((x) => (filled = x));
    for (let i = 0; i < 20 && !filled; i++) {
      t += 1000;
      clock.advanceTo(t);
      exchange.applyMarket(VT, snapshot(t, book));
      await new Promise((r) => setTimeout(r, 0));
    }
    const trade = await done;
    expect(trade).toMatchObject({ gatewayName: "RPC", price: 100, volume: 2, direction: "LONG" });
    expect(ctx.pos).toBe(2);
    expect([...ctx.orders.keys()].every((id) => id.startsWith("RPC."))).toBe(true);
  });
});

describe("awaiting strategies on the virtual clock", () => {
  it("continue after an await before the next tick, whether they await the gateway or anything else", async () => {
    const bt = new Backtest({ seed: 2 });
    const log: string[] = [];
    let n = 0;
    const awaiting: Strategy = {
      async onTick(tick, ctx) {
        const k = ++n;
        if (k > 6) return;
        log.push(`tick ${k}`);
        if (k === 2) {
          const id = await ctx.buy(tick.askPrice1, 1);
          log.push(`sent ${k} ${ctx.orders.has(id)}`);
        }
        if (k === 4) {
          await Promise.resolve();
          await Promise.resolve();
          log.push(`after ${k}`);
        }
      },
    };
    await bt.run(awaiting, { vtSymbol: "IF2512.CFFEX", durationMs: 10_000 });
    expect(log).toEqual(["tick 1", "tick 2", "sent 2 true", "tick 3", "tick 4", "after 4", "tick 5", "tick 6"]);
  });
});
