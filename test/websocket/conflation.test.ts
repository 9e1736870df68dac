/**
 * Conflation on the WebSocket transport (issue 10, slow subscribers). The queue arithmetic runs
 * on socket stubs whose `bufferedAmount` the test sets (a stalled socket keeps it high); one test
 * stalls a real `ws` client by pausing its TCP socket.
 */
import { afterEach, describe, expect, it } from "vitest";
import { decode } from "@msgpack/msgpack";
import { WebSocket as WsClient } from "ws";
import type { Socket } from "node:net";
import { RpcClient } from "../../lib/index.ts";
import { websocketClient, websocketServer, type WebSocketConstructor, type WebSocketServerOptions } from "../../transports/websocket.ts";
import { startServer, StubSocket, SUBSCRIBE } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const td = new TextDecoder();
const te = new TextEncoder();
const EVENT = 3;

/** "topic body" for each event message a stub was sent (replies as "reply body"). */
function sentOf(socket: StubSocket): string[] {
  return socket.sent.map((message) => {
    if (message[0] !== EVENT) return `reply ${td.decode(message.subarray(1))}`;
    const length = (message[1]! << 8) | message[2]!;
    return `${td.decode(message.subarray(3, 3 + length))} ${td.decode(message.subarray(3 + length))}`;
  });
}

async function stubs(options: WebSocketServerOptions = {}) {
  const transport = websocketServer({ messageTimeoutMs: 0, ...options });
  await transport.listen({ request() {} });
  cleanups.push(() => transport.close());
  const connect = () => {
    const socket = new StubSocket();
    const peer = transport.accept(socket)!;
    socket.receive(SUBSCRIBE, "");
    return { socket, peer };
  };
  const healthy = connect();
  const slow = connect();
  /** Publish, then let the healthy socket drain everything it was sent. */
  const publish = (topic: string, body: string | Uint8Array, latestValue?: boolean) => {
    transport.publish(topic, typeof body === "string" ? te.encode(body) : body, latestValue);
    healthy.socket.bufferedAmount = 0;
  };
  return { transport, healthy, slow, publish };
}

describe("WebSocket conflation (socket stubs)", () => {
  it("holds the newest tick per topic for a socket that is behind and sends them, in first-held order, once it caught up", async () => {
    const { transport, healthy, slow, publish } = await stubs({ conflateAboveBytes: 1000 });
    publish("tick.B", "-1", true); // both sockets keeping up: sent at once
    slow.socket.bufferedAmount = 5000; // stalled from here on
    const all: string[] = ["tick.B -1"];
    for (let n = 0; n < 10; n++) {
      publish("order", String(n));
      publish("tick.A", String(n), true);
      publish("tick.B", String(n), true);
      all.push(`order ${n}`, `tick.A ${n}`, `tick.B ${n}`);
    }
    expect(sentOf(healthy.socket)).toEqual(all);
    // Behind: orders are queued as before, ticks are held (and replaced).
    expect(sentOf(slow.socket)).toEqual(["tick.B -1", ...Array.from({ length: 10 }, (_, n) => `order ${n}`)]);
    expect(transport.stats.conflatedEvents).toBe(18);
    expect(transport.stats.droppedEvents).toBe(0);
    // It caught up: the next publish sends the held ticks first (tick.A was held first), then the event.
    slow.socket.bufferedAmount = 0;
    publish("order", "10");
    expect(sentOf(slow.socket).slice(11)).toEqual(["tick.A 9", "tick.B 9", "order 10"]);
    expect(sentOf(healthy.socket).at(-1)).toBe("order 10");
  });

  it("sends held ticks after a reply to a socket that caught up", async () => {
    const { transport, slow, publish } = await stubs({ conflateAboveBytes: 1000 });
    slow.socket.bufferedAmount = 5000;
    publish("tick.A", "1", true);
    publish("tick.A", "2", true);
    expect(sentOf(slow.socket)).toEqual([]);
    slow.socket.bufferedAmount = 0;
    transport.reply(slow.peer, te.encode("r"));
    expect(sentOf(slow.socket)).toEqual(["reply r", "tick.A 2"]);
  });

  it("sends held ticks on the sweep timer when nothing else is sent", async () => {
    const { slow, publish } = await stubs({ conflateAboveBytes: 1000, messageTimeoutMs: 20 });
    slow.socket.bufferedAmount = 5000;
    publish("tick.A", "1", true);
    publish("tick.A", "2", true);
    slow.socket.bufferedAmount = 0;
    while (slow.socket.sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sentOf(slow.socket)).toEqual(["tick.A 2"]);
  });

  it("drops held ticks, not an order, when the order needs the socket's event budget", async () => {
    const { transport, slow, publish } = await stubs({ conflateAboveBytes: 1000, maxQueuedEventBytesPerSubscriber: 10_000 });
    slow.socket.bufferedAmount = 5000;
    publish("tick.A", new Uint8Array(3000), true); // held: 5 000 queued + 3 000 held fits 10 000
    publish("order", new Uint8Array(3000)); // fits only if the held tick gives way
    expect(sentOf(slow.socket).map((event) => event.split(" ")[0])).toEqual(["order"]);
    expect(transport.stats.droppedEvents).toBe(1);
    publish("tick.A", new Uint8Array(3000), true); // 8 000 queued: no room left for a tick
    expect(transport.stats.droppedEvents).toBe(2);
    slow.socket.bufferedAmount = 0;
    publish("order", "last");
    expect(sentOf(slow.socket).map((event) => event.split(" ")[0])).toEqual(["order", "order"]);
  });

  it("queues every event sent without latestValue to a socket that is behind, as before", async () => {
    const { transport, slow, publish } = await stubs({ conflateAboveBytes: 1000 });
    slow.socket.bufferedAmount = 5000;
    for (let n = 0; n < 5; n++) publish("tick.A", String(n));
    expect(sentOf(slow.socket)).toEqual(Array.from({ length: 5 }, (_, n) => `tick.A ${n}`));
    expect(transport.stats.conflatedEvents).toBe(0);
  });
});

describe("WebSocket conflation (a real ws client that stops reading)", () => {
  it("gives the stalled client every order in order and the newest tick per topic; a healthy client gets all", async () => {
    const { server, transport, url, stop } = await startServer({ heartbeatMs: 60_000 });
    cleanups.push(stop);
    const healthy = new RpcClient({ transport: websocketClient(url, { WebSocket: WsClient as unknown as WebSocketConstructor }) });
    await healthy.start();
    cleanups.push(() => healthy.stop());
    const got: string[] = [];
    let waiting: { event: string; resolve: () => void } | undefined;
    healthy.subscribe("e", (topic, data) => {
      const event = `${topic} ${(data as { n: number }).n}`;
      got.push(event);
      if (waiting?.event === event) waiting.resolve();
    });
    const healthyGot = (event: string) =>
      got.includes(event) ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { event, resolve }));

    // The stalled client: a raw ws client subscribed to "e" whose TCP socket is then paused.
    const raw = new WsClient(url);
    cleanups.push(() => raw.terminate());
    await new Promise((resolve) => raw.once("open", resolve));
    const stalled: string[] = [];
    const stalledWaiters: Array<() => void> = [];
    raw.on("message", (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const length = (bytes[1]! << 8) | bytes[2]!;
      const topic = td.decode(bytes.subarray(3, 3 + length));
      stalled.push(`${topic} ${((decode(bytes.subarray(3 + length)) as unknown[])[2] as { n: number }).n}`);
      for (const wake of stalledWaiters.splice(0)) wake();
    });
    raw.send(Uint8Array.of(SUBSCRIBE, ...te.encode("e")));
    // The subscription lands in order with the probes: one probe heard means it is in place.
    let probe = 0;
    while (!stalled.some((event) => event.startsWith("eProbe"))) {
      server.publish("eProbe", { n: probe++ });
      await healthyGot(`eProbe ${probe - 1}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    (raw as unknown as { _socket: Socket })._socket.pause();

    const pad = new Uint8Array(64 * 1024);
    let last = -1;
    let extra = -1;
    for (let n = 0; ; n++) {
      if (n === 400) throw new Error("the stalled client never fell behind (25 MiB sent)");
      server.publish("eOrder", { n, pad });
      server.publish("eTick.A", { n }, { latestValue: true });
      server.publish("eTick.B", { n }, { latestValue: true });
      await healthyGot(`eTick.B ${n}`);
      if (extra < 0 && transport.stats.conflatedEvents >= 2) extra = 5;
      if (extra >= 0 && extra-- === 0) {
        last = n;
        break;
      }
    }
    expect(transport.stats.droppedEvents).toBe(0);
    const rounds = Array.from({ length: last + 1 }, (_, i) => i);
    const of = (events: string[], topic: string) =>
      events.filter((event) => event.startsWith(`${topic} `)).map((event) => Number(event.slice(topic.length + 1)));
    for (const topic of ["eOrder", "eTick.A", "eTick.B"]) expect(of(got, topic)).toEqual(rounds);

    (raw as unknown as { _socket: Socket })._socket.resume();
    // No drain event on a WebSocket: held ticks go out with the next publish once the client
    // has read its backlog. Publish a marker whenever the client hears something, until it has all.
    const complete = () => ["eOrder", "eTick.A", "eTick.B"].every((topic) => of(stalled, topic).includes(last));
    let marker = 0;
    while (!complete()) {
      await new Promise<void>((resolve) => stalledWaiters.push(resolve));
      server.publish("eMarker", { n: marker++ });
    }
    expect(of(stalled, "eOrder")).toEqual(rounds);
    for (const topic of ["eTick.A", "eTick.B"]) {
      const ticks = of(stalled, topic);
      expect(ticks.at(-1)).toBe(last);
      expect([...ticks].sort((a, b) => a - b)).toEqual(ticks);
      expect(ticks.length).toBeLessThan(rounds.length);
    }
  });
});
