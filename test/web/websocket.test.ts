/**
 * The web door's WebSocket: tradewire's own channels relayed to a browser-side RpcClient, with
 * the token checked at the upgrade, the role checked per call and per subscription, and events
 * delivered per subscription. Real processes; the `ws` package is the WebSocket (Node 20).
 */
import { MAX_PREFIXES_PER_BROWSER } from "../../web/relay.ts";
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { RpcClient, RpcError, tap, type TapFrame } from "../../lib/index.ts";
import { loginToWebDoor, webDoorTransport, webSocketUrl, type WebDoorSession } from "../../web/client.ts";
import { killAll, removeTempDirs } from "../zeromq/helpers.ts";
import { api, deployment, door, eventually, PASSWORDS, removeDirs, secretOf, service, signedToken } from "./helpers.ts";

// Every case starts processes or hashes passwords: on a shared 2-core machine that takes a while.
vi.setConfig({ testTimeout: 60_000 });

const ALLOWED_ORIGIN = "http://127.0.0.1:5173";
let dir: string;
let upstream: { rep: string; pub: string };
let url: string;
const clients: RpcClient[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  dir = await deployment();
  upstream = await service();
  ({ url } = await door(dir, upstream, "--cors-origin", ALLOWED_ORIGIN));
}, 90_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
  for (const socket of sockets.splice(0)) socket.terminate();
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
  removeDirs();
});

async function session(name: keyof typeof PASSWORDS, at = url): Promise<WebDoorSession> {
  return loginToWebDoor(at, name, PASSWORDS[name]);
}

/** A started RpcClient through the door, as a browser page would make it. */
async function client(who: WebDoorSession, onFrame?: (frame: TapFrame) => void): Promise<RpcClient> {
  const transport = webDoorTransport(who, { WebSocket: WebSocket as never });
  const rpc = new RpcClient({ transport: onFrame ? tap(transport, onFrame) : transport, timeoutMs: 10_000 });
  clients.push(rpc);
  await rpc.start();
  if (rpc.state !== "connected") await new Promise<void>((resolve) => rpc.on("connected", resolve));
  return rpc;
}

/** A raw upgrade: the socket once open, or the HTTP status it was refused with. */
function upgrade(protocols: string[], headers: Record<string, string> = {}, path = "/ws"): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${webSocketUrl(url).replace(/\/ws$/, "")}${path}`, protocols, { headers });
    sockets.push(socket);
    socket.on("unexpected-response", (request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      response.resume();
      request.destroy();
    });
    socket.on("error", () => {}); // follows the refusals above
    socket.on("open", () => resolve({ status: 101, socket }));
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** The first event on `topic prefix` whose data passes `test`. */
function nextEvent<T>(rpc: RpcClient, prefix: string, test: (data: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const off = rpc.subscribe(prefix, (_topic, data) => {
      if (!test(data as T)) return;
      off();
      resolve(data as T);
    });
  });
}

const SUBSCRIBE = 4;
const subscribeMessage = (prefix: string) => new Uint8Array([SUBSCRIBE, ...new TextEncoder().encode(prefix)]);

describe("tradewire web: the WebSocket", () => {
  it("refuses an upgrade without a token, with a bad, forged or expired one, or from a foreign origin", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { token } = await session("alice");
    expect((await upgrade([])).status).toBe(400);
    expect((await upgrade(["tradewire"])).status).toBe(401);
    expect((await upgrade(["tradewire", "bearer.garbage"])).status).toBe(401);
    const forged = await signedToken(new Uint8Array(randomBytes(32)), { sub: "alice", role: "trader", exp: now + 600 });
    expect((await upgrade(["tradewire", `bearer.${forged}`])).status).toBe(401);
    const expired = await signedToken(secretOf(dir), { sub: "alice", role: "trader", exp: now - 60 });
    expect((await upgrade(["tradewire", `bearer.${expired}`])).status).toBe(401);
    expect((await upgrade(["tradewire", `bearer.${token}`], { Origin: "http://evil.example" })).status).toBe(403);
    expect((await upgrade(["tradewire", `bearer.${token}`], {}, "/elsewhere")).status).toBe(404);
    const allowed = await upgrade(["tradewire", `bearer.${token}`], { Origin: ALLOWED_ORIGIN });
    expect(allowed.status).toBe(101);
    // The chosen subprotocol is tradewire's, never the token.
    expect(allowed.socket!.protocol).toBe("tradewire");
  });

  it("lets a browser RpcClient call the service through the door, as over ZeroMQ", async () => {
    const rpc = await client(await session("alice"));
    expect(await rpc.call("webStatus")).toEqual({ upstream: "connected", user: "alice", role: "trader", accounts: ["SIM"] });
    const accounts = await rpc.call<Array<{ vtAccountId: string }>>("getAllAccounts");
    expect(accounts.map((a) => a.vtAccountId)).toEqual(["SIM.SIM"]);
    const contract = await rpc.call<{ vtSymbol: string } | null>("getContract", ["IF2512.CFFEX"]);
    expect(contract?.vtSymbol).toBe("IF2512.CFFEX");
  });

  it("checks the role before the arguments, and the arguments before the service", async () => {
    const viewer = await client(await session("bob"));
    const order = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", price: 3000, volume: 1 };
    await expect(viewer.call("sendOrder", [order])).rejects.toMatchObject({ code: "PERMISSION_DENIED", rawMessage: "Role viewer may not call sendOrder" });
    await expect(viewer.call("cancelOrder", [{}])).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    const trader = await client(await session("alice"));
    await expect(trader.call("sendOrder", [{ ...order, direction: "UP" }])).rejects.toMatchObject({ code: "INVALID_ARGUMENT", rawMessage: expect.stringMatching(/Unknown direction/) });
    await expect(trader.call("getOrder", [42])).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(trader.call("getOrder", [42])).rejects.toBeInstanceOf(RpcError);
    await expect(trader.call("shutdown")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("pushes the order, its fill and its cancel to the trader, and to nobody who did not subscribe", async () => {
    const trader = await client(await session("alice"));
    const seenByViewer: string[] = [];
    const viewer = await client(await session("bob"), (frame) => {
      if (frame.direction === "in" && frame.kind === "event" && frame.topic) seenByViewer.push(frame.topic);
    });
    viewer.subscribe("eTick.IF2512.CFFEX", () => {});
    await trader.call("subscribe", [{ symbol: "IF2512", exchange: "CFFEX" }]);
    const tick = await nextEvent<{ askPrice1: number; bidPrice1: number }>(viewer, "eTick.IF2512.CFFEX", () => true);
    const base = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, offset: "OPEN" };

    // Marketable: well above the ask, so it fills on the next market event at the book's prices.
    const orders = new Map<string, string[]>();
    trader.subscribe("eOrder.", (_topic, data) => {
      const o = data as { vtOrderId: string; status: string };
      orders.set(o.vtOrderId, [...(orders.get(o.vtOrderId) ?? []), o.status]);
    });
    const fillPrice = Number((Math.ceil(tick.askPrice1 / 0.2) * 0.2 + 10).toFixed(1));
    // Recorded from before the order goes out: its trade may be pushed before sendOrder's reply.
    const trades: Array<{ vtOrderId: string; volume: number; direction: string }> = [];
    trader.subscribe("eTrade.", (_topic, data) => void trades.push(data as (typeof trades)[number]));
    const filled = await trader.call<string>("sendOrder", [{ ...base, price: fillPrice }]);
    expect(await eventually(async () => trades.find((t) => t.vtOrderId === filled))).toMatchObject({ vtOrderId: filled, volume: 1, direction: "LONG" });
    await eventually(async () => orders.get(filled)?.includes("ALLTRADED"));

    // Resting: far below the bid; cancelled through REST, the cancel is pushed on the socket.
    const restPrice = Number((Math.floor(tick.bidPrice1 / 0.2) * 0.2 - 100).toFixed(1));
    const resting = await trader.call<string>("sendOrder", [{ ...base, price: restPrice }]);
    const cancelledEvent = nextEvent<{ vtOrderId: string; status: string }>(trader, "eOrder.", (o) => o.vtOrderId === resting && o.status === "CANCELLED");
    const { token } = await session("alice");
    expect((await api(url, token, "DELETE", `/order/${resting}`)).body).toMatchObject({ accepted: true });
    await cancelledEvent;

    // Everything the door sent the viewer before this reply is in: ticks of its symbol only.
    await viewer.call("webStatus");
    expect(seenByViewer.length).toBeGreaterThan(0);
    expect(seenByViewer.filter((topic) => !topic.startsWith("eTick.IF2512.CFFEX") && !topic.startsWith("$tw.") && !topic.startsWith("web."))).toEqual([]);
  });

  it("relays each event once to each socket, however browsers' prefixes overlap", async () => {
    const frames = (into: Array<{ topic: string; status: string }>) => (frame: TapFrame) => {
      if (frame.direction === "in" && frame.kind === "event" && frame.topic?.startsWith("eOrder.")) {
        into.push({ topic: frame.topic, status: (frame.payload as { status: string }).status });
      }
    };
    const wide: Array<{ topic: string; status: string }> = [];
    const narrow: Array<{ topic: string; status: string }> = [];
    const trader = await client(await session("alice"), frames(wide));
    const watcher = await client(await session("bob"), frames(narrow));
    // Upstream the door holds "eOrder." and "eOrder.SIM.": an order event matches both.
    trader.subscribe("eOrder.", () => {});
    watcher.subscribe("eOrder.SIM.", () => {});
    await Promise.all([trader.call("webStatus"), watcher.call("webStatus")]); // subscriptions are in before the order
    const base = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, offset: "OPEN", price: 3000 };
    const id = await trader.call<string>("sendOrder", [base]);
    const cancelled = nextEvent<{ vtOrderId: string; status: string }>(watcher, "eOrder.SIM.", (o) => o.vtOrderId === id && o.status === "CANCELLED");
    const [symbol, exchange] = ["IF2512", "CFFEX"];
    await trader.call("cancelOrder", [{ orderid: id.split(".")[1], symbol, exchange }]);
    await cancelled;
    await trader.call("webStatus"); // everything sent to the trader before this reply is in
    const mine = (list: typeof wide) => list.filter((e) => e.topic === `eOrder.${id}`).map((e) => e.status);
    expect(mine(narrow)).toEqual([...new Set(mine(narrow))]); // no status twice
    expect(mine(wide)).toEqual(mine(narrow));
    expect(mine(narrow)).toContain("CANCELLED");
  });

  it("closes a socket that subscribes beyond its role's topics (1008)", async () => {
    const { token } = await session("bob");
    const { socket } = await upgrade(["tradewire", `bearer.${token}`]);
    const done = closed(socket!);
    socket!.send(subscribeMessage("eTick."));
    socket!.send(subscribeMessage("")); // everything: not in the viewer's list
    expect(await done).toEqual({ code: 1008, reason: 'role viewer may not subscribe to ""' });
  });

  it("caps the prefixes one socket may hold, so one user cannot fill the door's upstream subscriber (1008)", async () => {
    const { token } = await session("bob");
    const { socket } = await upgrade(["tradewire", `bearer.${token}`]);
    const done = closed(socket!);
    for (let i = 0; i < MAX_PREFIXES_PER_BROWSER + 1; i++) socket!.send(subscribeMessage(`eTick.X${i}`));
    expect(await done).toEqual({ code: 1008, reason: `at most ${MAX_PREFIXES_PER_BROWSER} topic prefixes per socket at this door` });
  });

  it("closes a socket that sends a message over the limit (1009)", async () => {
    const { token } = await session("alice");
    const { socket } = await upgrade(["tradewire", `bearer.${token}`]);
    const done = closed(socket!);
    socket!.send(new Uint8Array(2 << 20).fill(1));
    expect((await done).code).toBe(1009);
  });

  it("answers a CORS preflight from an allowed origin only", async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/order`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" } });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect((await preflight("http://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("closes a socket when its token expires (1008)", { timeout: 60_000 }, async () => {
    const shortLived = await door(dir, upstream, "--token-ttl", "1");
    const who = await session("carol", shortLived.url);
    const socket = new WebSocket(webSocketUrl(shortLived.url), ["tradewire", `bearer.${who.token}`]);
    sockets.push(socket);
    socket.on("error", () => {});
    const result = await closed(socket);
    // Refused at the upgrade (it had already expired) or closed when it did: never served past it.
    expect([1006, 1008]).toContain(result.code);
    if (result.code === 1008) expect(result.reason).toBe("token expired");
    await shortLived.child.kill();
  });
});
