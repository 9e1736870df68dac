/**
 * Keeps one peer from flooding the log: per peer, the first few lines of each time window are
 * written and the rest only counted; when the peer next speaks after its window, one line says
 * how many were held back. A peer sending garbage in a loop costs a few lines a window, not one
 * per frame.
 */
import type { Logger } from "./logger.ts";
import type { PeerId } from "./transport.ts";

interface Span {
  start: number;
  written: number;
  held: number;
}

/** Windows kept at most; past it, ended windows are forgotten (their counts stay in `suppressed`). */
const MAX_TRACKED_PEERS = 10_000;

export class PeerLogLimiter {
  readonly #logger: Logger;
  readonly #linesPerWindow: number;
  readonly #windowMs: number;
  readonly #windows = new Map<PeerId, Span>();
  /** Lines held back so far, all peers together. */
  suppressed = 0;

  constructor(logger: Logger, linesPerWindow: number, windowMs: number) {
    this.#logger = logger;
    this.#linesPerWindow = linesPerWindow;
    this.#windowMs = windowMs;
  }

  warn(peer: PeerId, message: string): void {
    const now = performance.now();
    let span = this.#windows.get(peer);
    if (span !== undefined && now - span.start >= this.#windowMs) {
      if (span.held > 0) this.#logger.warn(`${span.held} more lines about ${peer} were held back in ${this.#windowMs} ms`);
      span = undefined;
    }
    if (span === undefined) {
      if (this.#windows.size >= MAX_TRACKED_PEERS) this.#forgetEnded(now);
      span = { start: now, written: 0, held: 0 };
      this.#windows.set(peer, span);
    }
    if (span.written < this.#linesPerWindow) {
      span.written++;
      this.#logger.warn(message);
    } else {
      span.held++;
      this.suppressed++;
    }
  }

  /** The peer left: its span goes, saying what it held back. */
  forget(peer: PeerId): void {
    const span = this.#windows.get(peer);
    if (span === undefined) return;
    this.#windows.delete(peer);
    if (span.held > 0) this.#logger.warn(`${span.held} more lines about ${peer} were held back before it left`);
  }

  #forgetEnded(now: number): void {
    for (const [peer, span] of this.#windows) {
      if (now - span.start >= this.#windowMs) this.#windows.delete(peer);
    }
    // Every span still running: drop the oldest rather than grow without bound.
    if (this.#windows.size >= MAX_TRACKED_PEERS) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
  }
}
