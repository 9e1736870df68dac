/**
 * The web door put together, on no runtime in particular: the REST app (rest.ts), the WebSocket
 * relay (relay.ts) and the check of an upgrade request, around one upstream `RpcClient` that
 * the caller built (any transport; `tradewire web` uses ZeroMQ). The runtime entries (node.ts,
 * deno.ts) only serve HTTP and upgrade sockets.
 *
 * A WebSocket is authenticated at the upgrade: the client offers the subprotocols `tradewire`
 * and `bearer.TOKEN` (a browser cannot set headers on a WebSocket, and a token in the URL ends
 * up in access logs); the server answers `tradewire`, never echoing the token. An `Origin`
 * other than the door's own or one of `corsOrigins` is refused.
 */
import type { Hono } from "hono";
import type { RpcClient } from "../lib/index.ts";
import type { WebSocketServerOptions } from "../transports/websocket.ts";
import { Auth, type Session } from "./auth.ts";
import type { WebConfig } from "./config.ts";
import type { LoginLimiterOptions } from "./login-limiter.ts";
import { WebSocketRelay } from "./relay.ts";
import { restApp, type WebEnv } from "./rest.ts";

/** The subprotocol of tradewire's WebSocket framing; the token rides as `bearer.TOKEN` beside it. */
export const WS_PROTOCOL = "tradewire";
export const TOKEN_PROTOCOL_PREFIX = "bearer.";
export const WS_PATH = "/ws";

export interface WebDoorOptions {
  /** The trading service's client, not yet started: the door starts and stops it. */
  upstream: RpcClient;
  config: WebConfig;
  secret: Uint8Array;
  /** Browser origins other than the door's own allowed to call it. Default none. */
  corsOrigins?: readonly string[];
  tokenTtlSeconds?: number;
  loginLimits?: LoginLimiterOptions;
  /** Largest REST body. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Largest WebSocket frame either way. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * The WebSocket budgets: connections (in all, per address) count every socket of the door;
   * queues and subscriptions hold per group of users with the same accounts (relay.ts).
   */
  websocket?: Omit<WebSocketServerOptions, "maxMessageBytes">;
  /** Where the door says what happens (logins, the upstream link); never secrets. */
  log?: (line: string) => void;
  version?: string;
}

export type UpgradeCheck = { ok: true; session: Session; protocol: string } | { ok: false; status: 400 | 401 | 403; message: string };

export interface WebDoor {
  readonly app: Hono<WebEnv>;
  readonly relay: WebSocketRelay;
  readonly upstream: RpcClient;
  /** Whether an upgrade request to `WS_PATH` may become a socket, from its headers. */
  checkUpgrade(headers: { origin?: string | undefined; host?: string | undefined; protocol?: string | undefined }): Promise<UpgradeCheck>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Same origin: the Origin's host is the Host the request was sent to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function createWebDoor(options: WebDoorOptions): WebDoor {
  const log = options.log ?? (() => {});
  const corsOrigins = options.corsOrigins ?? [];
  const auth = new Auth({
    config: options.config,
    secret: options.secret,
    ...(options.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: options.tokenTtlSeconds } : {}),
    ...(options.loginLimits ? { limits: options.loginLimits } : {}),
    log,
  });
  const upstream = options.upstream;
  const app = restApp({
    auth,
    upstream,
    corsOrigins,
    version: options.version ?? "0.0.0",
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
  });
  const relay = new WebSocketRelay({
    auth,
    upstream,
    ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
    ...(options.websocket ? { websocket: options.websocket } : {}),
    logger: { warn: (m) => log(`warning: ${m}`), error: (m) => log(`error: ${m}`) },
  });
  upstream.on("connected", () => log("Upstream connected"));
  upstream.on("disconnected", (reason) => log(`Upstream disconnected: ${reason}`));
  upstream.on("restart", () => log("Upstream restarted"));

  return {
    app,
    relay,
    upstream,
    async checkUpgrade(headers) {
      if (headers.origin !== undefined && !corsOrigins.includes(headers.origin) && !sameOrigin(headers.origin, headers.host)) {
        return { ok: false, status: 403, message: "Origin not allowed" };
      }
      const offered = (headers.protocol ?? "").split(",").map((p) => p.trim());
      if (!offered.includes(WS_PROTOCOL)) return { ok: false, status: 400, message: `Offer the subprotocol ${WS_PROTOCOL} with ${TOKEN_PROTOCOL_PREFIX}TOKEN` };
      const token = offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(TOKEN_PROTOCOL_PREFIX.length);
      const session = await auth.authenticate(token);
      if ("problem" in session) return { ok: false, status: 401, message: session.problem };
      return { ok: true, session, protocol: WS_PROTOCOL };
    },
    async start() {
      await relay.start();
      await upstream.start();
    },
    async stop() {
      await relay.stop();
      await upstream.stop();
    },
  };
}
