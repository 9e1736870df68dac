/**
 * Streams, as every transport must carry them: run by test/core (memory, MessagePort),
 * test/websocket and test/zeromq with their own transports.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer, type CallContext } from "../../lib/index.ts";
import type { TransportLink } from "./links.ts";
import { until } from "./helpers.ts";


const quiet = { warn: () => {}, error: () => {} };

export function describeStreams(label: string, link: () => Promise<TransportLink>): void {
  describe(`streams over ${label}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** Handlers' side effects, for the tests to watch the server. */
    const seen = { produced: 0, finallyRan: 0, aborted: [] as unknown[] };

    async function rig() {
      seen.produced = 0;
      seen.finallyRan = 0;
      seen.aborted = [];
      const { server: serverSide, client: clientSide, close } = await link();
      const server = new RpcServer({ transport: serverSide, logger: quiet });
      server.register("count", async function* (n: number, ctx: CallContext) {
        ctx.signal.addEventListener("abort", () => seen.aborted.push(ctx.signal.reason));
        try {
          for (let i = 0; i < n; i++) {
            seen.produced++;
            yield i;
          }
        } finally {
          seen.finallyRan++;
        }
      });
      server.register("failAfter", async function* (n: number) {
        for (let i = 0; i < n; i++) yield i;
        throw new RpcError("INVALID_ARGUMENT", `Stopped after ${n}`);
      });
      server.register("forever", async function* (ctx: CallContext) {
        ctx.signal.addEventListener("abort", () => seen.aborted.push(ctx.signal.reason));
        for (let i = 0; ; i++) {
          yield i;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
      server.register("bars", () => [{ close: 1 }, { close: 2 }, { close: 3 }]);
      server.register("answer", () => 42);
      server.register("readable", () => new ReadableStream({
        start(controller) {
          for (const chunk of ["a", "b", "c"]) controller.enqueue(chunk);
          controller.close();
        },
      }));
      await server.start();
      const client = new RpcClient({ transport: clientSide, logger: quiet, timeoutMs: 20_000 });
      await client.start();
      cleanups.push(async () => {
        await client.stop();
        await server.stop();
        await close?.();
      });
      await until(() => client.state === "connected", 10_000);
      return { server, client };
    }

    async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
      const out: T[] = [];
      for await (const item of items) out.push(item);
      return out;
    }

    it("delivers an async generator's items in order, and a call collects them", async () => {
      const { client, server } = await rig();
      expect(await all(client.stream("count", [500]))).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect(await client.call("count", [5])).toEqual([0, 1, 2, 3, 4]);
      expect(server.stats.callsInFlight).toBe(0);
    });

    it("streams an array element by element, a ReadableStream chunk by chunk, and any other value as one item", async () => {
      const { client } = await rig();
      expect(await all(client.stream("bars"))).toEqual([{ close: 1 }, { close: 2 }, { close: 3 }]);
      expect(await all(client.stream("readable"))).toEqual(["a", "b", "c"]);
      expect(await all(client.stream("answer"))).toEqual([42]);
      const api = client.proxy<{ bars(): Array<{ close: number }> }>();
      expect(await all(api.bars.stream())).toEqual([{ close: 1 }, { close: 2 }, { close: 3 }]);
    });

    it("bounds the server by the consumer: a paused reader holds the producer at its credit", async () => {
      const { client } = await rig();
      const credit = 8;
      const items = client.stream<number>("count", [10_000], { credit });
      const first = await items.next();
      expect(first).toEqual({ done: false, value: 0 });
      // The consumer pauses; the producer gets at most the credit ahead of it (plus the one it is making).
      await until(() => seen.produced >= credit);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(seen.produced).toBeLessThanOrEqual(credit + 1);
      // Reading on lets it go on, and every item arrives once, in order.
      let expected = 1;
      for await (const n of items) {
        expect(n).toBe(expected++);
        if (expected === 300) break;
      }
      expect(seen.produced).toBeLessThan(300 + 2 * credit);
    });

    it("breaking out of the loop cancels the handler: its signal aborts and its finally runs", async () => {
      const { client, server } = await rig();
      const got: number[] = [];
      for await (const n of client.stream<number>("count", [1_000_000])) {
        got.push(n);
        if (got.length === 3) break;
      }
      expect(got).toEqual([0, 1, 2]);
      await until(() => seen.finallyRan === 1 && server.stats.callsInFlight === 0);
      expect(seen.aborted).toHaveLength(1);
      expect((seen.aborted[0] as RpcError).code).toBe("CANCELLED");
      expect(await client.call("answer")).toBe(42); // the client goes on
    });

    it("a handler error ends the stream with that RpcError after the items before it", async () => {
      const { client } = await rig();
      const got: number[] = [];
      const error = await (async () => {
        for await (const n of client.stream<number>("failAfter", [2])) got.push(n);
      })().catch((e: unknown) => e);
      expect(got).toEqual([0, 1]);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe("INVALID_ARGUMENT");
      expect((error as RpcError).message).toContain("Stopped after 2");
    });

    it("runs many streams at once, each whole and in order", async () => {
      const { client, server } = await rig();
      const results = await Promise.all(Array.from({ length: 20 }, (_, k) => all(client.stream<number>("count", [50 + k], { credit: 4 }))));
      results.forEach((items, k) => expect(items).toEqual(Array.from({ length: 50 + k }, (_, i) => i)));
      expect(server.stats.callsInFlight).toBe(0);
    });

    it("the deadline covers the whole stream: TIMEOUT, and the handler is aborted", async () => {
      const { client, server } = await rig();
      const started = performance.now();
      const got: number[] = [];
      const error = await (async () => {
        for await (const n of client.stream<number>("forever", [], { timeoutMs: 300 })) got.push(n);
      })().catch((e: unknown) => e);
      expect(performance.now() - started).toBeGreaterThanOrEqual(299);
      expect((error as RpcError).code).toBe("TIMEOUT");
      expect(got.length).toBeGreaterThan(0);
      await until(() => seen.aborted.length === 1 && server.stats.callsInFlight === 0);
    });

    it("a stopped server ends the stream UNAVAILABLE", async () => {
      const { client, server } = await rig();
      const items = client.stream<number>("forever", [], { timeoutMs: 0 });
      expect((await items.next()).done).toBe(false);
      await server.stop();
      const error = await (async () => {
        for await (const _ of items) {
          // drain until it ends
        }
      })().catch((e: unknown) => e);
      expect((error as RpcError).code).toBe("UNAVAILABLE");
    });
  });
}
