/**
 * Options of the ZeroMQ transport, their defaults, and the checks on what callers pass.
 *
 * Memory is bounded everywhere a slow peer could make it grow:
 * - server PUB: `publishHighWaterMark` messages per subscriber; beyond it that subscriber's
 *   messages are dropped (PUB never blocks, so one slow subscriber cannot stall the others);
 *   ZMTP engine also: `maxQueuedEventBytesPerSubscriber` and `maxQueuedEventBytes`, and past
 *   `conflateAboveBytes` a subscriber gets only the newest event of a `latestValue` topic
 *   (conflation; libzmq cannot conflate per topic, so the native engine queues them all);
 * - server ROUTER: `replyHighWaterMark` replies per client; beyond it replies to that client are
 *   dropped (its calls then time out on its side) and its requests wait in TCP; ZMTP engine
 *   also: `maxQueuedReplyBytesPerPeer` and `maxQueuedReplyBytes`, past which the client is
 *   disconnected;
 * - server, ZMTP engine: `maxConnections`, `maxConnectionsPerAddress`, `maxPartialBytes`,
 *   `messageTimeoutMs`, `maxSubscriptionsPerPeer`, `maxPrefixBytes`;
 * - client DEALER: `requestHighWaterMark` requests in libzmq plus `requestQueueLimit` waiting in
 *   JavaScript; beyond both, `send` throws RpcError RESOURCE_EXHAUSTED (backpressure to the caller);
 * - client SUB: `receiveHighWaterMark` broadcasts buffered; beyond it libzmq drops on its side.
 *
 * The native engine (libzmq) counts messages, not bytes: it enforces the high-water marks and
 * `maxMessageSize` only. It cannot bound queued bytes (a queue may hold HWM × maxMessageSize),
 * the bytes of incomplete messages across connections (each claims up to maxMessageSize), the
 * number of connections or connections per address, or subscription counts and prefix lengths.
 * It drops a trickling peer only through the heartbeat (no complete frame within 3 ×
 * `heartbeatInterval`). Expose a native-engine server beyond one machine only with CURVE.
 * Byte defaults come from lib/budgets.ts.
 */
import { DEFAULT_BUDGETS } from "../../lib/budgets.ts";
import type { EngineName } from "./engine.ts";

export interface CurveServerOptions {
  /** The server's long-term secret key, Z85 (40 characters). `tradewire keygen` prints a pair. */
  secretKey: string;
}

export interface CurveClientOptions {
  /** The server's public key, Z85 (40 characters). */
  serverKey: string;
  /** Our key pair; an ephemeral one is generated when omitted. */
  publicKey?: string;
  secretKey?: string;
}

interface CommonOptions {
  /** "zmtp" (pure TypeScript ZMTP 3.1; the default) or "native" (libzmq via the `zeromq` package, Node only; the default with `curve`). */
  engine?: EngineName;
  /**
   * Largest message accepted from a peer, in bytes (a peer that sends more is disconnected).
   * Default 4 MiB + 64 KiB: the core's `maxMessageBytes` plus room for a broadcast's topic.
   */
  maxMessageSize?: number;
  /**
   * Milliseconds unsent messages are kept after close (which waits at most that long). Default 0 on a
   * client: closing never waits on a dead peer; 200 on a server, so that its last words (the
   * "stopping" heartbeat, UNAVAILABLE answers to calls in flight) reach live clients.
   */
  linger?: number;
}

export interface ZmqServerOptions extends CommonOptions {
  /** Request address the ROUTER binds, e.g. `tcp://127.0.0.1:2014` or `ipc:///tmp/tw-rep.sock`. */
  rep: string;
  /** Broadcast address the PUB binds, e.g. `tcp://127.0.0.1:4102`. */
  pub: string;
  /** Messages queued per subscriber before the publisher drops. Default 10 000. */
  publishHighWaterMark?: number;
  /** Replies queued per client before they are dropped. Default 10 000. */
  replyHighWaterMark?: number;
  /** Requests buffered per client before it is pushed back. Default 10 000. */
  requestHighWaterMark?: number;
  /**
   * ZMTP PING interval to clients in ms; a client that sends no complete frame for 3 × this
   * (or for the TTL of its own PINGs) is dropped and its calls aborted. Default 5 000; 0 = off.
   */
  heartbeatInterval?: number;
  // --- budgets enforced by the ZMTP engine only (libzmq has no such options) -------------
  /** Connections per bound socket (request and broadcast each; handshakes under way count); more are refused. Default 1 024. */
  maxConnections?: number;
  /** Connections per bound tcp socket from one remote IP address; more are refused. Not for ipc. Default 256. */
  maxConnectionsPerAddress?: number;
  /** Reply bytes queued for one client that does not read; past it the client is disconnected. Default 8 MiB. */
  maxQueuedReplyBytesPerPeer?: number;
  /** Reply bytes queued for all clients; past it a client holding its fair share or more is disconnected. Default 64 MiB. */
  maxQueuedReplyBytes?: number;
  /** Event bytes queued for one subscriber; past it that subscriber misses events. Default 8 MiB. */
  maxQueuedEventBytesPerSubscriber?: number;
  /** Event bytes queued for all subscribers; past it those holding their fair share or more miss events. Default 64 MiB. */
  maxQueuedEventBytes?: number;
  /**
   * Event bytes queued for one subscriber past which it is behind: an event published with
   * `latestValue` (market data) then replaces that subscriber's pending one of the same topic
   * instead of being queued, and the newest of each topic goes out once it catches up. Other
   * events are queued as before. Held events count against `maxQueuedEventBytesPerSubscriber`
   * and are the first to go when another event needs the room. Default 256 KiB. ZMTP engine
   * only: libzmq cannot conflate per topic.
   */
  conflateAboveBytes?: number;
  /** Bytes of incomplete incoming messages, per bound socket, all peers together; the peer pushing past it is dropped. Default 64 MiB. */
  maxPartialBytes?: number;
  /** A message must arrive whole within this many ms of its first byte, or its peer is dropped (a trickler). Default 30 000; 0 = off. */
  messageTimeoutMs?: number;
  /** Topic prefixes one subscriber may hold; more are ignored. Default 1 000. */
  maxSubscriptionsPerPeer?: number;
  /** Longest topic prefix in bytes; longer ones are ignored. Default 1 024. */
  maxPrefixBytes?: number;
  curve?: CurveServerOptions;
}

/**
 * Queued event bytes past which a subscriber gets latest values conflated: the ZMTP
 * connection's cork flush size, so only bytes the kernel refused count as being behind.
 */
export const CONFLATE_ABOVE_BYTES = DEFAULT_BUDGETS.conflateAboveBytes;

/** The server options that are budgets (all counts ≥ 0), with their defaults. */
export const SERVER_BUDGET_DEFAULTS = {
  maxConnections: DEFAULT_BUDGETS.maxConnections,
  maxConnectionsPerAddress: DEFAULT_BUDGETS.maxConnectionsPerAddress,
  maxQueuedReplyBytesPerPeer: DEFAULT_BUDGETS.maxQueuedReplyBytesPerPeer,
  maxQueuedReplyBytes: DEFAULT_BUDGETS.maxQueuedReplyBytes,
  maxQueuedEventBytesPerSubscriber: DEFAULT_BUDGETS.maxQueuedEventBytesPerSubscriber,
  maxQueuedEventBytes: DEFAULT_BUDGETS.maxQueuedEventBytes,
  conflateAboveBytes: CONFLATE_ABOVE_BYTES,
  maxPartialBytes: DEFAULT_BUDGETS.maxPartialBytes,
  messageTimeoutMs: DEFAULT_BUDGETS.messageTimeoutMs,
  maxSubscriptionsPerPeer: DEFAULT_BUDGETS.maxSubscriptionsPerPeer,
  maxPrefixBytes: DEFAULT_BUDGETS.maxPrefixBytes,
} as const;

export interface ZmqClientOptions extends CommonOptions {
  /** The server's request address (its `rep`). */
  req: string;
  /** The server's broadcast address (its `pub`). */
  sub: string;
  /** Requests queued in libzmq before sending blocks. Default 1 000. */
  requestHighWaterMark?: number;
  /** Requests waiting in JavaScript behind a blocked socket before `send` throws RESOURCE_EXHAUSTED. Default 10 000. */
  requestQueueLimit?: number;
  /** Broadcasts buffered before libzmq drops. Default 10 000. */
  receiveHighWaterMark?: number;
  /** ZMTP PING interval in ms, so a silent dead server is noticed. Default 1 000; 0 turns it off. */
  heartbeatInterval?: number;
  /** How long `connect` waits for the first handshake before resolving anyway (connecting goes on). Default 1 000. */
  connectWaitMs?: number;
  curve?: CurveClientOptions;
}

export const DEFAULTS = {
  /** The core's largest frame, plus room for a broadcast's topic frame. */
  maxMessageSize: DEFAULT_BUDGETS.maxMessageBytes + 64 * 1024,
  linger: 0,
  publishHighWaterMark: 10_000,
  replyHighWaterMark: 10_000,
  serverRequestHighWaterMark: 10_000,
  clientRequestHighWaterMark: 1_000,
  requestQueueLimit: 10_000,
  receiveHighWaterMark: 10_000,
  heartbeatInterval: 1_000,
  serverHeartbeatInterval: 5_000,
  connectWaitMs: 1_000,
  /** JavaScript-side queues in front of sockets that never block (ROUTER, PUB): a safety bound only. */
  nonBlockingQueueLimit: 100_000,
} as const;

const ADDRESS = /^(tcp:\/\/.+:(\d+|\*)|ipc:\/\/.+)$/;

export function checkAddress(option: string, value: unknown): string {
  if (typeof value !== "string" || !ADDRESS.test(value)) {
    throw new TypeError(
      `Option ${option} must be a ZeroMQ address such as tcp://127.0.0.1:2014 or ipc:///tmp/tradewire.sock, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkCount(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(`Option ${option} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export function checkKey(option: string, value: unknown): string {
  if (typeof value !== "string" || !Z85_KEY.test(value)) {
    throw new TypeError(`Option ${option} must be a Z85-encoded CURVE key of 40 characters`);
  }
  return value;
}
