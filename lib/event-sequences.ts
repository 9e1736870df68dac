import { ANNOUNCED_BEATS } from "./wire.ts";

/**
 * The server side of "no event lost silently": a random epoch per server start, a sequence per
 * stream, and the streams published lately, which heartbeats announce so that a subscriber
 * learns of a lost event even when nothing followed it on that stream.
 */


export class EventSequences {
  /** Random per start, never 0 (0 means "not numbered" on the wire). */
  epoch = 0;
  readonly #last = new Map<string, number>();
  /** Stream → the beat in which it was last published, for streams whose events all matter. */
  readonly #recent = new Map<string, number>();
  #beat = 0;

  /** A new epoch: every stream starts again from 1. */
  restart(): void {
    const random = new Uint32Array(1);
    do crypto.getRandomValues(random);
    while (random[0] === 0 || random[0] === this.epoch);
    this.epoch = random[0]!;
    this.#last.clear();
    this.#recent.clear();
    this.#beat = 0;
  }

  /** The number the next event of `stream` gets. */
  following(stream: string): number {
    return (this.#last.get(stream) ?? 0) + 1;
  }

  /** An event of `stream` went out as `seq`. Latest-value streams (market data) are not announced. */
  sent(stream: string, seq: number, announce: boolean): void {
    this.#last.set(stream, seq);
    if (announce) this.#recent.set(stream, this.#beat);
  }

  /** Called once per heartbeat: its number, and the streams published in the last few beats with their last seq. */
  beat(): { beat: number; recent: Map<string, number> | undefined } {
    let recent: Map<string, number> | undefined;
    for (const [stream, beat] of this.#recent) {
      if (this.#beat - beat >= ANNOUNCED_BEATS) this.#recent.delete(stream);
      else (recent ??= new Map()).set(stream, this.#last.get(stream)!);
    }
    return { beat: this.#beat++, recent };
  }

  /** The last seq of every stream that starts with one of `prefixes`, as `[stream, seq, …]`. */
  snapshot(prefixes: readonly string[]): Array<string | number> {
    const out: Array<string | number> = [];
    for (const [stream, seq] of this.#last) {
      if (prefixes.some((prefix) => stream.startsWith(prefix))) out.push(stream, seq);
    }
    return out;
  }
}
