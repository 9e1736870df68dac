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
    const router = track(new Router({ ...quiet, heartbeatInterval: 50, heartbeatTimeout: 150 }));
    await router.bind("tcp://127.0.0.1:0");
    const gone = router.events.once("disconnect");
    const raw = await connectRaw(router.lastEndpoint!, "DEALER");
    const event = await gone;
    expect(event.reason).toMatch(/heartbeat timeout 150 ms/);
    const names = await rawItems(raw, (n) => n.includes("PING"));
    expect(names[0]).toBe("READY");
  });

  it("keeps a peer that answers PINGs connected well past the timeout", async () => {
    const router = track(new Router({ ...quiet, heartbeatInterval: 30, heartbeatTimeout: 300 }));
    await router.bind("tcp://127.0.0.1:0");
    const dropped = router.events.once("disconnect").then((event) => `dropped: ${event.reason}`);
    const raw = await connectRaw(router.lastEndpoint!, "DEALER");
    // Answer every PING as it arrives; fifteen of them span more than the timeout.
    let answered = 0;
    const fifteen = new Promise<void>((resolve) =>
      raw.onData(() => {
        const pings = countPings(raw.received());
        for (; answered < pings; answered++) raw.write(encodeCommand("PONG"));
        if (answered >= 15) resolve();
      }),
    );
    expect(await Promise.race([fifteen.then(() => "still connected"), dropped])).toBe("still connected");
    raw.write(encodeMessage([new TextEncoder().encode("still here")]));
    expect(text(await router.receive())[1]).toBe("still here");
  });

  it("pings in both directions between our own sockets", async () => {
    const router = track(new Router({ ...quiet, heartbeatInterval: 20, heartbeatTimeout: 1000 }));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = track(new Dealer({ ...quiet, heartbeatInterval: 20, heartbeatTimeout: 1000 }));
    dealer.connect(router.lastEndpoint!);
    await dealer.send("one");
    expect(text(await router.receive())[1]).toBe("one");
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
    await publishUntilReceived(() => pub.send(["probe"]), sub.receive());
    const body = new Uint8Array(64 * 1024);
    // The stalled peer never reads: its queue fills and every later message is dropped for it.
    while (pub.droppedMessages === 0) await pub.send(["flood", body]);
    expect(pub.droppedMessages).toBeGreaterThan(0);
    await publishUntilReceived(
      () => pub.send(["end"]),
      (async () => {
        while (text(await sub.receive())[0] !== "end");
      })(),
    );
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

  it("filters on the subscriber side too and stops after unsubscribe", async () => {
    const pub = track(new Publisher(quiet));
    await pub.bind("tcp://127.0.0.1:0");
    const sub = track(new Subscriber(quiet));
    sub.subscribe("x", "y");
    sub.subscribe("x"); // counted: one unsubscribe("x") keeps it
    sub.connect(pub.lastEndpoint!);
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
  });

  it("a Subscriber cannot send", async () => {
    const sub = track(new Subscriber(quiet));
    await expect(sub.send()).rejects.toThrow(TypeError);
  });
});
