/**
 * Learn: short snippets the visitor edits and runs against the live in-page server. The code run
 * is the text in the editor, typed or picked by the visitor in their own browser; nothing that
 * arrives over the wire is ever evaluated.
 */
import type { RpcClient, TopicHandler } from "../../lib/index.ts";
import { StrategyContext, type RpcGateway } from "../../sim/index.ts";
import { h, setText } from "./dom.ts";
import { preview } from "./format.ts";
import { SNIPPETS, type Snippet } from "./snippets.ts";

/** What a run can reach: the session's client and gateway, the server's gateway name, the chosen symbol. */
export interface LearnContext {
  client: RpcClient;
  gateway: RpcGateway;
  gatewayName: string;
  symbol: string;
}

const MAX_LINES = 300;
/** The names a snippet can use (documented in snippets.ts). */
const SCOPE = ["client", "gateway", "gatewayName", "symbol", "print", "subscribe", "onStop", "sleep", "stop", "signal", "StrategyContext"] as const;
type SnippetBody = (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => SnippetBody;

export class LearnPanel {
  readonly element: HTMLElement;
  readonly #context: () => LearnContext | undefined;
  readonly #editor: HTMLTextAreaElement;
  readonly #blurb: HTMLElement;
  readonly #output: HTMLElement;
  readonly #run: HTMLButtonElement;
  readonly #stop: HTMLButtonElement;
  readonly #tabs: HTMLButtonElement[];
  readonly #lines: string[] = [];
  #current: { controller: AbortController; undo: Array<() => void>; live: boolean } | undefined;

  constructor(context: () => LearnContext | undefined) {
    this.#context = context;
    this.#editor = h("textarea", { id: "learn-code", name: "learn-code", spellcheck: "false", autocomplete: "off", rows: 16, "aria-describedby": "learn-help" });
    this.#editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        void this.run();
      }
    });
    this.#blurb = h("p", { class: "blurb" });
    this.#output = h("pre", { class: "learn-output", role: "log", "aria-live": "polite", "aria-label": "Snippet output" });
    this.#run = h("button", { type: "button", class: "primary", onclick: () => void this.run() }, "Run");
    this.#stop = h("button", { type: "button", disabled: true, onclick: () => this.stop("stopped") }, "Stop");
    this.#tabs = SNIPPETS.map((snippet) =>
      h("button", { type: "button", role: "tab", "aria-selected": "false", "data-snippet": snippet.id, onclick: () => this.show(snippet) }, snippet.title),
    );
    this.element = h(
      "div",
      { class: "learn-body" },
      h("div", { class: "tabs", role: "tablist", "aria-label": "Examples" }, ...this.#tabs),
      this.#blurb,
      h("label", { for: "learn-code", class: "small muted" }, "Code (edit freely; Ctrl+Enter runs)"),
      this.#editor,
      h("p", { id: "learn-help", class: "small muted" }, `In scope: ${SCOPE.join(", ")}.`),
      h("div", { class: "row" }, this.#run, this.#stop, h("button", { type: "button", onclick: () => this.#clearOutput() }, "Clear")),
      this.#output,
    );
    this.show(SNIPPETS[0]!);
  }

  show(snippet: Snippet): void {
    for (const tab of this.#tabs) tab.setAttribute("aria-selected", String(tab.dataset["snippet"] === snippet.id));
    setText(this.#blurb, snippet.blurb);
    this.#editor.value = snippet.code;
  }

  /** Run the editor's text. A previous run is stopped first. */
  async run(): Promise<void> {
    this.stop();
    const context = this.#context();
    if (!context) return this.#print("The exchange is not running yet");
    let body: SnippetBody;
    try {
      body = new AsyncFunction(...SCOPE, this.#editor.value);
    } catch (error) {
      return this.#print(`Syntax error: ${error instanceof Error ? error.message : String(error)}`);
    }
    const run = { controller: new AbortController(), undo: [] as Array<() => void>, live: false };
    this.#current = run;
    this.#running(true);
    const { signal } = run.controller;
    const subscribe = (prefix: string, handler: TopicHandler) => {
      if (signal.aborted) return () => {};
      const guarded: TopicHandler = (topic, data) => {
        if (signal.aborted) return;
        Promise.resolve()
          .then(() => handler(topic, data))
          .catch((error: unknown) => this.#print(`Handler error: ${describeError(error)}`));
      };
      const off = context.client.subscribe(prefix, guarded);
      run.undo.push(off);
      run.live = true;
      return off;
    };
    const onStop = (fn: () => void) => {
      run.undo.push(fn);
      run.live = true;
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new DOMException("Stopped", "AbortError"));
        }, { once: true });
      });
    const print = (...values: unknown[]) => {
      if (!signal.aborted) this.#print(values.map((v) => (typeof v === "string" ? v : preview(v, 400))).join(" "));
    };
    try {
      const values: Record<(typeof SCOPE)[number], unknown> = {
        client: context.client,
        gateway: context.gateway,
        gatewayName: context.gatewayName,
        symbol: context.symbol,
        print,
        subscribe,
        onStop,
        sleep,
        stop: () => this.stop("done"),
        signal,
        StrategyContext,
      };
      await body(...SCOPE.map((name) => values[name]));
      // A run that left subscriptions or a strategy running goes on until Stop; others are over.
      if (this.#current === run && !run.live) this.stop("done");
    } catch (error) {
      if (!signal.aborted) {
        this.#print(`Error: ${describeError(error)}`);
        this.stop();
      }
    }
  }

  /** End the current run: undo its subscriptions, abort its sleeps. */
  stop(reason?: string): void {
    const run = this.#current;
    if (!run) return;
    this.#current = undefined;
    for (const undo of run.undo) {
      try {
        undo();
      } catch (error) {
        this.#print(`Error while stopping: ${describeError(error)}`);
      }
    }
    run.controller.abort();
    this.#running(false);
    if (reason) this.#print(`— ${reason}`);
  }

  #running(on: boolean): void {
    // A disabled button drops focus to the page: hand it to Run instead.
    if (!on && document.activeElement === this.#stop) this.#run.focus();
    this.#stop.disabled = !on;
  }

  #print(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > MAX_LINES) this.#lines.splice(0, this.#lines.length - MAX_LINES);
    this.#output.textContent = this.#lines.join("\n");
    this.#output.scrollTop = this.#output.scrollHeight;
  }

  #clearOutput(): void {
    this.#lines.length = 0;
    this.#output.textContent = "";
  }
}

/** "RpcError [NOT_FOUND]: …" for an RpcError (its toString carries the code), "TypeError: …" for others. */
function describeError(error: unknown): string {
  return String(error);
}
