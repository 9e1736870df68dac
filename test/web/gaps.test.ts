/**
 * Events lost between the trading service and the door reach browsers as gaps. The service is
 * `tradewire serve` in its own process; the door runs in this one (so its upstream link can go
 * through `withFaults`) and serves real HTTP and WebSocket; the browser side is an RpcClient
 * over a real WebSocket with an RpcGateway on it, as the playground makes them.
 */
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { RpcClient, withFaults, type Gap } from "../../lib/index.ts";
import { EVENT_ORDER, EventEngine } from "../../sim/event.ts";
import type { OrderData } from "../../sim/object.ts";
import { RpcGateway } from "../../sim/rpc-gateway.ts";
import { zmqClient } from "../../transports/zeromq/index.ts";
import { loginToWebDoor, webDoorTransport } from "../../web/client.ts";
import { deploymentFiles, loadDeployment } from "../../web/config.ts";
import { createWebDoor } from "../../web/door.ts";
import { serveWebDoor, type RunningWebDoor } from "../../web/node.ts";
import { killAll, removeTempDirs } from "../zeromq/helpers.ts";
import { deploymentOf, eventually, removeDirs, service } from "./helpers.ts";

vi.setConfig({ testTimeout: 60_000 });

const quiet = { warn: () => {}, error: () => {} };
const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
  removeDirs();
});

describe("tradewire web: losses upstream", () => {
  it("a loss between the service and the door is a gap in the browser, and the browser's RpcGateway reloads to the service's state", async () => {
    const password = "ann-trades-sim";
    const dir = await deploymentOf({ ann: { role: "trader", accounts: ["SIM"], password } });
    const { rep, pub } = await service();

    // The door, its upstream link through a fault injector.
    const link = withFaults(zmqClient({ req: rep, sub: pub }));
    const upstream = new RpcClient({ transport: link, logger: quiet });
    const { config, secret } = loadDeployment(deploymentFiles(dir));
    let running: RunningWebDoor | undefined = await serveWebDoor(createWebDoor({ upstream, config, secret }), { port: 0 });
    stops.push(async () => void (await running?.close()));

    // The browser: a client and a gateway through the door, following gaps.
    const session = await loginToWebDoor(running.url, "ann", password);
    const browser = new RpcClient({ transport: webDoorTransport(session, { WebSocket: WebSocket as never }), logger: quiet, timeoutMs: 10_000 });
    const gaps: Gap[] = [];
    browser.on("gap", (gap) => gaps.push(gap));
    const eventEngine = new EventEngine();
    const orders = new Map<string, string>(); // orderid → status, as the browser's gateway reports them
    eventEngine.register<OrderData>(EVENT_ORDER, ({ data }) => orders.set(data.orderid, data.status));
    const gateway = new RpcGateway({ client: browser, eventEngine, gatewayName: "WEB", reloadRetryMs: 200 });
    stops.push(async () => {
      await gateway.close();
      await browser.stop();
    });
    await gateway.connect();

    // An order placed straight at the service while the door's link is cut: its events are lost to the door.
    const direct = new RpcClient({ transport: zmqClient({ req: rep, sub: pub }), logger: quiet });
    stops.push(() => direct.stop());
    await direct.start();
    await direct.call("subscribe", [{ symbol: "IF2512", exchange: "CFFEX" }]);
    const tick = await eventually(() => direct.call<{ bidPrice1: number } | null>("getTick", ["IF2512.CFFEX"]));
    const price = Number((Math.floor(tick.bidPrice1 / 0.2) * 0.2 - 100).toFixed(1));
    link.faults.cut();
    const vtOrderId = await direct.call<string>("sendOrder", [{ symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", offset: "OPEN", volume: 1, price }]);
    await eventually(async () => (await direct.call<OrderData | null>("getOrder", [vtOrderId]))?.status === "NOTTRADED");
    link.faults.restore();
    const orderid = vtOrderId.slice("SIM.".length);

    // The browser hears of the loss and its gateway loads the order it never saw pushed.
    await eventually(async () => gaps.length > 0 && orders.get(orderid) === "NOTTRADED");
    expect(gaps.some((gap) => gap.stream.startsWith("eOrder") || "eOrder.".startsWith(gap.stream))).toBe(true);
    await gateway.whenFresh();
    const atService = await direct.call<OrderData[]>("getAllOrders");
    expect(new Map(atService.filter((o) => o.gatewayName === "SIM").map((o) => [o.orderid, o.status]))).toEqual(orders);

    await running.close();
    running = undefined;
  });
});
