/**
 * A sequence diagram of one call: the request crossing from the page to the worker, the events
 * the worker broadcast while it was in flight and just after (an order's eOrder/eTrade), and the
 * reply coming back, with times relative to the request. Follows the latest call unless the
 * visitor picked one in the log.
 */
import { h, setText } from "./dom.ts";
import type { FrameLoop } from "./frame-loop.ts";
import { isMarker, type WireEntry, type WireFrame } from "./session.ts";

const SVG = "http://www.w3.org/2000/svg";
const MAX_EVENTS = 5;
/** Events this long after the reply still count as "caused by the call" (fills come a tick later). */
const FOLLOW_MS = 1_500;
const ROW = 16;
/** Room for the request, MAX_EVENTS events and the reply. */
const HEIGHT = 26 + (MAX_EVENTS + 2) * ROW + 4;

export class SequenceView {
  readonly element: HTMLElement;
  readonly #svg: SVGSVGElement;
  readonly #caption: HTMLElement;
  readonly #loop: FrameLoop;
  #pinned: number | undefined;
  #frames: () => readonly WireEntry[] = () => [];
  readonly #draw = () => this.#render();

  constructor(loop: FrameLoop) {
    this.#loop = loop;
    this.#caption = h("p", { class: "small muted seq-caption" }, "No call yet.");
    this.#svg = document.createElementNS(SVG, "svg");
    this.#svg.setAttribute("class", "seq-svg");
    this.#svg.setAttribute("role", "img");
    this.#svg.setAttribute("aria-label", "Sequence of the last call");
    const follow = h("button", { type: "button", class: "link", onclick: () => this.follow() }, "follow latest");
    this.element = h("div", { class: "sequence" }, h("div", { class: "toolbar small" }, this.#caption, follow), this.#svg);
  }

  /** Where the frames come from (the wire log's buffer). */
  source(frames: () => readonly WireEntry[]): void {
    this.#frames = frames;
  }

  /** A frame arrived: redraw if it may belong to the call on show. */
  update(entry: WireEntry): void {
    if (isMarker(entry) || entry.kind === "heartbeat" || entry.topic?.startsWith("eTick.")) return;
    this.#loop.request(this.#draw);
  }

  /** Show the call a log row belongs to. */
  pin(frame: WireFrame): void {
    if (frame.id === undefined || frame.kind === "event" || frame.kind === "heartbeat") return;
    this.#pinned = frame.id;
    this.#loop.request(this.#draw);
  }

  follow(): void {
    this.#pinned = undefined;
    this.#loop.request(this.#draw);
  }

  #render(): void {
    const frames = this.#frames();
    const call = this.#find(frames);
    if (!call) {
      setText(this.#caption, "No call yet.");
      this.#svg.replaceChildren();
      return;
    }
    const { request, reply, events } = call;
    setText(
      this.#caption,
      `${this.#pinned === undefined ? "Last call" : "Call"}: ${request.name} #${request.id}${
        reply ? ` · ${reply.kind === "error" ? reply.code : "ok"} in ${reply.rttMs?.toFixed(1) ?? "?"} ms` : " · no reply yet"
      }`,
    );
    const messages: Array<{ frame: WireFrame; label: string }> = [{ frame: request, label: `${request.name}(…) ${request.bytes} B` }];
    for (const event of events) if (!reply || event.seq < reply.seq) messages.push({ frame: event, label: `${event.topic} ${event.bytes} B` });
    if (reply) messages.push({ frame: reply, label: `${reply.kind === "error" ? `error ${reply.code}` : "result"} ${reply.bytes} B` });
    for (const event of events) if (reply && event.seq > reply.seq) messages.push({ frame: event, label: `${event.topic} ${event.bytes} B` });

    // Drawn in CSS pixels at a fixed height, so a longer or shorter call never moves the layout.
    const width = Math.max(240, this.#svg.clientWidth || 320);
    const left = 44;
    const right = width - 44;
    const top = 26;
    const height = HEIGHT;
    this.#svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const parts: SVGElement[] = [
      text(left, 12, "page · RpcClient", "start", "seq-actor", -40),
      text(right, 12, "worker · RpcServer", "end", "seq-actor", 40),
      line(left, 18, left, height, "seq-life"),
      line(right, 18, right, height, "seq-life"),
    ];
    messages.forEach(({ frame, label }, i) => {
      const y = top + i * ROW + 10;
      const outgoing = frame.direction === "out";
      const cls = frame.kind === "event" ? "seq-event" : frame.kind === "error" ? "seq-error" : "seq-call";
      parts.push(arrow(outgoing ? left : right, outgoing ? right : left, y, cls));
      parts.push(text((left + right) / 2, y - 3, label, "middle", "seq-label"));
      parts.push(text(outgoing ? 2 : width - 2, y + 4, `+${(frame.at - request.at).toFixed(0)}`, outgoing ? "start" : "end", "seq-time"));
    });
    this.#svg.replaceChildren(...parts);
  }

  #find(frames: readonly WireEntry[]): { request: WireFrame; reply?: WireFrame; events: WireFrame[] } | undefined {
    let requestIndex = -1;
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i]!;
      if (f.kind !== "request" || f.name?.startsWith("$")) continue;
      if (this.#pinned === undefined || f.id === this.#pinned) {
        requestIndex = i;
        break;
      }
    }
    if (requestIndex < 0) return undefined;
    const request = frames[requestIndex] as WireFrame;
    let reply: WireFrame | undefined;
    const events: WireFrame[] = [];
    for (let i = requestIndex + 1; i < frames.length; i++) {
      const f = frames[i]!;
      if (isMarker(f)) continue;
      if ((f.kind === "result" || f.kind === "error") && f.id === request.id) reply = f;
      else if (f.kind === "event" && !f.topic?.startsWith("eTick.") && events.length < MAX_EVENTS) {
        if (f.at - (reply?.at ?? request.at) > FOLLOW_MS) break;
        events.push(f);
      } else if (f.kind === "request" && !f.name?.startsWith("$") && reply) break; // the next call starts
      if (reply && events.length >= MAX_EVENTS) break;
    }
    return reply ? { request, reply, events } : { request, events };
  }
}

function text(x: number, y: number, content: string, anchor: string, cls: string, dx = 0): SVGTextElement {
  const el = document.createElementNS(SVG, "text");
  el.setAttribute("x", String(x + dx));
  el.setAttribute("y", String(y));
  el.setAttribute("text-anchor", anchor);
  el.setAttribute("class", cls);
  el.textContent = content;
  return el;
}

function line(x1: number, y1: number, x2: number, y2: number, cls: string): SVGLineElement {
  const el = document.createElementNS(SVG, "line");
  for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) el.setAttribute(k, String(v));
  el.setAttribute("class", cls);
  return el;
}

function arrow(from: number, to: number, y: number, cls: string): SVGGElement {
  const g = document.createElementNS(SVG, "g");
  g.setAttribute("class", cls);
  const dir = Math.sign(to - from);
  g.appendChild(line(from, y, to - dir * 1, y, "seq-shaft"));
  const head = document.createElementNS(SVG, "path");
  head.setAttribute("d", `M${to} ${y} l${-dir * 7} -4 v8 z`);
  g.appendChild(head);
  return g;
}
