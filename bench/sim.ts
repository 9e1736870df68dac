/**
 * The simulator's throughput, each row beside a baseline measured in the same run:
 * - `sim matching mixed`: limits, marketable limits, market sweeps and cancels through the order
 *   book at the heart of the matching engine, against a naive array-per-level book (the design
 *   of popular JavaScript books: shift/splice reindex a level) fed the identical stream;
 * - `sim strategy ticks/s`: ticks through exchange → SimGateway → event engine → a trivial
 *   strategy on the virtual clock, against the bare seeded generator making the same ticks;
 * - `sim rpc order round trip p50`: sendOrder → fill seen by the strategy through RpcGateway
 *   over the memory transport, against the same through SimGateway in process.
 *
 * `npx tsx bench/sim.ts [--quick]` runs it alone.
 */
import { pathToFileURL } from "node:url";
import { RpcClient, RpcServer } from "../lib/index.ts";
import { memoryHub } from "../transports/memory.ts";
import {
  Backtest, EventEngine, OrderBook, Random, RpcGateway, RpcService, SimExchange, SimGateway, VirtualClock,
  randomWalkFeed, type Gateway, type InstrumentSpec, type Side, type Strategy,
} from "../sim/index.ts";
import { percentile, row, type BenchRow } from "./stats.ts";

export async function benchSim({ quick = false } = {}): Promise<BenchRow[]> {
  return [
    matchingMixed(quick ? 300_000 : 2_000_000),
    matchingDeep(quick ? 100_000 : 400_000),
    await strategyTicks(quick ? 200_000 : 1_000_000),
    ...(await rpcRoundTrip(quick ? 2_000 : 10_000)),
  ];
}

// ---- matching ----

type Op =
  | { kind: "limit"; id: number; owner: number; side: Side; price: number; lots: number }
  | { kind: "market"; owner: number; side: Side; lots: number }
  | { kind: "cancel"; id: number };

/** A mixed stream around a mid of 10 000 ticks: 60% limits (a third marketable), 10% market sweeps, 30% cancels. */
function makeOps(n: number): Op[] {
  const rnd = new Random(42);
  const ops: Op[] = [];
  const live: number[] = [];
  let id = 0;
  for (let i = 0; i < n; i++) {
    const r = rnd.next();
    const side: Side = rnd.next() < 0.5 ? 1 : -1;
    const owner = rnd.int(1, 50);
    if (r < 0.6) {
      const marketable = rnd.next() < 0.33;
      const away = marketable ? -rnd.int(0, 3) : rnd.int(1, 20);
      const price = 10_000 - side * away;
      ops.push({ kind: "limit", id: ++id, owner, side, price, lots: rnd.int(1, 10) });
      live.push(id);
    } else if (r < 0.7) {
      ops.push({ kind: "market", owner, side, lots: rnd.int(5, 60) });
    } else if (live.length) {
      const k = rnd.int(0, live.length - 1);
      ops.push({ kind: "cancel", id: live[k]! });
      live[k] = live[live.length - 1]!;
      live.pop();
    }
  }
  return ops;
}

/**
 * A deep book: tens of thousands of orders resting on ten levels, then cancels from the middle of
 * the queues, small sweeps and new orders at the back — where a level's length decides the cost.
 * The mix keeps the book deep to the end (adds ≈ cancels, sweeps take a tenth of a lot per op).
 */
function makeDeepOps(n: number): Op[] {
  const rnd = new Random(7);
  const ops: Op[] = [];
  const live: number[] = [];
  let id = 0;
  const add = () => {
    const side: Side = rnd.next() < 0.5 ? 1 : -1;
    ops.push({ kind: "limit", id: ++id, owner: rnd.int(1, 50), side, price: 10_000 - side * rnd.int(1, 5), lots: 1 });
    live.push(id);
  };
  for (let i = 0; i < Math.max(40_000, n / 4); i++) add();
  for (let i = 0; i < n; i++) {
    const r = rnd.next();
    if (r < 0.45 && live.length) {
      const k = rnd.int(0, live.length - 1);
      ops.push({ kind: "cancel", id: live[k]! });
      live[k] = live[live.length - 1]!;
      live.pop();
    } else if (r < 0.55) {
      ops.push({ kind: "market", owner: 0, side: rnd.next() < 0.5 ? 1 : -1, lots: 1 });
    } else add();
  }
  return ops;
}

function matchingDeep(n: number): BenchRow {
  const ops = makeDeepOps(n);
  const ours = rate(() => runBook(ops), ops.length);
  const naive = rate(() => runNaive(ops), ops.length);
  if (ours.result !== naive.result) throw new Error(`Books disagree: ${ours.result} vs ${naive.result} fills`);
  return row("sim matching deep book", "orders/s", ours.perSecond, naive.perSecond, "naive array-per-level book, same stream");
}

function runBook(ops: Op[]): number {
  const book = new OrderBook<null>();
  let fills = 0;
  const onFill = () => void fills++;
  for (const op of ops) {
    if (op.kind === "cancel") book.remove(op.id);
    else if (op.kind === "market") book.take(op.side, op.side === 1 ? Infinity : -Infinity, op.lots, op.owner, onFill);
    else {
      const r = book.take(op.side, op.price, op.lots, op.owner, onFill);
      const left = op.lots - r.filled;
      if (left > 0 && !r.selfTrade) book.add(op.id, op.owner, op.side, op.price, left, null);
    }
  }
  return fills;
}

/** The baseline: levels are arrays of orders, filled with shift() and cancelled with indexOf/splice. */
function runNaive(ops: Op[]): number {
  interface O { id: number; owner: number; price: number; lots: number; side: Side }
  const levels = { 1: new Map<number, O[]>(), [-1]: new Map<number, O[]>() } as Record<Side, Map<number, O[]>>;
  const byId = new Map<number, O>();
  let fills = 0;
  const bestPrice = (side: Side): number | undefined => {
    let best: number | undefined;
    for (const p of levels[side].keys()) if (best === undefined || (side === 1 ? p > best : p < best)) best = p;
    return best;
  };
  const take = (side: Side, limit: number, lots: number, owner: number): { filled: number; self: boolean } => {
    const opp = -side as Side;
    let left = lots;
    while (left > 0) {
      const p = bestPrice(opp);
      if (p === undefined || (side === 1 ? p > limit : p < limit)) break;
      const level = levels[opp].get(p)!;
      const maker = level[0]!;
      if (maker.owner === owner) return { filled: lots - left, self: true };
      const q = Math.min(maker.lots, left);
      maker.lots -= q;
      left -= q;
      fills++;
      if (maker.lots === 0) {
        level.shift();
        byId.delete(maker.id);
        if (!level.length) levels[opp].delete(p);
      }
    }
    return { filled: lots - left, self: false };
  };
  for (const op of ops) {
    if (op.kind === "cancel") {
      const o = byId.get(op.id);
      if (!o) continue;
      byId.delete(op.id);
      const level = levels[o.side].get(o.price)!;
      level.splice(level.indexOf(o), 1);
      if (!level.length) levels[o.side].delete(o.price);
    } else if (op.kind === "market") take(op.side, op.side === 1 ? Infinity : -Infinity, op.lots, op.owner);
    else {
      const r = take(op.side, op.price, op.lots, op.owner);
      const left = op.lots - r.filled;
      if (left > 0 && !r.self) {
        const o: O = { id: op.id, owner: op.owner, price: op.price, lots: left, side: op.side };
        byId.set(o.id, o);
        const level = levels[op.side].get(op.price);
        if (level) level.push(o);
        else levels[op.side].set(op.price, [o]);
      }
    }
  }
  return fills;
}

function rate(fn: () => number, ops: number): { perSecond: number; result: number } {
  fn(); // warm-up
  const start = performance.now();
  const result = fn();
  return { perSecond: ops / ((performance.now() - start) / 1000), result };
}

function matchingMixed(n: number): BenchRow {
  const ops = makeOps(n);
  const ours = rate(() => runBook(ops), ops.length);
  const naive = rate(() => runNaive(ops), ops.length);
  if (ours.result !== naive.result) throw new Error(`Books disagree: ${ours.result} vs ${naive.result} fills`);
  return row("sim matching mixed", "orders/s", ours.perSecond, naive.perSecond, "naive array-per-level book, same stream");
}

// ---- strategy ticks ----

const IF: InstrumentSpec = {
  symbol: "IF2512", exchange: "CFFEX", size: 300, pricetick: 0.2, walk: { startPrice: 4000, volatility: 2, intervalMs: 500 },
};

async function strategyTicks(n: number): Promise<BenchRow> {
  const counter: Strategy = { onTick() {} };
  const once = async () => {
    const bt = new Backtest({ seed: 5, instruments: [IF] });
    const start = performance.now();
    const result = await bt.run(counter, { vtSymbol: "IF2512.CFFEX", durationMs: n * 500 });
    return result.ticks / ((performance.now() - start) / 1000);
  };
  await once();
  const ours = await once();
  const bare = () => {
    const feed = randomWalkFeed({ random: new Random(5), startTicks: 20_000, start: 0, volatility: 2 });
    const start = performance.now();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += feed.next()!.lastPrice;
    if (sum === 0) throw new Error("unreachable");
    return n / ((performance.now() - start) / 1000);
  };
  bare();
  return row("sim strategy ticks/s", "ticks/s", ours, bare(), "bare seeded generator, same ticks");
}

// ---- RPC round trip ----

const T1: InstrumentSpec = { symbol: "T1", exchange: "LOCAL", size: 10, pricetick: 1, feed: { next: () => undefined } };

async function rpcRoundTrip(iterations: number): Promise<BenchRow[]> {
  const direct = await roundTripThrough(iterations, false);
  const rpc = await roundTripThrough(iterations, true);
  return [row("sim rpc order round trip p50", "µs", percentile(rpc, 50), percentile(direct, 50), "SimGateway in process, same orders")];
}

/** Per iteration: sendOrder (marketable), one market event, await the fill at the gateway's event engine. */
async function roundTripThrough(iterations: number, overRpc: boolean): Promise<number[]> {
  const clock = new VirtualClock();
  const exchange = new SimExchange({ clock, instruments: [T1] });
  const serverEvents = new EventEngine();
  const sim = new SimGateway({ exchange, eventEngine: serverEvents, balance: 1e12 });
  const hub = memoryHub();
  const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
  const service = new RpcService({ server, eventEngine: serverEvents, gateways: [sim] });
  await service.start();
  await sim.connect();
  let gateway: Gateway = sim;
  let client: RpcClient | undefined;
  if (overRpc) {
    client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0 });
    gateway = new RpcGateway({ client, eventEngine: new EventEngine() });
    await gateway.connect();
  }
  let onTrade: () => void = () => {};
  gateway.eventEngine.register("eTrade.", () => onTrade());
  const snap = (t: number) => ({ datetime: t, lastPrice: 100, lastVolume: 0, bids: [[99, 1e6]], asks: [[100, 1e6]] }) as never;
  const samples: number[] = [];
  const total = iterations + 200;
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    const filled = new Promise<void>((resolve) => (onTrade = resolve));
    await gateway.sendOrder({ symbol: "T1", exchange: "LOCAL", direction: i % 2 ? "SHORT" : "LONG", type: "LIMIT", price: i % 2 ? 99 : 100, volume: 1, offset: "OPEN" });
    clock.advance(1);
    exchange.applyMarket("T1.LOCAL", snap(clock.now()));
    await filled;
    if (i >= 200) samples.push((performance.now() - start) * 1000);
  }
  await client?.stop();
  await service.stop();
  return samples.sort((a, b) => a - b);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await benchSim({ quick: process.argv.includes("--quick") });
  for (const r of rows) console.log(`${r.name.padEnd(32)} ${r.value.toLocaleString("en-US").padStart(14)} ${r.unit.padEnd(9)} baseline ${r.baseline.toLocaleString("en-US").padStart(14)}  ratio ${r.ratio}  (${r.baselineName})`);
}
