import { ANNOUNCED_BEATS, RESERVED_TOPIC_PREFIX } from "./wire.ts";

/**
 * The client side of "no event lost silently": follows the sequence of every stream the client's
 * subscriptions cover and reports what did not arrive. A stream is covered when one of the
 * client's prefixes is a prefix of it: then every event of the stream is meant for this client,
 * so a jump in its numbers is a loss, not a filter. A new epoch is a server restart.
 *
 * Where counting starts: a prefix whose snapshot (`$tw.streams`) came back knows the last seq of
 * every stream under it, and a stream it did not list starts at 0. Before that, the first event
 * seen sets the starting point. After a restart every stream starts at 0.
 */

export interface Gap {
  /**
   * The stream (a topic, or a prefix of topics the publisher chose) that lost events; or one of
   * our subscribed prefixes when heartbeats were lost too, so any stream under it may have.
   */
  stream: string;
  /** How many of its events did not arrive; undefined when that cannot be known. */
  missed: number | undefined;
}

/** Marks a stream no prefix of ours covers, so the prefixes are not searched again per event. */
const NOT_COVERED = -1;

export class GapDetector {
  #epoch = 0;
  /** The last heartbeat's number in this epoch, -1 before the first. */
  #beat = -1;
  /** Stream → last seq seen, or NOT_COVERED. */
  readonly #last = new Map<string, number>();
  /** Prefixes whose starting points are known in this epoch. */
  readonly #synced = new Set<string>();
  readonly #prefixes: () => Iterable<string>;
  readonly #onGap: (gap: Gap) => void;
  readonly #onRestart: (epoch: number) => void;

  constructor(prefixes: () => Iterable<string>, onGap: (gap: Gap) => void, onRestart: (epoch: number) => void) {
    this.#prefixes = prefixes;
    this.#onGap = onGap;
    this.#onRestart = onRestart;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** An event arrived on `topic`. Events from servers that do not number them (seq 0) are let be. */
  event(topic: string, seq: number, epoch: number, streamLength: number | undefined): void {
    if (seq === 0 || epoch === 0) return;
    this.epochSeen(epoch);
    const stream = streamLength === undefined || streamLength >= topic.length ? topic : topic.slice(0, streamLength);
    const last = this.#start(stream, seq - 1);
    if (last === NOT_COVERED) return;
    if (seq > last) this.#last.set(stream, seq);
    if (seq > last + 1) this.#onGap({ stream, missed: seq - last - 1 });
  }

  /**
   * A heartbeat named the last seq of the streams published lately: any we did not see were lost.
   * Missing more heartbeats than announce a stream, we may have missed an announcement too: every
   * prefix of ours is reported, with an unknown count.
   */
  heartbeat(epoch: number, beat: number, recent: ReadonlyMap<string, number> | undefined): void {
    if (epoch === 0) return;
    this.epochSeen(epoch);
    const previous = this.#beat;
    this.#beat = Math.max(previous, beat);
    if (previous >= 0 && beat > previous + ANNOUNCED_BEATS) {
      for (const prefix of this.#prefixes()) {
        if (!prefix.startsWith(RESERVED_TOPIC_PREFIX)) this.#onGap({ stream: prefix, missed: undefined });
      }
    }
    if (recent === undefined) return;
    for (const [stream, seq] of recent) {
      const last = this.#start(stream, seq);
      if (last === NOT_COVERED || seq <= last) continue;
      this.#last.set(stream, seq);
      this.#onGap({ stream, missed: seq - last });
    }
  }

  /** The server's epoch, from any source; a change from a known one is a restart. */
  epochSeen(epoch: number): void {
    if (epoch === this.#epoch || epoch === 0) return;
    const restarted = this.#epoch !== 0;
    this.#epoch = epoch;
    this.#beat = -1;
    this.#last.clear();
    this.#synced.clear();
    if (!restarted) return;
    // Everything the new server published starts from 1: every prefix knows where it starts.
    for (const prefix of this.#prefixes()) this.#synced.add(prefix);
    this.#onRestart(epoch);
  }

  /** A snapshot came back: the last seq of each stream under `prefixes`, as `[stream, seq, …]`. */
  baseline(epoch: number, streams: readonly unknown[], prefixes: readonly string[]): void {
    this.epochSeen(epoch);
    if (epoch !== this.#epoch) return;
    for (let i = 0; i + 1 < streams.length; i += 2) {
      const stream = streams[i];
      const seq = streams[i + 1];
      if (typeof stream !== "string" || typeof seq !== "number") continue;
      const last = this.#last.get(stream);
      if (last === undefined || (last !== NOT_COVERED && last < seq)) this.#last.set(stream, seq);
    }
    for (const prefix of prefixes) this.#synced.add(prefix);
    this.#forgetUncovered();
  }

  /** A prefix was added: streams it covers must be looked at again. */
  subscribed(): void {
    for (const [stream, last] of this.#last) if (last === NOT_COVERED) this.#last.delete(stream);
  }

  /** A prefix was removed: forget what only it covered. */
  unsubscribed(prefix: string): void {
    this.#synced.delete(prefix);
    this.#forgetUncovered();
  }

  /** The last seq seen of `stream`, starting it at `fallback` (or 0 when synced) if new. */
  #start(stream: string, fallback: number): number {
    const last = this.#last.get(stream);
    if (last !== undefined) return last;
    if (!this.#covers(stream, this.#prefixes())) {
      this.#last.set(stream, NOT_COVERED);
      return NOT_COVERED;
    }
    const start = this.#covers(stream, this.#synced) ? 0 : fallback;
    this.#last.set(stream, start);
    return start;
  }

  #covers(stream: string, prefixes: Iterable<string>): boolean {
    for (const prefix of prefixes) if (stream.startsWith(prefix)) return true;
    return false;
  }

  #forgetUncovered(): void {
    const prefixes = [...this.#prefixes()];
    for (const [stream, last] of this.#last) {
      if (last !== NOT_COVERED && !this.#covers(stream, prefixes)) this.#last.delete(stream);
    }
  }
}
