import { afterEach, describe, expect, it } from "vitest";
import * as v from "valibot";
import { RpcClient, RpcError, RpcServer, jsonCodec, type CallContext } from "../../lib/index.ts";
import { memoryHub, memoryPair } from "../../transports/memory.ts";
import { rig, type Rig } from "./helpers.ts";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe("request/response", () => {
  it("calls a sync handler and an async handler", async () => {
    r = await rig({
      setup: (s) => {
        s.register("add", (a: number, b: number) => a + b);
        s.register("later", async (x: string) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return `got ${x}`;
        });
      },
    });
    expect(await r.client.call("add", [1, 2])).toBe(3);
    expect(await r.client.call("later", ["it"])).toBe("got it");
  });

  it("matches many calls in flight that finish in reverse order", async () => {
    r = await rig({
      setup: (s) => s.register("wait", (ms: number, tag: number) => new Promise((resolve) => setTimeout(() => resolve(tag), ms))),
    });
    const calls = Array.from({ length: 50 }, (_, i) => r!.client.call("wait", [50 - i, i]));
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(r.client.inFlight).toBe(0);
  });

  it("carries structured values and binary through msgpack", async () => {
    r = await rig({ setup: (s) => s.register("echo", (x: unknown) => x) });
    const value = { a: [1, 2.5, "x", null, true], nested: { bytes: new Uint8Array([1, 2, 3]) }, big: 2 ** 40 };
    expect(await r.client.call("echo", [value])).toEqual(value);
  });

  it("works with the JSON codec on both sides", async () => {
    r = await rig({
      server: { codec: jsonCodec() },
      client: { codec: jsonCodec() },
      setup: (s) => s.register("echo", (x: unknown) => x),
    });
    expect(await r.client.call("echo", [{ price: 3999.2, side: "LONG" }])).toEqual({ price: 3999.2, side: "LONG" });
  });

  it("gives handlers a context with meta, function name, peer and signal", async () => {
    let seen: CallContext | undefined;
    r = await rig({
      setup: (s) =>
        s.register("who", (_x: number, ctx: CallContext) => {
          seen = ctx;
          return ctx.meta["traceId"];
        }),
    });
    expect(await r.client.call("who", [1], { meta: { traceId: "t-42" } })).toBe("t-42");
    expect(seen?.functionName).toBe("who");
    expect(seen?.peer).toMatch(/^memory-/);
    expect(seen?.signal.aborted).toBe(false);
  });

  it("offers a typed proxy that is not thenable", async () => {
    r = await rig({ setup: (s) => s.register("add", (a: number, b: number) => a + b) });
    const api = r.client.proxy<{ add(a: number, b: number): number }>();
    const sum: number = await api.add(20, 22);
    expect(sum).toBe(42);
    expect((api as unknown as { then?: unknown }).then).toBeUndefined();
  });

  it("serves several clients of one server and routes each reply to its caller", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server });
    server.register("me", (ctx: CallContext) => ctx.peer);
    await server.start();
    const clients = [new RpcClient({ transport: hub.client() }), new RpcClient({ transport: hub.client() })];
    await Promise.all(clients.map((c) => c.start()));
    const [a, b] = await Promise.all(clients.map((c) => c.call("me")));
    expect(a).not.toBe(b);
    await Promise.all(clients.map((c) => c.stop()));
    await server.stop();
  });
});

describe("validation", () => {
  it("rejects arguments failing a Standard Schema validator with INVALID_ARGUMENT, handler not run", async () => {
    let runs = 0;
    r = await rig({
      setup: (s) =>
        s.register(
          "buy",
          (symbol: string, volume: number) => {
            runs++;
            return `${symbol}:${volume}`;
          },
          { input: v.tuple([v.string(), v.pipe(v.number(), v.integer(), v.minValue(1))]) },
        ),
    });
    const error = await r.client.call("buy", ["IF2512", -3]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
    expect((error as RpcError).message).toMatch(/1/);
    expect(runs).toBe(0);
    expect(await r.client.call("buy", ["IF2512", 3])).toBe("IF2512:3");
    expect(runs).toBe(1);
  });

  it("passes the validator's output (with transforms) to the handler", async () => {
    r = await rig({
      setup: (s) =>
        s.register("up", (x: string) => x, { input: v.tuple([v.pipe(v.string(), v.toUpperCase())]) }),
    });
    expect(await r.client.call("up", ["long"])).toBe("LONG");
  });
});

describe("public surface example from the design", () => {
  it("runs as written", async () => {
    const [serverSide, clientSide] = memoryPair();
    const server = new RpcServer({ transport: serverSide });
    server.register("add", (a: number, b: number) => a + b);
    await server.start();
    const client = new RpcClient({ transport: clientSide, timeoutMs: 5_000 });
    await client.start();
    expect(await client.call("add", [1, 2])).toBe(3);
    const api = client.proxy<{ add(a: number, b: number): number }>();
    expect(await api.add(1, 2)).toBe(3);
    const got = new Promise<[string, unknown]>((resolve) => client.subscribe("tick.", (topic, data) => resolve([topic, data])));
    await Promise.resolve();
    server.publish("tick.IF2512", { lastPrice: 3999.2 });
    expect(await got).toEqual(["tick.IF2512", { lastPrice: 3999.2 }]);
    await client.stop();
    await server.stop();
  });
});
