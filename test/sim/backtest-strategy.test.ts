/** The playground's editable JavaScript MA crossover trades exactly as sim's MaCrossStrategy. */
import { describe, expect, it } from "vitest";
import { runJob } from "../../sim/sweep/job.ts";
import { MA_CROSS_SOURCE, moduleUrl, STRATEGY_EXPORT } from "../../playground/src/backtest-strategy.ts";

describe("the Backtest tab's strategy source", () => {
  it("matches MaCrossStrategy trade for trade", async () => {
    const common = { params: { fast: 3, slow: 12 }, vtSymbol: "IF2512.CFFEX", durationMs: 6 * 3_600_000, backtest: { seed: 5 }, detail: true };
    const js = await runJob({ ...common, strategy: { module: moduleUrl(MA_CROSS_SOURCE), export: STRATEGY_EXPORT } });
    const ts = await runJob({ ...common, strategy: { module: new URL("../../sim/ma-cross.ts", import.meta.url).href, export: "MaCrossStrategy" } });
    expect(js.error).toBeUndefined();
    expect(ts.error).toBeUndefined();
    expect(js.tradeCount).toBeGreaterThan(0);
    expect(js.detail!.trades).toEqual(ts.detail!.trades);
    expect(js.statistics).toEqual(ts.statistics);
  });
});
