/**
 * For browsers (and any runtime with `fetch`): log in to a web door and open its WebSocket with
 * the token, as a `websocketClient` transport. Web-standard APIs only.
 *
 * ```ts
 * const session = await loginToWebDoor("http://127.0.0.1:8080", "alice", password);
 * const client = new RpcClient({ transport: webDoorTransport(session) });
 * await client.start();
 * await client.call("getAllAccounts");
 * ```
 */
import type { ClientTransport } from "../lib/index.ts";
import { websocketClient, type WebSocketClientOptions, type WebSocketConstructor, type WebSocketLike } from "../transports/websocket.ts";

export interface WebDoorSession {
  /** `http(s)://host:port` of the door. */
  url: string;
  token: string;
  role: string;
  /** Epoch milliseconds at which the token expires. */
  expiresAt: number;
}

/** The door's refusal: `status` is the HTTP status, `code` tradewire's error code. */
export class WebDoorError extends Error {
  override name = "WebDoorError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function loginToWebDoor(url: string, username: string, password: string, fetchImpl: typeof fetch = fetch): Promise<WebDoorSession> {
  const base = url.replace(/\/+$/, "");
  const response = await fetchImpl(`${base}/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; role?: string; error?: { code?: string; message?: string } };
  if (!response.ok || typeof body.access_token !== "string") {
    throw new WebDoorError(response.status, body.error?.code ?? "UNKNOWN", body.error?.message ?? `Login failed (HTTP ${response.status})`);
  }
  return { url: base, token: body.access_token, role: body.role ?? "", expiresAt: Date.now() + (body.expires_in ?? 0) * 1000 };
}

/**
 * A WebSocket class that offers the subprotocols `tradewire` and `bearer.TOKEN`, reading the
 * token anew at each connection, so a reconnect after a fresh login carries the fresh token.
 */
export function bearerWebSocket(token: () => string, Base?: new (url: string, protocols?: string[]) => WebSocketLike): WebSocketConstructor {
  const Found = Base ?? (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike }).WebSocket;
  if (!Found) throw new TypeError("No WebSocket implementation: pass one (e.g. the ws package on Node 20)");
  const Impl = Found;
  return class {
    constructor(url: string) {
      return new Impl(url, ["tradewire", `bearer.${token()}`]);
    }
  } as unknown as WebSocketConstructor;
}

/** `ws(s)://…/ws` of a door at `http(s)://…`. */
export function webSocketUrl(url: string): string {
  return `${url.replace(/\/+$/, "").replace(/^http/, "ws")}/ws`;
}

/**
 * The door's WebSocket as a transport. `token` defaults to the session's; pass a function to
 * supply a refreshed one on reconnects.
 */
export function webDoorTransport(
  session: WebDoorSession,
  options: Omit<WebSocketClientOptions, "WebSocket"> & { token?: () => string; WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike } = {},
): ClientTransport {
  const { token, WebSocket: Base, ...rest } = options;
  return websocketClient(webSocketUrl(session.url), { ...rest, WebSocket: bearerWebSocket(token ?? (() => session.token), Base) });
}
