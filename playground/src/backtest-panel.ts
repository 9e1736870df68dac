/**
 * Backtest: the MA-crossover strategy (its source editable, its parameters in a form) run on the
 * virtual clock by sim/sweep's runner in a dedicated worker, reached through comlink — the page
 * awaits `runner.run(job, proxy(onProgress))`. Then the equity curve and drawdown, the trades
 * marked on the price chart, the trades' table and VeighNa's statistics.
 */
import { proxy, wrap, type Remote } from "comlink";
import {
  AreaSeries, ColorType, createChart, createSeriesMarkers, LineSeries, type IChartApi, type ISeriesApi, type ISeriesMarkersPluginApi,
  type SeriesMarker, type Time, type UTCTimestamp,
} from "lightweight-charts";
import { DEFAULT_INSTRUMENTS } from "../../sim/backtest.ts";
import type { BacktestStatistics } from "../../sim/statistics.ts";
import type { BacktestJob, JobResult } from "../../sim/sweep/job.ts";
import type { BacktestRunner } from "../../sim/sweep/worker.ts";
import { MA_CROSS_SOURCE, moduleUrl, STRATEGY_EXPORT } from "./backtest-strategy.ts";
import { h, setText } from "./dom.ts";
import { money } from "./format.ts";

const DAY_MS = 86_400_000;
const MAX_TRADE_ROWS = 500;

/** VeighNa's names (calculate_statistics' keys) for ours. */
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface Charts {
  price: IChartApi;
  priceLine: ISeriesApi<"Line">;
  markers: ISeriesMarkersPluginApi<Time>;
  equity: IChartApi;
  balance: ISeriesApi<"Line">;
  drawdown: ISeriesApi<"Area">;
}

export class BacktestPanel {
  readonly element: HTMLElement;
  readonly #form: HTMLFormElement;
  readonly #source: HTMLTextAreaElement;
  readonly #run: HTMLButtonElement;
  readonly #progress: HTMLProgressElement;
  readonly #status: HTMLElement;
  readonly #results: HTMLElement;
  readonly #stats: HTMLTableSectionElement;
  readonly #trades: HTMLTableSectionElement;
  readonly #priceBox: HTMLElement;
  readonly #equityBox: HTMLElement;
  #worker: Worker | undefined;
  #runner: Remote<BacktestRunner> | undefined;
  #charts: Charts | undefined;
  #running = false;
  #runs = 0;

  constructor() {
    const field = (label: string, input: HTMLElement) => h("label", { class: "bt-field" }, h("span", { class: "muted small" }, label), input);
    const num = (name: string, value: number, attrs: Record<string, string | number> = {}) =>
      h("input", { id: `bt-${name}`, name, type: "number", value, required: true, inputmode: "decimal", ...attrs });
    const symbol = h("select", { id: "bt-symbol", name: "symbol" },
      ...DEFAULT_INSTRUMENTS.map((i) => h("option", { value: `${i.symbol}.${i.exchange}` }, `${i.symbol}.${i.exchange}`)));
    this.#source = h("textarea", { id: "bt-source", name: "source", spellcheck: "false", autocomplete: "off", rows: 14, "aria-label": "Strategy source (JavaScript)" });
    this.#source.value = MA_CROSS_SOURCE;
    this.#run = h("button", { type: "submit", class: "primary", id: "bt-run" }, "Run backtest");
    this.#progress = h("progress", { id: "bt-progress", max: 1, value: 0, "aria-label": "Backtest progress" });
    this.#status = h("span", { id: "bt-status", class: "small muted", role: "status", "aria-live": "polite" }, "Not run yet");
    this.#form = h(
      "form",
      { class: "bt-form", id: "bt-form" },
      h("div", { class: "bt-fields" },
        field("Symbol", symbol),
        field("Fast", num("fast", 5, { min: 1, step: 1 })),
        field("Slow", num("slow", 20, { min: 2, step: 1 })),
        field("Volume", num("volume", 1, { min: 0.001, step: "any" })),
        field("Days", num("days", 3, { min: 0.01, max: 60, step: "any" })),
        field("Seed", num("seed", 42, { min: 0, step: 1 })),
      ),
      h("details", { class: "bt-code" },
        h("summary", { class: "small" }, "Strategy source (edit freely; it runs in the backtest worker)"),
        this.#source,
        h("button", { type: "button", class: "small", onclick: () => { this.#source.value = MA_CROSS_SOURCE; } }, "Reset source")),
      h("div", { class: "bt-actions" }, this.#run, this.#progress, this.#status),
    );
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run();
    });
    this.#source.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.#form.requestSubmit();
      }
    });
    this.#stats = h("tbody");
    this.#trades = h("tbody");
    this.#priceBox = h("div", { class: "bt-chart", id: "bt-price", role: "img", "aria-label": "Price with the strategy's trades" });
    this.#equityBox = h("div", { class: "bt-chart", id: "bt-equity", role: "img", "aria-label": "Equity (balance) and drawdown" });
    this.#results = h(
      "div",
      { class: "bt-results", hidden: true },
      h("div", { class: "bt-charts" },
        h("figure", {}, h("figcaption", { class: "small muted" }, "Price and trades (▲ buy, ▼ sell)"), this.#priceBox),
        h("figure", {}, h("figcaption", { class: "small muted" }, "Balance and drawdown"), this.#equityBox)),
      h("div", { class: "bt-tables" },
        h("div", { class: "bt-scroll" }, h("table", { class: "bt-stats num" }, h("caption", { class: "small muted" }, "Statistics (VeighNa's names)"), this.#stats)),
        h("div", { class: "bt-scroll" }, h("table", { class: "bt-trades num" },
          h("caption", { class: "small muted" }, "Trades (times UTC, as on the charts)"),
          h("thead", {}, h("tr", {}, ...["time", "direction", "offset", "price", "volume"].map((c) => h("th", { scope: "col" }, c)))),
          this.#trades))),
    );
    this.element = h("div", { class: "bt-body" }, this.#form, this.#results);
  }

  /** Run the form's backtest in the worker (started on first use). */
  async run(): Promise<void> {
    if (this.#running || !this.#form.reportValidity()) return;
    const value = (name: string) => Number((this.#form.elements.namedItem(name) as HTMLInputElement).value);
    const job: BacktestJob = {
      strategy: { module: moduleUrl(this.#source.value), export: STRATEGY_EXPORT },
      params: { fast: value("fast"), slow: value("slow"), volume: value("volume") },
      vtSymbol: (this.#form.elements.namedItem("symbol") as HTMLSelectElement).value,
      durationMs: Math.round(value("days") * DAY_MS),
      backtest: { seed: value("seed") },
      detail: true,
    };
    this.#running = true;
    this.#run.disabled = true;
    this.#progress.value = 0;
    setText(this.#status, "Running…");
    this.element.dataset["state"] = "running";
    const started = performance.now();
    try {
      let finished = false;
      const result = await this.#remote().run(job, proxy((f: number) => {
        // Progress travels on its own channel and may arrive after the result: never go back.
        if (finished || f < this.#progress.value) return;
        this.#progress.value = f;
        setText(this.#status, `Running… ${Math.floor(f * 100)} %`);
      }));
      finished = true;
      if (result.error !== undefined) throw new Error(result.error);
      this.#progress.value = 1;
      setText(this.#status, `${result.ticks.toLocaleString("en-US")} ticks, ${result.tradeCount} trades in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      this.#show(result);
      this.element.dataset["state"] = "done";
    } catch (error) {
      setText(this.#status, `Failed: ${error instanceof Error ? error.message : String(error)}`);
      this.element.dataset["state"] = "failed";
      // The charts and tables of an earlier run would read as this one's.
      this.#results.hidden = true;
    } finally {
      this.element.dataset["runs"] = String(++this.#runs);
      this.#running = false;
      this.#run.disabled = false;
    }
  }

  #remote(): Remote<BacktestRunner> {
    if (!this.#runner) {
      this.#worker = new Worker(new URL("./backtest-worker.ts", import.meta.url), { type: "module", name: "tradewire-backtest" });
      this.#runner = wrap<BacktestRunner>(this.#worker);
    }
    return this.#runner;
  }

  #show(result: JobResult): void {
    this.#results.hidden = false;
    const detail = result.detail!;
    this.#showStats(result.statistics!);
    // Trades, newest last; the table keeps the first MAX_TRADE_ROWS.
    this.#trades.replaceChildren(...detail.trades.slice(0, MAX_TRADE_ROWS).map((t) =>
      h("tr", { "data-trade": t.vtTradeId },
        h("td", { title: new Date(t.datetime).toISOString() }, new Date(t.datetime).toISOString().slice(5, 19).replace("T", " ")),
        h("td", { class: t.direction === "LONG" ? "up" : "down" }, t.direction), h("td", {}, t.offset), h("td", {}, t.price), h("td", {}, t.volume))));
    this.#trades.parentElement!.dataset["total"] = String(detail.trades.length);

    const charts = this.#chartsMounted();
    const sec = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
    // One point per second at most (the curve is minute by minute; keep times strictly rising).
    const points = detail.equity.filter((p, i, all) => i === 0 || sec(p.time) > sec(all[i - 1]!.time));
    charts.priceLine.setData(points.map((p) => ({ time: sec(p.time), value: p.price })));
    charts.balance.setData(points.map((p) => ({ time: sec(p.time), value: p.balance })));
    charts.drawdown.setData(points.map((p) => ({ time: sec(p.time), value: p.drawdown })));
    // A trade is marked on the curve's first point at or after it (the minute it falls in).
    const markers: Array<SeriesMarker<Time>> = detail.trades.map((t) => {
      let lo = 0;
      let hi = points.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (points[mid]!.time < t.datetime) lo = mid + 1;
        else hi = mid;
      }
      const buy = t.direction === "LONG";
      return { time: sec(points[lo]?.time ?? t.datetime), position: buy ? "belowBar" : "aboveBar", shape: buy ? "arrowUp" : "arrowDown", color: buy ? "#26a69a" : "#ef5350", size: 1 };
    });
    charts.markers.setMarkers(markers);
    this.#priceBox.dataset["markers"] = String(markers.length);
    charts.price.timeScale().fitContent();
    charts.equity.timeScale().fitContent();
  }

  /** Show a run whole: on every resize of a chart's box (the first layout, a narrower window). */
  #fitOnResize(box: HTMLElement, chart: IChartApi): void {
    new ResizeObserver(() => requestAnimationFrame(() => chart.timeScale().fitContent())).observe(box);
  }

  #showStats(stats: BacktestStatistics): void {
    const rows = Object.entries(stats).map(([name, v]) => {
      const text = typeof v === "number" ? (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 ? money(v) : v.toFixed(4)) : String(v);
      return h("tr", { "data-stat": snake(name), "data-value": String(v) }, h("th", { scope: "row" }, snake(name)), h("td", {}, text));
    });
    this.#stats.replaceChildren(...rows);
  }

  #chartsMounted(): Charts {
    if (this.#charts) return this.#charts;
    const options = {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#9aa4b2", fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: "rgba(128,140,160,0.12)" }, horzLines: { color: "rgba(128,140,160,0.12)" } },
      // A day is 1440 one-minute points: let a run fit the width (the default minimum spacing is 0.5 px).
      timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 },
      rightPriceScale: { borderVisible: false },
    } as const;
    const price = createChart(this.#priceBox, options);
    const priceLine = price.addSeries(LineSeries, { color: "#4c9aff", lineWidth: 1, priceLineVisible: false });
    const equity = createChart(this.#equityBox, options);
    const balance = equity.addSeries(LineSeries, { color: "#e0b040", lineWidth: 2, priceLineVisible: false, title: "balance" });
    const drawdown = equity.addSeries(AreaSeries, {
      lineColor: "#ef5350", topColor: "rgba(239,83,80,0.05)", bottomColor: "rgba(239,83,80,0.4)", lineWidth: 1, priceLineVisible: false, title: "drawdown",
    }, 1);
    this.#fitOnResize(this.#priceBox, price);
    this.#fitOnResize(this.#equityBox, equity);
    this.#charts = { price, priceLine, markers: createSeriesMarkers(priceLine, []), equity, balance, drawdown };
    return this.#charts;
  }
}
