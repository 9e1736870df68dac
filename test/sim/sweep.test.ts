/**
 * Parameter sweeps: the runner served through comlink, in this thread over a MessageChannel and
 * on Node worker threads; the ranking is the same whatever the pool size.
 */
import { describe, expect, it } from "vitest";
import { nodeWorkerFactory } from "../../bin/sweep-node.ts";
import { exposeRunner, parameterGrid, runJob, runSweep, type SweepOptions, type WorkerFactory } from "../../sim/sweep/index.ts";

const MA_CROSS = { module: new URL("../../sim/ma-cross.ts", import.meta.url).href, export: "MaCrossStrategy" };
const JOB = { strategy: MA_CROSS, vtSymbol: "rb2601.SHFE", durationMs: 90 * 60_000, backtest: { seed: 5 } };

/** The runner in this thread, behind a MessageChannel (what a browser's worker would give). */
const inThread: WorkerFactory = () => {
  const { port1, port2 } = new MessageChannel();
  exposeRunner(port2);
  return { endpoint: port1, terminate: () => { port1.close(); port2.close(); } };
};

const sweep = (createWorker: WorkerFactory, workers: number, onProgress?: (f: number) => void) => {
  const options: SweepOptions = {
    job: JOB, grid: { fast: [3, 5], slow: [10, 20] }, fixed: { slip: 1 }, target: "totalNetPnl", createWorker, workers,
  };
  if (onProgress) options.onProgress = onProgress;
  return runSweep(options);
};

describe("parameter sweep", () => {
  it("expands a grid into every combination, the last key fastest", () => {
    expect(parameterGrid({ a: [1, 2], b: ["x", "y"] })).toEqual([{ a: 1, b: "x" }, { a: 1, b: "y" }, { a: 2, b: "x" }, { a: 2, b: "y" }]);
    expect(() => parameterGrid({ a: [] })).toThrow(RangeError);
  });

  it("ranks by the target, best first, with progress to the end, over comlink in this thread", async () => {
    const seen: number[] = [];
    const ranked = await sweep(inThread, 2, (f) => seen.push(f));
    expect(ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.value).toBeGreaterThanOrEqual(ranked[i]!.value);
    for (const r of ranked) {
      expect(r.error).toBeUndefined();
      expect(r.value).toBe(r.statistics!.totalNetPnl);
      expect(r.params.slip).toBe(1);
    }
    expect(seen.at(-1)).toBe(1);
    // A job is its seed and parameters: the sweep's best is what the same job gives alone.
    const alone = await runJob({ ...JOB, params: ranked[0]!.params });
    expect(alone.statistics).toEqual(ranked[0]!.statistics);
  });

  it("gives the same ranking on one and on two Node worker threads, and reports a bad job as a failure", async () => {
    const one = await sweep(nodeWorkerFactory, 1);
    const two = await sweep(nodeWorkerFactory, 2);
    expect(two.map((r) => [r.params, r.statistics])).toEqual(one.map((r) => [r.params, r.statistics]));
    const bad = await runSweep({
      job: JOB, grid: { fast: [30], slow: [10] }, target: "sharpeRatio", createWorker: nodeWorkerFactory, workers: 2,
    });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ rank: 1, value: -Infinity, statistics: undefined });
    expect(bad[0]!.error).toMatch(/fast < slow/);
  });
});
