/**
 * Trade: the order ticket, the account, positions, active orders (with cancel) and trades, all
 * drawn from the store, which follows the broadcast. The ticket is a plain form: labelled fields
 * in tab order, Enter submits.
 */
import type { ConnectionState } from "../../lib/index.ts";
import type { CancelRequest, OrderData, OrderRequest, PositionData, TradeData } from "../../sim/object.ts";
import type { Direction, Exchange, Offset, OrderType } from "../../sim/constant.ts";
import { FixedRows, h, setClass, setOptions, setText } from "./dom.ts";
import { clockTime, decimalsOf, fixed, money } from "./format.ts";
import type { FrameLoop } from "./frame-loop.ts";
import type { Selection } from "./selection.ts";
import type { Store } from "./store.ts";

/** What the ticket and the cancel buttons need from the connection. */
export interface Trader {
  sendOrder(req: OrderRequest): Promise<string>;
  cancelOrder(req: CancelRequest): Promise<unknown>;
}

const DIRECTIONS: Direction[] = ["LONG", "SHORT"];
const OFFSETS: Offset[] = ["OPEN", "CLOSE", "CLOSETODAY", "CLOSEYESTERDAY", "NONE"];
const TYPES: OrderType[] = ["LIMIT", "MARKET", "FAK", "FOK", "STOP"];

const ORDER_ROWS = 8;
const POSITION_ROWS = 4;
const TRADE_ROWS = 40;

export class TradeView {
  readonly ticket: HTMLElement;
  readonly blotter: HTMLElement;
  #trader: Trader | undefined;
  readonly #store: Store;
  readonly #selection: Selection;
  readonly #form: HTMLFormElement;
  readonly #symbol: HTMLSelectElement;
  readonly #direction: HTMLSelectElement;
  readonly #offset: HTMLSelectElement;
  readonly #type: HTMLSelectElement;
  readonly #price: HTMLInputElement;
  readonly #volume: HTMLInputElement;
  readonly #submit: HTMLButtonElement;
  readonly #result: HTMLElement;
  readonly #idNote: HTMLElement;
  #names: { server: string; page: string } | undefined;
  /** The result line speaks of a failure of the link (UNAVAILABLE): cleared when it is back. */
  #linkError = false;
  readonly #account = new Map<string, HTMLElement>();
  readonly #orders = new FixedRows(ORDER_ROWS, 7);
  readonly #positions = new FixedRows(POSITION_ROWS, 6);
  readonly #trades = new FixedRows(TRADE_ROWS, 6);
  readonly #ordersCount: HTMLElement;
  readonly #tradesCount: HTMLElement;
  /** The order the ticket sent last: its fate is shown under the button. */
  #lastOrderId: string | undefined;
  #priceTouched = false;
  readonly #drawOrders = () => this.#renderOrders();
  readonly #drawTrades = () => this.#renderTrades();
  readonly #drawPositions = () => this.#renderPositions();
  readonly #drawAccount = () => this.#renderAccount();
  readonly #drawContracts = () => this.#renderContracts();

  constructor(store: Store, selection: Selection, loop: FrameLoop) {
    this.#store = store;
    this.#selection = selection;
    const field = (id: string, label: string, control: HTMLElement) => h("div", { class: "field" }, h("label", { for: id }, label), control);
    const select = (id: string, values: readonly string[]) => h("select", { id, name: id }, ...values.map((v) => h("option", { value: v }, v)));

    this.#symbol = h("select", { id: "ticket-symbol", name: "ticket-symbol", required: true, onchange: () => selection.set(this.#symbol.value) });
    this.#direction = select("ticket-direction", DIRECTIONS);
    this.#offset = select("ticket-offset", OFFSETS);
    this.#type = select("ticket-type", TYPES);
    this.#price = h("input", { id: "ticket-price", name: "ticket-price", type: "number", inputmode: "decimal", step: "any", min: 0, class: "num", oninput: () => (this.#priceTouched = true) });
    this.#volume = h("input", { id: "ticket-volume", name: "ticket-volume", type: "number", inputmode: "numeric", min: 1, step: 1, value: 1, required: true, class: "num" });
    this.#submit = h("button", { type: "submit", class: "primary", disabled: true }, "Send order");
    this.#result = h("p", { class: "ticket-result small", role: "status", "aria-live": "polite" }, "\u00a0");
    this.#idNote = h("p", { class: "id-note small muted" }, "\u00a0");
    this.#type.addEventListener("change", () => this.#syncType());
    this.#direction.addEventListener("change", () => this.#syncDirection());

    this.#form = h(
      "form",
      { class: "ticket-form", "aria-label": "Order ticket", onsubmit: (event: Event) => this.#send(event) },
      field("ticket-symbol", "Instrument", this.#symbol),
      h("div", { class: "field-pair" }, field("ticket-direction", "Direction", this.#direction), field("ticket-offset", "Offset", this.#offset)),
      h("div", { class: "field-pair" }, field("ticket-type", "Type", this.#type), field("ticket-price", "Price", this.#price)),
      h("div", { class: "field-pair" }, field("ticket-volume", "Volume", this.#volume), h("div", { class: "field submit" }, this.#submit)),
      this.#result,
      this.#idNote,
    );
    this.ticket = this.#form;

    const stat = (key: string, label: string) => {
      const value = h("dd", { class: "num" }, "–");
      this.#account.set(key, value);
      return h("div", {}, h("dt", {}, label), value);
    };
    this.#ordersCount = h("span", { class: "count num" });
    this.#tradesCount = h("span", { class: "count num" });
    this.#orders.rows.forEach((row) => {
      // "×" keeps the column narrow; the label says what it does and to which order.
      const cancel = h("button", { type: "button", class: "cancel", title: "Cancel this order" }, "×");
      row.cells[6]!.appendChild(cancel);
    });
    this.#orders.body.addEventListener("click", (event) => {
      const button = (event.target as Element).closest("button.cancel") as HTMLButtonElement | null;
      const id = button?.dataset["order"];
      if (button && id) this.#cancel(id, button);
    });
    const head = (...names: string[]) => h("thead", {}, h("tr", {}, ...names.map((n) => h("th", { class: /^(price|vol|pnl|fill|frozen|yd)/.test(n) ? "r" : "" }, n))));
    this.blotter = h(
      "div",
      { class: "blotter" },
      h("section", { "aria-labelledby": "account-title" }, h("h3", { id: "account-title" }, "Account"), h("dl", { class: "account" }, stat("balance", "Balance"), stat("available", "Available"), stat("margin", "Margin"), stat("frozen", "Frozen"), stat("pnl", "P&L"), stat("commission", "Fees"))),
      h(
        "section",
        { "aria-labelledby": "positions-title" },
        h("h3", { id: "positions-title" }, "Positions"),
        h("table", { class: "grid positions", "aria-labelledby": "positions-title" }, head("symbol", "side", "volume", "yd", "price", "pnl"), this.#positions.body),
      ),
      h(
        "section",
        { "aria-labelledby": "orders-title" },
        h("h3", { id: "orders-title" }, "Active orders ", this.#ordersCount),
        h("div", { class: "scroll orders-scroll" }, h("table", { class: "grid orders", "aria-labelledby": "orders-title" }, head("order", "symbol", "side", "price", "fill", "status", ""), this.#orders.body)),
      ),
      h(
        "section",
        { "aria-labelledby": "trades-title" },
        h("h3", { id: "trades-title" }, "Trades ", this.#tradesCount),
        h("div", { class: "scroll trades-scroll" }, h("table", { class: "grid trades", "aria-labelledby": "trades-title" }, head("time", "trade", "symbol", "side", "price", "vol"), this.#trades.body)),
      ),
    );

    store.onChange((part, data) => {
      if (part === "order") {
        loop.request(this.#drawOrders);
        if (data && (data as OrderData).vtOrderId === this.#lastOrderId) this.#showFate(data as OrderData);
      } else if (part === "trade") loop.request(this.#drawTrades);
      else if (part === "position") loop.request(this.#drawPositions);
      else if (part === "account") loop.request(this.#drawAccount);
      else if (part === "contract") loop.request(this.#drawContracts);
      else if (part === "tick" && !this.#priceTouched && (!data || (data as { vtSymbol?: string }).vtSymbol === selection.value)) this.#suggestPrice();
    });
    selection.onChange((value) => {
      this.#symbol.value = value;
      this.#priceTouched = false;
      this.#applyContract();
      this.#suggestPrice();
    });
  }

  /** Connect the ticket to a session (or detach it while none is running). */
  attach(trader: Trader | undefined): void {
    this.#trader = trader;
    this.#submit.disabled = !trader;
    this.#lastOrderId = undefined;
    setText(this.#result, "\u00a0");
  }

  /** The session's gateway names: the server's ("SIM", on the wire) and the page's RpcGateway's ("RPC", here). */
  setGatewayNames(names: { server: string; page: string } | undefined): void {
    this.#names = names;
    this.#explainIds(undefined);
  }

  /** The link's state: a "Not sent: UNAVAILABLE" line is stale once the link is back. */
  connection(state: ConnectionState): void {
    if (state === "connected" && this.#linkError) this.#say("\u00a0", "");
  }

  /** Put a price in the ticket (from the book). */
  usePrice(price: number): void {
    this.#price.value = String(price);
    this.#priceTouched = true;
    if (this.#type.value === "MARKET") this.#type.value = "LIMIT";
    this.#syncType();
    this.#price.focus();
  }

  async #send(event: Event): Promise<void> {
    event.preventDefault();
    const trader = this.#trader;
    const contract = this.#store.contracts.get(this.#symbol.value);
    if (!trader || !contract) return;
    const type = this.#type.value as OrderType;
    const volume = Number(this.#volume.value);
    const price = Number(this.#price.value);
    if (!(volume > 0)) return this.#say("Volume must be positive", "bad");
    if (type !== "MARKET" && !(price > 0)) return this.#say("Price must be positive", "bad");
    const req: OrderRequest = {
      symbol: contract.symbol,
      exchange: contract.exchange as Exchange,
      direction: this.#direction.value as Direction,
      offset: this.#offset.value as Offset,
      type,
      volume,
      price: type === "MARKET" ? 0 : price,
      reference: "playground",
    };
    this.#lastOrderId = undefined; // the line now speaks for the new order only
    this.#say(`Sending ${req.direction} ${volume} ${contract.vtSymbol}…`, "");
    try {
      const vtOrderId = await trader.sendOrder(req);
      this.#lastOrderId = vtOrderId;
      this.#explainIds(vtOrderId);
      // The order's first event usually beats the reply (broadcast before the handler returns).
      const known = this.#store.orders.get(vtOrderId);
      if (known) this.#showFate(known);
      else this.#say(`Sent ${vtOrderId}`, "");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A request may be lost on its way (not sent) or its reply on the way back (sent): a timeout cannot tell which.
      if (codeOf(error) === "TIMEOUT") this.#say("No reply in time (TIMEOUT): the order may still have reached the exchange; see Active orders and Trades", "bad");
      else this.#say(`Not sent: ${message}`, "bad", codeOf(error) === "UNAVAILABLE");
    }
  }

  async #cancel(vtOrderId: string, button: HTMLButtonElement): Promise<void> {
    const trader = this.#trader;
    const order = this.#store.orders.get(vtOrderId);
    if (!trader || !order) return;
    button.disabled = true;
    try {
      const result = (await trader.cancelOrder({ orderid: order.orderid, symbol: order.symbol, exchange: order.exchange })) as { accepted?: boolean; reason?: string } | undefined;
      if (result && result.accepted === false) this.#say(`Cancel of ${vtOrderId} refused: ${result.reason ?? ""}`, "bad");
    } catch (error) {
      this.#say(`Cancel failed: ${error instanceof Error ? error.message : String(error)}`, "bad", codeOf(error) === "UNAVAILABLE");
    } finally {
      button.disabled = false;
    }
  }

  #showFate(order: OrderData): void {
    const tone = order.status === "REJECTED" ? "bad" : order.status === "ALLTRADED" ? "good" : "";
    const why = order.statusMsg ? `: ${order.statusMsg}` : "";
    this.#say(`${order.vtOrderId} ${order.status} ${order.traded}/${order.volume}${why}`, tone);
  }

  /**
   * `RPC.7` here and `eOrder.SIM.7` on the wire are the same order: the page's RpcGateway hands
   * out ids under its own name. Said once, under the ticket, with the last order's numbers.
   */
  #explainIds(vtOrderId: string | undefined): void {
    const names = this.#names;
    if (!names) return setText(this.#idNote, "\u00a0");
    const n = vtOrderId?.slice(names.page.length + 1) || "n";
    setText(
      this.#idNote,
      `${names.page}.${n} here = ${names.server}.${n} on the wire (eOrder.${names.server}.${n}): the page's RpcGateway "${names.page}" renames the server's gateway "${names.server}".`,
    );
  }

  #say(text: string, tone: "" | "good" | "bad", linkError = false): void {
    this.#linkError = linkError;
    setText(this.#result, text);
    setClass(this.#result, "good", tone === "good");
    setClass(this.#result, "bad", tone === "bad");
  }

  #syncType(): void {
    const market = this.#type.value === "MARKET";
    this.#price.disabled = market;
    this.#price.required = !market;
  }

  #syncDirection(): void {
    this.#priceTouched = false;
    this.#suggestPrice();
  }

  #applyContract(): void {
    const contract = this.#store.contracts.get(this.#symbol.value);
    if (!contract) return;
    this.#price.step = String(contract.pricetick);
    this.#volume.step = String(contract.minVolume);
    this.#volume.min = String(contract.minVolume);
  }

  /** Until the visitor types a price, offer the side they would cross: ask to buy, bid to sell. */
  #suggestPrice(): void {
    const tick = this.#store.ticks.get(this.#symbol.value);
    if (!tick) return;
    const contract = this.#store.contracts.get(tick.vtSymbol);
    const price = this.#direction.value === "SHORT" ? tick.bidPrice1 : tick.askPrice1;
    if (price > 0) {
      const text = fixed(price, decimalsOf(contract?.pricetick ?? 0.01));
      if (this.#price.value !== text && document.activeElement !== this.#price) this.#price.value = text;
    }
  }

  #renderContracts(): void {
    setOptions(this.#symbol, [...this.#store.contracts.values()].map((c) => ({ value: c.vtSymbol, label: c.vtSymbol })));
    if (this.#selection.value) this.#symbol.value = this.#selection.value;
    this.#applyContract();
  }

  #decimals(vtSymbol: string): number {
    return decimalsOf(this.#store.contracts.get(vtSymbol)?.pricetick ?? 0.01);
  }

  #renderOrders(): void {
    const active = this.#store.activeOrders();
    setText(this.#ordersCount, String(active.length));
    this.#orders.fill(active, (cells, o: OrderData, row) => {
      setText(cells[0]!, o.vtOrderId);
      setText(cells[1]!, o.symbol);
      setText(cells[2]!, `${o.direction} ${o.offset}`);
      cells[2]!.title = `${o.direction} ${o.offset} ${o.type}`;
      setText(cells[3]!, o.type === "MARKET" ? "market" : fixed(o.price, this.#decimals(o.vtSymbol)));
      setText(cells[4]!, `${o.traded}/${o.volume}`);
      setText(cells[5]!, o.status);
      row.title = `${o.vtOrderId} ${o.direction} ${o.offset} ${o.type} ${o.status}`;
      const button = cells[6]!.firstElementChild as HTMLButtonElement;
      if (button.dataset["order"] !== o.vtOrderId) {
        button.dataset["order"] = o.vtOrderId;
        button.setAttribute("aria-label", `Cancel ${o.vtOrderId}`);
      }
    });
    // Rows hidden by "empty" keep a stale id: clear it so a hidden button never cancels anything.
    this.#orders.rows.forEach((row, i) => {
      if (i >= active.length) delete (row.cells[6]!.firstElementChild as HTMLElement).dataset["order"];
    });
  }

  #renderTrades(): void {
    const trades = this.#store.trades;
    setText(this.#tradesCount, String(trades.length));
    this.#trades.fill(trades.slice(0, TRADE_ROWS), (cells, t: TradeData) => {
      setText(cells[0]!, clockTime(t.datetime));
      cells[0]!.title = clockTime(t.datetime, true);
      setText(cells[1]!, t.vtTradeId);
      setText(cells[2]!, t.symbol);
      setText(cells[3]!, `${t.direction} ${t.offset}`);
      setText(cells[4]!, fixed(t.price, this.#decimals(t.vtSymbol)));
      setText(cells[5]!, String(t.volume));
    });
  }

  #renderPositions(): void {
    const held = [...this.#store.positions.values()].filter((p) => p.volume !== 0 || p.frozen !== 0);
    this.#positions.fill(held, (cells, p: PositionData) => {
      setText(cells[0]!, p.symbol);
      setText(cells[1]!, p.direction);
      setText(cells[2]!, String(p.volume));
      setText(cells[3]!, String(p.ydVolume));
      setText(cells[4]!, fixed(p.price, this.#decimals(p.vtSymbol) + 1));
      setText(cells[5]!, money(p.pnl));
      setClass(cells[5]!, "up", p.pnl > 0);
      setClass(cells[5]!, "down", p.pnl < 0);
    });
  }

  #renderAccount(): void {
    const account = [...this.#store.accounts.values()][0];
    const set = (key: string, value: number | undefined) => setText(this.#account.get(key)!, money(value));
    set("balance", account?.balance);
    set("available", account?.available);
    set("margin", account?.margin);
    set("frozen", account?.frozen);
    set("commission", account?.commission);
    const pnl = account ? account.closeProfit + account.holdingProfit : undefined;
    set("pnl", pnl);
    const pnlCell = this.#account.get("pnl")!;
    setClass(pnlCell, "up", (pnl ?? 0) > 0);
    setClass(pnlCell, "down", (pnl ?? 0) < 0);
  }
}

/** The RpcError code of a failed call, if it is one. */
function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
