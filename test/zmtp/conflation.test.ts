/**
 * Latest values on the ZMTP Publisher (issue 10, slow subscribers), Node and Deno: a subscriber
 * that really stops reading (a raw TCP peer, paused) gets, once it reads again, every ordinary
 * message in order and only the newest message of each latest-value topic; a healthy subscriber
 * beside it gets everything; messages sent without the flag are queued as before.
 */
import { afterEach, describe, expect, it } from "vitest";
import { encodeCommand, encodeMessage, FrameDecoder } from "../../transports/zmtp/frame-codec.ts";
import { encodeGreeting, encodeProperties, GREETING_SIZE } from "../../transports/zmtp/greeting.ts";
import { Publisher, Subscriber } from "../../transports/zmtp/index.ts";
import { publishUntilReceived, type RawPeer, rawPeer, td } from "./helpers.ts";

const quiet = { log: () => {} };
const open: Array<{ close(): void }> = [];
const raws: RawPeer[] = [];
const track = <T extends { close(): void }>(socket: T): T => (open.push(socket), socket);

afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
  for (const raw of raws.splice(0)) raw.destroy();
});

/** A raw SUB peer subscribed to everything, which the test can pause (it then reads nothing). */
async function rawSubscriber(endpoint: string): Promise<RawPeer> {
  const raw = await rawPeer(endpoint);
  raws.push(raw);
  raw.write(encodeGreeting());
  raw.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "SUB" })));
  raw.write(encodeMessage([new Uint8Array([1])]));
  return raw;
}

/** The first two frames of every whole message a raw peer received, as "topic n". */
function messagesOf(raw: RawPeer): string[] {
  const bytes = raw.received();
  if (bytes.length <= GREETING_SIZE) return [];
  const decoder = new FrameDecoder();
  const out: string[] = [];
  for (const item of decoder.push(bytes.subarray(GREETING_SIZE))) {
    if (item.kind === "message") out.push(item.frames.slice(0, 2).map((frame) => td.decode(frame)).join(" "));
  }
  return out;
}

/** Resolves once `raw` has received a message equal to each of `lasts`; re-checks on every chunk. */
function receivedAll(raw: RawPeer, lasts: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      if (done) return;
      const names = messagesOf(raw);
      if (lasts.every((last) => names.includes(last))) {
        done = true;
        resolve(names);
      }
    };
    raw.onData(check);
    check();
  });
}

/** A publisher with a stalled raw subscriber and a healthy Subscriber, both seen receiving. */
async function setup() {
  const pub = track(new Publisher(quiet));
  await pub.bind("tcp://127.0.0.1:0");
  const stalled = await rawSubscriber(pub.lastEndpoint!);
  const healthy = track(new Subscriber(quiet));
  healthy.subscribe("");
  healthy.connect(pub.lastEndpoint!);
  await publishUntilReceived(() => pub.send(["probe", "0"]), Promise.all([healthy.receive(), receivedAll(stalled, ["probe 0"])]));
  const next = async (): Promise<string> => {
    let name: string;
    while ((name = (await healthy.receive()).slice(0, 2).map((frame) => td.decode(frame)).join(" ")).startsWith("probe"));
    return name;
  };
  return { pub, stalled, next };
}

const body = new Uint8Array(64 * 1024);

/**
 * Publish rounds of one 64 KiB order and one message per tick topic, each round paced by the
 * healthy subscriber (which must get all of it), until the stalled one is behind: `behind()`.
 * Then a few rounds more. Returns the last round's number.
 */
async function flood(
  pub: Publisher,
  next: () => Promise<string>,
  ticks: Array<{ topic: string; latestValue: boolean }>,
  behind: () => boolean,
): Promise<number> {
  let extra = -1;
  for (let round = 0; ; round++) {
    // Loopback buffers hold a few MB: a few dozen rounds fill them.
    if (round === 400) throw new Error("the stalled subscriber never fell behind (25 MiB sent)");
    await pub.send(["order", String(round), body]);
    for (const tick of ticks) await pub.send([tick.topic, String(round)], { latestValue: tick.latestValue });
    expect(await next()).toBe(`order ${round}`);
    for (const tick of ticks) expect(await next()).toBe(`${tick.topic} ${round}`);
    if (extra < 0 && behind()) extra = 5;
    if (extra >= 0 && extra-- === 0) return round;
  }
}

function numbers(names: string[], topic: string): number[] {
  return names.filter((name) => name.startsWith(`${topic} `)).map((name) => Number(name.slice(topic.length + 1)));
}

describe("Publisher latest values (conflation)", () => {
  it("gives a stalled subscriber every order in order and only the newest tick of each topic; a healthy one gets all", async () => {
    const { pub, stalled, next } = await setup();
    stalled.pause();
    const last = await flood(
      pub,
      next,
      [
        { topic: "tick.A", latestValue: true },
        { topic: "tick.B", latestValue: true },
      ],
      () => pub.conflatedEvents >= 2,
    );
    expect(pub.droppedMessages).toBe(0);
    const conflated = pub.conflatedEvents;
    stalled.resume();
    const names = await receivedAll(stalled, [`order ${last}`, `tick.A ${last}`, `tick.B ${last}`]);
    const rounds = Array.from({ length: last + 1 }, (_, i) => i);
    expect(numbers(names, "order")).toEqual(rounds);
    for (const topic of ["tick.A", "tick.B"]) {
      const got = numbers(names, topic);
      // Each tick topic: increasing, ending with the newest; the stale ones replaced were never sent.
      expect(got.at(-1)).toBe(last);
      expect([...got].sort((a, b) => a - b)).toEqual(got);
      expect(new Set(got).size).toBe(got.length);
      expect(got.length).toBeLessThan(rounds.length);
    }
    expect(numbers(names, "tick.A").length + numbers(names, "tick.B").length).toBe(2 * rounds.length - conflated);
    // Held ticks go out after the orders queued before them, and in the order their topics were first held.
    expect(names.indexOf(`tick.A ${last}`)).toBeGreaterThan(names.indexOf(`order ${last}`));
    expect(names.indexOf(`tick.B ${last}`)).toBe(names.indexOf(`tick.A ${last}`) + 1);
  });

  it("queues messages sent without the flag as before, even to a subscriber that is behind", async () => {
    const { pub, stalled, next } = await setup();
    stalled.pause();
    // A latest-value canary shows when the stalled subscriber is behind.
    const last = await flood(
      pub,
      next,
      [
        { topic: "tick.A", latestValue: false },
        { topic: "canary", latestValue: true },
      ],
      () => pub.conflatedEvents >= 2,
    );
    expect(pub.droppedMessages).toBe(0);
    stalled.resume();
    const names = await receivedAll(stalled, [`order ${last}`, `tick.A ${last}`, `canary ${last}`]);
    const rounds = Array.from({ length: last + 1 }, (_, i) => i);
    expect(numbers(names, "order")).toEqual(rounds);
    expect(numbers(names, "tick.A")).toEqual(rounds);
    expect(numbers(names, "canary").length).toBeLessThan(rounds.length);
  });
});
