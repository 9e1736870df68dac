/** What a person typing arguments (the CLI) gets from RpcService's schemas when an enum value is wrong: the names it takes. */
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { HistoryRequestSchema, OrderRequestSchema } from "../../sim/index.ts";

const order = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", price: 4000.2, volume: 1 };
const messages = (schema: v.GenericSchema, input: unknown) => {
  const result = v.safeParse(schema, input);
  return result.success ? [] : result.issues.map((issue) => issue.message);
};

describe("RpcService's argument schemas", () => {
  it("refuse an unknown enum value with the names it takes", () => {
    expect(messages(OrderRequestSchema, { ...order, direction: "UP" })).toEqual(['Unknown direction "UP": expected one of LONG, SHORT, NET']);
    expect(messages(OrderRequestSchema, { ...order, offset: 1 })).toEqual([
      "Unknown offset 1: expected one of NONE, OPEN, CLOSE, CLOSETODAY, CLOSEYESTERDAY",
    ]);
    expect(messages(HistoryRequestSchema, { symbol: "IF2512", exchange: "CFFEX", start: 0, interval: "2m" })).toEqual([
      'Unknown interval "2m": expected one of MINUTE, HOUR, DAILY, WEEKLY, TICK',
    ]);
  });
});
