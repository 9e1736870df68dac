/**
 * Worker conveniences over the MessagePort transport: the server runs inside a worker (Web
 * Worker, Deno worker or Node `worker_threads`), the client holds the Worker object.
 *
 *   // worker.ts
 *   const server = new RpcServer({ transport: workerServer() });
 *   // page.ts
 *   const client = new RpcClient({ transport: workerClient(new Worker(url, { type: "module" })) });
 *
 * As on any port, the two sides agree in their hello to post plain messages as data (structured
 * clone) instead of MessagePack bytes; a worker or page running an older tradewire gets bytes.
 */
import { messagePortClient, messagePortServer, type Endpoint, type MessagePortOptions, type MessagePortServer } from "./message-port.ts";
import type { ClientTransport } from "../lib/transport.ts";

/**
 * The server side inside a worker. `scope` defaults to the worker's global scope; in Node pass
 * `parentPort` from `node:worker_threads` (tradewire does not import it, to stay runtime-neutral).
 */
export function workerServer(scope?: Endpoint, options: MessagePortOptions = {}): MessagePortServer {
  const endpoint = scope ?? (globalThis as unknown as Endpoint);
  if (typeof endpoint.postMessage !== "function") {
    throw new TypeError("workerServer() needs a worker scope: call it inside a worker, or pass parentPort in Node");
  }
  return messagePortServer(endpoint, options);
}

/** The client side, holding the Worker (Web, Deno or Node `worker_threads`). */
export function workerClient(worker: Endpoint, options: MessagePortOptions = {}): ClientTransport {
  return messagePortClient(worker, options);
}

export { messagePortClient, messagePortServer, type Endpoint, type MessagePortOptions, type MessagePortServer };
