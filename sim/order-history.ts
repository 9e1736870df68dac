/**
 * Which orders and trades the exchange remembers, per account: every active order, and the
 * latest `maxHistory` final orders and trades (oldest forgotten first; 0 keeps none). A
 * forgotten order is unknown to `cancelOrder` and the queries; its events went out as usual.
 */
import type { TradeData } from "./object.ts";
import type { AccountState } from "./account.ts";
import type { OrderRecord } from "./order-record.ts";

export class OrderHistory {
  readonly #max: number;
  /** Every remembered order (active and kept final ones), by seq. */
  readonly #bySeq = new Map<number, OrderRecord>();
  readonly #accounts = new Map<AccountState, AccountOrders>();

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

  get(seq: number): OrderRecord | undefined {
    return this.#bySeq.get(seq);
  }

  /** A new active order. */
  addActive(o: OrderRecord): void {
    this.#bySeq.set(o.seq, o);
    this.#of(o.account).active.add(o);
  }

  /** An order that is final now (rejected on arrival, or after its last fill or its cancel). */
  finish(o: OrderRecord): void {
    const book = this.#of(o.account);
    book.active.delete(o);
    if (this.#max > 0) {
      this.#bySeq.set(o.seq, o);
      book.finished.push(o);
    } else this.#bySeq.delete(o.seq);
  }

  addTrade(account: AccountState, trade: TradeData): void {
    if (this.#max > 0) this.#of(account).trades.push(trade);
  }

  /** The account's active orders, oldest first. */
  active(account: AccountState): Iterable<OrderRecord> {
    return this.#of(account).active;
  }

  /** Active orders of every account. */
  *allActive(): Iterable<OrderRecord> {
    for (const book of this.#accounts.values()) yield* book.active;
  }

  /** The account's remembered orders, oldest first. */
  orders(account: AccountState): OrderRecord[] {
    const book = this.#accounts.get(account);
    if (!book) return [];
    return [...book.active, ...book.finished.items()].sort((a, b) => a.seq - b.seq);
  }

  trades(account: AccountState): TradeData[] {
    return this.#accounts.get(account)?.trades.items() ?? [];
  }

  #of(account: AccountState): AccountOrders {
    let book = this.#accounts.get(account);
    if (!book) {
      book = new AccountOrders(this.#max, (o) => this.#bySeq.delete(o.seq));
      this.#accounts.set(account, book);
    }
    return book;
  }
}

class AccountOrders {
  /** In arrival order (a Set keeps insertion order and deletes in O(1)). */
  readonly active = new Set<OrderRecord>();
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
