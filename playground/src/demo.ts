/**
 * The playground's market: sim's demo instruments, sped up so the page sees about 50 ticks a
 * second in all (the stream the views are built to take without a jump). Volatility per step is
 * scaled down so prices move about as much per second as at the demo's own pace.
 */
import { DEFAULT_INSTRUMENTS, type InstrumentSpec } from "../../sim/index.ts";

/** Milliseconds between snapshots per instrument, by symbol; others keep the demo's pace. */
const INTERVALS: Record<string, number> = { IF2512: 100, rb2601: 100, BTCUSDT: 33 };

export const PLAYGROUND_INSTRUMENTS: InstrumentSpec[] = DEFAULT_INSTRUMENTS.map((spec) => {
  const interval = INTERVALS[spec.symbol];
  if (!spec.walk || interval === undefined) return spec;
  const before = spec.walk.intervalMs ?? 500;
  const scale = Math.sqrt(interval / before);
  return { ...spec, walk: { ...spec.walk, intervalMs: interval, volatility: (spec.walk.volatility ?? 1) * scale } };
});
