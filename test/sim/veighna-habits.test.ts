/** What a VeighNa user types works: cancel by vtOrderId, and VeighNa's enum values on the command line. */
import { describe, expect, it } from "vitest";
import { namesForVeighNaValues } from "../../bin/veighna-values.ts";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { memoryPair } from "../../transports/memory.ts";
import { createDemoExchange, RpcService, type CancelResult, type OrderData, type RpcServiceApi } from "../../sim/index.ts";

const quiet = { warn: () => {}, error: () => {} };

describe("cancelOrder", () => {
  it("takes the order's vtOrderId as well as a CancelRequest", async () => {
    const [serverSide, clientSide] = memoryPair();
    const demo = createDemoExchange({ seed: 1 });
    const service = new RpcService({ server: new RpcServer({ transport: serverSide, heartbeatMs: 0, logger: quiet }), eventEngine: demo.eventEngine, gateways: demo.gateways });
    await service.start();
    for (const gateway of demo.gateways) await gateway.connect();
    const client = new RpcClient({ transport: clientSide, heartbeatToleranceMs: 0, logger: quiet });
    await client.start();
    try {
      const api = client.proxy<RpcServiceApi>();
      const [contract] = await api.getAllContracts();
      const vtOrderId = await api.sendOrder({
        symbol: contract!.symbol, exchange: contract!.exchange, direction: "LONG", type: "LIMIT", offset: "OPEN", volume: 1,
        price: contract!.pricetick * Math.round(1 / contract!.pricetick),
      });
      expect(await api.cancelOrder(vtOrderId)).toEqual({ accepted: true, reason: "" } satisfies CancelResult);
      const order = (await api.getOrder(vtOrderId)) as OrderData;
      expect(order.status).toBe("CANCELLED");
      const unknown = await api.cancelOrder("SIM.999999");
      expect(unknown.accepted).toBe(false);
      expect(unknown.reason).toContain("SIM.999999");
    } finally {
      await client.stop();
      await service.stop();
    }
  });
});

describe("VeighNa's enum values on the command line", () => {
  it("become the names the wire uses, in the fields VeighNa names them, and nowhere else", () => {
    expect(namesForVeighNaValues({ direction: "多", offset: "开", type: "限价", interval: "1m", reference: "多", price: 1 })).toEqual({
      direction: "LONG", offset: "OPEN", type: "LIMIT", interval: "MINUTE", reference: "多", price: 1,
    });
    expect(namesForVeighNaValues([{ direction: "空" }, "多"])).toEqual([{ direction: "SHORT" }, "多"]);
    // Names, and values no member has, go as typed.
    expect(namesForVeighNaValues({ direction: "LONG", offset: "sideways" })).toEqual({ direction: "LONG", offset: "sideways" });
  });
});
