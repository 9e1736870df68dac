/**
 * The wire log: every frame the page's client sent or received, newest first, with its size and,
 * for replies, the round trip. Filterable by kind and by name/topic. Recording is a ring buffer;
 * drawing happens once per frame into a fixed pool of rows.
 */
import { FixedRows, h, setClass, setText } from "./dom.ts";
import { bytes, preview } from "./format.ts";
import type { FrameLoop } from "./frame-loop.ts";
import type { WireFrame } from "./session.ts";

const CAPACITY = 5_000;
const VISIBLE_ROWS = 150;

export type KindFilter = "calls" | "events" | "heartbeats";

export class WireLog {
  readonly element: HTMLElement;
  /** Called when the visitor picks a row (the sequence view follows it). */
  onSelect: (frame: WireFrame) => void = () => {};
  readonly #frames: WireFrame[] = [];
  readonly #rows = new FixedRows(VISIBLE_ROWS, 7);
  readonly #loop: FrameLoop;
  readonly #kinds: Record<KindFilter, HTMLInputElement>;
  readonly #topic: HTMLInputElement;
  readonly #pause: HTMLInputElement;
  readonly #count: HTMLElement;
  readonly #rate: HTMLElement;
  readonly #detail: HTMLElement;
  #shown: WireFrame[] = [];
  #selected: WireFrame | undefined;
  #start = performance.now();
  #window: { at: number; frames: number; bytes: number }[] = [];
  readonly #draw = () => this.#render();

  constructor(loop: FrameLoop) {
    this.#loop = loop;
    const redraw = () => this.#loop.request(this.#draw);
    const kind = (name: KindFilter, label: string, checked: boolean) => {
      const input = h("input", { type: "checkbox", name: `kind-${name}`, checked, onchange: redraw });
      return [input, h("label", { class: "check" }, input, label)] as const;
    };
    const [calls, callsLabel] = kind("calls", "calls", true);
    const [events, eventsLabel] = kind("events", "events", true);
    const [heartbeats, heartbeatsLabel] = kind("heartbeats", "heartbeats", false);
    this.#kinds = { calls, events, heartbeats };
    this.#topic = h("input", {
      type: "search",
      name: "wire-filter",
      placeholder: "name or topic, e.g. eOrder. or sendOrder",
      "aria-label": "Filter by function name or topic prefix",
      oninput: redraw,
    });
    this.#pause = h("input", { type: "checkbox", name: "wire-pause", onchange: redraw });
    this.#count = h("span", { class: "num muted wire-count" });
    this.#rate = h("span", { class: "num muted" });
    this.#detail = h("pre", { class: "frame-detail", "aria-live": "polite" }, "Pick a row to see its payload.");

    this.#rows.body.addEventListener("click", (event) => {
      const row = (event.target as Element).closest("tr");
      if (row) this.#pick(this.#rows.rows.indexOf(row as HTMLTableRowElement));
    });

    const table = h(
      "table",
      { class: "grid wire-table", "aria-label": "Wire log, newest first" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "#"), h("th", {}, "t (s)"), h("th", {}, ""), h("th", {}, "kind"), h("th", {}, "name / topic"), h("th", { class: "r" }, "size"), h("th", { class: "r" }, "rtt")),
      ),
      this.#rows.body,
    );
    this.element = h(
      "div",
      { class: "wire" },
      h("div", { class: "toolbar" }, this.#topic, callsLabel, eventsLabel, heartbeatsLabel, h("label", { class: "check" }, this.#pause, "pause")),
      h(
        "div",
        {
          class: "scroll wire-scroll",
          // One tab stop for the whole log; arrows move through its rows.
          tabindex: 0,
          "aria-label": "Wire log: arrow keys pick a frame",
          onkeydown: (event: Event) => this.#key(event as KeyboardEvent),
        },
        table,
      ),
      h("div", { class: "toolbar small" }, this.#count, this.#rate),
      this.#detail,
    );
  }

  /** Record a frame (from the tap). */
  push(frame: WireFrame): void {
    this.#frames.push(frame);
    if (this.#frames.length > CAPACITY) this.#frames.splice(0, this.#frames.length - CAPACITY);
    this.#window.push({ at: frame.at, frames: 1, bytes: frame.bytes });
    if (!this.#pause.checked) this.#loop.request(this.#draw);
  }

  /** Forget everything (a new session). */
  clear(): void {
    this.#frames.length = 0;
    this.#window.length = 0;
    this.#selected = undefined;
    this.#start = performance.now();
    setText(this.#detail, "Pick a row to see its payload.");
    this.#loop.request(this.#draw);
  }

  /** All recorded frames, oldest first (the sequence view reads them). */
  get frames(): readonly WireFrame[] {
    return this.#frames;
  }

  setFilter(text: string): void {
    this.#topic.value = text;
    this.#loop.request(this.#draw);
  }

  #matches(frame: WireFrame): boolean {
    const kinds = this.#kinds;
    if (frame.kind === "heartbeat" || (frame.kind === "request" && frame.name?.startsWith("$"))) {
      if (!kinds.heartbeats.checked) return false;
    } else if (frame.kind === "event") {
      if (!kinds.events.checked) return false;
    } else if ((frame.kind === "result" || frame.kind === "error") && frame.replyTo?.startsWith("$")) {
      if (!kinds.heartbeats.checked) return false;
    } else if (!kinds.calls.checked) return false;
    const text = this.#topic.value.trim();
    if (!text) return true;
    const label = frame.topic ?? frame.name ?? frame.replyTo ?? "";
    return label.startsWith(text) || label.includes(text);
  }

  #render(): void {
    const now = performance.now();
    while (this.#window.length && this.#window[0]!.at < now - 1_000) this.#window.shift();
    const perSecond = this.#window.length;
    const bytesPerSecond = this.#window.reduce((sum, w) => sum + w.bytes, 0);
    setText(this.#count, `${this.#frames.length} frames recorded`);
    setText(this.#rate, `${perSecond} frames/s · ${bytes(bytesPerSecond)}/s`);
    if (this.#pause.checked) return;

    const shown: WireFrame[] = [];
    for (let i = this.#frames.length - 1; i >= 0 && shown.length < VISIBLE_ROWS; i--) {
      const frame = this.#frames[i]!;
      if (this.#matches(frame)) shown.push(frame);
    }
    this.#shown = shown;
    this.#rows.fill(shown, (cells, frame, row) => {
      const outgoing = frame.direction === "out";
      setText(cells[0]!, String(frame.seq));
      setText(cells[1]!, ((frame.at - this.#start) / 1000).toFixed(3));
      setText(cells[2]!, outgoing ? "→" : "←");
      cells[2]!.title = outgoing ? "page → worker" : "worker → page";
      setText(cells[3]!, frame.kind);
      cells[3]!.className = `kind-${frame.kind}`;
      setText(cells[4]!, labelOf(frame));
      setText(cells[5]!, bytes(frame.bytes));
      setText(cells[6]!, frame.rttMs === undefined ? "" : `${frame.rttMs.toFixed(1)} ms`);
      setClass(row, "selected", frame === this.#selected);
    });
  }

  #key(event: KeyboardEvent): void {
    const step = event.key === "ArrowDown" ? 1 : event.key === "ArrowUp" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const current = this.#selected ? this.#shown.indexOf(this.#selected) : -1;
    const next = Math.min(this.#shown.length - 1, Math.max(0, current + step));
    this.#pick(next);
    this.#rows.rows[next]?.scrollIntoView({ block: "nearest" });
  }

  #pick(index: number): void {
    const frame = this.#shown[index];
    if (!frame) return;
    this.#selected = frame;
    setText(this.#detail, describe(frame));
    this.onSelect(frame);
    this.#loop.request(this.#draw);
  }
}

export function labelOf(frame: WireFrame): string {
  if (frame.kind === "request") return `${frame.name ?? ""}#${frame.id ?? ""}`;
  if (frame.kind === "result" || frame.kind === "error") return `${frame.replyTo ?? "reply"}#${frame.id ?? ""}${frame.code ? ` ${frame.code}` : ""}`;
  if (frame.kind === "cancel") return `cancel #${frame.id ?? ""}`;
  return frame.topic ?? "";
}

function describe(frame: WireFrame): string {
  const head = `#${frame.seq} ${frame.direction === "out" ? "page → worker" : "worker → page"} ${frame.kind} ${labelOf(frame)}, ${frame.bytes} bytes${
    frame.rttMs === undefined ? "" : `, round trip ${frame.rttMs.toFixed(1)} ms`
  }`;
  return `${head}\n${preview(frame.payload, 2_000)}`;
}
