import type { RpcError } from "./errors.ts";
import type { PeerId } from "./transport.ts";
import { MAX_TIMER_MS } from "./wire.ts";

/**
 * One call being served. Its AbortSignal and deadline timer are made only when the handler
 * first reads `signal`: most handlers never do, and an AbortController plus a timer per call
 * was the largest cost of a round trip. A handler that does read it sees exactly what it would
 * have seen had they existed from the start (already aborted if the deadline has passed).
 */
export class ActiveCall {
  readonly peer: PeerId;
  readonly id: number;
  readonly #deadline: number | undefined;
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abortReason: RpcError | undefined;
  #released = false;
  #onDeadline: () => void;

  constructor(peer: PeerId, id: number, timeoutMs: number, onDeadline: () => void) {
    this.peer = peer;
    this.id = id;
    this.#deadline = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
    this.#onDeadline = onDeadline;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = (this.#controller = new AbortController());
    if (this.#abortReason) controller.abort(this.#abortReason);
    else if (this.#deadline !== undefined && !this.#released) {
      const left = this.#deadline - performance.now();
      if (left <= 0) this.#onDeadline();
      else this.#timer = setTimeout(this.#onDeadline, Math.min(left, MAX_TIMER_MS));
    }
    return controller.signal;
  }

  /** Past its deadline? Checked when the handler returns, for handlers that never armed a timer. */
  get expired(): boolean {
    return this.#deadline !== undefined && performance.now() >= this.#deadline;
  }

  abort(reason: RpcError): void {
    clearTimeout(this.#timer);
    if (this.#abortReason) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** The call is over: no deadline timer may be armed from now on. */
  release(): void {
    this.#released = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }
}

/** The calls in flight, by peer then id, so a peer's calls can be found without scanning all. */
export class ActiveCalls {
  readonly #byPeer = new Map<PeerId, Map<number, ActiveCall>>();
  /** A peer's emptied map, kept for the next peer: a caller making one call at a time would otherwise cost a Map per call. */
  #spare: Map<number, ActiveCall> | undefined;

  get(peer: PeerId, id: number): ActiveCall | undefined {
    return this.#byPeer.get(peer)?.get(id);
  }

  count(peer: PeerId): number {
    return this.#byPeer.get(peer)?.size ?? 0;
  }

  add(call: ActiveCall): void {
    let calls = this.#byPeer.get(call.peer);
    if (!calls) {
      calls = this.#spare ?? new Map();
      this.#spare = undefined;
      this.#byPeer.set(call.peer, calls);
    }
    calls.set(call.id, call);
  }

  /** Removes the call if it is still this one; returns whether it was. */
  remove(call: ActiveCall): boolean {
    const calls = this.#byPeer.get(call.peer);
    if (calls?.get(call.id) !== call) return false;
    calls.delete(call.id);
    if (calls.size === 0) {
      this.#byPeer.delete(call.peer);
      this.#spare = calls;
    }
    call.release();
    return true;
  }

  /** Removes and returns every call of one peer, or of all peers. */
  takeAll(peer?: PeerId): ActiveCall[] {
    const groups = peer === undefined ? [...this.#byPeer.values()] : [this.#byPeer.get(peer) ?? new Map<number, ActiveCall>()];
    if (peer === undefined) this.#byPeer.clear();
    else this.#byPeer.delete(peer);
    const calls = groups.flatMap((group) => [...group.values()]);
    for (const call of calls) call.release();
    return calls;
  }
}
