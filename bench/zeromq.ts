/**
 * The ZeroMQ transport against bare zeromq.js sockets in the same run. The server is always
 * another process (so each side has a core of its own); calls are made from this process.
 *
 * - `zeromq <tcp|ipc> call p50/p99`: sequential round trips, tradewire `echo` vs a DEALER→ROUTER
 *   echo of the same bytes;
 * - `zeromq tcp calls/s N in flight`: N concurrent callers vs a raw DEALER keeping N in flight;
 * - `zeromq tcp broadcast N sub(s)`: messages per second each subscriber process receives while
 *   the server publishes as fast as it can, vs a raw PUB → raw SUB; `… delivered` rows give
 *   the share that arrived (PUB drops at the high-water mark instead of queueing without bound).
 *
 * `… transport-only …` rows run the same through ZmqServerTransport/ZmqClientTransport without
 * the RPC core (no codec, no ids, no timers), to tell the transport's cost from the core's.
 *
 * Fairness on a shared machine: every contender is warmed up first (WARMUP round trips: fewer
 * left JIT compilation in the RPC side's p99), then contenders take turns in ROUNDS rounds whose
 * order alternates; latencies pool the samples of all rounds, rates and broadcasts take medians.
 *
 * Servers and subscribers run as roles in a few host processes started once per run (one for
 * the servers, one per subscriber: bench/fixtures/zeromq-peer.ts), each measurement with fresh
 * sockets; a subscriber reports when the end marker published after the data reaches it.
 *
 * Standalone: `npx tsx bench/zeromq.ts [--quick] [--engine native|zmtp]`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { RpcClient } from "../lib/index.ts";
import { zmqClient, type EngineName } from "../transports/zeromq/index.ts";
import { median, percentile, roundTrips, row, streamRate, throughput, type BenchRow } from "./stats.ts";
import { freePort } from "./free-port.ts";

const PEER = fileURLToPath(new URL("./fixtures/zeromq-peer.ts", import.meta.url));
const quiet = { warn: () => {}, error: () => {} };
const WARMUP = 3_000;
// The hosts and this process stay up for the whole run, so only the first contenders start cold.
const QUICK_WARMUP = 300;
const PAYLOAD = { symbol: "IF2512.CFFEX", lastPrice: 3999.2, volume: 1, bid: 3999, ask: 3999.4 };

interface Options {
  quick?: boolean;
  /** Engines of the tradewire side (server and client); the baseline is always native zeromq.js. Default: both. */
  engines?: EngineName[];
}

export async function benchZeromq({ quick = false, engines }: Options = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const hosts: Hosts = { servers: new Host(), subscribers: Array.from({ length: 4 }, () => new Host()) };
  try {
    await Promise.all([hosts.servers, ...hosts.subscribers].map((host) => host.ready()));
    // Quick mode gives the same rows as a full run, from fewer samples.
    for (const engine of engines ?? ["native", "zmtp"]) rows.push(...(await benchEngine(hosts, quick, engine)));
  } finally {
    await Promise.all([hosts.servers, ...hosts.subscribers].map((host) => host.close()));
  }
  return rows;
}

async function benchEngine(hosts: Hosts, quick: boolean, engine: EngineName): Promise<BenchRow[]> {
  const label = engine === "native" ? "zeromq" : `zeromq (${engine})`;
  const sequential = quick ? 1_000 : 10_000;
  const pipelined = quick ? 4_000 : 50_000;
  // One call in flight is the slowest row to fill: quick mode gives it fewer calls.
  const pipelinedAlone = quick ? 1_000 : pipelined;
  // Above the publishers' high-water mark (10 000), so quick runs also see what a full queue drops.
  const broadcast = quick ? 12_000 : 200_000;
  const BROADCAST_ROUNDS = quick ? 1 : 5;
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), "tw-bench-"));
  try {
    for (const protocol of ["tcp", "ipc"] as const) {
      const { raw, rpc, transport } = await callLatency(hosts, protocol, dir, engine, sequential, quick ? QUICK_WARMUP : WARMUP);
      rows.push(row(`${label} ${protocol} call p50`, "µs", percentile(rpc, 50), percentile(raw, 50), "zeromq.js DEALER→ROUTER echo"));
      rows.push(row(`${label} ${protocol} call p99`, "µs", percentile(rpc, 99), percentile(raw, 99), "zeromq.js DEALER→ROUTER echo"));
      rows.push(row(`${label} ${protocol} transport-only round trip p50`, "µs", percentile(transport, 50), percentile(raw, 50), "zeromq.js DEALER→ROUTER echo"));
    }
    for (const inFlight of [1, 16, 128]) {
      const { raw, rpc, transport, stream } = await callRate(hosts, dir, engine, inFlight === 1 ? pipelinedAlone : pipelined, inFlight, quick ? QUICK_WARMUP : 1_000);
      rows.push(row(`${label} tcp calls/s ${inFlight} in flight`, "calls/s", rpc, raw, `zeromq.js DEALER with ${inFlight} in flight`));
      if (inFlight === 128) {
        rows.push(row(`${label} tcp transport-only round trips/s ${inFlight} in flight`, "calls/s", transport, raw, `zeromq.js DEALER with ${inFlight} in flight`));
        rows.push(row(`${label} tcp stream items/s`, "items/s", stream, rpc, "tradewire calls/s of the same payload, 128 in flight"));
      }
    }
    for (const subscribers of [1, 4]) {
      const subs = `${subscribers} sub${subscribers === 1 ? "" : "s"}`;
      // Quick mode: half as many messages to 4 subscribers (still twice as many received in all):
      // every message received costs its process CPU, and 4 subscribers share 2 cores.
      const count = quick && subscribers > 1 ? broadcast / 2 : broadcast;
      const kinds: Kind[] = subscribers === 1 ? ["raw", "rpc", "transport"] : ["raw", "rpc"];
      const results: Record<Kind, BroadcastResult[]> = { raw: [], rpc: [], transport: [] };
      // Each round starts fresh sockets (in the long-lived hosts); rounds alternate the order of the contenders.
      for (let round = 0; round < BROADCAST_ROUNDS; round++) {
        for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
          results[kind].push(await broadcastOnce(hosts, kind, dir, engine, count, subscribers));
        }
      }
      const rate = (kind: Kind) => median(results[kind].map((r) => r.rate));
      const delivered = (kind: Kind) => median(results[kind].map((r) => r.delivered));
      rows.push(row(`${label} tcp broadcast ${subs}`, "msgs/s", rate("rpc"), rate("raw"), "zeromq.js PUB→SUB"));
      rows.push(row(`${label} tcp broadcast ${subs} delivered`, "%", delivered("rpc"), delivered("raw"), "zeromq.js PUB→SUB"));
      if (subscribers === 1) {
        rows.push(row(`${label} tcp transport-only broadcast ${subs}`, "msgs/s", rate("transport"), rate("raw"), "zeromq.js PUB→SUB"));
      }
      // Order events in a tick flood: what a slow subscriber still gets with ticks as latest values.
      const withLatest: number[] = [];
      const without: number[] = [];
      for (let round = 0; round < BROADCAST_ROUNDS; round++) {
        withLatest.push(await floodOnce(hosts, dir, engine, count, subscribers, true));
        without.push(await floodOnce(hosts, dir, engine, count, subscribers, false));
      }
      rows.push(row(`${label} tcp flood ${subs} order events delivered`, "%", median(withLatest), median(without), "the same flood with ticks as ordinary events"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// ── processes and addresses ────────────────────────────────────────────────────────────────

let ipcCount = 0;
async function addresses(protocol: "tcp" | "ipc", dir: string): Promise<{ rep: string; pub: string }> {
  if (protocol === "ipc") {
    ipcCount += 1;
    return { rep: `ipc://${join(dir, `rep${ipcCount}`)}`, pub: `ipc://${join(dir, `pub${ipcCount}`)}` };
  }
  return { rep: `tcp://127.0.0.1:${await freePort()}`, pub: `tcp://127.0.0.1:${await freePort()}` };
}

/** A role running in a host process (see bench/fixtures/zeromq-peer.ts). */
interface Peer {
  /** Resolves with the first line of this role satisfying `test`. */
  line(test: (line: string) => boolean): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A long-lived process hosting roles, started once per run: starting Node with tsx for every
 * measurement cost more than the measurements themselves. One host for the servers, one per
 * subscriber (so each subscriber has a process, and a core, of its own).
 */
class Host {
  readonly #child: ChildProcess;
  readonly #lines = new Map<number, string[]>();
  readonly #waiters = new Set<() => void>();
  #exited = false;
  readonly #closed: Promise<void>;
  static #ids = 0;

  constructor() {
    this.#child = spawn(process.execPath, ["--import", "tsx", PEER, "host"], { stdio: ["pipe", "pipe", "inherit"] });
    this.#lines.set(0, []);
    let partial = "";
    this.#child.stdout!.on("data", (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) {
        const space = part.indexOf(" ");
        const id = Number(part.slice(0, space));
        const list = this.#lines.get(id);
        if (list) list.push(part.slice(space + 1));
      }
      this.#wake();
    });
    this.#closed = new Promise<void>((resolve) => this.#child.once("close", () => resolve()));
    void this.#closed.then(() => {
      this.#exited = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }

  async #next(id: number, test: (line: string) => boolean): Promise<string> {
    for (;;) {
      const lines = this.#lines.get(id) ?? [];
      const failed = lines.find((line) => line.startsWith("failed "));
      if (failed !== undefined) throw new Error(`Bench peer: ${failed}`);
      const found = lines.find(test);
      if (found !== undefined) return found;
      if (this.#exited) throw new Error("Bench peer host exited early");
      await new Promise<void>((wake) => {
        const once = () => (this.#waiters.delete(once), wake());
        this.#waiters.add(once);
      });
    }
  }

  /** Resolves once the host has loaded (so its start-up does not overlap a measurement). */
  ready(): Promise<string> {
    return this.#next(0, (line) => line === "host ready");
  }

  run(args: Record<string, unknown>): Peer {
    const id = ++Host.#ids;
    this.#lines.set(id, []);
    this.#child.stdin!.write(`${JSON.stringify({ id, ...args })}\n`);
    return {
      line: (test) => this.#next(id, test),
      stop: async () => {
        if (this.#exited) return;
        this.#child.stdin!.write(`${JSON.stringify({ id, stop: true })}\n`);
        await this.#next(id, (line) => line === "stopped");
        this.#lines.delete(id);
      },
    };
  }

  async close(): Promise<void> {
    this.#child.stdin!.end();
    await this.#closed;
  }
}

/** The hosts of one run: started together, so their start-ups overlap. */
interface Hosts {
  servers: Host;
  subscribers: Host[];
}

type Kind = "raw" | "transport" | "rpc";

async function server(hosts: Hosts, role: `${Kind}-server`, rep: string, pub: string, engine: EngineName): Promise<Peer> {
  const p = hosts.servers.run({ role, rep, pub, engine });
  await p.line((line) => line === "ready");
  return p;
}

// ── raw baseline client: a DEALER with its own in-flight window ───────────────────────────

class RawCaller {
  readonly dealer = new zmq.Dealer({ linger: 0 });
  constructor(address: string) {
    this.dealer.connect(address);
  }
  async once(frame: Uint8Array): Promise<void> {
    await this.dealer.send([frame]);
    await this.dealer.receive();
  }
  /** Calls per second keeping `inFlight` requests outstanding. */
  async rate(frame: Uint8Array, total: number, inFlight: number): Promise<number> {
    const start = performance.now();
    let sent = 0;
    for (; sent < Math.min(inFlight, total); sent++) await this.dealer.send([frame]);
    for (let received = 0; received < total; received++) {
      await this.dealer.receive();
      if (sent < total) {
        sent += 1;
        await this.dealer.send([frame]);
      }
    }
    return total / ((performance.now() - start) / 1000);
  }
  close(): void {
    this.dealer.close();
  }
}

/** The same echo through ZmqClientTransport, without the RPC core. */
class TransportCaller {
  private resolveReply: () => void = () => {};
  readonly transport;
  constructor(rep: string, pub: string, engine: EngineName) {
    this.transport = zmqClient({ req: rep, sub: pub, engine });
  }
  connect(): Promise<void> {
    return this.transport.connect({ reply: () => this.resolveReply(), broadcast: () => {} });
  }
  once(frame: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.resolveReply = resolve;
      this.transport.send(frame);
    });
  }
  /** Frames per second keeping `inFlight` outstanding. */
  rate(frame: Uint8Array, total: number, inFlight: number): Promise<number> {
    return new Promise((resolve) => {
      const start = performance.now();
      let sent = 0;
      let received = 0;
      this.resolveReply = () => {
        received += 1;
        if (received === total) resolve(total / ((performance.now() - start) / 1000));
        else if (sent < total) (sent++, this.transport.send(frame));
      };
      for (; sent < Math.min(inFlight, total); sent++) this.transport.send(frame);
    });
  }
  close(): Promise<void> {
    return this.transport.close();
  }
}

// The raw echo carries the same bytes the RPC layer would put on the wire for one call.
const rawFrame = new TextEncoder().encode(JSON.stringify(PAYLOAD).padEnd(80));

async function rpcClient(rep: string, pub: string, engine: EngineName): Promise<RpcClient> {
  const client = new RpcClient({ transport: zmqClient({ req: rep, sub: pub, engine }), logger: quiet });
  await client.start();
  return client;
}

/** Sequential round trips per contender; rounds alternate so load from elsewhere hits all alike. */
const ROUNDS = 5;

async function callLatency(hosts: Hosts, protocol: "tcp" | "ipc", dir: string, engine: EngineName, iterations: number, warmup: number) {
  const ra = await addresses(protocol, dir);
  const ta = await addresses(protocol, dir);
  const pa = await addresses(protocol, dir);
  const servers = await Promise.all([
    server(hosts, "raw-server", ra.rep, ra.pub, engine),
    server(hosts, "transport-server", ta.rep, ta.pub, engine),
    server(hosts, "rpc-server", pa.rep, pa.pub, engine),
  ]);
  const caller = new RawCaller(ra.rep);
  const bare = new TransportCaller(ta.rep, ta.pub, engine);
  await bare.connect();
  const client = await rpcClient(pa.rep, pa.pub, engine);
  try {
    const contenders = {
      raw: () => caller.once(rawFrame),
      transport: () => bare.once(rawFrame),
      rpc: () => client.call("echo", [PAYLOAD]),
    };
    const samples = { raw: [] as number[], transport: [] as number[], rpc: [] as number[] };
    for (const once of Object.values(contenders)) await roundTrips(once, 0, warmup);
    const perRound = Math.ceil(iterations / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = (round % 2 === 0 ? ["raw", "transport", "rpc"] : ["rpc", "transport", "raw"]) as (keyof typeof contenders)[];
      for (const name of order) samples[name].push(...(await roundTrips(contenders[name], perRound, 0)));
    }
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    return { raw: sorted(samples.raw), transport: sorted(samples.transport), rpc: sorted(samples.rpc) };
  } finally {
    caller.close();
    await bare.close();
    await client.stop();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

async function callRate(hosts: Hosts, dir: string, engine: EngineName, total: number, inFlight: number, warmup: number) {
  const ra = await addresses("tcp", dir);
  const pa = await addresses("tcp", dir);
  const ta = inFlight === 128 ? await addresses("tcp", dir) : undefined;
  const servers = await Promise.all([
    server(hosts, "raw-server", ra.rep, ra.pub, engine),
    server(hosts, "rpc-server", pa.rep, pa.pub, engine),
    ...(ta ? [server(hosts, "transport-server", ta.rep, ta.pub, engine)] : []),
  ]);
  const caller = new RawCaller(ra.rep);
  const client = await rpcClient(pa.rep, pa.pub, engine);
  const bare = ta ? new TransportCaller(ta.rep, ta.pub, engine) : undefined;
  await bare?.connect();
  try {
    const once = () => client.call("echo", [PAYLOAD]);
    const contenders: Record<string, (count: number) => Promise<number>> = {
      raw: (count) => caller.rate(rawFrame, count, inFlight),
      rpc: (count) => throughput(once, count, inFlight),
      ...(bare ? { transport: (count: number) => bare.rate(rawFrame, count, inFlight) } : {}),
      ...(inFlight === 128
        ? { stream: (count: number) => streamRate((n) => client.stream("items", [n, PAYLOAD], { credit: 256, timeoutMs: 0 }), count) }
        : {}),
    };
    const rates: Record<string, number[]> = { raw: [], rpc: [], transport: [], stream: [] };
    for (const run of Object.values(contenders)) await run(Math.min(warmup, total)); // warm-up
    const perRound = Math.ceil(total / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const names = Object.keys(contenders);
      for (const name of round % 2 === 0 ? names : names.reverse()) rates[name]!.push(await contenders[name]!(perRound));
    }
    return {
      raw: median(rates.raw!),
      rpc: median(rates.rpc!),
      transport: bare ? median(rates.transport!) : 0,
      stream: rates.stream!.length > 0 ? median(rates.stream!) : 0,
    };
  } finally {
    caller.close();
    await bare?.close();
    await client.stop();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Every subscriber printed `word`. */
function allSaid(subs: Peer[], word: string): Promise<unknown> {
  return Promise.all(subs.map((s) => s.line((line) => line === word)));
}

/** Every subscriber's JSON result line. */
function allResults<T>(subs: Peer[]): Promise<T[]> {
  return Promise.all(subs.map(async (s) => JSON.parse(await s.line((line) => line.startsWith("{"))) as T));
}

/**
 * Call `poke` every few ms until `done` settles: the warm-up events until every subscription is
 * in place, the end marker until every subscriber has it (a publisher at its high-water mark
 * drops messages, the marker among them, so it is sent again until it gets through).
 */
async function repeatUntil<T>(done: Promise<T>, poke: () => Promise<unknown>): Promise<T> {
  let settled = false;
  const finished = done.finally(() => (settled = true));
  void finished.catch(() => {});
  while (!settled) {
    await poke();
    await Promise.race([finished.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 10))]);
  }
  return finished;
}

interface BroadcastResult {
  /** Mean over subscribers of messages received per second. */
  rate: number;
  /** Mean over subscribers of the share of published messages received, in %. */
  delivered: number;
}

/**
 * A tick flood with an order event every tenth, to `subscribers` tradewire subscribers: the share
 * of the order events that arrived, with the ticks published as latest values (conflated for a
 * subscriber that falls behind) or as ordinary events.
 */
async function floodOnce(hosts: Hosts, dir: string, engine: EngineName, count: number, subscribers: number, latestValue: boolean): Promise<number> {
  const a = await addresses("tcp", dir);
  const srv = await server(hosts, "rpc-server", a.rep, a.pub, engine);
  const subs = Array.from({ length: subscribers }, (_, i) => hosts.subscribers[i]!.run({ role: "rpc-sub", rep: a.rep, pub: a.pub, engine }));
  const client = await rpcClient(a.rep, a.pub, engine);
  try {
    await repeatUntil(allSaid(subs, "ready"), () => client.call("warm"));
    await client.call("flood", [count, latestValue], { timeoutMs: 600_000 });
    const results = await repeatUntil(allResults<{ orders: number }>(subs), () => client.call("end"));
    const sent = Math.floor(count / 10);
    return (results.reduce((sum, r) => sum + r.orders, 0) / results.length / sent) * 100;
  } finally {
    await client.stop();
    await Promise.all(subs.map((s) => s.stop()));
    await srv.stop();
  }
}

async function broadcastOnce(hosts: Hosts, kind: Kind, dir: string, engine: EngineName, count: number, subscribers: number): Promise<BroadcastResult> {
  const a = await addresses("tcp", dir);
  const srv = await server(hosts, `${kind}-server`, a.rep, a.pub, engine);
  const subs = Array.from({ length: subscribers }, (_, i) => hosts.subscribers[i]!.run({ role: `${kind}-sub`, rep: a.rep, pub: a.pub, engine }));
  let caller: RawCaller | TransportCaller | undefined;
  if (kind === "raw") caller = new RawCaller(a.rep);
  if (kind === "transport") {
    caller = new TransportCaller(a.rep, a.pub, engine);
    await caller.connect();
  }
  const client = kind === "rpc" ? await rpcClient(a.rep, a.pub, engine) : undefined;
  try {
    // Publish warm-up messages until every subscriber has one: all subscriptions are in place.
    const say = (word: "warm" | "end") => (caller ? caller.once(new TextEncoder().encode(word)) : client!.call(word));
    await repeatUntil(allSaid(subs, "ready"), () => say("warm"));
    if (caller) await caller.once(new TextEncoder().encode(`blast:${count}:100`));
    else await client!.call("blast", [count, 100], { timeoutMs: 600_000 });
    const results = await repeatUntil(allResults<{ received: number; firstMs: number; lastMs: number }>(subs), () => say("end"));
    const rates = results.map((r) => (r.received <= 1 ? 0 : (r.received - 1) / ((r.lastMs - r.firstMs) / 1000)));
    return {
      rate: rates.reduce((sum, r) => sum + r, 0) / rates.length,
      delivered: (results.reduce((sum, r) => sum + r.received, 0) / results.length / count) * 100,
    };
  } finally {
    await caller?.close();
    await client?.stop();
    await Promise.all(subs.map((s) => s.stop()));
    await srv.stop();
  }
}

// ── standalone ─────────────────────────────────────────────────────────────────────────────

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes("--quick");
  const engineIndex = process.argv.indexOf("--engine");
  const engines = engineIndex > 0 ? [process.argv[engineIndex + 1] as EngineName] : undefined;
  const rows = await benchZeromq({ quick, ...(engines ? { engines } : {}) });
  for (const r of rows) {
    console.log(`${r.name.padEnd(44)} ${r.value.toFixed(1).padStart(12)} ${r.unit.padEnd(8)} baseline ${r.baseline.toFixed(1).padStart(12)}  ratio ${r.ratio.toFixed(3)}`);
  }
}
