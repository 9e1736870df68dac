/**
 * DEALER: sends round-robin to peers with room below the high-water mark, receives fairly
 * from all. With no peer yet, up to `sendHighWaterMark` messages wait for the first one;
 * beyond that `send` waits (backpressure), as libzmq's DEALER blocks.
 *
 * Buffer ownership once `send` resolved: a message that had to wait (no peer with room) is
 * encoded, i.e. copied, when it is queued, and a message under 16 KiB in total is copied when
 * written; only a message of 16 KiB or more written straight to a peer keeps the caller's
 * frames by reference until the OS took them. So do not modify frames of a large message
 * after `send`; small messages and queued ones are safe to reuse.
 */
import type { Connection } from "./connection.ts";
import { encodeMessage } from "./frame-codec.ts";
import { closedError, type MessageLike, type SocketOptions, toFrames, ZmtpSocket } from "./socket-base.ts";

interface PendingSend {
  frames: Uint8Array[];
  resolve(): void;
  reject(error: Error): void;
}

export class Dealer extends ZmtpSocket {
  readonly #immediate: boolean;
  /** Messages accepted by `send` and not yet handed to a peer, already encoded (a copy). */
  #outbox: Uint8Array[] = [];
  /** Senders waiting for room in the outbox. */
  #blocked: PendingSend[] = [];
  #next = 0;
  /** Ready peers in round-robin order (an array: `send` is the hot path). */
  #ring: Connection[] = [];

  constructor(options: SocketOptions = {}) {
    super("DEALER", options);
    this.#immediate = options.immediate ?? false;
  }

  send(message: MessageLike): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    const frames = toFrames(message);
    if (this.#outbox.length === 0 && this.#blocked.length === 0) {
      const peer = this.#pickPeer();
      if (peer) {
        peer.send(frames);
        return Promise.resolve();
      }
      if (this.#canQueue()) {
        this.#outbox.push(encodeMessage(frames));
        return Promise.resolve();
      }
    }
    return new Promise((resolve, reject) => {
      this.#blocked.push({ frames, resolve, reject });
      this.#pump();
    });
  }

  #canQueue(): boolean {
    if (this.#outbox.length >= this.sendHighWaterMark) return false;
    return !this.#immediate || this.peers.size > 0;
  }

  /** Next peer in round-robin order with room, or undefined. */
  #pickPeer(): Connection | undefined {
    const peers = this.#ring;
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(this.#next + k) % peers.length]!;
      if (peer.pendingWrites < this.sendHighWaterMark) {
        this.#next = (this.#next + k + 1) % peers.length;
        return peer;
      }
    }
    return undefined;
  }

  /** Move queued messages to peers, then waiting senders into the queue. */
  #pump(): void {
    while (this.#outbox.length > 0) {
      const peer = this.#pickPeer();
      if (!peer) break;
      peer.sendEncoded(this.#outbox.shift()!);
    }
    while (this.#blocked.length > 0) {
      if (this.#outbox.length === 0) {
        const peer = this.#pickPeer();
        if (peer) {
          const pending = this.#blocked.shift()!;
          peer.send(pending.frames);
          pending.resolve();
          continue;
        }
      }
      if (!this.#canQueue()) break;
      const pending = this.#blocked.shift()!;
      this.#outbox.push(encodeMessage(pending.frames));
      pending.resolve();
    }
    if (this.#outbox.length === 0) this.unsentFlushed();
  }

  protected override onPeerReady(connection: Connection): void {
    this.#ring.push(connection);
    this.#pump();
  }

  protected override onPeerGone(connection: Connection): void {
    this.#ring = this.#ring.filter((peer) => peer !== connection);
  }

  protected override onPeerDrain(): void {
    if (this.#outbox.length > 0 || this.#blocked.length > 0) this.#pump();
  }

  protected override onPeerMessage(connection: Connection, frames: Uint8Array[]): void {
    this.deliver(connection, frames);
  }

  protected override hasUnsentMessages(): boolean {
    return this.#outbox.length > 0;
  }

  protected override onClosing(): void {
    // Senders still waiting were never told their message was accepted.
    for (const pending of this.#blocked.splice(0)) pending.reject(closedError());
  }

  protected override onClose(): void {
    this.#outbox = [];
    this.#ring = [];
  }
}
