/**
 * PUB: sends each message to the peers subscribed to a prefix of its first frame. A peer at
 * its high-water mark misses the message (counted in `droppedMessages`), so a slow subscriber
 * never slows the publisher. Subscriptions arrive as ZMTP 3.1 SUBSCRIBE/CANCEL commands or
 * as 3.0-style messages whose first byte is 1 (subscribe) or 0 (cancel).
 *
 * Each peer's prefixes are a plain set, as libzmq's PUB keeps them: a SUB sends SUBSCRIBE for
 * every subscribe call and CANCEL only when its own count for the prefix reaches zero. A peer
 * gets at most MAX_PREFIXES_PER_PEER prefixes of at most MAX_PREFIX_SIZE bytes; the rest are
 * ignored and logged (once per peer), so a peer cannot grow our memory without bound.
 */
import type { Connection } from "./connection.ts";
import { encodeMessage } from "./frame-codec.ts";
import { closedError, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey, SubscriptionSet } from "./subscriptions.ts";

export const MAX_PREFIXES_PER_PEER = 10_000;
export const MAX_PREFIX_SIZE = 1024;

export class Publisher extends ZmtpSocket {
  readonly #subscriptions = new WeakMap<Connection, SubscriptionSet>();
  readonly #warned = new WeakSet<Connection>();
  droppedMessages = 0;

  constructor(options: SocketOptions = {}) {
    super("PUB", options);
  }

  send(message: MessageLike): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const frames = toFrames(message);
    const topic = frames[0]!;
    let encoded: Uint8Array | undefined;
    let topicKey: string | undefined;
    let keyLength = -1;
    for (const peer of this.peers) {
      const subscriptions = this.#subscriptions.get(peer);
      if (!subscriptions || subscriptions.size === 0) continue;
      const needed = Math.min(subscriptions.longest, topic.length);
      if (topicKey === undefined || keyLength < needed) {
        topicKey = bytesToKey(topic.subarray(0, needed));
        keyLength = needed;
      }
      if (!subscriptions.matches(topicKey)) continue;
      if (peer.pendingWrites >= this.sendHighWaterMark) {
        this.droppedMessages++;
        continue;
      }
      // Encode once for every subscriber.
      encoded ??= encodeMessage(frames);
      peer.sendEncoded(encoded);
    }
    return Promise.resolve();
  }

  protected override onPeerReady(connection: Connection): void {
    this.#subscriptions.set(connection, new SubscriptionSet({ counted: false }));
  }

  protected override onPeerMessage(connection: Connection, frames: Uint8Array[]): void {
    const first = frames[0]!;
    if (frames.length !== 1 || first.length === 0) return;
    if (first[0] === 1) this.#subscribe(connection, first.subarray(1));
    else if (first[0] === 0) this.#subscriptions.get(connection)?.remove(bytesToKey(first.subarray(1)));
  }

  protected override onPeerCommand(connection: Connection, name: string, data: Uint8Array): void {
    if (name === "SUBSCRIBE") this.#subscribe(connection, data);
    else if (name === "CANCEL") this.#subscriptions.get(connection)?.remove(bytesToKey(data));
  }

  #subscribe(connection: Connection, prefix: Uint8Array): void {
    const subscriptions = this.#subscriptions.get(connection);
    if (!subscriptions) return;
    if (prefix.length > MAX_PREFIX_SIZE) {
      return this.#refuse(connection, `subscription prefix of ${prefix.length} bytes exceeds ${MAX_PREFIX_SIZE}, ignored`);
    }
    const key = bytesToKey(prefix);
    if (subscriptions.size >= MAX_PREFIXES_PER_PEER && !subscriptions.has(key)) {
      return this.#refuse(connection, `more than ${MAX_PREFIXES_PER_PEER} subscription prefixes, further ones ignored`);
    }
    subscriptions.add(key);
  }

  #refuse(connection: Connection, reason: string): void {
    if (this.#warned.has(connection)) return;
    this.#warned.add(connection);
    this.log(`${connection.address}: ${reason}`);
  }
}
