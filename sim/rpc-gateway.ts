/**
 * The client-side gateway of an RpcService (VeighNa's RpcGateway): to the code above it, one more
 * gateway. On connect it loads contracts, accounts, positions, orders and trades, logging each
 * step, then follows the broadcast. Data is relabelled with this gateway's name, so the order ids
 * it returns and reports carry its own name.
 */
import type { RpcClient } from "../lib/index.ts";
import type { EventEngine } from "./event.ts";
import { EVENT_ACCOUNT, EVENT_CONTRACT, EVENT_LOG, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, EVENT_TRADE } from "./event.ts";
import { GatewayEvents, LogLevel, type Gateway } from "./gateway.ts";
import {
  withGatewayName,
  type AccountData, type BarData, type BaseData, type CancelRequest, type CancelResult, type ContractData, type HistoryRequest,
  type LogData, type OrderData, type OrderRequest, type PositionData, type SubscribeRequest, type TickData, type TradeData,
} from "./object.ts";

export interface RpcGatewayOptions {
  client: RpcClient;
  eventEngine: EventEngine;
  /** Default "RPC". */
  gatewayName?: string;
  /**
   * The server-side gateway to trade through. When set, only its orders, trades, positions and
   * accounts are followed (one account of a shared simulator). Default: route each request by
   * the contract's gateway, as VeighNa does, and follow everything; `connect` then refuses a
   * server with several accounts (their positions and orders would mix under one name).
   */
  remoteGateway?: string;
  /** Clock for log times. Default `Date.now`. */
  now?: () => number;
  /** Wait before trying again a reload that failed (a call lost or timed out). Default 1000 ms. */
  reloadRetryMs?: number;
}

type Kind = "tick" | "order" | "trade" | "position" | "account" | "contract";

export class RpcGateway implements Gateway {
  readonly gatewayName: string;
  readonly eventEngine: EventEngine;
  readonly client: RpcClient;
  readonly remoteGateway: string;
  readonly #on: GatewayEvents;
  /** vtSymbol → the server-side gateway that owns it ("" when several do: the service decides). */
  readonly #symbolGateway = new Map<string, string>();
  /** Server-side gateway names seen (contracts, accounts), to cut them off the order ids. */
  readonly #remoteNames = new Set<string>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #tickTopics = new Set<string>();
  /** Broadcasts that arrive while the initial load runs, applied after it (they are newer). */
  #buffer: Array<() => void> | undefined;
  #connected = false;
  /** The load under way, if any; a reload asked for meanwhile runs once after it. */
  #loading: Promise<void> | undefined;
  #reloadAgain = false;
  readonly #reloadRetryMs: number;
  /** The wait before a retry, cut short by close(). */
  #retryWait: { timer: ReturnType<typeof setTimeout>; done: () => void } | undefined;

  constructor(options: RpcGatewayOptions) {
    this.client = options.client;
    this.eventEngine = options.eventEngine;
    this.gatewayName = options.gatewayName ?? "RPC";
    this.remoteGateway = options.remoteGateway ?? "";
    const now = options.now ?? (() => Date.now());
    this.#reloadRetryMs = options.reloadRetryMs ?? 1000;
    this.#on = new GatewayEvents(this.eventEngine, this.gatewayName, now);
  }

  async connect(_setting: Record<string, unknown> = {}): Promise<void> {
    if (this.#connected) return;
    this.#connected = true;
    // Following one account, orders and accounts come on its own topics (`eOrder.SIM.`).
    const own = this.remoteGateway ? `${this.remoteGateway}.` : "";
    this.#follow(EVENT_ORDER + own, "order");
    this.#follow(EVENT_TRADE, "trade");
    this.#follow(EVENT_POSITION, "position");
    this.#follow(EVENT_ACCOUNT + own, "account");
    this.#follow(EVENT_CONTRACT, "contract");
    this.#unsubscribe.push(this.client.subscribe(EVENT_LOG, (_topic, data) => this.#apply("log", data)));
    // After a lost link, a lost event or a server restart, load everything again: what was
    // broadcast meanwhile is gone. Ticks need nothing: the next one replaces a lost one.
    let lost = false;
    this.#unsubscribe.push(
      this.client.on("disconnected", (reason) => {
        lost = true;
        this.#on.log(`Server disconnected: ${reason}`, LogLevel.WARNING);
      }),
      this.client.on("connected", () => {
        if (!lost) return;
        lost = false;
        this.#reload();
      }),
      this.client.on("gap", ({ stream, missed }) => {
        if (lost || !STATE_STREAMS.some((prefix) => stream.startsWith(prefix) || prefix.startsWith(stream))) return;
        this.#on.log(`${missed ?? "Some"} event(s) lost on ${stream || "every topic"}: reloading`, LogLevel.WARNING);
        this.#reload();
      }),
      this.client.on("restart", () => {
        if (lost) return; // reloaded when the connection is back
        this.#on.log("Server restarted: reloading", LogLevel.WARNING);
        this.#reload();
      }),
    );
    try {
      await this.client.start();
      if (!this.remoteGateway) await this.#checkSingleAccount();
      // Where the event streams stand first, then the state: a loss after this point is reported.
      await this.client.synced();
      this.#on.log("Server connected, loading initial data");
      await this.#reload(true);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Several accounts on the server and none chosen: refuse, rather than mix them under one name. */
  async #checkSingleAccount(): Promise<void> {
    const accounts = await this.client.call<AccountData[]>("getAllAccounts");
    const names = [...new Set(accounts.map((a) => a.gatewayName))];
    if (names.length > 1) {
      throw new RangeError(`remoteGateway is required: the server has several accounts (${names.join(", ")})`);
    }
  }

  /** True from a reported loss (or outage) until the reload after it is done. */
  get stale(): boolean {
    return this.#loading !== undefined;
  }

  /** Resolves once no reload is under way or asked for: the gateway's state is the server's again. */
  async whenFresh(): Promise<void> {
    while (this.#loading) await this.#loading.catch(() => {});
  }

  /**
   * Load again, once, after the load under way (if any): a reload asked for during a load runs
   * after it. A reload that fails (a call lost) is tried again until it succeeds or the gateway
   * closes; only the first load, in connect(), fails outright.
   */
  #reload(initial = false): Promise<void> {
    if (this.#loading) {
      this.#reloadAgain = true;
      return this.#loading;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          this.#reloadAgain = false;
          try {
            await this.#load();
          } catch (error) {
            if (initial || !this.#connected) throw error;
            await this.#waitToRetry();
            this.#reloadAgain = this.#connected;
          }
        } while (this.#reloadAgain);
      } finally {
        this.#loading = undefined;
      }
    };
    const loading = run();
    this.#loading = loading;
    loading.catch(() => {}); // reported by #load's log; connect() awaits the first one itself
    return loading;
  }

  /** Load contracts, accounts, positions, orders and trades, logging each step (VeighNa's `query_all`). */
  async #load(): Promise<void> {
    this.#buffer = [];
    try {
      const contracts = await this.client.call<ContractData[]>("getAllContracts");
      for (const c of contracts) {
        const owner = this.#symbolGateway.get(c.vtSymbol);
        this.#symbolGateway.set(c.vtSymbol, owner === undefined || owner === c.gatewayName ? c.gatewayName : "");
        this.#remoteNames.add(c.gatewayName);
        this.#emit("contract", c);
      }
      this.#on.log("Contracts loaded");
      for (const a of await this.client.call<AccountData[]>("getAllAccounts")) {
        this.#remoteNames.add(a.gatewayName);
        this.#apply("account", a, true);
      }
      this.#on.log("Accounts loaded");
      // Streamed: a long trading day's orders and trades exceed what one message may carry.
      for await (const p of this.client.stream<PositionData>("getAllPositions")) this.#apply("position", p, true);
      this.#on.log("Positions loaded");
      for await (const o of this.client.stream<OrderData>("getAllOrders")) this.#apply("order", o, true);
      this.#on.log("Orders loaded");
      for await (const t of this.client.stream<TradeData>("getAllTrades")) this.#apply("trade", t, true);
      this.#on.log("Trades loaded");
    } catch (error) {
      this.#on.log(`Initial load failed: ${error instanceof Error ? error.message : String(error)}`, LogLevel.ERROR);
      throw error;
    } finally {
      const buffered = this.#buffer ?? [];
      this.#buffer = undefined;
      for (const deliver of buffered) deliver();
    }
  }

  #waitToRetry(): Promise<void> {
    return new Promise<void>((done) => {
      this.#retryWait = { timer: setTimeout(done, this.#reloadRetryMs), done };
    }).finally(() => (this.#retryWait = undefined));
  }

  async close(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#tickTopics.clear();
    this.#connected = false;
    if (this.#retryWait) {
      clearTimeout(this.#retryWait.timer);
      this.#retryWait.done();
    }
  }

  async subscribe(req: SubscribeRequest): Promise<void> {
    const vtSymbol = `${req.symbol}.${req.exchange}`;
    const topic = EVENT_TICK + vtSymbol;
    // Listen before asking: the service may publish a tick as soon as it has subscribed, before
    // its answer reaches us. A refused subscription takes the listener back.
    let off: (() => void) | undefined;
    if (!this.#tickTopics.has(topic)) {
      this.#tickTopics.add(topic);
      off = this.client.subscribe(topic, (t, data) => {
        // A prefix subscription also matches longer symbols: keep only this one.
        if (t === topic) this.#apply("tick", data);
      });
      this.#unsubscribe.push(off);
    }
    try {
      await this.client.call("subscribe", [req, this.#routeOf(vtSymbol)]);
    } catch (error) {
      if (off) {
        off();
        const i = this.#unsubscribe.indexOf(off);
        if (i >= 0) this.#unsubscribe.splice(i, 1);
        this.#tickTopics.delete(topic);
      }
      throw error;
    }
  }

  async sendOrder(req: OrderRequest): Promise<string> {
    const route = this.#routeOf(`${req.symbol}.${req.exchange}`);
    const remoteId = await this.client.call<string>("sendOrder", [req, route]);
    if (!remoteId) return "";
    return `${this.gatewayName}.${this.#orderidOf(remoteId, route)}`;
  }

  /**
   * The orderid inside a remote vtOrderId (`gateway.orderid`). Gateway names may hold dots
   * (`SIM.1`), so the known name is cut off, not everything up to the first dot.
   */
  #orderidOf(remoteId: string, route: string): string {
    let name = route;
    if (!name || !remoteId.startsWith(`${name}.`)) {
      name = "";
      for (const n of this.#remoteNames) if (n.length > name.length && remoteId.startsWith(`${n}.`)) name = n;
    }
    return name ? remoteId.slice(name.length + 1) : remoteId.slice(remoteId.lastIndexOf(".") + 1);
  }

  async cancelOrder(req: CancelRequest): Promise<CancelResult> {
    const result = await this.client.call<CancelResult>("cancelOrder", [req, this.#routeOf(`${req.symbol}.${req.exchange}`)]);
    if (!result.accepted) this.#on.log(`Cancel rejected: ${result.reason}`, LogLevel.WARNING);
    return result;
  }

  async queryAccount(): Promise<void> {
    for (const a of await this.client.call<AccountData[]>("getAllAccounts")) this.#apply("account", a);
  }

  async queryPosition(): Promise<void> {
    for (const p of await this.client.call<PositionData[]>("getAllPositions")) this.#apply("position", p);
  }

  async queryHistory(req: HistoryRequest): Promise<BarData[]> {
    const bars = await this.client.call<BarData[]>("queryHistory", [req, this.#routeOf(`${req.symbol}.${req.exchange}`)]);
    return bars.map((b) => ({ ...b, gatewayName: this.gatewayName }));
  }

  #routeOf(vtSymbol: string): string {
    return this.remoteGateway || (this.#symbolGateway.get(vtSymbol) ?? "");
  }

  #follow(topic: string, kind: Kind): void {
    this.#unsubscribe.push(this.client.subscribe(topic, (_topic, data) => this.#apply(kind, data)));
  }

  /** Take one piece of server data: filter it to our remote gateway, relabel it, emit it. */
  #apply(kind: Kind | "log", data: unknown, loaded = false): void {
    if (!isData(data)) return;
    if (this.#buffer && !loaded) {
      this.#buffer.push(() => this.#apply(kind, data));
      return;
    }
    if (kind === "log") {
      const log = data as LogData;
      if (this.remoteGateway && log.gatewayName !== this.remoteGateway) return;
      this.eventEngine.put(EVENT_LOG, { ...log, gatewayName: this.gatewayName });
      return;
    }
    // Ticks are the market's, whichever account's gateway reported them; the rest is per account.
    if (kind !== "contract" && kind !== "tick" && this.remoteGateway && data.gatewayName !== this.remoteGateway) return;
    this.#emit(kind, data);
  }

  #emit(kind: Kind, data: BaseData): void {
    const mine = withGatewayName(data, this.gatewayName);
    switch (kind) {
      case "tick": return this.#on.tick(mine as TickData);
      case "order": return this.#on.order(mine as OrderData);
      case "trade": return this.#on.trade(mine as TradeData);
      case "position": return this.#on.position(mine as PositionData);
      case "account": return this.#on.account(mine as AccountData);
      case "contract": return this.#on.contract(mine as ContractData);
    }
  }
}

/** Streams whose loss makes the gateway's state wrong: it reloads after a gap on them. */
const STATE_STREAMS = [EVENT_ORDER, EVENT_TRADE, EVENT_POSITION, EVENT_ACCOUNT];

function isData(value: unknown): value is BaseData {
  return typeof value === "object" && value !== null && typeof (value as BaseData).gatewayName === "string";
}
