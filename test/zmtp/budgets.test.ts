/**
 * The ZMTP sockets' own budgets and notifications, without the RPC layer (Node and Deno):
 * ROUTER notify on connect and disconnect (and no forged notifications), a trickler dropped by
 * `messageTimeout`, the heartbeat counting complete frames only, and `maxConnections`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { encodeCommand } from "../../transports/zmtp/frame-codec.ts";
import { encodeGreeting, encodeProperties } from "../../transports/zmtp/greeting.ts";
import { Dealer, Router } from "../../transports/zmtp/index.ts";
import { type RawPeer, rawPeer } from "./helpers.ts";

const open: Array<{ close(): void }> = [];
const raws: RawPeer[] = [];
afterEach(() => {
  for (const raw of raws.splice(0)) raw.destroy();
  for (const socket of open.splice(0)) socket.close();
});

function track<T extends { close(): void }>(socket: T): T {
  open.push(socket);
  return socket;
}

/** A raw peer that sent its greeting and a DEALER READY, then a long frame header claiming 1000 bytes. */
async function midMessagePeer(endpoint: string): Promise<RawPeer> {
  const raw = await rawPeer(endpoint);
  raws.push(raw);
  raw.write(encodeGreeting());
  raw.write(encodeCommand("READY", encodeProperties({ "Socket-Type": "DEALER", Identity: "" })));
  raw.write(new Uint8Array([0x02, 0, 0, 0, 0, 0, 0, 0x03, 0xe8]));
  return raw;
}

/** One byte every 50 ms until the peer is closed (at most 400). */
function trickle(raw: RawPeer): void {
  let sent = 0;
  let closed = false;
  void raw.closed.then(() => (closed = true));
  const timer = setInterval(() => {
    if (closed || sent++ >= 400) return clearInterval(timer);
    raw.write(new Uint8Array([0x61]));
  }, 50);
  open.push({ close: () => clearInterval(timer) });
}

const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("ROUTER notify", () => {
  it("delivers [id, empty] when a peer connects and when it is gone, and drops a peer's own empty message", async () => {
    const router = track(new Router({ notify: true, log: () => {} }));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = new Dealer({ log: () => {} });
    dealer.connect(router.lastEndpoint!);
    await dealer.send(new Uint8Array(0)); // would read as a notification: dropped
    await dealer.send("hi");
    const connected = await router.receive();
    expect(connected).toHaveLength(2);
    expect(connected[1]!.length).toBe(0);
    const data = await router.receive();
    expect(new TextDecoder().decode(data[1])).toBe("hi");
    expect(hex(data[0]!)).toBe(hex(connected[0]!));
    dealer.close();
    const gone = await router.receive();
    expect(hex(gone[0]!)).toBe(hex(connected[0]!));
    expect(gone[1]!.length).toBe(0);
    expect(router.droppedIncoming).toBe(1);
  });

  it("delivers nothing extra without notify", async () => {
    const router = track(new Router({ log: () => {} }));
    await router.bind("tcp://127.0.0.1:0");
    const dealer = track(new Dealer({ log: () => {} }));
    dealer.connect(router.lastEndpoint!);
    await dealer.send("first");
    expect(new TextDecoder().decode((await router.receive())[1])).toBe("first");
  });
});

describe("peers that trickle", () => {
  it("drops a peer whose message is not complete within messageTimeout", async () => {
    const router = track(new Router({ messageTimeout: 300, log: () => {} }));
    await router.bind("tcp://127.0.0.1:0");
    const raw = await midMessagePeer(router.lastEndpoint!);
    trickle(raw);
    await raw.closed;
    expect(router.droppedTricklers).toBe(1);
  });

  it("counts only complete frames as heartbeat traffic", async () => {
    const router = track(new Router({ heartbeatInterval: 100, heartbeatTimeout: 300, log: () => {} }));
    await router.bind("tcp://127.0.0.1:0");
    const raw = await midMessagePeer(router.lastEndpoint!);
    trickle(raw);
    await raw.closed;
    expect(router.heartbeatTimeouts).toBe(1);
    expect(router.droppedTricklers).toBe(0);
  });
});

describe("maxConnections", () => {
  it("refuses accepted connections beyond the cap and counts them", async () => {
    const router = track(new Router({ maxConnections: 1, log: () => {} }));
    await router.bind("tcp://127.0.0.1:0");
    const first = await rawPeer(router.lastEndpoint!);
    raws.push(first);
    const second = await rawPeer(router.lastEndpoint!);
    raws.push(second);
    await second.closed;
    expect(router.refusedConnections).toBe(1);
  });
});
