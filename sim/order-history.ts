/**
 * Which orders and trades the exchange remembers: every active order, and per account the
 * latest `maxHistory` final orders and trades (oldest forgotten first; 0 keeps none). A
 * forgotten order is unknown to `cancelOrder` and the queries; its events went out as usual.
 */
import type { TradeData } from "./object.ts";
import type { AccountState } from "./account.ts";
import type { OrderRecord } from "./order-record.ts";

export class OrderHistory {
  readonly #max: number;
  /** Every active order by seq, in arrival order (a Map keeps insertion order and deletes in O(1)). */
  readonly #active = new Map<number, OrderRecord>();
  /** The remembered final orders of every account, by seq. */
  readonly #finished = new Map<number, OrderRecord>();
  readonly #accounts = new Map<AccountState, AccountHistory>();

  constructor(maxHistory: number) {
    if (!(maxHistory >= 0)) throw new RangeError("maxHistory must be 0 or more");
    this.#max = maxHistory;
  }

  /** Final orders and trades are kept (maxHistory > 0): a kept trade must not be handed out itself. */
  get keepsTrades(): boolean {
    return this.#max > 0;
  }

  open(account: AccountState): void {
    this.#of(account);
  }

  /** An order of `account` by seq, active or remembered. */
  get(account: AccountState, seq: number): OrderRecord | undefined {
    const o = this.#active.get(seq) ?? this.#finished.get(seq);
    return o?.account === account ? o : undefined;
  }

  /** A new active order. */
  addActive(o: OrderRecord): void {
    this.#active.set(o.id, o);
  }

  /** An order that is final now (rejected on arrival, or after its last fill or its cancel). */
  finish(o: OrderRecord): void {
    this.#active.delete(o.id);
    if (this.#max === 0) return;
    this.#finished.set(o.id, o);
    this.#of(o.account).finished.push(o);
  }

  addTrade(account: AccountState, trade: TradeData): void {
    if (this.#max > 0) this.#of(account).trades.push(trade);
  }

  /** The account's active orders, oldest first. */
  *active(account: AccountState): Iterable<OrderRecord> {
    for (const o of this.#active.values()) if (o.account === account) yield o;
  }

  /** Active orders of every account, oldest first. */
  allActive(): Iterable<OrderRecord> {
    return this.#active.values();
  }

  /** The account's remembered orders, oldest first. */
  orders(account: AccountState): OrderRecord[] {
    const finished = this.#accounts.get(account)?.finished.items() ?? [];
    return [...this.active(account), ...finished].sort((a, b) => a.id - b.id);
  }

  trades(account: AccountState): TradeData[] {
    return this.#accounts.get(account)?.trades.items() ?? [];
  }

  #of(account: AccountState): AccountHistory {
    let history = this.#accounts.get(account);
    if (!history) {
      history = new AccountHistory(this.#max, (o) => this.#finished.delete(o.id));
      this.#accounts.set(account, history);
    }
    return history;
  }
}

class AccountHistory {
  readonly finished: Latest<OrderRecord>;
  readonly trades: Latest<TradeData>;

  constructor(max: number, forget: (o: OrderRecord) => void) {
    this.finished = new Latest(max, forget);
    this.trades = new Latest<TradeData>(max, () => {});
  }
}

/** The latest `max` items pushed, oldest first; `dropped` hears each one that falls out. */
class Latest<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  constructor(readonly max: number, readonly dropped: (item: T) => void) {}

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length - this.#head <= this.max) return;
    this.dropped(this.#items[this.#head]!);
    this.#items[this.#head++] = undefined;
    // Compact now and then, not on every drop (a shift is O(n)).
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  items(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}
