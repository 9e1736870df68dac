/**
 * The client's end of a stream: items wait here until the consumer takes them, and credit is
 * granted back in batches as they are taken, so the server never sends more than `credit` items
 * ahead of the consumer (a slow consumer bounds both sides' memory).
 */
import { RpcError } from "./errors.ts";

export interface StreamControl {
  /** Let the server send `n` more items. */
  grant(n: number): void;
  /** The consumer stopped early: cancel the call on the server. */
  cancel(): void;
}

export class IncomingStream<T> implements AsyncIterableIterator<T> {
  readonly #credit: number;
  readonly #buffer: T[] = [];
  #head = 0;
  /** Granted and not yet received. */
  #outstanding: number;
  #ended = false;
  #error: Error | undefined;
  #waiter: { resolve(result: IteratorResult<T>): void; reject(error: Error): void } | undefined;
  #control: StreamControl | undefined;

  constructor(credit: number) {
    this.#credit = credit;
    this.#outstanding = credit;
  }

  /** Set once the request went out. */
  attach(control: StreamControl): void {
    this.#control = control;
  }

  get #buffered(): number {
    return this.#buffer.length - this.#head;
  }

  push(item: T): void {
    if (this.#ended) return;
    if (--this.#outstanding < 0) {
      // More than was granted: a server that ignores flow control must not grow our memory.
      this.fail(new RpcError("RESOURCE_EXHAUSTED", "The server sent more stream items than were granted"));
      this.#control?.cancel();
      return;
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve({ done: false, value: item });
      this.#topUp();
      return;
    }
    this.#buffer.push(item);
  }

  /** A server that answered with one value (no stream support): an array's elements, or the value, then the end. */
  finishWith(value: unknown): void {
    if (this.#ended) return;
    if (Array.isArray(value)) for (const item of value as T[]) this.#buffer.push(item);
    else this.#buffer.push(value as T);
    this.end();
  }

  end(): void {
    this.#ended = true;
    this.#waiter?.resolve({ done: true, value: undefined });
    this.#waiter = undefined;
  }

  fail(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#waiter?.reject(error);
    this.#waiter = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#buffered > 0) {
      const item = this.#buffer[this.#head]!;
      this.#buffer[this.#head++] = undefined as T;
      if (this.#head === this.#buffer.length) {
        this.#buffer.length = 0;
        this.#head = 0;
      }
      this.#topUp();
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /** `break` in a for-await loop: the rest is not wanted, so the server stops producing it. */
  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) {
      this.#ended = true;
      this.#control?.cancel();
    }
    this.#buffer.length = 0;
    this.#head = 0;
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Once half the credit is used up, grant back what the consumer has made room for. */
  #topUp(): void {
    if (this.#ended) return;
    const ahead = this.#buffered + this.#outstanding;
    if (ahead > this.#credit / 2) return;
    const n = this.#credit - ahead;
    this.#outstanding += n;
    this.#control?.grant(n);
  }
}
