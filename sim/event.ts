/**
 * VeighNa's event names (`vnpy/trader/event.py`) and a small synchronous event engine.
 *
 * An event's type is the base name suffixed by its identifier (`eTick.IF2512.CFFEX`,
 * `eOrder.SIM.7`); `eLog` has no suffix. A handler registered for the base name (`eTick.`)
 * receives every event of that kind; one registered for the full type receives just that one.
 */

export const EVENT_TICK = "eTick.";
export const EVENT_TRADE = "eTrade.";
export const EVENT_ORDER = "eOrder.";
export const EVENT_POSITION = "ePosition.";
export const EVENT_ACCOUNT = "eAccount.";
export const EVENT_CONTRACT = "eContract.";
export const EVENT_LOG = "eLog";

export interface Event<T = unknown> {
  type: string;
  data: T;
}

export type EventHandler<T = unknown> = (event: Event<T>) => void;

/** The base name of an event type: up to and including the first dot (`eTick.`), or the whole type. */
export function baseType(type: string): string {
  const dot = type.indexOf(".");
  return dot < 0 ? type : type.slice(0, dot + 1);
}

export interface EventEngineOptions {
  /**
   * Called with a handler's exception. By default the first exception of a dispatch round is
   * rethrown from `put()` after the queue has drained, so tests see strategy errors.
   */
  onError?: (error: unknown, event: Event) => void;
}

/**
 * Dispatches synchronously but never re-entrantly: an event put from inside a handler is queued
 * and dispatched after the current one, so every handler sees events in the order they were put.
 */
export class EventEngine {
  readonly #handlers = new Map<string, EventHandler[]>();
  #general: EventHandler[] = [];
  /** Events waiting while one is dispatched; slots are reused (never truncated) so a put allocates no storage. */
  readonly #queue: Array<Event | undefined> = [];
  #queued = 0;
  #draining = false;
  /** Base name per full type: types repeat (one per symbol or order), so each is split once. */
  readonly #bases = new Map<string, string>();
  readonly #onError: ((error: unknown, event: Event) => void) | undefined;

  constructor(options: EventEngineOptions = {}) {
    this.#onError = options.onError;
  }

  /** Receive events of `type` (a base name like `eTick.` or a full type like `eTick.IF2512.CFFEX`). */
  register<T = unknown>(type: string, handler: EventHandler<T>): () => void {
    const list = this.#handlers.get(type) ?? [];
    // Copy on write: a dispatch in progress keeps the list it started with.
    if (!list.includes(handler as EventHandler)) this.#handlers.set(type, [...list, handler as EventHandler]);
    this.#lastType = undefined;
    return () => this.unregister(type, handler);
  }

  unregister<T = unknown>(type: string, handler: EventHandler<T>): void {
    const list = this.#handlers.get(type);
    if (!list) return;
    const next = list.filter((h) => h !== handler);
    if (next.length) this.#handlers.set(type, next);
    else this.#handlers.delete(type);
    this.#lastType = undefined;
  }

  /** Receive every event. */
  registerGeneral(handler: EventHandler): () => void {
    if (!this.#general.includes(handler)) this.#general = [...this.#general, handler];
    return () => this.unregisterGeneral(handler);
  }

  unregisterGeneral(handler: EventHandler): void {
    this.#general = this.#general.filter((h) => h !== handler);
  }

  put(type: string, data: unknown): void {
    const event: Event = { type, data };
    if (this.#draining) {
      this.#queue[this.#queued++] = event;
      return;
    }
    this.#draining = true;
    let firstError: { error: unknown } | undefined;
    try {
      firstError = this.#dispatch(event);
      // Events put by the handlers, in order (the queue may grow while it drains).
      for (let i = 0; i < this.#queued; i++) {
        const queued = this.#queue[i]!;
        this.#queue[i] = undefined;
        const err = this.#dispatch(queued);
        if (err && !firstError) firstError = err;
      }
    } finally {
      for (let i = 0; i < this.#queued; i++) this.#queue[i] = undefined;
      this.#queued = 0;
      this.#draining = false;
    }
    if (firstError) throw firstError.error;
  }

  #baseOf(type: string): string {
    let base = this.#bases.get(type);
    if (base === undefined) {
      base = baseType(type);
      // Bounded: order ids make new types without end; past the bound they are split each time.
      if (this.#bases.size < 10_000) this.#bases.set(type, base);
    }
    return base;
  }

  /** The handler lists of the type dispatched last (a tick stream repeats one type): reset on any change. */
  #lastType: string | undefined;
  #lastOwn: EventHandler[] | undefined;
  #lastBase: EventHandler[] | undefined;

  #dispatch(event: Event): { error: unknown } | undefined {
    let failure: { error: unknown } | undefined;
    const type = event.type;
    if (type !== this.#lastType) {
      const base = this.#baseOf(type);
      this.#lastOwn = this.#handlers.get(type);
      this.#lastBase = base !== type ? this.#handlers.get(base) : undefined;
      this.#lastType = type;
    }
    const own = this.#lastOwn;
    const byBase = this.#lastBase;
    for (let round = 0; round < 3; round++) {
      const list = round === 0 ? own : round === 1 ? byBase : this.#general;
      if (!list) continue;
      for (let i = 0; i < list.length; i++) {
        try {
          list[i]!(event);
        } catch (error) {
          if (this.#onError) this.#onError(error, event);
          else failure ??= { error };
        }
      }
    }
    return failure;
  }
}
