/**
 * zeromq.js allows one `send` in progress per socket, while the transport's `reply`, `publish`
 * and `send` are synchronous. This bounded FIFO sits between them: one loop drains it in order,
 * and a full queue refuses more (the caller decides whether that is a drop or an error).
 */
import type { EngineSocket, SendOptions } from "./engine.ts";

const LATEST_VALUE: SendOptions = { latestValue: true };

export class SendQueue {
  private items: (Uint8Array[] | undefined)[] = [];
  /** Beside `items`: which messages are latest values (a PUB's market data). */
  private latest: boolean[] = [];
  private head = 0;
  private draining = false;
  private closed = false;

  constructor(
    private readonly socket: EngineSocket,
    /** Most messages waiting in JavaScript; beyond this `push` returns false. */
    private readonly limit: number,
    /** Called when the socket refuses a message (it is then dropped). */
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  /**
   * Queue one message. False when the queue is full or closed: the message was not taken.
   * `latestValue` is passed on to the socket's send (see the engine's SendOptions).
   */
  push(frames: Uint8Array[], latestValue = false): boolean {
    if (this.closed || this.length >= this.limit) return false;
    this.items.push(frames);
    this.latest.push(latestValue);
    if (!this.draining) void this.drain();
    return true;
  }

  /** Forget every message not yet handed to the socket. */
  clear(): void {
    // Emptied in place: the queue empties after nearly every message when traffic is light.
    this.items.length = 0;
    this.latest.length = 0;
    this.head = 0;
  }

  close(): void {
    this.closed = true;
    this.clear();
    this.wakeIdle();
  }

  /**
   * Resolves once every queued message was handed to the socket, or after `timeoutMs`,
   * whichever comes first (a stopping server flushes its last words, but never hangs on them).
   */
  idle(timeoutMs: number): Promise<void> {
    if (this.closed || (!this.draining && this.length === 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  private readonly idleWaiters = new Set<() => void>();

  private wakeIdle(): void {
    for (const wake of [...this.idleWaiters]) wake();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (!this.closed && this.head < this.items.length) {
        const frames = this.items[this.head]!;
        const latestValue = this.latest[this.head]!;
        this.items[this.head] = undefined; // let the frames go once sent
        this.head += 1;
        // Compact now and then so a long-lived queue does not keep a growing array.
        if (this.head >= 1024 && this.head * 2 >= this.items.length) {
          this.items = this.items.slice(this.head);
          this.latest = this.latest.slice(this.head);
          this.head = 0;
        }
        try {
          await (latestValue ? this.socket.send(frames, LATEST_VALUE) : this.socket.send(frames));
        } catch (error) {
          if (this.closed || this.socket.closed) break;
          this.onError(error);
        }
      }
    } finally {
      this.draining = false;
      if (this.closed || this.head >= this.items.length) this.clear();
      if (this.length === 0) this.wakeIdle();
    }
  }
}
