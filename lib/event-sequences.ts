import { ANNOUNCED_BEATS } from "./wire.ts";

/**
 * The server side of "no event lost silently": a random epoch per server start, a sequence per
 * stream, and the streams published lately, which heartbeats announce so that a subscriber
 * learns of a lost event even when nothing followed it on that stream.
 *
 * Bounded: a server that publishes on ever-new streams (one per order, say) must not grow
 * without end. A stream not published for FORGET_BEATS heartbeats is forgotten, and beyond
 * MAX_STREAMS the least recently published ones go first. A forgotten stream starts again at
 * seq 1, which a subscriber takes as the stream starting again, not as a gap (GapDetector):
 * by then heartbeats have long announced its last seq, so a lost tail was reported already.
 */

/** Heartbeats without an event after which a stream is forgotten (a minute at the default beat). */
export const FORGET_BEATS = 60;
/** Most streams remembered; the least recently published are forgotten first. */
export const MAX_STREAMS = 100_000;

interface Stream {
  seq: number;
  /** The beat in which it was last published. */
  beat: number;
}

export class EventSequences {
  /** Random per start, never 0 (0 means "not numbered" on the wire). */
  epoch = 0;
  /** Ordered by `beat`, oldest first: an entry moves to the end the first time it is published in a beat. */
  readonly #streams = new Map<string, Stream>();
  /** Stream → the beat in which it was last published, for streams whose events all matter. */
  readonly #recent = new Map<string, number>();
  #beat = 0;
  readonly #maxStreams: number;

  constructor(maxStreams = MAX_STREAMS) {
    this.#maxStreams = maxStreams;
  }

  /** Streams remembered now. */
  get size(): number {
    return this.#streams.size;
  }

  /** A new epoch: every stream starts again from 1. */
  restart(): void {
    const random = new Uint32Array(1);
    do crypto.getRandomValues(random);
    while (random[0] === 0 || random[0] === this.epoch);
    this.epoch = random[0]!;
    this.#streams.clear();
    this.#recent.clear();
    this.#beat = 0;
  }

  /** The number the next event of `stream` gets. */
  following(stream: string): number {
    return (this.#streams.get(stream)?.seq ?? 0) + 1;
  }

  /** An event of `stream` went out as `seq`. Latest-value streams (market data) are not announced. */
  sent(stream: string, seq: number, announce: boolean): void {
    const known = this.#streams.get(stream);
    if (known === undefined) {
      if (this.#streams.size >= this.#maxStreams) this.#forgetOldest();
      this.#streams.set(stream, { seq, beat: this.#beat });
    } else {
      known.seq = seq;
      if (known.beat !== this.#beat) {
        // Once per stream and beat: keeps the map ordered by last use at a Map delete + set.
        known.beat = this.#beat;
        this.#streams.delete(stream);
        this.#streams.set(stream, known);
      }
    }
    if (announce) this.#recent.set(stream, this.#beat);
  }

  /** Called once per heartbeat: its number, and the streams published in the last few beats with their last seq. */
  beat(): { beat: number; recent: Map<string, number> | undefined } {
    let recent: Map<string, number> | undefined;
    for (const [stream, beat] of this.#recent) {
      if (this.#beat - beat >= ANNOUNCED_BEATS) this.#recent.delete(stream);
      else (recent ??= new Map()).set(stream, this.#streams.get(stream)!.seq);
    }
    for (const [stream, { beat }] of this.#streams) {
      if (this.#beat - beat < FORGET_BEATS) break;
      this.#streams.delete(stream);
    }
    return { beat: this.#beat++, recent };
  }

  /** The last seq of every stream that starts with one of `prefixes`, as `[stream, seq, …]`. */
  snapshot(prefixes: readonly string[]): Array<string | number> {
    const out: Array<string | number> = [];
    for (const [stream, { seq }] of this.#streams) {
      if (prefixes.some((prefix) => stream.startsWith(prefix))) out.push(stream, seq);
    }
    return out;
  }

  #forgetOldest(): void {
    const oldest = this.#streams.keys().next().value;
    if (oldest === undefined) return;
    this.#streams.delete(oldest);
    // Heartbeats announce only streams still known.
    this.#recent.delete(oldest);
  }
}
