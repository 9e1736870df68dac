/**
 * The web door on Node: HTTP through `@hono/node-server`, WebSocket upgrades through the `ws`
 * package (created with the transport's `maxPayload`, so an oversize message is refused while it
 * arrives), the trading service reached over ZeroMQ. `startWebDoor` is what `tradewire web`
 * runs; the same door runs on Deno through deno.ts.
 */
import { createAdaptorServer } from "@hono/node-server";
import { Buffer } from "node:buffer";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { EngineName } from "../transports/zeromq/index.ts";
import { createWebDoor, WS_PATH, WS_PROTOCOL, type WebDoor, type WebDoorOptions } from "./door.ts";
import { zeromqUpstream } from "./upstream.ts";

export interface StartWebDoorOptions extends Omit<WebDoorOptions, "upstream"> {
  /** The trading service's request and broadcast addresses. */
  req: string;
  sub: string;
  /** The service's CURVE public key, when it requires CURVE. */
  curveServerKey?: string;
  engine?: EngineName;
  /** Default 127.0.0.1: another interface only when told. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface RunningWebDoor {
  readonly door: WebDoor;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" };

/** Answer an upgrade request with an HTTP error and hang up. */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status === 401 ? "UNAUTHENTICATED" : status === 403 ? "PERMISSION_DENIED" : "INVALID_ARGUMENT", message } });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${status === 401 ? 'WWW-Authenticate: Bearer realm="tradewire"\r\n' : ""}\r\n${body}`,
  );
}

export async function startWebDoor(options: StartWebDoorOptions): Promise<RunningWebDoor> {
  const door = createWebDoor({ ...options, upstream: zeromqUpstream(options) });
  return serveWebDoor(door, options);
}

/**
 * Serve a door made with `createWebDoor` (its upstream on any transport) over HTTP on Node: starts
 * the door, listens, and `close()` stops both.
 */
export async function serveWebDoor(door: WebDoor, options: { host?: string; port?: number; log?: (line: string) => void } = {}): Promise<RunningWebDoor> {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: door.relay.maxPayload,
    perMessageDeflate: false, // a compressed message could expand past what maxPayload bounds on the wire
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const server = createAdaptorServer({
    fetch: (request, env) => door.app.fetch(request, { address: (env as { incoming: IncomingMessage }).incoming.socket.remoteAddress }),
  }) as Server;
  // Upgrades of every kind end here: ours are authenticated, the rest refused.
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {}); // a peer that resets mid-handshake must not crash the process
    const path = new URL(request.url ?? "/", "http://door").pathname;
    if (path !== WS_PATH) return refuseUpgrade(socket, 404, `No WebSocket at ${path}: use ${WS_PATH}`);
    void door
      .checkUpgrade({ origin: request.headers.origin, host: request.headers.host, protocol: request.headers["sec-websocket-protocol"] })
      .then((check) => {
        if (!check.ok) return refuseUpgrade(socket, check.status, check.message);
        if (socket.destroyed) return;
        wss.handleUpgrade(request, socket, head, (ws) => {
          try {
            door.relay.accept(ws, { address: request.socket.remoteAddress, session: check.session });
          } catch (error) {
            options.log?.(`error: WebSocket refused: ${(error as Error).message}`);
          }
        });
      }, () => refuseUpgrade(socket, 400, "Bad upgrade request"));
  });

  await door.start();
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 8080, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await door.stop();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    door,
    url,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await door.stop();
      await closed;
    },
  };
}
