/**
 * VeighNa's enums (`vnpy/trader/constant.py`) with VeighNa's member names.
 *
 * On the wire and on disk an enum is its NAME (`"LONG"`, `"ALLTRADED"`). VeighNa's values are
 * translatable display labels ("多", "全部成交"); they live in `labels` below and are never sent.
 */

/** `{ A: "A", B: "B" }` for the members `["A", "B"]`. */
type Names<T extends readonly string[]> = { readonly [K in T[number]]: K };

/** Builds `{ A: "A", B: "B" }` so that `Direction.LONG === "LONG"`. */
function names<const T extends readonly string[]>(members: T): Names<T> {
  const out: Record<string, string> = {};
  for (const m of members) out[m] = m;
  return Object.freeze(out) as Names<T>;
}

const DIRECTION_NAMES = ["LONG", "SHORT", "NET"] as const;
export const Direction: Names<typeof DIRECTION_NAMES> = names(DIRECTION_NAMES);
export type Direction = keyof typeof Direction;

const OFFSET_NAMES = ["NONE", "OPEN", "CLOSE", "CLOSETODAY", "CLOSEYESTERDAY"] as const;
export const Offset: Names<typeof OFFSET_NAMES> = names(OFFSET_NAMES);
export type Offset = keyof typeof Offset;

const STATUS_NAMES = ["SUBMITTING", "NOTTRADED", "PARTTRADED", "ALLTRADED", "CANCELLED", "REJECTED"] as const;
export const Status: Names<typeof STATUS_NAMES> = names(STATUS_NAMES);
export type Status = keyof typeof Status;

const PRODUCT_NAMES = [
  "EQUITY", "FUTURES", "OPTION", "INDEX", "FOREX", "SPOT", "ETF", "BOND", "WARRANT", "SPREAD", "FUND",
] as const;
export const Product: Names<typeof PRODUCT_NAMES> = names(PRODUCT_NAMES);
export type Product = keyof typeof Product;

const ORDER_TYPE_NAMES = ["LIMIT", "MARKET", "STOP", "FAK", "FOK", "RFQ"] as const;
export const OrderType: Names<typeof ORDER_TYPE_NAMES> = names(ORDER_TYPE_NAMES);
export type OrderType = keyof typeof OrderType;

const OPTION_TYPE_NAMES = ["CALL", "PUT"] as const;
export const OptionType: Names<typeof OPTION_TYPE_NAMES> = names(OPTION_TYPE_NAMES);
export type OptionType = keyof typeof OptionType;

const EXCHANGE_NAMES = [
  // Chinese
  "CFFEX", "SHFE", "CZCE", "DCE", "INE", "GFEX", "SSE", "SZSE", "BSE", "SGE", "WXE", "CFETS", "XBOND",
  // Global
  "SMART", "NYSE", "NASDAQ", "ARCA", "EDGEA", "ISLAND", "BATS", "IEX", "AMEX", "TSE", "NYMEX", "COMEX",
  "GLOBEX", "IDEALPRO", "CME", "ICE", "SEHK", "HKFE", "SGX", "CBOT", "CBOE", "CFE", "DME", "EUREX",
  "APEX", "LME", "BMD", "TOCOM", "EUNX", "KRX", "OTC", "IBKRATS",
  // Special function
  "LOCAL", "GLOBAL",
] as const;
export const Exchange: Names<typeof EXCHANGE_NAMES> = names(EXCHANGE_NAMES);
export type Exchange = keyof typeof Exchange;

const CURRENCY_NAMES = ["USD", "HKD", "CNY", "CAD"] as const;
export const Currency: Names<typeof CURRENCY_NAMES> = names(CURRENCY_NAMES);
export type Currency = keyof typeof Currency;

const INTERVAL_NAMES = ["MINUTE", "HOUR", "DAILY", "WEEKLY", "TICK"] as const;
export const Interval: Names<typeof INTERVAL_NAMES> = names(INTERVAL_NAMES);
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
