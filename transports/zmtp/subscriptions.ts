/**
 * A set of topic prefixes, counted or plain, with fast prefix matching: topics and prefixes are kept as
 * latin1 strings (one char per byte), and a match checks one map lookup per distinct prefix
 * length rather than comparing every prefix.
 */

export function bytesToKey(bytes: Uint8Array): string {
  let key = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    key += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return key;
}

export function keyToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  return bytes;
}

export class SubscriptionSet {
  readonly #counts = new Map<string, number>();
  readonly #counted: boolean;

  /**
   * `counted`: each `add` needs its own `remove` (a SUB's own subscribe/unsubscribe calls).
   * A PUB keeps a plain set per peer: libzmq's SUB sends SUBSCRIBE for every subscribe call but
   * CANCEL only when its own count reaches zero, so one CANCEL must remove the prefix.
   */
  constructor(options: { counted: boolean } = { counted: true }) {
    this.#counted = options.counted;
  }

  has(prefix: string): boolean {
    return this.#counts.has(prefix);
  }
  /** Distinct prefix lengths in use → how many prefixes have that length. */
  readonly #lengths = new Map<number, number>();
  #longest = 0;

  get size(): number {
    return this.#counts.size;
  }

  /** Longest prefix, so callers convert only that many topic bytes to a key. */
  get longest(): number {
    return this.#longest;
  }

  /** Returns true if the prefix is new. */
  add(prefix: string): boolean {
    const count = this.#counts.get(prefix) ?? 0;
    if (count > 0 && !this.#counted) return false;
    this.#counts.set(prefix, count + 1);
    if (count > 0) return false;
    this.#lengths.set(prefix.length, (this.#lengths.get(prefix.length) ?? 0) + 1);
    if (prefix.length > this.#longest) this.#longest = prefix.length;
    return true;
  }

  /** Returns true if the prefix's count dropped to zero (it is gone). */
  remove(prefix: string): boolean {
    const count = this.#counts.get(prefix);
    if (count === undefined) return false;
    if (count > 1 && this.#counted) {
      this.#counts.set(prefix, count - 1);
      return false;
    }
    this.#counts.delete(prefix);
    const sameLength = this.#lengths.get(prefix.length)! - 1;
    if (sameLength === 0) {
      this.#lengths.delete(prefix.length);
      if (prefix.length === this.#longest) this.#longest = Math.max(0, ...this.#lengths.keys());
    } else {
      this.#lengths.set(prefix.length, sameLength);
    }
    return true;
  }

  /** `topicKey` must hold at least `longest` characters of the topic (or all of it). */
  matches(topicKey: string): boolean {
    for (const length of this.#lengths.keys()) {
      if (length > topicKey.length) continue;
      if (this.#counts.has(length === topicKey.length ? topicKey : topicKey.slice(0, length))) return true;
    }
    return false;
  }

  prefixes(): IterableIterator<string> {
    return this.#counts.keys();
  }
}
