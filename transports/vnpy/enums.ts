/**
 * VeighNa's enums (`vnpy/trader/constant.py`, vnpy 4.x): member names and their values in
 * VeighNa's default (Chinese) locale. tradewire puts names on the wire ("LONG"); VeighNa's
 * objects pickle by name too (Python ≥ 3.11), so values are needed only to read pickles of
 * older Pythons (`Direction("多")`) and to accept a value where a name is expected.
 */
import type { VnpyEnum } from "./py-values.ts";

export const VNPY_ENUM_VALUES: Record<VnpyEnum, Readonly<Record<string, string>>> = {
  Direction: { LONG: "多", SHORT: "空", NET: "净" },
  Offset: { NONE: "", OPEN: "开", CLOSE: "平", CLOSETODAY: "平今", CLOSEYESTERDAY: "平昨" },
  Status: {
    SUBMITTING: "提交中", NOTTRADED: "未成交", PARTTRADED: "部分成交", ALLTRADED: "全部成交", CANCELLED: "已撤销", REJECTED: "拒单",
  },
  Product: {
    EQUITY: "股票", FUTURES: "期货", OPTION: "期权", INDEX: "指数", FOREX: "外汇", SPOT: "现货", ETF: "ETF", BOND: "债券",
    WARRANT: "权证", SPREAD: "价差", FUND: "基金", CFD: "CFD", SWAP: "互换",
  },
  OrderType: { LIMIT: "限价", MARKET: "市价", STOP: "STOP", FAK: "FAK", FOK: "FOK", RFQ: "询价", ETF: "ETF" },
  OptionType: { CALL: "看涨期权", PUT: "看跌期权" },
  Exchange: {
    ...Object.fromEntries(
      [
        "CFFEX", "SHFE", "CZCE", "DCE", "INE", "GFEX", "SSE", "SZSE", "BSE", "SHHK", "SZHK", "SGE", "WXE", "CFETS", "XBOND",
        "SMART", "NYSE", "NASDAQ", "ARCA", "EDGEA", "ISLAND", "BATS", "IEX", "AMEX", "TSE", "NYMEX", "COMEX", "GLOBEX",
        "IDEALPRO", "CME", "ICE", "SEHK", "HKFE", "SGX", "CBOT", "CBOE", "CFE", "DME", "APEX", "LME", "BMD", "TOCOM",
        "EUNX", "KRX", "OTC", "IBKRATS", "LOCAL", "GLOBAL",
      ].map((name) => [name, name]),
    ),
    // The one exchange whose value is not its name: VeighNa's vt_symbol says "FDAX.EUX".
    EUREX: "EUX",
  },
  Currency: { USD: "USD", HKD: "HKD", CNY: "CNY", CAD: "CAD" },
  Interval: { MINUTE: "1m", HOUR: "1h", DAILY: "d", WEEKLY: "w", TICK: "tick" },
};

const byValue = new Map<VnpyEnum, Map<string, string>>(
  Object.entries(VNPY_ENUM_VALUES).map(([e, members]) => [e as VnpyEnum, new Map(Object.entries(members).map(([n, v]) => [v, n]))]),
);

export function isEnumMember(enumName: VnpyEnum, member: string): boolean {
  return Object.hasOwn(VNPY_ENUM_VALUES[enumName], member);
}

/** The member whose VeighNa value (default locale) is `value`, e.g. ("Direction", "多") → "LONG". */
export function enumMemberByValue(enumName: VnpyEnum, value: string): string | undefined {
  return byValue.get(enumName)?.get(value);
}

/** A member name from a name or a VeighNa value ("LONG" or "多" → "LONG"); undefined if neither. */
export function toMemberName(enumName: VnpyEnum, nameOrValue: string): string | undefined {
  return isEnumMember(enumName, nameOrValue) ? nameOrValue : enumMemberByValue(enumName, nameOrValue);
}

/** VeighNa's value of a member (what its `vt_symbol` uses for an exchange). */
export function enumValue(enumName: VnpyEnum, member: string): string {
  return VNPY_ENUM_VALUES[enumName][member] ?? member;
}
