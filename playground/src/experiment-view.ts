/**
 * Experiment: break the link on purpose. Latency and loss go to `withFaults` on the client's
 * transport; "disconnect" cuts it (heartbeats stop, the client reports `disconnected` after its
 * tolerance, in-flight calls fail with UNAVAILABLE) and restores it (heartbeats return, the client
 * reconnects and resubscribes). The seed replays the same market in a fresh worker.
 */
import type { ConnectionState } from "../../lib/index.ts";
import { h, setClass, setText } from "./dom.ts";
import type { FrameLoop } from "./frame-loop.ts";
import type { Session } from "./session.ts";

export interface ExperimentHandlers {
  /** Start a new session with this seed. */
  replay(seed: number): void;
}

export class ExperimentView {
  readonly element: HTMLElement;
  readonly #latency: HTMLInputElement;
  readonly #loss: HTMLInputElement;
  readonly #cut: HTMLInputElement;
  readonly #seed: HTMLInputElement;
  readonly #latencyOut: HTMLOutputElement;
  readonly #lossOut: HTMLOutputElement;
  readonly #stats: HTMLElement;
  readonly #loop: FrameLoop;
  readonly #transport = h(
    "select",
    { name: "transport", disabled: true },
    h("option", { value: "worker" }, "MessagePort (worker)"),
    h("option", { value: "web door" }, "WebSocket (web door)"),
  ) as HTMLSelectElement;
  #session: Session | undefined;
  readonly #draw = () => this.#render();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(loop: FrameLoop, handlers: ExperimentHandlers, seed: number) {
    this.#loop = loop;
    this.#latency = h("input", { type: "range", id: "latency", name: "latency", min: 0, max: 2000, step: 10, value: 0, oninput: () => this.#apply() });
    this.#loss = h("input", { type: "range", id: "loss", name: "loss", min: 0, max: 50, step: 1, value: 0, oninput: () => this.#apply() });
    this.#latencyOut = h("output", { for: "latency", class: "num" });
    this.#lossOut = h("output", { for: "loss", class: "num" });
    this.#cut = h("input", { type: "checkbox", id: "disconnect", name: "disconnect", role: "switch", onchange: () => this.#apply() });
    this.#seed = h("input", { type: "number", id: "seed", name: "seed", min: 0, max: 2 ** 31 - 1, step: 1, value: seed, class: "num" });
    this.#stats = h("p", { class: "small muted num fault-stats" });
    const replay = h(
      "form",
      {
        class: "seed-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const value = Number(this.#seed.value);
          if (Number.isInteger(value) && value >= 0) handlers.replay(value);
        },
      },
      h("label", { for: "seed" }, "Seed"),
      this.#seed,
      h("button", { type: "submit", title: "Restart the exchange worker with this seed: the same market replays" }, "Replay"),
    );
    this.element = h(
      "div",
      { class: "experiment" },
      h("div", { class: "slider" }, h("label", { for: "latency" }, "Latency"), this.#latency, this.#latencyOut),
      h("div", { class: "slider" }, h("label", { for: "loss" }, "Loss"), this.#loss, this.#lossOut),
      h(
        "div",
        { class: "row-between" },
        h("label", { class: "switch", for: "disconnect" }, this.#cut, h("span", { class: "switch-track", "aria-hidden": "true" }), "Disconnect"),
        replay,
      ),
      h(
        "label",
        { class: "transport-choice small muted", title: "Switched with Exchange in the page header: this page's worker, or a deployment through its web door" },
        "Transport ",
        this.#transport,
      ),
      this.#stats,
    );
    this.#render();
  }

  /** Which link the session uses (chosen with Exchange in the header; shown here beside the faults it gets). */
  showTransport(kind: "worker" | "web door"): void {
    this.#transport.value = kind;
  }

  /** A new session: carry the current settings over to it. */
  attach(session: Session | undefined): void {
    this.#session = session;
    clearInterval(this.#timer);
    this.#cut.checked = false;
    if (session) {
      this.#apply();
      // The stats count frames, which tick on their own: refresh them a few times a second.
      this.#timer = setInterval(() => this.#loop.request(this.#draw), 250);
    }
    this.#loop.request(this.#draw);
  }

  /** The client's connection state changed. */
  state(state: ConnectionState): void {
    setClass(this.element, "is-down", state === "disconnected");
  }

  #apply(): void {
    const session = this.#session;
    const latencyMs = Number(this.#latency.value);
    const lossRate = Number(this.#loss.value) / 100;
    if (session) {
      session.faults.set({ latencyMs, lossRate });
      if (this.#cut.checked && !session.faults.isCut) session.faults.cut();
      if (!this.#cut.checked && session.faults.isCut) session.faults.restore();
    }
    this.#loop.request(this.#draw);
  }

  #render(): void {
    setText(this.#latencyOut, `${this.#latency.value} ms`);
    setText(this.#lossOut, `${this.#loss.value} %`);
    const stats = this.#session?.faults.stats;
    setText(this.#stats, stats ? `Fault injector: ${stats.forwarded} frames passed, ${stats.dropped} dropped` : "");
  }
}
