/**
 * Market: a live candlestick chart (one-second bars built from ticks) and the five-level book
 * of the chosen instrument. Bars are kept for every instrument, so switching is instant.
 */
import { CandlestickSeries, ColorType, createChart, type IChartApi, type IPriceLine, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import type { ConnectionState } from "../../lib/index.ts";
import type { OrderData, TickData } from "../../sim/object.ts";
import type { ColourScheme } from "./colours.ts";
import { FixedRows, h, setClass, setOptions, setText } from "./dom.ts";
import { decimalsOf, fixed } from "./format.ts";
import type { FrameLoop } from "./frame-loop.ts";
import type { Selection } from "./selection.ts";
import type { Store } from "./store.ts";

const BAR_SECONDS = 1;
const MAX_BARS = 1_800;

interface Bar {
  time: UTCTimestamp;
  open: number;
  high: number;
  low: number;
  close: number;
}

export class MarketView {
  readonly element: HTMLElement;
  /** The visitor clicked a price in the book. */
  onPrice: (price: number) => void = () => {};
  readonly #store: Store;
  readonly #selection: Selection;
  readonly #loop: FrameLoop;
  readonly #select: HTMLSelectElement;
  readonly #last: HTMLElement;
  readonly #change: HTMLElement;
  readonly #volume: HTMLElement;
  readonly #stale: HTMLElement;
  #colours = { up: "#26a69a", down: "#ef5350" };
  readonly #book = new FixedRows(10, 3);
  readonly #chartBox: HTMLElement;
  readonly #bars = new Map<string, Bar[]>();
  readonly #orderLines = new Map<string, IPriceLine>();
  #chart: IChartApi | undefined;
  #series: ISeriesApi<"Candlestick"> | undefined;
  /** Instrument whose bars the series holds; a different one means setData, not update. */
  #charted: string | undefined;
  /** Time of the last bar handed to the series. */
  #chartedTime = 0;
  readonly #drawTick = () => this.#renderTick();
  readonly #drawContracts = () => this.#renderContracts();
  readonly #drawOrders = () => this.#renderOrderLines();

  constructor(store: Store, selection: Selection, loop: FrameLoop) {
    this.#store = store;
    this.#selection = selection;
    this.#loop = loop;
    this.#select = h("select", {
      id: "market-symbol",
      name: "market-symbol",
      "aria-label": "Instrument",
      onchange: () => selection.set(this.#select.value),
    });
    this.#last = h("span", { class: "num last-price" }, "–");
    this.#change = h("span", { class: "num change" });
    this.#volume = h("span", { class: "num muted small" });
    this.#stale = h("span", { class: "stale-badge", title: "The link is down: this is the last price and book received, not the market now", hidden: true }, "stale: link down");
    this.#chartBox = h("div", { class: "chart", "aria-label": "Price chart, one-second candles", role: "img" });

    for (let i = 0; i < 10; i++) {
      const row = this.#book.rows[i]!;
      row.className = i < 5 ? "ask" : "bid";
      row.cells[0]!.textContent = i < 5 ? `ask ${5 - i}` : `bid ${i - 4}`;
      row.title = "Click to use this price in the order ticket";
    }
    const pick = (event: Event) => {
      const row = (event.target as Element).closest("tr");
      const price = Number(row?.dataset["price"]);
      if (price > 0) this.onPrice(price);
    };
    // Mouse only: keyboard users type the price (ten more tab stops would bury the ticket).
    this.#book.body.addEventListener("click", pick);

    this.element = h(
      "div",
      { class: "market" },
      h("div", { class: "quote" }, this.#select, this.#last, this.#stale, h("div", { class: "quote-stats" }, this.#change, this.#volume)),
      this.#chartBox,
      h(
        "table",
        { class: "grid book", "aria-label": "Order book, five levels" },
        h("thead", {}, h("tr", {}, h("th", {}, "level"), h("th", { class: "r" }, "price"), h("th", { class: "r" }, "volume"))),
        this.#book.body,
      ),
    );

    store.onChange((part, data) => {
      if (part === "tick") {
        if (data) this.#record(data as TickData);
        if (!data || (data as TickData).vtSymbol === selection.value) loop.request(this.#drawTick);
      } else if (part === "contract") loop.request(this.#drawContracts);
      else if (part === "order") loop.request(this.#drawOrders);
    });
    selection.onChange(() => {
      this.#select.value = selection.value;
      loop.request(this.#drawTick);
      loop.request(this.#drawOrders);
    });
  }

  /** Create the chart once the element is in the document (it measures its container). */
  mount(): void {
    this.#chart = createChart(this.#chartBox, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "transparent" }, textColor: "#9aa4b2", fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: "rgba(128,140,160,0.12)" }, horzLines: { color: "rgba(128,140,160,0.12)" } },
      timeScale: { timeVisible: true, secondsVisible: true, barSpacing: 6, rightOffset: 4 },
      rightPriceScale: { borderVisible: false },
      crosshair: { mode: 0 },
    });
    this.#series = this.#chart.addSeries(CandlestickSeries, { ...this.#candleColours(), borderVisible: false });
  }

  /** Rising and falling in the visitor's colours (the page's `--up` and `--down`). */
  setColours(_scheme: ColourScheme): void {
    const style = getComputedStyle(document.documentElement);
    this.#colours = { up: style.getPropertyValue("--up").trim() || "#26a69a", down: style.getPropertyValue("--down").trim() || "#ef5350" };
    this.#series?.applyOptions(this.#candleColours());
    for (const line of this.#orderLines.values()) this.#series?.removePriceLine(line);
    this.#orderLines.clear();
    this.#loop.request(this.#drawOrders);
  }

  #candleColours() {
    const { up, down } = this.#colours;
    return { upColor: up, downColor: down, wickUpColor: up, wickDownColor: down };
  }

  /** While the link is down the last price and book are not the market's: say so. */
  connection(state: ConnectionState): void {
    const stale = state === "disconnected";
    this.#stale.hidden = !stale;
    setClass(this.element, "stale", stale);
  }

  /** Forget bars (a new session). */
  clear(): void {
    this.#bars.clear();
    this.#charted = undefined;
    this.#series?.setData([]);
    for (const line of this.#orderLines.values()) this.#series?.removePriceLine(line);
    this.#orderLines.clear();
  }

  #record(tick: TickData): void {
    if (!(tick.lastPrice > 0)) return;
    let bars = this.#bars.get(tick.vtSymbol);
    if (!bars) this.#bars.set(tick.vtSymbol, (bars = []));
    // The chart shows UTC; shift so its axis reads the visitor's local time.
    const local = tick.datetime - new Date(tick.datetime).getTimezoneOffset() * 60_000;
    const time = (Math.floor(local / 1000 / BAR_SECONDS) * BAR_SECONDS) as UTCTimestamp;
    const last = bars[bars.length - 1];
    const price = tick.lastPrice;
    if (last && last.time === time) {
      last.high = Math.max(last.high, price);
      last.low = Math.min(last.low, price);
      last.close = price;
    } else if (!last || time > last.time) {
      bars.push({ time, open: last?.close ?? price, high: Math.max(price, last?.close ?? price), low: Math.min(price, last?.close ?? price), close: price });
      if (bars.length > MAX_BARS) bars.splice(0, bars.length - MAX_BARS);
    }
  }

  #renderContracts(): void {
    const options = [...this.#store.contracts.values()].map((c) => ({ value: c.vtSymbol, label: c.vtSymbol }));
    setOptions(this.#select, options);
    this.#select.value = this.#selection.value;
  }

  #renderTick(): void {
    const symbol = this.#selection.value;
    const tick = this.#store.ticks.get(symbol);
    const contract = this.#store.contracts.get(symbol);
    const decimals = decimalsOf(contract?.pricetick ?? 0.01);
    this.#renderChart(symbol);
    if (!tick) {
      setText(this.#last, "–");
      setText(this.#change, "");
      setText(this.#volume, "");
    } else {
      setText(this.#last, fixed(tick.lastPrice, decimals));
      const base = tick.preClose || tick.openPrice;
      const change = base ? tick.lastPrice - base : 0;
      setText(this.#change, base ? `${change >= 0 ? "+" : ""}${fixed(change, decimals)} (${((change / base) * 100).toFixed(2)}%)` : "");
      setClass(this.#change, "up", change > 0);
      setClass(this.#change, "down", change < 0);
      setText(this.#volume, `vol ${tick.volume}`);
    }

    const t = (tick ?? {}) as unknown as Record<string, number | undefined>;
    const levels = [5, 4, 3, 2, 1].map((n) => [t[`askPrice${n}`], t[`askVolume${n}`]] as const);
    levels.push(...[1, 2, 3, 4, 5].map((n) => [t[`bidPrice${n}`], t[`bidVolume${n}`]] as const));
    const maxVolume = Math.max(1, ...levels.map(([, v]) => v ?? 0));
    this.#book.rows.forEach((row, i) => {
      const [price, volume] = levels[i]!;
      const present = typeof price === "number" && price > 0;
      setText(row.cells[1]!, present ? fixed(price, decimals) : "–");
      setText(row.cells[2]!, present ? String(volume ?? 0) : "");
      row.dataset["price"] = present ? String(price) : "";
      row.style.setProperty("--depth", present ? `${((volume ?? 0) / maxVolume) * 100}%` : "0%");
    });
  }

  #renderChart(symbol: string): void {
    const series = this.#series;
    if (!series) return;
    const bars = this.#bars.get(symbol) ?? [];
    if (this.#charted !== symbol) {
      const tick = this.#store.contracts.get(symbol)?.pricetick ?? 0.01;
      series.applyOptions({ priceFormat: { type: "price", precision: decimalsOf(tick), minMove: tick } });
      series.setData(bars.map((b) => ({ ...b })));
      this.#charted = symbol;
    } else {
      // The last bar handed over may have grown; bars after it are new.
      let i = bars.length;
      while (i > 0 && bars[i - 1]!.time >= this.#chartedTime) i--;
      for (; i < bars.length; i++) series.update({ ...bars[i]! });
    }
    this.#chartedTime = bars[bars.length - 1]?.time ?? 0;
  }

  /** Horizontal lines at the prices of the visitor's active orders on the chosen instrument. */
  #renderOrderLines(): void {
    const series = this.#series;
    if (!series) return;
    const symbol = this.#selection.value;
    const wanted = new Map<string, OrderData>();
    for (const order of this.#store.activeOrders()) if (order.vtSymbol === symbol && order.price > 0) wanted.set(order.vtOrderId, order);
    for (const [id, line] of this.#orderLines) {
      if (wanted.has(id)) continue;
      series.removePriceLine(line);
      this.#orderLines.delete(id);
    }
    for (const [id, order] of wanted) {
      if (this.#orderLines.has(id)) continue;
      // Buying in the rising colour, selling in the falling one (red buys on a Chinese screen).
      const color = order.direction === "SHORT" ? this.#colours.down : this.#colours.up;
      this.#orderLines.set(id, series.createPriceLine({ price: order.price, color, lineWidth: 1, lineStyle: 2, axisLabelVisible: true, title: `${order.direction} ${order.volume - order.traded}` }));
    }
  }
}
