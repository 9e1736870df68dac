/**
 * The ZeroMQ transport between real processes over real sockets: the server runs in a child
 * process (test/zeromq/fixtures/server.ts), clients here and in CLI child processes. Every
 * behaviour runs over tcp and ipc, with both engines.
 */
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";

// Several tests start client processes (TypeScript through tsx): slow on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });
import { decode, encode } from "@msgpack/msgpack";
import * as zmq from "zeromq";
import { RpcClient, RpcError } from "../../lib/index.ts";
import { zmqClient, zmqServer, type ZmqClientOptions } from "../../transports/zeromq/index.ts";
import { addresses, cli, CLIENT_FIXTURE, killAll, removeTempDirs, start, startServer, type Protocol } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const clients = new Set<RpcClient>();
const rawSockets = new Set<zmq.Socket>();

function client(options: ZmqClientOptions, extra: { timeoutMs?: number } = {}): RpcClient {
  const rpc = new RpcClient({ transport: zmqClient(options), logger: quiet, ...extra });
  clients.add(rpc);
  return rpc;
}

function raw<T extends zmq.Socket>(socket: T): T {
  rawSockets.add(socket);
  return socket;
}

/** Resolves on the next `event` of `rpc`. */
function next(rpc: RpcClient, event: "connected" | "disconnected"): Promise<string | undefined> {
  return new Promise((resolve) => {
    const off = rpc.on(event, (reason?: string) => {
      off();
      resolve(reason);
    });
  });
}

afterEach(async () => {
  await Promise.all([...clients].map((rpc) => rpc.stop()));
  clients.clear();
  for (const socket of rawSockets) socket.close();
  rawSockets.clear();
  await killAll();
});

afterAll(() => removeTempDirs());

const combos = (["native", "zmtp"] as const).flatMap((engine) =>
  (["tcp", "ipc"] as Protocol[]).map((protocol) => ({ engine, protocol })),
);

describe.each(combos)("ZeroMQ transport, $engine engine over $protocol", ({ engine, protocol }) => {
  it("answers calls, many in flight at once", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine });
    const rpc = client({ req: rep, sub: pub, engine });
    await rpc.start();

    expect(await rpc.call("add", [1, 2])).toBe(3);
    expect(await rpc.call("echo", [{ a: [1, "two", null] }])).toEqual({ a: [1, "two", null] });
    const sums = await Promise.all(Array.from({ length: 300 }, (_, i) => rpc.call("add", [i, 1000])));
    expect(sums).toEqual(Array.from({ length: 300 }, (_, i) => i + 1000));
    await expect(rpc.call("nope")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("serves three client processes with many calls in flight each", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine });
    const callers = [0, 1, 2].map((n) =>
      start(["--import", "tsx", CLIENT_FIXTURE, JSON.stringify({ req: rep, sub: pub, engine, calls: 500, offset: n * 1_000_000 })]),
    );
    const exits = await Promise.all(callers.map((child) => child.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    for (const caller of callers) expect(caller.json()).toEqual([{ ok: 500, wrong: 0 }]);
  });

  it("fans broadcasts out to three client processes", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine });
    const listeners = [0, 1, 2].map(() => cli("listen", "tick.", "--count", "3", "--req", rep, "--sub", pub, "--engine", engine));
    const exits = await Promise.all(listeners.map((child) => child.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    for (const listener of listeners) {
      const events = listener.json() as Array<{ topic: string; data: { seq: number } }>;
      expect(events).toHaveLength(3);
      expect(events.every((event) => event.topic === "tick.DEMO")).toBe(true);
      const seqs = events.map((event) => event.data.seq);
      expect(seqs[1]! - seqs[0]!).toBe(1);
      expect(seqs[2]! - seqs[1]!).toBe(1);
    }
  });

  it("survives a server kill and restart on the same addresses", async () => {
    const { rep, pub } = await addresses(protocol);
    let server = await startServer({ rep, pub, engine });
    const rpc = client({ req: rep, sub: pub, engine });
    const ticks: number[] = [];
    let onTick: () => void = () => {};
    rpc.subscribe("tick.", (_topic, data) => {
      ticks.push((data as { seq: number }).seq);
      onTick();
    });
    const tick = () => new Promise<void>((resolve) => (onTick = resolve));
    const connected = next(rpc, "connected");
    await rpc.start();
    await connected;
    await tick();

    const inFlight = rpc.call("sleep", [60_000], { timeoutMs: 120_000 }).then(() => undefined, (error: unknown) => error);
    const disconnected = next(rpc, "disconnected");
    await server.kill("SIGKILL");
    expect(await disconnected).toBeTruthy();
    expect(await inFlight).toMatchObject({ code: "UNAVAILABLE" });
    await expect(rpc.call("add", [1, 1])).rejects.toMatchObject({ code: "UNAVAILABLE" });

    const reconnected = next(rpc, "connected");
    server = await startServer({ rep, pub, engine });
    await reconnected;
    const before = ticks.length;
    await tick();
    expect(ticks.length).toBeGreaterThan(before);
    expect(await rpc.call("add", [2, 3])).toBe(5);
  });

  it("keeps memory bounded under a subscriber that does not read", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine, publishHighWaterMark: 1_000 });
    const slow = raw(new zmq.Subscriber({ receiveHighWaterMark: 100, linger: 0 }));
    slow.connect(pub);
    slow.subscribe("flood.");
    const rpc = client({ req: rep, sub: pub, engine }, { timeoutMs: 60_000 });
    await rpc.start();
    // The subscription must have reached the publisher before the flood: publish until one arrives.
    slow.receiveTimeout = 100;
    for (let arrived = false; !arrived; ) {
      await rpc.call("flood", [1, 10]);
      arrived = await slow.receive().then(() => true, () => false);
    }

    const sent = 100_000;
    const size = 1_024;
    const before = (await rpc.call("stats")) as { rss: number };
    expect(await rpc.call("flood", [sent, size])).toBe(sent);
    const after = (await rpc.call("stats")) as { rss: number };
    // Everything queued for the slow subscriber would be ≥ sent × size (100 MiB).
    expect(after.rss - before.rss).toBeLessThan((sent * size) / 2);
    // The server still answers while the subscriber lags.
    expect(await rpc.call("add", [20, 22])).toBe(42);

    // Now drain: most of the flood was dropped at the high-water marks, not queued.
    slow.receiveTimeout = 1_000;
    let received = 0;
    try {
      for (;;) {
        await slow.receive();
        received += 1;
      }
    } catch {
      // receive timed out: nothing more is on its way
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(sent / 2);
  });

  it("drops malformed requests from a raw socket and goes on serving", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine });
    const rogue = raw(new zmq.Dealer({ linger: 0 }));
    rogue.connect(rep);
    await rogue.send([new Uint8Array([0xc1, 0xff, 0x00, 0x13, 0x37])]); // not MessagePack
    await rogue.send([new Uint8Array(0)]); // empty
    await rogue.send(["one", "two", "three"]); // too many frames
    await rogue.send([new Uint8Array([0x93, 0x01, 0x00, 0xa1])]); // truncated MessagePack array
    await rogue.send([encode([1, 0, 7, "add", null, 0, null])]); // args not an array
    // A valid request on the same connection: its reply means everything before it was handled.
    await rogue.send([encode([1, 0, 8, "stats", [], 0, null])]);
    let stats: { malformedDropped: number } | undefined;
    while (stats === undefined) {
      const [frame] = await rogue.receive();
      const reply = decode(frame!) as unknown[];
      if (reply[1] === 2 && reply[2] === 8) stats = reply[3] as { malformedDropped: number };
    }
    expect(stats.malformedDropped).toBe(2);

    const rpc = client({ req: rep, sub: pub, engine });
    await rpc.start();
    expect(await rpc.call("add", [1, 2])).toBe(3);
  });

  it("says the addresses look swapped instead of hanging", async () => {
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, engine });
    const swapped = client({ req: pub, sub: rep, engine });
    const error = await swapped.start().then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).message).toMatch(/look swapped/);
  });
});

describe.each(["tcp", "ipc"] as Protocol[])("ZeroMQ CURVE over %s (native engine)", (protocol) => {
  it("serves a client with the server's key and refuses one without it", async () => {
    const keys = zmq.curveKeyPair();
    const other = zmq.curveKeyPair();
    const { rep, pub } = await addresses(protocol);
    await startServer({ rep, pub, curve: { secretKey: keys.secretKey } });

    const trusted = client({ req: rep, sub: pub, curve: { serverKey: keys.publicKey } });
    const tick = new Promise((resolve) => trusted.subscribe("tick.", (topic) => resolve(topic)));
    await trusted.start();
    expect(await trusted.call("add", [4, 5])).toBe(9);
    expect(await tick).toBe("tick.DEMO");

    const anonymous = client({ req: rep, sub: pub });
    await expect(anonymous.start()).rejects.toMatchObject({ code: "UNAUTHENTICATED", message: /requires CURVE/ });
    await expect(anonymous.call("add", [1, 1])).rejects.toMatchObject({ code: "UNAVAILABLE" });

    const impostor = client({ req: rep, sub: pub, curve: { serverKey: other.publicKey } });
    await expect(impostor.start()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});

describe("ZeroMQ transport options", () => {
  it("rejects bad addresses and keys at once", () => {
    expect(() => zmqServer({ rep: "localhost:1", pub: "tcp://127.0.0.1:2" })).toThrow(TypeError);
    expect(() => zmqServer({ rep: "tcp://127.0.0.1:1", pub: "tcp://127.0.0.1:1" })).toThrow(/must differ/);
    expect(() => zmqClient({ req: "tcp://127.0.0.1:1", sub: "tcp://127.0.0.1:2", curve: { serverKey: "short" } })).toThrow(
      /Z85/,
    );
    expect(() => zmqClient({ req: "tcp://127.0.0.1:1", sub: "tcp://127.0.0.1:2", requestQueueLimit: 0 })).toThrow(RangeError);
  });

  it("refuses CURVE on the zmtp engine with a clear error", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = zmqServer({ rep, pub, engine: "zmtp", curve: { secretKey: zmq.curveKeyPair().secretKey } });
    await expect(server.listen({ request: () => {} })).rejects.toThrow(/CURVE is not supported by the "zmtp" engine/);
    await server.close();
  });

  it("reports an address in use when listening", async () => {
    const { rep, pub } = await addresses("tcp");
    const first = zmqServer({ rep, pub });
    await first.listen({ request: () => {} });
    const second = zmqServer({ rep, pub: (await addresses("tcp")).pub });
    await expect(second.listen({ request: () => {} })).rejects.toThrow(`Address already in use: ${rep}`);
    await first.close();
    await second.close();
  });

  it("refuses more queued requests than its limit with RESOURCE_EXHAUSTED", async () => {
    // A live server; sends go out one at a time, so a burst waits in the queue until it is full.
    const { rep, pub } = await addresses("tcp");
    const server = zmqServer({ rep, pub });
    await server.listen({ request: () => {} });
    const transport = zmqClient({ req: rep, sub: pub, requestQueueLimit: 3 });
    await transport.connect({ reply: () => {}, broadcast: () => {} });
    const frame = new Uint8Array([1]);
    // The first frame goes to the socket, three wait in the queue.
    for (let i = 0; i < 4; i++) transport.send(frame);
    let thrown: unknown;
    try {
      transport.send(frame);
    } catch (error) {
      thrown = error;
    }
    await transport.close();
    await server.close();
    expect(thrown).toBeInstanceOf(RpcError);
    expect((thrown as RpcError).code).toBe("RESOURCE_EXHAUSTED");
  });
});
