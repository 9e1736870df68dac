/**
 * The same web door under Deno (`deno run -A bin/tradewire.ts web`): `Deno.serve` and
 * `Deno.upgradeWebSocket` instead of Node's server and `ws`, the same REST and WebSocket.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { RpcClient } from "../../lib/index.ts";
import { loginToWebDoor, webDoorTransport } from "../../web/client.ts";
import { killAll, removeTempDirs, ROOT, start } from "../zeromq/helpers.ts";
import { api, deployment, PASSWORDS, removeDirs, service } from "./helpers.ts";

const DENO = join(ROOT, "node_modules/deno/deno");
const clients: RpcClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.stop()));
  await killAll();
  removeTempDirs();
  removeDirs();
});

describe.skipIf(!existsSync(DENO))("tradewire web under Deno", () => {
  it("logs in, answers REST and relays calls and ticks over its WebSocket", { timeout: 120_000 }, async () => {
    const dir = await deployment();
    const upstream = await service();
    const child = start(["run", "-A", "bin/tradewire.ts", "web", "--dir", dir, "--port", "0", "--req", upstream.rep, "--sub", upstream.pub], DENO);
    const url = /^Web door at (\S+)/.exec(await child.line(/^Web door at /))![1]!;
    const session = await loginToWebDoor(url, "alice", PASSWORDS.alice);
    expect((await api(url, session.token, "GET", "/account")).body[0].vtAccountId).toBe("SIM.SIM");
    expect((await api(url, undefined, "GET", "/account")).status).toBe(401);

    const rpc = new RpcClient({ transport: webDoorTransport(session, { WebSocket: WebSocket as never }) });
    clients.push(rpc);
    await rpc.start();
    if (rpc.state !== "connected") await new Promise<void>((resolve) => rpc.on("connected", resolve));
    expect(await rpc.call("webStatus")).toEqual({ upstream: "connected", user: "alice", role: "trader", accounts: ["SIM"] });
    await rpc.call("subscribe", [{ symbol: "IF2512", exchange: "CFFEX" }]);
    const tick = await new Promise<{ vtSymbol: string }>((resolve) => rpc.subscribe("eTick.IF2512.CFFEX", (_topic, data) => resolve(data as { vtSymbol: string })));
    expect(tick.vtSymbol).toBe("IF2512.CFFEX");
  });
});
