/** RpcService and RpcGateway end to end over the in-memory transport. */
import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer, withFaults } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import {
  EventEngine, RpcGateway, RpcService, SimExchange, SimGateway, VirtualClock,
  type Event, type LogData, type OrderData, type RpcServiceApi,
} from "../../sim/index.ts";
import { snapshot, T0, TEST_SPEC, VT } from "./helpers.ts";

const BOOK = { bids: [[99, 5]] as Array<[number, number]>, asks: [[100, 5]] as Array<[number, number]> };

/** Resolves with the first event on `engine` that `match` accepts (no sleeping). */
function nextEvent(engine: EventEngine, match: (e: Event) => boolean): Promise<Event> {
  return new Promise((resolve) => {
    const off = engine.registerGeneral((e) => {
      if (!match(e)) return;
      off();
      resolve(e);
    });
  });
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function serve(gatewayNames = ["SIM"]) {
  const clock = new VirtualClock({ start: T0 });
  const exchange = new SimExchange({ clock, instruments: [TEST_SPEC, { ...TEST_SPEC, symbol: "T2" }] });
  const serverEvents = new EventEngine();
  const gateways = gatewayNames.map((name) => new SimGateway({ exchange, eventEngine: serverEvents, gatewayName: name }));
  const hub = memoryHub();
  const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
  const service = new RpcService({ server, eventEngine: serverEvents, gateways });
  await service.start();
  for (const g of gateways) await g.connect();
  cleanup.push(() => service.stop());
  let time = T0;
  const market = (book: typeof BOOK, vtSymbol = VT) => {
    time += 1000;
    clock.advanceTo(time);
    exchange.applyMarket(vtSymbol, snapshot(time, book));
  };
  const client = () => {
    const c = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, timeoutMs: 5000 });
    cleanup.push(() => c.stop());
    return c;
  };
  return { clock, exchange, service, gateways, market, client };
}

async function connectGateway(s: Awaited<ReturnType<typeof serve>>, options: { name?: string; remote?: string } = {}) {
  const eventEngine = new EventEngine();
  const events: Event[] = [];
  eventEngine.registerGeneral((e) => events.push(e));
  const gw = new RpcGateway({
    client: s.client(), eventEngine, gatewayName: options.name ?? "RPC", now: () => s.clock.now(),
    ...(options.remote ? { remoteGateway: options.remote } : {}),
  });
  await gw.connect();
  cleanup.push(() => gw.close());
  return { gw, eventEngine, events };
}

describe("RpcService and RpcGateway over memory", () => {
  it("loads contracts, accounts, positions, orders and trades on connect, logging each step", async () => {
    const s = await serve();
    s.gateways[0]!.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" });
    s.market(BOOK);
    const { events } = await connectGateway(s);
    const logs = events.filter((e) => e.type === "eLog").map((e) => (e.data as LogData).msg);
    expect(logs).toEqual([
      "Server connected, loading initial data", "Contracts loaded", "Accounts loaded", "Positions loaded", "Orders loaded",
      "Trades loaded",
    ]);
    const types = events.map((e) => e.type);
    expect(types).toContain("eContract.T1.LOCAL");
    expect(types).toContain("eAccount.RPC.SIM");
    expect(types).toContain("ePosition.T1.LOCAL");
    expect(types).toContain("eOrder.RPC.1");
    const order = events.find((e) => e.type === "eOrder.RPC.1")!.data as OrderData;
    expect(order).toMatchObject({ gatewayName: "RPC", vtOrderId: "RPC.1", status: "ALLTRADED" });
    expect(events.find((e) => e.type.startsWith("eTrade."))!.data).toMatchObject({ vtTradeId: "RPC.1", vtOrderId: "RPC.1" });
  });

  it("sends an order whose id carries the gateway's own name and follows its fill in order", async () => {
    const s = await serve();
    const { gw, eventEngine, events } = await connectGateway(s);
    const from = events.length;
    const vtOrderId = await gw.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 2, price: 100, offset: "OPEN" });
    expect(vtOrderId).toMatch(/^RPC\.\d+$/);
    const filled = nextEvent(eventEngine, (e) => e.type === "eAccount.RPC.SIM" && (e.data as { margin: number }).margin > 0);
    s.market(BOOK);
    await filled;
    const kinds = events.slice(from).map((e) => e.type.split(".")[0]);
    expect(kinds.slice(-4)).toEqual(["eOrder", "eTrade", "ePosition", "eAccount"]);
    expect((events.filter((e) => e.type === `eOrder.${vtOrderId}`).pop()!.data as OrderData).status).toBe("ALLTRADED");
  });

  it("streams ticks only for subscribed symbols and answers the get functions", async () => {
    const s = await serve();
    const { gw, eventEngine, events } = await connectGateway(s);
    await gw.subscribe({ symbol: "T1", exchange: "LOCAL" });
    const tick = nextEvent(eventEngine, (e) => e.type === "eTick.T1.LOCAL");
    s.market(BOOK, "T2.LOCAL");
    s.market(BOOK);
    expect((await tick).data).toMatchObject({ gatewayName: "RPC", bidPrice1: 99, askPrice1: 100, vtSymbol: VT });
    expect(events.some((e) => e.type === "eTick.T2.LOCAL")).toBe(false);

    const c = s.client();
    await c.start();
    const remote = c.proxy<RpcServiceApi>();
    expect((await remote.getTick(VT))?.lastPrice).toBe(99);
    expect(await remote.getContract("NOPE.LOCAL")).toBeNull();
    expect((await remote.getAllContracts()).map((x) => x.vtSymbol).sort()).toEqual(["T1.LOCAL", "T2.LOCAL"]);
    const id = await remote.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 90, offset: "OPEN" }, "SIM");
    expect(id).toMatch(/^SIM\.\d+$/);
    expect((await remote.getAllActiveOrders(VT)).map((o) => o.vtOrderId)).toEqual([id]);
    expect(await remote.getAllActiveOrders("T2.LOCAL")).toEqual([]);
    expect((await remote.getOrder(id))?.status).toBe("SUBMITTING");
    expect((await remote.getAccount("SIM.SIM"))?.frozen).toBe(90);
    const orderid = id.split(".")[1]!;
    expect(await remote.cancelOrder({ orderid, symbol: "T1", exchange: "LOCAL" })).toEqual({ accepted: true, reason: "" });
    const again = await remote.cancelOrder({ orderid, symbol: "T1", exchange: "LOCAL" });
    expect(again.accepted).toBe(false);
    expect(again.reason).toMatch(/already final/);
    expect(Array.isArray(await remote.queryHistory({ symbol: "T1", exchange: "LOCAL", start: 0 }))).toBe(true);
  });

  it("hears a tick published right after the service subscribed, before its answer arrives", async () => {
    const s = await serve();
    const { gw, eventEngine } = await connectGateway(s);
    // The client sees the answer only once the tick the service published after subscribing has
    // reached it: the gateway must already be listening by then.
    const call = gw.client.call.bind(gw.client);
    const raw = s.client();
    await raw.start();
    gw.client.call = (async (fn: string, ...rest: unknown[]) => {
      const answer = await (call as (fn: string, ...rest: unknown[]) => Promise<unknown>)(fn, ...rest);
      if (fn === "subscribe") {
        const arrived = new Promise<void>((resolve) => {
          const off = raw.subscribe(`eTick.${VT}`, () => {
            off();
            resolve();
          });
        });
        await raw.synced();
        s.market(BOOK);
        await arrived;
      }
      return answer;
    }) as typeof gw.client.call;
    const tick = nextEvent(eventEngine, (e) => e.type === `eTick.${VT}`);
    await gw.subscribe({ symbol: "T1", exchange: "LOCAL" });
    s.market({ bids: [[98, 5]], asks: [[100, 5]] });
    expect((await tick).data).toMatchObject({ vtSymbol: VT, bidPrice1: 99 });
  });

  it("takes its listener back when the service refuses a subscription", async () => {
    const s = await serve();
    const { gw, eventEngine, events } = await connectGateway(s);
    const call = gw.client.call.bind(gw.client);
    gw.client.call = (async (fn: string, ...rest: unknown[]) => {
      if (fn === "subscribe") throw new RpcError("UNAVAILABLE", "refused");
      return (call as (fn: string, ...rest: unknown[]) => Promise<unknown>)(fn, ...rest);
    }) as typeof gw.client.call;
    await expect(gw.subscribe({ symbol: "T1", exchange: "LOCAL" })).rejects.toThrow(/refused/);
    gw.client.call = call;
    // Another client has the service publish T1's ticks: the refused gateway must not take them.
    const raw = s.client();
    await raw.start();
    const arrived = new Promise<void>((resolve) => {
      const off = raw.subscribe(`eTick.${VT}`, () => {
        off();
        resolve();
      });
    });
    await raw.call("subscribe", [{ symbol: "T1", exchange: "LOCAL" }, "SIM"]);
    await raw.synced();
    s.market(BOOK);
    await arrived;
    expect(events.some((e) => e.type === `eTick.${VT}`)).toBe(false);
    // Asked again and granted, it listens.
    await gw.subscribe({ symbol: "T1", exchange: "LOCAL" });
    const tick = nextEvent(eventEngine, (e) => e.type === `eTick.${VT}`);
    s.market(BOOK);
    expect((await tick).data).toMatchObject({ vtSymbol: VT });
  });

  it("answers bad requests with INVALID_ARGUMENT or a rejected order, never a crash", async () => {
    const s = await serve();
    const c = s.client();
    await c.start();
    const code = (p: Promise<unknown>) => p.then(() => "resolved", (e: unknown) => (e instanceof RpcError ? e.code : String(e)));
    const good = { symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" };
    expect(await code(c.call("sendOrder", [{ symbol: "T1" }]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("sendOrder", [{ ...good, price: Number.NaN }]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("sendOrder", [{ ...good, exchange: "MARS" }]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("sendOrder", [{ ...good, direction: "多" }]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("sendOrder", [good, "NOPE"]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("sendOrder", ["not an object"]))).toBe("INVALID_ARGUMENT");
    expect(await code(c.call("getOrder", [42]))).toBe("INVALID_ARGUMENT");
    const negative = await c.call<string>("sendOrder", [{ ...good, volume: -3 }]);
    const order = await c.call<OrderData>("getOrder", [negative]);
    expect(order).toMatchObject({ status: "REJECTED" });
    expect(order.statusMsg).toMatch(/Volume must be positive/);
    const offTick = await c.call<string>("sendOrder", [{ ...good, price: 100.5 }]);
    expect((await c.call<OrderData>("getOrder", [offTick])).statusMsg).toMatch(/price tick/);
    // The service still works.
    expect((await c.call<unknown[]>("getAllContracts")).length).toBe(2);
  });

  it("routes by gateway name, and a gateway following one remote account sees only its events", async () => {
    const s = await serve(["ALICE", "BOB"]);
    const alice = await connectGateway(s, { name: "A", remote: "ALICE" });
    const bob = await connectGateway(s, { name: "B", remote: "BOB" });
    const req = { symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" } as const;
    const id = await alice.gw.sendOrder(req);
    expect(id).toMatch(/^A\.\d+$/);
    const sell = await bob.gw.sendOrder({ ...req, direction: "SHORT", price: 100 });
    expect(sell).toMatch(/^B\.\d+$/);
    const aliceFilled = nextEvent(alice.eventEngine, (e) => e.type.startsWith("eTrade."));
    const bobFilled = nextEvent(bob.eventEngine, (e) => e.type.startsWith("eTrade."));
    s.market({ bids: [[90, 5]], asks: [[110, 5]] });
    // Both orders meet the same market event in arrival order: Alice's buy rests, Bob's sell takes it.
    const [ta, tb] = await Promise.all([aliceFilled, bobFilled]);
    expect(ta.data).toMatchObject({ gatewayName: "A", price: 100, direction: "LONG" });
    expect(tb.data).toMatchObject({ gatewayName: "B", price: 100, direction: "SHORT" });
    expect(alice.events.some((e) => e.type.startsWith("eOrder.") && (e.data as OrderData).direction === "SHORT")).toBe(false);
  });

  it("loads everything again after a lost link, so it ends up with what it missed", async () => {
    const clock = new VirtualClock({ start: T0 });
    const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
    const serverEvents = new EventEngine();
    const sim = new SimGateway({ exchange, eventEngine: serverEvents });
    const hub = memoryHub();
    const service = new RpcService({ server: new RpcServer({ transport: hub.server, heartbeatMs: 20 }), eventEngine: serverEvents, gateways: [sim] });
    await service.start();
    cleanup.push(() => service.stop());
    await sim.connect();
    const link = withFaults(hub.client());
    const client = new RpcClient({ transport: link, heartbeatToleranceMs: 100 });
    cleanup.push(() => client.stop());
    const eventEngine = new EventEngine();
    const events: Event[] = [];
    eventEngine.registerGeneral((e) => events.push(e));
    const gw = new RpcGateway({ client, eventEngine });
    await gw.connect();
    const id = await gw.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" });

    const down = new Promise<void>((resolve) => client.on("disconnected", () => resolve()));
    link.faults.cut();
    await down;
    // The fill happens while the link is down: its broadcasts are lost.
    exchange.applyMarket(VT, snapshot(T0 + 1000, BOOK));
    const reloaded = nextEvent(eventEngine, (e) => e.type === "eLog" && (e.data as LogData).msg === "Trades loaded");
    link.faults.restore();
    await reloaded;
    const latest = events.filter((e) => e.type === `eOrder.${id}`).pop()!.data as OrderData;
    expect(latest.status).toBe("ALLTRADED");
    expect(events.some((e) => e.type.startsWith("eTrade.") && (e.data as { vtOrderId: string }).vtOrderId === id)).toBe(true);
    const logs = events.filter((e) => e.type === "eLog").map((e) => (e.data as LogData).msg);
    const after = logs.slice(logs.findIndex((m) => m.startsWith("Server disconnected")));
    expect(after).toEqual([
      expect.stringMatching(/^Server disconnected/), "Contracts loaded", "Accounts loaded", "Positions loaded", "Orders loaded",
      "Trades loaded",
    ]);
    // Account and position came back too, with the fill in them.
    const account = events.filter((e) => e.type.startsWith("eAccount.")).pop()!.data as { margin: number };
    expect(account.margin).toBeGreaterThan(0);
    expect(events.filter((e) => e.type.startsWith("ePosition.")).pop()!.data).toMatchObject({ volume: 1, direction: "LONG" });
  });

  it("refuses to guess the account: a shared symbol needs the gateway named, and RpcGateway needs remoteGateway", async () => {
    const s = await serve(["ALICE", "BOB"]);
    const c = s.client();
    await c.start();
    const req = { symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" };
    const failure = await c.call("sendOrder", [req]).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(RpcError);
    expect((failure as RpcError).code).toBe("INVALID_ARGUMENT");
    expect((failure as RpcError).message).toMatch(/Gateway name is required: T1.LOCAL is traded through ALICE, BOB/);
    expect(await c.call<string>("sendOrder", [req, "BOB"])).toMatch(/^BOB\.\d+$/);

    const gw = new RpcGateway({ client: s.client(), eventEngine: new EventEngine() });
    await expect(gw.connect()).rejects.toThrow(/remoteGateway is required: the server has several accounts \(ALICE, BOB\)/);
  });

  it("delivers each tick once when several accounts subscribed to the symbol", async () => {
    const s = await serve(["ALICE", "BOB"]);
    const alice = await connectGateway(s, { name: "A", remote: "ALICE" });
    const bob = await connectGateway(s, { name: "B", remote: "BOB" });
    await alice.gw.subscribe({ symbol: "T1", exchange: "LOCAL" });
    await bob.gw.subscribe({ symbol: "T1", exchange: "LOCAL" });
    const c = s.client();
    const raw: Array<{ askPrice1: number }> = [];
    let rawSecond!: () => void;
    const rawDone = new Promise<void>((resolve) => (rawSecond = resolve));
    c.subscribe("eTick.T1.LOCAL", (_t, data) => {
      raw.push(data as { askPrice1: number });
      if (raw[raw.length - 1]!.askPrice1 === 101) rawSecond();
    });
    await c.start();
    const ticks = (g: typeof alice) => g.events.filter((e) => e.type === "eTick.T1.LOCAL");
    const bothHaveIt = Promise.all([
      nextEvent(alice.eventEngine, (e) => e.type === "eTick.T1.LOCAL"),
      nextEvent(bob.eventEngine, (e) => e.type === "eTick.T1.LOCAL"),
    ]);
    s.market(BOOK);
    await bothHaveIt;
    // A market event after it: once it arrives, anything duplicated from the first would have too.
    const second = (g: typeof alice) => nextEvent(g.eventEngine, (e) => e.type === "eTick.T1.LOCAL" && (e.data as { askPrice1: number }).askPrice1 === 101);
    const next = Promise.all([second(alice), second(bob), rawDone]);
    s.market({ bids: [[100, 5]], asks: [[101, 5]] });
    await next;
    expect(ticks(alice)).toHaveLength(2);
    expect(ticks(bob)).toHaveLength(2);
    expect(ticks(alice)[0]!.data).toMatchObject({ gatewayName: "A", bidPrice1: 99 });
    // On the wire too: one tick per market event, not one per subscribed account.
    expect(raw.map((t) => t.askPrice1)).toEqual([100, 101]);
  });

  it("keeps the local order id when the remote gateway name has dots", async () => {
    const s = await serve(["SIM.1"]);
    const { gw, eventEngine, events } = await connectGateway(s, { remote: "SIM.1" });
    const id = await gw.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 100, offset: "OPEN" });
    expect(id).toMatch(/^RPC\.\d+$/);
    const filled = nextEvent(eventEngine, (e) => e.type === `eOrder.${id}` && (e.data as OrderData).status === "ALLTRADED");
    s.market(BOOK);
    await filled;
    expect(events.filter((e) => e.type.startsWith("eOrder.")).every((e) => (e.data as OrderData).vtOrderId === id)).toBe(true);
    // Without remoteGateway too (one account: the name comes from the loaded accounts).
    const plain = await connectGateway(s, { name: "P" });
    const other = await plain.gw.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 90, offset: "OPEN" });
    expect(other).toMatch(/^P\.\d+$/);
    await plain.gw.cancelOrder({ orderid: other.slice(2), symbol: "T1", exchange: "LOCAL" });
    expect(s.exchange.ordersData(s.gateways[0]!.account).find((o) => o.orderid === other.slice(2))?.status).toBe("CANCELLED");
  });

  it("follows exactly its remote account's orders, not those of a longer name with the same start", async () => {
    const s = await serve(["SIM", "SIM.X"]);
    const mine = await connectGateway(s, { remote: "SIM" });
    const req = { symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 90, offset: "OPEN" } as const;
    s.gateways[1]!.sendOrderNow(req);
    const own = nextEvent(mine.eventEngine, (e) => e.type.startsWith("eOrder."));
    s.gateways[0]!.sendOrderNow(req);
    await own;
    expect(mine.events.filter((e) => e.type.startsWith("eOrder.")).map((e) => (e.data as OrderData).orderid)).toEqual(["2"]);
  });

  it("keeps copies in the OMS, so a handler changing the event's object changes nothing served", async () => {
    const s = await serve();
    s.service.eventEngine.register<OrderData>("eOrder.", (e) => {
      e.data.status = "CANCELLED";
    });
    const id = s.gateways[0]!.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 90, offset: "OPEN" });
    expect(s.service.oms.getOrder(id)?.status).toBe("SUBMITTING");
  });
});
