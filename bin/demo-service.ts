/** The functions and topic of `tradewire serve --demo`: small, to try calls and broadcasts. */
import type { RpcServer } from "../lib/index.ts";
import { RpcError } from "../lib/index.ts";

export const DEMO_TOPIC = "tick.DEMO";
export const DEMO_TICK_MS = 100;
/** The longest `sleep`: the longest timer JavaScript keeps (2^31 - 1 ms). */
export const MAX_SLEEP_MS = 2 ** 31 - 1;

/** Register `add`, `echo` and `sleep` (at most MAX_SLEEP_MS); start publishing `tick.DEMO`. Returns a function that stops the ticks. */
export function serveDemo(server: RpcServer): () => void {
  server.register("add", (a: unknown, b: unknown) => {
    if (typeof a !== "number" || typeof b !== "number") throw new RpcError("INVALID_ARGUMENT", "add takes two numbers");
    return a + b;
  });
  server.register("echo", (...args: unknown[]) => (args.length === 2 ? args[0] : args.slice(0, -1)));
  server.register("sleep", (ms: unknown, context: { signal: AbortSignal }) => {
    if (typeof ms !== "number" || !(ms >= 0)) throw new RpcError("INVALID_ARGUMENT", "sleep takes a number of milliseconds");
    // Longer timers fire at once (with Node's TimeoutOverflowWarning): refuse rather than lie.
    if (ms > MAX_SLEEP_MS) throw new RpcError("INVALID_ARGUMENT", `sleep takes at most ${MAX_SLEEP_MS} ms (about 24.8 days), got ${ms}`);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => resolve(ms), ms);
      context.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(context.signal.reason);
      }, { once: true });
    });
  });
  let seq = 0;
  let price = 4000;
  const timer = setInterval(() => {
    if (!server.running) return; // before start() or after stop()
    seq += 1;
    // A deterministic wiggle, so runs are comparable.
    price = Math.round((price + Math.sin(seq / 7) * 0.6) * 10) / 10;
    server.publish(DEMO_TOPIC, { seq, lastPrice: price, time: Date.now() });
  }, DEMO_TICK_MS);
  return () => clearInterval(timer);
}
