/** The JSON codec refuses what the MessagePack codec refuses: `__proto__` keys, however written. */
import { describe, expect, it } from "vitest";
import { jsonCodec, msgpackCodec } from "../../lib/index.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("jsonCodec", () => {
  it.each([
    ["a top-level key", '{"__proto__":{"x":1}}'],
    ["a nested key", '[1,{"a":{"__proto__":null}}]'],
    ["a key spelled with \\u escapes", '{"\\u005f_proto\\u005f_":{"x":1}}'],
  ])("refuses __proto__ as %s, as the MessagePack codec does", (_, text) => {
    const value = JSON.parse(text) as unknown; // an own property named __proto__, as a peer could send
    expect(() => jsonCodec().decode(utf8(text))).toThrow(/__proto__ is not allowed/);
    const msgpack = msgpackCodec();
    expect(() => msgpack.decode(msgpack.encode(value))).toThrow(/__proto__ is not allowed/);
  });

  it("refuses __proto__ keys only: the word as a value, escapes and plain data still decode", () => {
    const codec = jsonCodec();
    expect(() => codec.decode(utf8('{"a":{"__proto__":1}}'))).toThrow(/__proto__ is not allowed/);
    const value = { a: [1, "x", null, { b: true }], c: "__proto__", d: ["__proto__"], "\u00e9": "\u0041" };
    expect(codec.decode(codec.encode(value))).toEqual(value);
    expect(codec.decode(utf8('{"k":"\\u0041","__proto":"__proto__"}'))).toEqual({ k: "A", __proto: "__proto__" });
    expect(() => codec.decode(utf8("{"))).toThrow(SyntaxError);
  });
});
