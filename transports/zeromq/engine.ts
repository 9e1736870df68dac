/**
 * The few ZeroMQ calls the transport makes, behind one small interface, so that the native
 * libzmq binding (`zeromq` package) and our own ZMTP 3.1 engine (`transports/zmtp/`) are
 * interchangeable. The shapes follow zeromq.js v6: `send(frames)` resolves once the message is
 * queued, `receive()` resolves with the next multipart message and rejects once the socket is
 * closed.
 */

export type EngineName = "native" | "zmtp";

/** Options the transport sets on its sockets. Every engine maps them to its own. */
export interface SocketOptions {
  /** Messages queued per peer on the way out (not for SUB); what happens beyond depends on the socket kind. */
  sendHighWaterMark?: number;
  /** Messages queued per peer on the way in (not for PUB); beyond it the peer is pushed back (TCP flow control). */
  receiveHighWaterMark?: number;
  /** Largest message accepted from a peer, in bytes; a peer that sends more is disconnected. */
  maxMessageSize: number;
  /** Milliseconds unsent messages are kept after close. */
  linger: number;
  /** ZMTP heartbeat (PING) interval in ms; 0 turns it off. */
  heartbeatInterval: number;
  /** How long a connection may stay silent after a PING before it is dropped, in ms. */
  heartbeatTimeout: number;
  /** Queue outgoing messages only on completed connections (so nothing is sent late to a new peer). */
  immediate?: boolean;
  /**
   * ROUTER: receive `[routingId, <empty frame>]` once when a peer connects and once when it is
   * gone (libzmq's ZMQ_ROUTER_NOTIFY), so the server can release what it holds for the peer.
   */
  routerNotify?: boolean;
  /**
   * Byte budgets of a bound socket. Only the ZMTP engine enforces them: libzmq counts messages
   * (the high-water marks), not bytes, and has no per-socket connection caps.
   */
  budgets?: EngineBudgets;
  /** CURVE server side: our long-term secret key (Z85). */
  curveServerSecretKey?: string;
  /** CURVE client side: the server's public key and our own key pair (Z85). */
  curveClient?: { serverKey: string; publicKey: string; secretKey: string };
}

/** Limits the ZMTP engine applies to a bound socket (see options.ts for what each does). */
export interface EngineBudgets {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Bytes queued for one peer (ROUTER: replies, it is disconnected; PUB: events, it misses them). */
  maxQueuedBytesPerPeer: number;
  /** Bytes queued for all peers of the socket together. */
  maxQueuedBytes: number;
  maxPartialBytes: number;
  messageTimeoutMs: number;
  /**
   * PUB: queued bytes over which a subscriber is behind, so a `latestValue` message replaces its
   * held one of the same topic instead of being queued (conflation).
   */
  conflateAboveBytes?: number;
  /** PUB only. */
  maxSubscriptionsPerPeer: number;
  maxPrefixBytes: number;
}

/** What a socket reports about its connections, engine-neutral. */
export type SocketEvent =
  | { type: "connected"; address: string }
  | { type: "handshake"; address: string }
  | { type: "disconnected"; address: string }
  | { type: "retry"; address: string }
  | { type: "handshake-failed"; address: string; detail: string };

/** How one message is sent. */
export interface SendOptions {
  /**
   * PUB: only the newest message of this topic matters (market data). The ZMTP engine conflates
   * it for a subscriber that is behind; libzmq cannot (its ZMQ_CONFLATE keeps one message for
   * the whole socket, whatever the topic, and breaks multipart messages), so the native engine
   * ignores it and queues every message up to the high-water mark.
   */
  latestValue?: boolean;
}

export interface EngineSocket {
  bind(address: string): Promise<void>;
  connect(address: string): void;
  send(frames: Uint8Array[], options?: SendOptions): Promise<void>;
  receive(): Promise<Uint8Array[]>;
  /**
   * Close the socket. `lingerMs`, when given, replaces the socket's linger for this close:
   * messages already queued get that long to go out (in the background: close never blocks).
   */
  close(lingerMs?: number): void;
  readonly closed: boolean;
  /** Report connection events to `listener` until the socket closes. */
  watch(listener: (event: SocketEvent) => void): void;
  /** True for a ROUTER that delivers the `routerNotify` messages (the option was asked for and the engine has it). */
  readonly notifies?: boolean;
  /**
   * True where a notification cannot be told from a peer's own empty message by its shape
   * (libzmq: both are `[routingId, <empty>]`). The socket's "disconnected" events then tell
   * which notifications are departures. Our ZMTP engine drops peers' empty messages itself.
   */
  readonly notifyLooksLikeEmptyMessage?: boolean;
  /** The engine's own counters for this socket (drops, refusals), where it keeps any. */
  stats?(): Readonly<Record<string, number>>;
}

export interface SubscriberSocket extends EngineSocket {
  subscribe(prefix: Uint8Array): void;
  unsubscribe(prefix: Uint8Array): void;
}

export interface ZmqEngine {
  readonly name: EngineName;
  router(options: SocketOptions): EngineSocket;
  dealer(options: SocketOptions): EngineSocket;
  publisher(options: SocketOptions): EngineSocket;
  subscriber(options: SocketOptions): SubscriberSocket;
}

export function isDeno(): boolean {
  return "Deno" in globalThis;
}

/**
 * The engine used when none is named: our ZMTP engine, which measures faster than libzmq
 * through zeromq.js (README "Benchmarks") and is the only one that works under Deno; libzmq
 * on Node when CURVE is asked for, since only it implements CURVE.
 */
export function defaultEngineName(options: { curve?: unknown } = {}): EngineName {
  return options.curve !== undefined && !isDeno() ? "native" : "zmtp";
}

/** Throws at once for a combination that would hang later. */
export function checkEngineChoice(name: EngineName): void {
  if (name !== "native" && name !== "zmtp") {
    throw new TypeError(`Unknown ZeroMQ engine ${JSON.stringify(name)}: use "native" or "zmtp"`);
  }
  if (name === "native" && isDeno()) {
    throw new Error(
      'The native zeromq engine does not work under Deno (its request/reply receive hangs): use engine: "zmtp"',
    );
  }
}

/** Load an engine on first use, so Deno never loads the native addon and Node never loads ZMTP it does not use. */
export async function loadEngine(name: EngineName): Promise<ZmqEngine> {
  checkEngineChoice(name);
  if (name === "native") {
    const { nativeEngine } = await import("./native-engine.ts").catch((error: unknown) => {
      throw zeromqMissing(error) ? new Error(NO_ZEROMQ, { cause: error }) : error;
    });
    return nativeEngine();
  }
  const { zmtpEngine } = await import("./zmtp-engine.ts");
  return zmtpEngine();
}

/** The native addon is an optional peer dependency: installed by those who need CURVE. */
const NO_ZEROMQ =
  'The native ZeroMQ engine (engine: "native", and CURVE, which only it implements) needs the zeromq package: npm install zeromq';

function zeromqMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "ERR_MODULE_NOT_FOUND" && typeof message === "string" && /['"]zeromq['"]/.test(message);
}
