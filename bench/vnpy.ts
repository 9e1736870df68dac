/**
 * VeighNa's wire, measured from Python, each figure beside a baseline from the same run:
 *
 * - `vnpy send_order p50/p99 (serve --vnpy)`: VeighNa's unchanged RpcGateway calling
 *   `send_order` on `tradewire serve --vnpy` (the simulated exchange: a resting limit order
 *   checked, money held, booked, its event published; cancelled untimed after each sample), vs
 *   the same gateway against VeighNa's own RpcServer serving a fake gateway that accepts each
 *   order with its event (bench/fixtures/vnpy-fake-gateway.py). One Python process times both
 *   (bench/fixtures/vnpy-send-order.py), in alternating rounds.
 * - `vnpy python client calls/s N in flight`: python/tradewire_client.py keeping N `submit`
 *   futures in flight against `tradewire serve --demo`'s `echo`, vs a bare pyzmq DEALER keeping N
 *   same-sized frames in flight against a zeromq.js ROUTER echo (bench/fixtures/tw-client-rate.py).
 *
 * Every server is a process of its own. Skipped, with the reason on stderr, when Debian's python3
 * with pyzmq and msgpack or VeighNa's files (../shared/peers/vnpy) are absent.
 *
 * Standalone: `npx tsx bench/vnpy.ts [--quick]`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { row, type BenchRow } from "./stats.ts";
import { freePort } from "./free-port.ts";

const ROOT = resolve(fileURLToPath(new URL("../", import.meta.url)));
const FIXTURES = join(ROOT, "bench/fixtures");
const PYTHON = "/usr/bin/python3";
const VNPY_PEERS = resolve(ROOT, "../shared/peers/vnpy");

/** Why this suite cannot run here, or undefined. */
function missing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  try {
    execFileSync(PYTHON, ["-c", "import zmq, msgpack"], { stdio: "ignore" });
  } catch {
    return `${PYTHON} lacks pyzmq or msgpack (Debian: apt install python3-zmq python3-msgpack)`;
  }
  if (!existsSync(join(VNPY_PEERS, "vnpy/rpc/server.py"))) return `VeighNa's files are absent (${VNPY_PEERS})`;
  return undefined;
}

const pythonEnv = { ...process.env, PYTHONPATH: [VNPY_PEERS, join(ROOT, "python")].join(":"), PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };

interface Proc {
  /** The first stdout line matching `re`; rejects if the process ends first. */
  line(re: RegExp): Promise<string>;
  stop(): Promise<void>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child: ChildProcess = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  let partial = "";
  const wakers = new Set<() => void>();
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of wakers) wake();
  });
  const closed = new Promise<void>((res) => child.once("close", () => res()));
  void closed.then(() => {
    for (const wake of wakers) wake();
  });
  return {
    async line(re) {
      for (;;) {
        const found = lines.find((l) => re.test(l));
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${[command, ...args].join(" ")} ended (${child.exitCode ?? child.signalCode}) before printing ${re}\n${stderr}`);
        }
        await new Promise<void>((wake) => {
          const once = () => (wakers.delete(once), wake());
          wakers.add(once);
        });
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await closed;
    },
  };
}

const tcp = async () => `tcp://127.0.0.1:${await freePort()}`;
const tradewire = (args: string[]) => start(process.execPath, ["--import", "tsx", join(ROOT, "bin/tradewire.ts"), ...args]);
const python = (script: string, args: string[]) => start(PYTHON, [join(FIXTURES, script), ...args], pythonEnv);

export async function benchVnpy({ quick = false }: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const why = missing();
  if (why) {
    console.error(`vnpy: skipped: ${why}`);
    return [];
  }
  // Every server starts at once: their start-ups overlap instead of adding up.
  const [twRep, twPub, twVnpyRep, twVnpyPub, vnRep, vnPub, rep, pub, rawRep, rawPub] = (await Promise.all(Array.from({ length: 10 }, tcp))) as [string, string, string, string, string, string, string, string, string, string];
  const procs: Proc[] = [];
  try {
    const ours = tradewire(["serve", "--vnpy", "--rep", twRep, "--pub", twPub, "--vnpy-rep", twVnpyRep, "--vnpy-pub", twVnpyPub]);
    const theirs = python("vnpy-fake-gateway.py", [vnRep, vnPub]);
    const demo = tradewire(["serve", "--demo", "--rep", rep, "--pub", pub]);
    const raw = start(process.execPath, ["--import", "tsx", join(FIXTURES, "zeromq-peer.ts"), JSON.stringify({ role: "raw-server", rep: rawRep, pub: rawPub })]);
    procs.push(ours, theirs, demo, raw);
    await Promise.all([ours.line(/^VeighNa wire: /), theirs.line(/^ready$/), demo.line(/^RPC service started/), raw.line(/^ready$/)]);
    return [
      ...(await sendOrder(quick, procs, { tw: [twVnpyRep, twVnpyPub], vn: [vnRep, vnPub] })),
      ...(await clientRate(quick, procs, { tradewire: [rep, pub], raw: rawRep })),
    ];
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

async function sendOrder(quick: boolean, procs: Proc[], servers: { tw: string[]; vn: string[] }): Promise<BenchRow[]> {
  const spec = { servers, iterations: quick ? 400 : 5_000, warmup: quick ? 50 : 500 };
  const timer = python("vnpy-send-order.py", [JSON.stringify(spec)]);
  procs.push(timer);
  type Result = { p50: number; p99: number; orders: number; rejected: number };
  const got = JSON.parse(await timer.line(/^\{/)) as { tw: Result; vn: Result };
  // A rejected order is answered sooner than an accepted one: such a run compares nothing.
  for (const [name, r] of Object.entries(got)) if (r.rejected > 0) throw new Error(`${name}: ${r.rejected} of ${r.orders} orders rejected`);
  const baseline = "VeighNa RpcServer, fake gateway accepting each order";
  return [
    row("vnpy send_order p50 (serve --vnpy)", "µs", got.tw.p50, got.vn.p50, baseline),
    row("vnpy send_order p99 (serve --vnpy)", "µs", got.tw.p99, got.vn.p99, baseline),
  ];
}

async function clientRate(quick: boolean, procs: Proc[], servers: { tradewire: string[]; raw: string }): Promise<BenchRow[]> {
  const inFlight = [1, 64];
  const timer = python("tw-client-rate.py", [JSON.stringify({ ...servers, total: quick ? 2_000 : 20_000, warmup: quick ? 300 : 1_000, inFlight })]);
  procs.push(timer);
  const got = JSON.parse(await timer.line(/^\{/)) as Record<string, { tradewire: number; raw: number }>;
  return inFlight.map((n) =>
    row(`vnpy python client calls/s ${n} in flight`, "calls/s", got[n]!.tradewire, got[n]!.raw, `pyzmq DEALER, ${n} in flight, zeromq.js ROUTER echo`),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const r of await benchVnpy({ quick: process.argv.includes("--quick") })) {
    console.log(`${r.name.padEnd(44)} ${r.value.toFixed(1).padStart(12)} ${r.unit.padEnd(8)} baseline ${r.baseline.toFixed(1).padStart(12)}  ratio ${r.ratio.toFixed(3)}`);
  }
}
