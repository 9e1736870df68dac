/**
 * A limit order book in integer ticks and lots with price-time priority.
 *
 * Each price level is a doubly linked queue and every resting entry is indexed by id (here, or by
 * an owner that rests its own records as entries), so cancelling is O(1) and a sweep never reindexes a level (the failure of array-based books).
 * Levels are kept in a price-sorted array per side with the best price last, so the best level
 * is O(1) and adding a new level is a binary search plus one splice.
 */

/** +1 buy, −1 sell. */
export type Side = 1 | -1;

export interface BookEntry<T> {
  readonly id: number;
  /** Who owns the order: entries of the same owner never trade with each other. */
  readonly owner: number;
  readonly side: Side;
  /** Price in ticks. */
  readonly price: number;
  /** Lots still resting. */
  remaining: number;
  readonly data: T;
  prev: BookEntry<T> | null;
  next: BookEntry<T> | null;
  level: PriceLevel<T> | null;
}

export class PriceLevel<T> {
  head: BookEntry<T> | null = null;
  tail: BookEntry<T> | null = null;
  /** Sum of `remaining` over the queue. */
  volume = 0;
  count = 0;
  constructor(readonly price: number) {}
}

export class BookSide<T> {
  readonly levels: Map<number, PriceLevel<T>> = new Map();
  /** Level prices, best last: ascending for bids, descending for asks. */
  readonly prices: number[] = [];

  constructor(readonly side: Side) {}

  best(): PriceLevel<T> | undefined {
    // Check the length first: reading past the end of an array is slow in V8.
    const n = this.prices.length;
    return n === 0 ? undefined : this.levels.get(this.prices[n - 1]!);
  }

  /** True when `a` is a strictly better price than `b` on this side. */
  better(a: number, b: number): boolean {
    return this.side === 1 ? a > b : a < b;
  }

  append(entry: BookEntry<T>): void {
    let level = this.levels.get(entry.price);
    if (!level) {
      level = new PriceLevel<T>(entry.price);
      this.levels.set(entry.price, level);
      this.#insertPrice(entry.price);
    }
    entry.level = level;
    entry.prev = level.tail;
    entry.next = null;
    if (level.tail) level.tail.next = entry;
    else level.head = entry;
    level.tail = entry;
    level.volume += entry.remaining;
    level.count++;
  }

  unlink(entry: BookEntry<T>): void {
    const level = entry.level;
    if (!level) return;
    if (entry.prev) entry.prev.next = entry.next;
    else level.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else level.tail = entry.prev;
    level.volume -= entry.remaining;
    level.count--;
    entry.prev = entry.next = null;
    entry.level = null;
    if (level.count === 0) this.#removeLevel(level.price);
  }

  /** Up to `n` levels from the best, as [priceTicks, lots] pairs. */
  depth(n: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.prices.length - 1; i >= 0 && out.length < n; i--) {
      const p = this.prices[i]!;
      out.push([p, this.levels.get(p)!.volume]);
    }
    return out;
  }

  /** Where `price` stands (or would stand) in the prices array, kept "worst first, best last". */
  #position(price: number): number {
    const a = this.prices;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.better(price, a[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #insertPrice(price: number): void {
    const a = this.prices;
    const at = this.#position(price);
    if (at === a.length) a.push(price);
    else a.splice(at, 0, price);
  }

  #removeLevel(price: number): void {
    this.levels.delete(price);
    const a = this.prices;
    if (a[a.length - 1] === price) {
      a.pop();
      return;
    }
    const at = this.#position(price);
    if (a[at] === price) a.splice(at, 1);
  }
}

/** Called for each fill while taking liquidity; `maker.remaining` is already reduced. */
export type FillHandler<T> = (maker: BookEntry<T>, lots: number, price: number) => void;

export interface TakeResult {
  filled: number;
  /** Matching stopped because the next resting entry belongs to the taker's owner. */
  selfTrade: boolean;
  /** Matching stopped because `cap` allowed fewer lots than were on offer. */
  capped: boolean;
}

export class OrderBook<T> {
  readonly bids: BookSide<T> = new BookSide<T>(1);
  readonly asks: BookSide<T> = new BookSide<T>(-1);
  /**
   * Resting entries by id, for `get`, `remove` and `reduce` by id; null when the owner indexes its
   * orders itself and rests them as entries (`rest`, `unrest`, `reduceEntry`): one map, not two.
   */
  readonly #entries: Map<number, BookEntry<T>> | null;
  #size = 0;

  constructor({ indexed = true }: { indexed?: boolean } = {}) {
    this.#entries = indexed ? new Map() : null;
  }

  get size(): number {
    return this.#size;
  }

  get(id: number): BookEntry<T> | undefined {
    return this.#entries?.get(id);
  }

  /** Rest an entry the caller made (and indexes) at the back of its level's queue; its `remaining` is the lots resting. */
  rest(entry: BookEntry<T>): void {
    if (entry.level) throw new RangeError(`Order ${entry.id} is already resting`);
    (entry.side === 1 ? this.bids : this.asks).append(entry);
    this.#size++;
  }

  /** Take a resting entry out of the book; false when it was not resting. */
  unrest(entry: BookEntry<T>): boolean {
    if (!entry.level) return false;
    this.#entries?.delete(entry.id);
    (entry.side === 1 ? this.bids : this.asks).unlink(entry);
    this.#size--;
    return true;
  }

  /** Rest an order at the back of its level's queue (no matching: call `take` first). */
  add(id: number, owner: number, side: Side, price: number, lots: number, data: T): BookEntry<T> {
    const entries = this.#index();
    if (entries.has(id)) throw new RangeError(`Duplicate order id ${id}`);
    const entry: BookEntry<T> = { id, owner, side, price, remaining: lots, data, prev: null, next: null, level: null };
    entries.set(id, entry);
    (side === 1 ? this.bids : this.asks).append(entry);
    this.#size++;
    return entry;
  }

  /** Remove a resting order; returns it, or undefined when it is not in the book. */
  remove(id: number): BookEntry<T> | undefined {
    const entry = this.#index().get(id);
    if (!entry) return undefined;
    this.unrest(entry);
    return entry;
  }

  #index(): Map<number, BookEntry<T>> {
    if (!this.#entries) throw new TypeError("This book rests entries its owner indexes: use rest and unrest");
    return this.#entries;
  }

  /**
   * Take up to `lots` from the side opposite to `side`, best price first, at each resting
   * entry's own price, never beyond `limit` (ticks; ±Infinity for no limit). Stops before an entry
   * of the same `owner` (self-trade prevention: the taker's remainder is the caller's to cancel).
   * `cap(price, lots)`, when given, says how many of `lots` the taker may take at `price`; fewer
   * stops the matching there. `makerCap(maker, lots)` says how many of `lots` a resting entry may
   * give at its price; fewer fills that many, then removes the entry and hands it to `onEvict`
   * (its owner cannot pay for more), and the taker goes on to the next one.
   */
  take(
    side: Side, limit: number, lots: number, owner: number, onFill: FillHandler<T>,
    cap?: (price: number, lots: number) => number,
    makerCap?: (maker: BookEntry<T>, lots: number) => number,
    onEvict?: (maker: BookEntry<T>) => void,
  ): TakeResult {
    const book = side === 1 ? this.asks : this.bids;
    let left = lots;
    while (left > 0) {
      const level = book.best();
      if (!level) break;
      if (side === 1 ? level.price > limit : level.price < limit) break;
      const maker = level.head!;
      if (maker.owner === owner) return { filled: lots - left, selfTrade: true, capped: false };
      let q = maker.remaining < left ? maker.remaining : left;
      let capped = false;
      let evict = false;
      if (cap) {
        const can = Math.min(q, Math.max(0, Math.floor(cap(level.price, q))));
        capped = can < q;
        q = can;
        if (q === 0) return { filled: lots - left, selfTrade: false, capped: true };
      }
      if (makerCap) {
        const gives = Math.min(q, Math.max(0, Math.floor(makerCap(maker, q))));
        if (gives < q) {
          // The maker runs out first: the taker is not capped by it.
          evict = true;
          capped = false;
          q = gives;
        }
      }
      maker.remaining -= q;
      level.volume -= q;
      left -= q;
      if (maker.remaining === 0 || evict) {
        this.#entries?.delete(maker.id);
        book.unlink(maker);
        this.#size--;
      }
      if (q > 0) onFill(maker, q, level.price);
      if (evict) onEvict?.(maker);
      if (capped) return { filled: lots - left, selfTrade: false, capped: true };
    }
    return { filled: lots - left, selfTrade: false, capped: false };
  }

  /**
   * Lots that `take` could fill for `side` within `limit` before meeting an entry of `owner`
   * (for fill-or-kill), counting at most `want`.
   */
  available(side: Side, limit: number, want: number, owner: number): number {
    const book = side === 1 ? this.asks : this.bids;
    let got = 0;
    for (let i = book.prices.length - 1; i >= 0 && got < want; i--) {
      const price = book.prices[i]!;
      if (side === 1 ? price > limit : price < limit) break;
      for (let e = book.levels.get(price)!.head; e && got < want; e = e.next) {
        if (e.owner === owner) return got;
        got += e.remaining;
      }
    }
    return Math.min(got, want);
  }

  /** Change the resting lots of an entry in place (keeps its queue position). */
  reduce(id: number, lots: number): void {
    const entry = this.#index().get(id);
    if (entry) this.reduceEntry(entry, lots);
  }

  /** `reduce` for a resting entry in hand. */
  reduceEntry(entry: BookEntry<T>, lots: number): void {
    if (!entry.level || lots <= 0) return;
    if (lots >= entry.remaining) {
      this.unrest(entry);
      entry.remaining = 0;
      return;
    }
    entry.remaining -= lots;
    if (entry.level) entry.level.volume -= lots;
  }
}
