/** The instrument the visitor is looking at, shared by the market view and the order ticket. */
export class Selection {
  #value = "";
  readonly #listeners = new Set<(value: string) => void>();

  get value(): string {
    return this.#value;
  }

  set(value: string): void {
    if (value === this.#value) return;
    this.#value = value;
    for (const listener of this.#listeners) listener(value);
  }

  onChange(listener: (value: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
