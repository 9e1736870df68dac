/**
 * Calls in flight by id: a slot array indexed by the id's low bits, and a Map for the few ids
 * whose slot is taken by another call (one still in flight from many ids ago, or ids a peer
 * chose to collide). Call ids mostly come in sequence, so nearly all sit in slots. A Map that
 * goes from one entry to none and back, as it does for every call made one at a time or
 * answered at once, reallocates its table each time; a slot costs a store.
 *
 * The slot array grows to twice the most calls held at once and does not shrink.
 */
export class IdTable<V extends { readonly id: number }> {
  #slots: Array<V | undefined> = new Array<V | undefined>(8).fill(undefined);
  #mask = 7;
  readonly #overflow = new Map<number, V>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): V | undefined {
    const value = this.#slots[id & this.#mask];
    if (value !== undefined && value.id === id) return value;
    return this.#overflow.size === 0 ? undefined : this.#overflow.get(id);
  }

  /** Adds `value` under its id, which must not be held already. */
  add(value: V): void {
    if (this.#size >= this.#slots.length >>> 1) this.#grow();
    this.#place(value);
    this.#size++;
  }

  /** Removes the value held under `id`; returns it, or undefined if there was none. */
  delete(id: number): V | undefined {
    const at = id & this.#mask;
    const value = this.#slots[at];
    if (value !== undefined && value.id === id) {
      this.#slots[at] = undefined;
      this.#size--;
      return value;
    }
    if (this.#overflow.size === 0) return undefined;
    const spilled = this.#overflow.get(id);
    if (spilled !== undefined) {
      this.#overflow.delete(id);
      this.#size--;
    }
    return spilled;
  }

  /** Every value, in no particular order: a snapshot, so the table may change meanwhile. */
  values(): V[] {
    const out: V[] = [];
    for (const value of this.#slots) if (value !== undefined) out.push(value);
    for (const value of this.#overflow.values()) out.push(value);
    return out;
  }

  clear(): void {
    this.#slots.fill(undefined);
    this.#overflow.clear();
    this.#size = 0;
  }

  #place(value: V): void {
    const at = value.id & this.#mask;
    if (this.#slots[at] === undefined) this.#slots[at] = value;
    else this.#overflow.set(value.id, value);
  }

  #grow(): void {
    const held = this.values();
    this.#slots = new Array<V | undefined>(this.#slots.length * 2).fill(undefined);
    this.#mask = this.#slots.length - 1;
    this.#overflow.clear();
    for (const value of held) this.#place(value);
  }
}
