/**
 * Conflation through the ZeroMQ transport (issue 10, slow subscribers; ZMTP engine): an
 * RpcServer publishes orders and ticks (`latestValue: true`); a subscriber that really stops
 * reading (a raw TCP SUB, paused) gets, once it reads again, every order in order and the newest
 * tick of each symbol, while an RpcClient beside it gets everything. Without the flag every tick
 * is queued as before.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { decode } from "@msgpack/msgpack";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { zmqClient, zmqServer, type ZmqServerTransport } from "../../transports/zeromq/index.ts";
import { encodeCommand, encodeMessage, FrameDecoder } from "../../transports/zmtp/frame-codec.ts";
import { encodeGreeting, encodeProperties, GREETING_SIZE } from "../../transports/zmtp/greeting.ts";
import { publishUntilReceived, type RawPeer, rawPeer } from "../zmtp/helpers.ts";
import { addresses, removeTempDirs } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => removeTempDirs());

const td = new TextDecoder();
const pad = new Uint8Array(64 * 1024);

/** Events as "topic n", in arrival order, from every whole message a raw SUB received. */
function eventsOf(raw: RawPeer): string[] {
  const bytes = raw.received();
  if (bytes.length <= GREETING_SIZE) return [];
  const out: string[] = [];
  for (const item of new FrameDecoder().push(bytes.subarray(GREETING_SIZE))) {
    if (item.kind !== "message" || item.frames.length !== 2) continue;
    const topic = td.decode(item.frames[0]!);
    const data = (decode(item.frames[1]!) as unknown[])[2] as { n: number };
    out.push(`${topic} ${data.n}`);
  }
  return out;
}

/** Resolves once `raw` received each of `wanted` (or, with a function, once it holds); re-checked on every chunk, no timer. */
function receivedAll(raw: RawPeer, wanted: string[] | ((events: string[]) => boolean)): Promise<string[]> {
  const holds = typeof wanted === "function" ? wanted : (events: string[]) => wanted.every((event) => events.includes(event));
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      if (done) return;
      const events = eventsOf(raw);
      if (holds(events)) {
        done = true;
        resolve(events);
      }
    };
    raw.onData(check);
    check();
  });
}

async function setup() {
  const { rep, pub } = await addresses("tcp");
  const transport = zmqServer({ engine: "zmtp", rep, pub }) as ZmqServerTransport;
  const server = new RpcServer({ transport, logger: quiet });
  await server.start();
  cleanups.push(() => server.stop());
  const client = new RpcClient({ transport: zmqClient({ req: rep, sub: pub, engine: "zmtp" }), logger: quiet });
  await client.start();
  cleanups.push(() => client.stop());
  const healthy: string[] = [];
  let waiting: { event: string; resolve: () => void } | undefined;
  client.subscribe("e", (topic, data) => {
    const event = `${topic} ${(data as { n: number }).n}`;
    if (topic === "eProbe") return waiting?.event === "eProbe" ? waiting.resolve() : undefined;
    healthy.push(event);
    if (waiting?.event === event) waiting.resolve();
  });
  const healthyGot = (event: string) =>
    healthy.includes(event) ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { event, resolve }));
  const stalled = await rawPeer(pub);
  cleanups.push(() => stalled.destroy());
  stalled.write(encodeGreeting());
  stalled.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "SUB" })));
  stalled.write(encodeMessage([new Uint8Array([1, 0x65])])); // subscribe "e"
  // Both subscriptions reach the server some time after connecting: publish probes until both hear one.
  const heard = (events: string[]) => events.some((event) => event.startsWith("eProbe "));
  let probe = 0;
  await publishUntilReceived(
    () => server.publish("eProbe", { n: probe++ }),
    Promise.all([new Promise<void>((resolve) => (waiting = { event: "eProbe", resolve })), receivedAll(stalled, heard)]),
  );
  return { server, transport, stalled, healthy, healthyGot };
}

describe("ZeroMQ transport conflation (ZMTP engine)", () => {
  for (const latestValue of [true, false]) {
    it(
      latestValue
        ? "a stalled subscriber gets every order in order and the newest tick per symbol; a healthy one gets all"
        : "without latestValue every tick is queued for a stalled subscriber, as before",
      async () => {
        const { server, transport, stalled, healthy, healthyGot } = await setup();
        stalled.pause();
        let last = -1;
        let extra = -1;
        for (let n = 0; ; n++) {
          if (n === 400) throw new Error("the stalled subscriber never fell behind (25 MiB sent)");
          server.publish("eOrder.SIM.1", { n, pad });
          server.publish("eTick.A", { n }, { latestValue });
          server.publish("eTick.B", { n }, { latestValue });
          // The canary is always a latest value: it shows when the stalled subscriber is behind.
          server.publish("eCanary", { n }, { latestValue: true });
          await healthyGot(`eCanary ${n}`);
          if (extra < 0 && transport.stats.conflatedEvents! >= 2) extra = 5;
          if (extra >= 0 && extra-- === 0) {
            last = n;
            break;
          }
        }
        expect(transport.stats.droppedEvents).toBe(0);
        const rounds = Array.from({ length: last + 1 }, (_, i) => i);
        const of = (events: string[], topic: string) =>
          events.filter((event) => event.startsWith(`${topic} `)).map((event) => Number(event.slice(topic.length + 1)));
        // The healthy client got everything, in order.
        for (const topic of ["eOrder.SIM.1", "eTick.A", "eTick.B", "eCanary"]) expect(of(healthy, topic)).toEqual(rounds);
        stalled.resume();
        const events = await receivedAll(stalled, [`eOrder.SIM.1 ${last}`, `eTick.A ${last}`, `eTick.B ${last}`, `eCanary ${last}`]);
        expect(of(events, "eOrder.SIM.1")).toEqual(rounds);
        expect(of(events, "eCanary").length).toBeLessThan(rounds.length);
        for (const topic of ["eTick.A", "eTick.B"]) {
          const got = of(events, topic);
          if (!latestValue) {
            expect(got).toEqual(rounds);
            continue;
          }
          expect(got.at(-1)).toBe(last);
          expect([...got].sort((a, b) => a - b)).toEqual(got);
          expect(got.length).toBeLessThan(rounds.length);
        }
      },
    );
  }
});
