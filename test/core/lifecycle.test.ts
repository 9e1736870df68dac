import { describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer, msgpackCodec, tap, withFaults, type CallContext, type TapFrame } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { messagePortClient, messagePortServer } from "../../transports/message-port.ts";
import type { ClientTransport, ServerTransport } from "../../lib/transport.ts";
import { recordingLogger, until } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("server lifecycle", () => {
  it("serves requests sent before it started, including those that arrive while it starts", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    server.register("add", (a: number, b: number) => a + b);
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, logger: quiet });
    await client.start();
    const early = client.call("add", [1, 2]);
    await server.start();
    expect(await early).toBe(3);
    await client.stop();
    await server.stop();
  });

  it("is stopped after stop(), even when stop() was called while start() was under way", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    const starting = server.start();
    const stopping = server.stop();
    await starting;
    await stopping;
    expect(server.running).toBe(false);
    await server.start();
    expect(server.running).toBe(true);
    await server.stop();
  });

  it("can start again after its transport failed to listen", async () => {
    const hub = memoryHub();
    let fail = true;
    const flaky: ServerTransport = {
      ...hub.server,
      listen: (sink) => (fail ? Promise.reject(new Error("address in use")) : hub.server.listen(sink)),
    };
    const server = new RpcServer({ transport: flaky, logger: quiet });
    await expect(server.start()).rejects.toThrow("address in use");
    expect(server.running).toBe(false);
    fail = false;
    await server.start();
    expect(server.running).toBe(true);
    await server.stop();
  });

  it("caps the calls one peer may have in flight with RESOURCE_EXHAUSTED", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, maxInFlightPerPeer: 2, logger: quiet });
    const release: Array<() => void> = [];
    server.register("hold", () => new Promise<void>((resolve) => release.push(resolve)));
    await server.start();
    const client = new RpcClient({ transport: hub.client(), logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    const held = [client.call("hold"), client.call("hold")];
    await expect(client.call("hold")).rejects.toMatchObject({ code: "RESOURCE_EXHAUSTED" });
    release.forEach((r) => r());
    await Promise.all(held);
    await client.stop();
    await server.stop();
  });

  it("aborts the handlers of a caller that went away", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    let reason: unknown;
    let started = false;
    server.register("wait", (ctx: CallContext) => {
      started = true;
      ctx.signal.addEventListener("abort", () => void (reason = ctx.signal.reason));
      return new Promise(() => {});
    });
    await server.start();
    const client = new RpcClient({ transport: hub.client(), timeoutMs: 0, logger: quiet });
    await client.start();
    const call = client.call("wait").catch(() => {});
    await until(() => started);
    await client.stop();
    await call;
    await until(() => reason !== undefined);
    expect(reason).toMatchObject({ code: "CANCELLED" });
    await server.stop();
  });

  it("sends no reply for a call whose deadline passed while the handler ran", async () => {
    const hub = memoryHub();
    const frames: TapFrame[] = [];
    const server = new RpcServer({ transport: tap(hub.server, (f) => frames.push(f)), heartbeatMs: 0, logger: quiet });
    let finished = false;
    server.register("slow", async () => {
      await sleep(60); // never looks at ctx.signal
      finished = true;
      return "late";
    });
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, logger: quiet });
    await client.start();
    await expect(client.call("slow", [], { timeoutMs: 20 })).rejects.toMatchObject({ code: "TIMEOUT" });
    await until(() => finished);
    await sleep(5);
    expect(frames.filter((f) => f.direction === "out" && f.kind === "result")).toEqual([]);
    await client.stop();
    await server.stop();
  });

  it("answers INTERNAL when a handler rejects with something that has no string form", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    server.register("odd", () => Promise.reject(Object.create(null)));
    await server.start();
    const client = new RpcClient({ transport: hub.client(), timeoutMs: 0, logger: quiet });
    await client.start();
    await expect(client.call("odd")).rejects.toMatchObject({ code: "INTERNAL" });
    await client.stop();
    await server.stop();
  });
});

describe("deadlines shared by many calls", () => {
  it("times out each call at its own deadline when calls share one timeout", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0, logger: quiet });
    const release: Array<() => void> = [];
    server.register("hold", () => new Promise<void>((resolve) => release.push(resolve)));
    server.register("quick", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, timeoutMs: 60, logger: quiet });
    await client.start();
    // Each call is measured from its own start: a loaded machine fires timers late, so the gap
    // between two settlements says nothing, but no call may settle before its own deadline.
    const order: string[] = [];
    const timed = (label: string) => {
      const started = performance.now();
      return client.call("hold").then(
        () => ({ code: "OK", elapsed: performance.now() - started }),
        (e: RpcError) => (order.push(label), { code: e.code, elapsed: performance.now() - started }),
      );
    };
    const first = timed("first");
    await sleep(30);
    const second = timed("second");
    // A call that settles in between must not disturb the others' deadlines.
    expect(await client.call("quick")).toBe("ok");
    const [a, b] = await Promise.all([first, second]);
    expect(a.code).toBe("TIMEOUT");
    expect(b.code).toBe("TIMEOUT");
    // Timers fire on a millisecond clock: 1 ms of slack (TIMER_SLACK_MS in lib/client.ts).
    expect(a.elapsed).toBeGreaterThanOrEqual(59);
    expect(b.elapsed).toBeGreaterThanOrEqual(59);
    expect(order).toEqual(["first", "second"]);
    expect(client.inFlight).toBe(0);
    release.forEach((r) => r());
    await client.stop();
    await server.stop();
  });

  it("times out a slow call while many calls of its group settle behind it", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0, logger: quiet });
    const release: Array<() => void> = [];
    server.register("hold", () => new Promise<void>((resolve) => release.push(resolve)));
    server.register("quick", (n: number) => n);
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, timeoutMs: 200, logger: quiet });
    await client.start();
    const timed = () => {
      const started = performance.now();
      return client.call("hold").then(
        () => ({ code: "OK", elapsed: performance.now() - started }),
        (e: RpcError) => ({ code: e.code, elapsed: performance.now() - started }),
      );
    };
    const first = timed();
    // Far more settled calls than the group keeps behind a live one before it compacts.
    for (let batch = 0; batch < 5; batch++) {
      const ns = Array.from({ length: 100 }, (_, i) => batch * 100 + i);
      expect(await Promise.all(ns.map((n) => client.call("quick", [n])))).toEqual(ns);
    }
    const second = timed();
    expect(client.inFlight).toBe(2);
    const [a, b] = await Promise.all([first, second]);
    expect(a.code).toBe("TIMEOUT");
    expect(b.code).toBe("TIMEOUT");
    expect(a.elapsed).toBeGreaterThanOrEqual(199);
    expect(b.elapsed).toBeGreaterThanOrEqual(199);
    expect(client.inFlight).toBe(0);
    release.forEach((r) => r());
    await client.stop();
    await server.stop();
  });

  it("gives a handler that keeps its context after the call a correct, quiet signal", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0, logger: quiet });
    const kept: CallContext[] = [];
    server.register("keep", (ctx: CallContext) => void kept.push(ctx));
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0, logger: quiet });
    await client.start();
    await client.call("keep", [], { timeoutMs: 20, meta: { a: "1" } });
    await client.call("keep", [], { timeoutMs: 20, meta: { a: "2" } });
    expect(kept.map((c) => [c.functionName, c.meta["a"]])).toEqual([
      ["keep", "1"],
      ["keep", "2"],
    ]);
    await sleep(40); // past the deadline: reading the signal now arms no timer and aborts nothing
    expect(kept[0]!.signal.aborted).toBe(false);
    expect(kept[0]!.signal).toBe(kept[0]!.signal);
    await client.stop();
    await server.stop();
  });
});

describe("client lifecycle", () => {
  it("goes back to idle when its transport cannot connect, and can start again", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    server.register("ok", () => "ok");
    await server.start();
    const inner = hub.client();
    let fail = true;
    let closes = 0;
    const flaky: ClientTransport = {
      ...inner,
      connect: (sink) => (fail ? Promise.reject(new Error("refused")) : inner.connect(sink)),
      close: () => (closes++, inner.close()),
    };
    const client = new RpcClient({ transport: flaky, logger: quiet });
    await expect(client.start()).rejects.toThrow("refused");
    expect(client.state).toBe("idle");
    expect(closes).toBe(1); // what the transport opened before failing is released
    fail = false;
    await client.start();
    expect(await client.call("ok")).toBe("ok");
    await client.stop();
    await server.stop();
  });

  it("keeps the code of a transport's own RpcError when a send fails", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    await server.start();
    const inner = hub.client();
    let full = false;
    const bounded: ClientTransport = {
      ...inner,
      send: (frame) => {
        if (full) throw new RpcError("RESOURCE_EXHAUSTED", "Request queue is full");
        inner.send(frame);
      },
    };
    const client = new RpcClient({ transport: bounded, logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    full = true;
    const error = (await client.call("x").catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe("RESOURCE_EXHAUSTED");
    expect(error.message).toBe("Request queue is full");
    expect(String(error)).toBe("RpcError [RESOURCE_EXHAUSTED]: Request queue is full");
    full = false;
    const thrown = { ...bounded, send: () => { throw new Error("socket closed"); } };
    const other = new RpcClient({ transport: thrown, logger: quiet, heartbeatToleranceMs: 0 });
    await other.start();
    await expect(other.call("x")).rejects.toMatchObject({ code: "UNAVAILABLE", rawMessage: "Request could not be sent: socket closed" });
    await other.stop();
    await client.stop();
    await server.stop();
  });

  it("does nothing more once stopped while start() waited for the transport", async () => {
    const hub = memoryHub();
    const inner = hub.client();
    const subscribed: string[] = [];
    let open: () => void = () => {};
    const slow: ClientTransport = {
      ...inner,
      connect: (sink) => new Promise<void>((resolve) => (open = () => inner.connect(sink).then(resolve))),
      subscribe: (prefix) => void subscribed.push(prefix),
    };
    const client = new RpcClient({ transport: slow, logger: quiet });
    const starting = client.start();
    await client.stop();
    open();
    await starting;
    expect(client.state).toBe("idle");
    expect(subscribed).toEqual([]);
  });

  it("turns its liveness check off for a server that sends no heartbeats", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0, logger: quiet });
    server.register("ok", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 50, logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    await sleep(150);
    expect(client.state).toBe("connected");
    expect(await client.call("ok")).toBe("ok");
    await client.stop();
    await server.stop();
  });

  it("trusts its transport's word that the request link is down over heartbeats", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 10, logger: quiet });
    await server.start();
    const inner = hub.client();
    let sink: Parameters<ClientTransport["connect"]>[0] | undefined;
    let broadcasts = 0;
    const counted = (s: Parameters<ClientTransport["connect"]>[0]) => ({ ...s, broadcast: (...a: Parameters<typeof s.broadcast>) => (broadcasts++, s.broadcast(...a)) });
    const watched: ClientTransport = { ...inner, connect: (s) => ((sink = s), inner.connect(counted(s))) };
    const client = new RpcClient({ transport: watched, heartbeatToleranceMs: 1000, logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    sink!.linkDown!("request socket lost");
    expect(client.state).toBe("disconnected");
    const before = broadcasts;
    await until(() => broadcasts >= before + 3); // heartbeats keep arriving on the broadcast link
    expect(client.state).toBe("disconnected");
    sink!.linkUp!();
    expect(client.state).toBe("connected");
    await client.stop();
    await server.stop();
  });

  it("keeps its own heartbeat subscription when a user unsubscribes the same topic", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 10, logger: quiet });
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 60, logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    client.subscribe("$tw.heartbeat", () => {})();
    await sleep(150);
    expect(client.state).toBe("connected");
    await client.stop();
    await server.stop();
  });
});

describe("wrappers", () => {
  it("keep the wrapped transport's own methods reachable", async () => {
    const server = withFaults(messagePortServer(), { latencyMs: 0 });
    expect(typeof server.addEndpoint).toBe("function");
    const tapped = tap(messagePortServer(), () => {});
    expect(typeof tapped.addEndpoint).toBe("function");
    const channel = new MessageChannel();
    tapped.addEndpoint(channel.port1);
    channel.port1.close();
  });

  it("a throwing tap observer does not fail a call that went out", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    let runs = 0;
    server.register("order", () => ++runs);
    await server.start();
    const logger = recordingLogger();
    const transport = tap(hub.client(), () => {
      throw new Error("observer bug");
    }, { logger });
    const client = new RpcClient({ transport, logger: quiet });
    await client.start();
    await until(() => client.state === "connected");
    expect(await client.call("order")).toBe(1);
    expect(runs).toBe(1);
    expect(logger.lines.some((l) => l.includes("observer bug"))).toBe(true);
    await client.stop();
    await server.stop();
  });

  it("faults keep frames in order across a latency change and count each frame once", async () => {
    const hub = memoryHub();
    const server = withFaults(hub.server, { latencyMs: 40 });
    const rpc = new RpcServer({ transport: server, heartbeatMs: 0, logger: quiet });
    await rpc.start();
    const raw = hub.client();
    const codec = msgpackCodec();
    const got: unknown[] = [];
    await raw.connect({ reply: () => {}, broadcast: (_t, f) => got.push((codec.decode(f) as unknown[])[2]) });
    raw.subscribe("");
    rpc.publish("t", 1);
    server.faults.set({ latencyMs: 0 });
    rpc.publish("t", 2);
    await until(() => got.length === 2);
    expect(got).toEqual([1, 2]);

    server.faults.set({ latencyMs: 30 });
    rpc.publish("t", 3);
    server.faults.cut();
    await sleep(50);
    expect(got).toEqual([1, 2]);
    expect(server.faults.stats).toEqual({ forwarded: 2, dropped: 1, delayed: 0 });
    await rpc.stop();
    await raw.close();
  });

  it("faults clear their delayed frames on close: none is delivered afterwards", async () => {
    const hub = memoryHub();
    const server = withFaults(hub.server, { latencyMs: 30 });
    const rpc = new RpcServer({ transport: server, heartbeatMs: 0, logger: quiet });
    await rpc.start();
    const raw = hub.client();
    const got: unknown[] = [];
    await raw.connect({ reply: () => {}, broadcast: (_t, f) => got.push(f) });
    raw.subscribe("");
    rpc.publish("t", 1);
    expect(server.faults.stats.delayed).toBe(1);
    await rpc.stop();
    expect(server.faults.stats.delayed).toBe(0);
    await server.listen({ request: () => {} }); // listening again: a leaked timer would now deliver
    await sleep(60);
    expect(got).toEqual([]);
    await server.close();
    await raw.close();
  });
});

describe("decoding builds plain data only", () => {
  it("refuses MessagePack extension types other than the timestamp", () => {
    const codec = msgpackCodec();
    // fixext 1, type 5, one data byte
    expect(() => codec.decode(new Uint8Array([0xd4, 0x05, 0x00]))).toThrow(/extension type 5/);
    const when = new Date(1_764_000_000_000);
    expect(codec.decode(codec.encode(when))).toEqual(when);
  });
});

describe("MessagePort restarts", () => {
  it("a server restarted on the same ports serves its clients again, with their subscriptions", async () => {
    const channel = new MessageChannel();
    const endpoints = [channel.port1];
    const transport = messagePortServer(endpoints);
    const server = new RpcServer({ transport, heartbeatMs: 0, logger: quiet });
    server.register("ok", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: messagePortClient(channel.port2), logger: quiet });
    const events: string[] = [];
    client.on("connected", () => events.push("connected"));
    client.on("disconnected", () => events.push("disconnected"));
    await client.start();
    await until(() => client.state === "connected");
    const got: unknown[] = [];
    client.subscribe("t", (_t, d) => got.push(d));
    expect(await client.call("ok")).toBe("ok");
    expect(endpoints).toHaveLength(1); // the caller's array is left alone

    await server.stop(); // no heartbeats: only the port's "bye" can tell the client
    await until(() => client.state === "disconnected");
    await expect(client.call("ok")).rejects.toMatchObject({ code: "UNAVAILABLE" });
    await server.start();
    // Only the server's "hi" can tell the client it is back: no heartbeats, no retries.
    await until(() => client.state === "connected");
    expect(await client.call("ok")).toBe("ok");
    server.publish("t", "again");
    await until(() => got.length === 1);
    expect(got).toEqual(["again"]);
    expect(events).toEqual(["connected", "disconnected", "connected"]);
    await client.stop();
    await server.stop();
    await transport.detach();
    channel.port1.close();
    channel.port2.close();
  });

  it("a client stopped and started again on the same port is served", async () => {
    const channel = new MessageChannel();
    const server = new RpcServer({ transport: messagePortServer(channel.port1), logger: quiet });
    server.register("ok", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: messagePortClient(channel.port2), logger: quiet });
    await client.start();
    expect(await client.call("ok")).toBe("ok");
    await client.stop();
    await client.start();
    expect(await client.call("ok")).toBe("ok");
    await client.stop();
    await server.stop();
    channel.port1.close();
    channel.port2.close();
  });
});

