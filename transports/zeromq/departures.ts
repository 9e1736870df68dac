/**
 * libzmq (the native engine) tells that a peer left with `[routingId, <empty>]` — exactly what
 * a live peer's own empty message looks like. The ROUTER's "disconnected" events come for every
 * connection that ends, without saying whose. Paired within a short window they tell the two
 * apart: a notification with a disconnect event near it (either may come first) is a departure;
 * one with none, or whose peer speaks again first, was the peer's own empty message.
 *
 * Two peers could swap places (one's empty message and another's departure in the same few
 * milliseconds); the server then learns of its mistake when the "gone" peer speaks again.
 */
import type { PeerId } from "../../lib/transport.ts";

export class DepartureMatcher {
  /** Notifications waiting for a disconnect event, oldest first. */
  readonly #pending = new Map<PeerId, ReturnType<typeof setTimeout>>();
  /** When disconnect events came that no notification has claimed yet, oldest first. */
  readonly #unclaimed: number[] = [];

  constructor(
    private readonly windowMs: number,
    /** The peer left. */
    private readonly gone: (peer: PeerId) => void,
    /** The notification was the peer's own empty message. */
    private readonly ownMessage: (peer: PeerId) => void,
  ) {}

  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  /** An empty message from a peer we know: its departure, or its own message. */
  notified(peer: PeerId): void {
    this.#expireUnclaimed();
    if (this.#unclaimed.length > 0) {
      this.#unclaimed.shift();
      this.#settle(peer);
      this.gone(peer);
    } else if (this.#pending.has(peer)) {
      this.ownMessage(peer); // two in a row: at most one of them is its departure
    } else {
      this.#pending.set(peer, setTimeout(() => this.heard(peer), this.windowMs));
    }
  }

  /** A connection of the socket ended. */
  disconnected(): void {
    const oldest = this.#pending.keys().next();
    if (oldest.done) {
      this.#unclaimed.push(Date.now());
      return;
    }
    this.#settle(oldest.value);
    this.gone(oldest.value);
  }

  /** The peer spoke (or the window passed): a notification waiting for it was its own message. True if there was one. */
  heard(peer: PeerId): boolean {
    if (!this.#settle(peer)) return false;
    this.ownMessage(peer);
    return true;
  }

  close(): void {
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
    this.#unclaimed.length = 0;
  }

  #settle(peer: PeerId): boolean {
    const timer = this.#pending.get(peer);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#pending.delete(peer);
    return true;
  }

  #expireUnclaimed(): void {
    const oldest = Date.now() - this.windowMs;
    while (this.#unclaimed.length > 0 && this.#unclaimed[0]! < oldest) this.#unclaimed.shift();
  }
}
