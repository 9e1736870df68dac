/**
 * Each user sees and trades its own accounts only, on REST and on the WebSocket. Real processes:
 * the simulated exchange with two accounts (SIM and SIM2) over ZeroMQ, `tradewire web`, and
 * real fetch and WebSocket clients. Users: ann trades SIM, ben watches SIM2, cat trades SIM2,
 * nil is a trader holding no account (market data only), all holds every account ("*").
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { RpcClient, tap, type Gap, type TapFrame } from "../../lib/index.ts";
import { loginToWebDoor, webDoorTransport } from "../../web/client.ts";
import { addresses, killAll, removeTempDirs, ROOT, start } from "../zeromq/helpers.ts";
import { api, deploymentOf, door, eventually, latestTick, removeDirs, type Tick } from "./helpers.ts";

vi.setConfig({ testTimeout: 60_000 });

const USERS = {
  ann: { role: "trader", accounts: ["SIM"], password: "ann-trades-sim" },
  ben: { role: "viewer", accounts: ["SIM2"], password: "ben-watches-sim2" },
  cat: { role: "trader", accounts: ["SIM2"], password: "cat-trades-sim2" },
  nil: { role: "trader", accounts: [], password: "nil-holds-nothing" },
  all: { role: "trader", accounts: ["*"], password: "all-sees-everything" },
} as const;
type User = keyof typeof USERS;
const EVENTS = ["eTick.", "eOrder.", "eTrade.", "ePosition.", "eAccount.", "eContract.", "eLog"];

let url: string;
const tokens = {} as Record<User, string>;
const clients: RpcClient[] = [];
let tick: Tick;

interface Order {
  vtOrderId: string;
  gatewayName: string;
  status: string;
}

beforeAll(async () => {
  const dir = await deploymentOf(USERS as unknown as Parameters<typeof deploymentOf>[0]);
  const { rep, pub } = await addresses("tcp");
  const service = start(["--import", "tsx", join(ROOT, "test/web/fixtures/two-accounts.ts"), rep, pub]);
  await service.line(/^ready$/);
  ({ url } = await door(dir, { rep, pub }));
  for (const user of Object.keys(USERS) as User[]) tokens[user] = (await loginToWebDoor(url, user, USERS[user].password)).token;
  tick = await latestTick(url, tokens.all, "IF2512.CFFEX");
}, 120_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

afterAll(async () => {
  await killAll();
  removeTempDirs();
  removeDirs();
});

const base = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, offset: "OPEN" };
/** Far below the bid: it rests until cancelled. */
const restingPrice = () => Number((Math.floor(tick.bidPrice1 / 0.2) * 0.2 - 100).toFixed(1));
/** Well above the ask: it fills on the next market event. */
const fillingPrice = () => Number((Math.ceil(tick.askPrice1 / 0.2) * 0.2 + 10).toFixed(1));

async function sendOrder(user: User, price: number, gatewayName?: string): Promise<string> {
  const reply = await api(url, tokens[user], "POST", "/order", { ...base, price, ...(gatewayName ? { gatewayName } : {}) });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.vtOrderId as string;
}

const gatewaysOf = (list: Array<{ gatewayName: string }>) => [...new Set(list.map((item) => item.gatewayName))].sort();

/** A started RpcClient through the door for `user`, recording every event it receives. */
async function browser(user: User): Promise<{ rpc: RpcClient; gaps: Gap[]; events: Array<{ topic: string; data: { gatewayName?: string; vtOrderId?: string; status?: string } }> }> {
  const events: Array<{ topic: string; data: { gatewayName?: string } }> = [];
  const record = (frame: TapFrame) => {
    if (frame.direction === "in" && frame.kind === "event" && frame.topic && !frame.topic.startsWith("$tw.") && !frame.topic.startsWith("web.")) {
      events.push({ topic: frame.topic, data: frame.payload as { gatewayName?: string } });
    }
  };
  const session = await loginToWebDoor(url, user, USERS[user].password);
  const rpc = new RpcClient({ transport: tap(webDoorTransport(session, { WebSocket: WebSocket as never }), record), timeoutMs: 10_000 });
  clients.push(rpc);
  const gaps: Gap[] = [];
  rpc.on("gap", (gap) => gaps.push(gap));
  for (const prefix of EVENTS) rpc.subscribe(prefix, () => {});
  await rpc.start();
  if (rpc.state !== "connected") await new Promise<void>((resolve) => rpc.on("connected", resolve));
  await rpc.call("webStatus"); // the subscriptions are in before anything else happens
  return { rpc, gaps, events };
}

describe("tradewire web: each user's own accounts", () => {
  it("REST lists only the user's orders, trades, positions and accounts; none for a user without accounts", async () => {
    const annResting = await sendOrder("ann", restingPrice());
    const catResting = await sendOrder("cat", restingPrice());
    const annFilled = await sendOrder("ann", fillingPrice());
    const catFilled = await sendOrder("cat", fillingPrice());
    expect(annResting.startsWith("SIM.") && catResting.startsWith("SIM2.")).toBe(true);

    // Everyone's fills are in (seen by the user holding every account) before the others look.
    await eventually(async () => {
      const trades = (await api(url, tokens.all, "GET", "/trade")).body as Array<{ vtOrderId: string }>;
      return trades.some((t) => t.vtOrderId === annFilled) && trades.some((t) => t.vtOrderId === catFilled);
    });
    const get = async (user: User, path: string) => {
      const reply = await api(url, tokens[user], "GET", path);
      expect(reply.status).toBe(200);
      return reply.body as Array<{ gatewayName: string; vtOrderId?: string; vtAccountId?: string }>;
    };

    const annOrders = await get("ann", "/order");
    expect(gatewaysOf(annOrders)).toEqual(["SIM"]);
    expect(annOrders.map((o) => o.vtOrderId)).toEqual(expect.arrayContaining([annResting, annFilled]));
    const benOrders = await get("ben", "/order");
    expect(gatewaysOf(benOrders)).toEqual(["SIM2"]);
    expect(benOrders.map((o) => o.vtOrderId)).toEqual(expect.arrayContaining([catResting, catFilled]));
    expect(gatewaysOf(await get("all", "/order"))).toEqual(["SIM", "SIM2"]);
    expect(await get("nil", "/order")).toEqual([]);

    for (const path of ["/trade", "/position"]) {
      expect(gatewaysOf(await get("ann", path))).toEqual(["SIM"]);
      expect(gatewaysOf(await get("ben", path))).toEqual(["SIM2"]);
      expect(gatewaysOf(await get("all", path))).toEqual(["SIM", "SIM2"]);
      expect(await get("nil", path)).toEqual([]);
    }
    expect((await get("ann", "/account")).map((a) => a.vtAccountId)).toEqual(["SIM.SIM"]);
    expect((await get("ben", "/account")).map((a) => a.vtAccountId)).toEqual(["SIM2.SIM2"]);
    expect((await get("all", "/account")).map((a) => a.vtAccountId).sort()).toEqual(["SIM.SIM", "SIM2.SIM2"]);
    expect(await get("nil", "/account")).toEqual([]);
    // Market data is everyone's.
    expect((await get("nil", "/contract")).length).toBeGreaterThan(0);
    expect((await get("nil", "/tick")).length).toBeGreaterThan(0);
  });

  it("REST lets a trader send and cancel on its own accounts only, and never says whether another's order exists", async () => {
    const catOrder = await sendOrder("cat", restingPrice());
    const annOrder = await sendOrder("ann", restingPrice());

    const toSim2 = await api(url, tokens.ann, "POST", "/order", { ...base, price: restingPrice(), gatewayName: "SIM2" });
    expect(toSim2.status).toBe(403);
    expect(toSim2.body.error).toEqual({ code: "PERMISSION_DENIED", message: "Account SIM2 is not yours (you hold SIM)" });
    const byNil = await api(url, tokens.nil, "POST", "/order", { ...base, price: restingPrice() });
    expect(byNil.status).toBe(403);
    expect(byNil.body.error.message).toMatch(/^You hold no account/);
    expect((await api(url, tokens.ben, "POST", "/order", { ...base, price: restingPrice() })).status).toBe(403); // a viewer
    // The user holding every account names one when a symbol trades on several (the service says so).
    expect((await api(url, tokens.all, "POST", "/order", { ...base, price: restingPrice() })).status).toBe(400);
    const allOrder = await sendOrder("all", restingPrice(), "SIM2");
    expect(allOrder.startsWith("SIM2.")).toBe(true);
    expect((await api(url, tokens.all, "DELETE", `/order/${allOrder}`)).body).toMatchObject({ accepted: true });

    // Someone else's order and one that does not exist get the same answer.
    const other = await api(url, tokens.ann, "DELETE", `/order/${catOrder}`);
    const missing = await api(url, tokens.ann, "DELETE", "/order/SIM2.999999");
    expect(other.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(other.body.error).toEqual({ code: "PERMISSION_DENIED", message: `No order ${catOrder} among your accounts' orders` });
    expect(missing.body.error).toEqual({ code: "PERMISSION_DENIED", message: "No order SIM2.999999 among your accounts' orders" });
    // Under the user's own account, a missing order is just missing.
    expect((await api(url, tokens.ann, "DELETE", "/order/SIM.999999")).status).toBe(404);
    expect((await api(url, tokens.all, "DELETE", "/order/SIM2.999999")).status).toBe(404);

    // Cat's order is untouched; ann's own cancels.
    const catNow = (await api(url, tokens.cat, "GET", "/order")).body as Order[];
    expect(["SUBMITTING", "NOTTRADED"]).toContain(catNow.find((o) => o.vtOrderId === catOrder)?.status);
    expect((await api(url, tokens.ann, "DELETE", `/order/${annOrder}`)).body).toMatchObject({ accepted: true });
    expect((await api(url, tokens.cat, "DELETE", `/order/${catOrder}`)).body).toMatchObject({ accepted: true });
  });

  it("the WebSocket pushes account events only to their holders, ticks to everyone; calls keep to the user's accounts", async () => {
    const [ann, ben, nil, all] = await Promise.all([browser("ann"), browser("ben"), browser("nil"), browser("all")]);
    await nil.rpc.call("subscribe", [{ symbol: "IF2512", exchange: "CFFEX" }]);
    const annOrder = await ann.rpc.call<string>("sendOrder", [{ ...base, price: restingPrice() }]);
    const catOrder = await sendOrder("cat", restingPrice());
    await ann.rpc.call("cancelOrder", [annOrder]);
    expect((await api(url, tokens.cat, "DELETE", `/order/${catOrder}`)).body).toMatchObject({ accepted: true });

    // The door publishes each event to every group at once: once `all` has both cancels, and a
    // reply came back to each socket after that, everything the others were sent is in.
    const cancelled = (list: typeof all.events, id: string) => list.some((e) => e.data.vtOrderId === id && e.data.status === "CANCELLED");
    await eventually(async () => cancelled(all.events, annOrder) && cancelled(all.events, catOrder) && nil.events.some((e) => e.topic.startsWith("eTick.")));
    await Promise.all([ann, ben, nil].map(({ rpc }) => rpc.call("webStatus")));

    const accountEvents = (list: typeof all.events) => list.filter((e) => !e.topic.startsWith("eTick.") && !e.topic.startsWith("eContract."));
    expect([...new Set(accountEvents(ann.events).map((e) => e.data.gatewayName))]).toEqual(["SIM"]);
    expect(cancelled(ann.events, annOrder)).toBe(true);
    expect(ann.events.some((e) => e.data.vtOrderId === catOrder)).toBe(false);
    expect([...new Set(accountEvents(ben.events).map((e) => e.data.gatewayName))]).toEqual(["SIM2"]);
    expect(cancelled(ben.events, catOrder)).toBe(true);
    expect(accountEvents(nil.events)).toEqual([]);
    expect(nil.events.some((e) => e.topic === "eTick.IF2512.CFFEX")).toBe(true);
    // Each group's events are numbered apart: nobody sees a jump for events that were not theirs.
    for (const { gaps } of [ann, ben, nil, all]) expect(gaps).toEqual([]);

    // Calls: lists filtered, someone else's object null, someone else's account refused.
    expect(gatewaysOf(await ann.rpc.call<Order[]>("getAllOrders"))).toEqual(["SIM"]);
    expect(gatewaysOf(await ann.rpc.call<Order[]>("getAllActiveOrders"))).not.toContain("SIM2");
    expect(await ann.rpc.call("getOrder", [catOrder])).toBeNull();
    expect((await ann.rpc.call<Order | null>("getOrder", [annOrder]))?.vtOrderId).toBe(annOrder);
    expect(await ann.rpc.call("getAccount", ["SIM2.SIM2"])).toBeNull();
    await expect(ann.rpc.call("cancelOrder", [catOrder])).rejects.toMatchObject({ code: "PERMISSION_DENIED", rawMessage: `No order ${catOrder} among your accounts' orders` });
    await expect(ann.rpc.call("cancelOrder", ["SIM2.999999"])).rejects.toMatchObject({ code: "PERMISSION_DENIED", rawMessage: "No order SIM2.999999 among your accounts' orders" });
    await expect(ann.rpc.call("cancelOrder", [{ orderid: catOrder.slice(5), symbol: "IF2512", exchange: "CFFEX" }, "SIM2"])).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(ann.rpc.call("sendOrder", [{ ...base, price: restingPrice() }, "SIM2"])).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(nil.rpc.call("sendOrder", [{ ...base, price: restingPrice() }])).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    expect((await ben.rpc.call<Array<{ vtAccountId: string }>>("getAllAccounts")).map((a) => a.vtAccountId)).toEqual(["SIM2.SIM2"]);
    expect(await nil.rpc.call("getAllAccounts")).toEqual([]);
    expect(await nil.rpc.call("getAllTrades")).toEqual([]);
    expect((await nil.rpc.call<unknown[]>("getAllContracts")).length).toBeGreaterThan(0);
    expect(await ben.rpc.call("webStatus")).toEqual({ upstream: "connected", user: "ben", role: "viewer", accounts: ["SIM2"] });
    expect(await nil.rpc.call("webStatus")).toMatchObject({ accounts: [] });
  });
});
