/**
 * The restricted pickle reader and the writer, against the real Python with VeighNa's unchanged
 * classes: Python's pickles (protocols 2 to 5) read into plain tradewire data; our pickles
 * unpickled by Python into VeighNa's own objects; hostile pickles refused, nothing run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fromVnpy, toVnpy } from "../../transports/vnpy/model.ts";
import { PickleRefused, readPickle } from "../../transports/vnpy/pickle-reader.ts";
import { writePickle } from "../../transports/vnpy/pickle-writer.ts";
import { PyObject } from "../../transports/vnpy/py-values.ts";
import { FIXTURES, noVnpy, removeTempDirs, runPython, tempDir } from "./helpers.ts";

const SCRIPT = join(FIXTURES, "pickles.py");
afterAll(() => removeTempDirs());

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const read = (bytes: Uint8Array) => fromVnpy(readPickle(bytes));

/** Python's own unpickling of our bytes, described as JSON by the fixture. */
function pythonLoads(pickles: Uint8Array[]): Array<{ ok?: any; error?: string }> {
  return JSON.parse(runPython(SCRIPT, ["load"], JSON.stringify(pickles.map((p) => Buffer.from(p).toString("base64")))));
}

describe.skipIf(noVnpy)(`VeighNa's pickles, read by ours${noVnpy ? ` (skipped: ${noVnpy})` : ""}`, () => {
  const marker = join(tempDir(), "pwned");
  const made = noVnpy ? {} : (JSON.parse(runPython(SCRIPT, ["make", marker])) as Record<string, string>);

  it.each([2, 3, 4, 5])("reads an OrderData of protocol %i into tradewire's naming", (proto) => {
    const order = read(b64(made[`order.p${proto}`]!)) as Record<string, unknown>;
    expect(order).toEqual({
      gatewayName: "CTP", symbol: "IF2512", exchange: "CFFEX", orderid: "42", type: "LIMIT", direction: "SHORT",
      offset: "CLOSETODAY", price: 3999.2, volume: 2, traded: 1, status: "PARTTRADED",
      datetime: Date.UTC(2025, 2, 4, 1, 30, 1, 250), reference: "ma", vtSymbol: "IF2512.CFFEX", vtOrderId: "CTP.42",
    });
  });

  it("reads every data class with enum names and epoch milliseconds", () => {
    const tick = read(b64(made["tick.p4"]!)) as Record<string, unknown>;
    expect(tick).toMatchObject({ symbol: "rb2601", exchange: "SHFE", name: "螺纹钢", lastPrice: 3100, bidPrice1: 3099, askVolume1: 7, vtSymbol: "rb2601.SHFE" });
    expect(tick).not.toHaveProperty("localtime");
    expect(read(b64(made["trade.p4"]!))).toMatchObject({ vtTradeId: "CTP.9", vtOrderId: "CTP.42", direction: "SHORT" });
    // EUREX's VeighNa value is "EUX"; tradewire's identifiers use names.
    expect(read(b64(made["position.p2"]!))).toMatchObject({ exchange: "EUREX", vtSymbol: "FDAX.EUREX", vtPositionId: "CTP.FDAX.EUREX.LONG" });
    expect(read(b64(made["account.p3"]!))).toMatchObject({ accountid: "A1", balance: 1000, frozen: 10, available: 990, vtAccountId: "CTP.A1" });
    expect(read(b64(made["contract.p5"]!))).toMatchObject({ product: "FUTURES", size: 300, pricetick: 0.2, minVolume: 1, optionType: "CALL" });
    expect(read(b64(made["bar.p4"]!))).toMatchObject({ interval: "MINUTE", closePrice: 1.5, datetime: Date.UTC(2025, 0, 2, 1, 31) });
    expect(read(b64(made["historyRequest.p2"]!))).toMatchObject({ start: Date.UTC(2025, 0, 1, 16), interval: "HOUR" });
    expect(read(b64(made["orderRequest.p4"]!))).toMatchObject({ direction: "LONG", type: "MARKET", offset: "NONE", volume: 1 });
  });

  it("reads the wire's envelopes: a call, a reply, an event, a heartbeat", () => {
    expect(read(b64(made["call"]!))).toMatchObject(["send_order", [{ symbol: "IF2512", type: "MARKET" }, "CTP"], {}]);
    expect(read(b64(made["reply"]!))).toMatchObject([true, [{ symbol: "IF2512" }, { symbol: "IF2512" }]]);
    const event = readPickle(b64(made["event"]!)) as unknown[];
    expect(event[1]).toBeInstanceOf(PyObject);
    expect(fromVnpy(event as never)).toMatchObject(["", { type: "eOrder.CTP.42", data: { vtOrderId: "CTP.42" } }]);
    expect(read(b64(made["heartbeat"]!))).toEqual(["heartbeat", 1735781400.25]);
  });

  it("reads datetimes: naive (local, as Python's timestamp()), fixed offsets, UTC, dates; and plain data", () => {
    expect(read(b64(made["naive"]!))).toBe(new Date(2025, 0, 2, 3, 4, 5).getTime());
    expect(read(b64(made["fixedTz"]!))).toBe(Date.UTC(2025, 0, 2, 8, 4, 5));
    expect(read(b64(made["utc"]!))).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
    expect(read(b64(made["date"]!))).toBe(new Date(2025, 0, 2).getTime());
    expect(read(b64(made["plain"]!))).toEqual({ a: [1, 2.5, null, true, "x", Uint8Array.of(0, 1)], n: -7, big: 2 ** 40, t: [1, 2] });
  });

  it("refuses the os.system pickle (protocols 2 and 4), and nothing runs", () => {
    for (const name of ["os.system", "os.system.p4"]) {
      expect(() => readPickle(b64(made[name]!))).toThrow(/Pickle refers to posix\.system, which is not allowed/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses unknown globals, huge integers and deep nesting", () => {
    expect(() => readPickle(b64(made["unknownGlobal"]!))).toThrow(/builtins\.Exception, which is not allowed/);
    expect(() => readPickle(b64(made["hugeInt"]!))).toThrow(PickleRefused);
    expect(() => readPickle(b64(made["deep"]!))).toThrow(/nests deeper than 32 levels/);
  });

  it("writes objects that Python unpickles into VeighNa's own classes", () => {
    const t = Date.UTC(2025, 2, 4, 1, 30, 1, 250);
    const order = {
      gatewayName: "SIM", symbol: "IF2512", exchange: "CFFEX", orderid: "7", type: "LIMIT", direction: "LONG", offset: "OPEN",
      price: 3999.2, volume: 1, traded: 0, status: "NOTTRADED", datetime: t, reference: "", statusMsg: "", vtSymbol: "IF2512.CFFEX", vtOrderId: "SIM.7",
    };
    const account = { gatewayName: "SIM", accountid: "SIM", preBalance: 1, balance: 100, frozen: 5, available: 95, margin: 3, closeProfit: 0,
      holdingProfit: 0, commission: 1.5, currency: "CNY", vtAccountId: "SIM.SIM" };
    const position = { gatewayName: "SIM", symbol: "FDAX", exchange: "EUREX", direction: "SHORT", volume: 1, frozen: 0, price: 2, pnl: 0, ydVolume: 0,
      vtSymbol: "FDAX.EUREX", vtPositionId: "SIM.FDAX.EUREX.SHORT" };
    const log = { gatewayName: "SIM", msg: "hello", level: 20, datetime: t };
    const [o, a, p, l, e] = pythonLoads([
      writePickle(toVnpy(order)), writePickle(toVnpy(account)), writePickle(toVnpy(position)), writePickle(toVnpy(log)),
      writePickle(["", new PyObject("Event", { type: "eOrder.SIM.7", data: toVnpy(order) })]),
    ]);
    expect(o!.ok).toMatchObject({
      class: "OrderData",
      state: {
        gateway_name: "SIM", symbol: "IF2512", exchange: { enum: "Exchange", name: "CFFEX" }, direction: { enum: "Direction", name: "LONG", value: "多" },
        offset: { name: "OPEN" }, status: { name: "NOTTRADED" }, price: { float: 3999.2 }, volume: { float: 1 },
        datetime: { datetime: "2025-03-04T09:30:01.250000+08:00", tz: "Asia/Shanghai" }, vt_orderid: "SIM.7", vt_symbol: "IF2512.CFFEX",
        extra: { status_msg: "" },
      },
    });
    expect(a!.ok).toMatchObject({ class: "AccountData", state: { balance: { float: 100 }, available: { float: 95 }, vt_accountid: "SIM.SIM", extra: { pre_balance: 1, commission: { float: 1.5 }, currency: "CNY" } } });
    // VeighNa's identifiers use the exchange's value (EUX) and the direction's value (多/空).
    expect(p!.ok).toMatchObject({ class: "PositionData", state: { vt_symbol: "FDAX.EUX", vt_positionid: "SIM.FDAX.EUX.空", exchange: { name: "EUREX" } } });
    expect(l!.ok).toMatchObject({ class: "LogData", state: { msg: "hello", level: 20, time: { tz: "Asia/Shanghai" } } });
    expect(e!.ok).toMatchObject(["", { class: "Event", type: "eOrder.SIM.7", data: { class: "OrderData" } }]);
  });

  it("round-trips our objects through Python's pickle unchanged", () => {
    const trade = { gatewayName: "SIM", symbol: "IF2512", exchange: "CFFEX", orderid: "7", tradeid: "3", direction: "SHORT", offset: "CLOSE",
      price: 4000, volume: 2, datetime: Date.UTC(2025, 0, 2, 3, 4, 5, 6), commission: 23.5, vtSymbol: "IF2512.CFFEX", vtOrderId: "SIM.7", vtTradeId: "SIM.3" };
    expect(read(writePickle(toVnpy(trade)))).toEqual(trade);
  });
});

describe("the reader on its own", () => {
  const refuse = (bytes: number[]) => () => readPickle(Uint8Array.from(bytes));
  const str = (s: string) => [0x8c, s.length, ...Buffer.from(s)];

  it("refuses protocol 0/1 opcodes, a bad protocol, truncation and non-enum getattr", () => {
    expect(refuse([0x63, ...Buffer.from("os\nsystem\n"), 0x2e])).toThrow(/os\.system, which is not allowed/);
    expect(refuse([0x80, 6, 0x4e, 0x2e])).toThrow(/protocol 6/);
    expect(refuse([0x80, 2, 0x49])).toThrow(/0x49 \(INT\)/);
    expect(refuse([0x80, 4, 0x8c, 10, 0x41])).toThrow(/truncated/);
    // getattr(Direction, "__class__"): only members are allowed.
    expect(refuse([0x80, 4, ...str("builtins"), ...str("getattr"), 0x93, ...str("vnpy.trader.constant"), ...str("Direction"), 0x93, ...str("__class__"), 0x86, 0x52, 0x2e]))
      .toThrow(/Direction has no member __class__/);
    // getattr(ZoneInfo, "no_cache") is not _unpickle.
    expect(refuse([0x80, 4, ...str("builtins"), ...str("getattr"), 0x93, ...str("zoneinfo"), ...str("ZoneInfo"), 0x93, ...str("no_cache"), 0x86, 0x52, 0x2e]))
      .toThrow(/not allowed/);
    // A vnpy class given constructor arguments.
    expect(refuse([0x80, 4, ...str("vnpy.trader.object"), ...str("OrderData"), 0x93, 0x4e, 0x85, 0x81, 0x2e])).toThrow(/constructor arguments/);
  });

  it("refuses a billion laughs (shared lists) by counting values, and cycles by depth", () => {
    // l0 = [1]*10; l(n+1) = [l(n)]*10, 12 levels: 10^12 values once expanded, a few hundred bytes on the wire.
    const bytes: number[] = [0x80, 4, 0x5d, 0x28, ...Array(10).fill([0x4b, 1]).flat(), 0x65, 0x94, 0x30];
    for (let i = 0; i < 12; i++) bytes.push(0x5d, 0x28, ...Array(10).fill([0x68, i]).flat(), 0x65, 0x94, 0x30);
    bytes.push(0x68, 12, 0x2e);
    expect(refuse(bytes)).toThrow(/more than 1000000 values/);
    // l = []; l.append(l)
    expect(refuse([0x80, 4, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e])).toThrow(/nests deeper/);
  });

  it("refuses a pickle larger than the limit before reading it", () => {
    expect(() => readPickle(new Uint8Array(100), { maxBytes: 10 })).toThrow(/100 bytes exceeds 10/);
  });

  it("never lets __proto__ become a key", () => {
    expect(refuse([0x80, 4, 0x7d, ...str("__proto__"), 0x4b, 1, 0x73, 0x2e])).toThrow(/__proto__/);
  });
});
