import type { RpcError } from "./errors.ts";
import type { PeerId } from "./transport.ts";
import { MAX_TIMER_MS } from "./wire.ts";
import { IdTable } from "./id-table.ts";

/**
 * One call being served. Its AbortSignal and deadline timer are made only when the handler
 * first reads `signal`: most handlers never do, and an AbortController plus a timer per call
 * was the largest cost of a round trip. A handler that does read it sees exactly what it would
 * have seen had they existed from the start (already aborted if the deadline has passed).
 */
export class ActiveCall {
  readonly peer: PeerId;
  readonly id: number;
  /** Size of the request frame: what this call counts against the bytes-in-flight budgets. */
  readonly bytes: number;
  readonly #deadline: number | undefined;
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abortReason: RpcError | undefined;
  #released = false;
  /** The server's, shared by its calls (no closure per call); called with the call. */
  readonly #onDeadline: (call: ActiveCall) => void;
  /** The caller's timeout, 0 for none. */
  readonly timeoutMs: number;
  /** For a stream: items the caller will still take before it grants more. */
  credit = 0;
  #creditWaiter: (() => void) | undefined;

  constructor(peer: PeerId, id: number, bytes: number, timeoutMs: number, onDeadline: (call: ActiveCall) => void) {
    this.peer = peer;
    this.id = id;
    this.bytes = bytes;
    this.timeoutMs = timeoutMs;
    this.#deadline = timeoutMs > 0 ? performance.now() + timeoutMs : undefined;
    this.#onDeadline = onDeadline;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = (this.#controller = new AbortController());
    if (this.#abortReason) controller.abort(this.#abortReason);
    else if (this.#deadline !== undefined && !this.#released) {
      const left = this.#deadline - performance.now();
      if (left <= 0) this.#onDeadline(this);
      else this.#timer = setTimeout(this.#onDeadline, Math.min(left, MAX_TIMER_MS), this);
    }
    return controller.signal;
  }

  /** The call is over (answered, cancelled, timed out, or its caller gone). */
  get released(): boolean {
    return this.#released;
  }

  /** Past its deadline? Checked when the handler returns, for handlers that never armed a timer. */
  get expired(): boolean {
    return this.#deadline !== undefined && performance.now() >= this.#deadline;
  }

  abort(reason: RpcError): void {
    clearTimeout(this.#timer);
    this.#wake();
    if (this.#abortReason) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  get aborted(): boolean {
    return this.#abortReason !== undefined;
  }

  /** The caller takes `n` more stream items. */
  grant(n: number): void {
    this.credit = Math.min(this.credit + n, Number.MAX_SAFE_INTEGER);
    this.#wake();
  }

  /** Resolves when more credit arrives or the call ends. */
  waitForCredit(): Promise<void> {
    return new Promise((resolve) => (this.#creditWaiter = resolve));
  }

  #wake(): void {
    const waiter = this.#creditWaiter;
    this.#creditWaiter = undefined;
    waiter?.();
  }

  /** The call is over: no deadline timer may be armed from now on. */
  release(): void {
    this.#released = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#wake();
  }
}

/** One peer's calls in flight and the request bytes they hold. */
class PeerCalls {
  readonly calls = new IdTable<ActiveCall>();
  bytes = 0;
}

/** Empty peer entries kept for reuse before they are swept (a caller that is gone leaves one behind). */
const MAX_IDLE_PEERS = 64;

/**
 * The calls in flight, by peer then id, so a peer's calls can be found without scanning all;
 * with counts and bytes per peer and in total, for the budgets. A peer's entry stays while it
 * is empty (a caller making one call at a time would otherwise add and remove it per call),
 * until more than MAX_IDLE_PEERS are idle: then the empty ones are swept.
 */
export class ActiveCalls {
  readonly #byPeer = new Map<PeerId, PeerCalls>();
  #count = 0;
  #bytes = 0;
  /** Entries with calls; the rest of #byPeer are idle. */
  #busyPeers = 0;

  get(peer: PeerId, id: number): ActiveCall | undefined {
    return this.#byPeer.get(peer)?.calls.get(id);
  }

  /** Calls in flight for one peer, or for all. */
  count(peer?: PeerId): number {
    return peer === undefined ? this.#count : (this.#byPeer.get(peer)?.calls.size ?? 0);
  }

  /** Request bytes held by one peer's calls, or by all. */
  bytes(peer?: PeerId): number {
    return peer === undefined ? this.#bytes : (this.#byPeer.get(peer)?.bytes ?? 0);
  }

  /** Peers with calls in flight. */
  get peers(): number {
    return this.#busyPeers;
  }

  add(call: ActiveCall): void {
    let entry = this.#byPeer.get(call.peer);
    if (!entry) {
      if (this.#byPeer.size - this.#busyPeers >= MAX_IDLE_PEERS) this.#sweep();
      entry = new PeerCalls();
      this.#byPeer.set(call.peer, entry);
    }
    if (entry.calls.size === 0) this.#busyPeers++;
    entry.calls.add(call);
    entry.bytes += call.bytes;
    this.#count++;
    this.#bytes += call.bytes;
  }

  /** Removes the call if it is still this one; returns whether it was. */
  remove(call: ActiveCall): boolean {
    const entry = this.#byPeer.get(call.peer);
    if (entry?.calls.get(call.id) !== call) return false;
    entry.calls.delete(call.id);
    entry.bytes -= call.bytes;
    this.#count--;
    this.#bytes -= call.bytes;
    if (entry.calls.size === 0) this.#busyPeers--;
    call.release();
    return true;
  }

  /** Removes and returns every call of one peer (forgetting the peer), or of all peers. */
  takeAll(peer?: PeerId): ActiveCall[] {
    const entries = peer === undefined ? [...this.#byPeer.values()] : [this.#byPeer.get(peer)].filter((e) => e !== undefined);
    if (peer === undefined) this.#byPeer.clear();
    else this.#byPeer.delete(peer);
    const calls = entries.flatMap((entry) => entry.calls.values());
    for (const entry of entries) if (entry.calls.size > 0) this.#busyPeers--;
    for (const call of calls) {
      this.#count--;
      this.#bytes -= call.bytes;
      call.release();
    }
    return calls;
  }

  #sweep(): void {
    for (const [peer, entry] of this.#byPeer) if (entry.calls.size === 0) this.#byPeer.delete(peer);
  }
}
