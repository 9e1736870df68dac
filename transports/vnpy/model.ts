/**
 * VeighNa's data model ↔ tradewire's: the fields of each `vnpy.trader.object` class, the name
 * maps (`bid_price_1` ↔ `bidPrice1`, `vt_orderid` ↔ `vtOrderId`, `get_all_contracts` ↔
 * `getAllContracts`) and the two conversions:
 *
 * - `fromVnpy`: a value read from a pickle → plain tradewire data: objects in camelCase, enums
 *   by member name, datetimes as epoch milliseconds, identifiers recomputed in tradewire's
 *   naming (`vtSymbol` = symbol + "." + exchange NAME). Keys of VeighNa's `extra` dict that the
 *   object lacks come back as fields (our own extra fields travel there, see below).
 * - `toVnpy`: tradewire data → values the pickle writer writes. An object is recognised by its
 *   identifiers (`vtOrderId` and `status` → OrderData, …); every field of VeighNa's class is
 *   written (its default where ours has none), plus the attributes its `__post_init__` would set,
 *   and our fields VeighNa's class lacks (`commission`, `statusMsg`, …) go into `extra`.
 */
import { enumValue, toMemberName } from "./enums.ts";
import {
  isPyDict, PyDatetime, PyEnumMember, PyFloat, PyObject, PyTimedelta, type PyDict, type PyValue, type VnpyClass,
  type VnpyEnum, type VnpyObjectClass,
} from "./py-values.ts";
import { datetimeToEpochMs, epochMsToDatetime } from "./zoned-time.ts";

// --- names ---------------------------------------------------------------------------------

/** VeighNa attribute names that are not plain snake_case of ours. */
// Maps without a prototype: a name from the wire ("constructor", "toString") must find nothing.
const SNAKE_TO_CAMEL_EXCEPTIONS: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  vt_orderid: "vtOrderId",
  vt_tradeid: "vtTradeId",
  vt_positionid: "vtPositionId",
  vt_accountid: "vtAccountId",
  vt_quoteid: "vtQuoteId",
});
const CAMEL_TO_SNAKE_EXCEPTIONS: Record<string, string> = Object.assign(
  Object.create(null) as Record<string, string>,
  Object.fromEntries(Object.entries(SNAKE_TO_CAMEL_EXCEPTIONS).map(([s, c]) => [c, s])),
);

/** `bid_price_1` → `bidPrice1`, `get_all_contracts` → `getAllContracts`. */
/** Names seen before (field and function names: a few hundred); bounded, as names from the wire are anyone's. */
const camelCache = new Map<string, string>();

export function toCamel(snake: string): string {
  const known = SNAKE_TO_CAMEL_EXCEPTIONS[snake];
  if (known) return known;
  let camel = camelCache.get(snake);
  if (camel === undefined) {
    camel = snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (camelCache.size >= 4096) camelCache.clear();
    camelCache.set(snake, camel);
  }
  return camel;
}

/** `bidPrice1` → `bid_price_1`, `getAllContracts` → `get_all_contracts`. */
export function toSnake(camel: string): string {
  const known = CAMEL_TO_SNAKE_EXCEPTIONS[camel];
  if (known) return known;
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/([a-z])([0-9]+)$/, "$1_$2");
}

// --- VeighNa's classes ---------------------------------------------------------------------

type Kind = "str" | "float" | "int" | "bool" | "datetime" | "dict" | VnpyEnum;
/** [VeighNa attribute, kind, default written when our object has no value]. */
type Field = readonly [string, Kind, PyValue];

const f = (name: string, kind: Kind, dflt: PyValue = null): Field => [name, kind, dflt];
const num = (name: string, dflt: number | null = 0): Field => [name, "float", dflt === null ? null : new PyFloat(dflt)];

const BASE: Field[] = [f("gateway_name", "str", ""), f("extra", "dict")];
const SYMBOL: Field[] = [f("symbol", "str", ""), f("exchange", "Exchange")];
const levels = (side: "bid" | "ask", what: "price" | "volume") => [1, 2, 3, 4, 5].map((i) => num(`${side}_${what}_${i}`));

/** The dataclass fields of each class, in VeighNa's order (vnpy 4.x `vnpy/trader/object.py`). */
export const VNPY_FIELDS: Record<VnpyObjectClass, readonly Field[]> = {
  TickData: [
    ...BASE, ...SYMBOL, f("datetime", "datetime"), f("name", "str", ""),
    ...["volume", "turnover", "open_interest", "last_price", "last_volume", "limit_up", "limit_down", "open_price",
      "high_price", "low_price", "pre_close"].map((n) => num(n)),
    ...levels("bid", "price"), ...levels("ask", "price"), ...levels("bid", "volume"), ...levels("ask", "volume"),
    f("localtime", "datetime"),
  ],
  BarData: [
    ...BASE, ...SYMBOL, f("datetime", "datetime"), f("interval", "Interval"),
    ...["volume", "turnover", "open_interest", "open_price", "high_price", "low_price", "close_price"].map((n) => num(n)),
  ],
  OrderData: [
    ...BASE, ...SYMBOL, f("orderid", "str", ""), f("type", "OrderType", new PyEnumMember("OrderType", "LIMIT")),
    f("direction", "Direction"), f("offset", "Offset", new PyEnumMember("Offset", "NONE")), num("price"), num("volume"),
    num("traded"), f("status", "Status", new PyEnumMember("Status", "SUBMITTING")), f("datetime", "datetime"),
    f("reference", "str", ""),
  ],
  TradeData: [
    ...BASE, ...SYMBOL, f("orderid", "str", ""), f("tradeid", "str", ""), f("direction", "Direction"),
    f("offset", "Offset", new PyEnumMember("Offset", "NONE")), num("price"), num("volume"), f("datetime", "datetime"),
  ],
  PositionData: [
    ...BASE, ...SYMBOL, f("direction", "Direction", new PyEnumMember("Direction", "NET")),
    num("volume"), num("frozen"), num("price"), num("pnl"), num("yd_volume"),
  ],
  AccountData: [...BASE, f("accountid", "str", ""), num("balance"), num("frozen")],
  LogData: [...BASE, f("msg", "str", ""), f("level", "int", 20)],
  ContractData: [
    ...BASE, ...SYMBOL, f("name", "str", ""), f("product", "Product"), num("size"), num("pricetick"),
    num("min_volume", 1), num("max_volume", null), f("stop_supported", "bool", false), f("net_position", "bool", false),
    f("history_data", "bool", false), num("option_strike", null), f("option_underlying", "str"),
    f("option_type", "OptionType"), f("option_listed", "datetime"), f("option_expiry", "datetime"),
    f("option_portfolio", "str"), f("option_index", "str"),
  ],
  QuoteData: [
    ...BASE, ...SYMBOL, f("quoteid", "str", ""), num("bid_price"), f("bid_volume", "int", 0), num("ask_price"),
    f("ask_volume", "int", 0), f("bid_offset", "Offset", new PyEnumMember("Offset", "NONE")),
    f("ask_offset", "Offset", new PyEnumMember("Offset", "NONE")), f("status", "Status", new PyEnumMember("Status", "SUBMITTING")),
    f("datetime", "datetime"), f("reference", "str", ""),
  ],
  SubscribeRequest: [...SYMBOL],
  OrderRequest: [
    ...SYMBOL, f("direction", "Direction"), f("type", "OrderType", new PyEnumMember("OrderType", "LIMIT")), num("volume"),
    num("price"), f("offset", "Offset", new PyEnumMember("Offset", "NONE")), f("reference", "str", ""),
  ],
  CancelRequest: [f("orderid", "str", ""), ...SYMBOL],
  HistoryRequest: [...SYMBOL, f("start", "datetime"), f("end", "datetime"), f("interval", "Interval")],
  QuoteRequest: [
    ...SYMBOL, num("bid_price"), f("bid_volume", "int", 0), num("ask_price"), f("ask_volume", "int", 0),
    f("bid_offset", "Offset", new PyEnumMember("Offset", "NONE")), f("ask_offset", "Offset", new PyEnumMember("Offset", "NONE")),
    f("reference", "str", ""),
  ],
};

/** Attributes set by `__post_init__` (not dataclass fields): written, and recomputed when read. */
const DERIVED = new Set(["vt_symbol", "vt_orderid", "vt_tradeid", "vt_positionid", "vt_accountid", "vt_quoteid", "available", "time"]);

/** Our field names that are VeighNa's under another name (read side; the write side sets `time` itself). */
const OURS_TO_VNPY_FIELD: Partial<Record<VnpyObjectClass, Record<string, string>>> = {
  LogData: { datetime: "time" },
};

// --- options -------------------------------------------------------------------------------

export interface ModelOptions {
  /** The zone datetimes are written in (VeighNa's gateways use "Asia/Shanghai"). Default "Asia/Shanghai". */
  timeZone?: string;
}

const DEFAULT_ZONE = "Asia/Shanghai";

// --- VeighNa → tradewire -------------------------------------------------------------------

export type Plain = null | boolean | number | string | Uint8Array | Plain[] | { [key: string]: Plain };

/** A value read from VeighNa's wire as plain tradewire data (see the file's header). */
export function fromVnpy(value: PyValue): Plain {
  if (value === null || typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof PyFloat) return value.value;
  if (value instanceof PyEnumMember) return value.member;
  if (value instanceof PyDatetime) return datetimeToEpochMs(value);
  if (value instanceof PyTimedelta) return value.totalSeconds;
  if (Array.isArray(value)) return value.map(fromVnpy);
  if (value instanceof PyObject) return objectFromVnpy(value);
  const out: { [key: string]: Plain } = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromVnpy(v);
  return out;
}

function objectFromVnpy(obj: PyObject): { [key: string]: Plain } {
  const out: { [key: string]: Plain } = {};
  if (obj.className === "Event") {
    out["type"] = fromVnpy(obj.state["type"] ?? "");
    out["data"] = fromVnpy(obj.state["data"] ?? null);
    return out;
  }
  const theirs = theirsToOurs(obj.className);
  for (const [key, v] of Object.entries(obj.state)) {
    if (key === "extra" || (DERIVED.has(key) && !(key in theirs))) continue;
    // A None field is left out: our objects mark "no value" by absence.
    if (v === null) continue;
    out[(Object.hasOwn(theirs, key) ? theirs[key] : undefined) ?? toCamel(key)] = fromVnpy(v);
  }
  const extra = obj.state["extra"];
  if (isPyDict(extra)) {
    for (const [key, v] of Object.entries(extra)) {
      const name = toCamel(key);
      if (!(name in out) && v !== null) out[name] = fromVnpy(v);
    }
  }
  if (obj.className === "AccountData") {
    const available = obj.state["available"];
    out["available"] = available instanceof PyFloat ? available.value : typeof available === "number" ? available : num0(out["balance"]) - num0(out["frozen"]);
  }
  addIdentifiers(obj.className, out);
  return out;
}

const THEIRS_TO_OURS = new Map<string, Record<string, string>>();

/** VeighNa's field names → ours, where they are not just snake → camel case (worked out once per class). */
function theirsToOurs(cls: VnpyClass): Record<string, string> {
  let theirs = THEIRS_TO_OURS.get(cls);
  if (theirs === undefined) {
    theirs = Object.fromEntries(Object.entries(OURS_TO_VNPY_FIELD[cls as VnpyObjectClass] ?? {}).map(([o, t]) => [t, o])) as Record<string, string>;
    THEIRS_TO_OURS.set(cls, theirs);
  }
  return theirs;
}

function num0(v: Plain | undefined): number {
  return typeof v === "number" ? v : 0;
}

/** tradewire's identifiers, from the fields (VeighNa's `__post_init__`, in our naming). */
function addIdentifiers(cls: VnpyClass, o: { [key: string]: Plain }): void {
  const gw = typeof o["gatewayName"] === "string" ? o["gatewayName"] : "";
  if (typeof o["symbol"] === "string" && typeof o["exchange"] === "string") o["vtSymbol"] = `${o["symbol"]}.${o["exchange"]}`;
  if (cls === "OrderData" || cls === "TradeData") o["vtOrderId"] = `${gw}.${String(o["orderid"] ?? "")}`;
  if (cls === "TradeData") o["vtTradeId"] = `${gw}.${String(o["tradeid"] ?? "")}`;
  if (cls === "PositionData") o["vtPositionId"] = `${gw}.${String(o["vtSymbol"] ?? "")}.${String(o["direction"] ?? "")}`;
  if (cls === "AccountData") o["vtAccountId"] = `${gw}.${String(o["accountid"] ?? "")}`;
  if (cls === "QuoteData") o["vtQuoteId"] = `${gw}.${String(o["quoteid"] ?? "")}`;
}

// --- tradewire → VeighNa -------------------------------------------------------------------

type Obj = Record<string, unknown>;

/** The VeighNa class an object of ours stands for, from its identifiers; undefined for plain data. */
export function classOf(o: Obj): VnpyObjectClass | undefined {
  const has = (k: string) => o[k] !== undefined;
  if (has("vtTradeId")) return "TradeData";
  if (has("vtOrderId") && has("status")) return "OrderData";
  if (has("vtPositionId")) return "PositionData";
  if (has("vtAccountId")) return "AccountData";
  if (has("vtQuoteId")) return "QuoteData";
  if (has("pricetick") && has("product")) return "ContractData";
  if (has("bidPrice1") && has("lastPrice")) return "TickData";
  if (has("closePrice") && has("openPrice") && has("datetime")) return "BarData";
  if (typeof o["msg"] === "string" && typeof o["level"] === "number") return "LogData";
  return undefined;
}

/**
 * tradewire data → what the pickle writer writes. Objects recognised by `classOf` (or named by
 * `as`, for requests) become VeighNa objects; other objects dicts.
 */
export function toVnpy(value: unknown, options: ModelOptions = {}, as?: VnpyObjectClass, depth = 0): PyValue {
  if (depth > 64) throw new RangeError("Value nests deeper than 64 levels");
  if (value === null || value === undefined) return null;
  if (typeof value === "boolean" || typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return epochMsToDatetime(value.getTime(), options.timeZone ?? DEFAULT_ZONE);
  if (Array.isArray(value)) return value.map((v) => toVnpy(v, options, undefined, depth + 1));
  if (typeof value === "object") {
    const o = value as Obj;
    const cls = as ?? classOf(o);
    if (cls) return objectToVnpy(cls, o, options, depth);
    const out: PyDict = {};
    for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = toVnpy(v, options, undefined, depth + 1);
    return out;
  }
  throw new TypeError(`Cannot send ${typeof value} on VeighNa's wire`);
}

/** Per class: each VeighNa field with the name of ours it comes from. Worked out once: every event goes through here. */
const FIELD_PLANS = new Map<VnpyObjectClass, { fields: Array<[name: string, kind: Kind, dflt: PyValue, ours: string]>; ours: ReadonlySet<string> }>();

function fieldPlan(cls: VnpyObjectClass) {
  let plan = FIELD_PLANS.get(cls);
  if (plan === undefined) {
    const renames = OURS_TO_VNPY_FIELD[cls] ?? {};
    const vnpyToOurs = Object.fromEntries(Object.entries(renames).map(([ours, theirs]) => [theirs, ours]));
    const fields = VNPY_FIELDS[cls].map(([name, kind, dflt]) => [name, kind, dflt, (Object.hasOwn(vnpyToOurs, name) ? vnpyToOurs[name] : undefined) ?? toCamel(name)] as [string, Kind, PyValue, string]);
    plan = { fields, ours: new Set(fields.map((f) => f[3])) };
    FIELD_PLANS.set(cls, plan);
  }
  return plan;
}

function objectToVnpy(cls: VnpyObjectClass, o: Obj, options: ModelOptions, depth: number): PyObject {
  const zone = options.timeZone ?? DEFAULT_ZONE;
  const plan = fieldPlan(cls);
  const state: PyDict = {};
  let used: Set<string> | ReadonlySet<string> = plan.ours;
  for (const [name, kind, dflt, ours] of plan.fields) {
    if (name === "extra") continue;
    const v = o[ours];
    state[name] = v === undefined || v === null ? dflt : field(kind, v, zone, `${cls}.${name}`);
  }
  // What __post_init__ sets, in VeighNa's naming (its vt_symbol uses the exchange's VALUE).
  const gw = String(o["gatewayName"] ?? "");
  const exchange = state["exchange"] instanceof PyEnumMember ? enumValue("Exchange", state["exchange"].member) : "";
  if ("symbol" in state) state["vt_symbol"] = `${String(o["symbol"] ?? "")}.${exchange}`;
  if (cls === "OrderData" || cls === "TradeData") state["vt_orderid"] = `${gw}.${String(o["orderid"] ?? "")}`;
  if (cls === "TradeData") state["vt_tradeid"] = `${gw}.${String(o["tradeid"] ?? "")}`;
  if (cls === "QuoteData") state["vt_quoteid"] = `${gw}.${String(o["quoteid"] ?? "")}`;
  if (cls === "PositionData") {
    const direction = state["direction"] instanceof PyEnumMember ? enumValue("Direction", state["direction"].member) : "";
    state["vt_positionid"] = `${gw}.${String(state["vt_symbol"])}.${direction}`;
  }
  if (cls === "AccountData") {
    state["vt_accountid"] = `${gw}.${String(o["accountid"] ?? "")}`;
    const available = typeof o["available"] === "number" ? o["available"] : num0(o["balance"] as Plain) - num0(o["frozen"] as Plain);
    state["available"] = new PyFloat(available);
    used = new Set([...used, "available"]);
  }
  if (cls === "LogData") {
    state["time"] = field("datetime", o["datetime"] ?? Date.now(), zone, "LogData.time");
    used = new Set([...used, "datetime"]);
  }
  // Ours that VeighNa's class lacks travel in `extra`; our identifiers are recomputed on the way back.
  const extra: PyDict = {};
  for (const [k, v] of Object.entries(o)) {
    if (used.has(k) || v === undefined || /^vt[A-Z]/.test(k)) continue;
    extra[toSnake(k)] = toVnpy(v, options, undefined, depth + 1);
  }
  if (cls !== "SubscribeRequest" && cls !== "OrderRequest" && cls !== "CancelRequest" && cls !== "HistoryRequest" && cls !== "QuoteRequest") {
    state["extra"] = Object.keys(extra).length > 0 ? extra : null;
  }
  return new PyObject(cls, state);
}

function field(kind: Kind, v: unknown, zone: string, where: string): PyValue {
  switch (kind) {
    case "str":
      return String(v);
    case "float":
      return typeof v === "number" ? new PyFloat(v) : null;
    case "int":
      return typeof v === "number" ? Math.trunc(v) : null;
    case "bool":
      return v === true;
    case "datetime":
      if (typeof v === "number") return epochMsToDatetime(v, zone);
      if (v instanceof Date) return epochMsToDatetime(v.getTime(), zone);
      return null;
    case "dict":
      return null;
    default: {
      const member = typeof v === "string" ? toMemberName(kind, v) : undefined;
      if (member === undefined) throw new RangeError(`${where}: ${JSON.stringify(v)} is not a ${kind}`);
      return new PyEnumMember(kind, member);
    }
  }
}
