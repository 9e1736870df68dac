/**
 * The wire log: every frame the page's client sent or received, newest first, with its size and,
 * for replies, the round trip; and a marker where the client noticed lost events or a server
 * restart. Filterable by kind and by name/topic. It starts with calls and order/trade events on
 * rows of their own; ticks (most of the traffic) and the other events are collapsed: each run of
 * them between two rows shown is one row that counts them, so a call stays in view.
 * Recording is a ring buffer; drawing happens once per frame into a fixed pool of rows.
 */
import { FixedRows, h, setClass, setText } from "./dom.ts";
import { bytes, preview } from "./format.ts";
import type { FrameLoop } from "./frame-loop.ts";
import { isMarker, type WireEntry, type WireFrame, type WireMarker } from "./session.ts";

const CAPACITY = 5_000;
const VISIBLE_ROWS = 150;

export type KindFilter = "calls" | "orders" | "events" | "ticks" | "heartbeats";

/**
 * Frames collapsed into one row: how many of each family (`eTick.`, `ePosition.`), how big, the
 * newest of them, and the events that ticks-only gaps said were lost among them.
 */
interface Run {
  kind: "run";
  count: number;
  bytes: number;
  newest: WireFrame;
  families: Map<string, number>;
  symbols: Set<string>;
  lost: number;
  lostUnknown: boolean;
}

type Row = WireEntry | Run;

/** `eTick.IF2512.CFFEX` → `eTick.`; `eLog` → `eLog`. */
function familyOf(topic: string): string {
  const dot = topic.indexOf(".");
  return dot < 0 ? topic : topic.slice(0, dot + 1);
}

const ORDER_FAMILIES = new Set(["eOrder.", "eTrade."]);

/** The gateway names an order goes by: the server's (its events, `eOrder.SIM.7`) and the page's (`RPC.7`). */
export interface GatewayNames {
  server: string;
  page: string;
}

export class WireLog {
  readonly element: HTMLElement;
  /** Called when the visitor picks a row (the sequence view follows it). */
  onSelect: (frame: WireFrame) => void = () => {};
  readonly #frames: WireEntry[] = [];
  readonly #rows = new FixedRows(VISIBLE_ROWS, 7);
  readonly #loop: FrameLoop;
  readonly #kinds: Record<KindFilter, HTMLInputElement>;
  readonly #topic: HTMLInputElement;
  readonly #pause: HTMLInputElement;
  readonly #count: HTMLElement;
  readonly #rate: HTMLElement;
  readonly #detail: HTMLElement;
  #names: GatewayNames | undefined;
  #shown: Row[] = [];
  #selected: WireEntry | undefined;
  #start = performance.now();
  #window: { at: number; frames: number; bytes: number }[] = [];
  readonly #draw = () => this.#render();

  constructor(loop: FrameLoop) {
    this.#loop = loop;
    const redraw = () => this.#loop.request(this.#draw);
    const kind = (name: KindFilter, label: string, checked: boolean, title: string) => {
      const input = h("input", { type: "checkbox", name: `kind-${name}`, checked, onchange: redraw });
      return [input, h("label", { class: "check", title }, input, label)] as const;
    };
    const collapsed = "Unticked, a run of them between two rows shown is one row that counts them";
    const [calls, callsLabel] = kind("calls", "calls", true, "Requests and their replies");
    const [orders, ordersLabel] = kind("orders", "orders", true, "Order and trade events (eOrder., eTrade.)");
    const [events, eventsLabel] = kind("events", "other", false, `Other events: positions, accounts, log, contracts. ${collapsed}`);
    const [ticks, ticksLabel] = kind("ticks", "ticks", false, `Tick events (eTick.). ${collapsed}`);
    const [heartbeats, heartbeatsLabel] = kind("heartbeats", "heartbeats", false, "Heartbeats and the client's own $tw. calls");
    this.#kinds = { calls, orders, events, ticks, heartbeats };
    this.#topic = h("input", {
      type: "search",
      name: "wire-filter",
      placeholder: "filter: eOrder. or sendOrder",
      "aria-label": "Filter by function name or topic prefix, e.g. eOrder. or sendOrder",
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
      h("div", { class: "toolbar wire-filters" }, this.#topic, callsLabel, ordersLabel, eventsLabel, ticksLabel, heartbeatsLabel, h("label", { class: "check" }, this.#pause, "pause")),
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

  /** Record a frame (from the tap) or a marker (from the client). */
  push(entry: WireEntry): void {
    this.#frames.push(entry);
    if (this.#frames.length > CAPACITY) this.#frames.splice(0, this.#frames.length - CAPACITY);
    if (!isMarker(entry)) this.#window.push({ at: entry.at, frames: 1, bytes: entry.bytes });
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

  /** The gateway names of the session, to tie `eOrder.SIM.7` to the Trade panel's `RPC.7`. */
  setGatewayNames(names: GatewayNames | undefined): void {
    this.#names = names;
  }

  /** All recorded frames and markers, oldest first (the sequence view reads them). */
  get frames(): readonly WireEntry[] {
    return this.#frames;
  }

  setFilter(text: string): void {
    this.#topic.value = text;
    this.#loop.request(this.#draw);
  }

  /**
   * Shown on its own row, counted in a collapsed run, or not shown. A filter text shows what it
   * names on rows of their own and hides the rest; with no text, unticked event kinds collapse.
   */
  #classify(entry: WireEntry): "show" | "collapse" | "hide" {
    const text = this.#topic.value.trim();
    const named = (label: string) => !text || label.startsWith(text) || label.includes(text);
    const kinds = this.#kinds;
    if (isMarker(entry)) {
      if (text) return entry.kind.startsWith(text) || entry.gaps.some((gap) => named(gap.stream)) ? "show" : "hide";
      // Lost ticks (or other collapsed events) need no reload: counted with their run.
      const quiet = !entry.reloading && entry.kind === "gap" && entry.gaps.every((gap) => !this.#own(familyOf(gap.stream)));
      return quiet ? "collapse" : "show";
    }
    const frame = entry;
    if (frame.kind === "heartbeat" || (frame.kind === "request" && frame.name?.startsWith("$"))) {
      if (!kinds.heartbeats.checked) return "hide";
    } else if ((frame.kind === "result" || frame.kind === "error") && frame.replyTo?.startsWith("$")) {
      if (!kinds.heartbeats.checked) return "hide";
    } else if (frame.kind === "event") {
      if (text) return named(frame.topic ?? "") ? "show" : "hide";
      return this.#own(familyOf(frame.topic ?? "")) ? "show" : "collapse";
    } else if (!kinds.calls.checked) return "hide";
    return named(frame.topic ?? frame.name ?? frame.replyTo ?? "") ? "show" : "hide";
  }

  /** Events of this family get rows of their own (with no filter text). */
  #own(family: string): boolean {
    const kinds = this.#kinds;
    if (ORDER_FAMILIES.has(family)) return kinds.orders.checked;
    if (family === "eTick.") return kinds.ticks.checked;
    return kinds.events.checked;
  }

  #render(): void {
    const now = performance.now();
    while (this.#window.length && this.#window[0]!.at < now - 1_000) this.#window.shift();
    const perSecond = this.#window.length;
    const bytesPerSecond = this.#window.reduce((sum, w) => sum + w.bytes, 0);
    setText(this.#count, `${this.#frames.length} frames recorded`);
    setText(this.#rate, `${perSecond} frames/s · ${bytes(bytesPerSecond)}/s`);
    if (this.#pause.checked) return;

    const shown: Row[] = [];
    let run: Run | undefined;
    // Gaps are noticed just after the frame that revealed them: newest first, they come before their run.
    let pendingLost = 0;
    let pendingUnknown = false;
    for (let i = this.#frames.length - 1; i >= 0 && shown.length < VISIBLE_ROWS; i--) {
      const entry = this.#frames[i]!;
      const how = this.#classify(entry);
      if (how === "hide") continue;
      if (how === "show") {
        run = undefined;
        shown.push(entry);
        continue;
      }
      if (isMarker(entry)) {
        for (const gap of entry.gaps) {
          if (gap.missed === undefined) pendingUnknown = true;
          else pendingLost += gap.missed;
        }
        continue;
      }
      if (!run) shown.push((run = { kind: "run", count: 0, bytes: 0, newest: entry, families: new Map(), symbols: new Set(), lost: 0, lostUnknown: false }));
      run.lost += pendingLost;
      run.lostUnknown ||= pendingUnknown;
      pendingLost = 0;
      pendingUnknown = false;
      const topic = entry.topic ?? "";
      const family = familyOf(topic);
      run.count++;
      run.bytes += entry.bytes;
      run.families.set(family, (run.families.get(family) ?? 0) + 1);
      if (family === "eTick.") run.symbols.add(topic.slice(family.length).split(".")[0]!);
    }
    this.#shown = shown;
    this.#rows.fill(shown, (cells, row, tr) => {
      const marker = isMarker(row as WireEntry) ? (row as WireMarker) : undefined;
      setClass(tr, "marker", marker !== undefined);
      setClass(tr, "run", row.kind === "run");
      if (marker) return this.#fillMarker(cells, marker, tr);
      const frame = row.kind === "run" ? row.newest : (row as WireFrame);
      const outgoing = frame.direction === "out";
      setText(cells[0]!, String(frame.seq));
      setText(cells[1]!, ((frame.at - this.#start) / 1000).toFixed(3));
      setText(cells[2]!, outgoing ? "→" : "←");
      cells[2]!.title = outgoing ? "page → worker" : "worker → page";
      if (row.kind === "run") {
        setText(cells[3]!, "collapsed");
        cells[3]!.className = "kind-run";
        setText(cells[4]!, runLabel(row));
        setText(cells[5]!, bytes(row.bytes));
        setText(cells[6]!, "");
      } else {
        setText(cells[3]!, frame.kind);
        cells[3]!.className = `kind-${frame.kind}`;
        setText(cells[4]!, labelOf(frame));
        setText(cells[5]!, bytes(frame.bytes));
        setText(cells[6]!, frame.rttMs === undefined ? "" : `${frame.rttMs.toFixed(1)} ms`);
      }
      setClass(tr, "selected", frame === this.#selected);
    });
  }

  #fillMarker(cells: HTMLCollectionOf<HTMLTableCellElement>, marker: WireMarker, tr: HTMLTableRowElement): void {
    setText(cells[0]!, String(marker.seq));
    setText(cells[1]!, ((marker.at - this.#start) / 1000).toFixed(3));
    setText(cells[2]!, "⚠");
    cells[2]!.title = marker.kind === "gap" ? "events lost on the way" : "the server restarted";
    setText(cells[3]!, marker.kind);
    cells[3]!.className = `kind-${marker.kind}`;
    setText(cells[4]!, markerLabel(marker));
    setText(cells[5]!, "");
    setText(cells[6]!, "");
    setClass(tr, "selected", marker === this.#selected);
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
    const row = this.#shown[index];
    if (!row) return;
    if (row.kind === "run") {
      setText(
        this.#detail,
        `${row.count} events (${bytes(row.bytes)}) collapsed into one row: ${runLabel(row)}.\nTick "ticks" or "other" above to list them one by one.\nNewest: ${describe(row.newest, this.#names)}`,
      );
      return;
    }
    this.#selected = row;
    if (isMarker(row)) setText(this.#detail, describeMarker(row));
    else {
      setText(this.#detail, describe(row, this.#names));
      this.onSelect(row);
    }
    this.#loop.request(this.#draw);
  }
}

export function labelOf(frame: WireFrame): string {
  if (frame.kind === "request") return `${frame.name ?? ""}#${frame.id ?? ""}`;
  if (frame.kind === "result" || frame.kind === "error") return `${frame.replyTo ?? "reply"}#${frame.id ?? ""}${frame.code ? ` ${frame.code}` : ""}`;
  if (frame.kind === "cancel") return `cancel #${frame.id ?? ""}`;
  return frame.topic ?? "";
}

/** "41 eTick. IF2512 rb2601 · 2 ePosition. · 3 lost": what a collapsed row stands for. */
function runLabel(run: Run): string {
  const parts = [...run.families].map(([family, n]) => (family === "eTick." ? `${n} ${family} ${[...run.symbols].join(" ")}` : `${n} ${family}`));
  if (run.lost || run.lostUnknown) parts.push(`${run.lostUnknown ? "some" : run.lost} lost`);
  return parts.join(" · ");
}

/** "eOrder.SIM. 3 lost · eTrade. ? lost → reloading": what was lost, and what the gateway does about it. */
export function markerLabel(marker: WireMarker): string {
  const what =
    marker.kind === "restart"
      ? "server restarted"
      : marker.gaps.map((gap) => `${gap.stream || "every topic"} ${gap.missed ?? "?"} lost`).join(" · ");
  return `${what}${marker.reloading ? " → reloading" : ""}`;
}

function describeMarker(marker: WireMarker): string {
  const lines =
    marker.kind === "restart"
      ? ["The server restarted (its heartbeat carries a new epoch): what it published before is gone."]
      : [
          "Event numbers jumped: these events never arrived.",
          ...marker.gaps.map((gap) => `  ${gap.stream || "(every topic)"}: ${gap.missed === undefined ? "an unknown number (heartbeats were lost too)" : `${gap.missed} missed`}`),
        ];
  lines.push(
    marker.reloading
      ? "RpcGateway reloads orders, trades, positions and account (see the banner at the top until it is done)."
      : "No reload needed: ticks are replaced by the next one.",
  );
  return lines.join("\n");
}

function describe(frame: WireFrame, names: GatewayNames | undefined): string {
  const head = `#${frame.seq} ${frame.direction === "out" ? "page → worker" : "worker → page"} ${frame.kind} ${labelOf(frame)}, ${frame.bytes} bytes${
    frame.rttMs === undefined ? "" : `, round trip ${frame.rttMs.toFixed(1)} ms`
  }`;
  return `${head}${sameOrder(frame, names)}\n${preview(frame.payload, 2_000)}`;
}

/**
 * Where the server's order id meets the page's: `eOrder.SIM.7` and sendOrder's "SIM.7" are the
 * Trade panel's `RPC.7`. Said once per frame that carries one.
 */
function sameOrder(frame: WireFrame, names: GatewayNames | undefined): string {
  if (!names) return "";
  const server = `${names.server}.`;
  let id: string | undefined;
  if (frame.kind === "event" && (frame.topic?.startsWith(`eOrder.${server}`) || frame.topic?.startsWith(`eTrade.${server}`))) {
    id = (frame.payload as { vtOrderId?: unknown } | undefined)?.vtOrderId as string | undefined;
  } else if (frame.kind === "result" && frame.replyTo === "sendOrder" && typeof frame.payload === "string") id = frame.payload;
  if (typeof id !== "string" || !id.startsWith(server)) return "";
  const local = `${names.page}.${id.slice(server.length)}`;
  return `\nOrder ${id} here is ${local} in the Trade panel: the page's RpcGateway "${names.page}" renames the server's gateway "${names.server}" in the ids it hands out.`;
}
