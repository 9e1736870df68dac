/**
 * No event lost silently, end to end: whatever a lossy link and server restarts do, once the link
 * is healthy again the RpcGateway's orders, trades, positions and account are the server's.
 */
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { RpcClient, RpcServer, withFaults } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { EventEngine, OmsEngine, RpcGateway, RpcService, SimExchange, SimGateway, VirtualClock, type LogData } from "../../sim/index.ts";
import { snapshot, T0, TEST_SPEC } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const HEARTBEAT_MS = 20;
const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A seeded source of randomness for the link's losses. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

type Action =
  | { kind: "order"; direction: "LONG" | "SHORT"; price: number; volume: number }
  | { kind: "cancel"; index: number }
  | { kind: "market"; bid: number; ask: number }
  | { kind: "loss"; rate: number }
  | { kind: "restart" }
  | { kind: "wait"; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("order" as const), direction: fc.constantFrom("LONG" as const, "SHORT" as const), price: fc.integer({ min: 95, max: 105 }), volume: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cancel" as const), index: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("market" as const), bid: fc.integer({ min: 94, max: 104 }), ask: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("loss" as const), rate: fc.constantFrom(0, 0.2, 0.5, 0.9, 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3 * HEARTBEAT_MS }) }) },
);

async function deployment(seed: number) {
  const clock = new VirtualClock({ start: T0 });
  const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
  const serverEvents = new EventEngine();
  const gateway = new SimGateway({ exchange, eventEngine: serverEvents, gatewayName: "SIM", balance: 1_000_000 });
  const hub = memoryHub();
  const service = new RpcService({ server: new RpcServer({ transport: hub.server, heartbeatMs: HEARTBEAT_MS, logger: quiet }), eventEngine: serverEvents, gateways: [gateway] });
  await service.start();
  await gateway.connect();
  cleanups.push(() => service.stop());

  const link = withFaults(hub.client(), { random: seeded(seed) });
  // Tolerance within the beats that name a stream after its last event (ANNOUNCED_BEATS), so
  // missing them all means a disconnect, which reloads too.
  const client = new RpcClient({ transport: link, logger: quiet, heartbeatToleranceMs: 3 * HEARTBEAT_MS, timeoutMs: 200 });
  const clientEvents = new EventEngine();
  const mirror = new OmsEngine(clientEvents);
  const logs: string[] = [];
  clientEvents.register<LogData>("eLog", (e) => void logs.push(e.data.msg));
  const rpcGateway = new RpcGateway({ client, eventEngine: clientEvents, reloadRetryMs: 10 });
  await rpcGateway.connect();
  cleanups.push(async () => {
    await rpcGateway.close();
    await client.stop();
  });

  let time = T0;
  const orders: string[] = [];
  const run = async (a: Action): Promise<void> => {
    switch (a.kind) {
      case "order":
        orders.push(gateway.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: a.direction, type: "LIMIT", volume: a.volume, price: a.price, offset: "OPEN" }));
        break;
      case "cancel": {
        const vtOrderId = orders[a.index % Math.max(1, orders.length)];
        if (vtOrderId) gateway.cancelOrderNow({ orderid: vtOrderId.slice("SIM.".length), symbol: "T1", exchange: "LOCAL" });
        break;
      }
      case "market":
        time += 1000;
        clock.advanceTo(time);
        exchange.applyMarket("T1.LOCAL", snapshot(time, { bids: [[a.bid, 2]], asks: [[a.bid + a.ask, 2]] }));
        break;
      case "loss":
        link.faults.set({ lossRate: a.rate });
        break;
      case "restart":
        await service.stop();
        await service.start();
        break;
      case "wait":
        await tick(a.ms);
        break;
    }
    await tick();
  };

  /** The link is healthy again: wait until the client is connected and the gateway has caught up. */
  const heal = async (): Promise<void> => {
    link.faults.set({ lossRate: 0 });
    // One tolerance of healthy link: every loss is announced or noticed by then.
    const healedAt = performance.now();
    while (client.state !== "connected" || performance.now() - healedAt < 4 * HEARTBEAT_MS) await tick(HEARTBEAT_MS);
    await rpcGateway.whenFresh();
  };

  const server = service.oms;
  return { run, heal, mirror, server, logs, link };
}

/** The parts of the state that a lost event would make wrong, named the same on both sides. */
function state(oms: OmsEngine) {
  const sorted = <T>(entries: Array<[string, T]>) => entries.sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    orders: sorted(oms.getAllOrders().map((o) => [o.orderid, { status: o.status, traded: o.traded, volume: o.volume, price: o.price }])),
    trades: sorted(oms.getAllTrades().map((t) => [t.tradeid, { orderid: t.orderid, price: t.price, volume: t.volume }])),
    positions: sorted(oms.getAllPositions().map((p) => [`${p.vtSymbol}.${p.direction}`, { volume: p.volume, frozen: p.frozen, price: p.price }])),
    accounts: sorted(oms.getAllAccounts().map((a) => [a.accountid, { balance: a.balance, frozen: a.frozen }])),
  };
}

describe("RpcGateway over a lossy link", () => {
  it("after any losses and restarts, once the link is healthy its state is the server's", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.array(action, { minLength: 5, maxLength: 30 }), async (seed, actions) => {
        const d = await deployment(seed);
        try {
          for (const a of actions) await d.run(a);
          await d.heal();
          expect(state(d.mirror)).toEqual(state(d.server));
        } finally {
          for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it("says in its log that it reloads after a loss", async () => {
    const d = await deployment(7);
    await d.run({ kind: "order", direction: "LONG", price: 100, volume: 1 });
    await d.run({ kind: "loss", rate: 1 });
    await d.run({ kind: "market", bid: 99, ask: 1 }); // fills: order, trade, position, account events all lost
    await d.run({ kind: "loss", rate: 0 });
    await d.heal();
    expect(d.logs.some((line) => /lost on e(Order|Trade|Position|Account)\..*: reloading/.test(line))).toBe(true);
    expect(state(d.mirror)).toEqual(state(d.server));
    expect(state(d.server).trades).toHaveLength(1);
  });
});
