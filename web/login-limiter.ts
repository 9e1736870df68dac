/**
 * Login attempts counted per user name and per remote address in fixed windows: past a limit
 * further attempts are refused (429, with when to retry) before any password is hashed. The
 * tables are bounded: every window has the same length, so a table's insertion order is its
 * expiry order and expired windows are dropped from its front as attempts come (no timer);
 * past `maxKeys` live windows the oldest is forgotten, so an attacker cycling names or
 * addresses never grows memory (at worst it makes the door forget the oldest counts).
 */

export interface LimitOptions {
  /** Attempts allowed per window. */
  limit: number;
  windowMs: number;
  /** Keys remembered at most; past it the oldest window is forgotten first. Default 10 000. */
  maxKeys?: number;
}

class Windows {
  readonly #entries = new Map<string, { count: number; resetAt: number }>();
  readonly #maxKeys: number;

  constructor(readonly options: LimitOptions) {
    this.#maxKeys = options.maxKeys ?? 10_000;
    if (!(this.#maxKeys >= 1)) throw new RangeError(`maxKeys must be at least 1, got ${options.maxKeys}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drop expired windows: they sit at the front (a window is re-added at the back when renewed). */
  #expire(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.resetAt > now) return;
      this.#entries.delete(key);
    }
  }

  /** Milliseconds until `key` may try again, or 0 when it may now (and this attempt is counted). */
  take(key: string, now: number): number {
    this.#expire(now);
    let entry = this.#entries.get(key);
    if (!entry) {
      if (this.#entries.size >= this.#maxKeys) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      entry = { count: 0, resetAt: now + this.options.windowMs };
      this.#entries.set(key, entry);
    }
    if (entry.count >= this.options.limit) return entry.resetAt - now;
    entry.count++;
    return 0;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  /** Give back one attempt (it succeeded). */
  refund(key: string): void {
    const entry = this.#entries.get(key);
    if (entry && entry.count > 0) entry.count--;
  }
}

export interface LoginLimiterOptions {
  /** Default: 5 failed logins per user per 15 minutes. */
  perUser?: LimitOptions;
  /** Default: 20 failed logins per address per 15 minutes. */
  perAddress?: LimitOptions;
  now?: () => number;
}

export class LoginLimiter {
  readonly #users: Windows;
  readonly #addresses: Windows;
  readonly #now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.#users = new Windows(options.perUser ?? { limit: 5, windowMs: 15 * 60_000 });
    this.#addresses = new Windows(options.perAddress ?? { limit: 20, windowMs: 15 * 60_000 });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Count an attempt; returns the seconds to wait when it is refused, else 0. Every attempt is
   * counted as it starts, so a burst in parallel cannot slip past the limit; one that succeeds
   * is given back (`succeeded`), so people logging in often from one address are not locked out.
   */
  attempt(user: string, address: string | undefined): number {
    const now = this.#now();
    const byAddress = address === undefined ? 0 : this.#addresses.take(address, now);
    if (byAddress > 0) return Math.ceil(byAddress / 1000);
    const byUser = this.#users.take(user.toLowerCase(), now);
    return Math.ceil(byUser / 1000);
  }

  /** Windows remembered now, per table: bounded by each table's `maxKeys`. */
  get size(): { users: number; addresses: number } {
    return { users: this.#users.size, addresses: this.#addresses.size };
  }

  /** A successful login clears the user's count of failures and gives the address its attempt back. */
  succeeded(user: string, address: string | undefined): void {
    this.#users.forget(user.toLowerCase());
    if (address !== undefined) this.#addresses.refund(address);
  }
}
