/** Socket behaviour between our own sockets and hand-driven peers (Node and Deno). */
import { afterEach, describe, expect, it } from "vitest";
import { encodeCommand, encodeMessage, FrameDecoder } from "../../transports/zmtp/frame-codec.ts";
import { encodeGreeting, encodeProperties, GREETING_SIZE } from "../../transports/zmtp/greeting.ts";
import { Dealer, Publisher, Router, Subscriber } from "../../transports/zmtp/index.ts";
import { publishUntilReceived, type RawPeer, rawPeer, text } from "./helpers.ts";

const open: Array<{ close(): void; destroy?: never }> = [];
const raws: RawPeer[] = [];
const quiet = { log: () => {} };
const track = <T extends { close(): void }>(socket: T): T => (open.push(socket), socket);

afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
  for (const raw of raws.splice(0)) raw.destroy();
});

async function connectRaw(endpoint: string, type: string): Promise<RawPeer> {
  const raw = await rawPeer(endpoint);
  raws.push(raw);
  raw.write(encodeGreeting());
  raw.write(encodeCommand("READY", encodeProperties({ "Socket-Type": type })));
  return raw;
}

/** Decode what a raw peer received after the greeting, once `until` holds. */
async function rawItems(raw: RawPeer, until: (names: string[]) => boolean) {
  while (true) {
    const bytes = raw.received();
    if (bytes.length > GREETING_SIZE) {
      try {
        const items = new FrameDecoder().push(bytes.subarray(GREETING_SIZE));
        const names = items.map((item) => (item.kind === "command" ? item.name : `msg:${text(item.frames).join(",")}`));
        if (until(names)) return names;
      } catch {
        // Incomplete frame: wait for more bytes.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** PING commands in what a raw peer received after the greeting (partial frames ignored). */
function countPings(bytes: Uint8Array): number {
  const decoder = new FrameDecoder();
  let pings = 0;
  try {
    const rest = bytes.subarray(GREETING_SIZE);
    for (const item of decoder.push(rest)) if (item.kind === "command" && item.name === "PING") pings++;
  } catch {
    // Cannot happen for our own output; a partial frame is simply not counted yet.
  }
  return pings;
}

/** Command names in what one side of a connection sent, after its greeting (partial frames wait). */
function commandNames(bytes: Uint8Array): string[] {
  if (bytes.length <= GREETING_SIZE) return [];
  try {
    return new FrameDecoder().push(bytes.subarray(GREETING_SIZE)).flatMap((item) => (item.kind === "command" ? [item.name] : []));
  } catch {
    return []; // cannot happen for our own output
  }
}

/** Concatenate recorded chunks. */
function joined(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((offset, chunk) => (out.set(chunk, offset), offset + chunk.length), 0);
  return out;
}

/**
 * A TCP proxy in front of `target` that records the bytes of each direction, so a test can see
 * the commands two of our sockets exchange. `up` is what the connecting side sent.
 */
async function tapProxy(target: string): Promise<{ endpoint: string; up(): Uint8Array; down(): Uint8Array; onData(listener: () => void): void }> {
  const { createConnection, createServer } = await import("node:net");
  const [, host, port] = /^tcp:\/\/([^:]+):(\d+)$/.exec(target)!;
  const up: Uint8Array[] = [];
  const down: Uint8Array[] = [];
  const listeners: Array<() => void> = [];
  const sockets: Array<{ destroy(): void }> = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host: host!, port: Number(port) });
    sockets.push(client, upstream);
    for (const [from, to, record] of [[client, upstream, up], [upstream, client, down]] as const) {
      from.on("data", (chunk: Uint8Array) => {
        record.push(new Uint8Array(chunk));
        to.write(chunk);
        for (const listener of listeners) listener();
      });
      from.on("error", () => {});
      from.on("close", () => to.destroy());
    }
  });
  open.push({ close: () => (sockets.forEach((socket) => socket.destroy()), void server.close()) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    endpoint: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`,
    up: () => joined(up),
    down: () => joined(down),
    onData: (listener) => void listeners.push(listener),
  };
}

/**
 * A hand-driven PUB that sends every message to every subscriber, whatever they subscribed to:
 * what reaches our Subscriber is then filtered by the Subscriber alone.
 */
async function unfilteredPublisher(): Promise<{ endpoint: string; send(...topics: string[]): void }> {
  const { createServer } = await import("node:net");
  const sockets: Array<import("node:net").Socket> = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.write(encodeGreeting());
    socket.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "PUB" })));
  });
  open.push({ close: () => (sockets.forEach((socket) => socket.destroy()), void server.close()) });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const encoder = new TextEncoder();
  return {
    endpoint: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`,
    send: (...topics) => {
      for (const socket of sockets) for (const topic of topics) socket.write(encodeMessage([encoder.encode(topic), encoder.encode("body")]));
    },
  };
}

/** Resolves once `condition` holds, checked on each recorded chunk; fails after `ms` naming `what`. */
function whenSeen(onData: (listener: () => void) => void, condition: () => boolean, what: string, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not seen within ${ms} ms: ${what}`)), ms);
    const check = () => condition() && (clearTimeout(timer), resolve());
    onData(check);
    check();
  });
}

describe("Dealer", () => {
  it("queues up to the high-water mark with no peer, then waits until one appears", async () => {
    const dealer = track(new Dealer({ ...quiet, sendHighWaterMark: 3 }));
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    for (let i = 0; i < 3; i++) await dealer.send(String(i));
    let fourthQueued = false;
    const fourth = dealer.send("3").then(() => (fourthQueued = true));
    await Promise.resolve();
    expect(fourthQueued).toBe(false);
    dealer.connect(router.lastEndpoint!);
    await fourth;
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push(text(await router.receive())[1]!);
    expect(bodies).toEqual(["0", "1", "2", "3"]);
  });

  it("with immediate, waits for a completed handshake instead of queueing", async () => {
    const dealer = track(new Dealer({ ...quiet, immediate: true }));
    let queued = false;
    const sent = dealer.send("x").then(() => (queued = true));
    await Promise.resolve();
    expect(queued).toBe(false);
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    dealer.connect(router.lastEndpoint!);
    await sent;
    expect(text(await router.receive())[1]).toBe("x");
  });

  it("round-robins across two routers", async () => {
    const routers = [track(new Router(quiet)), track(new Router(quiet))];
    const dealer = track(new Dealer(quiet));
    for (const router of routers) {
      await router.bind("tcp://127.0.0.1:0");
      const up = dealer.events.once("handshake");
      dealer.connect(router.lastEndpoint!);
      await up;
    }
    for (let i = 0; i < 4; i++) await dealer.send(String(i));
    const got = await Promise.all(routers.map(async (r) => [text(await r.receive())[1], text(await r.receive())[1]]));
    expect(got.flat().sort()).toEqual(["0", "1", "2", "3"]);
    expect(got[0]).toHaveLength(2);
  });

  it("loses nothing when the receiver's high-water mark is tiny (reading pauses, the sender waits)", async () => {
    const router = track(new Router({ ...quiet, receiveHighWaterMark: 4 }));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = track(new Dealer({ ...quiet, sendHighWaterMark: 8 }));
    dealer.connect(router.lastEndpoint!);
    const body = new Uint8Array(4096);
    const sending = (async () => {
      for (let i = 0; i < 2000; i++) await dealer.send([String(i), body]);
    })();
    for (let i = 0; i < 2000; i++) expect(text((await router.receive()).slice(1, 2))).toEqual([String(i)]);
    await sending;
  });

  it("flushes pending messages on close when linger allows", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = new Dealer({ ...quiet, linger: 5000 });
    dealer.connect(router.lastEndpoint!);
    await dealer.events.once("handshake");
    const body = new Uint8Array(64 * 1024);
    for (let i = 0; i < 200; i++) await dealer.send([String(i), body]);
    dealer.close();
    expect(dealer.closed).toBe(true);
    for (let i = 0; i < 200; i++) expect(text((await router.receive()).slice(1, 2))).toEqual([String(i)]);
  });

  it("keeps no reference to a message's buffers once send resolved with no peer yet", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = track(new Dealer(quiet));
    const encoder = new TextEncoder();
    const small = encoder.encode("order-1");
    await dealer.send(small);
    small.set(encoder.encode("order-2"));
    await dealer.send(small);
    const large = new Uint8Array(64 * 1024).fill(1);
    await dealer.send(["large", large]);
    large.fill(2);
    dealer.connect(router.lastEndpoint!);
    expect(text((await router.receive()).slice(1))).toEqual(["order-1"]);
    expect(text((await router.receive()).slice(1))).toEqual(["order-2"]);
    const big = (await router.receive())[2]!;
    expect(big.every((byte) => byte === 1)).toBe(true);
    // Written straight to a peer, a small message is copied as well.
    const direct = encoder.encode("direct-1");
    await dealer.send(direct);
    direct.set(encoder.encode("direct-2"));
    expect(text((await router.receive()).slice(1))).toEqual(["direct-1"]);
  });

  it("with linger -1, close delivers messages still queued for a peer not connected yet", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = new Dealer({ ...quiet, linger: -1, sendHighWaterMark: 5 });
    for (let i = 0; i < 5; i++) await dealer.send(String(i));
    dealer.connect(router.lastEndpoint!);
    // Closed before the handshake: the dialer keeps going until the queue is out.
    dealer.close();
    await expect(dealer.send("late")).rejects.toMatchObject({ code: "EBADF" });
    for (let i = 0; i < 5; i++) expect(text((await router.receive()).slice(1))).toEqual([String(i)]);
    // Then the connection ends from the dealer's side.
    await router.events.once("disconnect");
  });

  it("rejects pending receives and ends iteration on close", async () => {
    const dealer = new Dealer(quiet);
    const pending = dealer.receive();
    const iteration = (async () => {
      for await (const _ of dealer) throw new Error("nothing should arrive");
      return "ended";
    })();
    dealer.close();
    await expect(pending).rejects.toMatchObject({ code: "EBADF" });
    expect(await iteration).toBe("ended");
    await expect(dealer.send("x")).rejects.toMatchObject({ code: "EBADF" });
  });
});

describe("reconnecting", () => {
  it("doubles the retry delay up to reconnectMaxInterval", async () => {
    // A port that was just free: nothing listens there, so every attempt is refused.
    const probe = track(new Router(quiet));
    await probe.bind("tcp://127.0.0.1:0");
    const endpoint = probe.lastEndpoint!;
    probe.close();
    const dealer = track(new Dealer({ ...quiet, reconnectInterval: 5, reconnectMaxInterval: 40 }));
    const intervals: number[] = [];
    const sixRetries = new Promise<void>((resolve) =>
      dealer.events.on("connect:retry", (event) => {
        intervals.push(event.interval!);
        if (intervals.length === 6) resolve();
      }),
    );
    dealer.connect(endpoint);
    await sixRetries;
    expect(intervals).toEqual([5, 10, 20, 40, 40, 40]);
  });

  it("stops retrying after disconnect(address)", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = track(new Dealer({ ...quiet, reconnectInterval: 5 }));
    dealer.connect(router.lastEndpoint!);
    await dealer.send("one");
    const [id] = await router.receive();
    const gone = router.events.once("disconnect");
    const after: string[] = [];
    for (const type of ["connect", "connect:retry", "handshake"] as const) {
      dealer.events.on(type, () => after.push(`dealer ${type}`));
    }
    router.events.on("accept", () => after.push("router accept"));
    dealer.disconnect(router.lastEndpoint!);
    await gone;
    // A clock made of events: a canary with the same 5 ms interval retries a dead address ten
    // times, long enough for a still-running dialer to have reconnected.
    const probe = track(new Router(quiet));
    await probe.bind("tcp://127.0.0.1:0");
    const dead = probe.lastEndpoint!;
    probe.close();
    const canary = track(new Dealer({ ...quiet, reconnectInterval: 5 }));
    let retries = 0;
    const tenRetries = new Promise<void>((resolve) =>
      canary.events.on("connect:retry", () => ++retries === 10 && resolve()),
    );
    canary.connect(dead);
    await tenRetries;
    expect(after).toEqual([]);
    await router.send([id!, "lost"]);
    expect(router.droppedMessages).toBe(1);
  });
});

describe("events", () => {
  it("logs a throwing listener instead of letting it escape, and keeps serving", async () => {
    const logged: string[] = [];
    const router = track(new Router({ log: (message) => logged.push(message) }));
    await router.bind("tcp://127.0.0.1:0");
    let otherListenerRan = false;
    router.events.on("accept", () => {
      throw new Error("bug in a listener");
    });
    router.events.on("accept", () => (otherListenerRan = true));
    const dealer = track(new Dealer(quiet));
    dealer.connect(router.lastEndpoint!);
    await dealer.send("x");
    expect(text((await router.receive()).slice(1))).toEqual(["x"]);
    expect(otherListenerRan).toBe(true);
    expect(logged.join("\n")).toMatch(/accept listener threw: Error: bug in a listener/);
  });
});

describe("Router", () => {
  it("rejects a second peer with a routing id already in use", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const first = track(new Dealer({ ...quiet, routingId: "twin" }));
    first.connect(router.lastEndpoint!);
    await first.send("first");
    expect(text(await router.receive())).toEqual(["twin", "first"]);
    const failed = router.events.once("handshake:error:protocol");
    const second = track(new Dealer({ ...quiet, routingId: "twin" }));
    second.connect(router.lastEndpoint!);
    expect((await failed).reason).toMatch(/duplicate routing id "twin"/);
    await router.send(["twin", "still first"]);
    expect(text(await first.receive())).toEqual(["still first"]);
  });

  it("validates routing ids", () => {
    expect(() => new Dealer({ routingId: new Uint8Array([0, 1]) })).toThrow(RangeError);
    expect(() => new Dealer({ routingId: "" })).toThrow(RangeError);
  });
});

describe("heartbeats", () => {
  it("answers PING with PONG carrying the context", async () => {
    const router = track(new Router(quiet));
    await router.bind("tcp://127.0.0.1:0");
    const raw = await connectRaw(router.lastEndpoint!, "DEALER");
    raw.write(encodeCommand("PING", new Uint8Array([0, 0, 0x63, 0x74, 0x78])));
    await rawItems(raw, (names) => names.includes("PONG"));
    const bytes = raw.received();
    expect(new TextDecoder().decode(bytes)).toContain("PONGctx");
  });

  it("pings a peer and drops it when it stays silent past the timeout", async () => {
    // PINGs every 20 ms, a drop after 1 s of silence: a loaded machine's pause cannot make the
    // drop come before the first PING.
    const router = track(new Router({ ...quiet, heartbeatInterval: 20, heartbeatTimeout: 1000 }));
    await router.bind("tcp://127.0.0.1:0");
    const gone = router.events.once("disconnect");
    const raw = await connectRaw(router.lastEndpoint!, "DEALER");
    const names = await rawItems(raw, (n) => n.includes("PING"));
    expect(names[0]).toBe("READY");
    const event = await gone;
    expect(event.reason).toMatch(/heartbeat timeout 1000 ms/);
  });

  it("keeps a peer that answers PINGs connected well past the timeout", async () => {
    // The timeout is long enough that a loaded machine's pause cannot pass for silence.
    const router = track(new Router({ ...quiet, heartbeatInterval: 50, heartbeatTimeout: 1000 }));
    await router.bind("tcp://127.0.0.1:0");
    const dropped = router.events.once("disconnect").then((event) => `dropped: ${event.reason}`);
    const raw = await connectRaw(router.lastEndpoint!, "DEALER");
    // Answer every PING as it arrives; twenty-five of them span more than the timeout.
    let answered = 0;
    const enough = new Promise<void>((resolve) =>
      raw.onData(() => {
        const pings = countPings(raw.received());
        for (; answered < pings; answered++) raw.write(encodeCommand("PONG"));
        if (answered >= 25) resolve();
      }),
    );
    expect(await Promise.race([enough.then(() => "still connected"), dropped])).toBe("still connected");
    raw.write(encodeMessage([new TextEncoder().encode("still here")]));
    expect(text(await router.receive())[1]).toBe("still here");
  });

  it("pings in both directions between our own sockets, and each side answers with PONG", async () => {
    const router = track(new Router({ ...quiet, heartbeatInterval: 20, heartbeatTimeout: 10_000 }));
    await router.bind("tcp://127.0.0.1:0");
    const proxy = await tapProxy(router.lastEndpoint!);
    const dealer = track(new Dealer({ ...quiet, heartbeatInterval: 20, heartbeatTimeout: 10_000 }));
    dealer.connect(proxy.endpoint);
    await dealer.send("one");
    expect(text(await router.receive())[1]).toBe("one");
    // Two PINGs and two PONGs each way: the bytes on the wire, not the lack of a disconnect.
    const twice = (bytes: () => Uint8Array, name: string) => commandNames(bytes()).filter((n) => n === name).length >= 2;
    await whenSeen(
      proxy.onData,
      () => twice(proxy.up, "PING") && twice(proxy.up, "PONG") && twice(proxy.down, "PING") && twice(proxy.down, "PONG"),
      "PING and PONG in both directions",
    ).catch((error: Error) => {
      const tally = (bytes: Uint8Array) => ["PING", "PONG"].map((name) => `${commandNames(bytes).filter((n) => n === name).length} ${name}`).join(", ");
      throw new Error(`${error.message}; the dealer sent ${tally(proxy.up())}, the router ${tally(proxy.down())}`);
    });
    expect(commandNames(proxy.up())[0]).toBe("READY");
    expect(commandNames(proxy.down())[0]).toBe("READY");
    await dealer.send("two");
    expect(text(await router.receive())[1]).toBe("two");
  });
});

describe("Publisher and Subscriber", () => {
  it("accepts both subscription forms: 0x01 messages and SUBSCRIBE/CANCEL commands", async () => {
    const pub = track(new Publisher(quiet));
    await pub.bind("tcp://127.0.0.1:0");
    const legacy = await connectRaw(pub.lastEndpoint!, "SUB");
    legacy.write(encodeMessage([new Uint8Array([1, 0x61])])); // subscribe "a"
    const modern = await connectRaw(pub.lastEndpoint!, "SUB");
    modern.write(encodeCommand("SUBSCRIBE", new TextEncoder().encode("b")));
    await publishUntilReceived(
      () => Promise.all([pub.send(["a.probe"]), pub.send(["b.probe"])]).then(() => {}),
      Promise.all([
        rawItems(legacy, (n) => n.includes("msg:a.probe")),
        rawItems(modern, (n) => n.includes("msg:b.probe")),
      ]),
    );
    legacy.write(encodeMessage([new Uint8Array([0, 0x61])])); // cancel "a"
    modern.write(encodeCommand("CANCEL", new TextEncoder().encode("b")));
    modern.write(encodeCommand("SUBSCRIBE", new TextEncoder().encode("c")));
    await publishUntilReceived(() => pub.send(["c.probe"]), rawItems(modern, (n) => n.includes("msg:c.probe")));
    await pub.send(["a.after"]);
    await pub.send(["b.after"]);
    await pub.send(["c.end"]);
    const names = await rawItems(modern, (n) => n.includes("msg:c.end"));
    expect(names.filter((n) => n.startsWith("msg:b.after"))).toEqual([]);
    expect(legacy.received().length).toBeGreaterThan(0);
    expect(new TextDecoder().decode(legacy.received())).not.toContain("a.after");
  });

  it("drops for a stalled subscriber at the high-water mark without slowing the others", async () => {
    const pub = track(new Publisher({ ...quiet, sendHighWaterMark: 20 }));
    await pub.bind("tcp://127.0.0.1:0");
    const stalled = await connectRaw(pub.lastEndpoint!, "SUB");
    stalled.write(encodeMessage([new Uint8Array([1])]));
    const sub = track(new Subscriber(quiet));
    sub.subscribe("");
    sub.connect(pub.lastEndpoint!);
    await publishUntilReceived(
      () => pub.send(["probe"]),
      Promise.all([sub.receive(), rawItems(stalled, (n) => n.includes("msg:probe"))]),
    );
    // From here on the stalled peer reads nothing: the kernel's buffers fill, then its queue.
    stalled.pause();
    const stalledBytes = stalled.received().length;
    const body = new Uint8Array(64 * 1024);
    const healthyNext = async () => {
      let message: string[];
      while ((message = text((await sub.receive()).slice(0, 2)))[0] === "probe");
      return message;
    };
    // Paced by the healthy subscriber, each message reaching it before the next is sent: so
    // every message dropped is one the stalled peer missed, and the healthy one loses none.
    let sent = 0;
    while (pub.droppedMessages === 0) {
      // Loopback buffers hold a few MB: about 100 messages fill them (64 MiB is far past that).
      if (sent === 1_000) throw new Error("the stalled peer never reached its high-water mark (64 MiB sent)");
      await pub.send(["flood", String(sent), body]);
      expect(await healthyNext()).toEqual(["flood", String(sent)]);
      sent++;
    }
    for (let more = 0; more < 10; more++, sent++) {
      await pub.send(["flood", String(sent), body]);
      expect(await healthyNext()).toEqual(["flood", String(sent)]);
    }
    // One drop for the stalled peer per message from the first drop on (no more: none for the healthy one).
    expect(pub.droppedMessages).toBeGreaterThan(0);
    expect(pub.droppedMessages).toBeLessThanOrEqual(11);
    expect(stalled.received().length).toBe(stalledBytes);
    // Once it reads again, it gets new messages again.
    stalled.resume();
    await publishUntilReceived(() => pub.send(["after"]), rawItems(stalled, (n) => n.includes("msg:after")));
  });

  it("stops sending a prefix on the first CANCEL, however often it was subscribed (libzmq SUB)", async () => {
    const pub = track(new Publisher(quiet));
    await pub.bind("tcp://127.0.0.1:0");
    const raw = await connectRaw(pub.lastEndpoint!, "SUB");
    const send = (name: string, prefix: string) => raw.write(encodeCommand(name, new TextEncoder().encode(prefix)));
    // What libzmq's SUB sends for subscribe("x", "y"), subscribe("x"): one SUBSCRIBE per call.
    send("SUBSCRIBE", "x");
    send("SUBSCRIBE", "y");
    send("SUBSCRIBE", "x");
    await publishUntilReceived(() => pub.send(["y.probe"]), rawItems(raw, (n) => n.includes("msg:y.probe")));
    // unsubscribe("x") leaves its own count at 1 and sends nothing; unsubscribe("y") cancels.
    send("CANCEL", "y");
    send("SUBSCRIBE", "w");
    await publishUntilReceived(() => pub.send(["w.probe"]), rawItems(raw, (n) => n.includes("msg:w.probe")));
    await pub.send(["x.still"]);
    await pub.send(["y.gone"]);
    await pub.send(["w.mark"]);
    let names = await rawItems(raw, (n) => n.includes("msg:w.mark"));
    expect(names).toContain("msg:x.still");
    expect(names.filter((n) => n.startsWith("msg:y.gone"))).toEqual([]);
    // The second unsubscribe("x") brings libzmq's count to zero: the one CANCEL it sends.
    send("CANCEL", "x");
    send("SUBSCRIBE", "z");
    await publishUntilReceived(() => pub.send(["z.probe"]), rawItems(raw, (n) => n.includes("msg:z.probe")));
    await pub.send(["x.gone"]);
    await pub.send(["z.end"]);
    names = await rawItems(raw, (n) => n.includes("msg:z.end"));
    expect(names.filter((n) => n.startsWith("msg:x.gone"))).toEqual([]);
  });

  it("ignores and logs subscription prefixes over 1024 bytes", async () => {
    const logged: string[] = [];
    const pub = track(new Publisher({ log: (message) => logged.push(message) }));
    await pub.bind("tcp://127.0.0.1:0");
    const raw = await connectRaw(pub.lastEndpoint!, "SUB");
    const long = "L".repeat(1025);
    raw.write(encodeCommand("SUBSCRIBE", new TextEncoder().encode(long)));
    raw.write(encodeCommand("SUBSCRIBE", new TextEncoder().encode("ok")));
    await publishUntilReceived(() => pub.send(["ok.probe"]), rawItems(raw, (n) => n.includes("msg:ok.probe")));
    await pub.send([`${long}.x`]);
    await pub.send(["ok.end"]);
    const names = await rawItems(raw, (n) => n.includes("msg:ok.end"));
    expect(names.filter((n) => n.startsWith("msg:L"))).toEqual([]);
    expect(logged.join("\n")).toMatch(/prefix of 1025 bytes exceeds 1024, ignored/);
  });

  it("ignores and logs subscriptions beyond 10000 prefixes per peer", async () => {
    const logged: string[] = [];
    const pub = track(new Publisher({ log: (message) => logged.push(message) }));
    await pub.bind("tcp://127.0.0.1:0");
    const raw = await connectRaw(pub.lastEndpoint!, "SUB");
    const encoder = new TextEncoder();
    const commands = Array.from({ length: 10_000 }, (_, i) => encodeCommand("SUBSCRIBE", encoder.encode(`p${i}.`)));
    const bytes = new Uint8Array(commands.reduce((n, c) => n + c.length, 0));
    commands.reduce((offset, command) => (bytes.set(command, offset), offset + command.length), 0);
    raw.write(bytes);
    raw.write(encodeCommand("SUBSCRIBE", encoder.encode("over")));
    // An existing prefix is still accepted (a no-op), a new one is not.
    raw.write(encodeCommand("SUBSCRIBE", encoder.encode("p0.")));
    await publishUntilReceived(() => pub.send(["p9999.probe"]), rawItems(raw, (n) => n.includes("msg:p9999.probe")));
    await pub.send(["over.x"]);
    await pub.send(["p0.end"]);
    const names = await rawItems(raw, (n) => n.includes("msg:p0.end"));
    expect(names.filter((n) => n.startsWith("msg:over"))).toEqual([]);
    expect(logged.join("\n")).toMatch(/more than 10000 subscription prefixes, further ones ignored/);
  });

  it("our Subscriber sends what libzmq's does: SUBSCRIBE per call, CANCEL when its count reaches zero", async () => {
    const { createServer } = await import("node:net");
    const chunks: Uint8Array[] = [];
    const server = createServer((socket) => {
      socket.on("data", (chunk: Uint8Array) => chunks.push(new Uint8Array(chunk)));
      socket.on("error", () => {});
      socket.write(encodeGreeting());
      socket.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "PUB" })));
    });
    open.push({ close: () => void server.close() });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as { port: number }).port;
    const sub = track(new Subscriber(quiet));
    const shaken = sub.events.once("handshake");
    sub.connect(`tcp://127.0.0.1:${port}`);
    await shaken;
    sub.subscribe("x", "y");
    sub.subscribe("x");
    sub.unsubscribe("x");
    sub.unsubscribe("y");
    sub.unsubscribe("x");
    const expected = ["1x", "1y", "1x", "0y", "0x"];
    const sent = async (): Promise<string[]> => {
      while (true) {
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let offset = 0;
        for (const chunk of chunks) bytes.set(chunk, (offset += chunk.length) - chunk.length);
        if (bytes.length > GREETING_SIZE) {
          const items = new FrameDecoder().push(bytes.subarray(GREETING_SIZE));
          const subs = items.flatMap((item) =>
            item.kind === "message" ? [`${item.frames[0]![0]}${text([item.frames[0]!.subarray(1)])[0]}`] : [],
          );
          if (subs.length >= expected.length) return subs;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    expect(await sent()).toEqual(expected);
  });

  it("filters on the subscriber side too, by its counted subscriptions, against a publisher that sends everything", async () => {
    const pub = await unfilteredPublisher();
    const sub = track(new Subscriber(quiet));
    sub.subscribe("x", "y");
    sub.subscribe("x"); // counted: one unsubscribe("x") keeps it
    const shaken = sub.events.once("handshake");
    sub.connect(pub.endpoint);
    await shaken;
    const next = async () => text(await sub.receive())[0];
    // Each round ends with a wanted topic, so everything before it has been filtered.
    pub.send("a.no", "x.1", "b.no", "y.1", "", "X.no");
    expect([await next(), await next()]).toEqual(["x.1", "y.1"]);
    sub.unsubscribe("x");
    sub.unsubscribe("y");
    pub.send("y.gone", "a.no", "x.still");
    expect(await next()).toBe("x.still");
    sub.unsubscribe("x");
    sub.subscribe("z");
    pub.send("x.gone", "y.gone", "z.end");
    expect(await next()).toBe("z.end");
    sub.unsubscribe("z");
    sub.subscribe("");
    pub.send("anything");
    expect(await next()).toBe("anything");
  });

  it("our Publisher and Subscriber agree end to end on subscribe and unsubscribe", async () => {
    const pub = track(new Publisher(quiet));
    await pub.bind("tcp://127.0.0.1:0");
    const sub = track(new Subscriber(quiet));
    sub.subscribe("x", "y");
    sub.subscribe("x"); // counted: one unsubscribe("x") keeps it
    const proxy = await tapProxy(pub.lastEndpoint!);
    sub.connect(proxy.endpoint);
    await publishUntilReceived(() => pub.send(["y.probe"]), sub.receive());
    sub.unsubscribe("x");
    sub.unsubscribe("y");
    await publishUntilReceived(() => pub.send(["x.still"]), (async () => {
      while (text(await sub.receive())[0] !== "x.still");
    })());
    sub.unsubscribe("x");
    sub.subscribe("z");
    await publishUntilReceived(() => pub.send(["z.probe"]), (async () => {
      while (text(await sub.receive())[0] !== "z.probe");
    })());
    await pub.send(["x.gone"]);
    await pub.send(["y.gone"]);
    await pub.send(["z.end"]);
    let topic: string | undefined;
    while ((topic = text(await sub.receive())[0]) === "z.probe");
    expect(topic).toBe("z.end");
    // The Publisher itself left them out: the Subscriber's CANCELs reached it.
    const sent = new FrameDecoder().push(proxy.down().subarray(GREETING_SIZE)).flatMap((item) => (item.kind === "message" ? text(item.frames.slice(0, 1)) : []));
    expect(sent).toContain("z.end");
    expect(sent.filter((topic) => topic.endsWith(".gone"))).toEqual([]);
  });

  it("a Subscriber cannot send", async () => {
    const sub = track(new Subscriber(quiet));
    await expect(sub.send()).rejects.toThrow(TypeError);
  });
});
