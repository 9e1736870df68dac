/**
 * The web door on Deno: `Deno.serve` for HTTP and `Deno.upgradeWebSocket` for sockets, the
 * same door (door.ts) and the ZMTP engine upstream. Deno's WebSocket has no message size limit
 * of its own: the transport refuses an oversize message once it has arrived (see the README's
 * WebSocket section), and `idleTimeout` pings quiet sockets.
 */
import type { WebSocketLike } from "../transports/websocket.ts";
import { createWebDoor, WS_PATH } from "./door.ts";
import { zeromqUpstream } from "./upstream.ts";
import type { RunningWebDoor, StartWebDoorOptions } from "./node.ts";

interface DenoServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
  addr: { hostname: string; port: number };
}

declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: () => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): DenoServer;
  upgradeWebSocket(request: Request, options: { protocol?: string; idleTimeout?: number }): { socket: WebSocketLike; response: Response };
};

export async function startWebDoor(options: StartWebDoorOptions): Promise<RunningWebDoor> {
  const upstream = zeromqUpstream(options);
  const door = createWebDoor({ ...options, upstream });
  await door.start();
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<WebSocketLike>();
  let server: DenoServer;
  try {
    server = Deno.serve({ hostname: host, port: options.port ?? 8080, onListen: () => {} }, async (request, info) => {
      const address = info.remoteAddr.hostname;
      const path = new URL(request.url).pathname;
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return door.app.fetch(request, { address });
      if (path !== WS_PATH) return Response.json({ error: { code: "NOT_FOUND", message: `No WebSocket at ${path}: use ${WS_PATH}` } }, { status: 404 });
      const check = await door.checkUpgrade({
        origin: request.headers.get("origin") ?? undefined,
        host: request.headers.get("host") ?? undefined,
        protocol: request.headers.get("sec-websocket-protocol") ?? undefined,
      });
      if (!check.ok) {
        const code = check.status === 401 ? "UNAUTHENTICATED" : check.status === 403 ? "PERMISSION_DENIED" : "INVALID_ARGUMENT";
        return Response.json({ error: { code, message: check.message } }, { status: check.status });
      }
      // Deno checks `protocol` against the offer split at ", " only; `ws` joins its offer with ","
      // alone. The offer was checked above, so the answer is set on the response directly.
      const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 60 });
      response.headers.set("Sec-WebSocket-Protocol", check.protocol);
      sockets.add(socket);
      socket.addEventListener("close", () => sockets.delete(socket));
      door.relay.accept(socket, { address, session: check.session });
      return response;
    });
  } catch (error) {
    await door.stop();
    throw error;
  }
  const port = server.addr.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    door,
    url,
    port,
    async close() {
      for (const socket of sockets) socket.close(1001, "server closing");
      await door.stop();
      await server.shutdown();
    },
  };
}
