/**
 * tradewire's RpcClient and RpcGateway against VeighNa's unchanged RpcServer (Python, serving
 * VeighNa objects as RpcEngine does) through the `vnpy` client transport: names and enums mapped,
 * events once each in tradewire's topics, tracebacks as error codes.
 */
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcError } from "../../lib/index.ts";
import { vnpyClient } from "../../transports/vnpy/index.ts";
import { EventEngine, RpcGateway, type OrderData, type TradeData } from "../../sim/index.ts";
import { FIXTURES, freePort, noVnpy, removeTempDirs, startPython, stopChildren } from "./helpers.ts";

const clients = new Set<RpcClient>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.stop()));
  clients.clear();
  await stopChildren();
});
afterAll(() => removeTempDirs());

async function vnpyServer(): Promise<{ req: string; sub: string }> {
  const req = `tcp://127.0.0.1:${await freePort()}`;
  const sub = `tcp://127.0.0.1:${await freePort()}`;
  await startPython(join(FIXTURES, "vnpy_server.py"), [req, sub]).line(/^ready$/);
  return { req, sub };
}

function client(address: { req: string; sub: string }): RpcClient {
  const c = new RpcClient({ transport: vnpyClient(address), timeoutMs: 10_000, logger: { warn: () => {}, error: () => {} } });
  clients.add(c);
  return c;
}

function next<T>(c: RpcClient, prefix: string, test: (data: T, topic: string) => boolean): Promise<{ topic: string; data: T }> {
  return new Promise((resolve) => {
    const off = c.subscribe(prefix, (topic, data) => {
      if (!test(data as T, topic)) return;
      off();
      resolve({ topic, data: data as T });
    });
  });
}

describe.skipIf(noVnpy)(`our client against VeighNa's RpcServer${noVnpy ? ` (skipped: ${noVnpy})` : ""}`, () => {
  it("calls with tradewire's names and gets tradewire's objects", async () => {
    const c = client(await vnpyServer());
    await c.start();
    const contracts = await c.call<Array<Record<string, unknown>>>("getAllContracts");
    expect(contracts).toEqual(expect.arrayContaining([
      expect.objectContaining({ symbol: "IF2512", exchange: "CFFEX", product: "FUTURES", pricetick: 0.2, minVolume: 1, vtSymbol: "IF2512.CFFEX", gatewayName: "CTP" }),
      expect.objectContaining({ exchange: "EUREX", vtSymbol: "FDAX.EUREX" }),
    ]));
    expect(await c.call("getAllPositions")).toEqual([expect.objectContaining({ direction: "LONG", vtPositionId: "CTP.IF2512.CFFEX.LONG" })]);
    expect(await c.call("getAllAccounts")).toEqual([expect.objectContaining({ available: 1_000_000, vtAccountId: "CTP.A1" })]);
    const start = Date.UTC(2025, 0, 2, 1, 30);
    const bars = await c.call<Array<{ datetime: number; interval: string }>>("queryHistory", [{ symbol: "IF2512", exchange: "CFFEX", start, interval: "HOUR" }, "CTP"]);
    expect(bars.map((b) => [b.datetime - start, b.interval])).toEqual([[0, "HOUR"], [60_000, "HOUR"], [120_000, "HOUR"]]);
    expect(await c.call("getTick", ["NOPE.CFFEX"])).toBeNull();
    await expect(c.call("noSuchThing")).rejects.toMatchObject({ code: "NOT_FOUND" });
    const failure = await c.call("fail").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RpcError);
    expect(failure).toMatchObject({ code: "INTERNAL" });
    expect((failure as RpcError).message).toMatch(/^ValueError: something broke\nTraceback/);
  }, 30_000);

  it("sends an order and receives its order and trade events once each, on tradewire's topics", async () => {
    const c = client(await vnpyServer());
    const orderTopics: string[] = [];
    c.subscribe("eOrder.", (topic) => orderTopics.push(topic));
    // "connected": both links up, so the publisher knows our subscription before the order goes.
    const connected = new Promise<void>((resolve) => c.on("connected", () => resolve()));
    await c.start();
    await connected;
    const traded = next<TradeData>(c, "eTrade.", () => true);
    const filled = next<OrderData>(c, "eOrder.", (o) => o.status === "ALLTRADED");
    const vtOrderId = await c.call<string>("sendOrder", [{ symbol: "IF2512", exchange: "CFFEX", direction: "SHORT", type: "LIMIT", volume: 2, price: 4000, offset: "OPEN" }, "CTP"]);
    expect(vtOrderId).toBe("CTP.1");
    const trade = await traded;
    expect(trade.topic).toBe("eTrade.IF2512.CFFEX");
    expect(trade.data).toMatchObject({ direction: "SHORT", offset: "OPEN", volume: 2, price: 4000, vtOrderId: "CTP.1", vtTradeId: "CTP.2" });
    expect(typeof trade.data.datetime).toBe("number");
    expect((await filled).topic).toBe("eOrder.CTP.1");
    // NOTTRADED then ALLTRADED: VeighNa's general copies (`eOrder.`) are not delivered twice.
    expect(orderTopics).toEqual(["eOrder.CTP.1", "eOrder.CTP.1"]);
  }, 30_000);

  it("serves tradewire's RpcGateway: loads, subscribes, trades and cancels", async () => {
    const c = client(await vnpyServer());
    const eventEngine = new EventEngine();
    const logs: string[] = [];
    eventEngine.register<{ msg: string }>("eLog", (e) => logs.push(e.data.msg));
    const gateway = new RpcGateway({ client: c, eventEngine });
    const contract = new Promise<unknown>((resolve) => eventEngine.register("eContract.IF2512.CFFEX", (e) => resolve(e.data)));
    const tick = new Promise<unknown>((resolve) => eventEngine.register("eTick.IF2512.CFFEX", (e) => resolve(e.data)));
    await gateway.connect();
    expect(await contract).toMatchObject({ gatewayName: "RPC", pricetick: 0.2 });
    await gateway.subscribe({ symbol: "IF2512", exchange: "CFFEX" });
    expect(await tick).toMatchObject({ gatewayName: "RPC", askPrice1: 4000 });
    const trade = new Promise<TradeData>((resolve) => eventEngine.register<TradeData>("eTrade.", (e) => resolve(e.data)));
    const vtOrderId = await gateway.sendOrder({ symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, price: 4000.2, offset: "OPEN" });
    expect(vtOrderId).toMatch(/^RPC\./);
    expect(await trade).toMatchObject({ gatewayName: "RPC", vtOrderId, volume: 1 });
    const resting = await gateway.sendOrder({ symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, price: 3900, offset: "OPEN" });
    const cancelled = new Promise<OrderData>((resolve) => eventEngine.register<OrderData>("eOrder.", (e) => {
      if (e.data.vtOrderId === resting && e.data.status === "CANCELLED") resolve(e.data);
    }));
    await gateway.cancelOrder({ orderid: resting.split(".")[1]!, symbol: "IF2512", exchange: "CFFEX" });
    expect((await cancelled).status).toBe("CANCELLED");
    await gateway.close();
    expect(logs.length).toBeGreaterThan(0);
  }, 30_000);
});
