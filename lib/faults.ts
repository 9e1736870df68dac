import { intercept, type AnyTransport } from "./intercept.ts";

export interface FaultOptions {
  /** Delay added to every frame, each direction. Default 0. */
  latencyMs?: number;
  /** Probability in [0, 1] that a frame is dropped, each direction. Default 0. */
  lossRate?: number;
  /** Source of randomness for loss, for reproducible runs. Default Math.random. */
  random?: () => number;
}

export interface FaultControls {
  /** Drop every frame, both ways, until restore(): a pulled cable, not a closed socket. */
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  /** Change latency or loss while running. */
  set(options: Omit<FaultOptions, "random">): void;
  readonly stats: { forwarded: number; dropped: number };
}

/**
 * A transport that delays and drops frames and can cut and restore the link on demand.
 * Frames keep their order (one latency for all, no jitter). Timers are cleared on close.
 */
export function withFaults<T extends AnyTransport>(transport: T, options: FaultOptions = {}): T & { faults: FaultControls } {
  let latencyMs = options.latencyMs ?? 0;
  let lossRate = options.lossRate ?? 0;
  checkOptions(latencyMs, lossRate);
  const random = options.random ?? Math.random;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const stats = { forwarded: 0, dropped: 0 };
  let isCut = false;

  const wrapped = intercept(
    transport,
    (_event, forward) => {
      if (isCut || (lossRate > 0 && random() < lossRate)) {
        stats.dropped++;
        return;
      }
      stats.forwarded++;
      if (latencyMs <= 0) return forward();
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (isCut) stats.dropped++;
        else forward();
      }, latencyMs);
      timers.add(timer);
    },
    () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  );

  const faults: FaultControls = {
    cut: () => void (isCut = true),
    restore: () => void (isCut = false),
    get isCut() {
      return isCut;
    },
    set: (next) => {
      checkOptions(next.latencyMs ?? latencyMs, next.lossRate ?? lossRate);
      latencyMs = next.latencyMs ?? latencyMs;
      lossRate = next.lossRate ?? lossRate;
    },
    stats,
  };
  return Object.assign(wrapped, { faults });
}

function checkOptions(latencyMs: number, lossRate: number): void {
  if (!(latencyMs >= 0)) throw new RangeError("latencyMs must be a non-negative number");
  if (!(lossRate >= 0 && lossRate <= 1)) throw new RangeError("lossRate must be between 0 and 1");
}
