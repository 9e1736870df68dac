import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer, withFaults, HEARTBEAT_TOPIC } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { rig, until, type Rig } from "./helpers.ts";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe("topic broadcast", () => {
  it("delivers by prefix: one symbol, all ticks, or everything", async () => {
    r = await rig({ server: { heartbeatMs: 0 }, client: { heartbeatToleranceMs: 0 } });
    const one: string[] = [];
    const ticks: string[] = [];
    const all: string[] = [];
    r.client.subscribe("eTick.IF2512.CFFEX", (t) => one.push(t));
    r.client.subscribe("eTick.", (t) => ticks.push(t));
    r.client.subscribe("", (t) => all.push(t));
    for (const topic of ["eTick.IF2512.CFFEX", "eTick.rb2601.SHFE", "eOrder.SIM.1"]) r.server.publish(topic, { topic });
    await until(() => all.length === 3);
    expect(one).toEqual(["eTick.IF2512.CFFEX"]);
    expect(ticks).toEqual(["eTick.IF2512.CFFEX", "eTick.rb2601.SHFE"]);
    expect(all).toEqual(["eTick.IF2512.CFFEX", "eTick.rb2601.SHFE", "eOrder.SIM.1"]);
  });

  it("keeps the order of events and delivers their data", async () => {
    r = await rig();
    const got: unknown[] = [];
    r.client.subscribe("tick.", (_t, data) => got.push(data));
    for (let i = 0; i < 100; i++) r.server.publish("tick.X", i);
    await until(() => got.length === 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("stops delivering after unsubscribe, per handler and per prefix", async () => {
    r = await rig();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = r.client.subscribe("t", (_t, d) => a.push(d));
    r.client.subscribe("t", (_t, d) => b.push(d));
    r.server.publish("t", 1);
    await until(() => b.length === 1);
    offA();
    r.server.publish("t", 2);
    await until(() => b.length === 2);
    r.client.unsubscribe("t");
    r.server.publish("t", 3);
    r.server.publish("t", 4);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it("does not hand the framework's heartbeats to an everything-subscriber", async () => {
    r = await rig({ server: { heartbeatMs: 5 } });
    const topics: string[] = [];
    r.client.subscribe("", (t) => topics.push(t));
    await new Promise((resolve) => setTimeout(resolve, 30));
    r.server.publish("x", 1);
    await until(() => topics.length > 0);
    expect(topics).toEqual(["x"]);
  });

  it("refuses reserved topics and names, and survives a throwing subscriber", async () => {
    r = await rig();
    expect(() => r!.server.publish(HEARTBEAT_TOPIC, 1)).toThrow(TypeError);
    expect(() => r!.server.register("$tw.ping", () => 1)).toThrow(TypeError);
    const got: unknown[] = [];
    r.client.subscribe("x", () => {
      throw new Error("bad subscriber");
    });
    r.client.subscribe("x", (_t, d) => got.push(d));
    r.server.publish("x", 1);
    await until(() => got.length === 1);
    expect(r.logger.lines.some((l) => l.includes("threw"))).toBe(true);
  });
});

describe("liveness", () => {
  it("reports disconnected when heartbeats stop, fails calls in flight with UNAVAILABLE, and recovers", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 20 });
    server.register("hang", () => new Promise(() => {}));
    server.register("ok", () => "ok");
    await server.start();
    const link = withFaults(hub.client());
    const client = new RpcClient({ transport: link, heartbeatToleranceMs: 100, timeoutMs: 0 });
    const events: string[] = [];
    client.on("connected", () => events.push("connected"));
    client.on("disconnected", (reason) => events.push(`disconnected: ${reason}`));
    await client.start();
    await until(() => client.state === "connected");

    const ticks: unknown[] = [];
    client.subscribe("tick.", (_t, d) => ticks.push(d));
    const inFlight = client.call("hang");
    expect(events).toEqual(["connected"]);
    link.faults.cut();
    await expect(inFlight).rejects.toMatchObject({ code: "UNAVAILABLE" });
    expect(client.state).toBe("disconnected");
    await expect(client.call("ok")).rejects.toMatchObject({ code: "UNAVAILABLE" });

    link.faults.restore();
    await until(() => client.state === "connected");
    expect(await client.call("ok")).toBe("ok");
    server.publish("tick.A", 7);
    await until(() => ticks.length === 1);
    // What the cut caused, whatever a loaded machine adds later: one heartbeat loss, one recovery.
    expect(events.slice(1, 3)).toEqual([expect.stringMatching(/^disconnected: no heartbeat for 100 ms/), "connected"]);
    await client.stop();
    await server.stop();
  });

  it("learns at once that a server is stopping, and reconnects when it comes back", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 10 });
    server.register("ok", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 5000 });
    await client.start();
    await until(() => client.state === "connected");
    await server.stop();
    await until(() => client.state === "disconnected");
    await server.start();
    await until(() => client.state === "connected");
    expect(await client.call("ok")).toBe("ok");
    await client.stop();
    await server.stop();
  });

  it("reports a server that never answers as UNAVAILABLE after the tolerance", async () => {
    const hub = memoryHub();
    const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 50, timeoutMs: 5000 });
    await client.start();
    const error = await client.call("anything").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "UNAVAILABLE" });
    expect(String(error)).toContain("Server unreachable");
    await client.stop();
  });
});
