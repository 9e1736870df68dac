/**
 * VeighNa's trading data model (`vnpy/trader/object.py`) as plain data, in TypeScript naming
 * (`vtSymbol`, `bidPrice1`, `gatewayName`). Every object is plain data that survives JSON and
 * MessagePack; enums are member names; times are epoch milliseconds (`datetime`) plus VeighNa's
 * display strings where it has them.
 */
import type { Direction, Exchange, Interval, Offset, OptionType, OrderType, Product, Status } from "./constant.ts";
import { ACTIVE_STATUSES } from "./constant.ts";

export interface BaseData {
  gatewayName: string;
}

export interface TickData extends BaseData {
  symbol: string;
  exchange: Exchange;
  /** Epoch milliseconds of the exchange time. */
  datetime: number;
  name: string;
  volume: number;
  turnover: number;
  openInterest: number;
  lastPrice: number;
  lastVolume: number;
  limitUp: number;
  limitDown: number;
  openPrice: number;
  highPrice: number;
  lowPrice: number;
  preClose: number;
  bidPrice1: number; bidPrice2: number; bidPrice3: number; bidPrice4: number; bidPrice5: number;
  askPrice1: number; askPrice2: number; askPrice3: number; askPrice4: number; askPrice5: number;
  bidVolume1: number; bidVolume2: number; bidVolume3: number; bidVolume4: number; bidVolume5: number;
  askVolume1: number; askVolume2: number; askVolume3: number; askVolume4: number; askVolume5: number;
  localtime?: number;
  vtSymbol: string;
}

export interface BarData extends BaseData {
  symbol: string;
  exchange: Exchange;
  /** Epoch milliseconds of the bar's start. */
  datetime: number;
  interval: Interval;
  volume: number;
  turnover: number;
  openInterest: number;
  openPrice: number;
  highPrice: number;
  lowPrice: number;
  closePrice: number;
  vtSymbol: string;
}

export interface OrderData extends BaseData {
  symbol: string;
  exchange: Exchange;
  orderid: string;
  type: OrderType;
  direction: Direction;
  offset: Offset;
  price: number;
  volume: number;
  traded: number;
  status: Status;
  /** Epoch milliseconds of the last change. */
  datetime: number;
  reference: string;
  /** Why the order was rejected or cancelled by the exchange; empty otherwise. */
  statusMsg: string;
  vtSymbol: string;
  vtOrderId: string;
}

export interface TradeData extends BaseData {
  symbol: string;
  exchange: Exchange;
  orderid: string;
  tradeid: string;
  direction: Direction;
  offset: Offset;
  price: number;
  volume: number;
  datetime: number;
  /** Fees plus slippage cost charged for this fill. */
  commission: number;
  vtSymbol: string;
  vtOrderId: string;
  vtTradeId: string;
}

export interface PositionData extends BaseData {
  symbol: string;
  exchange: Exchange;
  direction: Direction;
  volume: number;
  frozen: number;
  /** Average open price. */
  price: number;
  /** Holding profit at the last price. */
  pnl: number;
  ydVolume: number;
  vtSymbol: string;
  vtPositionId: string;
}

export interface AccountData extends BaseData {
  accountid: string;
  preBalance: number;
  /** preBalance + closeProfit + holdingProfit − commission. */
  balance: number;
  /** Margin in use plus what active orders hold back. */
  frozen: number;
  /** balance − frozen. */
  available: number;
  margin: number;
  closeProfit: number;
  holdingProfit: number;
  commission: number;
  currency: string;
  vtAccountId: string;
}

export interface ContractData extends BaseData {
  symbol: string;
  exchange: Exchange;
  name: string;
  product: Product;
  size: number;
  pricetick: number;
  minVolume: number;
  marginRate: number;
  stopSupported: boolean;
  netPosition: boolean;
  historyData: boolean;
  optionStrike?: number;
  optionUnderlying?: string;
  optionType?: OptionType;
  vtSymbol: string;
}

export interface LogData extends BaseData {
  msg: string;
  /** VeighNa's logging levels: 10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR. */
  level: number;
  datetime: number;
}

export interface SubscribeRequest {
  symbol: string;
  exchange: Exchange;
}

export interface OrderRequest {
  symbol: string;
  exchange: Exchange;
  direction: Direction;
  type: OrderType;
  volume: number;
  price?: number;
  offset?: Offset;
  reference?: string;
}

export interface CancelRequest {
  orderid: string;
  symbol: string;
  exchange: Exchange;
}

export interface HistoryRequest {
  symbol: string;
  exchange: Exchange;
  /** Epoch milliseconds, inclusive. */
  start: number;
  /** Epoch milliseconds, exclusive; default: now. */
  end?: number;
  interval?: Interval;
}

/** The outcome of a cancel: a cancel of a final or unknown order is refused with a reason. */
export interface CancelResult {
  accepted: boolean;
  reason: string;
}

export function vtSymbolOf(symbol: string, exchange: string): string {
  return `${symbol}.${exchange}`;
}

/** Splits `"IF2512.CFFEX"` into symbol and exchange name (the exchange is after the last dot). */
export function splitVtSymbol(vtSymbol: string): { symbol: string; exchange: string } {
  const dot = vtSymbol.lastIndexOf(".");
  if (dot <= 0) throw new RangeError(`Not a vtSymbol: ${vtSymbol}`);
  return { symbol: vtSymbol.slice(0, dot), exchange: vtSymbol.slice(dot + 1) };
}

export function isActive(order: Pick<OrderData, "status">): boolean {
  return ACTIVE_STATUSES.has(order.status);
}

export function createCancelRequest(order: Pick<OrderData, "orderid" | "symbol" | "exchange">): CancelRequest {
  return { orderid: order.orderid, symbol: order.symbol, exchange: order.exchange };
}

/**
 * Re-labels data with another gateway's name and recomputes the identifiers that embed it
 * (what VeighNa's RpcGateway does with `__post_init__`). Returns a copy.
 */
export function withGatewayName<T extends BaseData>(data: T, gatewayName: string): T {
  const out = { ...data, gatewayName } as unknown as Record<string, unknown>;
  if (typeof out["orderid"] === "string" && "vtOrderId" in out) out["vtOrderId"] = `${gatewayName}.${out["orderid"]}`;
  if (typeof out["tradeid"] === "string" && "vtTradeId" in out) out["vtTradeId"] = `${gatewayName}.${out["tradeid"]}`;
  if (typeof out["accountid"] === "string" && "vtAccountId" in out) {
    out["vtAccountId"] = `${gatewayName}.${out["accountid"]}`;
  }
  if ("vtPositionId" in out && typeof out["vtSymbol"] === "string" && typeof out["direction"] === "string") {
    out["vtPositionId"] = `${gatewayName}.${out["vtSymbol"]}.${out["direction"]}`;
  }
  return out as T;
}
