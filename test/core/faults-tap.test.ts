import { describe, expect, it } from "vitest";
import { RpcClient, RpcServer, tap, withFaults, type TapFrame } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { until } from "./helpers.ts";

describe("withFaults", () => {
  it("delays frames by the latency, both ways, in order", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
    server.register("n", (x: number) => x);
    await server.start();
    const link = withFaults(hub.client(), { latencyMs: 25 });
    const client = new RpcClient({ transport: link, heartbeatToleranceMs: 0 });
    await client.start();
    const started = performance.now();
    const results = await Promise.all([1, 2, 3].map((x) => client.call("n", [x])));
    const elapsed = performance.now() - started;
    expect(results).toEqual([1, 2, 3]);
    // Request and reply each wait 25 ms, so one round trip cannot be shorter than 50 ms.
    expect(elapsed).toBeGreaterThanOrEqual(49);
    expect(link.faults.stats.forwarded).toBe(6);
    await client.stop();
    await server.stop();
  });

  it("drops frames at the loss rate with an injected random source", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
    await server.start();
    let i = 0;
    const link = withFaults(hub.client(), { lossRate: 0.5, random: () => (i++ % 2 === 0 ? 0.1 : 0.9) });
    const client = new RpcClient({ transport: link, heartbeatToleranceMs: 0 });
    await client.start();
    const got: unknown[] = [];
    client.subscribe("t", (_t, d) => got.push(d));
    for (let n = 0; n < 10; n++) server.publish("t", n);
    await until(() => link.faults.stats.dropped + link.faults.stats.forwarded === 10);
    expect(got).toEqual([1, 3, 5, 7, 9]);
    expect(link.faults.stats.dropped).toBe(5);
    await client.stop();
    await server.stop();
  });

  it("cuts and restores the link, and clears its timers on close", async () => {
    const hub = memoryHub();
    const server = withFaults(hub.server, { latencyMs: 1000 });
    const rpc = new RpcServer({ transport: server, heartbeatMs: 0 });
    await rpc.start();
    const client = hub.client();
    const got: unknown[] = [];
    await client.connect({ reply: () => {}, broadcast: (_t, f) => got.push(f) });
    client.subscribe("");
    rpc.publish("t", 1); // waiting 1 s in a timer
    server.faults.cut();
    expect(server.faults.isCut).toBe(true);
    rpc.publish("t", 2);
    expect(server.faults.stats.dropped).toBe(1);
    server.faults.restore();
    await rpc.stop(); // must clear the 1 s timer, or the runner would wait for it
    expect(got).toEqual([]);
    await client.close();
  });

  it("rejects nonsense options", () => {
    const hub = memoryHub();
    expect(() => withFaults(hub.client(), { lossRate: 2 })).toThrow(RangeError);
    expect(() => withFaults(hub.client(), { latencyMs: -1 })).toThrow(RangeError);
  });
});

describe("tap", () => {
  it("reports every frame with direction, kind, name or topic, size and time", async () => {
    const hub = memoryHub();
    const seen: TapFrame[] = [];
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
    server.register("add", (a: number, b: number) => a + b);
    await server.start();
    const client = new RpcClient({ transport: tap(hub.client(), (f) => seen.push(f)), heartbeatToleranceMs: 0 });
    await client.start();
    client.subscribe("tick.", () => {});
    expect(await client.call("add", [2, 3])).toBe(5);
    await client.call("missing").catch(() => {});
    server.publish("tick.IF", { p: 1 });
    await until(() => seen.some((f) => f.kind === "event"));

    const [req, res, req2, err, event] = seen;
    expect(req).toMatchObject({ direction: "out", channel: "request", kind: "request", name: "add", payload: [2, 3] });
    expect(res).toMatchObject({ direction: "in", channel: "reply", kind: "result", id: req!.id, payload: 5 });
    expect(req2).toMatchObject({ kind: "request", name: "missing" });
    expect(err).toMatchObject({ kind: "error", code: "NOT_FOUND", id: req2!.id });
    expect(event).toMatchObject({ direction: "in", channel: "broadcast", kind: "event", topic: "tick.IF", payload: { p: 1 } });
    for (const f of seen) {
      expect(f.bytes).toBeGreaterThan(0);
      expect(typeof f.time).toBe("number");
    }
    await client.stop();
    await server.stop();
  });

  it("reports undecodable frames as malformed and still forwards them", async () => {
    const hub = memoryHub();
    const seen: TapFrame[] = [];
    const logs: string[] = [];
    const server = new RpcServer({
      transport: tap(hub.server, (f) => seen.push(f)),
      heartbeatMs: 0,
      logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
    });
    await server.start();
    const raw = hub.client();
    await raw.connect({ reply: () => {}, broadcast: () => {} });
    raw.send(new Uint8Array([0xc1]));
    await until(() => logs.length === 1);
    expect(seen).toEqual([expect.objectContaining({ direction: "in", channel: "request", kind: "malformed", bytes: 1 })]);
    await raw.close();
    await server.stop();
  });
});
