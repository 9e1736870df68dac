import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as WsClient } from "ws";
import { connect } from "node:net";
import { RpcClient } from "../../lib/index.ts";
import { websocketClient, websocketServer, type WebSocketConstructor } from "../../transports/websocket.ts";
import { until } from "../core/helpers.ts";
import { startServer, StubSocket, SUBSCRIBE } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WebSocketImpl = WsClient as unknown as WebSocketConstructor;

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

    const second = await startServer({ port: first.port });
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
    const second = await startServer({ port: first.port });
    cleanups.push(second.stop);
    await until(() => client.state === "connected");
    expect(await client.call("add", [1, 1])).toBe(2);
  });

  it("sends no event to a subscriber whose queue is full, counts each one, and resumes once it drains", async () => {
    const transport = websocketServer({ maxQueuedEventBytesPerSubscriber: 1000 });
    await transport.listen({ request() {} });
    cleanups.push(() => transport.close());
    const slow = new StubSocket();
    const fast = new StubSocket();
    transport.accept(slow);
    transport.accept(fast);
    slow.receive(SUBSCRIBE, "big");
    fast.receive(SUBSCRIBE, "big");
    slow.bufferedAmount = 950;
    const frame = new Uint8Array(100); // an event message of 1 + 2 + 3 + 100 = 106 bytes
    for (let i = 0; i < 20; i++) transport.publish("big", frame);
    // The slow one got nothing; the fast one got what fits in its 1000 bytes and no more.
    expect(slow.sent).toHaveLength(0);
    expect(fast.sent).toHaveLength(9);
    expect(fast.bufferedAmount).toBeLessThanOrEqual(1000);
    expect(transport.stats.droppedEvents).toBe(20 + 11);
    slow.bufferedAmount = 0;
    transport.publish("big", frame);
    expect(slow.sent).toHaveLength(1);
  });

  it("stops sending events to a real subscriber that does not read, and its queue stays bounded", async () => {
    const budget = 1 << 20;
    const s = await startServer({ transport: { maxQueuedEventBytesPerSubscriber: budget } });
    cleanups.push(s.stop);
    const raw = new WsClient(s.url);
    cleanups.push(() => raw.terminate());
    await new Promise((resolve) => raw.once("open", resolve));
    raw.send(new Uint8Array([SUBSCRIBE, ...new TextEncoder().encode("big")]));
    await until(() => s.transport.stats.subscriptions === 1);
    // Stop reading: the kernel's buffers fill, then the server socket's own queue.
    (raw as unknown as { _socket: { pause(): void } })._socket.pause();
    const socket = [...s.wss.clients][0]!;
    let sent = 0;
    const send = socket.send.bind(socket);
    socket.send = ((data: Uint8Array, ...rest: never[]) => {
      if (data[0] === 3) sent++;
      return send(data, ...rest);
    }) as typeof socket.send;
    const chunk = new Uint8Array(64 * 1024);
    // Until the first miss, every event is sent; from then on each event is sent or missed, never both.
    let published = 0;
    await sleepUntil(() => {
      s.server.publish("big", chunk);
      published++;
      return s.transport.stats.droppedEvents > 0;
    });
    for (let i = 0; i < 200; i++) {
      s.server.publish("big", chunk);
      published++;
      expect(socket.bufferedAmount).toBeLessThanOrEqual(budget);
    }
    expect(sent + s.transport.stats.droppedEvents).toBe(published);
    expect(s.transport.stats.droppedEvents).toBeGreaterThanOrEqual(200);
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
