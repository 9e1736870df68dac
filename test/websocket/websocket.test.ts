import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as WsClient, WebSocketServer } from "ws";
import { connect, type AddressInfo } from "node:net";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { websocketClient, websocketServer, type WebSocketConstructor, type WebSocketLike } from "../../transports/websocket.ts";
import { until } from "../core/helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WebSocketImpl = WsClient as unknown as WebSocketConstructor;

/** A real HTTP+WebSocket server on a free loopback port, with an RpcServer behind it. */
async function startServer(port = 0) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  const transport = websocketServer();
  wss.on("connection", (socket) => transport.accept(socket as unknown as WebSocketLike));
  const server = new RpcServer({ transport, heartbeatMs: 50 });
  server.register("add", (a: number, b: number) => a + b);
  await server.start();
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const stop = async () => {
    await server.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  };
  return { server, transport, url, port: (wss.address() as AddressInfo).port, stop };
}

describe("WebSocket transport", () => {
  it("calls and receives broadcasts by prefix over a real socket", async () => {
    const s = await startServer();
    cleanups.push(s.stop);
    const client = new RpcClient({ transport: websocketClient(s.url, { WebSocket: WebSocketImpl }), heartbeatToleranceMs: 5_000 });
    await client.start();
    cleanups.push(() => client.stop());
    expect(await client.call("add", [2, 40])).toBe(42);
    const got: Array<[string, unknown]> = [];
    client.subscribe("eTick.", (topic, data) => got.push([topic, data]));
    await client.call("add", [0, 0]); // the subscription is in before this reply
    s.server.publish("eTick.IF2512.CFFEX", { lastPrice: 1 });
    s.server.publish("eOrder.SIM.1", {});
    s.server.publish("eTick.rb2601.SHFE", { lastPrice: 2 });
    await until(() => got.length === 2);
    expect(got).toEqual([
      ["eTick.IF2512.CFFEX", { lastPrice: 1 }],
      ["eTick.rb2601.SHFE", { lastPrice: 2 }],
    ]);
  });

  it("closes a socket that sends text or unknown types, and keeps serving others", async () => {
    const s = await startServer();
    cleanups.push(s.stop);
    const good = new RpcClient({ transport: websocketClient(s.url, { WebSocket: WebSocketImpl }) });
    await good.start();
    cleanups.push(() => good.stop());
    for (const bad of ["hello", new Uint8Array([9, 1, 2])]) {
      const raw = new WsClient(s.url);
      await new Promise((resolve) => raw.once("open", resolve));
      const closed = new Promise<number>((resolve) => raw.once("close", (code) => resolve(code)));
      raw.send(bad);
      expect([1003, 1007]).toContain(await closed);
    }
    expect(await good.call("add", [1, 1])).toBe(2);
  });

  it("reconnects after the server restarts, re-subscribes, and calls work again", async () => {
    const first = await startServer();
    const client = new RpcClient({
      transport: websocketClient(first.url, { WebSocket: WebSocketImpl, reconnectMs: 20 }),
      // The restart is seen by the socket closing; a short tolerance only adds false disconnects under load.
      heartbeatToleranceMs: 5_000,
    });
    const events: string[] = [];
    client.on("connected", () => events.push("connected"));
    client.on("disconnected", () => events.push("disconnected"));
    await client.start();
    cleanups.push(() => client.stop());
    await until(() => client.state === "connected");
    const got: unknown[] = [];
    client.subscribe("t.", (_t, d) => got.push(d));
    await first.stop();
    await until(() => client.state === "disconnected");
    await expect(client.call("add", [1, 2])).rejects.toMatchObject({ code: "UNAVAILABLE" });

    const second = await startServer(first.port);
    cleanups.push(second.stop);
    await until(() => client.state === "connected");
    expect(await client.call("add", [1, 2])).toBe(3);
    second.server.publish("t.x", "after restart");
    await until(() => got.length === 1);
    expect(events).toEqual(["connected", "disconnected", "connected"]);
  });

  it("fails at once with a clear error when no WebSocket implementation exists", () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    try {
      expect(() => websocketClient("ws://127.0.0.1:1")).toThrow(/No WebSocket implementation/);
    } finally {
      if (saved) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
  });

  it("survives a peer that breaks the WebSocket protocol itself", async () => {
    const s = await startServer();
    cleanups.push(s.stop);
    const good = new RpcClient({ transport: websocketClient(s.url, { WebSocket: WebSocketImpl }) });
    await good.start();
    cleanups.push(() => good.stop());
    // A hand-made upgrade, then an unmasked client frame: ws reports it as an "error" event.
    const raw = connect(s.port, "127.0.0.1");
    cleanups.push(() => raw.destroy());
    await new Promise((resolve) => raw.once("connect", resolve));
    raw.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    await new Promise((resolve) => raw.once("data", resolve)); // 101 Switching Protocols
    const closed = new Promise((resolve) => raw.once("close", resolve));
    raw.write(Buffer.from([0x82, 0x01, 0x01]));
    await closed;
    expect(await good.call("add", [2, 2])).toBe(4);
  });

  it("reconnects again after the client itself was stopped and started", async () => {
    const first = await startServer();
    const client = new RpcClient({
      transport: websocketClient(first.url, { WebSocket: WebSocketImpl, reconnectMs: 20 }),
      // The restart is seen by the socket closing; a short tolerance only adds false disconnects under load.
      heartbeatToleranceMs: 5_000,
    });
    await client.start();
    await client.stop();
    await client.start();
    cleanups.push(() => client.stop());
    await until(() => client.state === "connected");
    await first.stop();
    await until(() => client.state === "disconnected");
    const second = await startServer(first.port);
    cleanups.push(second.stop);
    await until(() => client.state === "connected");
    expect(await client.call("add", [1, 1])).toBe(2);
  });

  it("drops events for a subscriber that does not read, and counts them", async () => {
    const s = await startServer();
    cleanups.push(s.stop);
    const raw = new WsClient(s.url);
    cleanups.push(() => raw.terminate());
    await new Promise((resolve) => raw.once("open", resolve));
    raw.send(new Uint8Array([4, ...new TextEncoder().encode("big")])); // subscribe "big"
    await until(() => s.transport.stats.droppedEvents === 0 && s.server.running);
    // Stop reading: the server's send buffer fills past maxBufferedBytes.
    (raw as unknown as { _socket: { pause(): void } })._socket.pause();
    const chunk = new Uint8Array(256 * 1024);
    await sleepUntil(() => {
      s.server.publish("big", chunk);
      return s.transport.stats.droppedEvents > 0;
    });
    expect(s.transport.stats.droppedEvents).toBeGreaterThan(0);
  });
});

/** Repeat `step` on each macrotask until it returns true (at most 2000 times). */
async function sleepUntil(step: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (step()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error("Condition not met");
}
