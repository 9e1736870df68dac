/**
 * Events collected while an exchange operation runs, delivered when it is over (never
 * re-entrantly into the matching engine). An event is three slots — kind, target, data — in
 * arrays that are reused, so queueing one allocates nothing. When the queue runs dry, `drained`
 * may queue more (the exchange's one position and account report per operation); the flush
 * goes on until it queues nothing.
 */
export const ORDER = 0;
export const TRADE = 1;
export const POSITION = 2;
export const ACCOUNT = 3;
export const TICK = 4;

export type Deliver = (kind: number, target: unknown, data: unknown) => void;
/** Called when every queued event is delivered; it may queue more. */
export type Drained = () => void;

export class Outbox {
  readonly #kinds: number[] = [];
  readonly #targets: unknown[] = [];
  readonly #data: unknown[] = [];
  #count = 0;
  #flushing = false;

  constructor(readonly deliver: Deliver, readonly drained: Drained = () => {}) {}

  push(kind: number, target: unknown, data: unknown): void {
    const i = this.#count++;
    this.#kinds[i] = kind;
    this.#targets[i] = target;
    this.#data[i] = data;
  }

  /**
   * Deliver the collected events, and those queued meanwhile; a listener's exception is rethrown
   * after all are delivered. A flush asked for during a flush (a listener trading) is that one's.
   */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    let failure: { error: unknown } | undefined;
    try {
      for (let i = 0; ; i++) {
        if (i === this.#count) {
          this.drained();
          if (i === this.#count) break;
        }
        try {
          this.deliver(this.#kinds[i]!, this.#targets[i], this.#data[i]);
        } catch (error) {
          failure ??= { error };
        }
      }
    } finally {
      // Slots are cleared, not the arrays truncated: truncating drops the backing stores.
      for (let i = 0; i < this.#count; i++) this.#targets[i] = this.#data[i] = undefined;
      this.#count = 0;
      this.#flushing = false;
    }
    if (failure) throw failure.error;
  }
}
