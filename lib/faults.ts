import { intercept, type AnyTransport, type FrameFilter } from "./intercept.ts";

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
  /** Frames delivered, dropped (by loss, cut or close), and waiting out their latency now. */
  readonly stats: { forwarded: number; dropped: number; delayed: number };
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
  const stats = { forwarded: 0, dropped: 0, delayed: 0 };
  let isCut = false;
  // One FIFO and one timer for its head: frames leave in the order they came, whatever the
  // latency was when each arrived (separate timers of different lengths could overtake).
  const queue: Array<{ due: number; forward: () => void }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const deliver = (forward: () => void) => {
    if (isCut) {
      stats.dropped++;
      return;
    }
    stats.forwarded++;
    forward();
  };

  const drain = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      stats.delayed--;
      deliver(queue.shift()!.forward);
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.due - now);
  };

  const filter: FrameFilter = (_event, forward) => {
    if (isCut || (lossRate > 0 && random() < lossRate)) {
      stats.dropped++;
      return;
    }
    if (latencyMs <= 0 && queue.length === 0) return deliver(forward);
    const now = performance.now();
    queue.push({ due: Math.max(now + latencyMs, queue.at(-1)?.due ?? 0), forward });
    stats.delayed++;
    timer ??= setTimeout(drain, queue[0]!.due - now);
  };

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
  const onClose = () => {
    clearTimeout(timer);
    timer = undefined;
    stats.dropped += queue.length;
    stats.delayed = 0;
    queue.length = 0;
  };
  return intercept(transport, filter, { faults, onClose });
}

function checkOptions(latencyMs: number, lossRate: number): void {
  if (!(latencyMs >= 0)) throw new RangeError("latencyMs must be a non-negative number");
  if (!(lossRate >= 0 && lossRate <= 1)) throw new RangeError("lossRate must be between 0 and 1");
}
