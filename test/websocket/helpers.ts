/** A real ws server with an RpcServer behind it, and a socket stub whose queue a test controls. */
import { WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { RpcServer, type Logger } from "../../lib/index.ts";
import { websocketServer, type WebSocketLike, type WebSocketServerOptions } from "../../transports/websocket.ts";

/** A real HTTP+WebSocket server on a free loopback port, set up as the README shows. */
export async function startServer(options: { port?: number; transport?: WebSocketServerOptions; heartbeatMs?: number; logger?: Logger } = {}) {
  const transport = websocketServer(options.transport);
  const wss = new WebSocketServer({ host: "127.0.0.1", port: options.port ?? 0, maxPayload: transport.maxPayload });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  wss.on("connection", (socket, request) => transport.accept(socket as unknown as WebSocketLike, { address: request.socket.remoteAddress }));
  const server = new RpcServer({
    transport,
    heartbeatMs: options.heartbeatMs ?? 50,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.transport?.maxMessageBytes ? { maxMessageBytes: options.transport.maxMessageBytes } : {}),
  });
  server.register("add", (a: number, b: number) => a + b);
  await server.start();
  const port = (wss.address() as AddressInfo).port;
  const stop = async () => {
    await server.stop();
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
  };
  return { server, transport, wss, url: `ws://127.0.0.1:${port}`, port, stop };
}

type Listener = (event: { data?: unknown; code?: number; reason?: string }) => void;

/** A socket whose `bufferedAmount` the test sets and whose sends it counts. */
export class StubSocket implements WebSocketLike {
  readyState = 1;
  bufferedAmount = 0;
  binaryType = "";
  sent: Uint8Array[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  #listeners = new Map<string, Listener[]>();

  send(data: Uint8Array): void {
    if (this.readyState !== 1) throw new Error("Stub socket is not open");
    this.sent.push(data);
    this.bufferedAmount += data.byteLength; // nothing drains unless the test says so
  }

  close(code?: number, reason?: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    this.closedWith = { code, reason };
    queueMicrotask(() => {
      this.readyState = 3;
      this.#emit("close", { code, reason });
    });
  }

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  /** The peer sends a message of type `type` with `body`. */
  receive(type: number, body: Uint8Array | string = new Uint8Array()): void {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    const data = new Uint8Array(1 + bytes.byteLength);
    data[0] = type;
    data.set(bytes, 1);
    this.#emit("message", { data: data.buffer });
  }

  #emit(type: string, event: Parameters<Listener>[0]): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

export const SUBSCRIBE = 4;
