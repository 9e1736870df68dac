/**
 * The web door against a direct RpcClient over ZeroMQ to the same service, in the same run.
 * Three processes: `tradewire serve` (the simulated exchange), `tradewire web` (the door, a
 * trader written into a temporary deployment folder) and this one, where every client runs.
 *
 * - `web rest order round trip p50`: POST /order through the door (fetch, bearer token) vs
 *   `sendOrder` from an RpcClient over ZeroMQ; each order is cancelled after its timed round trip
 *   (not timed), so margin never runs out and the book stays small;
 * - `web websocket call p50`: the same `sendOrder` from an RpcClient over the door's WebSocket;
 * - `web events/s to 10 browser sockets`: ticks received by 10 RpcClients over the door's
 *   WebSocket, all subscribed to `eTick.`, vs 10 RpcClients subscribed over ZeroMQ to the
 *   service's own broadcast, counted over the same window (the simulated exchange ticks in real
 *   time, every contract subscribed: this is what arrives, not the door's ceiling; the ratio
 *   says whether the door keeps up with the service's own broadcast).
 *
 * Contenders take turns in rounds whose order alternates; latencies pool the rounds' samples.
 *
 * Standalone: `npx tsx bench/web.ts [--quick]`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { RpcClient } from "../lib/index.ts";
import { zmqClient } from "../transports/zeromq/index.ts";
import { loginToWebDoor, webDoorTransport } from "../web/client.ts";
import { deploymentFiles, saveUser } from "../web/config.ts";
import { hashPassword } from "../web/passwords.ts";
import { freePort } from "./free-port.ts";
import { percentile, row, type BenchRow } from "./stats.ts";

const CLI = fileURLToPath(new URL("../bin/tradewire.js", import.meta.url));
const quiet = { warn: () => {}, error: () => {} };
const SOCKETS = 10;

interface Order {
  symbol: string;
  exchange: string;
  direction: "LONG";
  offset: "OPEN";
  type: "LIMIT";
  price: number;
  volume: number;
}

export async function benchWeb({ quick = false }: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const iterations = quick ? 200 : 2_000;
  const warmup = quick ? 50 : 300;
  const rounds = quick ? 2 : 4;
  const windowMs = quick ? 1_500 : 10_000;
  const folder = mkdtempSync(join(tmpdir(), "tw-bench-web-"));
  const children: ChildProcess[] = [];
  const clients: RpcClient[] = [];
  try {
    const files = deploymentFiles(join(folder, "web"));
    const password = randomBytes(15).toString("base64url");
    saveUser(files, "bench", { role: "trader", accounts: ["SIM"], password: await hashPassword(password) });
    const rep = `tcp://127.0.0.1:${await freePort()}`;
    const pub = `tcp://127.0.0.1:${await freePort()}`;
    const service = spawnLine(children, ["serve", "--rep", rep, "--pub", pub]);
    await service.line(/^RPC service started/);
    const door = spawnLine(children, ["web", "--dir", files.dir, "--port", "0", "--req", rep, "--sub", pub]);
    const url = /^Web door at (\S+)/.exec(await door.line(/^Web door at /))![1]!;
    const session = await loginToWebDoor(url, "bench", password);

    const direct = started(clients, new RpcClient({ transport: zmqClient({ req: rep, sub: pub }), logger: quiet, timeoutMs: 30_000 }));
    const overSocket = started(clients, new RpcClient({ transport: webDoorTransport(session, { WebSocket: WebSocket as never }), logger: quiet, timeoutMs: 30_000 }));
    await Promise.all([direct.start(), overSocket.start()]);
    const order = await farOrder(direct);

    // ── round trips ──
    const rpcSend = (client: RpcClient) => async () => {
      const start = performance.now();
      const vtOrderId = await client.call<string>("sendOrder", [order]);
      const took = performance.now() - start;
      await client.call("cancelOrder", [{ orderid: vtOrderId.slice(vtOrderId.indexOf(".") + 1), symbol: order.symbol, exchange: order.exchange }]);
      return took;
    };
    const restSend = async () => {
      const headers = { Authorization: `Bearer ${session.token}`, "Content-Type": "application/json" };
      const start = performance.now();
      const response = await fetch(`${url}/order`, { method: "POST", headers, body: JSON.stringify(order) });
      const { vtOrderId } = (await response.json()) as { vtOrderId?: string };
      const took = performance.now() - start;
      if (!response.ok || !vtOrderId) throw new Error(`POST /order answered ${response.status}`);
      const cancelled = await fetch(`${url}/order/${vtOrderId}`, { method: "DELETE", headers: { Authorization: headers.Authorization } });
      await cancelled.arrayBuffer();
      return took;
    };
    const contenders = { direct: rpcSend(direct), socket: rpcSend(overSocket), rest: restSend };
    const samples: Record<keyof typeof contenders, number[]> = { direct: [], socket: [], rest: [] };
    for (const [, once] of Object.entries(contenders)) for (let i = 0; i < warmup; i++) await once();
    for (let round = 0; round < rounds; round++) {
      const names = Object.keys(contenders) as Array<keyof typeof contenders>;
      for (const name of round % 2 === 0 ? names : names.reverse()) {
        for (let i = 0; i < iterations / rounds; i++) samples[name].push((await contenders[name]()) * 1000);
      }
    }
    for (const list of Object.values(samples)) list.sort((a, b) => a - b);
    const baseline = "RpcClient over ZeroMQ, sendOrder";
    const rows = [
      row("web rest order round trip p50", "µs", percentile(samples.rest, 50), percentile(samples.direct, 50), baseline),
      row("web rest order round trip p99", "µs", percentile(samples.rest, 99), percentile(samples.direct, 99), baseline),
      row("web websocket call p50", "µs", percentile(samples.socket, 50), percentile(samples.direct, 50), baseline),
      row("web websocket call p99", "µs", percentile(samples.socket, 99), percentile(samples.direct, 99), baseline),
    ];

    // ── events to 10 sockets, beside 10 ZeroMQ subscribers, in the same window ──
    // Ticks of every contract, not only the first: more events in the window.
    for (const c of await direct.call<Array<{ symbol: string; exchange: string }>>("getAllContracts")) {
      await direct.call("subscribe", [{ symbol: c.symbol, exchange: c.exchange }]);
    }
    const browsers = Array.from({ length: SOCKETS }, () =>
      started(clients, new RpcClient({ transport: webDoorTransport(session, { WebSocket: WebSocket as never }), logger: quiet })),
    );
    const subscribers = Array.from({ length: SOCKETS }, () => started(clients, new RpcClient({ transport: zmqClient({ req: rep, sub: pub }), logger: quiet })));
    await Promise.all([...browsers, ...subscribers].map((client) => client.start()));
    let counting = false;
    const counts = { door: 0, zeromq: 0 };
    for (const client of browsers) client.subscribe("eTick.", () => void (counting && counts.door++));
    for (const client of subscribers) client.subscribe("eTick.", () => void (counting && counts.zeromq++));
    // Every subscription has reached its server once a first tick arrived on each client.
    await Promise.all([...browsers, ...subscribers].map((client) => firstEvent(client, "eTick.")));
    counting = true;
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs)); // the measuring window itself
    counting = false;
    const seconds = (performance.now() - began) / 1000;
    rows.push(row(`web events/s to ${SOCKETS} browser sockets`, "events/s", counts.door / seconds, counts.zeromq / seconds, `the service's ZeroMQ broadcast to ${SOCKETS} subscribers`));
    return rows;
  } finally {
    await Promise.all(clients.map((client) => client.stop().catch(() => {})));
    await Promise.all(children.map(stop));
    rmSync(folder, { recursive: true, force: true });
  }
}

function started(list: RpcClient[], client: RpcClient): RpcClient {
  list.push(client);
  return client;
}

/** A LONG limit a tenth under the last price of the first contract: it rests until cancelled. */
async function farOrder(client: RpcClient): Promise<Order> {
  const [contract] = await client.call<Array<{ symbol: string; exchange: string; vtSymbol: string; pricetick: number }>>("getAllContracts");
  if (!contract) throw new Error("The service lists no contracts");
  await client.call("subscribe", [{ symbol: contract.symbol, exchange: contract.exchange }]);
  let tick: { lastPrice: number } | null = null;
  while (!tick) {
    tick = await client.call<{ lastPrice: number } | null>("getTick", [contract.vtSymbol]);
    if (!tick) await firstEvent(client, `eTick.${contract.vtSymbol}`);
  }
  const price = Math.round((tick.lastPrice * 0.9) / contract.pricetick) * contract.pricetick;
  return { symbol: contract.symbol, exchange: contract.exchange, direction: "LONG", offset: "OPEN", type: "LIMIT", price: Number(price.toFixed(6)), volume: 1 };
}

function firstEvent(client: RpcClient, prefix: string): Promise<void> {
  return new Promise((resolve) => {
    const off = client.subscribe(prefix, () => {
      off();
      resolve();
    });
  });
}

function spawnLine(children: ChildProcess[], args: string[]): { line(pattern: RegExp): Promise<string> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const lines: string[] = [];
  let partial = "";
  const waiters: Array<() => void> = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    const split = (partial + chunk.toString("utf8")).split("\n");
    partial = split.pop() ?? "";
    lines.push(...split);
    for (const wake of waiters.splice(0)) wake();
  });
  child.once("close", () => {
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async line(pattern) {
      for (;;) {
        const found = lines.find((l) => pattern.test(l));
        if (found) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tradewire ${args[0]} exited before printing ${pattern}: ${lines.join("\n")}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("close", () => resolve());
    child.kill("SIGTERM");
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const r of await benchWeb({ quick: process.argv.includes("--quick") })) console.log(JSON.stringify(r));
}
