import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcError, RpcServer, withFaults } from "../../lib/index.ts";
import type { Gap } from "../../lib/gap-detector.ts";
import { memoryHub } from "../../transports/memory.ts";
import { until } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server and a client whose link can be cut, with every gap and restart the client reports. */
async function lossyRig(serverOptions: { heartbeatMs?: number } = {}) {
  const hub = memoryHub();
  const server = new RpcServer({ transport: hub.server, logger: quiet, heartbeatMs: 0, ...serverOptions });
  await server.start();
  cleanups.push(() => server.stop());
  const link = withFaults(hub.client(), {});
  const client = new RpcClient({ transport: link, logger: quiet, heartbeatToleranceMs: 0 });
  const gaps: Gap[] = [];
  const restarts: number[] = [];
  client.on("gap", (gap) => gaps.push(gap));
  client.on("restart", (epoch) => restarts.push(epoch));
  await client.start();
  cleanups.push(() => client.stop());
  const received: Array<[string, unknown]> = [];
  const follow = async (prefix: string) => {
    client.subscribe(prefix, (topic, data) => received.push([topic, data]));
    await client.synced();
  };
  /** Publish `count` events while the link is cut: they are lost on the way. */
  const lose = async (publish: () => void, count = 1) => {
    await new Promise((resolve) => setTimeout(resolve, 0)); // what was sent before arrives first
    const dropped = link.faults.stats.dropped;
    link.faults.cut();
    publish();
    await until(() => link.faults.stats.dropped >= dropped + count);
    link.faults.restore();
  };
  return { hub, server, client, link, gaps, restarts, received, follow, lose };
}

describe("events are numbered, and a lost one is reported", () => {
  it("reports a gap with how many events of the topic did not arrive", async () => {
    const r = await lossyRig();
    await r.follow("tick.");
    r.server.publish("tick.A", 1);
    await r.lose(() => {
      r.server.publish("tick.A", 2);
      r.server.publish("tick.A", 3);
    }, 2);
    r.server.publish("tick.A", 4);
    r.server.publish("tick.B", 1); // another topic is another stream: nothing lost there
    await until(() => r.received.length === 3);
    expect(r.received.map(([, d]) => d)).toEqual([1, 4, 1]);
    expect(r.gaps).toEqual([{ stream: "tick.A", missed: 2 }]);
  });

  it("numbers per-entity topics in one stream the publisher names", async () => {
    const r = await lossyRig();
    await r.follow("eOrder.");
    // A second client follows one order only: events of other orders are filtered, not lost.
    const narrow = new RpcClient({ transport: r.hub.client(), logger: quiet, heartbeatToleranceMs: 0 });
    const narrowGaps: Gap[] = [];
    narrow.on("gap", (gap) => narrowGaps.push(gap));
    await narrow.start();
    cleanups.push(() => narrow.stop());
    const narrowGot: unknown[] = [];
    narrow.subscribe("eOrder.SIM.1", (_t, d) => narrowGot.push(d));
    await narrow.synced();

    const stream = "eOrder.SIM.";
    r.server.publish("eOrder.SIM.1", "1 submitted", { stream });
    r.server.publish("eOrder.SIM.2", "2 submitted", { stream });
    await r.lose(() => r.server.publish("eOrder.SIM.2", "2 filled", { stream }));
    r.server.publish("eOrder.SIM.1", "1 filled", { stream });
    await until(() => r.received.length === 3 && narrowGot.length === 2);
    expect(r.gaps).toEqual([{ stream, missed: 1 }]);
    expect(narrowGot).toEqual(["1 submitted", "1 filled"]);
    expect(narrowGaps).toEqual([]);
  });

  it("learns from the heartbeat of a lost event that nothing followed", async () => {
    const r = await lossyRig({ heartbeatMs: 20 });
    await r.follow("eTrade.");
    r.server.publish("eTrade.A", "t1");
    await until(() => r.received.length === 1);
    await r.lose(() => r.server.publish("eTrade.A", "t2"));
    await until(() => r.gaps.length > 0);
    expect(r.gaps).toEqual([{ stream: "eTrade.A", missed: 1 }]);
    expect(r.received).toHaveLength(1);
  });

  it("does not announce latest-value streams, whose next event replaces a lost one", async () => {
    const r = await lossyRig({ heartbeatMs: 10 });
    await r.follow("");
    r.server.publish("eTick.A", 1, { latestValue: true });
    r.server.publish("eLog", "marker");
    await until(() => r.received.length === 2);
    await r.lose(() => r.server.publish("eTick.A", 2, { latestValue: true }));
    // Several heartbeats go by; none names the tick stream.
    const beatsBefore = r.link.faults.stats.forwarded;
    await until(() => r.link.faults.stats.forwarded >= beatsBefore + 5);
    expect(r.gaps).toEqual([]);
    r.server.publish("eTick.A", 3, { latestValue: true });
    await until(() => r.gaps.length === 1);
    expect(r.gaps).toEqual([{ stream: "eTick.A", missed: 1 }]);
  });

  it("knows where a stream stands when subscribing late, so the first event after can be missed and reported", async () => {
    const r = await lossyRig();
    r.server.publish("eOrder.A", "before 1");
    r.server.publish("eOrder.A", "before 2");
    await r.follow("eOrder.");
    expect(r.gaps).toEqual([]);
    await r.lose(() => r.server.publish("eOrder.A", "after 1"));
    r.server.publish("eOrder.A", "after 2");
    await until(() => r.received.length === 1);
    expect(r.gaps).toEqual([{ stream: "eOrder.A", missed: 1 }]);
    // A stream that did not exist when we subscribed starts at 0.
    await r.lose(() => r.server.publish("eOrder.B", "first"));
    r.server.publish("eOrder.B", "second");
    await until(() => r.gaps.length === 2);
    expect(r.gaps[1]).toEqual({ stream: "eOrder.B", missed: 1 });
  });

  it("tells a restart (a new epoch) from a gap", async () => {
    const r = await lossyRig({ heartbeatMs: 20 });
    await r.follow("eOrder.");
    r.server.publish("eOrder.A", 1);
    r.server.publish("eOrder.A", 2);
    await until(() => r.received.length === 2);
    await r.server.stop();
    await r.server.start();
    r.server.publish("eOrder.A", "new 1");
    await until(() => r.received.length === 3 && r.restarts.length === 1);
    expect(r.gaps).toEqual([]);
    // Counting goes on in the new epoch.
    await r.lose(() => r.server.publish("eOrder.A", "new 2"));
    r.server.publish("eOrder.A", "new 3");
    await until(() => r.gaps.length === 1);
    expect(r.gaps).toEqual([{ stream: "eOrder.A", missed: 1 }]);
  });

  it("an event too large to send is not counted, so it makes no false gap", async () => {
    const hub = memoryHub();
    const server = new RpcServer({ transport: hub.server, logger: quiet, heartbeatMs: 0, maxMessageBytes: 1000 });
    await server.start();
    cleanups.push(() => server.stop());
    const client = new RpcClient({ transport: hub.client(), logger: quiet, heartbeatToleranceMs: 0 });
    const gaps: Gap[] = [];
    client.on("gap", (gap) => gaps.push(gap));
    await client.start();
    cleanups.push(() => client.stop());
    const got: unknown[] = [];
    client.subscribe("t", (_t, d) => got.push(d));
    await client.synced();
    server.publish("t", 1);
    expect(() => server.publish("t", "x".repeat(2000))).toThrow(RpcError);
    server.publish("t", 2);
    await until(() => got.length === 2);
    expect(gaps).toEqual([]);
  });

  it("markLost() counts events as lost without sending them: the next event and the heartbeat show the gap", async () => {
    const r = await lossyRig({ heartbeatMs: 20 });
    await r.follow("eOrder.");
    r.server.publish("eOrder.A", "o1");
    await until(() => r.received.length === 1);
    r.server.markLost("eOrder.A", 3);
    await until(() => r.gaps.length > 0); // the heartbeat announces it, nothing need follow
    r.server.publish("eOrder.A", "o5");
    await until(() => r.received.length === 2);
    expect(r.gaps).toEqual([{ stream: "eOrder.A", missed: 3 }]);
    expect(r.received.map(([, d]) => d)).toEqual(["o1", "o5"]);
    expect(() => r.server.markLost("eOrder.A", 0)).toThrow(RangeError);
    expect(() => r.server.markLost("$tw.heartbeat", 1)).toThrow(TypeError);
  });

  it("refuses a stream that is not a prefix of the topic", async () => {
    const r = await lossyRig();
    expect(() => r.server.publish("eOrder.SIM.1", 1, { stream: "eTrade." })).toThrow(TypeError);
  });
});
