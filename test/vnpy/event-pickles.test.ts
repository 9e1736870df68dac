/**
 * An event put under two types (VeighNa's general and specific ones) is pickled with its data
 * written once: the bytes are exactly those of `writePickle(["", Event(type, data)])` for each.
 */
import { describe, expect, it } from "vitest";
import { toVnpy } from "../../transports/vnpy/model.ts";
import { writeEventPickles, writePickle } from "../../transports/vnpy/pickle-writer.ts";
import { PyObject } from "../../transports/vnpy/py-values.ts";

const order = {
  gatewayName: "SIM", symbol: "IF2512", exchange: "CFFEX", orderid: "7", type: "LIMIT", direction: "LONG", offset: "OPEN",
  price: 3990.2, volume: 1, traded: 0, status: "NOTTRADED", datetime: Date.UTC(2025, 11, 1, 1, 30), reference: "héllo 策略", vtSymbol: "IF2512.CFFEX", vtOrderId: "SIM.7",
};

describe("writeEventPickles", () => {
  it.each([
    ["an order", toVnpy(order)],
    ["plain data", { n: 1, list: [1.5, "x", null], nested: { deep: [true, false] } } as never],
    ["nothing", null],
  ])("writes %s under each type as writePickle does", (_, data) => {
    const types = ["eOrder.", "eOrder.SIM.7", ""];
    expect(writeEventPickles(types, data)).toEqual(types.map((type) => writePickle(["", new PyObject("Event", { type, data })])));
  });
});
