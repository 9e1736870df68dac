/**
 * A first-in first-out queue on a ring of slots that grows by doubling and is reused as it
 * turns. The client keeps its calls in flight of one deadline group here, oldest first: a Map
 * doing that job (an insertion and a deletion per call, with a hundred calls held) rehashed into
 * a new table every few dozen calls and kept young calls alive long enough that V8 promoted them
 * to the old generation, which then needed full collections.
 */
export class RingQueue<T> {
  #slots: Array<T | undefined> = new Array<T | undefined>(8).fill(undefined);
  #mask = 7;
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  /** The oldest value, or undefined when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** Removes and returns the oldest value, or undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#slots[this.#head];
    this.#slots[this.#head] = undefined; // not kept alive by the queue
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return value;
  }

  /** Keeps only the values `keep` accepts, in their order. */
  retain(keep: (value: T) => boolean): void {
    const length = this.#length;
    let kept = 0;
    for (let i = 0; i < length; i++) {
      const at = (this.#head + i) & this.#mask;
      const value = this.#slots[at] as T;
      this.#slots[at] = undefined;
      if (keep(value)) this.#slots[(this.#head + kept++) & this.#mask] = value;
    }
    this.#length = kept;
  }

  #grow(): void {
    const slots = new Array<T | undefined>(this.#slots.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) slots[i] = this.#slots[(this.#head + i) & this.#mask];
    this.#slots = slots;
    this.#mask = slots.length - 1;
    this.#head = 0;
  }
}
