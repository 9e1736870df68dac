import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import {
  createDemoExchange, EventEngine, RpcGateway, serveDemoExchange, VirtualClock,
  type Event, type TickData,
} from "../../sim/index.ts";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe("demo exchange", () => {
  it("ticks IF2512, rb2601 and BTCUSDT on the given clock, with a bot trading among them", async () => {
    const clock = new VirtualClock();
    const demo = createDemoExchange({ seed: 3, clock, bots: 2, botIntervalMs: 200 });
    stops.push(() => demo.close());
    const events: Event[] = [];
    demo.eventEngine.registerGeneral((e) => events.push(e));
    await demo.start();
    const sim = demo.gateways[0]!;
    for (const c of demo.exchange.contracts()) await sim.subscribe({ symbol: c.symbol, exchange: c.exchange });
    clock.advance(60_000);
    const symbols = new Set(events.filter((e) => e.type.startsWith("eTick.")).map((e) => (e.data as TickData).vtSymbol));
    expect([...symbols].sort()).toEqual(["BTCUSDT.GLOBAL", "IF2512.CFFEX", "rb2601.SHFE"]);
    // The bots trade on the same exchange: their orders are in the book and some have filled.
    for (const bot of ["BOT1", "BOT2"]) {
      const orders = demo.exchange.ordersData(demo.exchange.openAccount(bot));
      expect(orders.length).toBeGreaterThan(100);
      expect(orders.some((o) => o.status === "ALLTRADED" || o.status === "PARTTRADED")).toBe(true);
    }
    const bars = await sim.queryHistory({ symbol: "IF2512", exchange: "CFFEX", start: 0 });
    expect(bars.length).toBeGreaterThanOrEqual(1);
    expect(bars[0]).toMatchObject({ gatewayName: "SIM", interval: "MINUTE", vtSymbol: "IF2512.CFFEX" });
  });

  it("keeps its bots trading through 36 simulated hours: they close and cap their positions", async () => {
    const clock = new VirtualClock();
    const demo = createDemoExchange({ seed: 1, clock, bots: 1 });
    stops.push(() => demo.close());
    await demo.start();
    const bot = demo.exchange.openAccount("BOT1");
    const t0 = clock.now();
    let seen = 0;
    for (let hour = 6; hour <= 36; hour += 6) {
      clock.advanceTo(t0 + hour * 3_600_000);
      const orders = demo.exchange.ordersData(bot);
      const recent = orders.slice(-200);
      expect(recent.length, `hour ${hour}`).toBe(200);
      expect(recent.filter((o) => o.status === "REJECTED").map((o) => o.statusMsg), `hour ${hour}`).toEqual([]);
      expect(recent.some((o) => o.status === "ALLTRADED" || o.status === "PARTTRADED"), `hour ${hour}`).toBe(true);
      for (const p of demo.exchange.positionsData(bot)) {
        const c = demo.exchange.contract(p.vtSymbol)!;
        expect(Math.abs(p.volume) / c.minVolume, p.vtPositionId).toBeLessThanOrEqual(10 + 1e-9);
      }
      expect(demo.exchange.accountData(bot).available).toBeGreaterThan(0);
      seen += recent.length;
    }
    expect(seen).toBe(1200);
  }, 60_000);

  it("is the same market for the same seed", async () => {
    const run = async (seed: number) => {
      const clock = new VirtualClock();
      const demo = createDemoExchange({ seed, clock });
      await demo.start();
      clock.advance(30_000);
      const tick = demo.exchange.lastTick("rb2601.SHFE");
      await demo.close();
      return JSON.stringify(tick);
    };
    expect(await run(9)).toBe(await run(9));
    expect(await run(9)).not.toBe(await run(10));
  });

  it("serves the exchange in real time over an RpcServer", async () => {
    const hub = memoryHub();
    const served = await serveDemoExchange(new RpcServer({ transport: hub.server, heartbeatMs: 0 }), { bots: 0 });
    stops.push(served.stop);
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0 });
    stops.push(() => client.stop());
    const eventEngine = new EventEngine();
    const gateway = new RpcGateway({ client, eventEngine });
    await gateway.connect();
    const tick = new Promise<TickData>((resolve) => eventEngine.register<TickData>("eTick.", (e) => resolve(e.data)));
    await gateway.subscribe({ symbol: "BTCUSDT", exchange: "GLOBAL" });
    const t = await tick;
    expect(t).toMatchObject({ gatewayName: "RPC", vtSymbol: "BTCUSDT.GLOBAL" });
    expect(t.askPrice1).toBeGreaterThan(t.bidPrice1);
  });
});
