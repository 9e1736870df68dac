/**
 * PUB: sends each message to the peers subscribed to a prefix of its first frame. A peer at
 * its high-water mark misses the message (counted in `droppedMessages`), so a slow subscriber
 * never slows the publisher. Subscriptions arrive as ZMTP 3.1 SUBSCRIBE/CANCEL commands or
 * as 3.0-style messages whose first byte is 1 (subscribe) or 0 (cancel).
 *
 * Each peer's prefixes are a plain set, as libzmq's PUB keeps them: a SUB sends SUBSCRIBE for
 * every subscribe call and CANCEL only when its own count for the prefix reaches zero. A peer
 * gets at most `maxSubscriptionsPerPeer` prefixes of at most `maxPrefixBytes` bytes; the rest
 * are ignored (counted in `refusedSubscriptions`, logged once per peer), so a peer cannot grow
 * our memory without bound.
 *
 * Byte budgets (beyond libzmq, which counts messages only): a subscriber misses a message that
 * would take its queued bytes past `maxQueuedBytesPerSubscriber`, and, while all subscribers
 * together hold more than `maxQueuedBytes`, the ones holding at least their fair share miss it
 * too. A subscriber with nothing queued always gets the message. A message sent to many
 * subscribers is encoded once but counted for each (a conservative count).
 */
import type { Connection } from "./connection.ts";
import { encodeMessage } from "./frame-codec.ts";
import { closedError, limitOr, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";
import { bytesToKey, SubscriptionSet } from "./subscriptions.ts";

/** Library defaults; the tradewire server transport passes its own budgets (lib/budgets.ts). */
export const MAX_PREFIXES_PER_PEER = 10_000;
export const MAX_PREFIX_SIZE = 1024;
/** Queued bytes over which a subscriber's latest values are held rather than queued (the connection's cork flush size: past it, the kernel is refusing bytes). */
export const CONFLATE_ABOVE_BYTES = 256 * 1024;

export interface PublishSendOptions {
  /** Only the newest message of this topic matters: a subscriber that is behind gets the newest, not a queue. */
  latestValue?: boolean;
}

/** One subscriber's held latest values: full topic (latin1 key) → encoded message, in first-held order. */
interface Held {
  readonly messages: Map<string, Uint8Array>;
  bytes: number;
}

export interface PublisherOptions extends SocketOptions {
  /** Topic prefixes one subscriber may hold; more are ignored. Default 10 000. */
  maxSubscriptionsPerPeer?: number;
  /** Longest prefix accepted, in bytes; longer ones are ignored. Default 1 024. */
  maxPrefixBytes?: number;
  /** Message bytes queued for one subscriber; past it the subscriber misses messages. Default: no limit. */
  maxQueuedBytesPerSubscriber?: number;
  /** Message bytes queued for all subscribers; past it those holding their fair share or more miss messages. Default: no limit. */
  maxQueuedBytes?: number;
  /**
   * Queued bytes over which a subscriber is behind: a `latestValue` message then replaces its
   * held one of the same topic instead of being queued. Default 256 KiB (the size at which a
   * connection flushes its corked writes, so bytes past it are ones the kernel refused). Below
   * it, a burst in one event-loop turn can count as behind; 0 conflates whenever anything is
   * queued; Infinity never conflates.
   */
  conflateAboveBytes?: number;
}

export class Publisher extends ZmtpSocket {
  readonly #subscriptions = new WeakMap<Connection, SubscriptionSet>();
  readonly #warned = new WeakSet<Connection>();
  readonly #maxPrefixes: number;
  readonly #maxPrefixBytes: number;
  readonly #maxQueuedPerPeer: number;
  readonly #maxQueued: number;
  readonly #conflateAbove: number;
  /** Subscribers with latest values held (only those that are behind). */
  readonly #held = new Map<Connection, Held>();
  /** Bytes held for all subscribers together (counted with the queued bytes in the socket-wide budget). */
  #heldBytes = 0;
  /** Messages a subscriber missed: at its high-water mark or past a byte budget. */
  droppedMessages = 0;
  /** SUBSCRIBEs ignored: prefix too long or too many prefixes. */
  refusedSubscriptions = 0;
  /** Latest values replaced by a newer one of their topic before they were sent. */
  conflatedEvents = 0;

  constructor(options: PublisherOptions = {}) {
    super("PUB", options);
    this.#maxPrefixes = limitOr("maxSubscriptionsPerPeer", options.maxSubscriptionsPerPeer ?? MAX_PREFIXES_PER_PEER);
    this.#maxPrefixBytes = limitOr("maxPrefixBytes", options.maxPrefixBytes ?? MAX_PREFIX_SIZE);
    this.#maxQueuedPerPeer = limitOr("maxQueuedBytesPerSubscriber", options.maxQueuedBytesPerSubscriber);
    this.#maxQueued = limitOr("maxQueuedBytes", options.maxQueuedBytes);
    this.#conflateAbove = limitOr("conflateAboveBytes", options.conflateAboveBytes ?? CONFLATE_ABOVE_BYTES);
  }

  send(message: MessageLike, options?: PublishSendOptions): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const frames = toFrames(message);
    const topic = frames[0]!;
    const latestValue = options?.latestValue === true;
    let encoded: Uint8Array | undefined;
    let size = -1;
    let topicKey: string | undefined;
    let keyLength = -1;
    let fullKey: string | undefined;
    for (const peer of this.peers) {
      const subscriptions = this.#subscriptions.get(peer);
      if (!subscriptions || subscriptions.size === 0) continue;
      const needed = Math.min(subscriptions.longest, topic.length);
      if (topicKey === undefined || keyLength < needed) {
        topicKey = bytesToKey(topic.subarray(0, needed));
        keyLength = needed;
      }
      if (!subscriptions.matches(topicKey)) continue;
      const queued = peer.queuedBytes;
      // Undefined for every subscriber that is not behind: the common path looks up nothing.
      const held = this.#held.size > 0 ? this.#held.get(peer) : undefined;
      if (latestValue && (held !== undefined || queued > this.#conflateAbove)) {
        if (size < 0) size = messageSize(frames);
        fullKey ??= bytesToKey(topic);
        encoded ??= encodeMessage(frames);
        this.#hold(peer, held, fullKey, encoded, queued);
        continue;
      }
      if (peer.pendingWrites >= this.sendHighWaterMark) {
        this.droppedMessages++;
        continue;
      }
      if (queued > 0) {
        if (size < 0) size = messageSize(frames);
        if (
          queued + size > this.#maxQueuedPerPeer ||
          (this.budget.queuedBytes + size > this.#maxQueued && queued * this.peers.size >= this.#maxQueued)
        ) {
          this.droppedMessages++;
          continue;
        }
      }
      if (held !== undefined) {
        // Held latest values give way: this message must fit the budgets with them counted.
        if (size < 0) size = messageSize(frames);
        this.#makeRoom(peer, held, queued + size);
      }
      // Encode once for every subscriber.
      encoded ??= encodeMessage(frames);
      peer.sendEncoded(encoded);
    }
    return Promise.resolve();
  }

  /** Hold `encoded` as `peer`'s latest value of `key`, replacing an older one; send what is held if the peer caught up. */
  #hold(peer: Connection, held: Held | undefined, key: string, encoded: Uint8Array, queued: number): void {
    const size = encoded.length;
    const old = held?.messages.get(key);
    const growth = size - (old?.length ?? 0);
    const heldBytes = held?.bytes ?? 0;
    const mine = queued + heldBytes;
    if (
      (old === undefined && peer.pendingWrites + (held?.messages.size ?? 0) >= this.sendHighWaterMark) ||
      mine + growth > this.#maxQueuedPerPeer ||
      (this.budget.queuedBytes + this.#heldBytes + growth > this.#maxQueued && mine * this.peers.size >= this.#maxQueued)
    ) {
      this.droppedMessages++;
      return;
    }
    if (held === undefined) {
      held = { messages: new Map(), bytes: 0 };
      this.#held.set(peer, held);
    }
    if (old !== undefined) this.conflatedEvents++;
    // Map.set on an existing key keeps its place: the topic goes out in the order it was first held.
    held.messages.set(key, encoded);
    held.bytes += growth;
    this.#heldBytes += growth;
    if (queued <= this.#conflateAbove) this.#flush(peer, held);
  }

  /** Drop `peer`'s oldest held values until `needed` bytes plus what is held fit its budget. */
  #makeRoom(peer: Connection, held: Held, needed: number): void {
    for (const [key, message] of held.messages) {
      if (needed + held.bytes <= this.#maxQueuedPerPeer && peer.pendingWrites + held.messages.size < this.sendHighWaterMark) return;
      held.messages.delete(key);
      held.bytes -= message.length;
      this.#heldBytes -= message.length;
      this.droppedMessages++;
    }
    if (held.messages.size === 0) this.#held.delete(peer);
  }

  /** Send `peer`'s held values, oldest topic first, while it stays under the threshold. */
  #flush(peer: Connection, held: Held): void {
    for (const [key, message] of held.messages) {
      if (peer.queuedBytes > this.#conflateAbove) return;
      held.messages.delete(key);
      held.bytes -= message.length;
      this.#heldBytes -= message.length;
      peer.sendEncoded(message);
    }
    this.#held.delete(peer);
  }

  protected override onPeerDrain(connection: Connection): void {
    if (this.#held.size === 0) return;
    const held = this.#held.get(connection);
    if (held !== undefined && connection.queuedBytes <= this.#conflateAbove) this.#flush(connection, held);
  }

  protected override onPeerGone(connection: Connection): void {
    this.#forget(connection);
  }

  protected override onClose(): void {
    for (const connection of [...this.#held.keys()]) this.#forget(connection);
  }

  #forget(connection: Connection): void {
    const held = this.#held.get(connection);
    if (held === undefined) return;
    this.#heldBytes -= held.bytes;
    this.#held.delete(connection);
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
    if (prefix.length > this.#maxPrefixBytes) {
      return this.#refuse(connection, `subscription prefix of ${prefix.length} bytes exceeds ${this.#maxPrefixBytes}, ignored`);
    }
    const key = bytesToKey(prefix);
    if (subscriptions.size >= this.#maxPrefixes && !subscriptions.has(key)) {
      return this.#refuse(connection, `more than ${this.#maxPrefixes} subscription prefixes, further ones ignored`);
    }
    subscriptions.add(key);
  }

  #refuse(connection: Connection, reason: string): void {
    this.refusedSubscriptions++;
    if (this.#warned.has(connection)) return;
    this.#warned.add(connection);
    this.log(`${connection.address}: ${reason}`);
  }
}

function messageSize(frames: readonly Uint8Array[]): number {
  let size = 0;
  for (const frame of frames) size += frame.length;
  return size;
}
