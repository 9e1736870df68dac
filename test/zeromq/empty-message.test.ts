/**
 * libzmq's ROUTER notification of a peer connecting or leaving (ZMQ_ROUTER_NOTIFY) is an empty
 * message from that peer, the same as a peer's own empty message. A live peer that sends an
 * empty message must not be taken as gone (its calls aborted, its state freed); a peer that
 * does leave still is. Both engines, tcp and ipc.
 */
import { decode, encode } from "@msgpack/msgpack";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { RpcServer } from "../../lib/index.ts";
import { zmqServer, type ZmqServerTransport } from "../../transports/zeromq/index.ts";
import { addresses, removeTempDirs, type Protocol } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

const combos = (["native", "zmtp"] as const).flatMap((engine) => (["tcp", "ipc"] as Protocol[]).map((protocol) => ({ engine, protocol })));

describe.each(combos)("an empty message from a live peer, $engine engine over $protocol", ({ engine, protocol }) => {
  it("is dropped as malformed: the peer's calls go on and are answered", async () => {
    const { rep, pub } = await addresses(protocol);
    const transport = zmqServer({ rep, pub, engine }) as ZmqServerTransport;
    const server = new RpcServer({ transport, logger: quiet });
    const release = new Set<() => void>();
    let aborted = 0;
    server.register("hold", (context: { signal: AbortSignal }) =>
      new Promise<string>((resolve) => {
        context.signal.addEventListener("abort", () => (aborted += 1));
        release.add(() => resolve("released"));
      }));
    await server.start();
    cleanups.push(() => server.stop());

    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 30_000 });
    cleanups.push(() => dealer.close());
    dealer.connect(rep);
    await dealer.send([encode([1, 0, 1, "hold", [], 60_000, null])]);
    while (release.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    await dealer.send([new Uint8Array(0)]);
    // A call after the empty message, answered: everything before it was handled.
    await dealer.send([encode([1, 0, 2, "$tw.ping", [], 60_000, null])]);
    const [pong] = await dealer.receive();
    expect((decode(pong!) as unknown[])[2]).toBe(2);
    // Give a wrongly taken notification the time it would take to act (the native engine waits
    // for libzmq's disconnect event to tell the two apart).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(aborted).toBe(0);
    expect(transport.stats).toMatchObject({ peers: 1, peersGone: 0, malformedDropped: 1 });

    for (const resolve of release) resolve();
    const [reply] = await dealer.receive();
    expect(decode(reply!) as unknown[]).toMatchObject([1, 2, 1, "released"]);

    // A peer that leaves is still gone.
    await dealer.send([encode([1, 0, 3, "hold", [], 60_000, null])]);
    while (release.size < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    dealer.close();
    while (aborted === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(transport.stats).toMatchObject({ peers: 0, peersGone: 1 });
  });
});
