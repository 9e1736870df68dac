/**
 * MessagePort sides that both say so in their hello carry plain messages as structured data
 * (no MessagePack); an older side, which never says so, is served MessagePack bytes as before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { msgpackCodec, RpcClient, RpcError, RpcServer, tap, withFaults, type TapFrame } from "../../lib/index.ts";
import { DataFrame, MAX_DATA_DEPTH, plainSize } from "../../lib/data-frame.ts";
import { messagePortClient, messagePortServer, type Endpoint } from "../../transports/message-port.ts";
import { until } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Envelope = { tw?: number; k?: string; f?: unknown; m?: unknown; d?: unknown };

/**
 * A port seen through filters: `out` may rewrite or drop (undefined) what is posted, `seen`
 * records what arrives, `drop` hides arriving messages from the listener.
 */
function watched(port: MessagePort, options: { out?: (m: Envelope) => Envelope | undefined; drop?: (m: Envelope) => boolean } = {}) {
  const sent: Envelope[] = [];
  const received: Envelope[] = [];
  const wrappers = new Map<unknown, (event: MessageEvent) => void>();
  const endpoint: Endpoint = {
    postMessage(message: unknown) {
      const rewritten = options.out ? options.out(message as Envelope) : (message as Envelope);
      if (rewritten === undefined) return;
      sent.push(rewritten);
      port.postMessage(rewritten);
    },
    addEventListener(type: "message", listener: (event: MessageEvent) => void) {
      if (type !== "message") return port.addEventListener(type, listener); // "close"
      const wrapper = (event: MessageEvent) => {
        received.push(event.data as Envelope);
        if (!options.drop?.(event.data as Envelope)) listener(event);
      };
      wrappers.set(listener, wrapper);
      port.addEventListener(type, wrapper);
    },
    removeEventListener(type: "message", listener: (event: MessageEvent) => void) {
      port.removeEventListener(type, wrappers.get(listener) ?? listener);
    },
    start: () => port.start(),
  };
  return { endpoint, sent, received };
}

async function pair(options: { serverSide?: Endpoint; clientSide?: Endpoint; channel?: MessageChannel; server?: Partial<ConstructorParameters<typeof RpcServer>[0]> } = {}) {
  const channel = options.channel ?? new MessageChannel();
  const server = new RpcServer({ transport: messagePortServer(options.serverSide ?? channel.port1), heartbeatMs: 0, ...options.server });
  server.register("echo", (x: unknown) => x);
  server.register("give", (what: string) => GIVE[what]);
  await server.start();
  const client = new RpcClient({ transport: messagePortClient(options.clientSide ?? channel.port2), heartbeatToleranceMs: 0 });
  await client.start();
  cleanups.push(() => server.stop(), () => client.stop(), () => channel.port1.close(), () => channel.port2.close());
  // Both hellos are in once one call is answered: each side posts its hello before anything else.
  await client.call("echo", [0]);
  return { server, client, channel };
}

const GIVE: Record<string, unknown> = {
  fn: () => 1,
  map: new Map([["a", 1]]),
  undefinedField: { a: undefined, b: 1 },
  negativeZero: -0,
  big: 10n,
};

const requestsIn = (envelopes: Envelope[]) => envelopes.filter((e) => e.k === "req");
const repliesIn = (envelopes: Envelope[]) => envelopes.filter((e) => e.k === "rep");

describe("MessagePort messages as data", () => {
  it("carries plain messages without MessagePack when both sides said so", async () => {
    const channel = new MessageChannel();
    const serverSide = watched(channel.port1);
    const clientSide = watched(channel.port2);
    const { client } = await pair({ channel, serverSide: serverSide.endpoint, clientSide: clientSide.endpoint });
    serverSide.sent.length = clientSide.sent.length = 0;
    const tick = { symbol: "IF2512.CFFEX", price: 3999.2, at: new Date(0), raw: new Uint8Array([1, 2]) };
    expect(await client.call("echo", [tick])).toEqual(tick);
    expect(requestsIn(clientSide.sent).map((e) => Array.isArray(e.m))).toEqual([true]);
    expect(repliesIn(serverSide.sent).map((e) => Array.isArray(e.m))).toEqual([true]);
  });

  it("serves an older client (no hello) with MessagePack bytes", async () => {
    const channel = new MessageChannel();
    const serverSide = watched(channel.port1);
    const older = watched(channel.port2, { out: (m) => (m.k === "hi" ? undefined : m) });
    const { client } = await pair({ channel, serverSide: serverSide.endpoint, clientSide: older.endpoint });
    expect(await client.call("echo", [{ a: [1, "x"] }])).toEqual({ a: [1, "x"] });
    const replies = repliesIn(serverSide.sent);
    expect(replies.length).toBeGreaterThan(0);
    expect(replies.every((e) => e.f instanceof Uint8Array && e.m === undefined)).toBe(true);
  });

  it("sends MessagePack bytes to an older server (its hello does not offer data)", async () => {
    const channel = new MessageChannel();
    // An older server: its hello has no `d`, and it takes no notice of the client's hello.
    const older = watched(channel.port1, { out: (m) => (m.k === "hi" ? { tw: 1, k: "hi" } : m), drop: (m) => m.k === "hi" });
    const { client } = await pair({ channel, serverSide: older.endpoint });
    expect(await client.call("echo", ["x"])).toBe("x");
    const requests = requestsIn(older.received);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((e) => e.f instanceof Uint8Array && e.m === undefined)).toBe(true);
  });

  it("fails or converts what MessagePack would not carry as is, exactly as MessagePack does", async () => {
    const { client } = await pair();
    for (const bad of [() => 1, 10n, Symbol("s")]) {
      const error = await client.call("echo", [bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
    }
    for (const what of ["fn", "big"]) {
      const error = await client.call("give", [what]).catch((e: unknown) => e);
      expect((error as RpcError).code).toBe("INTERNAL");
    }
    expect(await client.call("give", ["map"])).toEqual({}); // MessagePack writes a Map as an empty map
    expect(await client.call("give", ["undefinedField"])).toEqual({ b: 1 });
    expect(Object.is(await client.call("give", ["negativeZero"]), 0)).toBe(true);
    expect(await client.call("echo", [[undefined]])).toEqual([null]);
  });

  it("answers INVALID_ARGUMENT to a data request that is not plain data, and goes on serving", async () => {
    const { server, client, channel } = await pair();
    const replies: unknown[] = [];
    const codec = msgpackCodec();
    channel.port2.addEventListener("message", (event: MessageEvent) => {
      const e = event.data as Envelope;
      if (e.k === "rep") replies.push(e.f instanceof Uint8Array ? codec.decode(e.f) : e.m);
    });
    channel.port2.postMessage({ tw: 1, k: "req", m: [1, 0, 777, "echo", [new Map([["a", 1]])], 1000, null] });
    await until(() => replies.some((r) => Array.isArray(r) && r[2] === 777));
    const reply = replies.find((r) => Array.isArray(r) && r[2] === 777) as unknown[];
    expect(reply.slice(0, 4)).toEqual([1, 3, 777, "INVALID_ARGUMENT"]);
    expect(server.stats.malformedFrames).toBe(1);
    expect(await client.call("echo", [1])).toBe(1);
  });

  it("counts a data request's estimated bytes against the in-flight budgets", async () => {
    let release: () => void = () => {};
    const { server, client } = await pair({ server: { maxInFlightBytesPerPeer: 1000 } });
    server.register("hold", () => new Promise<void>((resolve) => (release = resolve)));
    const held = client.call("hold", ["x".repeat(300)]);
    await until(() => server.stats.callsInFlight === 1);
    expect(server.stats.requestBytesInFlight).toBeGreaterThan(300);
    expect(server.stats.requestBytesInFlight).toBeLessThan(400);
    const refused = await client.call("echo", ["y".repeat(800)]).catch((e: unknown) => e);
    expect((refused as RpcError).code).toBe("RESOURCE_EXHAUSTED");
    release();
    await held;
    expect(server.stats.requestBytesInFlight).toBe(0);
  });

  it("shows data frames to tap() with kind, name and bytes, and through withFaults()", async () => {
    const channel = new MessageChannel();
    const frames: TapFrame[] = [];
    const server = new RpcServer({ transport: tap(messagePortServer(channel.port1), (f) => frames.push(f)), heartbeatMs: 0 });
    server.register("add", (a: number, b: number) => a + b);
    await server.start();
    const faulty = withFaults(messagePortClient(channel.port2), { latencyMs: 2 });
    const client = new RpcClient({ transport: faulty, heartbeatToleranceMs: 0 });
    await client.start();
    cleanups.push(() => server.stop(), () => client.stop(), () => channel.port1.close(), () => channel.port2.close());
    expect(await client.call("add", [1, 2])).toBe(3);
    expect(await client.call("add", [40, 2])).toBe(42);
    const last = frames.filter((f) => f.kind === "request").at(-1)!;
    expect(last).toMatchObject({ direction: "in", name: "add", payload: [40, 2] });
    expect(last.bytes).toBeGreaterThan(10);
    expect(frames.filter((f) => f.kind === "result").at(-1)).toMatchObject({ direction: "out", payload: 42 });
    expect(faulty.faults.stats.forwarded).toBeGreaterThanOrEqual(4);
  });
});

describe("plain data and its byte estimate", () => {
  it("estimates plain values and refuses the rest", () => {
    expect(plainSize("abc", MAX_DATA_DEPTH)).toBe(8);
    expect(plainSize({ a: [1, true, null] }, MAX_DATA_DEPTH)).toBe(5 + 1 + 5 + (5 + 9 + 1 + 1));
    expect(plainSize(new Uint8Array(10), MAX_DATA_DEPTH)).toBe(15);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DATA_DEPTH + 1; i++) deep = [deep];
    const view = new Uint8Array(16).subarray(4, 8);
    const proto = JSON.parse('{"__proto__":1}') as unknown;
    for (const notPlain of [undefined, -0, 1n, () => 1, new Map(), new Set(), new Float64Array(1), view, cycle, deep, proto, [1, , 3], new (class K {})(), new Date(NaN)]) {
      expect(plainSize(notPlain, MAX_DATA_DEPTH)).toBe(-1);
    }
  });

  it("a received frame that is not plain data measures 0 bytes and is not plain", () => {
    const frame = new DataFrame([1, 2, 1, new Set()]);
    expect(frame.plain).toBe(false);
    expect(frame.byteLength).toBe(0);
    expect(() => frame.encoded()).toThrow();
  });
});
