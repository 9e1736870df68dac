/**
 * VeighNa's enums (`vnpy/trader/constant.py`) with VeighNa's member names.
 *
 * On the wire and on disk an enum is its NAME (`"LONG"`, `"ALLTRADED"`). VeighNa's values are
 * translatable display labels ("多", "全部成交"); they live in `labels` below and are never sent.
 */

/** Builds `{ A: "A", B: "B" }` so that `Direction.LONG === "LONG"`. */
function names<const T extends readonly string[]>(members: T): { readonly [K in T[number]]: K } {
  const out: Record<string, string> = {};
  for (const m of members) out[m] = m;
  return Object.freeze(out) as { readonly [K in T[number]]: K };
}

export const Direction = names(["LONG", "SHORT", "NET"]);
export type Direction = keyof typeof Direction;

export const Offset = names(["NONE", "OPEN", "CLOSE", "CLOSETODAY", "CLOSEYESTERDAY"]);
export type Offset = keyof typeof Offset;

export const Status = names(["SUBMITTING", "NOTTRADED", "PARTTRADED", "ALLTRADED", "CANCELLED", "REJECTED"]);
export type Status = keyof typeof Status;

export const Product = names([
  "EQUITY", "FUTURES", "OPTION", "INDEX", "FOREX", "SPOT", "ETF", "BOND", "WARRANT", "SPREAD", "FUND",
]);
export type Product = keyof typeof Product;

export const OrderType = names(["LIMIT", "MARKET", "STOP", "FAK", "FOK", "RFQ"]);
export type OrderType = keyof typeof OrderType;

export const OptionType = names(["CALL", "PUT"]);
export type OptionType = keyof typeof OptionType;

export const Exchange = names([
  // Chinese
  "CFFEX", "SHFE", "CZCE", "DCE", "INE", "GFEX", "SSE", "SZSE", "BSE", "SGE", "WXE", "CFETS", "XBOND",
  // Global
  "SMART", "NYSE", "NASDAQ", "ARCA", "EDGEA", "ISLAND", "BATS", "IEX", "AMEX", "TSE", "NYMEX", "COMEX",
  "GLOBEX", "IDEALPRO", "CME", "ICE", "SEHK", "HKFE", "SGX", "CBOT", "CBOE", "CFE", "DME", "EUREX",
  "APEX", "LME", "BMD", "TOCOM", "EUNX", "KRX", "OTC", "IBKRATS",
  // Special function
  "LOCAL", "GLOBAL",
]);
export type Exchange = keyof typeof Exchange;

export const Currency = names(["USD", "HKD", "CNY", "CAD"]);
export type Currency = keyof typeof Currency;

export const Interval = names(["MINUTE", "HOUR", "DAILY", "WEEKLY", "TICK"]);
export type Interval = keyof typeof Interval;

/** Orders in these states can still trade or be cancelled (VeighNa's `ACTIVE_STATUSES`). */
export const ACTIVE_STATUSES: ReadonlySet<Status> = new Set<Status>(["SUBMITTING", "NOTTRADED", "PARTTRADED"]);

/** True for a member name of `e` (e.g. `isMember(Exchange, "CFFEX")`). */
export function isMember<E extends Readonly<Record<string, string>>>(e: E, value: unknown): value is keyof E {
  return typeof value === "string" && Object.hasOwn(e, value);
}

/**
 * Display labels, VeighNa's values in its default (Chinese) locale. For display only: replace or
 * extend per locale; never put a label on the wire.
 */
export const labels = {
  Direction: { LONG: "多", SHORT: "空", NET: "净" },
  Offset: { NONE: "", OPEN: "开", CLOSE: "平", CLOSETODAY: "平今", CLOSEYESTERDAY: "平昨" },
  Status: {
    SUBMITTING: "提交中", NOTTRADED: "未成交", PARTTRADED: "部分成交", ALLTRADED: "全部成交",
    CANCELLED: "已撤销", REJECTED: "拒单",
  },
  Product: {
    EQUITY: "股票", FUTURES: "期货", OPTION: "期权", INDEX: "指数", FOREX: "外汇", SPOT: "现货",
    ETF: "ETF", BOND: "债券", WARRANT: "权证", SPREAD: "价差", FUND: "基金",
  },
  OrderType: { LIMIT: "限价", MARKET: "市价", STOP: "STOP", FAK: "FAK", FOK: "FOK", RFQ: "询价" },
  OptionType: { CALL: "看涨期权", PUT: "看跌期权" },
  Interval: { MINUTE: "1m", HOUR: "1h", DAILY: "d", WEEKLY: "w", TICK: "tick" },
} as const satisfies {
  Direction: Record<Direction, string>;
  Offset: Record<Offset, string>;
  Status: Record<Status, string>;
  Product: Record<Product, string>;
  OrderType: Record<OrderType, string>;
  OptionType: Record<OptionType, string>;
  Interval: Record<Interval, string>;
};
