/**
 * No event lost silently, as every transport must carry it: run by test/core (memory,
 * MessagePort), test/websocket and test/zeromq. Events are lost with `withFaults` on the server's
 * side, cut around the publishes, so exactly those frames are dropped whatever the transport.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer, withFaults, type Gap } from "../../lib/index.ts";
import type { TransportLink } from "./links.ts";
import { EventEngine, OmsEngine, RpcGateway, RpcService, SimExchange, SimGateway, VirtualClock } from "../../sim/index.ts";
import { snapshot, T0, TEST_SPEC } from "../sim/helpers.ts";
import { until } from "./helpers.ts";


const quiet = { warn: () => {}, error: () => {} };
const HEARTBEAT_MS = 50;

export function describeDelivery(label: string, link: () => Promise<TransportLink>): void {
  describe(`no event lost silently over ${label}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function rig() {
      const { server: serverSide, client: clientSide, close } = await link();
      const faulty = withFaults(serverSide, {});
      const server = new RpcServer({ transport: faulty, logger: quiet, heartbeatMs: HEARTBEAT_MS });
      await server.start();
      const client = new RpcClient({ transport: clientSide, logger: quiet, heartbeatToleranceMs: 5_000 });
      const gaps: Gap[] = [];
      client.on("gap", (gap) => gaps.push(gap));
      await client.start();
      cleanups.push(async () => {
        await client.stop();
        await server.stop();
        await close?.();
      });
      await until(() => client.state === "connected", 10_000);
      /** Publish while the server's side is cut: exactly these events are lost. */
      const lose = (publish: () => void) => {
        faulty.faults.cut();
        publish();
        faulty.faults.restore();
      };
      return { server, client, gaps, lose };
    }

    it("reports how many events of a stream did not arrive", async () => {
      const { server, client, gaps, lose } = await rig();
      const got: unknown[] = [];
      client.subscribe("tick.", (_topic, data) => got.push(data));
      await client.synced();
      server.publish("tick.A", 1);
      lose(() => {
        server.publish("tick.A", 2);
        server.publish("tick.A", 3);
      });
      server.publish("tick.A", 4);
      await until(() => got.length === 2, 10_000);
      expect(got).toEqual([1, 4]);
      expect(gaps).toEqual([{ stream: "tick.A", missed: 2 }]);
    });

    it("learns from the heartbeat of a lost event that nothing followed", async () => {
      const { server, client, gaps, lose } = await rig();
      const got: unknown[] = [];
      client.subscribe("eTrade.", (_topic, data) => got.push(data));
      await client.synced();
      server.publish("eTrade.A", "t1");
      await until(() => got.length === 1, 10_000);
      lose(() => server.publish("eTrade.A", "t2"));
      await until(() => gaps.length > 0, 10_000);
      expect(gaps).toEqual([{ stream: "eTrade.A", missed: 1 }]);
    });

    it("an RpcGateway whose fill events were lost reloads, and ends with the server's state", async () => {
      const { server: serverSide, client: clientSide, close } = await link();
      const faulty = withFaults(serverSide, {});
      const clock = new VirtualClock({ start: T0 });
      const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
      const serverEvents = new EventEngine();
      const gateway = new SimGateway({ exchange, eventEngine: serverEvents, gatewayName: "SIM", balance: 1_000_000 });
      const service = new RpcService({ server: new RpcServer({ transport: faulty, logger: quiet, heartbeatMs: HEARTBEAT_MS }), eventEngine: serverEvents, gateways: [gateway] });
      await service.start();
      await gateway.connect();
      const client = new RpcClient({ transport: clientSide, logger: quiet, heartbeatToleranceMs: 5_000 });
      const clientEvents = new EventEngine();
      const mirror = new OmsEngine(clientEvents);
      const logs: string[] = [];
      clientEvents.register<{ msg: string }>("eLog", (e) => void logs.push(e.data.msg));
      const rpc = new RpcGateway({ client, eventEngine: clientEvents, reloadRetryMs: 50 });
      cleanups.push(async () => {
        await rpc.close();
        await client.stop();
        await service.stop();
        await close?.();
      });
      await rpc.connect();
      gateway.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 2, price: 100, offset: "OPEN" });
      await until(() => mirror.getAllOrders().length === 1, 10_000);
      // The fill's order, trade, position and account events are all lost on the way.
      faulty.faults.cut();
      clock.advanceTo(T0 + 1000);
      exchange.applyMarket("T1.LOCAL", snapshot(T0 + 1000, { bids: [[99, 5]], asks: [[100, 5]] }));
      faulty.faults.restore();
      await until(() => mirror.getAllTrades().length === 1 && mirror.getAllOrders()[0]?.status === "ALLTRADED", 10_000);
      await rpc.whenFresh();
      expect(logs.some((line) => /lost on e(Order|Trade|Position|Account)\..*: reloading/.test(line))).toBe(true);
      expect(mirror.getAllTrades().map((t) => t.volume)).toEqual(service.oms.getAllTrades().map((t) => t.volume));
      expect(mirror.getAllPositions().map((p) => [p.direction, p.volume])).toEqual(service.oms.getAllPositions().map((p) => [p.direction, p.volume]));
      expect(mirror.getAllAccounts().map((a) => a.balance)).toEqual(service.oms.getAllAccounts().map((a) => a.balance));
    });
  });
}
