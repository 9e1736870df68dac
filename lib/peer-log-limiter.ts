/**
 * Keeps one peer from flooding the log: per peer, the first few lines of each window are
 * written and the rest only counted; when the peer next speaks after its window, one line says
 * how many were held back. A peer sending garbage in a loop costs a few lines a window, not one
 * per frame.
 */
import type { Logger } from "./logger.ts";
import type { PeerId } from "./transport.ts";

interface Window {
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
  readonly #windows = new Map<PeerId, Window>();
  /** Lines held back so far, all peers together. */
  suppressed = 0;

  constructor(logger: Logger, linesPerWindow: number, windowMs: number) {
    this.#logger = logger;
    this.#linesPerWindow = linesPerWindow;
    this.#windowMs = windowMs;
  }

  warn(peer: PeerId, message: string): void {
    const now = performance.now();
    let window = this.#windows.get(peer);
    if (window !== undefined && now - window.start >= this.#windowMs) {
      if (window.held > 0) this.#logger.warn(`${window.held} more lines about ${peer} were held back in ${this.#windowMs} ms`);
      window = undefined;
    }
    if (window === undefined) {
      if (this.#windows.size >= MAX_TRACKED_PEERS) this.#forgetEnded(now);
      window = { start: now, written: 0, held: 0 };
      this.#windows.set(peer, window);
    }
    if (window.written < this.#linesPerWindow) {
      window.written++;
      this.#logger.warn(message);
    } else {
      window.held++;
      this.suppressed++;
    }
  }

  /** The peer left: its window goes, saying what it held back. */
  forget(peer: PeerId): void {
    const window = this.#windows.get(peer);
    if (window === undefined) return;
    this.#windows.delete(peer);
    if (window.held > 0) this.#logger.warn(`${window.held} more lines about ${peer} were held back before it left`);
  }

  #forgetEnded(now: number): void {
    for (const [peer, window] of this.#windows) {
      if (now - window.start >= this.#windowMs) this.#windows.delete(peer);
    }
    // Every window still running: drop the oldest rather than grow without bound.
    if (this.#windows.size >= MAX_TRACKED_PEERS) {
      const oldest = this.#windows.keys().next();
      if (!oldest.done) this.#windows.delete(oldest.value);
    }
  }
}
