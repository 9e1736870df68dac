/**
 * The server's budgets on the ZeroMQ transport, through `zmqServer` options and its `stats`:
 * reply and event bytes queued for peers that do not read, connection caps, subscription caps,
 * peers that trickle, and incomplete messages across peers. Small budgets keep each test short.
 * Byte budgets and caps are the ZMTP engine's (libzmq counts messages only); tricklers are
 * dropped on both engines.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { encode } from "@msgpack/msgpack";
import { createConnection, type Socket } from "node:net";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { zmqClient, zmqServer, type ZmqServerOptions, type ZmqServerTransport } from "../../transports/zeromq/index.ts";
import { encodeCommand } from "../../transports/zmtp/frame-codec.ts";
import { encodeGreeting, encodeProperties } from "../../transports/zmtp/greeting.ts";
import { Dealer, Subscriber } from "../../transports/zmtp/index.ts";
import { addresses, removeTempDirs } from "./helpers.ts";

const MiB = 1024 * 1024;
const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

async function serve(options: Omit<ZmqServerOptions, "rep" | "pub">, protocol: "tcp" | "ipc" = "tcp") {
  const { rep, pub } = await addresses(protocol);
  const transport = zmqServer({ engine: "zmtp", ...options, rep, pub });
  const server = new RpcServer({ transport, logger: quiet });
  server.register("add", (a: number, b: number) => a + b);
  server.register("echo", (value: unknown) => value);
  await server.start();
  cleanups.push(() => server.stop());
  return { server, transport: transport as ZmqServerTransport, rep, pub };
}

async function goodClient(rep: string, pub: string, engine: "zmtp" | "native" = "zmtp"): Promise<RpcClient> {
  const client = new RpcClient({ transport: zmqClient({ req: rep, sub: pub, engine }), logger: quiet });
  await client.start();
  cleanups.push(() => client.stop());
  return client;
}

/** Re-check `condition` every 20 ms until it holds (bounded by the test's timeout). No time is asserted. */
async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

function rawTcp(address: string, localAddress?: string): Promise<Socket & { closedAt: Promise<void> }> {
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(address)!;
  const socket = createConnection({ host: match[1]!, port: Number(match[2]), ...(localAddress ? { localAddress } : {}) });
  socket.on("error", () => {});
  cleanups.push(() => socket.destroy());
  const closedAt = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(Object.assign(socket, { closedAt })));
    socket.once("error", reject);
  });
}

/** A raw DEALER that completed the handshake (greeting + READY sent; the server's greeting seen). */
async function handshaken(address: string): Promise<Socket & { closedAt: Promise<void> }> {
  const socket = await rawTcp(address);
  const greeted = new Promise<void>((resolve) => socket.once("data", () => resolve()));
  socket.write(encodeGreeting());
  socket.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "DEALER", Identity: "" })));
  await greeted;
  return socket;
}

/** The header of a long data frame claiming `size` bytes, none of which follow yet. */
function longFrameHeader(size: number): Uint8Array {
  const header = new Uint8Array(9);
  header[0] = 0x02;
  new DataView(header.buffer).setUint32(5, size);
  return header;
}

/** Writes one byte every 50 ms until the socket closes (at most `limit` bytes). */
function trickle(socket: Socket, limit = 400): void {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent++ >= limit) return clearInterval(timer);
    socket.write(new Uint8Array([0x61]));
  }, 50);
  cleanups.push(() => clearInterval(timer));
}

describe("reply bytes queued for a client that does not read (ZMTP engine)", () => {
  it("disconnects the client past maxQueuedReplyBytesPerPeer and goes on serving others", async () => {
    const { transport, rep, pub } = await serve({ maxQueuedReplyBytesPerPeer: 2 * MiB });
    // Reads one reply into its queue, then stops reading its socket.
    const slow = new Dealer({ receiveHighWaterMark: 1, reconnectInterval: 60_000, log: () => {} });
    cleanups.push(() => slow.close());
    slow.connect(rep);
    const payload = new Uint8Array(MiB);
    // 40 MiB of replies: far more than the kernel's buffers on both sides hold.
    for (let i = 0; i < 40; i++) await slow.send(encode([1, 0, i + 1, "echo", [payload], 0, null]));
    await eventually(() => transport.stats.disconnectedSlowReaders === 1);
    expect(transport.stats.droppedReplies).toBeGreaterThan(0);
    await eventually(() => transport.stats.peersGone === 1);

    // A reading client is served, a reply larger than the budget included (its queue was empty).
    const good = await goodClient(rep, pub);
    expect(await good.call("add", [1, 2])).toBe(3);
    const big = new Uint8Array(3 * MiB).fill(7);
    for (let i = 0; i < 3; i++) {
      // Compared by hand: a deep equality over 3 M elements would block the loop for seconds.
      const back = (await good.call("echo", [big])) as Uint8Array;
      expect(back.length === big.length && back.every((byte) => byte === 7)).toBe(true);
    }
    expect(transport.stats.disconnectedSlowReaders).toBe(1);
  });
});

describe("event bytes queued for a subscriber that does not read (ZMTP engine)", () => {
  it("drops events for that subscriber past maxQueuedEventBytesPerSubscriber, counts them, and serves the others in full", async () => {
    const { server, transport, rep, pub } = await serve({ maxQueuedEventBytesPerSubscriber: MiB });
    const good = await goodClient(rep, pub);
    let goodReceived = 0;
    good.subscribe("big.", () => void (goodReceived += 1));
    const slow = new Subscriber({ receiveHighWaterMark: 1, log: () => {} });
    cleanups.push(() => slow.close());
    slow.connect(pub);
    slow.subscribe("big.");
    // Wait until both subscriptions reached the publisher.
    for (let probes = 0; goodReceived === 0 || slow.queuedIncoming === 0; probes++) {
      server.publish("big.probe", probes);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const before = goodReceived;
    const event = new Uint8Array(256 * 1024);
    const sent = 100;
    for (let i = 0; i < sent; i++) {
      server.publish("big.data", event);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually(() => goodReceived - before === sent);
    // 25 MiB for the stalled one: the kernel holds a few, 1 MiB waits, the rest was dropped.
    expect(transport.stats.droppedEvents).toBeGreaterThan(sent / 4);
    expect(transport.stats.droppedEvents).toBeLessThan(sent);
    expect(await good.call("add", [2, 2])).toBe(4);
  });
});

describe("connection caps (ZMTP engine)", () => {
  it("refuses connections beyond maxConnections, and accepts again once one leaves", async () => {
    const { transport, rep, pub } = await serve({ maxConnections: 2 });
    const good = await goodClient(rep, pub); // one connection on each bound socket
    const second = await rawTcp(rep);
    const third = await rawTcp(rep);
    await third.closedAt;
    expect(transport.stats.refusedConnections).toBe(1);
    expect(second.destroyed).toBe(false);
    expect(await good.call("add", [1, 1])).toBe(2);

    second.destroy();
    await second.closedAt;
    // The server saw the close when the next connection is accepted: retry until one stays.
    for (;;) {
      const next = await handshaken(rep).catch(() => undefined);
      if (next && !next.destroyed) break;
    }
  });

  it("refuses connections beyond maxConnectionsPerAddress from one address, not from another", async () => {
    const { transport, rep, pub } = await serve({ maxConnectionsPerAddress: 1 });
    const good = await goodClient(rep, pub); // from 127.0.0.1
    const same = await rawTcp(rep, "127.0.0.1");
    await same.closedAt;
    expect(transport.stats.refusedConnections).toBe(1);
    // Another loopback address is another peer address (Linux routes all of 127/8 locally).
    const elsewhere = await (async () => {
      const socket = await rawTcp(rep, "127.0.0.2").catch(() => undefined);
      if (!socket) return undefined;
      const greeted = new Promise<boolean>((resolve) => {
        socket.once("data", () => resolve(true));
        socket.once("close", () => resolve(false));
      });
      socket.write(encodeGreeting());
      return (await greeted) ? socket : undefined;
    })();
    if (elsewhere === undefined) return; // no 127.0.0.2 on this machine: the first half stands
    expect(elsewhere.destroyed).toBe(false);
    expect(await good.call("add", [1, 1])).toBe(2);
  });

  it("does not count ipc connections per address", async () => {
    const { transport, rep, pub } = await serve({ maxConnectionsPerAddress: 1 }, "ipc");
    const a = await goodClient(rep, pub);
    const b = await goodClient(rep, pub);
    expect(await a.call("add", [1, 2])).toBe(3);
    expect(await b.call("add", [2, 2])).toBe(4);
    expect(transport.stats.refusedConnections).toBe(0);
  });
});

describe("subscription caps (ZMTP engine)", () => {
  it("ignores prefixes beyond maxSubscriptionsPerPeer and longer than maxPrefixBytes, and counts them", async () => {
    const { server, transport, pub } = await serve({ maxSubscriptionsPerPeer: 3, maxPrefixBytes: 8 });
    const sub = new Subscriber({ log: () => {} });
    cleanups.push(() => sub.close());
    sub.connect(pub);
    for (const prefix of ["a.", "b.", "c.", "d.", "e.", "long.long.long."]) sub.subscribe(prefix);
    // Subscriptions arrive in order on one connection: once "c." is served, all were seen.
    const received: string[] = [];
    const first = sub.receive();
    while (received.length === 0) {
      server.publish("c.probe", 0);
      const got = await Promise.race([first, new Promise((resolve) => setTimeout(resolve, 10))]);
      if (got) received.push(new TextDecoder().decode((got as Uint8Array[])[0]));
    }
    server.publish("d.x", 0);
    server.publish("e.x", 0);
    server.publish("long.long.long.x", 0);
    server.publish("a.end", 0);
    for (;;) {
      const topic = new TextDecoder().decode((await sub.receive())[0]);
      received.push(topic);
      if (topic === "a.end") break;
    }
    expect(received.filter((topic) => !topic.startsWith("c.probe"))).toEqual(["a.end"]);
    expect(transport.stats.refusedSubscriptions).toBe(3);
  });
});

describe("peers that trickle", () => {
  it("ZMTP engine: drops a peer whose message does not complete within messageTimeoutMs", async () => {
    const { transport, rep, pub } = await serve({ messageTimeoutMs: 300, heartbeatInterval: 0 });
    const trickler = await handshaken(rep);
    trickler.write(longFrameHeader(1000));
    trickle(trickler);
    await trickler.closedAt;
    expect(transport.stats.droppedTricklers).toBe(1);
    expect(await (await goodClient(rep, pub)).call("add", [1, 2])).toBe(3);
  });

  it("ZMTP engine: the heartbeat counts complete frames, not bytes", async () => {
    const { transport, rep, pub } = await serve({ messageTimeoutMs: 60_000, heartbeatInterval: 100 });
    const trickler = await handshaken(rep);
    trickler.write(longFrameHeader(1000));
    trickle(trickler);
    await trickler.closedAt;
    expect(transport.stats.heartbeatTimeouts).toBeGreaterThanOrEqual(1);
    expect(transport.stats.droppedTricklers).toBe(0);
    expect(await (await goodClient(rep, pub)).call("add", [1, 2])).toBe(3);
  });

  it("native engine: the heartbeat drops a trickler (libzmq counts decoded frames too)", async () => {
    const { rep, pub } = await serve({ engine: "native", heartbeatInterval: 100 });
    const trickler = await handshaken(rep);
    trickler.write(longFrameHeader(1000));
    trickle(trickler);
    await trickler.closedAt;
    expect(await (await goodClient(rep, pub, "native")).call("add", [1, 2])).toBe(3);
  });
});

describe("incomplete messages across peers (ZMTP engine)", () => {
  it("drops the peer that pushes the partial bytes of all peers past maxPartialBytes", async () => {
    const { transport, rep, pub } = await serve({ maxPartialBytes: MiB });
    const peers = [await handshaken(rep), await handshaken(rep), await handshaken(rep)];
    // Each claims 400 KiB and sends a little of it: 800 KiB fit, the third one does not.
    for (const peer of peers) {
      peer.write(longFrameHeader(400 * 1024));
      peer.write(new Uint8Array(10));
    }
    // Whichever the server read last is the one over the budget.
    const closed = new Set<number>();
    await Promise.race(peers.map((peer, i) => peer.closedAt.then(() => closed.add(i))));
    expect(transport.stats.droppedPartial).toBe(1);
    expect(closed.size).toBe(1);
    expect(peers.filter((peer) => !peer.destroyed)).toHaveLength(2);
    // Completing a message releases its share: a well-formed full message still goes through.
    const good = await goodClient(rep, pub);
    expect(await good.call("echo", ["fine"])).toBe("fine");
  });
});
