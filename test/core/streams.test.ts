import { describe, expect, it } from "vitest";
import { IncomingStream } from "../../lib/incoming-stream.ts";
import { msgpackCodec, RpcClient, RpcError } from "../../lib/index.ts";
import type { ClientSink, ClientTransport } from "../../lib/transport.ts";
import { memoryLink, messagePortLink } from "./links.ts";
import { describeStreams } from "./stream-suite.ts";

describeStreams("memory", memoryLink);
describeStreams("MessagePort", messagePortLink);

describe("the client's end of a stream", () => {
  it("grants credit back in batches as items are taken, never more than the window", async () => {
    const grants: number[] = [];
    const stream = new IncomingStream<number>(8);
    stream.attach({ grant: (n) => grants.push(n), cancel: () => {} });
    for (let i = 0; i < 8; i++) stream.push(i);
    for (let i = 0; i < 3; i++) await stream.next();
    expect(grants).toEqual([]); // 5 still buffered: more than half the window ahead
    await stream.next();
    expect(grants).toEqual([4]); // 4 buffered, 0 outstanding: room for 4
  });

  it("fails, and cancels, when a server sends more than it was granted", async () => {
    let cancelled = 0;
    const stream = new IncomingStream<number>(2);
    stream.attach({ grant: () => {}, cancel: () => cancelled++ });
    stream.push(1);
    stream.push(2);
    stream.push(3);
    expect(cancelled).toBe(1);
    await expect(stream.next()).resolves.toEqual({ done: false, value: 1 });
    await stream.next();
    const error = await stream.next().catch((e: unknown) => e);
    expect((error as RpcError).code).toBe("RESOURCE_EXHAUSTED");
  });

  it("settles a plain call that a faulty server ends as a stream", async () => {
    const codec = msgpackCodec();
    let sink: ClientSink | undefined;
    const transport: ClientTransport = {
      connect: async (next) => void (sink = next),
      send(frame) {
        const [, kind, id] = codec.decode(frame) as [number, number, number];
        if (kind === 0) queueMicrotask(() => sink?.reply(codec.encode([1, 7, id])));
      },
      subscribe: () => {},
      unsubscribe: () => {},
      close: async () => {},
    };
    const client = new RpcClient({ transport, heartbeatToleranceMs: 0, timeoutMs: 60_000, logger: { warn: () => {}, error: () => {} } });
    await client.start();
    const error = await client.call("anything").catch((e: unknown) => e);
    expect((error as RpcError).code).toBe("INTERNAL");
    expect(client.inFlight).toBe(0);
    await client.stop();
  });
});
