import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import * as v from "valibot";
import { defineService, method, RpcClient, RpcError, RpcServer, topic, type CallContext, type TopicData } from "../../lib/index.ts";
import { memoryPair } from "../../transports/memory.ts";
import { until } from "./helpers.ts";

interface Tick {
  symbol: string;
  lastPrice: number;
}
interface Order {
  id: string;
  status: "ACTIVE" | "DONE";
}

const api = defineService({
  functions: {
    add: method(v.tuple([v.number(), v.number()]), (a, b) => a + b),
    quote: method(v.tuple([v.string()]), async (symbol, ctx) => ({ symbol, lastPrice: 4000, trace: ctx.meta["traceId"] ?? null })),
    history: method(v.tuple([v.string(), v.pipe(v.number(), v.integer(), v.minValue(1))]), async function* (symbol, count) {
      for (let i = 0; i < count; i++) yield { symbol, close: 4000 + i };
    }),
  },
  topics: { "tick.": topic<Tick>(), "order.": topic<Order>() },
});

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a service written once", () => {
  it("types the handlers from their schemas, and refuses a handler that disagrees (compile time)", () => {
    const server = new RpcServer({ transport: memoryPair()[0], logger: quiet });
    server.register("upper", (symbol) => symbol.toUpperCase(), { input: v.tuple([v.string()]) });
    // @ts-expect-error the schema says string, the handler says number
    server.register("wrong", (symbol: number) => symbol + 1, { input: v.tuple([v.string()]) });
    // @ts-expect-error a schema for the arguments validates an array, not one value
    server.register("notArgs", (x: string) => x, { input: v.string() });
    // Without a schema the handler is as free as before.
    server.register("free", (a: number, b: number) => a + b);
    method(v.tuple([v.number()]), (n, ctx) => {
      expectTypeOf(n).toEqualTypeOf<number>();
      expectTypeOf(ctx).toEqualTypeOf<CallContext>();
    });
    // @ts-expect-error the handler's parameter disagrees with the schema
    method(v.tuple([v.number()]), (n: string) => n);
  });

  it("types the client from the service: arguments, results, streams, per-call options, topics (compile time)", () => {
    const remote = {} as ReturnType<RpcClient["proxy"]> & ReturnType<typeof proxyOf>;
    void remote;
    const typed = proxyOf(new RpcClient({ transport: memoryPair()[1] }));
    expectTypeOf(typed.add).parameters.toEqualTypeOf<[number, number]>();
    expectTypeOf(typed.add).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(typed.quote).returns.toEqualTypeOf<Promise<{ symbol: string; lastPrice: number; trace: string | null }>>();
    expectTypeOf(typed.history.stream).returns.toEqualTypeOf<AsyncIterableIterator<{ symbol: string; close: number }>>();
    expectTypeOf(typed.quote.with({ timeoutMs: 500 })).parameters.toEqualTypeOf<[string]>();
    // @ts-expect-error a string is not a number
    void (() => typed.add("1", 2));
    // @ts-expect-error no such function
    void (() => typed.nope());
    expectTypeOf<TopicData<typeof api, "tick.">>().toEqualTypeOf<Tick>();
    expectTypeOf<TopicData<typeof api, "tick.IF2512">>().toEqualTypeOf<Tick>();
    expectTypeOf<TopicData<typeof api, "">>().toEqualTypeOf<Tick | Order>();
  });

  it("serves it: validation, results, streams, per-call options and typed events over a real client", async () => {
    const [serverSide, clientSide] = memoryPair();
    const server = new RpcServer({ transport: serverSide, logger: quiet }).serve(api);
    await server.start();
    cleanups.push(() => server.stop());
    const client = new RpcClient({ transport: clientSide, logger: quiet });
    await client.start();
    cleanups.push(() => client.stop());
    await until(() => client.state === "connected");
    const remote = proxyOf(client);
    expect(await remote.add(1, 2)).toBe(3);
    expect(await remote.quote.with({ meta: { traceId: "t-1" } })("IF2512")).toEqual({ symbol: "IF2512", lastPrice: 4000, trace: "t-1" });
    const bars: number[] = [];
    for await (const bar of remote.history.stream("IF2512", 3)) bars.push(bar.close);
    expect(bars).toEqual([4000, 4001, 4002]);
    // The schema checks what arrives, whatever the caller's types said.
    const bad = await (client.call("add", ["1", 2]) as Promise<unknown>).catch((e: unknown) => e);
    expect((bad as RpcError).code).toBe("INVALID_ARGUMENT");
    const ticks: Tick[] = [];
    client.subscribe<TopicData<typeof api, "tick.">>("tick.", (_topic, tick) => ticks.push(tick));
    server.publish("tick.IF2512", { symbol: "IF2512", lastPrice: 3999.2 } satisfies Tick);
    await until(() => ticks.length === 1);
    expect(ticks[0]!.lastPrice).toBe(3999.2);
  });
});

function proxyOf(client: RpcClient) {
  return client.proxy<typeof api>();
}
