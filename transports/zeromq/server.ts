/**
 * Server side: a ROUTER bound at `rep` (requests in, replies out to the peer they came from) and
 * a PUB bound at `pub` (broadcasts as `[topic, frame]`, so libzmq filters by topic prefix on
 * the publisher's side).
 *
 * A request is exactly one non-empty frame from a DEALER (the ROUTER prepends the peer's
 * routing id). Anything else — no frame, more frames — is dropped here and counted: the core
 * never sees it and the server goes on serving.
 *
 * Peers that leave: the ROUTER notifies (libzmq's ZMQ_ROUTER_NOTIFY, which our ZMTP engine
 * implements too) with `[routingId, <empty>]` when a peer connects and when it is gone — by
 * closing, by being dropped for a budget, or by the heartbeat when it vanished without a FIN.
 * On the second one the core is told (`peerClosed`): it aborts that peer's calls and frees them.
 * libzmq delivers an empty message sent by a peer the same way; the ROUTER's disconnect events
 * tell the two apart (departures.ts): a live peer's empty message is counted as malformed and
 * its calls go on. Our ZMTP engine drops those itself, so there notifications are exact.
 *
 * Events published with `latestValue` (market data) go to the engine as such: the ZMTP engine
 * conflates them for a subscriber more than `conflateAboveBytes` behind (the newest per topic,
 * counted in `stats.conflatedEvents`); the native engine cannot, and queues them all.
 */
import type { PeerId, ServerSink, ServerTransport } from "../../lib/transport.ts";
import { checkEngineChoice, defaultEngineName, loadEngine, type EngineName, type EngineSocket, type SocketOptions } from "./engine.ts";
import { checkAddress, checkCount, checkKey, DEFAULTS, SERVER_BUDGET_DEFAULTS, type ZmqServerOptions } from "./options.ts";
import { SendQueue } from "./send-queue.ts";
import { assertIpcFree } from "./ipc-probe.ts";
import { DepartureMatcher } from "./departures.ts";

const encoder = new TextEncoder();

/**
 * Most peers tracked for notifications. Live peers are far fewer (each is an open connection);
 * the bound only matters on the native engine, where a peer that sends an empty message and
 * then leaves without another word leaves a stale entry. The oldest entries go first.
 */
const MAX_TRACKED_PEERS = 65_536;

/**
 * How long close() lets the last messages out when no `linger` is set: long enough for the
 * "stopping" heartbeat on a live connection, short enough that stop() stays prompt.
 */
const STOP_FLUSH_MS = 200;

/** How far apart a notification and libzmq's disconnect event may come and still be one departure. */
const DEPARTURE_WINDOW_MS = 1_000;

export class ZmqServerTransport implements ServerTransport {
  readonly rep: string;
  readonly pub: string;
  readonly engineName: EngineName;
  /** Broadcasts dropped before reaching the socket because the JavaScript queue was full. */
  publishDropped = 0;
  /** Peers whose departure was passed to the core (their calls aborted). */
  peersGone = 0;
  #malformed = 0;
  /** Peers connected now, as far as notifications tell (insertion order: oldest first). */
  readonly #peers = new Set<PeerId>();
  #tracking = false;
  /** Native engine: tells departures from peers' own empty messages. */
  #departures: DepartureMatcher | undefined;

  private readonly options: ZmqServerOptions;
  private router: EngineSocket | undefined;
  private publisher: EngineSocket | undefined;
  private replies: SendQueue | undefined;
  private broadcasts: SendQueue | undefined;
  private state: "idle" | "listening" | "closed" = "idle";
  private topicCache = new Map<string, Uint8Array>();
  /** The last caller's routing id both ways: most requests come from the peer before them. */
  private lastPeerBytes: Uint8Array | undefined;
  private lastPeer: PeerId = "";

  constructor(options: ZmqServerOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("zmqServer needs an options object");
    this.rep = checkAddress("rep", options.rep);
    this.pub = checkAddress("pub", options.pub);
    if (this.rep === this.pub) throw new TypeError(`Options rep and pub must differ, both are ${this.rep}`);
    this.engineName = options.engine ?? defaultEngineName(options);
    checkEngineChoice(this.engineName);
    if (options.curve !== undefined) checkKey("curve.secretKey", options.curve.secretKey);
    checkCount("publishHighWaterMark", options.publishHighWaterMark, 0);
    checkCount("replyHighWaterMark", options.replyHighWaterMark, 0);
    checkCount("requestHighWaterMark", options.requestHighWaterMark, 0);
    checkCount("maxMessageSize", options.maxMessageSize, 0, 1);
    checkCount("heartbeatInterval", options.heartbeatInterval, 0);
    for (const [name, fallback] of Object.entries(SERVER_BUDGET_DEFAULTS)) {
      checkCount(name, options[name as keyof typeof SERVER_BUDGET_DEFAULTS], fallback);
    }
    this.options = options;
  }

  /** Request messages dropped because they were not one non-empty frame. */
  get malformedDropped(): number {
    return this.#malformed + (this.router?.stats?.().droppedIncoming ?? 0);
  }

  /**
   * The transport's own counters, for `server.stats`. Counters the engine does not keep (the
   * native engine keeps none of the budget ones) stay 0.
   */
  get stats(): Readonly<Record<string, number>> {
    const router = this.router?.stats?.() ?? {};
    const publisher = this.publisher?.stats?.() ?? {};
    const sum = (key: string) => (router[key] ?? 0) + (publisher[key] ?? 0);
    return {
      peers: this.#peers.size,
      peersGone: this.peersGone,
      malformedDropped: this.malformedDropped,
      publishDropped: this.publishDropped,
      droppedReplies: router.droppedMessages ?? 0,
      disconnectedSlowReaders: router.disconnectedSlowReaders ?? 0,
      droppedEvents: publisher.droppedMessages ?? 0,
      conflatedEvents: publisher.conflatedEvents ?? 0,
      refusedSubscriptions: publisher.refusedSubscriptions ?? 0,
      refusedConnections: sum("refusedConnections"),
      droppedTricklers: sum("droppedTricklers"),
      droppedPartial: sum("droppedPartial"),
      heartbeatTimeouts: sum("heartbeatTimeouts"),
    };
  }

  async listen(sink: ServerSink): Promise<void> {
    if (this.state !== "idle") throw new Error(`This transport is already ${this.state}`);
    this.state = "listening";
    const engine = await loadEngine(this.engineName).catch((error: unknown) => {
      this.state = "closed";
      throw error;
    });
    const o = this.options;
    const budget = <K extends keyof typeof SERVER_BUDGET_DEFAULTS>(name: K): number =>
      checkCount(name, o[name], SERVER_BUDGET_DEFAULTS[name]);
    const heartbeatInterval = checkCount("heartbeatInterval", o.heartbeatInterval, DEFAULTS.serverHeartbeatInterval);
    const common = {
      maxConnections: budget("maxConnections"),
      maxConnectionsPerAddress: budget("maxConnectionsPerAddress"),
      maxPartialBytes: budget("maxPartialBytes"),
      messageTimeoutMs: budget("messageTimeoutMs"),
      maxSubscriptionsPerPeer: budget("maxSubscriptionsPerPeer"),
      maxPrefixBytes: budget("maxPrefixBytes"),
    };
    const base = {
      maxMessageSize: checkCount("maxMessageSize", o.maxMessageSize, DEFAULTS.maxMessageSize, 1),
      linger: checkCount("linger", o.linger, DEFAULTS.linger),
      // PING clients now and then so the sockets of clients that vanished without a FIN are
      // reaped, and so a client that sends no complete frame for long is dropped.
      heartbeatInterval,
      heartbeatTimeout: heartbeatInterval * 3,
      ...(o.curve ? { curveServerSecretKey: o.curve.secretKey } : {}),
    } satisfies Partial<SocketOptions>;
    let router: EngineSocket | undefined;
    let publisher: EngineSocket;
    try {
      router = engine.router({
        ...base,
        sendHighWaterMark: checkCount("replyHighWaterMark", o.replyHighWaterMark, DEFAULTS.replyHighWaterMark),
        receiveHighWaterMark: checkCount("requestHighWaterMark", o.requestHighWaterMark, DEFAULTS.serverRequestHighWaterMark),
        routerNotify: true,
        budgets: {
          ...common,
          maxQueuedBytesPerPeer: budget("maxQueuedReplyBytesPerPeer"),
          maxQueuedBytes: budget("maxQueuedReplyBytes"),
        },
      });
      publisher = engine.publisher({
        ...base,
        sendHighWaterMark: checkCount("publishHighWaterMark", o.publishHighWaterMark, DEFAULTS.publishHighWaterMark),
        budgets: {
          ...common,
          maxQueuedBytesPerPeer: budget("maxQueuedEventBytesPerSubscriber"),
          maxQueuedBytes: budget("maxQueuedEventBytes"),
          conflateAboveBytes: budget("conflateAboveBytes"),
        },
      });
    } catch (error) {
      router?.close();
      this.state = "closed";
      throw error;
    }
    this.router = router;
    this.publisher = publisher;
    this.#tracking = router.notifies === true;
    if (this.#tracking && router.notifyLooksLikeEmptyMessage) {
      const departures = new DepartureMatcher(DEPARTURE_WINDOW_MS, (peer) => this.#gone(peer, sink), () => (this.#malformed += 1));
      router.watch((event) => {
        if (event.type === "disconnected") departures.disconnected();
      });
      this.#departures = departures;
    }
    let binding = this.rep;
    try {
      await assertIpcFree(this.rep);
      await router.bind(this.rep);
      binding = this.pub;
      await assertIpcFree(this.pub);
      await publisher.bind(this.pub);
    } catch (error) {
      router.close();
      publisher.close();
      this.state = "closed";
      throw bindError(error, binding);
    }
    if (this.state !== "listening") {
      // close() ran while we were binding.
      router.close();
      publisher.close();
      return;
    }
    this.replies = new SendQueue(router, DEFAULTS.nonBlockingQueueLimit);
    this.broadcasts = new SendQueue(publisher, DEFAULTS.nonBlockingQueueLimit);
    void this.receiveRequests(router, sink);
  }

  reply(peer: PeerId, frame: Uint8Array): void {
    if (this.state !== "listening" || this.replies === undefined) return;
    // A full queue means replies outrun libzmq itself; dropping matches ROUTER's own behaviour at HWM.
    this.replies.push([peer === this.lastPeer && this.lastPeerBytes !== undefined ? this.lastPeerBytes : peerIdToBytes(peer), frame]);
  }

  /** `latestValue` events are conflated for subscribers that are behind (ZMTP engine; see `conflateAboveBytes`). */
  publish(topic: string, frame: Uint8Array, latestValue = false): void {
    if (this.state !== "listening" || this.broadcasts === undefined) return;
    if (!this.broadcasts.push([this.topicBytes(topic), frame], latestValue)) this.publishDropped += 1;
  }

  /**
   * Close with a short, bounded flush: what the core sent last — the "stopping" heartbeat that
   * tells clients at once, the UNAVAILABLE answers to calls in flight — gets up to
   * `linger` ms (default STOP_FLUSH_MS) to leave, first from our queues, then from the
   * sockets (their linger). A peer that does not read never holds close() longer.
   */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    const linger = checkCount("linger", this.options.linger, STOP_FLUSH_MS);
    const started = Date.now();
    if (linger > 0) await Promise.all([this.replies?.idle(linger), this.broadcasts?.idle(linger)]);
    const left = linger > 0 ? Math.max(1, linger - (Date.now() - started)) : 0;
    this.replies?.close();
    this.broadcasts?.close();
    this.#departures?.close();
    this.router?.close(left);
    this.publisher?.close(left);
  }

  private topicBytes(topic: string): Uint8Array {
    let bytes = this.topicCache.get(topic);
    if (bytes === undefined) {
      bytes = encoder.encode(topic);
      // Topics are usually few (symbols × event kinds); keep the cache bounded anyway.
      if (this.topicCache.size >= 10_000) this.topicCache.clear();
      this.topicCache.set(topic, bytes);
    }
    return bytes;
  }

  /** The peer a message came from. The last one is cached: most come from the peer before them. */
  private peerOf(routingId: Uint8Array): PeerId {
    const last = this.lastPeerBytes;
    if (last !== undefined && sameBytes(last, routingId)) return this.lastPeer;
    const peer = this.idOf(routingId);
    if (this.#departures?.waiting) this.#departures.heard(peer);
    if (this.#tracking && !this.#peers.has(peer)) {
      // A peer speaking after a notification called it gone: that empty message was the peer's
      // own (native engine), a malformed request. It is connected after all.
      this.#malformed += 1;
      this.#track(peer);
    }
    return peer;
  }

  private idOf(routingId: Uint8Array): PeerId {
    this.lastPeer = peerIdFromBytes(routingId);
    this.lastPeerBytes = routingId;
    return this.lastPeer;
  }

  private async receiveRequests(router: EngineSocket, sink: ServerSink): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await router.receive();
      } catch {
        return; // closed
      }
      if (this.#tracking && frames.length === 2 && frames[1]!.length === 0) {
        this.#notified(frames[0]!, sink);
        continue;
      }
      if (frames.length !== 2 || frames[1]!.length === 0) {
        this.#malformed += 1;
        if (this.#tracking && frames.length > 0) this.peerOf(frames[0]!);
        continue;
      }
      try {
        sink.request(frames[1]!, this.peerOf(frames[0]!));
      } catch {
        // The core handles its own failures; a throwing sink must not stop the receive loop.
      }
    }
  }

  /** `[routingId, <empty>]`: the peer connected if we did not know it, else it is gone. */
  #notified(routingId: Uint8Array, sink: ServerSink): void {
    const peer = this.idOf(routingId);
    if (!this.#peers.has(peer)) {
      this.#track(peer);
      return;
    }
    // The next message with these bytes (a spoofer's, or the peer's own) must go through peerOf's slow path.
    this.lastPeerBytes = undefined;
    this.lastPeer = "";
    if (this.#departures) this.#departures.notified(peer);
    else this.#gone(peer, sink);
  }

  #gone(peer: PeerId, sink: ServerSink): void {
    if (!this.#peers.delete(peer)) return;
    if (this.lastPeer === peer) {
      this.lastPeerBytes = undefined;
      this.lastPeer = "";
    }
    this.peersGone += 1;
    try {
      sink.peerClosed?.(peer);
    } catch {
      // As for requests: the core's failure must not stop the receive loop.
    }
  }

  #track(peer: PeerId): void {
    if (this.#peers.size >= MAX_TRACKED_PEERS) {
      const oldest = this.#peers.values().next().value;
      if (oldest !== undefined) this.#peers.delete(oldest);
    }
    this.#peers.add(peer);
  }
}

function bindError(error: unknown, address: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/in use/i.test(message) || (error as { code?: string })?.code === "EADDRINUSE") {
    return new Error(`Address already in use: ${address}`, { cause: error });
  }
  return new Error(`Cannot bind ${address}: ${message}`, { cause: error });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Routing ids are a few opaque bytes; as hex they make readable, reversible peer ids. */
export function peerIdFromBytes(bytes: Uint8Array): PeerId {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

export function peerIdToBytes(peer: PeerId): Uint8Array {
  const bytes = new Uint8Array(peer.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(peer.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
