/**
 * SUB: tells every publisher its prefixes (again after each reconnect) and filters what
 * arrives by them too. Subscriptions go out as 3.0-style messages (1 or 0 then the prefix),
 * which libzmq accepts from every ZMTP 3.x peer.
 */
import type { Connection } from "./connection.ts";
import { type SocketOptions, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey, keyToBytes, SubscriptionSet } from "./subscriptions.ts";

const textEncoder = new TextEncoder();

export class Subscriber extends ZmtpSocket {
  readonly #subscriptions = new SubscriptionSet();

  constructor(options: SocketOptions = {}) {
    super("SUB", options);
  }

  /** Receive messages whose first frame starts with one of `prefixes`; none means everything. */
  subscribe(...prefixes: Array<Uint8Array | string>): void {
    for (const key of toKeys(prefixes)) {
      this.#subscriptions.add(key);
      // libzmq forwards every subscribe; the publisher counts them.
      for (const peer of this.peers) sendSubscription(peer, 1, key);
    }
  }

  unsubscribe(...prefixes: Array<Uint8Array | string>): void {
    for (const key of toKeys(prefixes)) {
      if (!this.#subscriptions.remove(key)) continue;
      for (const peer of this.peers) sendSubscription(peer, 0, key);
    }
  }

  send(): Promise<void> {
    return Promise.reject(new TypeError("A Subscriber cannot send"));
  }

  protected override onPeerReady(connection: Connection): void {
    for (const key of this.#subscriptions.prefixes()) sendSubscription(connection, 1, key);
  }

  protected override onPeerMessage(connection: Connection, frames: Uint8Array[]): void {
    const topic = frames[0]!;
    const needed = Math.min(this.#subscriptions.longest, topic.length);
    if (this.#subscriptions.size > 0 && this.#subscriptions.matches(bytesToKey(topic.subarray(0, needed)))) {
      this.deliver(connection, frames);
    }
  }
}

function toKeys(prefixes: Array<Uint8Array | string>): string[] {
  if (prefixes.length === 0) return [""];
  return prefixes.map((prefix) => bytesToKey(typeof prefix === "string" ? textEncoder.encode(prefix) : prefix));
}

function sendSubscription(peer: Connection, flag: 0 | 1, key: string): void {
  const body = new Uint8Array(1 + key.length);
  body[0] = flag;
  body.set(keyToBytes(key), 1);
  peer.send([body]);
}
