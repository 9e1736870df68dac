/** A real ws server on a free loopback port and a client to it, as a TransportLink. */
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { websocketClient, websocketServer, type WebSocketConstructor, type WebSocketLike } from "../../transports/websocket.ts";
import type { TransportLink } from "../core/links.ts";

export async function websocketLink(): Promise<TransportLink> {
  const server = websocketServer();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: server.maxPayload });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  wss.on("connection", (socket, request) => server.accept(socket as unknown as WebSocketLike, { address: request.socket.remoteAddress }));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    server,
    client: websocketClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor }),
    async close() {
      for (const socket of wss.clients) socket.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
