/**
 * The core over in-process transports, each beside its bare baseline in the same run:
 * memory (the RPC layer over the same memory transport with a raw echo), and a MessageChannel to
 * a Node worker (bare postMessage ping-pong, and comlink over the same kind of port).
 */
import { MessageChannel, Worker } from "node:worker_threads";
import * as Comlink from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { RpcClient, RpcServer } from "../lib/index.ts";
import { memoryHub } from "../transports/memory.ts";
import { messagePortClient } from "../transports/message-port.ts";
import { median, percentile, roundTrips, row, streamRate, throughput, type BenchRow } from "./stats.ts";

/** The median over rounds of each round's `q`th percentile. */
const p = (runs: number[][], q: number) => median(runs.map((samples) => percentile(samples, q)));

export async function benchCore({ quick = false } = {}): Promise<BenchRow[]> {
  const sequential = quick ? 3_000 : 20_000;
  const pipelined = quick ? 20_000 : 100_000;
  return [...(await benchMemory(sequential, pipelined)), ...(await benchWorker(sequential, pipelined))];
}

async function benchMemory(sequential: number, pipelined: number): Promise<BenchRow[]> {
  const payload = { symbol: "IF2512.CFFEX", price: 3999.2, volume: 1 };
  // Baseline: a frame through the same memory transport and straight back, no RPC layer.
  const rawHub = memoryHub();
  await rawHub.server.listen({ request: (frame, peer) => rawHub.server.reply(peer, frame) });
  const rawClient = rawHub.client();
  let resolveRaw: () => void = () => {};
  await rawClient.connect({ reply: () => resolveRaw(), broadcast: () => {} });
  const frame = new TextEncoder().encode(JSON.stringify(payload));
  const rawOnce = () => new Promise<void>((resolve) => ((resolveRaw = resolve), rawClient.send(frame)));

  const hub = memoryHub();
  const server = new RpcServer({ transport: hub.server, heartbeatMs: 0 });
  server.register("echo", (x: unknown) => x);
  await server.start();
  const client = new RpcClient({ transport: hub.client(), heartbeatToleranceMs: 0 });
  await client.start();
  const rpcOnce = () => client.call("echo", [payload]);

  // Latency rounds alternate raw and RPC, as the worker rows do, each figure the median of its
  // rounds: the first calls of a process run beside its last module loads and compilations.
  const latencyRounds = 5;
  const raw: number[][] = [];
  const rpc: number[][] = [];
  for (let round = 0; round < latencyRounds; round++) {
    raw.push(await roundTrips(rawOnce, sequential / latencyRounds));
    rpc.push(await roundTrips(rpcOnce, sequential / latencyRounds));
  }
  // The raw echo has one resolver, so its pipelined rate is measured with one loop per... it is sequential.
  const rawRate = await throughput(rawOnce, pipelined, 1);
  // Pipelined against sequential through the same RPC layer, alternating, medians of the rounds.
  // Which goes first alternates too: the garbage one run leaves is collected during the next.
  const rounds = 9;
  const rpcRates: number[] = [];
  const rpcSequentialRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const pipelinedRate = () => throughput(rpcOnce, pipelined / rounds, 128).then((rate) => void rpcRates.push(rate));
    const sequentialRate = () => throughput(rpcOnce, pipelined / rounds, 1).then((rate) => void rpcSequentialRates.push(rate));
    if (round % 2 === 0) await pipelinedRate().then(sequentialRate);
    else await sequentialRate().then(pipelinedRate);
  }
  const rpcRate = median(rpcRates);
  await client.stop();
  await server.stop();
  await rawClient.close();
  await rawHub.server.close();
  return [
    row("memory call p50", "µs", p(rpc, 50), p(raw, 50), "raw frame echo over the memory transport"),
    row("memory call p99", "µs", p(rpc, 99), p(raw, 99), "raw frame echo over the memory transport"),
    row("memory calls/s 128 in flight", "calls/s", rpcRate, rawRate, "raw frame echo, sequential"),
    row("memory calls/s 128 in flight vs sequential", "calls/s", rpcRate, median(rpcSequentialRates), "tradewire calls/s one at a time"),
  ];
}

async function benchWorker(sequential: number, pipelined: number): Promise<BenchRow[]> {
  const bare = new MessageChannel();
  const rpc = new MessageChannel();
  const com = new MessageChannel();
  const worker = new Worker(new URL("./fixtures/node-ts-worker.mjs", import.meta.url), {
    workerData: { entry: new URL("./fixtures/core-worker.ts", import.meta.url).href, bare: bare.port2, rpc: rpc.port2, comlink: com.port2 },
    transferList: [bare.port2, rpc.port2, com.port2],
  });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const payload = { symbol: "IF2512.CFFEX", price: 3999.2, volume: 1 };

  // Bare postMessage ping-pong, correlated by a counter so it can also run pipelined.
  const waiting = new Map<number, () => void>();
  let seq = 0;
  bare.port1.on("message", (m: { n: number }) => {
    waiting.get(m.n)?.();
    waiting.delete(m.n);
  });
  const bareOnce = () =>
    new Promise<void>((resolve) => {
      const n = seq++;
      waiting.set(n, resolve);
      bare.port1.postMessage({ n, payload });
    });

  const client = new RpcClient({ transport: messagePortClient(rpc.port1 as never), heartbeatToleranceMs: 0 });
  await client.start();
  const rpcOnce = () => client.call("echo", [payload]);

  const remote = Comlink.wrap<{ echo(x: unknown): unknown }>(nodeEndpoint(com.port1 as never));
  const comlinkOnce = () => remote.echo(payload);

  // Rounds alternate the contenders, so warm-up and background load fall on all of them alike;
  // each figure is the median of its rounds.
  const rounds = 5;
  const lat = { bare: [] as number[][], rpc: [] as number[][], com: [] as number[][] };
  const rate = { bare: [] as number[], rpc: [] as number[], com: [] as number[], rpcSequential: [] as number[], stream: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    lat.bare.push(await roundTrips(bareOnce, sequential / rounds));
    lat.rpc.push(await roundTrips(rpcOnce, sequential / rounds));
    lat.com.push(await roundTrips(comlinkOnce, sequential / rounds));
    rate.bare.push(await throughput(bareOnce, pipelined / rounds, 128));
    rate.rpc.push(await throughput(rpcOnce, pipelined / rounds, 128));
    rate.com.push(await throughput(comlinkOnce, pipelined / rounds, 128));
    rate.rpcSequential.push(await throughput(rpcOnce, sequential / rounds, 1));
    rate.stream.push(await streamRate((n) => client.stream("items", [n, payload], { credit: 256, timeoutMs: 0 }), pipelined / rounds));
  }
  const bareSeq50 = p(lat.bare, 50), rpcSeq50 = p(lat.rpc, 50), comSeq50 = p(lat.com, 50);
  const bareRate = median(rate.bare), rpcRate = median(rate.rpc), comRate = median(rate.com);

  await client.stop();
  remote[Comlink.releaseProxy]();
  for (const c of [bare, rpc, com]) c.port1.close();
  await worker.terminate();
  return [
    row("message-port call p50", "µs", rpcSeq50, bareSeq50, "bare postMessage ping-pong"),
    row("message-port call p99", "µs", p(lat.rpc, 99), p(lat.bare, 99), "bare postMessage ping-pong"),
    row("message-port call p50 vs comlink", "µs", rpcSeq50, comSeq50, "comlink over the same kind of port"),
    row("message-port calls/s 128 in flight", "calls/s", rpcRate, bareRate, "bare postMessage, 128 in flight"),
    row("message-port calls/s 128 in flight vs comlink", "calls/s", rpcRate, comRate, "comlink, 128 in flight"),
    row("message-port calls/s 128 in flight vs sequential", "calls/s", rpcRate, median(rate.rpcSequential), "tradewire calls/s one at a time"),
    row("message-port stream items/s", "items/s", median(rate.stream), rpcRate, "tradewire calls/s of the same payload, 128 in flight"),
  ];
}
