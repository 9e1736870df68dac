/**
 * Rendering at most once per animation frame. Data handlers only mark a view dirty; the view
 * draws the latest state on the next frame. At 50 ticks/s the DOM is touched ≤ 60 times a second,
 * whatever the message rate, and a hidden tab draws nothing.
 */
export class FrameLoop {
  readonly #dirty = new Set<() => void>();
  #scheduled = false;

  /** Ask for `draw` to run on the next frame (once, however often it is asked). */
  request(draw: () => void): void {
    this.#dirty.add(draw);
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const draws = [...this.#dirty];
    this.#dirty.clear();
    for (const draw of draws) {
      try {
        draw();
      } catch (error) {
        console.error("A view failed to draw", error);
      }
    }
  }
}
