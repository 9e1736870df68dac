/**
 * Issue 9 items 5 and 6 on the in-process transports: topic prefixes capped in count and UTF-8
 * length on memory and MessagePort, stats, and the state of a peer that leaves freed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer, type CallContext } from "../../lib/index.ts";
import { DEFAULT_BUDGETS } from "../../lib/budgets.ts";
import { memoryHub, memoryPair } from "../../transports/memory.ts";
import { messagePortClient, messagePortServer } from "../../transports/message-port.ts";
import type { PeerId } from "../../lib/transport.ts";
import { until } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const noSink = { reply() {}, broadcast() {} };

describe("memory transport budgets", () => {
  it("refuses at subscribe a prefix longer than maxPrefixBytes in UTF-8 bytes, or one too many, and counts it", async () => {
    const hub = memoryHub({ maxPrefixBytes: 8, maxSubscriptionsPerPeer: 2 });
    const client = hub.client();
    await client.connect(noSink);
    client.subscribe("12345678");
    expect(() => client.subscribe("€€€")).toThrow(/9 bytes exceeds maxPrefixBytes 8/); // 3 characters, 9 bytes
    client.subscribe("b");
    client.subscribe("b"); // the same prefix again is not one more
    expect(() => client.subscribe("c")).toThrow(RangeError);
    client.unsubscribe("b");
    client.subscribe("c");
    expect(hub.server.stats).toEqual({ peers: 1, subscriptions: 2, refusedSubscriptions: 2 });
    await client.close();
  });

  it("applies the shared default budgets", async () => {
    const [server, client] = memoryPair();
    await client.connect(noSink);
    client.subscribe("x".repeat(DEFAULT_BUDGETS.maxPrefixBytes));
    expect(() => client.subscribe("x".repeat(DEFAULT_BUDGETS.maxPrefixBytes + 1))).toThrow(RangeError);
    for (let i = 1; i < DEFAULT_BUDGETS.maxSubscriptionsPerPeer; i++) client.subscribe(`t${i}.`);
    expect(() => client.subscribe("one.more")).toThrow(RangeError);
    expect(server.stats.refusedSubscriptions).toBe(2);
    await client.close();
  });

  it("frees a client's subscriptions when it leaves", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
    await server.start();
    cleanups.push(() => server.stop());
    const clients = [1, 2].map(() => new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0 }));
    for (const c of clients) {
      await c.start();
      c.subscribe("t.", () => {});
    }
    expect(hub.server.stats).toMatchObject({ peers: 2, subscriptions: 2 });
    await Promise.all(clients.map((c) => c.stop()));
    expect(hub.server.stats).toMatchObject({ peers: 0, subscriptions: 0 });
  });
});

describe("MessagePort transport budgets", () => {
  /** A server transport on one end of a channel, and the raw other end a foreign sender posts on. */
  async function served(options: Parameters<typeof messagePortServer>[1]) {
    const channel = new MessageChannel();
    const transport = messagePortServer(channel.port1, options);
    const requests: PeerId[] = [];
    await transport.listen({ request: (_frame, peer) => void requests.push(peer) });
    cleanups.push(() => transport.detach(), () => channel.port1.close(), () => channel.port2.close());
    const post = (message: unknown) => channel.port2.postMessage(message);
    /** A request after other messages: once it arrives, the server has handled them (the port is ordered). */
    const settled = async () => {
      const before = requests.length;
      post({ tw: 1, k: "req", f: new Uint8Array([0]) });
      await until(() => requests.length > before);
    };
    return { transport, channel, post, settled };
  }

  it("ignores and counts a subscription that is too long (UTF-8 bytes) or one too many", async () => {
    const { transport, post, settled } = await served({ maxPrefixBytes: 8, maxSubscriptionsPerPeer: 2 });
    post({ tw: 1, k: "sub", t: "12345678" });
    post({ tw: 1, k: "sub", t: "€€€" }); // 9 bytes
    post({ tw: 1, k: "sub", t: "b" });
    post({ tw: 1, k: "sub", t: "b" });
    post({ tw: 1, k: "sub", t: "c" });
    await settled();
    expect(transport.stats).toEqual({ peers: 1, subscriptions: 2, refusedSubscriptions: 2 });
  });

  it("refuses 1 MiB prefixes by default, without keeping them", async () => {
    const { transport, post, settled } = await served({});
    for (let i = 0; i < 8; i++) post({ tw: 1, k: "sub", t: `${i}`.padEnd(1 << 20, "x") });
    await settled();
    expect(transport.stats).toEqual({ peers: 1, subscriptions: 0, refusedSubscriptions: 8 });
  });

  it("the client throws at subscribe what the server would ignore", async () => {
    const channel = new MessageChannel();
    cleanups.push(() => channel.port1.close(), () => channel.port2.close());
    const client = messagePortClient(channel.port2, { maxPrefixBytes: 4, maxSubscriptionsPerPeer: 1 });
    await client.connect(noSink);
    cleanups.push(() => client.close());
    expect(() => client.subscribe("€€")).toThrow(/6 bytes exceeds maxPrefixBytes 4/);
    client.subscribe("a");
    client.subscribe("a");
    expect(() => client.subscribe("b")).toThrow(/maxSubscriptionsPerPeer 1/);
  });

  it("frees a port that closes and aborts the calls it had in flight", async () => {
    const channel = new MessageChannel();
    const transport = messagePortServer();
    const server = new RpcServer({ transport, heartbeatMs: 0 });
    const aborted: string[] = [];
    server.register("wait", (ctx: CallContext) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(aborted.push(ctx.peer)))));
    server.register("ok", () => "ok");
    await server.start();
    cleanups.push(() => server.stop());
    const peer = transport.addEndpoint(channel.port1);
    const client = new RpcClient({ transport: messagePortClient(channel.port2), heartbeatToleranceMs: 0, timeoutMs: 0 });
    await client.start();
    cleanups.push(() => client.stop());
    client.subscribe("t.", () => {});
    expect(await client.call("ok")).toBe("ok");
    void client.call("wait").catch(() => {});
    await until(() => transport.stats.subscriptions === 1);
    channel.port2.close(); // the page went away without a goodbye
    await until(() => transport.stats.peers === 0);
    await until(() => aborted.length === 1);
    expect(aborted).toEqual([peer]);
    expect(transport.stats.subscriptions).toBe(0);
  });

  it("removeEndpoint frees a port that cannot say it closed", async () => {
    const transport = messagePortServer();
    const closed: PeerId[] = [];
    await transport.listen({ request() {}, peerClosed: (p) => void closed.push(p) });
    const channel = new MessageChannel();
    cleanups.push(() => channel.port1.close(), () => channel.port2.close(), () => transport.detach());
    const id = transport.addEndpoint(channel.port1);
    expect(transport.stats.peers).toBe(1);
    transport.removeEndpoint(id);
    transport.removeEndpoint(id);
    expect(transport.stats.peers).toBe(0);
    expect(closed).toEqual([id]);
  });
});
