import { afterEach, describe, expect, it } from "vitest";
import { RpcError, RpcServer, RpcClient, msgpackCodec, type CallContext } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import type { ClientTransport } from "../../lib/transport.ts";
import { rig, until, type Rig } from "./helpers.ts";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof RpcError)) throw new Error(`Expected an RpcError, got ${String(error)}`);
  return error.code;
}

describe("bad input gets a clear error, and the server goes on", () => {
  it("unknown function → NOT_FOUND naming it", async () => {
    r = await rig({ setup: (s) => s.register("add", (a: number, b: number) => a + b) });
    const error = await r.client.call("nope").catch((e: RpcError) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe("NOT_FOUND");
    expect((error as RpcError).message).toContain('"nope"');
    expect(await r.client.call("add", [1, 1])).toBe(2);
  });

  it("a handler that throws → INTERNAL with its message, and the next call works", async () => {
    r = await rig({
      setup: (s) => {
        s.register("boom", () => {
          throw new Error("margin check failed");
        });
        s.register("ok", () => "ok");
      },
    });
    const error = (await r.client.call("boom").catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe("INTERNAL");
    expect(error.rawMessage).toBe("margin check failed");
    expect(await r.client.call("ok")).toBe("ok");
  });

  it("a handler may throw an RpcError with its own framework code", async () => {
    r = await rig({
      setup: (s) =>
        s.register("admin", () => {
          throw new RpcError("PERMISSION_DENIED", "Traders may not do that");
        }),
    });
    expect(await codeOf(r.client.call("admin"))).toBe("PERMISSION_DENIED");
  });

  it("a result that cannot be encoded → INTERNAL, not a dead server", async () => {
    r = await rig({
      setup: (s) => {
        s.register("fn", () => ({ f: () => 1 }));
        s.register("ok", () => 1);
      },
    });
    expect(await codeOf(r.client.call("fn"))).toBe("INTERNAL");
    expect(await r.client.call("ok")).toBe(1);
  });

  it("arguments that cannot be encoded → INVALID_ARGUMENT on the caller's side", async () => {
    r = await rig({ setup: (s) => s.register("ok", () => 1) });
    expect(await codeOf(r.client.call("ok", [Symbol("x")]))).toBe("INVALID_ARGUMENT");
  });

  it("a request over maxMessageBytes → RESOURCE_EXHAUSTED on the client, nothing sent", async () => {
    let runs = 0;
    r = await rig({
      client: { maxMessageBytes: 1024 },
      setup: (s) => s.register("take", () => ++runs),
    });
    expect(await codeOf(r.client.call("take", ["x".repeat(2000)]))).toBe("RESOURCE_EXHAUSTED");
    expect(runs).toBe(0);
    expect(await r.client.call("take", ["small"])).toBe(1);
  });

  it("a reply over maxMessageBytes → RESOURCE_EXHAUSTED sent by the server", async () => {
    r = await rig({
      server: { maxMessageBytes: 1024 },
      setup: (s) => s.register("big", (n: number) => "y".repeat(n)),
    });
    const error = (await r.client.call("big", [5000]).catch((e: unknown) => e)) as RpcError;
    expect(error.code).toBe("RESOURCE_EXHAUSTED");
    expect(error.message).toContain("maxMessageBytes");
    expect(await r.client.call("big", [10])).toHaveLength(10);
  });

  it("a frame over the server's maxMessageBytes is dropped with a logged reason", async () => {
    r = await rig({
      server: { maxMessageBytes: 256 },
      client: { timeoutMs: 100, maxMessageBytes: 1 << 20 },
      setup: (s) => s.register("echo", (x: unknown) => x),
    });
    expect(await codeOf(r.client.call("echo", ["z".repeat(1000)]))).toBe("TIMEOUT");
    expect(r.logger.lines.some((l) => l.includes("exceeds maxMessageBytes"))).toBe(true);
    expect(await r.client.call("echo", ["fine"])).toBe("fine");
  });

  it("too many calls in flight → RESOURCE_EXHAUSTED", async () => {
    r = await rig({
      client: { maxInFlight: 2 },
      setup: (s) => s.register("wait", () => new Promise((resolve) => setTimeout(resolve, 20))),
    });
    const first = [r.client.call("wait"), r.client.call("wait")];
    expect(await codeOf(r.client.call("wait"))).toBe("RESOURCE_EXHAUSTED");
    await Promise.all(first);
  });
});

describe("malformed frames at the server", () => {
  async function rawClient(): Promise<{ hub: ReturnType<typeof memoryHub>; raw: ClientTransport; server: RpcServer; logs: string[] }> {
    const hub = memoryHub();
    const logs: string[] = [];
    const server = new RpcServer({ transport: hub.server, logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) } });
    server.register("add", (a: number, b: number) => a + b);
    await server.start();
    const raw = hub.client();
    await raw.connect({ reply: () => {}, broadcast: () => {} });
    return { hub, raw, server, logs };
  }

  it("drops bytes that are not msgpack, and wrong-shaped msgpack, with a logged reason", async () => {
    const { hub, raw, server, logs } = await rawClient();
    const codec = msgpackCodec();
    raw.send(new Uint8Array([0xc1, 0xff, 0x00])); // 0xc1 is never used in msgpack
    raw.send(codec.encode({ hello: "world" }));
    raw.send(codec.encode([1, 99, 7]));
    raw.send(codec.encode([2, 0, 1, "add", [1, 2], 0, null]));
    await until(() => logs.length >= 4);
    expect(logs.every((l) => l.startsWith("Dropped a malformed frame"))).toBe(true);
    expect(logs.join("\n")).toMatch(/Unknown message kind 99/);
    expect(logs.join("\n")).toMatch(/Unsupported wire version 2/);

    const client = new RpcClient({ transport: hub.client() });
    await client.start();
    expect(await client.call("add", [2, 3])).toBe(5);
    await client.stop();
    await raw.close();
    await server.stop();
  });

  it("answers INVALID_ARGUMENT when the id of a malformed request can be read", async () => {
    const { hub, server } = await rawClient();
    const codec = msgpackCodec();
    const replies: unknown[] = [];
    const raw = hub.client();
    await raw.connect({ reply: (f) => void replies.push(codec.decode(f)), broadcast: () => {} });
    raw.send(codec.encode([1, 0, 77, "add", "not an array", 0, null]));
    await until(() => replies.length === 1);
    expect(replies[0]).toEqual([1, 3, 77, "INVALID_ARGUMENT", expect.stringContaining("not an array")]);
    await raw.close();
    await server.stop();
  });

  it("ignores a reply for an unknown id", async () => {
    // Feed the client, from the server side of its transport, a reply nobody asked for.
    const hub = memoryHub();
    const logs: string[] = [];
    const client = new RpcClient({ transport: hub.client(), logger: { warn: (m) => void logs.push(m), error: (m) => void logs.push(m) } });
    const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
    server.register("ok", () => "ok");
    await server.start();
    await client.start();
    hub.server.reply("memory-1", msgpackCodec().encode([1, 2, 999_999, "stray"]));
    expect(await client.call("ok")).toBe("ok");
    expect(logs).toEqual([]);
    await client.stop();
    await server.stop();
  });
});

describe("deadlines, cancellation and shutdown", () => {
  it("timeoutMs elapsed → TIMEOUT, and the handler's signal aborts at the deadline", async () => {
    let aborted: unknown;
    r = await rig({
      setup: (s) =>
        s.register(
          "slow",
          (ctx: CallContext) =>
            new Promise((resolve) => {
              ctx.signal.addEventListener("abort", () => {
                aborted = ctx.signal.reason;
                resolve("too late");
              });
            }),
        ),
    });
    await until(() => r!.client.state === "connected");
    expect(await codeOf(r.client.call("slow", [], { timeoutMs: 30 }))).toBe("TIMEOUT");
    await until(() => aborted !== undefined);
    expect((aborted as RpcError).code).toBe("TIMEOUT");
  });

  it("signal aborted → CANCELLED, and the server aborts the handler", async () => {
    let aborted: unknown;
    r = await rig({
      setup: (s) =>
        s.register(
          "slow",
          (ctx: CallContext) =>
            new Promise(() => {
              ctx.signal.addEventListener("abort", () => void (aborted = ctx.signal.reason));
            }),
        ),
    });
    const controller = new AbortController();
    const call = r.client.call("slow", [], { signal: controller.signal, timeoutMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(await codeOf(call)).toBe("CANCELLED");
    await until(() => aborted !== undefined);
    expect((aborted as RpcError).code).toBe("CANCELLED");
  });

  it("an already-aborted signal → CANCELLED without sending", async () => {
    let runs = 0;
    r = await rig({ setup: (s) => s.register("ok", () => ++runs) });
    expect(await codeOf(r.client.call("ok", [], { signal: AbortSignal.abort() }))).toBe("CANCELLED");
    expect(await r.client.call("ok")).toBe(1);
  });

  it("server stopped mid-call → the caller gets UNAVAILABLE, not a hang", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server });
    let started = false;
    server.register("forever", () => {
      started = true;
      return new Promise(() => {});
    });
    await server.start();
    const client = new RpcClient({ transport: hub.client(), timeoutMs: 0 });
    await client.start();
    const call = client.call("forever");
    await until(() => started);
    await server.stop();
    expect(await codeOf(call)).toBe("UNAVAILABLE");
    await client.stop();
  });

  it("client stopped mid-call → UNAVAILABLE; calls before start → UNAVAILABLE", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server });
    server.register("forever", () => new Promise(() => {}));
    await server.start();
    const client = new RpcClient({ transport: hub.client(), timeoutMs: 0 });
    expect(await codeOf(client.call("forever"))).toBe("UNAVAILABLE");
    await client.start();
    const call = client.call("forever");
    await client.stop();
    expect(await codeOf(call)).toBe("UNAVAILABLE");
    await server.stop();
  });
});

describe("RpcError", () => {
  it("keeps code, raw message and cause, and wraps anything with from()", () => {
    const cause = new TypeError("bad");
    const wrapped = RpcError.from(cause, "INVALID_ARGUMENT");
    expect(wrapped.code).toBe("INVALID_ARGUMENT");
    expect(wrapped.rawMessage).toBe("bad");
    expect(wrapped.cause).toBe(cause);
    expect(wrapped.name).toBe("RpcError");
    expect(RpcError.from(wrapped)).toBe(wrapped);
    expect(RpcError.from("text").code).toBe("INTERNAL");
  });
});
