/**
 * The Python values VeighNa's wire carries, as our own plain classes: what the restricted pickle
 * reader produces and what the writer accepts. None of them can run anything: a `PyObject` is a
 * class name from the allow-list plus its state, an enum is two names, a datetime its fields.
 */

/** The VeighNa data classes (`vnpy/trader/object.py`) and `vnpy.event.Event`, the only objects on the wire. */
export const VNPY_OBJECT_CLASSES = [
  "TickData", "BarData", "OrderData", "TradeData", "PositionData", "AccountData", "LogData", "ContractData",
  "QuoteData", "SubscribeRequest", "OrderRequest", "CancelRequest", "HistoryRequest", "QuoteRequest",
] as const;
export type VnpyObjectClass = (typeof VNPY_OBJECT_CLASSES)[number];
export type VnpyClass = VnpyObjectClass | "Event";

/** The VeighNa enums (`vnpy/trader/constant.py`). */
export const VNPY_ENUMS = [
  "Direction", "Offset", "Status", "Product", "OrderType", "OptionType", "Exchange", "Currency", "Interval",
] as const;
export type VnpyEnum = (typeof VNPY_ENUMS)[number];

export type PyValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | PyFloat
  | PyEnumMember
  | PyDatetime
  | PyTimezone
  | PyTimedelta
  | PyObject;

/** A Python dict with string keys (own properties only; `__proto__` is never a key). */
export interface PyDict {
  [key: string]: PyValue;
}

/** A number the writer must write as a Python float even when it is integral (`1.0`, not `1`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** `getattr(vnpy.trader.constant.<enumName>, "<member>")`. */
export class PyEnumMember {
  constructor(
    readonly enumName: VnpyEnum,
    readonly member: string,
  ) {}
}

/** A time zone: an IANA zone (`zoneinfo.ZoneInfo(key)`) or a fixed offset (`datetime.timezone`). */
export type PyTimezone = { readonly kind: "zone"; readonly key: string } | { readonly kind: "fixed"; readonly offsetSeconds: number };

export class PyTimedelta {
  constructor(
    readonly days: number,
    readonly seconds: number,
    readonly microseconds: number,
  ) {}
  get totalSeconds(): number {
    return this.days * 86_400 + this.seconds + this.microseconds / 1e6;
  }
}

/** `datetime.datetime` (or `datetime.date` with the time fields 0 and `dateOnly`). */
export class PyDatetime {
  constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    readonly hour: number,
    readonly minute: number,
    readonly second: number,
    readonly microsecond: number,
    readonly fold: 0 | 1,
    readonly tz: PyTimezone | null,
    readonly dateOnly = false,
  ) {}
}

/** An instance of an allow-listed class: its name and its `__dict__`. */
export class PyObject {
  constructor(
    readonly className: VnpyClass,
    public state: PyDict,
  ) {}
}

export function isPyDict(value: unknown): value is PyDict {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
