import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer, msgpackCodec, type CallContext } from "../../lib/index.ts";
import type { ClientSink } from "../../lib/transport.ts";
import { memoryHub, type MemoryHub } from "../../transports/memory.ts";
import { recordingLogger, until } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A started server with a `hold` handler that resolves when told to, and a way to add clients. */
async function holdingServer(options: Partial<ConstructorParameters<typeof RpcServer>[0]> = {}, hub: MemoryHub = memoryHub()) {
  const release: Array<() => void> = [];
  const server = new RpcServer({ transport: hub.server, logger: quiet, ...options });
  server.register("hold", (..._args: unknown[]) => new Promise<string>((resolve) => release.push(() => resolve("done"))));
  server.register("echo", (value: unknown) => value);
  await server.start();
  cleanups.push(() => server.stop());
  const client = async (clientOptions: Partial<ConstructorParameters<typeof RpcClient>[0]> = {}) => {
    const c = new RpcClient({ transport: hub.client(), logger: quiet, ...clientOptions });
    await c.start();
    cleanups.push(() => c.stop());
    await until(() => c.state === "connected");
    return c;
  };
  return { server, client, release, hub };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof RpcError)) throw new Error(`Expected an RpcError, got ${String(error)}`);
  return error.code;
}

describe("call budgets for the whole server, not only per peer", () => {
  it("caps calls in flight across peers: many peers cannot do together what one may not", async () => {
    const { server, client, release } = await holdingServer({ maxInFlight: 4, maxInFlightPerPeer: 3 });
    const a = await client();
    const b = await client();
    const held = [a.call("hold"), a.call("hold"), a.call("hold"), b.call("hold")];
    await until(() => server.stats.callsInFlight === 4);
    expect(await codeOf(b.call("hold"))).toBe("RESOURCE_EXHAUSTED");
    expect(server.stats.callsRefused).toBe(1);
    // Freed when they finish: the same peer is served again.
    release.splice(0).forEach((r) => r());
    expect(await Promise.all(held)).toEqual(["done", "done", "done", "done"]);
    expect(server.stats.callsInFlight).toBe(0);
    expect(await b.call("echo", [7])).toBe(7);
  });

  it("caps the request bytes one peer holds in flight, then the whole server's", async () => {
    const { server, client, release } = await holdingServer({ maxInFlightBytesPerPeer: 10_000, maxInFlightBytes: 15_000 });
    const a = await client();
    const b = await client();
    const blob = "x".repeat(4_000);
    const heldA = [a.call("hold", [blob]), a.call("hold", [blob])];
    await until(() => server.stats.callsInFlight === 2);
    expect(server.stats.requestBytesInFlight).toBeGreaterThan(8_000);
    const third = await a.call("hold", [blob]).catch((e: RpcError) => e);
    expect(third).toBeInstanceOf(RpcError);
    expect((third as RpcError).code).toBe("RESOURCE_EXHAUSTED");
    expect((third as RpcError).message).toContain("one caller");
    // b is within its own budget, but the server as a whole is not.
    const heldB = [b.call("hold", [blob])];
    await until(() => server.stats.callsInFlight === 3);
    const fourth = await b.call("hold", [blob]).catch((e: RpcError) => e);
    expect((fourth as RpcError).code).toBe("RESOURCE_EXHAUSTED");
    expect((fourth as RpcError).message).toContain("this server");
    // Small calls still fit.
    expect(await b.call("echo", [1])).toBe(1);
    release.splice(0).forEach((r) => r());
    await Promise.all([...heldA, ...heldB]);
    expect(server.stats.requestBytesInFlight).toBe(0);
  });

  it("frees everything a departed peer held: its calls are aborted and no longer count", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet, maxInFlight: 3 });
    const aborted: unknown[] = [];
    server.register("wait", (ctx: CallContext) => {
      ctx.signal.addEventListener("abort", () => aborted.push(ctx.signal.reason));
      return new Promise(() => {});
    });
    server.register("echo", (value: unknown) => value);
    await server.start();
    cleanups.push(() => server.stop());
    const leaving = new RpcClient({ transport: hub.client(), logger: quiet });
    await leaving.start();
    await until(() => leaving.state === "connected");
    const calls = [0, 1, 2].map(() => leaving.call("wait", [], { timeoutMs: 0 }).catch(() => {}));
    await until(() => server.stats.callsInFlight === 3);
    await leaving.stop();
    await Promise.all(calls);
    await until(() => aborted.length === 3);
    expect(aborted.every((reason) => reason instanceof RpcError && reason.code === "CANCELLED")).toBe(true);
    expect(server.stats).toMatchObject({ callsInFlight: 0, requestBytesInFlight: 0, peersWithCalls: 0, callsAbortedByDeparture: 3 });
    // The server-wide budget is free again for others.
    const other = new RpcClient({ transport: hub.client(), logger: quiet });
    await other.start();
    cleanups.push(() => other.stop());
    await until(() => other.state === "connected");
    expect(await other.call("echo", ["back"])).toBe("back");
  });
});

describe("argument count and nesting depth", () => {
  const nested = (depth: number): unknown => {
    let value: unknown = "leaf";
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it("the server answers INVALID_ARGUMENT for too many arguments instead of overflowing the stack", async () => {
    let ran = false;
    const hub = memoryHub();
    const { server, client } = await holdingServer({}, hub);
    server.register("count", (...args: unknown[]) => {
      ran = true;
      return args.length - 1; // the last one is the call context
    });
    // A client that lets 1M arguments through, as a foreign or older client would.
    const lax = await client({ maxArgs: 2_000_000, timeoutMs: 30_000 });
    const error = await lax.call("count", new Array(1_000_000).fill(0)).catch((e: RpcError) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
    expect((error as RpcError).message).toContain("Too many arguments");
    expect(ran).toBe(false);
    expect(server.stats.argumentsRefused).toBe(1);
    expect(await lax.call("count", [1, 2, 3])).toBe(3);
  });

  it("the server answers INVALID_ARGUMENT for arguments nested deeper than maxDepth", async () => {
    const { server, client } = await holdingServer({ maxDepth: 8 });
    const lax = await client({ maxDepth: 1000 });
    expect(await lax.call("echo", [nested(7)])).toEqual(nested(7));
    const error = await lax.call("echo", [nested(9)]).catch((e: RpcError) => e);
    expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
    expect((error as RpcError).message).toContain("deeper than 8");
    // Maps count as levels too.
    let map: unknown = 1;
    for (let i = 0; i < 9; i++) map = { [`k${i}`]: map };
    const error2 = await lax.call("echo", [map]).catch((e: RpcError) => e);
    expect((error2 as RpcError).code).toBe("INVALID_ARGUMENT");
    expect(server.stats.argumentsRefused).toBe(2);
  });

  it("the client refuses at once what the server would refuse: too many, too deep, a __proto__ key", async () => {
    const { server, client } = await holdingServer();
    let received = 0;
    server.register("seen", () => ++received);
    const c = await client({ timeoutMs: 60_000 });
    expect(await codeOf(c.call("seen", new Array(1025).fill(0)))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(c.call("seen", [nested(40)]))).toBe("INVALID_ARGUMENT");
    // JSON.parse makes "__proto__" an own key; MessagePack would carry it and the server's decoder refuse
    // the whole frame without being able to answer, so the caller would wait out its deadline.
    const hostile = JSON.parse('{"a":1,"inner":{"__proto__":{"x":1}}}') as unknown;
    const error = await c.call("seen", [hostile]).catch((e: RpcError) => e);
    expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
    expect((error as RpcError).message).toContain("__proto__");
    expect(c.inFlight).toBe(0);
    expect(await c.call("seen", [{ ok: true }])).toBe(1); // nothing refused reached the server
  });

  it("leaves typed arrays and dates alone", async () => {
    const { client } = await holdingServer();
    const c = await client();
    const bytes = new Uint8Array([1, 2, 3]);
    expect(await c.call("echo", [bytes])).toEqual(bytes);
    const when = new Date(1_764_000_000_000);
    expect(await c.call("echo", [when])).toEqual(when);
  });
});

describe("logs cannot be flooded", () => {
  it("writes a few lines per peer per window and counts the rest", async () => {
    const hub = memoryHub();
    const logger = recordingLogger();
    const server = new RpcServer({ transport: hub.server, logger });
    await server.start();
    cleanups.push(() => server.stop());
    const raw = hub.client();
    const sink: ClientSink = { reply: () => {}, broadcast: () => {} };
    await raw.connect(sink);
    cleanups.push(() => raw.close());
    const garbage = msgpackCodec().encode({ not: "a message" });
    for (let i = 0; i < 200; i++) raw.send(garbage);
    await until(() => server.stats.malformedFrames === 200);
    const lines = logger.lines.filter((line) => line.includes("malformed"));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(server.stats.logLinesHeldBack).toBe(200 - lines.length);
    // A second peer has a window of its own.
    const other = hub.client();
    await other.connect(sink);
    cleanups.push(() => other.close());
    other.send(garbage);
    await until(() => server.stats.malformedFrames === 201);
    expect(logger.lines.filter((line) => line.includes("malformed")).length).toBe(lines.length + 1);
    // When the flooding peer leaves, one line says how much was held back.
    await raw.close();
    await until(() => logger.lines.some((line) => line.includes("held back")));
  });
});

describe("stats", () => {
  it("include the transport's own counters", async () => {
    const hub = memoryHub({ maxSubscriptionsPerPeer: 2 }); // the heartbeat topic is one
    const server = new RpcServer({ transport: hub.server, logger: quiet });
    await server.start();
    cleanups.push(() => server.stop());
    const client = new RpcClient({ transport: hub.client(), logger: quiet });
    await client.start();
    cleanups.push(() => client.stop());
    await until(() => client.state === "connected");
    client.subscribe("a", () => {});
    expect(() => client.subscribe("b", () => {})).toThrow(RangeError);
    expect(server.stats.transport).toMatchObject({ refusedSubscriptions: 1 });
    expect(server.stats.callsInFlight).toBe(0);
    // Nothing of the refused prefix is kept: a later subscribe to it reaches the transport again.
    client.unsubscribe("a");
    client.subscribe("b", () => {});
    expect(server.stats.transport).toMatchObject({ refusedSubscriptions: 1 });
  });
});
