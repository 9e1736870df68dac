/**
 * Plain `tradewire serve`: the simulated exchange from sim/ (its ready-made demo exchange:
 * IF2512.CFFEX, rb2601.SHFE and BTCUSDT.GLOBAL on a real-time clock, account "SIM", a noise
 * bot) served as an RpcService with VeighNa's RpcEngine functions and `eTick.`/`eOrder.`/…
 * topics. Loaded on demand so `serve --demo`, `call` and `listen` never load sim/.
 */
import type { RpcServer } from "../lib/index.ts";

/** Serve the simulated exchange on `server` (this starts the server). Returns what stops both. */
export async function serveSimulator(server: RpcServer): Promise<() => Promise<void>> {
  const { serveDemoExchange } = await import("../sim/index.ts");
  const { stop } = await serveDemoExchange(server);
  return stop;
}
