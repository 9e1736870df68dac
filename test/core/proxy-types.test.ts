import { describe, expectTypeOf, it } from "vitest";
import type { Remote } from "../../lib/index.ts";

interface TradingApi {
  add(a: number, b: number): number;
  quote(symbol: string): Promise<{ bid: number; ask: number }>;
  ping(): void;
}

describe("proxy<T>() types", () => {
  it("turns every method into one returning a Promise of its awaited result", () => {
    expectTypeOf<Remote<TradingApi>["add"]>().toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf<Remote<TradingApi>["quote"]>().toEqualTypeOf<(symbol: string) => Promise<{ bid: number; ask: number }>>();
    expectTypeOf<Remote<TradingApi>["ping"]>().toEqualTypeOf<() => Promise<void>>();
  });

  it("keeps argument types checked", () => {
    const api = {} as Remote<TradingApi>;
    // @ts-expect-error a string is not a number
    void (() => api.add("1", 2));
    // @ts-expect-error missing argument
    void (() => api.quote());
    expectTypeOf(api.add).parameters.toEqualTypeOf<[number, number]>();
  });
});
