/**
 * Serves gateways over an `RpcServer`, with the functions of VeighNa's RpcEngine. Requests carry
 * the gateway name and are routed by it (a main engine, as VeighNa's); every event the gateways
 * put on the event engine is broadcast on its own topic (`eTick.IF2512.CFFEX`, `eOrder.SIM.7`,
 * `eLog`), so a client receives only what it subscribed to.
 *
 * The service is handed its server: it never picks a transport.
 */
import { RpcError, type PublishOptions, type RpcServer } from "../lib/index.ts";
import { EVENT_ACCOUNT, EVENT_CONTRACT, EVENT_ORDER, EVENT_POSITION, EVENT_TICK, EVENT_TRADE, type EventEngine, type Event } from "./event.ts";
import type { Gateway } from "./gateway.ts";
import type {
  AccountData, BarData, CancelRequest, CancelResult, ContractData, HistoryRequest, OrderData, OrderRequest, PositionData,
  SubscribeRequest, TickData, TradeData,
} from "./object.ts";
import { toStandardJsonSchema } from "@valibot/to-json-schema";
import { createCancelRequest } from "./object.ts";
import { OmsEngine } from "./oms.ts";
import {
  cancelOrderArgs, keyArgs, noArgs, optionalKeyArgs, queryHistoryArgs, sendOrderArgs, subscribeArgs,
} from "./schema.ts";

export interface RpcServiceOptions {
  server: RpcServer;
  /** The engine the gateways put their events on. Create the service before connecting them. */
  eventEngine: EventEngine;
  gateways: Gateway[];
}

/** The functions a client can call, as `client.proxy<RpcServiceApi>()` sees them. */
export interface RpcServiceApi {
  subscribe(req: SubscribeRequest, gatewayName?: string): void;
  sendOrder(req: OrderRequest, gatewayName?: string): string;
  /** `req` may also be the order's vtOrderId ("SIM.7"). */
  cancelOrder(req: CancelRequest | string, gatewayName?: string): CancelResult;
  queryHistory(req: HistoryRequest, gatewayName?: string): BarData[];
  getTick(vtSymbol: string): TickData | null;
  getOrder(vtOrderId: string): OrderData | null;
  getTrade(vtTradeId: string): TradeData | null;
  getPosition(vtPositionId: string): PositionData | null;
  getAccount(vtAccountId: string): AccountData | null;
  getContract(vtSymbol: string): ContractData | null;
  getAllTicks(): TickData[];
  getAllOrders(): OrderData[];
  getAllTrades(): TradeData[];
  getAllPositions(): PositionData[];
  getAllAccounts(): AccountData[];
  getAllContracts(): ContractData[];
  getAllActiveOrders(vtSymbol?: string): OrderData[];
}

/** The function names served, in VeighNa's order. */
export const RPC_SERVICE_FUNCTIONS = [
  "subscribe", "sendOrder", "cancelOrder", "queryHistory", "getTick", "getOrder", "getTrade", "getPosition",
  "getAccount", "getContract", "getAllTicks", "getAllOrders", "getAllTrades", "getAllPositions", "getAllAccounts",
  "getAllContracts", "getAllActiveOrders",
] as const satisfies ReadonlyArray<keyof RpcServiceApi>;

export class RpcService {
  readonly server: RpcServer;
  readonly eventEngine: EventEngine;
  readonly oms: OmsEngine;
  readonly #gateways = new Map<string, Gateway>();
  /** vtSymbol → the gateways that reported its contract (several accounts share a simulator). */
  readonly #owners = new Map<string, Set<string>>();
  /** vtSymbol → the last tick published: the same market tick from several gateways goes out once. */
  readonly #lastTick = new Map<string, string>();
  #unpublish: (() => void) | undefined;

  constructor(options: RpcServiceOptions) {
    this.server = options.server;
    this.eventEngine = options.eventEngine;
    for (const g of options.gateways) {
      if (this.#gateways.has(g.gatewayName)) throw new RangeError(`Duplicate gateway name ${g.gatewayName}`);
      this.#gateways.set(g.gatewayName, g);
    }
    this.oms = new OmsEngine(this.eventEngine);
    // Kept for the service's life, as the OMS is (a restarted service still routes).
    this.eventEngine.register<ContractData>(EVENT_CONTRACT, (e) => {
      const owners = this.#owners.get(e.data.vtSymbol) ?? new Set<string>();
      owners.add(e.data.gatewayName);
      this.#owners.set(e.data.vtSymbol, owners);
    });
    this.#register();
  }

  get gatewayNames(): string[] {
    return [...this.#gateways.keys()];
  }

  /** Start the server and broadcasting events. */
  async start(): Promise<void> {
    await this.server.start();
    this.#unpublish ??= this.eventEngine.registerGeneral((event) => this.#publish(event));
  }

  /** Stop broadcasting and stop the server (the gateways stay as they are). */
  async stop(): Promise<void> {
    this.#unpublish?.();
    this.#unpublish = undefined;
    await this.server.stop();
  }

  #publish(event: Event): void {
    if (!this.server.running) return;
    if (event.type.startsWith(EVENT_TICK) && this.#gateways.size > 1 && !this.#firstOfTick(event.data as TickData)) return;
    try {
      this.server.publish(event.type, event.data, publishOptions(event));
    } catch {
      // An event too large to send is dropped; the service goes on.
    }
  }

  /** Several gateways subscribed to one symbol each report the same market tick: true for the first. */
  #firstOfTick(t: TickData): boolean {
    const key = `${t.datetime}|${t.volume}|${t.lastPrice}|${t.bidPrice1}|${t.bidVolume1}|${t.askPrice1}|${t.askVolume1}`;
    if (this.#lastTick.get(t.vtSymbol) === key) return false;
    this.#lastTick.set(t.vtSymbol, key);
    return true;
  }

  /**
   * The gateway a request goes to: the one named, else the only one that owns the symbol, else
   * the only gateway. A symbol that several gateways trade (accounts sharing one exchange) needs
   * the gateway named: guessing would trade for the wrong account.
   */
  #route(gatewayName: string, vtSymbol?: string): Gateway {
    if (gatewayName) {
      const g = this.#gateways.get(gatewayName);
      if (!g) throw new RpcError("INVALID_ARGUMENT", `Unknown gateway: ${gatewayName}`);
      return g;
    }
    const owners = vtSymbol ? [...(this.#owners.get(vtSymbol) ?? [])].filter((n) => this.#gateways.has(n)) : [];
    if (owners.length > 1) {
      throw new RpcError("INVALID_ARGUMENT", `Gateway name is required: ${vtSymbol} is traded through ${owners.join(", ")}`);
    }
    if (owners.length === 1) return this.#gateways.get(owners[0]!)!;
    if (this.#gateways.size === 1) return this.#gateways.values().next().value!;
    throw new RpcError("INVALID_ARGUMENT", "Gateway name is required: this service has several gateways");
  }

  #register(): void {
    const s = this.server;
    const oms = this.oms;
    // Shared argument shapes, converted once.
    const byKey = { input: toStandardJsonSchema(keyArgs) };
    const none = { input: toStandardJsonSchema(noArgs) };
    s.register("subscribe", async (req: SubscribeRequest, gw: string) => {
      await this.#route(gw, `${req.symbol}.${req.exchange}`).subscribe(req);
      return null;
    }, { input: toStandardJsonSchema(subscribeArgs) });
    s.register("sendOrder", (req: OrderRequest, gw: string) =>
      this.#route(gw, `${req.symbol}.${req.exchange}`).sendOrder(req), { input: toStandardJsonSchema(sendOrderArgs) });
    s.register("cancelOrder", async (req: CancelRequest | string, gw: string): Promise<CancelResult> => {
      if (typeof req !== "string") return this.#route(gw, `${req.symbol}.${req.exchange}`).cancelOrder(req);
      const order = oms.getOrder(req);
      if (!order) return { accepted: false, reason: `No order ${req}` };
      return this.#route(gw || order.gatewayName, order.vtSymbol).cancelOrder(createCancelRequest(order));
    }, { input: toStandardJsonSchema(cancelOrderArgs) });
    s.register("queryHistory", (req: HistoryRequest, gw: string) =>
      this.#route(gw, `${req.symbol}.${req.exchange}`).queryHistory(req), { input: toStandardJsonSchema(queryHistoryArgs) });
    s.register("getTick", (key: string) => oms.getTick(key), byKey);
    s.register("getOrder", (key: string) => oms.getOrder(key), byKey);
    s.register("getTrade", (key: string) => oms.getTrade(key), byKey);
    s.register("getPosition", (key: string) => oms.getPosition(key), byKey);
    s.register("getAccount", (key: string) => oms.getAccount(key), byKey);
    s.register("getContract", (key: string) => oms.getContract(key), byKey);
    s.register("getAllTicks", () => oms.getAllTicks(), none);
    s.register("getAllOrders", () => oms.getAllOrders(), none);
    s.register("getAllTrades", () => oms.getAllTrades(), none);
    s.register("getAllPositions", () => oms.getAllPositions(), none);
    s.register("getAllAccounts", () => oms.getAllAccounts(), none);
    s.register("getAllContracts", () => oms.getAllContracts(), none);
    s.register("getAllActiveOrders", (key: string) => oms.getAllActiveOrders(key), { input: toStandardJsonSchema(optionalKeyArgs) });
  }
}

/**
 * How each kind of event is numbered (README "Delivery of events"): ticks are latest-value (the
 * next replaces a lost one); orders and accounts are one stream per server-side gateway, trades,
 * positions and contracts one stream each, so a subscriber to those prefixes can tell a loss.
 * Exported for relays that republish these events (the web door), so they number them alike.
 */
export function publishOptions(event: Event): PublishOptions | undefined {
  const type = event.type;
  if (type.startsWith(EVENT_TICK)) return LATEST_VALUE;
  const gatewayName = (event.data as { gatewayName?: unknown } | null)?.gatewayName;
  let stream: string | undefined;
  if (type.startsWith(EVENT_ORDER) || type.startsWith(EVENT_ACCOUNT)) {
    if (typeof gatewayName === "string") stream = `${type.startsWith(EVENT_ORDER) ? EVENT_ORDER : EVENT_ACCOUNT}${gatewayName}.`;
  } else if (type.startsWith(EVENT_TRADE)) stream = EVENT_TRADE;
  else if (type.startsWith(EVENT_POSITION)) stream = EVENT_POSITION;
  else if (type.startsWith(EVENT_CONTRACT)) stream = EVENT_CONTRACT;
  return stream !== undefined && type.startsWith(stream) ? { stream } : undefined;
}

const LATEST_VALUE: PublishOptions = { latestValue: true };
