/**
 * The exchange side of the playground, in a WebWorker: sim's demo exchange ticking in real time
 * (the visitor's account "SIM" plus noise-trading bots), served by an RpcService over an
 * RpcServer whose transport is this worker's MessagePort. It starts when the page sends the seed.
 */
import { RpcServer } from "../../lib/index.ts";
import { workerServer } from "../../transports/worker.ts";
import { serveDemoExchange } from "../../sim/index.ts";
import { PLAYGROUND_INSTRUMENTS } from "./demo.ts";
import type { WorkerRequest, WorkerResponse } from "./worker-protocol.ts";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

const scope = globalThis as unknown as WorkerScope;

function onInit(event: MessageEvent): void {
  const data = event.data as WorkerRequest | undefined;
  if (data?.playground !== "init") return;
  scope.removeEventListener("message", onInit);
  start(data.seed).then(
    (ready) => scope.postMessage(ready),
    (error: unknown) => scope.postMessage({ playground: "failed", message: error instanceof Error ? error.message : String(error) } satisfies WorkerResponse),
  );
}

async function start(seed: number): Promise<WorkerResponse> {
  const server = new RpcServer({ transport: workerServer(scope) });
  const { demo } = await serveDemoExchange(server, { seed, instruments: PLAYGROUND_INSTRUMENTS, bots: 2, botIntervalMs: 400 });
  return { playground: "ready", seed, gatewayName: demo.gateways[0]!.gatewayName, functions: server.functionNames };
}

scope.addEventListener("message", onInit);
