/**
 * Issue 9 against the WebSocket transport, as hostile peers would try it: real `ws` servers and
 * clients on loopback for what crosses a socket, a socket stub for the queue arithmetic.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as WsClient, WebSocketServer } from "ws";
import { connect, type AddressInfo, type Socket } from "node:net";
import { RpcClient } from "../../lib/index.ts";
import { websocketClient, websocketServer, type WebSocketConstructor, type WebSocketLike } from "../../transports/websocket.ts";
import { recordingLogger, until } from "../core/helpers.ts";
import { startServer, StubSocket, SUBSCRIBE } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WebSocketImpl = WsClient as unknown as WebSocketConstructor;
const REQUEST = 1;

async function goodClient(url: string): Promise<RpcClient> {
  const client = new RpcClient({ transport: websocketClient(url, { WebSocket: WebSocketImpl }) });
  await client.start();
  cleanups.push(() => client.stop());
  return client;
}

/** A ws client that is open; resolves its close code when the server closes it. */
async function rawClient(url: string): Promise<{ ws: WsClient; closed: Promise<number> }> {
  const ws = new WsClient(url);
  cleanups.push(() => ws.terminate());
  const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("close", (code) => reject(new Error(`Closed before open: ${code}`)));
  });
  return { ws, closed };
}

/** A hand-made upgrade over TCP, so a test can send a frame header without its payload. */
async function rawUpgrade(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const socket = connect(port, "127.0.0.1");
  cleanups.push(() => socket.destroy());
  const chunks: Buffer[] = [];
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await new Promise((resolve) => socket.once("data", resolve)); // 101 Switching Protocols
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** A masked binary frame header announcing `length` payload bytes, with a zero mask. */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header; // the mask key is the last four bytes, all zero: the payload goes as it is
}

describe("WebSocket budgets: message size (issue 9 item 4)", () => {
  it("refuses a socket whose own limit is larger than maxPayload (the ws default), with a clear RangeError", async () => {
    const transport = websocketServer({ maxMessageBytes: 64 << 10 });
    expect(transport.maxPayload).toBe((64 << 10) + 1);
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }); // ws's default maxPayload: 100 MiB
    await new Promise<void>((resolve) => wss.once("listening", resolve));
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    const errors: unknown[] = [];
    wss.on("connection", (socket) => {
      try {
        transport.accept(socket as unknown as WebSocketLike);
      } catch (error) {
        errors.push(error);
      }
    });
    const ws = new WsClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    cleanups.push(() => ws.terminate());
    const code = await new Promise<number>((resolve) => ws.once("close", (c) => resolve(c)));
    expect(code).toBe(1011);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RangeError);
    expect(String(errors[0])).toMatch(/up to 104857600 bytes, more than maxPayload 65537.*maxPayload: transport\.maxPayload/);
    expect(transport.stats.connections).toBe(0);
    // A socket with no limit at all is refused too.
    const unlimited = Object.assign(new StubSocket(), { _receiver: { _maxPayload: 0 } });
    expect(() => transport.accept(unlimited)).toThrow(/any size/);
    expect(unlimited.closedWith?.code).toBe(1011);
  });

  it("closes (1009) a socket that announces a message over maxMessageBytes before receiving it, and serves a good client", async () => {
    const logger = recordingLogger();
    const s = await startServer({ transport: { maxMessageBytes: 64 << 10 }, logger });
    cleanups.push(s.stop);
    const good = await goodClient(s.url);
    // 90 MiB announced, 1 KiB sent: the server refuses on the header, not after buffering it.
    const raw = await rawUpgrade(s.port);
    raw.socket.write(Buffer.concat([frameHeader(90 << 20), Buffer.alloc(1024, REQUEST)]));
    await until(() => raw.received().length >= 4);
    const close = raw.received();
    expect(close[0]).toBe(0x88); // a close frame
    expect(close.readUInt16BE(2)).toBe(1009);
    raw.socket.destroy();
    // A real client sending a whole message just over the limit is closed the same way.
    const big = await rawClient(s.url);
    big.ws.send(new Uint8Array(s.transport.maxPayload + 1));
    expect(await big.closed).toBe(1009);
    // One at the limit gets through the socket (the core then answers it or drops it).
    const fits = await rawClient(s.url);
    fits.ws.send(new Uint8Array(s.transport.maxPayload).fill(REQUEST, 0, 1));
    expect(await good.call("add", [1, 2])).toBe(3);
    await until(() => logger.lines.length === 1);
    expect(logger.lines[0]).toMatch(/Dropped a malformed frame/); // it reached the core, whole
    expect(s.transport.stats.oversizeMessages).toBe(2);
    expect(s.transport.stats.connections).toBe(2); // good and fits
  });

  it("closes (1009) a socket of a runtime that does not enforce the limit itself, once the message arrives", async () => {
    const transport = websocketServer({ maxMessageBytes: 100 });
    const requests: number[] = [];
    await transport.listen({ request: (frame) => void requests.push(frame.byteLength) });
    cleanups.push(() => transport.close());
    const socket = new StubSocket();
    transport.accept(socket);
    socket.receive(REQUEST, new Uint8Array(100));
    socket.receive(REQUEST, new Uint8Array(101));
    expect(requests).toEqual([100]);
    expect(socket.closedWith?.code).toBe(1009);
    expect(transport.stats.oversizeMessages).toBe(1);
  });
});

describe("WebSocket budgets: connections (issue 9 item 3)", () => {
  it("refuses connections past maxConnections with 1013, and takes new ones when others leave", async () => {
    const s = await startServer({ transport: { maxConnections: 2 } });
    cleanups.push(s.stop);
    const first = await rawClient(s.url);
    await rawClient(s.url);
    const third = await rawClient(s.url);
    expect(await third.closed).toBe(1013);
    expect(s.transport.stats.refusedConnections).toBe(1);
    first.ws.close();
    await until(() => s.transport.stats.connections === 1);
    const good = await goodClient(s.url);
    expect(await good.call("add", [2, 2])).toBe(4);
  });

  it("refuses connections past maxConnectionsPerAddress with 1013, and frees the address's count when they leave", async () => {
    const s = await startServer({ transport: { maxConnectionsPerAddress: 1 } });
    cleanups.push(s.stop);
    const first = await rawClient(s.url);
    const second = await rawClient(s.url);
    expect(await second.closed).toBe(1013);
    expect(s.transport.stats.refusedConnections).toBe(1);
    first.ws.close();
    await until(() => s.transport.stats.connections === 0);
    const good = await goodClient(s.url);
    expect(await good.call("add", [3, 3])).toBe(6);
    // Sockets with no address known are counted only in maxConnections.
    const transport = websocketServer({ maxConnectionsPerAddress: 1 });
    cleanups.push(() => transport.close());
    expect(transport.accept(new StubSocket())).toBeDefined();
    expect(transport.accept(new StubSocket())).toBeDefined();
    expect(transport.accept(new StubSocket(), { address: "10.0.0.1" })).toBeDefined();
    const refused = new StubSocket();
    expect(transport.accept(refused, { address: "10.0.0.1" })).toBeUndefined();
    expect(refused.closedWith?.code).toBe(1013);
  });
});

describe("WebSocket budgets: subscriptions (issue 9 item 5)", () => {
  it("closes (1008) a socket that subscribes to a prefix longer than maxPrefixBytes, counted in UTF-8 bytes", async () => {
    const s = await startServer({ transport: { maxPrefixBytes: 16 } });
    cleanups.push(s.stop);
    const good = await goodClient(s.url);
    const ok = await rawClient(s.url);
    ok.ws.send(new Uint8Array([SUBSCRIBE, ...new TextEncoder().encode("x".repeat(16))]));
    await until(() => s.transport.stats.subscriptions === 2); // the good client's heartbeat topic, and this
    const bad = await rawClient(s.url);
    bad.ws.send(new Uint8Array([SUBSCRIBE, ...new TextEncoder().encode("€".repeat(6))])); // 6 characters, 18 bytes
    expect(await bad.closed).toBe(1008);
    expect(s.transport.stats.refusedSubscriptions).toBe(1);
    expect(await good.call("add", [1, 1])).toBe(2);
  });

  it("closes (1008) a socket that subscribes to one prefix too many; re-subscribing the same prefix is not one more", async () => {
    const s = await startServer({ transport: { maxSubscriptionsPerPeer: 2 } });
    cleanups.push(s.stop);
    const raw = await rawClient(s.url);
    const sub = (prefix: string) => raw.ws.send(new Uint8Array([SUBSCRIBE, ...new TextEncoder().encode(prefix)]));
    sub("a");
    sub("b");
    sub("a");
    await until(() => s.transport.stats.subscriptions === 2);
    sub("c");
    expect(await raw.closed).toBe(1008);
    expect(s.transport.stats.refusedSubscriptions).toBe(1);
    await until(() => s.transport.stats.subscriptions === 0);
  });

  it("the client refuses at subscribe what the server would close it for, so it does not reconnect in a loop", () => {
    const transport = websocketClient("ws://127.0.0.1:1", { WebSocket: WebSocketImpl, maxPrefixBytes: 4, maxSubscriptionsPerPeer: 2 });
    transport.subscribe("abcd");
    expect(() => transport.subscribe("€€")).toThrow(RangeError);
    transport.subscribe("b");
    transport.subscribe("b");
    expect(() => transport.subscribe("c")).toThrow(/maxSubscriptionsPerPeer 2/);
    transport.unsubscribe("b");
    transport.subscribe("c");
  });
});

describe("WebSocket budgets: queued replies and events (issue 9 items 2, 3)", () => {
  async function stubServer(options: Parameters<typeof websocketServer>[0]) {
    const transport = websocketServer(options);
    await transport.listen({ request() {} });
    cleanups.push(() => transport.close());
    const connect = (...topics: string[]) => {
      const socket = new StubSocket();
      const id = transport.accept(socket)!;
      for (const topic of topics) socket.receive(SUBSCRIBE, topic);
      return { socket, id };
    };
    return { transport, connect };
  }

  it("disconnects a peer whose replies pile up past its own budget; events it may hold do not count against it", async () => {
    const { transport, connect } = await stubServer({ maxQueuedEventBytesPerSubscriber: 1000, maxQueuedReplyBytesPerPeer: 1000 });
    const slowSubscriber = connect("t");
    slowSubscriber.socket.bufferedAmount = 999; // a full event queue
    transport.reply(slowSubscriber.id, new Uint8Array(100));
    expect(slowSubscriber.socket.sent).toHaveLength(1); // still gets its replies
    const caller = connect();
    for (let i = 0; i < 30; i++) transport.reply(caller.id, new Uint8Array(99)); // 100 bytes each
    expect(caller.socket.sent).toHaveLength(20);
    expect(caller.socket.closedWith?.code).toBe(1008);
    expect(transport.stats.disconnectedSlowReaders).toBe(1);
    await until(() => transport.stats.connections === 1);
    // What it had queued left with it.
    expect(transport.stats.queuedBytes).toBe(slowSubscriber.socket.bufferedAmount);
  });

  it("disconnects the peer being replied to when all queues together pass the whole server's budget", async () => {
    const { transport, connect } = await stubServer({ maxQueuedEventBytes: 0, maxQueuedReplyBytes: 1000 });
    const a = connect();
    const b = connect();
    for (let i = 0; i < 6; i++) transport.reply(a.id, new Uint8Array(99)); // 600 queued for a
    for (let i = 0; i < 6; i++) transport.reply(b.id, new Uint8Array(99)); // b may add 400
    expect(a.socket.sent).toHaveLength(6);
    expect(b.socket.sent).toHaveLength(4);
    expect(b.socket.closedWith?.code).toBe(1008);
    expect(transport.stats.disconnectedSlowReaders).toBe(1);
    expect(transport.stats.queuedBytes).toBe(1000);
    // Queues that drained unseen are looked at again before anyone is cut off.
    a.socket.bufferedAmount = 0;
    const c = connect();
    for (let i = 0; i < 6; i++) transport.reply(c.id, new Uint8Array(99));
    expect(c.socket.sent).toHaveLength(6);
    expect(c.socket.closedWith).toBeUndefined();
  });

  it("past the whole server's event budget, subscribers with a backlog miss events and one that keeps up does not", async () => {
    const { transport, connect } = await stubServer({ maxQueuedEventBytes: 1000 });
    const behind = connect("t", "x");
    const alsoBehind = connect("t", "y");
    const keepingUp = connect("t");
    transport.publish("x", new Uint8Array(896)); // a 900-byte message that behind does not read
    transport.publish("y", new Uint8Array(46)); // 50 bytes for alsoBehind
    expect(transport.stats.queuedBytes).toBe(950);
    transport.publish("t", new Uint8Array(96)); // 100 bytes: 950 + 100 > 1000
    expect(behind.socket.sent).toHaveLength(1);
    expect(alsoBehind.socket.sent).toHaveLength(1);
    expect(keepingUp.socket.sent).toHaveLength(1);
    expect(transport.stats.droppedEvents).toBe(2);
    // Once the backlog drains, every subscriber gets events again.
    behind.socket.bufferedAmount = 0;
    alsoBehind.socket.bufferedAmount = 0;
    keepingUp.socket.bufferedAmount = 0;
    transport.publish("t", new Uint8Array(96));
    expect([behind, alsoBehind, keepingUp].map((p) => p.socket.sent.length)).toEqual([2, 2, 2]);
  });
});

describe("WebSocket budgets: a peer that trickles (issue 9 item 6)", () => {
  it("closes a socket whose message does not arrive whole within messageTimeoutMs, and keeps an idle subscriber", async () => {
    const s = await startServer({ transport: { messageTimeoutMs: 40 }, heartbeatMs: 20 });
    cleanups.push(s.stop);
    const idle = await goodClient(s.url); // subscribes to heartbeats, then sends nothing
    const got: unknown[] = [];
    idle.subscribe("t.", (_t, d) => got.push(d));
    const raw = await rawUpgrade(s.port);
    // 60 000 bytes announced, then one every 5 ms: it would take five minutes to arrive whole.
    raw.socket.write(Buffer.concat([frameHeader(60_000), Buffer.from([REQUEST])]));
    const trickle = setInterval(() => raw.socket.writable && raw.socket.write(Buffer.from([0])), 5);
    cleanups.push(() => clearInterval(trickle));
    await raw.closed;
    expect(s.transport.stats.disconnectedSlowSenders).toBe(1);
    expect(idle.state).toBe("connected");
    expect(await idle.call("add", [4, 4])).toBe(8);
    s.server.publish("t.x", 1);
    await until(() => got.length === 1);
  });
});

describe("WebSocket: a peer that leaves has its state freed", () => {
  it("forgets its connection, address, subscriptions and queue", async () => {
    const s = await startServer({ transport: { maxConnectionsPerAddress: 3 } });
    cleanups.push(s.stop);
    const clients = await Promise.all([1, 2, 3].map(() => goodClient(s.url)));
    clients.forEach((c, i) => c.subscribe(`t.${i}`, () => {}));
    await until(() => s.transport.stats.subscriptions === 6);
    await Promise.all(clients.map((c) => c.stop()));
    await until(() => s.transport.stats.connections === 0);
    expect(s.transport.stats).toMatchObject({ subscriptions: 0, queuedBytes: 0, refusedConnections: 0 });
    // The address's count went with them: three more are taken.
    const again = await Promise.all([1, 2, 3].map(() => goodClient(s.url)));
    expect(await Promise.all(again.map((c) => c.call("add", [1, 1])))).toEqual([2, 2, 2]);
  });
});
