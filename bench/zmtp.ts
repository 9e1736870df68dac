/**
 * ZMTP engine benchmark: our TypeScript ZeroMQ against native libzmq (zeromq.js), same run.
 *
 *   npx tsx bench/zmtp.ts [--quick] [--json]          (Node)
 *   npx deno run -A bench/zmtp.ts [--quick] [--json]  (Deno)
 *
 * `--json` prints the rows as one JSON array instead of a table. `npm run bench` runs the Node
 * half in process and the Deno half through `runZmtpBenchDeno` (a Deno child with `--json`),
 * whose rows are named `zmtp deno …`.
 *
 * The echo server is a native ROUTER in a child Node process for both sides, so only the
 * client differs: our Dealer in this process vs a zeromq.js Dealer in a child Node process
 * (native zeromq does not work inside Deno). PUB/SUB: our Publisher → our Subscriber in
 * this process vs zeromq.js PUB → SUB in a child process.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Dealer, Publisher, Subscriber } from "../transports/zmtp/index.ts";
import { median, row, type BenchRow } from "./stats.ts";

export type { BenchRow };

const root = fileURLToPath(new URL("../", import.meta.url));
const body = new Uint8Array(64);

interface Child {
  endpoint: string;
  output: Promise<string>;
  stop(): Promise<void>;
}

/** Run a Node script; resolve once it prints its first line (ready line or JSON result). */
function runNode(script: string, args: string[]): Promise<Child> {
  const child = spawn(process.env["NODE_BINARY"] ?? "node", [join(root, script), ...args], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  let all = "";
  const output = new Promise<string>((resolve) => {
    lines.on("line", (line) => (all += `${line}\n`));
    child.once("exit", () => resolve(all));
  });
  return new Promise((resolve, reject) => {
    lines.once("line", (line) =>
      resolve({
        endpoint: line.startsWith("ready ") ? line.slice(6) : "",
        output,
        async stop() {
          child.stdin!.end();
          if (child.exitCode === null) child.kill("SIGTERM");
          await exited;
        },
      }),
    );
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before printing`)));
  });
}

/**
 * The zeromq.js side, one Node process for the whole run taking one command at a time (starting
 * Node with the native addon per measurement cost more than the measurements themselves).
 */
class NativeClient {
  readonly #child = spawn(process.env["NODE_BINARY"] ?? "node", [join(root, "bench/zmtp-native-client.mjs"), "serve"], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  readonly #waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  readonly #exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));

  constructor() {
    createInterface({ input: this.#child.stdout! }).on("line", (line) => this.#waiting.shift()?.resolve(line));
    void this.#exited.then(() => {
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error("bench/zmtp-native-client.mjs exited before answering"));
    });
  }

  result(args: string[]): Promise<Record<string, number>> {
    return new Promise<string>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#child.stdin!.write(`${args.join(" ")}\n`);
    }).then((line) => JSON.parse(line) as Record<string, number>);
  }

  async close(): Promise<void> {
    this.#child.stdin!.end();
    await this.#exited;
  }
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

async function ourRoundTrips(endpoint: string, n: number, warmup: number): Promise<{ p50: number; p99: number }> {
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(endpoint);
  const samples: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    const start = performance.now();
    await dealer.send(body);
    await dealer.receive();
    if (i >= warmup) samples.push((performance.now() - start) * 1000);
  }
  dealer.close();
  samples.sort((x, y) => x - y);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function ourInFlight(endpoint: string, window: number, total: number): Promise<number> {
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(endpoint);
  await dealer.send(body);
  await dealer.receive();
  const start = performance.now();
  let sent = 0;
  for (; sent < window; sent++) await dealer.send(body);
  for (let received = 0; received < total; received++) {
    await dealer.receive();
    if (sent < total) {
      await dealer.send(body);
      sent++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  dealer.close();
  return total / seconds;
}

async function ourPubSub(address: string, n: number): Promise<{ msgsPerSec: number; delivered: number }> {
  const pub = new Publisher({ linger: 0 });
  await pub.bind(address);
  const sub = new Subscriber({ linger: 0 });
  sub.subscribe("");
  sub.connect(pub.lastEndpoint!);
  let joined = false;
  void sub.receive().then(() => (joined = true));
  while (!joined) {
    await pub.send(["probe"]);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const decoder = new TextDecoder();
  let received = 0;
  let last = 0;
  const done = (async () => {
    for await (const [topic] of sub) {
      const name = decoder.decode(topic);
      if (name === "end") break;
      if (name === "tick") {
        received++;
        last = performance.now();
      }
    }
  })();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await pub.send(["tick", body]);
    // Yield to I/O as a real publisher between bursts would.
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    await pub.send(["end"]);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  pub.close();
  sub.close();
  return { msgsPerSec: received / ((last - start) / 1000), delivered: received / n };
}

const NATIVE = "zeromq.js (libzmq) in the same roles, same run";
const latencyRow = (name: string, value: number, baseline: number): BenchRow => row(name, "µs", value, baseline, NATIVE);
const throughputRow = (name: string, unit: string, value: number, baseline: number): BenchRow => row(name, unit, value, baseline, NATIVE);


/** Collects samples per metric over several rounds; each row reports the median round. */
class Samples {
  readonly #values = new Map<string, number[]>();
  add(key: string, value: number): void {
    const list = this.#values.get(key) ?? [];
    list.push(value);
    this.#values.set(key, list);
  }
  median(key: string): number {
    return median(this.#values.get(key) ?? [Number.NaN]);
  }
}

/**
 * Run every measurement. Ours and native alternate within each round and each row is the
 * median round, which keeps a busy machine's noise out of the ratios.
 */
export async function runZmtpBench(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const quick = options.quick ?? false;
  // Quick runs twice (Node and Deno) inside `npm run bench -- --quick`'s 60 s: a few s each.
  const rounds = quick ? 3 : 5;
  const roundTrips = quick ? 400 : 5000;
  const warmup = quick ? 100 : 500;
  const total = quick ? 2_500 : 50_000;
  const published = quick ? 10_000 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), "zmtp-bench-"));
  const samples = new Samples();
  const rows: BenchRow[] = [];
  const native = new NativeClient();
  try {
    for (const transport of ["tcp", "ipc"] as const) {
      const address = transport === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${dir}/echo.sock`;
      const server = await runNode("test/zmtp/peers/native-peer.mjs", ["router-echo", address]);
      try {
        for (let round = 0; round < rounds; round++) {
          const ours = await ourRoundTrips(server.endpoint, roundTrips, warmup);
          const theirs = await native.result(["rtt", server.endpoint, String(roundTrips), String(warmup)]);
          samples.add(`${transport} p50 ours`, ours.p50);
          samples.add(`${transport} p99 ours`, ours.p99);
          samples.add(`${transport} p50 native`, theirs["p50"]!);
          samples.add(`${transport} p99 native`, theirs["p99"]!);
          for (const window of [16, 128]) {
            samples.add(`${transport} ${window} ours`, await ourInFlight(server.endpoint, window, total));
            const nativeRate = await native.result(["inflight", server.endpoint, String(window), String(total)]);
            samples.add(`${transport} ${window} native`, nativeRate["msgsPerSec"]!);
          }
        }
      } finally {
        await server.stop();
      }
      for (const p of ["p50", "p99"]) {
        const name = `zmtp ${transport} round trip ${p}`;
        rows.push(latencyRow(name, samples.median(`${transport} ${p} ours`), samples.median(`${transport} ${p} native`)));
      }
      for (const window of [16, 128]) {
        const name = `zmtp ${transport} msgs/s ${window} in flight`;
        const key = `${transport} ${window}`;
        rows.push(throughputRow(name, "msgs/s", samples.median(`${key} ours`), samples.median(`${key} native`)));
      }
    }
    for (let round = 0; round < rounds; round++) {
      const ours = await ourPubSub("tcp://127.0.0.1:0", published);
      const theirs = await native.result(["pubsub", "tcp://127.0.0.1:0", String(published)]);
      samples.add("pubsub rate ours", ours.msgsPerSec);
      samples.add("pubsub rate native", theirs["msgsPerSec"]!);
      samples.add("pubsub delivered ours", ours.delivered * 100);
      samples.add("pubsub delivered native", theirs["delivered"]! * 100);
    }
    rows.push(throughputRow("zmtp tcp pub/sub msgs/s", "msgs/s", samples.median("pubsub rate ours"), samples.median("pubsub rate native")));
    rows.push(
      throughputRow("zmtp tcp pub/sub delivered", "%", samples.median("pubsub delivered ours"), samples.median("pubsub delivered native")),
    );
  } finally {
    await native.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const runtime = "Deno" in globalThis ? `Deno ${(globalThis as { Deno?: { version: { deno: string } } }).Deno!.version.deno}` : `Node ${process.version}`;
  console.log(`ZMTP engine (${runtime}) vs zeromq.js native, 64-byte messages, native echo ROUTER`);
  console.log(["name".padEnd(36), "unit".padEnd(7), "ours".padStart(10), "native".padStart(10), "ratio".padStart(7)].join(" "));
  for (const row of rows) {
    console.log(
      [
        row.name.padEnd(36),
        row.unit.padEnd(7),
        String(row.value).padStart(10),
        String(row.baseline).padStart(10),
        String(row.ratio).padStart(7),
      ].join(" "),
    );
  }
}

const DENO_BASELINE = "zeromq.js (libzmq) on Node in the same roles, same run";

/**
 * The same benchmark under Deno, as a child process printing JSON; rows renamed `zmtp deno …`.
 * Resolves to no rows (after saying so) when Deno cannot be started; a Deno run that fails is an error.
 */
export async function runZmtpBenchDeno(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const local = join(root, "node_modules/.bin/deno");
  const deno = process.env["DENO_BINARY"] ?? (existsSync(local) ? local : "deno");
  const args = ["run", "-A", join(root, "bench/zmtp.ts"), "--json", ...(options.quick ? ["--quick"] : [])];
  const child = spawn(deno, args, { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  // Never let a stuck child hang the whole run.
  const limit = setTimeout(() => child.kill("SIGKILL"), options.quick ? 60_000 : 300_000);
  const outcome = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  }).finally(() => clearTimeout(limit));
  if (outcome.error) {
    console.error(`zmtp deno: skipped, Deno is not available (${deno}: ${outcome.error.message})`);
    return [];
  }
  if (outcome.code !== 0) throw new Error(`Deno ZMTP benchmark exited with ${outcome.code}`);
  const rows = JSON.parse(stdout.trim().split("\n").at(-1)!) as BenchRow[];
  return rows.map((r) => ({ ...r, name: r.name.replace(/^zmtp /, "zmtp deno "), baselineName: DENO_BASELINE }));
}

const isMain =
  (import.meta as { main?: boolean }).main === true ||
  (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]);
if (isMain) {
  const rows = await runZmtpBench({ quick: process.argv.includes("--quick") });
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows));
  else printTable(rows);
}
