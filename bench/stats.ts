/** One row of `bench/results.json` (DESIGN.md "Benchmarks"). */
export interface BenchRow {
  name: string;
  /** "µs" (lower is better) or a rate such as "calls/s" (higher is better). */
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline: below 1 is better for latency, above 1 is better for rates. */
  ratio: number;
  /** What the baseline is, in a few words. */
  baselineName?: string;
}

export function row(name: string, unit: string, value: number, baseline: number, baselineName?: string): BenchRow {
  return { name, unit, value: round(value), baseline: round(baseline), ratio: round(value / baseline, 3), ...(baselineName ? { baselineName } : {}) };
}

export function percentile(sortedSamples: number[], p: number): number {
  if (sortedSamples.length === 0) return NaN;
  const index = Math.min(sortedSamples.length - 1, Math.max(0, Math.ceil((p / 100) * sortedSamples.length) - 1));
  return sortedSamples[index]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** Time `iterations` sequential round trips after a warm-up; returns sorted samples in µs. */
export async function roundTrips(once: () => Promise<unknown>, iterations: number, warmup = Math.min(200, iterations)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once();
  const samples = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await once();
    samples[i] = (performance.now() - start) * 1000;
  }
  return samples.sort((a, b) => a - b);
}

/** Operations per second with `inFlight` concurrent loops sharing `total` operations. */
export async function throughput(once: () => Promise<unknown>, total: number, inFlight: number): Promise<number> {
  let remaining = total;
  const worker = async () => {
    while (remaining-- > 0) await once();
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return total / ((performance.now() - start) / 1000);
}

/** Items per second read from a stream of `total` items. */
export async function streamRate(items: (total: number) => AsyncIterable<unknown>, total: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  for await (const _ of items(total)) n++;
  if (n !== total) throw new Error(`Stream gave ${n} items, expected ${total}`);
  return total / ((performance.now() - start) / 1000);
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
