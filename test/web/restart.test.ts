/**
 * The trading service dies and comes back: the door answers 503 with a clear message meanwhile
 * (REST) and UNAVAILABLE (WebSocket calls), tells its sockets on `web.upstream`, and recovers by
 * itself. Waits on the door's own log lines, never on time.
 */
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { RpcClient } from "../../lib/index.ts";
import { loginToWebDoor, webDoorTransport } from "../../web/client.ts";
import { killAll, removeTempDirs } from "../zeromq/helpers.ts";
import { api, deployment, door, PASSWORDS, removeDirs, service } from "./helpers.ts";

const clients: RpcClient[] = [];

afterAll(async () => {
  await Promise.all(clients.map((client) => client.stop()));
  await killAll();
  removeTempDirs();
  removeDirs();
});

describe("tradewire web: the trading service restarts", () => {
  it("answers 503 while the service is down and recovers by itself when it returns", { timeout: 60_000 }, async () => {
    const dir = await deployment();
    const first = await service();
    const web = await door(dir, first);
    const session = await loginToWebDoor(web.url, "alice", PASSWORDS.alice);
    expect((await api(web.url, session.token, "GET", "/account")).status).toBe(200);

    const rpc = new RpcClient({ transport: webDoorTransport(session, { WebSocket: WebSocket as never }) });
    clients.push(rpc);
    const states: string[] = [];
    rpc.subscribe("web.upstream", (_topic, data) => states.push((data as { state: string }).state));
    await rpc.start();
    await rpc.call("webStatus");
    // The service's restart reaches the browser as a restart of its own server (a new epoch), so
    // an RpcGateway there reloads what it holds from the service's previous run.
    const restarted = new Promise<void>((resolve) => rpc.on("restart", () => resolve()));

    await first.child.kill("SIGKILL");
    await web.child.line(/^Upstream disconnected/);
    const down = await api(web.url, session.token, "GET", "/account");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("1");
    expect(down.body.error.code).toBe("UNAVAILABLE");
    expect(down.body.error.message).toMatch(/^The trading service is unavailable \(.*\); the bridge reconnects by itself, try again shortly$/);
    expect(await api(web.url, undefined, "GET", "/status")).toMatchObject({ body: { upstream: "disconnected" } });
    // The browser's link to the door stays up; its calls through it fail UNAVAILABLE.
    await expect(rpc.call("getAllAccounts")).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(await rpc.call("webStatus")).toMatchObject({ upstream: "disconnected" });

    await service({ rep: first.rep, pub: first.pub });
    await web.child.line(/^Upstream connected/, "stdout", 2);
    const up = await api(web.url, session.token, "GET", "/account");
    expect(up.status).toBe(200);
    expect(up.body[0].vtAccountId).toBe("SIM.SIM");
    await restarted;
    if (rpc.state !== "connected") await new Promise<void>((resolve) => rpc.on("connected", resolve));
    expect(await rpc.call("getAllContracts")).not.toEqual([]);
    expect(states).toContain("disconnected");
  });
});
