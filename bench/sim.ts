/**
 * The simulator's throughput, each row beside a baseline measured in the same run:
 * - `sim matching mixed`: limits, marketable limits, market sweeps and cancels through the order
 *   book at the heart of the matching engine, against a naive array-per-level book (the design
 *   of popular JavaScript books: shift/splice reindex a level) fed the identical stream;
 * - `sim strategy ticks/s`: ticks through exchange → SimGateway → event engine → a trivial
 *   strategy on the virtual clock, against the bare seeded generator making the same ticks;
 * - `sim rpc order round trip p50[ message-port| zeromq tcp]`: sendOrder → trade at the client
 *   through RpcGateway, with the RpcService over the memory transport in this thread, in a worker
 *   over MessagePort, and in a child process over ZeroMQ tcp; against the same orders through the
 *   SimGateway in process, on the same venue (bench/fixtures/sim-order-venue.ts).
 *
 * `npx tsx bench/sim.ts [--quick]` runs it alone.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, Worker } from "node:worker_threads";
import { RpcClient } from "../lib/index.ts";
import type { ClientTransport } from "../lib/transport.ts";
import { memoryHub } from "../transports/memory.ts";
import { messagePortClient } from "../transports/message-port.ts";
import { zmqClient } from "../transports/zeromq/index.ts";
import {
  Backtest, EventEngine, OrderBook, Random, RpcGateway, randomWalkFeed, type Gateway, type InstrumentSpec, type Side, type Strategy,
} from "../sim/index.ts";
import { benchOrder, localVenue, serveVenue } from "./fixtures/sim-order-venue.ts";
import { percentile, row, type BenchRow } from "./stats.ts";
import { freePort } from "./free-port.ts";

export async function benchSim({ quick = false } = {}): Promise<BenchRow[]> {
  return [
    matchingMixed(quick ? 300_000 : 2_000_000),
    matchingDeep(quick ? 100_000 : 400_000),
    await strategyTicks(quick ? 200_000 : 1_000_000),
    ...(await rpcRoundTrips(quick ? 2_000 : 10_000)),
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

const RPC_BASELINE = "SimGateway in process, same venue and orders";

/**
 * sendOrder → trade at the client's event engine through RpcGateway, over memory (service in
 * this thread), MessagePort (service in a worker) and ZeroMQ tcp (service in a child process),
 * each beside the in-process SimGateway on the same filling venue.
 */
async function rpcRoundTrips(iterations: number): Promise<BenchRow[]> {
  const direct = await localVenue();
  const baseline = percentile(await orderRoundTrips(direct, iterations, iterations), 50);
  await direct.close();
  const rows: BenchRow[] = [];
  const paths: Array<[string, () => Promise<RemoteVenue>]> = [
    ["", memoryVenue],
    [" message-port", workerVenue],
    [" zeromq tcp", zeromqVenue],
  ];
  for (const [suffix, start] of paths) {
    const venue = await start();
    try {
      const client = new RpcClient({ transport: venue.client, heartbeatToleranceMs: 0 });
      const gateway = new RpcGateway({ client, eventEngine: new EventEngine() });
      try {
        await gateway.connect();
        const samples = await orderRoundTrips(gateway, iterations, Math.max(200, iterations / 4));
        rows.push(row(`sim rpc order round trip p50${suffix}`, "µs", percentile(samples, 50), baseline, RPC_BASELINE));
      } finally {
        await gateway.close();
        await client.stop();
      }
    } finally {
      await venue.stop();
    }
  }
  return rows;
}

interface RemoteVenue {
  client: ClientTransport;
  stop(): Promise<void>;
}

async function memoryVenue(): Promise<RemoteVenue> {
  const hub = memoryHub();
  const served = await serveVenue(hub.server);
  return { client: hub.client(), stop: () => served.stop() };
}

async function workerVenue(): Promise<RemoteVenue> {
  const channel = new MessageChannel();
  const worker = new Worker(new URL("./fixtures/node-ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./fixtures/sim-rpc-peer.ts", import.meta.url).href, port: channel.port2 },
    transferList: [channel.port2],
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`Sim worker exited with ${code} before it was ready`)));
  });
  return {
    client: messagePortClient(channel.port1 as never),
    async stop() {
      channel.port1.close();
      await worker.terminate();
    },
  };
}

async function zeromqVenue(): Promise<RemoteVenue> {
  const rep = `tcp://127.0.0.1:${await freePort()}`;
  const pub = `tcp://127.0.0.1:${await freePort()}`;
  const peer = fileURLToPath(new URL("./fixtures/sim-rpc-peer.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", peer, JSON.stringify({ rep, pub })], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", () => resolve());
    child.once("exit", (code) => reject(new Error(`Sim ZeroMQ peer exited with ${code} before it was ready`)));
  });
  return {
    client: zmqClient({ req: rep, sub: pub }),
    async stop() {
      child.stdin!.end();
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Sequential sendOrder → trade round trips in µs, sorted. The warm-up waits for each trade with a
 * time limit and goes on until trades arrive (a ZeroMQ subscription takes a moment to reach the
 * publisher); a trade missing while measuring is an error, not a hang.
 */
async function orderRoundTrips(gateway: Gateway, iterations: number, warmup: number): Promise<number[]> {
  let onTrade: () => void = () => {};
  const off = gateway.eventEngine.register("eTrade.", () => onTrade());
  const once = async (i: number, limitMs: number): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const filled = new Promise<boolean>((resolve) => {
      onTrade = () => resolve(true);
      timer = setTimeout(() => resolve(false), limitMs);
    });
    await gateway.sendOrder(benchOrder(i));
    const ok = await filled;
    clearTimeout(timer);
    return ok;
  };
  try {
    let i = 0;
    for (let seen = 0; seen < warmup; i++) {
      if (await once(i, 250)) seen++;
      else if (i > warmup + 1000) throw new Error("No trade events arrive from the venue");
    }
    const samples = new Array<number>(iterations);
    for (let k = 0; k < iterations; k++, i++) {
      const start = performance.now();
      if (!(await once(i, 5000))) throw new Error(`Trade ${k} did not arrive within 5 s`);
      samples[k] = (performance.now() - start) * 1000;
    }
    return samples.sort((a, b) => a - b);
  } finally {
    off();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rows = await benchSim({ quick: process.argv.includes("--quick") });
  for (const r of rows) console.log(`${r.name.padEnd(44)} ${r.value.toLocaleString("en-US").padStart(14)} ${r.unit.padEnd(9)} baseline ${r.baseline.toLocaleString("en-US").padStart(14)}  ratio ${r.ratio}  (${r.baselineName})`);
}
