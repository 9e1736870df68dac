/**
 * PUB: sends each message to the peers subscribed to a prefix of its first frame. A peer at
 * its high-water mark misses the message (counted in `droppedMessages`), so a slow subscriber
 * never slows the publisher. Subscriptions arrive as ZMTP 3.1 SUBSCRIBE/CANCEL commands or
 * as 3.0-style messages whose first byte is 1 (subscribe) or 0 (cancel).
 */
import type { Connection } from "./connection.ts";
import { encodeMessage } from "./frame-codec.ts";
import { closedError, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey, SubscriptionSet } from "./subscriptions.ts";

export class Publisher extends ZmtpSocket {
  readonly #subscriptions = new WeakMap<Connection, SubscriptionSet>();
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
    this.#subscriptions.set(connection, new SubscriptionSet());
  }

  protected override onPeerMessage(connection: Connection, frames: Uint8Array[]): void {
    const first = frames[0]!;
    if (frames.length !== 1 || first.length === 0) return;
    if (first[0] === 1) this.#subscriptions.get(connection)?.add(bytesToKey(first.subarray(1)));
    else if (first[0] === 0) this.#subscriptions.get(connection)?.remove(bytesToKey(first.subarray(1)));
  }

  protected override onPeerCommand(connection: Connection, name: string, data: Uint8Array): void {
    if (name === "SUBSCRIBE") this.#subscriptions.get(connection)?.add(bytesToKey(data));
    else if (name === "CANCEL") this.#subscriptions.get(connection)?.remove(bytesToKey(data));
  }
}
