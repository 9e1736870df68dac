/**
 * Clocks are injected into the simulator; the engine never reads `Date.now()` itself.
 *
 * - `VirtualClock`: time moves only when told to, as fast as the CPU allows (tests, backtests).
 * - `RealTimeClock`: wall time and `setTimeout` (live demo, `tradewire serve`, the playground).
 */

export type TimerId = number;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Run `fn` once at time `at` (or as soon as possible if `at` is past). */
  setTimer(at: number, fn: () => void): TimerId;
  clearTimer(id: TimerId): void;
}

interface Timer {
  at: number;
  seq: number;
  id: TimerId;
  fn: () => void;
}

/** A binary min-heap on (at, seq): equal times run in the order they were set. */
class TimerHeap {
  readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function noop(): void {}

function before(x: Timer, y: Timer): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export interface RunUntilOptions {
  /** Let promise callbacks run after every this many timers. Default 1. */
  yieldEvery?: number;
  /**
   * Asked after each timer that would yield: false skips the yield. A driver that knows no code
   * can be awaiting (nothing returned a promise since the last yield) saves the microtask turns,
   * which cost more than a market event does.
   */
  shouldYield?: () => boolean;
}

export interface VirtualClockOptions {
  /** Start time, epoch milliseconds. Default 2025-01-02T01:30:00Z (09:30 in Shanghai). */
  start?: number;
}

export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap = new TimerHeap();
  readonly #cancelled = new Set<TimerId>();
  readonly #free: Timer[] = [];

  constructor(options: VirtualClockOptions = {}) {
    this.#now = options.start ?? Date.UTC(2025, 0, 2, 1, 30);
  }

  now(): number {
    return this.#now;
  }

  setTimer(at: number, fn: () => void): TimerId {
    if (!Number.isFinite(at)) throw new RangeError("Timer time must be finite");
    const id = ++this.#seq;
    const t = this.#free.pop();
    if (t) {
      t.at = Math.max(at, this.#now);
      t.seq = t.id = id;
      t.fn = fn;
      this.#heap.push(t);
    } else this.#heap.push({ at: Math.max(at, this.#now), seq: id, id, fn });
    return id;
  }

  clearTimer(id: TimerId): void {
    this.#cancelled.add(id);
  }

  /** Time of the next timer, or undefined when nothing is scheduled. */
  nextTime(): number | undefined {
    this.#dropCancelled();
    return this.#heap.peek()?.at;
  }

  /** Run the next timer, moving time to it. Returns false when none is left. */
  step(): boolean {
    this.#dropCancelled();
    const t = this.#heap.pop();
    if (!t) return false;
    this.#now = t.at;
    const fn = t.fn;
    this.#recycle(t);
    fn();
    return true;
  }

  /** Timers that ran are kept for reuse: a backtest sets one per market event. */
  #recycle(t: Timer): void {
    t.fn = noop;
    if (this.#free.length < 1024) this.#free.push(t);
  }

  /** Run every timer due up to `time` synchronously, then set the time to `time`. */
  advanceTo(time: number): void {
    for (;;) {
      const next = this.nextTime();
      if (next === undefined || next > time) break;
      this.step();
    }
    if (time > this.#now) this.#now = time;
  }

  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /**
   * Like `advanceTo`, but lets pending promise callbacks run between timers, so code that
   * awaits (an `await gateway.sendOrder(…)` in a strategy) continues before later events.
   */
  async runUntil(time: number, options: RunUntilOptions = {}): Promise<void> {
    const every = options.yieldEvery ?? 1;
    const shouldYield = options.shouldYield;
    let n = 0;
    for (;;) {
      const next = this.nextTime();
      if (next === undefined || next > time) break;
      this.step();
      if (++n % every === 0 && (!shouldYield || shouldYield())) await settle();
    }
    if (time > this.#now) this.#now = time;
    await settle();
  }

  #dropCancelled(): void {
    if (this.#cancelled.size === 0) return;
    for (let t = this.#heap.peek(); t && this.#cancelled.has(t.id); t = this.#heap.peek()) {
      this.#recycle(this.#heap.pop()!);
      this.#cancelled.delete(t.id);
    }
  }
}

/** A few microtask turns: enough for `await x; await y;` chains in handlers to finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await undefined;
}

export interface RealTimeClockOptions {
  /** Source of wall time; default `Date.now`. */
  now?: () => number;
}

export class RealTimeClock implements Clock {
  readonly #now: () => number;
  readonly #timers = new Map<TimerId, ReturnType<typeof setTimeout>>();
  #seq = 0;

  constructor(options: RealTimeClockOptions = {}) {
    this.#now = options.now ?? (() => Date.now());
  }

  now(): number {
    return this.#now();
  }

  setTimer(at: number, fn: () => void): TimerId {
    const id = ++this.#seq;
    const handle = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, Math.max(0, at - this.#now()));
    this.#timers.set(id, handle);
    return id;
  }

  clearTimer(id: TimerId): void {
    const handle = this.#timers.get(id);
    if (handle !== undefined) clearTimeout(handle);
    this.#timers.delete(id);
  }

  /** Clears every pending timer (so a process or worker can exit). */
  close(): void {
    for (const handle of this.#timers.values()) clearTimeout(handle);
    this.#timers.clear();
  }
}
