/**
 * One ZMTP connection over a stream socket: greeting, NULL handshake, framing, heartbeats and
 * write accounting. Socket behaviour (routing, subscriptions, queues) lives in the sockets.
 *
 * What a peer can make us hold is bounded here, at the root:
 * - silence: only COMPLETE frames and commands count as traffic for the heartbeat, so a peer
 *   that trickles one byte at a time is as silent as one that sends nothing;
 * - slowness: a message must complete within `messageTimeout` of its first byte;
 * - partial messages: the bytes of incomplete messages, across all connections of a socket, are
 *   bounded by the socket's `maxPartialBytes` (the connection that pushes past it is dropped);
 * - writes: the bytes written and not yet flushed are tracked per connection and per socket,
 *   so a socket can refuse to queue more for a peer that does not read.
 * All of it runs on the one timer a connection already has (the heartbeat tick) and on
 * counters updated once per chunk or write: no timer or allocation per message.
 */
import type { Socket as NetSocket } from "node:net";
import { nextTick } from "node:process";
import {
  encodeCommand,
  encodeMessage,
  encodeMessageChunks,
  type DecodedItem,
  FrameDecoder,
  FrameError,
} from "./frame-codec.ts";
import {
  checkSignature,
  decodeErrorReason,
  decodeProperties,
  encodeErrorReason,
  encodeGreeting,
  encodeProperties,
  GREETING_SIZE,
  parseGreeting,
} from "./greeting.ts";
import { incompatibilityReason, sendsIdentity, type SocketType } from "./socket-types.ts";

/** Messages at or above this size are written as header + body without a copy. */
const COPY_LIMIT = 16 * 1024;
/**
 * Corked bytes above which a connection flushes before the end of the tick: a burst then goes
 * to the kernel (which a reading peer drains) instead of counting in full against the peer's
 * queued-bytes budget.
 */
const CORK_FLUSH_BYTES = 256 * 1024;
/** Bytes waiting in the socket's write buffer above which PINGs go unanswered. */
const PONG_BACKLOG_LIMIT = 64 * 1024;
/** libzmq refuses a READY whose Identity is longer than this. */
const MAX_IDENTITY_SIZE = 255;

/**
 * Byte totals shared by every connection of one socket, so the socket bounds them as a whole
 * (many peers must not do together what one may not).
 */
export class SocketBudget {
  /** Bytes of incomplete received messages, all connections together. */
  partialBytes = 0;
  /** Bytes written to connections and not yet flushed to the OS, all connections together. */
  queuedBytes = 0;
  constructor(
    /** Past this many partial bytes the connection that pushed over is dropped; Infinity = off. */
    readonly maxPartialBytes: number = Number.POSITIVE_INFINITY,
  ) {}
}

export interface ConnectionOptions {
  socketType: SocketType;
  routingId: Uint8Array | undefined;
  maxMessageSize: number;
  /** Most frames in one received message; negative = no limit. */
  maxFramesPerMessage: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  handshakeInterval: number;
  /** A message must complete within this many ms of its first byte; 0 = no limit. */
  messageTimeout: number;
  budget: SocketBudget;
}

/**
 * Why a connection ended, so the socket can emit the right event and count it. `timeout`: a
 * message did not complete within `messageTimeout` (a trickler); `budget`: the socket's partial
 * bytes budget was exceeded.
 */
export type CloseKind = "handshake" | "protocol" | "peer" | "heartbeat" | "timeout" | "budget" | "local";

export interface ConnectionHandler {
  /** Handshake done: the peer's READY was valid and its type is compatible. */
  ready(connection: Connection): void;
  message(connection: Connection, frames: Uint8Array[]): void;
  /** Commands the socket may care about (SUBSCRIBE, CANCEL). */
  command(connection: Connection, name: string, data: Uint8Array): void;
  /** Pending writes fell below the high-water mark or finished. */
  drain(connection: Connection): void;
  closed(connection: Connection, kind: CloseKind, reason: string): void;
}

export class Connection {
  readonly address: string;
  readonly #socket: NetSocket;
  readonly #options: ConnectionOptions;
  readonly #handler: ConnectionHandler;
  readonly #decoder: FrameDecoder;
  #greeting: Uint8Array | undefined = new Uint8Array(GREETING_SIZE);
  #greetingHave = 0;
  #ready = false;
  #closed = false;
  #pendingWrites = 0;
  /** When the last complete frame or command arrived (raw bytes do not count). */
  #lastReceived = Date.now();
  /** When the message being received started (0: none under way). */
  #messageStart = 0;
  #lastPing = 0;
  /** Our share of the socket's partial bytes, and of its queued bytes (last seen writableLength). */
  #partial = 0;
  #queued = 0;
  #peerTtl = 0;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  #corked = false;
  /** A PONG is in the write buffer: further PINGs are not answered until it is flushed. */
  #pongPending = false;
  peerType = "";
  peerIdentity: Uint8Array = new Uint8Array(0);
  peerMinor = 0;
  /** Set by a ROUTER: the routing id (as a latin1 key) this peer is known by. */
  routingKey = "";

  constructor(socket: NetSocket, address: string, options: ConnectionOptions, handler: ConnectionHandler) {
    this.#socket = socket;
    this.address = address;
    this.#options = options;
    this.#handler = handler;
    this.#decoder = new FrameDecoder({
      maxMessageSize: options.maxMessageSize,
      maxFramesPerMessage: options.maxFramesPerMessage,
      handshake: true,
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("error", (error: Error) => this.#finish("peer", `socket error: ${error.message}`));
    // ZMTP has no half-close: the peer ending its side ends the connection.
    socket.on("close", () => this.#peerClosed());
    socket.on("end", () => this.#peerClosed());
    if (options.handshakeInterval > 0) {
      this.#handshakeTimer = setTimeout(
        () => this.fail("handshake", `handshake not completed within ${options.handshakeInterval} ms`),
        options.handshakeInterval,
      );
    }
    // The whole greeting goes out at once (libzmq stages its own, so waiting for the peer's 64
    // bytes first would deadlock). READY waits for the peer's greeting: libzmq drops a peer
    // whose READY it dislikes before sending its own, and its READY names its socket type,
    // which makes the reason we report useful ("peer is a PUB socket…").
    socket.write(encodeGreeting());
  }

  #sendReady(): void {
    const properties: Record<string, Uint8Array | string> = { "Socket-Type": this.#options.socketType };
    if (sendsIdentity(this.#options.socketType)) properties["Identity"] = this.#options.routingId ?? new Uint8Array(0);
    this.#socket.write(encodeCommand("READY", encodeProperties(properties)));
  }

  get ready(): boolean {
    return this.#ready;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages handed to the socket and not yet flushed to the OS. */
  get pendingWrites(): number {
    return this.#pendingWrites;
  }

  /** Bytes written and not yet flushed to the OS, as of the last write or flush. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Bring our share of the socket's queued bytes up to date. The stream already counts its
   * buffered bytes (`writableLength`), so this is a read and a compare, not a per-message record.
   */
  #syncQueued(): void {
    let now = this.#socket.writableLength;
    if (now === this.#queued) return;
    if (this.#corked && now >= CORK_FLUSH_BYTES) {
      this.#uncork();
      now = this.#socket.writableLength;
    }
    this.#options.budget.queuedBytes += now - this.#queued;
    this.#queued = now;
  }

  send(frames: readonly Uint8Array[]): void {
    if (this.#closed) return;
    this.#pendingWrites++;
    this.#corkUntilNextTick();
    let size = 0;
    for (const frame of frames) size += frame.length;
    if (size < COPY_LIMIT) {
      this.#socket.write(encodeMessage(frames), this.#onWritten);
    } else {
      const chunks = encodeMessageChunks(frames);
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) this.#socket.write(chunks[i]!);
      this.#socket.write(chunks[last]!, this.#onWritten);
    }
    this.#syncQueued();
  }

  /** Send a message already encoded with `encodeMessage` (a publisher encodes once for all). */
  sendEncoded(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#pendingWrites++;
    this.#corkUntilNextTick();
    this.#socket.write(bytes, this.#onWritten);
    this.#syncQueued();
  }

  /**
   * Messages sent in one turn of the event loop (replies to a burst of requests, a publish to
   * many topics) leave in one writev instead of one syscall each. The tick runs after the
   * current microtasks, so a single request/reply only waits for its own promise chain.
   */
  #corkUntilNextTick(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    nextTick(this.#uncork);
  }

  readonly #uncork = (): void => {
    // Already flushed early (CORK_FLUSH_BYTES): the tick's uncork has nothing left to undo.
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  };

  sendCommand(name: string, data?: Uint8Array): void {
    if (this.#closed) return;
    this.#socket.write(encodeCommand(name, data));
  }

  readonly #onWritten = (): void => {
    this.#pendingWrites--;
    if (this.#closed) return;
    this.#syncQueued();
    this.#handler.drain(this);
  };

  /** Stop reading (receive queue full); TCP flow control then slows the peer. */
  pause(): void {
    if (this.#paused || this.#closed) return;
    this.#paused = true;
    this.#socket.pause();
  }

  resume(): void {
    if (!this.#paused || this.#closed) return;
    this.#paused = false;
    this.#socket.resume();
  }

  /** Protocol failure: tell the peer why (during the handshake, as ZMTP allows) and drop it. */
  fail(kind: CloseKind, reason: string): void {
    if (this.#closed) return;
    if (this.#greeting === undefined && !this.#ready) {
      this.#socket.write(encodeCommand("ERROR", encodeErrorReason(reason)));
    }
    this.#finish(kind, reason, false);
    this.#socket.end();
    // A peer that never reads would keep the socket half-open forever.
    const timer = setTimeout(() => this.#socket.destroy(), 1000);
    this.#socket.once("close", () => clearTimeout(timer));
  }

  /**
   * Close from our side. With `lingerMs` > 0 pending writes are flushed first (bounded by the
   * linger time); 0 drops them; negative waits until flushed.
   */
  close(lingerMs: number): void {
    if (this.#closed) return;
    const flush = lingerMs !== 0 && this.#pendingWrites > 0;
    this.#finish("local", "closed by us", false);
    if (!flush) {
      this.#socket.destroy();
      return;
    }
    this.#socket.end();
    if (lingerMs > 0) {
      this.#lingerTimer = setTimeout(() => this.#socket.destroy(), lingerMs);
      this.#socket.once("close", () => clearTimeout(this.#lingerTimer));
    }
  }

  #finish(kind: CloseKind, reason: string, destroy = true): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeatTimer);
    // What this connection held no longer counts against the socket.
    const budget = this.#options.budget;
    budget.partialBytes -= this.#partial;
    budget.queuedBytes -= this.#queued;
    this.#partial = 0;
    this.#queued = 0;
    this.#socket.removeAllListeners("data");
    // Keep an error listener: a late EPIPE must not become an uncaught exception.
    this.#socket.on("error", () => {});
    if (destroy) this.#socket.destroy();
    this.#handler.closed(this, kind, reason);
  }

  #peerClosed(): void {
    if (this.#ready) this.#finish("peer", "connection closed by peer");
    else this.#finish("handshake", "peer closed the connection during the handshake");
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    let offset = 0;
    if (this.#greeting !== undefined) {
      offset = this.#takeGreeting(chunk);
      if (offset < 0 || this.#closed) return;
    }
    if (offset >= chunk.length) return;
    let items: DecodedItem[];
    const decoder = this.#decoder;
    try {
      items = decoder.push(offset === 0 ? chunk : chunk.subarray(offset));
    } catch (error) {
      const reason = error instanceof FrameError ? error.message : String(error);
      this.fail(this.#ready ? "protocol" : "handshake", reason);
      return;
    }
    // Progress is counted in complete frames and messages, never in raw bytes.
    if (items.length > 0 || decoder.midMessage) {
      const now = Date.now();
      if (items.length > 0) this.#lastReceived = now;
      // A message still incomplete after this chunk started in it if anything completed before it.
      if (!decoder.midMessage) this.#messageStart = 0;
      else if (items.length > 0 || this.#messageStart === 0) this.#messageStart = now;
    } else {
      this.#messageStart = 0;
    }
    const partial = decoder.partialBytes;
    if (partial !== this.#partial && !this.#accountPartial(partial)) return;
    for (const item of items) {
      if (this.#closed) return;
      if (item.kind === "message") {
        if (!this.#ready) {
          this.fail("handshake", "peer sent a message before READY");
          return;
        }
        this.#handler.message(this, item.frames);
      } else {
        this.#onCommand(item.name, item.data);
      }
    }
  }

  /** Record this connection's partial bytes; drops the connection (false) if the socket's budget is exceeded. */
  #accountPartial(partial: number): boolean {
    const budget = this.#options.budget;
    budget.partialBytes += partial - this.#partial;
    this.#partial = partial;
    if (partial === 0 || budget.partialBytes <= budget.maxPartialBytes) return true;
    this.fail(
      "budget",
      `incomplete messages of all peers exceed maxPartialBytes ${budget.maxPartialBytes} (this peer's: ${partial} bytes)`,
    );
    return false;
  }

  /** Returns the offset after the greeting, or -1 if more bytes are needed or it failed. */
  #takeGreeting(chunk: Uint8Array): number {
    const greeting = this.#greeting!;
    const take = Math.min(GREETING_SIZE - this.#greetingHave, chunk.length);
    greeting.set(chunk.subarray(0, take), this.#greetingHave);
    this.#greetingHave += take;
    const early = checkSignature(greeting.subarray(0, this.#greetingHave));
    if (early) {
      this.fail("handshake", early);
      return -1;
    }
    if (this.#greetingHave < GREETING_SIZE) return -1;
    try {
      this.peerMinor = parseGreeting(greeting).minor;
    } catch (error) {
      this.fail("handshake", (error as Error).message);
      return -1;
    }
    this.#greeting = undefined;
    this.#sendReady();
    return take;
  }

  #onCommand(name: string, data: Uint8Array): void {
    switch (name) {
      case "READY":
        if (this.#ready) return this.fail("protocol", "peer sent READY twice");
        return this.#onReady(data);
      case "ERROR":
        return this.fail(this.#ready ? "protocol" : "handshake", `peer reported an error: ${decodeErrorReason(data)}`);
      default:
        // The NULL handshake allows only READY (or ERROR) first; nothing else is answered.
        if (!this.#ready) return this.fail("handshake", `peer sent ${name} before READY`);
        if (name === "PING") return this.#onPing(data);
        if (name === "PONG") return;
        this.#handler.command(this, name, data);
    }
  }

  #onReady(data: Uint8Array): void {
    let properties: Map<string, Uint8Array>;
    try {
      properties = decodeProperties(data);
    } catch (error) {
      return this.fail("handshake", (error as Error).message);
    }
    const typeBytes = properties.get("socket-type");
    this.peerType = typeBytes ? new TextDecoder().decode(typeBytes) : "";
    const problem = incompatibilityReason(this.#options.socketType, this.peerType);
    if (problem) return this.fail("handshake", problem);
    const identity = properties.get("identity") ?? new Uint8Array(0);
    if (identity.length > MAX_IDENTITY_SIZE) {
      return this.fail("handshake", `peer identity of ${identity.length} bytes exceeds ${MAX_IDENTITY_SIZE}`);
    }
    this.peerIdentity = identity;
    this.#ready = true;
    clearTimeout(this.#handshakeTimer);
    this.#startHeartbeat();
    this.#handler.ready(this);
  }

  #onPing(data: Uint8Array): void {
    // PING = TTL (2 bytes, deciseconds) + context (echoed back in PONG, at most 16 bytes).
    const ttl = data.length >= 2 ? ((data[0]! << 8) | data[1]!) * 100 : 0;
    if (ttl > 0 && this.#peerTtl === 0) {
      this.#peerTtl = ttl;
      this.#startHeartbeat();
    }
    // A peer that PINGs and never reads must not make us buffer PONGs without limit: at most
    // one PONG waits in the write buffer, and none is added to a backed-up socket. The peer's
    // heartbeat may then time out, which is what a peer that does not read deserves.
    if (this.#pongPending || this.#socket.writableLength > PONG_BACKLOG_LIMIT) return;
    this.#pongPending = true;
    this.#socket.write(encodeCommand("PONG", data.subarray(2, 18)), this.#onPongWritten);
  }

  readonly #onPongWritten = (): void => {
    this.#pongPending = false;
  };

  /**
   * One timer covers everything timed about a ready connection: we PING every
   * `heartbeatInterval` and drop the peer when no complete frame arrived for `heartbeatTimeout`
   * (a peer's PING TTL also bounds its silence), and drop a peer whose message in progress is
   * older than `messageTimeout`.
   */
  #startHeartbeat(): void {
    const { heartbeatInterval, heartbeatTimeout, messageTimeout } = this.#options;
    const ownTimeout = heartbeatInterval > 0 ? (heartbeatTimeout > 0 ? heartbeatTimeout : heartbeatInterval) : 0;
    const timeouts = [ownTimeout, this.#peerTtl].filter((t) => t > 0);
    const limit = timeouts.length > 0 ? Math.min(...timeouts) : 0;
    const ticks = [heartbeatInterval, limit > 0 && heartbeatInterval <= 0 ? limit / 2 : 0, messageTimeout / 2].filter((t) => t > 0);
    if (ticks.length === 0) return;
    const tick = Math.max(10, Math.min(...ticks));
    clearInterval(this.#heartbeatTimer);
    const ttlDeciseconds = Math.min(0xffff, Math.ceil(ownTimeout / 100));
    this.#lastReceived = Date.now();
    this.#lastPing = 0;
    this.#heartbeatTimer = setInterval(() => {
      const now = Date.now();
      const silent = now - this.#lastReceived;
      if (limit > 0 && silent > limit) {
        this.fail("heartbeat", `no complete frame from peer for ${silent} ms (heartbeat timeout ${limit} ms)`);
        return;
      }
      const started = this.#messageStart;
      if (messageTimeout > 0 && started > 0 && now - started > messageTimeout) {
        this.fail("timeout", `message not completed within ${messageTimeout} ms of its first byte (messageTimeout)`);
        return;
      }
      // Our own PINGs are not piled onto a peer that is not reading either.
      if (heartbeatInterval > 0 && now - this.#lastPing >= heartbeatInterval - tick / 2 && this.#socket.writableLength <= PONG_BACKLOG_LIMIT) {
        this.#lastPing = now;
        this.sendCommand("PING", new Uint8Array([ttlDeciseconds >> 8, ttlDeciseconds & 0xff]));
      }
    }, tick);
    this.#heartbeatTimer.unref?.();
  }
}
