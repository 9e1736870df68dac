/**
 * Real attacks on a ZeroMQ server in its own process (ZMTP engine, default budgets), from other
 * processes, measuring the server's resident memory (VmRSS in /proc/<pid>/status):
 * - clients that leave calls hanging and then vanish, round after round (issue 9, item 1): the
 *   calls are aborted and freed, so memory does not grow from round to round;
 * - clients that send 1 MiB `echo` calls and never read the replies (item 2): each is
 *   disconnected at its 8 MiB reply budget, so memory stays bounded.
 * A good client is served throughout. Bounds are generous (a loaded 2-core CI machine, V8 and
 * malloc keep some memory); what they rule out is growth with the attack's size.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RpcClient } from "../../lib/index.ts";
import { zmqClient } from "../../transports/zeromq/index.ts";
import { addresses, type Child, killAll, removeTempDirs, ROOT, start } from "./helpers.ts";

const MiB = 1024 * 1024;
const BUDGET_SERVER = join(ROOT, "test/zeromq/fixtures/budget-server.ts");
const HOLD_CLIENT = join(ROOT, "test/zeromq/fixtures/hold-client.ts");
const UNREAD_ATTACKER = join(ROOT, "test/zeromq/fixtures/unread-attacker.ts");
const hasProc = existsSync("/proc/self/status");
const clients = new Set<RpcClient>();
const samplers = new Set<ReturnType<typeof setInterval>>();

afterEach(async () => {
  for (const timer of samplers) clearInterval(timer);
  samplers.clear();
  await Promise.all([...clients].map((client) => client.stop()));
  clients.clear();
  await killAll();
});
afterAll(() => removeTempDirs());

interface ServerState {
  held: number;
  aborted: number;
  rss: number;
  stats: Record<string, number>;
}

/** The process's resident memory in bytes; 0 once it has exited. */
function rssOf(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024;
}

async function setup() {
  const { rep, pub } = await addresses("tcp");
  const server = start(["--expose-gc", "--import", "tsx", BUDGET_SERVER, JSON.stringify({ rep, pub, engine: "zmtp" })]);
  await server.line(/^ready$/);
  const good = new RpcClient({ transport: zmqClient({ req: rep, sub: pub }), logger: { warn: () => {}, error: () => {} } });
  clients.add(good);
  await good.start();
  const state = () => good.call("state", [], { timeoutMs: 10_000 }) as Promise<ServerState>;
  /**
   * Ask the server until `condition` holds, 100 ms apart, for at most `ms`: attackers are
   * TypeScript processes that take seconds to start on a loaded machine.
   */
  const until = async (condition: (s: ServerState) => boolean, ms = 60_000): Promise<ServerState> => {
    const started = performance.now();
    let last = await state();
    while (!condition(last) && performance.now() - started < ms) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      last = await state();
    }
    return last;
  };
  return { rep, pub, server, good, state, until };
}

/** Samples the server's RSS every 50 ms until stopped; returns the peak. */
function sampleRss(server: Child): () => number {
  let peak = rssOf(server.process.pid!);
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(server.process.pid!))), 50);
  samplers.add(timer);
  return () => {
    clearInterval(timer);
    samplers.delete(timer);
    return Math.max(peak, rssOf(server.process.pid!));
  };
}

const mib = (bytes: number) => Math.round(bytes / MiB);

describe.skipIf(!hasProc)("attacks on a ZeroMQ server process (ZMTP engine, default budgets)", () => {
  it("frees the calls of clients that vanish: memory does not grow round after round", async () => {
    const { rep, pub, server, good, until } = await setup();
    const connections = 5;
    const calls = 200;
    const bytes = 64 * 1024; // 5 × 200 × 64 KiB = 62.5 MiB held per round
    const rss: number[] = [];
    const peak = sampleRss(server);
    for (let round = 1; round <= 3; round++) {
      const attacker = start(["--import", "tsx", HOLD_CLIENT, JSON.stringify({ req: rep, sub: pub, calls, bytes, connections })]);
      const holding = await until((s) => s.held === connections * calls);
      expect(holding.held).toBe(connections * calls);
      await attacker.kill("SIGKILL");
      const after = await until((s) => s.held === 0);
      expect(after.held).toBe(0);
      expect(after.aborted).toBe(round * connections * calls);
      expect(after.stats.peers).toBe(1); // the good client only
      rss.push(after.rss);
      expect(await good.call("add", [round, 1])).toBe(round + 1);
    }
    const top = peak();
    console.log(`vanishing callers: server RSS after rounds ${rss.map(mib).join(", ")} MiB, peak ${mib(top)} MiB`);
    // Each round held 62.5 MiB; had it stayed, each round would add as much. The first round
    // also warms V8 and malloc up, so the flat part is from round 2 on.
    expect(rss[2]! - rss[1]!).toBeLessThan(40 * MiB);
    expect(rss[2]! - rss[0]!).toBeLessThan(100 * MiB);
    expect(top).toBeLessThan(rss[0]! + 200 * MiB);
  }, 240_000);

  it("disconnects clients that never read their replies: memory stays bounded and comes back", async () => {
    const { rep, server, good, state, until } = await setup();
    const baseline = (await state()).rss;
    const dealers = 3;
    const calls = 100; // 3 × 100 × 1 MiB = 300 MiB of replies nobody reads
    const peak = sampleRss(server);
    const attacker = start(["--import", "tsx", UNREAD_ATTACKER, JSON.stringify({ rep, dealers, calls, bytes: MiB })]);
    await attacker.line(/^sent$/);
    const during = await until((s) => s.stats.disconnectedSlowReaders === dealers);
    expect(during.stats.disconnectedSlowReaders).toBe(dealers);
    expect(await good.call("add", [20, 22])).toBe(42);
    await attacker.kill("SIGKILL");
    const after = await state();
    const top = peak();
    console.log(`unread replies: server RSS baseline ${mib(baseline)} MiB, peak ${mib(top)} MiB, after ${mib(after.rss)} MiB`);
    // 3 peers × 8 MiB of queued replies, plus requests being decoded and V8's slack.
    expect(top - baseline).toBeLessThan(150 * MiB);
    expect(after.rss - baseline).toBeLessThan(80 * MiB);
  }, 240_000);
});
