import { FORGET_BEATS, MAX_STREAMS } from "./event-sequences.ts";
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
 *
 * Bounded, as the publisher is (EventSequences): seq 1 on a stream we know is the publisher
 * starting it again after it forgot the stream, not a gap. We forget a stream some beats after
 * the publisher would have (our beat count may trail its own by the beats we missed), so its
 * next event is seq 1 and counting from 0 is right. Beyond MAX_STREAMS the least recently seen
 * go first; after that, where a stream starts is no longer known, so an unknown stream starts
 * at its first event (as before a snapshot).
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
/** Beats without an event after which we forget a stream: after the publisher surely did. */
const FORGET_AFTER_BEATS = FORGET_BEATS + ANNOUNCED_BEATS + 2;

interface Followed {
  /** Last seq seen, or NOT_COVERED. */
  last: number;
  /** Our beat when it was last seen. */
  beat: number;
}

export class GapDetector {
  #epoch = 0;
  /** The last heartbeat's number in this epoch, -1 before the first. */
  #beat = -1;
  /** Stream → last seq seen, or NOT_COVERED; ordered by `beat`, oldest first. */
  readonly #last = new Map<string, Followed>();
  /** Streams were forgotten for room (MAX_STREAMS) in this epoch: where an unknown one starts is not known. */
  #overflowed = false;
  readonly #maxStreams: number;
  /** Prefixes whose starting points are known in this epoch. */
  readonly #synced = new Set<string>();
  readonly #prefixes: () => Iterable<string>;
  readonly #onGap: (gap: Gap) => void;
  readonly #onRestart: (epoch: number) => void;

  constructor(prefixes: () => Iterable<string>, onGap: (gap: Gap) => void, onRestart: (epoch: number) => void, maxStreams = MAX_STREAMS) {
    this.#maxStreams = maxStreams;
    this.#prefixes = prefixes;
    this.#onGap = onGap;
    this.#onRestart = onRestart;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** Streams followed (or known not to be covered) now. */
  get size(): number {
    return this.#last.size;
  }

  /** An event arrived on `topic`. Events from servers that do not number them (seq 0) are let be. */
  event(topic: string, seq: number, epoch: number, streamLength: number | undefined): void {
    if (seq === 0 || epoch === 0) return;
    this.epochSeen(epoch);
    const stream = streamLength === undefined || streamLength >= topic.length ? topic : topic.slice(0, streamLength);
    const followed = this.#start(stream, seq - 1);
    const last = followed.last;
    if (last === NOT_COVERED) return;
    // The publisher forgot the stream (long unused) and started it again.
    if (seq === 1) followed.last = 1;
    if (seq > last) followed.last = seq;
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
    this.#forgetIdle();
    if (previous >= 0 && beat > previous + ANNOUNCED_BEATS) {
      for (const prefix of this.#prefixes()) {
        if (!prefix.startsWith(RESERVED_TOPIC_PREFIX)) this.#onGap({ stream: prefix, missed: undefined });
      }
    }
    if (recent === undefined) return;
    for (const [stream, seq] of recent) {
      const followed = this.#start(stream, seq);
      const last = followed.last;
      if (last === NOT_COVERED || seq <= last) continue;
      followed.last = seq;
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
    this.#overflowed = false;
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
      const followed = this.#last.get(stream);
      if (followed === undefined) this.#add(stream, seq);
      else if (followed.last !== NOT_COVERED && followed.last < seq) followed.last = seq;
    }
    for (const prefix of prefixes) this.#synced.add(prefix);
    this.#forgetUncovered();
  }

  /** A prefix was added: streams it covers must be looked at again. */
  subscribed(): void {
    for (const [stream, { last }] of this.#last) if (last === NOT_COVERED) this.#last.delete(stream);
  }

  /** A prefix was removed: forget what only it covered. */
  unsubscribed(prefix: string): void {
    this.#synced.delete(prefix);
    this.#forgetUncovered();
  }

  /** What we follow of `stream`, starting it at `fallback` (or 0 when synced) if new; marked seen now. */
  #start(stream: string, fallback: number): Followed {
    const followed = this.#last.get(stream);
    if (followed !== undefined) {
      if (followed.beat !== this.#beat) {
        // Once per stream and beat: keeps the map ordered by last use at a Map delete + set.
        followed.beat = this.#beat;
        this.#last.delete(stream);
        this.#last.set(stream, followed);
      }
      return followed;
    }
    if (!this.#covers(stream, this.#prefixes())) return this.#add(stream, NOT_COVERED);
    return this.#add(stream, !this.#overflowed && this.#covers(stream, this.#synced) ? 0 : fallback);
  }

  #add(stream: string, last: number): Followed {
    if (this.#last.size >= this.#maxStreams) {
      const [oldest, { last: dropped }] = this.#last.entries().next().value!;
      this.#last.delete(oldest);
      if (dropped !== NOT_COVERED) this.#overflowed = true;
    }
    const followed = { last, beat: this.#beat };
    this.#last.set(stream, followed);
    return followed;
  }

  /** Forget streams not seen for FORGET_AFTER_BEATS beats (the publisher has forgotten them). */
  #forgetIdle(): void {
    for (const [stream, { beat }] of this.#last) {
      if (this.#beat - beat < FORGET_AFTER_BEATS) break;
      this.#last.delete(stream);
    }
  }

  #covers(stream: string, prefixes: Iterable<string>): boolean {
    for (const prefix of prefixes) if (stream.startsWith(prefix)) return true;
    return false;
  }

  #forgetUncovered(): void {
    const prefixes = [...this.#prefixes()];
    for (const [stream, { last }] of this.#last) {
      if (last !== NOT_COVERED && !this.#covers(stream, prefixes)) this.#last.delete(stream);
    }
  }
}
