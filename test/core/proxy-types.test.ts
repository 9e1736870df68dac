import { describe, expectTypeOf, it } from "vitest";
import type { Remote } from "../../lib/index.ts";

interface Bar {
  close: number;
}

interface TradingApi {
  add(a: number, b: number): number;
  quote(symbol: string): Promise<{ bid: number; ask: number }>;
  ping(): void;
  history(symbol: string): AsyncGenerator<Bar>;
  allBars(): Bar[];
}

type Api = Remote<TradingApi>;

describe("proxy<T>() types", () => {
  it("turns every method into one returning a Promise of its awaited result", () => {
    const api = {} as Remote<TradingApi>;
    expectTypeOf(api.add).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(api.quote).returns.toEqualTypeOf<Promise<{ bid: number; ask: number }>>();
    expectTypeOf(api.ping).returns.toEqualTypeOf<Promise<void>>();
  });

  it("keeps argument types checked", () => {
    const api = {} as Remote<TradingApi>;
    // @ts-expect-error a string is not a number
    void (() => api.add("1", 2));
    // @ts-expect-error missing argument
    void (() => api.quote());
    // @ts-expect-error a number is not a symbol
    void (() => api.history.stream(1));
    expectTypeOf(api.add).parameters.toEqualTypeOf<[number, number]>();
    expectTypeOf<Api["history"]["stream"]>().parameters.toEqualTypeOf<[string]>();
  });

  it("streams a generator's items or an array's elements; a call collects a generator into an array", () => {
    expectTypeOf<Api["history"]["stream"]>().returns.toEqualTypeOf<AsyncIterableIterator<Bar>>();
    expectTypeOf<Api["history"]>().returns.toEqualTypeOf<Promise<Bar[]>>();
    expectTypeOf<Api["allBars"]["stream"]>().returns.toEqualTypeOf<AsyncIterableIterator<Bar>>();
    expectTypeOf<Api["allBars"]>().returns.toEqualTypeOf<Promise<Bar[]>>();
    expectTypeOf<Api["quote"]["stream"]>().returns.toEqualTypeOf<AsyncIterableIterator<{ bid: number; ask: number }>>();
  });
});
