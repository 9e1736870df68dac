/**
 * A server that stops says so: its "stopping" heartbeat and its last events are flushed, with a
 * short bounded linger, before its sockets close. So a client reports `disconnected` at once,
 * not after its heartbeat tolerance (20 s here: it must report well within it), and stop()
 * stays prompt. Real tcp, both engines.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { msgpackCodec } from "../../lib/codec.ts";
import { fromArray, HEARTBEAT_TOPIC } from "../../lib/wire.ts";
import { zmqClient, zmqServer } from "../../transports/zeromq/index.ts";
import { addresses } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const TOLERANCE_MS = 20_000;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(engine: "native" | "zmtp", rep: string, pub: string): Promise<RpcServer> {
  const server = new RpcServer({ transport: zmqServer({ rep, pub, engine }), logger: quiet });
  server.register("add", (a: number, b: number) => a + b);
  await server.start();
  cleanups.push(() => server.stop());
  return server;
}

describe.each(["native", "zmtp"] as const)("a server that stops, %s engine over tcp", (engine) => {
  it("is reported disconnected by its client long before the heartbeat tolerance, and stop() stays prompt", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = await startServer(engine, rep, pub);
    const client = new RpcClient({ transport: zmqClient({ req: rep, sub: pub, engine }), heartbeatToleranceMs: TOLERANCE_MS, logger: quiet });
    await client.start();
    cleanups.push(() => client.stop());
    expect(await client.call("add", [1, 2])).toBe(3);
    await new Promise<void>((resolve) => (client.state === "connected" ? resolve() : client.on("connected", resolve)));

    const disconnected = new Promise<number>((resolve) => client.on("disconnected", () => resolve(performance.now())));
    const stopping = performance.now();
    await server.stop();
    const stopTook = performance.now() - stopping;
    expect(await disconnected - stopping).toBeLessThan(TOLERANCE_MS / 4);
    expect(stopTook).toBeLessThan(TOLERANCE_MS / 4);
  });

  it("sends its stopping heartbeat after its last events, even with events still queued at stop()", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = await startServer(engine, rep, pub);
    // A bare subscriber sees exactly what went out on the wire (an RpcClient would also learn
    // of the stop from its request link going down).
    // It reads until the heartbeat, or until receiving waits for long.
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: TOLERANCE_MS / 4 });
    cleanups.push(() => sub.close());
    sub.connect(pub);
    sub.subscribe("");
    const codec = msgpackCodec();
    const seen: string[] = [];
    let stopped = false;
    const read = (async () => {
      for await (const [topic, frame] of sub) {
        const name = topic!.toString();
        if (name !== HEARTBEAT_TOPIC) seen.push(name);
        else if ((fromArray(codec.decode(frame!)) as { state: string }).state === "stopping") return (stopped = true);
      }
      return false;
    })();
    // The subscription is in place once a probe event arrives.
    while (!seen.includes("probe")) {
      server.publish("probe", 0);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const events = 200;
    const body = "x".repeat(1_000);
    for (let i = 0; i < events; i++) server.publish("tick", body);
    const stopping = performance.now();
    await server.stop();
    expect(performance.now() - stopping).toBeLessThan(TOLERANCE_MS / 4);
    // With linger 0 the tail of the queue, the stopping heartbeat last, was dropped at close.
    expect(await read.catch(() => false)).toBe(true);
    expect(stopped).toBe(true);
    expect(seen.filter((t) => t === "tick")).toHaveLength(events);
  });
});
