/** RpcGateway loads through streams: more orders than one message may carry still arrive. */
import { describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { EventEngine, OmsEngine, RpcGateway, RpcService, SimExchange, SimGateway, VirtualClock } from "../../sim/index.ts";
import { T0, TEST_SPEC } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };

describe("RpcGateway's initial load", () => {
  it("streams orders and trades, so a day's worth larger than maxMessageBytes still loads", async () => {
    const clock = new VirtualClock({ start: T0 });
    const exchange = new SimExchange({ clock, instruments: [TEST_SPEC] });
    const serverEvents = new EventEngine();
    const gateway = new SimGateway({ exchange, eventEngine: serverEvents, gatewayName: "SIM", balance: 1e9 });
    const hub = memoryHub();
    const service = new RpcService({ server: new RpcServer({ transport: hub.server, heartbeatMs: 0, maxMessageBytes: 16 * 1024, logger: quiet }), eventEngine: serverEvents, gateways: [gateway] });
    await service.start();
    await gateway.connect();
    for (let i = 0; i < 300; i++) {
      gateway.sendOrderNow({ symbol: "T1", exchange: "LOCAL", direction: "LONG", type: "LIMIT", volume: 1, price: 90 + (i % 5), offset: "OPEN" });
    }
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, logger: quiet });
    const clientEvents = new EventEngine();
    const mirror = new OmsEngine(clientEvents);
    const rpc = new RpcGateway({ client, eventEngine: clientEvents });
    try {
      await rpc.connect();
      // One reply could not carry them all …
      const whole = await client.call("getAllOrders").catch((e: unknown) => e);
      expect((whole as RpcError).code).toBe("RESOURCE_EXHAUSTED");
      // … the gateway has every one.
      expect(mirror.getAllOrders()).toHaveLength(300);
      expect(new Set(mirror.getAllOrders().map((o) => o.orderid))).toEqual(new Set(service.oms.getAllOrders().map((o) => o.orderid)));
    } finally {
      await rpc.close();
      await client.stop();
      await service.stop();
    }
  });
});
