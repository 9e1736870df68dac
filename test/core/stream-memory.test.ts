/**
 * Sequence numbers stay bounded: a publisher on ever-new streams (one per order topic) forgets
 * streams unused for FORGET_BEATS heartbeats, and the least recently published beyond a cap; a
 * subscriber does the same, never before the publisher did. A forgotten stream starts again at
 * seq 1, which the subscriber takes as the stream starting again, not as a gap, and counts on.
 */
import { describe, expect, it } from "vitest";
import { EventSequences, FORGET_BEATS } from "../../lib/event-sequences.ts";
import { GapDetector, type Gap } from "../../lib/gap-detector.ts";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { memoryPair } from "../../transports/memory.ts";

/** A publisher and one subscriber of `prefix`, wired by hand: every event and heartbeat is delivered unless dropped. */
function pair(prefix: string, maxStreams?: number) {
  const server = new EventSequences(maxStreams);
  server.restart();
  const gaps: Gap[] = [];
  const client = new GapDetector(() => [prefix], (gap) => gaps.push(gap), () => {}, maxStreams);
  client.baseline(server.epoch, server.snapshot([prefix]), [prefix]);
  const publish = (stream: string, deliver = true) => {
    const seq = server.following(stream);
    server.sent(stream, seq, true);
    if (deliver) client.event(stream, seq, server.epoch, undefined);
    return seq;
  };
  const beat = (deliver = true) => {
    const { beat, recent } = server.beat();
    if (deliver) client.heartbeat(server.epoch, beat, recent);
  };
  return { server, client, gaps, publish, beat };
}

describe("EventSequences", () => {
  it("forgets a stream after FORGET_BEATS heartbeats without an event, and numbers it from 1 again", () => {
    const { server, publish, beat } = pair("order.");
    for (let i = 0; i < 1_000; i++) publish(`order.${i}`);
    publish("order.0");
    expect(server.following("order.0")).toBe(3);
    // FORGET_BEATS heartbeats after the last event still name the stream's beat; the next forgets it.
    for (let i = 0; i < FORGET_BEATS; i++) {
      beat();
      publish("order.kept");
    }
    expect(server.size).toBe(1_001);
    beat();
    expect(server.size).toBe(1); // only order.kept, published in the last beats
    expect(server.following("order.0")).toBe(1);
    expect(server.snapshot(["order."])).toEqual(["order.kept", FORGET_BEATS]);
  });

  it("keeps at most maxStreams, forgetting the least recently published first", () => {
    const { server, publish, beat } = pair("order.", 10);
    for (let i = 0; i < 10; i++) publish(`order.${i}`);
    beat();
    publish("order.0"); // used again in a later beat: now the most recent
    for (let i = 10; i < 15; i++) publish(`order.${i}`);
    expect(server.size).toBe(10);
    expect(server.following("order.0")).toBe(3);
    expect(server.following("order.1")).toBe(1); // forgotten
    expect(server.following("order.9")).toBe(2);
  });
});

describe("GapDetector with a publisher that forgets", () => {
  it("takes seq 1 on a known stream as the stream starting again, and still sees a loss after it", () => {
    const { gaps, publish, client, server } = pair("order.");
    for (let i = 0; i < 5; i++) publish("order.1");
    // The publisher forgot the stream; the subscriber still knows it at 5.
    client.event("order.1", 1, server.epoch, undefined);
    expect(gaps).toEqual([]);
    client.event("order.1", 3, server.epoch, undefined); // 2 was lost
    expect(gaps).toEqual([{ stream: "order.1", missed: 1 }]);
  });

  it("never forgets a stream before the publisher did: no false gap whenever the stream comes back", () => {
    // Heartbeats missed (up to 2 in a row go unnoticed) make our beat count trail the publisher's,
    // before the stream's last event and among the heartbeats that announce it after.
    for (const missedBefore of [0, 1, 2]) {
      for (const missedAfter of [0, 1, 2].filter((n) => missedBefore + n < 3)) {
        for (let idle = FORGET_BEATS - 5; idle <= FORGET_BEATS + 10; idle++) {
          const { gaps, publish, beat, client } = pair("order.");
          beat();
          for (let i = 0; i < missedBefore; i++) beat(false);
          for (let i = 0; i < 4; i++) publish("order.7");
          for (let i = 0; i < missedAfter; i++) beat(false);
          for (let i = 0; i < idle; i++) beat();
          publish("order.7");
          publish("order.7");
          expect({ missedBefore, missedAfter, idle, gaps }).toEqual({ missedBefore, missedAfter, idle, gaps: [] });
          expect(client.size).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it("forgets streams it has not seen for long, and caps what it follows", () => {
    const { client, publish, beat } = pair("order.", 50);
    for (let i = 0; i < 40; i++) publish(`order.${i}`);
    expect(client.size).toBe(40);
    for (let i = 0; i < FORGET_BEATS + 10; i++) beat();
    expect(client.size).toBe(0);
    for (let i = 0; i < 200; i++) publish(`order.x${i}`);
    expect(client.size).toBe(50);
  });

  it("after forgetting for room, takes an unknown stream's first event as its start (no false gap)", () => {
    const { client, gaps, publish, server } = pair("order.", 3);
    for (let i = 0; i < 5; i++) publish("order.busy");
    for (let i = 0; i < 3; i++) publish(`order.${i}`); // order.busy is pushed out of our memory
    client.event("order.busy", 6, server.epoch, undefined);
    client.event("order.busy", 8, server.epoch, undefined);
    expect(gaps).toEqual([{ stream: "order.busy", missed: 1 }]);
  });
});

describe("a server publishing on ever-new streams", () => {
  it("forgets them once unused, and its client reports no gap when one comes back", async () => {
    const [serverSide, clientSide] = memoryPair();
    const quiet = { warn: () => {}, error: () => {} };
    const server = new RpcServer({ transport: serverSide, heartbeatMs: 2, logger: quiet });
    await server.start();
    const client = new RpcClient({ transport: clientSide, heartbeatToleranceMs: 60_000, logger: quiet });
    const gaps: Gap[] = [];
    client.on("gap", (gap: Gap) => gaps.push(gap));
    const received: string[] = [];
    client.subscribe("order.", (topic) => received.push(topic));
    await client.start();
    try {
      const streams = async () => ((await client.call("$tw.streams", [["order."]])) as { streams: unknown[] }).streams;
      for (let i = 0; i < 500; i++) server.publish(`order.${i}`, i);
      for (let i = 0; i < 3; i++) server.publish("order.0", i);
      expect((await streams()).length).toBe(2 * 500);
      // Wait by condition: heartbeats go on until the server has forgotten every stream.
      while ((await streams()).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      server.publish("order.0", "again");
      server.publish("order.0", "and again");
      while (received.length < 505) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(gaps).toEqual([]);
      expect(await streams()).toEqual(["order.0", 2]);
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});
