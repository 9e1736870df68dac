/**
 * Restarts, with real processes on both sides: VeighNa's unchanged RpcGateway (Python) while
 * `tradewire serve --vnpy` is killed and started again on the same addresses, and tradewire's
 * RpcGateway over `vnpyClient` while VeighNa's RpcServer is. Every wait is for an event (a line,
 * a trade, a reload), never for a length of time.
 */
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RpcClient } from "../../lib/index.ts";
import { vnpyClient } from "../../transports/vnpy/index.ts";
import { EventEngine, RpcGateway, type TradeData } from "../../sim/index.ts";
import { FIXTURES, freePort, noVnpy, removeTempDirs, ROOT, startChild, startPython, stopChildren, type Child } from "./helpers.ts";

const clients = new Set<RpcClient>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.stop()));
  clients.clear();
  await stopChildren();
});
afterAll(() => removeTempDirs());

async function killed(child: Child): Promise<void> {
  child.proc.kill("SIGKILL");
  await child.exited;
}

describe.skipIf(noVnpy)(`restarts${noVnpy ? ` (skipped: ${noVnpy})` : ""}`, () => {
  it("VeighNa's RpcGateway trades again after serve --vnpy is killed and restarted on the same addresses", async () => {
    const [a, b, c, d] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const vnpyRep = `tcp://127.0.0.1:${c}`;
    const vnpyPub = `tcp://127.0.0.1:${d}`;
    const serve = async () => {
      const server = startChild(process.execPath, [
        "--import", "tsx", join(ROOT, "bin/tradewire.ts"), "serve", "--vnpy",
        "--rep", `tcp://127.0.0.1:${a}`, "--pub", `tcp://127.0.0.1:${b}`, "--vnpy-rep", vnpyRep, "--vnpy-pub", vnpyPub,
      ]);
      await server.line(/^VeighNa wire: /);
      return server;
    };
    const first = await serve();
    const py = startPython(join(FIXTURES, "vnpy_restart.py"), [vnpyRep, vnpyPub]);
    const step = async (name: string) => JSON.parse(await py.line(new RegExp(`"step": "${name}"`))) as Record<string, any>;
    expect(await step("before")).toMatchObject({ trade_volume: 1, status: "ALLTRADED" });
    await step("kill-me");
    await killed(first);
    await serve();
    py.proc.stdin.write("restarted\n");
    expect((await step("reconnected")).contracts).toBeGreaterThan(0);
    const after = await step("after");
    expect(after).toMatchObject({ trade_volume: 1, status: "ALLTRADED" });
    expect(after.vt_orderid).toMatch(/^RPC\.\w+$/);
    await step("done");
    expect(await py.exited).toBe(0);
  }, 120_000);

  it("our RpcGateway over vnpyClient reloads after VeighNa's RpcServer restarts, and trades again", async () => {
    const req = `tcp://127.0.0.1:${await freePort()}`;
    const sub = `tcp://127.0.0.1:${await freePort()}`;
    const startServer = async () => {
      const server = startPython(join(FIXTURES, "vnpy_server.py"), [req, sub]);
      await server.line(/^ready$/);
      return server;
    };
    const first = await startServer();
    const client = new RpcClient({ transport: vnpyClient({ req, sub }), timeoutMs: 20_000, logger: { warn: () => {}, error: () => {} } });
    clients.add(client);
    let restarts = 0;
    client.on("restart", () => (restarts += 1));
    const disconnected = new Promise<void>((resolve) => client.on("disconnected", () => resolve()));
    const eventEngine = new EventEngine();
    const logs: string[] = [];
    eventEngine.register<{ msg: string }>("eLog", (e) => logs.push(e.data.msg));
    let contractEvents = 0;
    let contractSeen: () => void = () => {};
    eventEngine.register("eContract.IF2512.CFFEX", () => {
      contractEvents += 1;
      contractSeen();
    });
    const nextContract = () => new Promise<void>((resolve) => (contractSeen = resolve));
    const gateway = new RpcGateway({ client, eventEngine });
    const loaded = nextContract();
    await gateway.connect();
    await loaded;
    const before = contractEvents;

    expect(restarts).toBe(0);
    await killed(first);
    await disconnected;
    const reloaded = nextContract();
    // A VeighNa server numbers nothing: the transport starts a new epoch when the broadcast link
    // comes back, and the core reports it as a restart.
    const restarted = new Promise<void>((resolve) => client.on("restart", () => resolve()));
    // The gateway's own "connected" handler (registered first) starts its reload.
    const reconnected = new Promise<void>((resolve) => client.on("connected", () => resolve()));
    await startServer();
    await reconnected;
    await restarted;
    // The reload loads the contracts again: the gateway's state is the new server's.
    await reloaded;
    await gateway.whenFresh();
    expect(contractEvents).toBeGreaterThan(before);
    expect(logs.some((l) => /^Server disconnected: /.test(l))).toBe(true);

    await gateway.subscribe({ symbol: "IF2512", exchange: "CFFEX" });
    const trade = new Promise<TradeData>((resolve) => eventEngine.register<TradeData>("eTrade.", (e) => resolve(e.data)));
    const vtOrderId = await gateway.sendOrder({ symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, price: 4000.2, offset: "OPEN" });
    expect(await trade).toMatchObject({ vtOrderId, volume: 1 });
    expect(await client.call("getAllContracts")).toHaveLength(2);
    await gateway.close();
  }, 120_000);
});
