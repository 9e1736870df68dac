/**
 * Client side: a DEALER connected to the server's `rep` (many requests in flight, replies come
 * back on the same connection) and a SUB connected to its `pub`. libzmq reconnects both by
 * itself and re-sends the SUB's subscriptions, so a restarted server on the same addresses is
 * picked up without restarting the client.
 *
 * The DEALER is `immediate`: requests are queued only on a live connection, so a request made
 * while the server is down is never delivered late to the next server. When the connection
 * drops, the queue in front of it is cleared and the sink hears `linkDown` (the core fails the
 * calls in flight with UNAVAILABLE); `linkUp` follows the next handshake.
 */
import { RpcError } from "../../lib/errors.ts";
import type { ClientSink, ClientTransport } from "../../lib/transport.ts";
import {
  checkEngineChoice,
  defaultEngineName,
  loadEngine,
  type EngineName,
  type EngineSocket,
  type SocketEvent,
  type SocketOptions,
  type SubscriberSocket,
} from "./engine.ts";
import { generateCurveKeyPair } from "./curve-keys.ts";
import { checkAddress, checkCount, checkKey, DEFAULTS, type ZmqClientOptions } from "./options.ts";
import { SendQueue } from "./send-queue.ts";
import { probePeer, type PeerDescription } from "./zmtp-probe.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Side = "request" | "broadcast";

export class ZmqClientTransport implements ClientTransport {
  readonly req: string;
  readonly sub: string;
  readonly engineName: EngineName;
  /** Broadcast messages dropped because they were not `[topic, frame]`. */
  malformedDropped = 0;

  private readonly options: ZmqClientOptions;
  private dealer: EngineSocket | undefined;
  private subscriber: SubscriberSocket | undefined;
  private requests: SendQueue | undefined;
  private sink: ClientSink | undefined;
  private readonly prefixes = new Set<string>();
  private state: "idle" | "connecting" | "up" | "down" | "failed" | "closed" = "idle";
  /** Why the link cannot work (handshake refused); `send` throws this until a handshake succeeds. */
  private failure: RpcError | undefined;
  private awaitingHandshake: Record<Side, boolean> = { request: false, broadcast: false };
  /** A handshake failure on this side is being (or was) explained; cleared by the next handshake. */
  private diagnosed: Record<Side, boolean> = { request: false, broadcast: false };
  private settleConnect: ((error?: RpcError) => void) | undefined;
  private lastTopicBytes: Uint8Array | undefined;
  private lastTopic = "";

  constructor(options: ZmqClientOptions) {
    if (typeof options !== "object" || options === null) throw new TypeError("zmqClient needs an options object");
    this.req = checkAddress("req", options.req);
    this.sub = checkAddress("sub", options.sub);
    if (this.req === this.sub) throw new TypeError(`Options req and sub must differ, both are ${this.req}`);
    this.engineName = options.engine ?? defaultEngineName(options);
    checkEngineChoice(this.engineName);
    if (options.curve !== undefined) {
      checkKey("curve.serverKey", options.curve.serverKey);
      if ((options.curve.publicKey === undefined) !== (options.curve.secretKey === undefined)) {
        throw new TypeError("Options curve.publicKey and curve.secretKey go together: pass both or neither");
      }
      if (options.curve.publicKey !== undefined) checkKey("curve.publicKey", options.curve.publicKey);
      if (options.curve.secretKey !== undefined) checkKey("curve.secretKey", options.curve.secretKey);
    }
    checkCount("requestHighWaterMark", options.requestHighWaterMark, 0);
    checkCount("requestQueueLimit", options.requestQueueLimit, 0, 1);
    checkCount("receiveHighWaterMark", options.receiveHighWaterMark, 0);
    checkCount("heartbeatInterval", options.heartbeatInterval, 0);
    checkCount("connectWaitMs", options.connectWaitMs, 0);
    checkCount("maxMessageSize", options.maxMessageSize, 0, 1);
    this.options = options;
  }

  async connect(sink: ClientSink): Promise<void> {
    if (this.state !== "idle") throw new Error(`This transport is already ${this.state}`);
    this.state = "connecting";
    this.sink = sink;
    const engine = await loadEngine(this.engineName).catch((error: unknown) => {
      this.state = "closed";
      throw error;
    });
    const o = this.options;
    let curveClient: SocketOptions["curveClient"];
    if (o.curve !== undefined) {
      const own = o.curve.publicKey !== undefined && o.curve.secretKey !== undefined
        ? { publicKey: o.curve.publicKey, secretKey: o.curve.secretKey }
        : await generateCurveKeyPair();
      curveClient = { serverKey: o.curve.serverKey, ...own };
    }
    // close() may have run while we were loading.
    if (this.isClosed()) return;
    const heartbeatInterval = checkCount("heartbeatInterval", o.heartbeatInterval, DEFAULTS.heartbeatInterval);
    const base = {
      maxMessageSize: checkCount("maxMessageSize", o.maxMessageSize, DEFAULTS.maxMessageSize, 1),
      linger: checkCount("linger", o.linger, DEFAULTS.linger),
      heartbeatInterval,
      heartbeatTimeout: heartbeatInterval * 3,
      ...(curveClient ? { curveClient } : {}),
    };
    let dealer: EngineSocket | undefined;
    let subscriber: SubscriberSocket;
    try {
      dealer = engine.dealer({
        ...base,
        sendHighWaterMark: checkCount("requestHighWaterMark", o.requestHighWaterMark, DEFAULTS.clientRequestHighWaterMark),
        receiveHighWaterMark: DEFAULTS.replyHighWaterMark,
        immediate: true,
      });
      subscriber = engine.subscriber({
        ...base,
        receiveHighWaterMark: checkCount("receiveHighWaterMark", o.receiveHighWaterMark, DEFAULTS.receiveHighWaterMark),
      });
    } catch (error) {
      dealer?.close();
      this.state = "closed";
      throw error;
    }
    this.dealer = dealer;
    this.subscriber = subscriber;
    this.requests = new SendQueue(
      dealer,
      checkCount("requestQueueLimit", o.requestQueueLimit, DEFAULTS.requestQueueLimit, 1),
    );
    for (const prefix of this.prefixes) subscriber.subscribe(encoder.encode(prefix));

    const settled = new Promise<RpcError | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), checkCount("connectWaitMs", o.connectWaitMs, DEFAULTS.connectWaitMs));
      this.settleConnect = (error) => {
        clearTimeout(timer);
        this.settleConnect = undefined;
        resolve(error);
      };
    });
    dealer.watch((event) => this.onEvent("request", event));
    subscriber.watch((event) => this.onEvent("broadcast", event));
    dealer.connect(this.req);
    subscriber.connect(this.sub);
    void this.receiveReplies(dealer);
    void this.receiveBroadcasts(subscriber);

    const error = await settled;
    if (error !== undefined) {
      // A refused first handshake will not fix itself: release everything, as a failed bind does.
      await this.close();
      throw error;
    }
    // No server yet: say so, so the core does not take a heartbeat on the broadcast link for a
    // working request link. linkUp follows the first handshake.
    if (!this.isUp()) this.sink?.linkDown?.(`No server at ${this.req} yet`);
  }

  /** A method, not an inline test: the handshake changes `state` from event callbacks while connect() awaits. */
  private isUp(): boolean {
    return this.state === "up";
  }

  private isClosed(): boolean {
    return this.state === "closed";
  }

  send(frame: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.state === "closed" || this.state === "idle" || this.requests === undefined) {
      throw new RpcError("UNAVAILABLE", "The ZeroMQ client transport is not connected");
    }
    // Only a live link takes requests: one queued while connecting would reach a server that
    // comes up after the caller was told the call failed (an order placed after all).
    if (this.state !== "up") throw new RpcError("UNAVAILABLE", `Not connected to ${this.req}`);
    if (!this.requests.push([frame])) {
      throw new RpcError(
        "RESOURCE_EXHAUSTED",
        `Too many requests waiting to be sent to ${this.req} (${this.requests.length} queued)`,
      );
    }
  }

  subscribe(prefix: string): void {
    if (this.prefixes.has(prefix)) return;
    this.prefixes.add(prefix);
    this.subscriber?.subscribe(encoder.encode(prefix));
  }

  unsubscribe(prefix: string): void {
    if (!this.prefixes.delete(prefix)) return;
    this.subscriber?.unsubscribe(encoder.encode(prefix));
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.settleConnect?.();
    this.requests?.close();
    this.dealer?.close();
    this.subscriber?.close();
  }

  private onEvent(side: Side, event: SocketEvent): void {
    if (this.state === "closed") return;
    switch (event.type) {
      case "connected":
        this.awaitingHandshake[side] = true;
        break;
      case "handshake":
        this.awaitingHandshake[side] = false;
        this.diagnosed[side] = false;
        if (side === "request") this.requestLinkUp();
        break;
      case "retry":
        // Nobody listens there (yet): connecting goes on in the background, `connect` need not wait.
        // (A retry after a refused handshake is not that: the diagnosis settles `connect`.)
        if (side === "request" && !this.diagnosed.request) this.settleConnect?.();
        break;
      case "disconnected":
        if (this.awaitingHandshake[side]) {
          this.awaitingHandshake[side] = false;
          void this.handshakeFailed(side, "");
        } else if (side === "request" && this.state === "up") {
          this.state = "down";
          this.requests?.clear();
          this.sink?.linkDown?.(`Lost the connection to ${this.req}`);
        }
        break;
      case "handshake-failed":
        this.awaitingHandshake[side] = false;
        void this.handshakeFailed(side, event.detail);
        break;
    }
  }

  private requestLinkUp(): void {
    this.failure = undefined;
    if (this.state === "up") return;
    this.state = "up";
    this.settleConnect?.();
    this.sink?.linkUp?.();
  }

  private async handshakeFailed(side: Side, detail: string): Promise<void> {
    // libzmq gives up on such a peer; the ZMTP engine retries: explain once, not on every retry.
    if (this.diagnosed[side]) return;
    this.diagnosed[side] = true;
    const address = side === "request" ? this.req : this.sub;
    const peer = await probePeer(address).catch((): PeerDescription => ({ answered: false, mechanism: undefined, socketType: undefined }));
    if (this.state === "closed") return;
    const error = explainHandshakeFailure(side, address, peer, this.options.curve !== undefined, detail);
    if (error === undefined) {
      // Nothing wrong with the peer (it was restarting, or is gone): plain reconnecting goes on.
      this.diagnosed[side] = false;
      return;
    }
    if (side === "request") {
      this.state = "failed";
      this.failure = error;
      this.requests?.clear();
    }
    this.sink?.linkDown?.(error.rawMessage);
    this.settleConnect?.(error);
  }

  private async receiveReplies(dealer: EngineSocket): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await dealer.receive();
      } catch {
        return; // closed
      }
      if (frames.length !== 1) continue;
      try {
        this.sink?.reply(frames[0]!);
      } catch {
        // The core's failure must not stop the receive loop.
      }
    }
  }

  /** Topics repeat: decode a topic's bytes only when they differ from the last message's. */
  private topicOf(bytes: Uint8Array): string {
    const last = this.lastTopicBytes;
    if (last !== undefined && last.length === bytes.length) {
      let same = true;
      for (let i = 0; i < bytes.length; i++) {
        if (last[i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastTopic;
    }
    this.lastTopic = decoder.decode(bytes);
    this.lastTopicBytes = bytes;
    return this.lastTopic;
  }

  private async receiveBroadcasts(subscriber: SubscriberSocket): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await subscriber.receive();
      } catch {
        return; // closed
      }
      if (frames.length !== 2) {
        this.malformedDropped += 1;
        continue;
      }
      try {
        this.sink?.broadcast(this.topicOf(frames[0]!), frames[1]!);
      } catch {
        // as above
      }
    }
  }
}

const EXPECTED: Record<Side, { kinds: string[]; label: string; option: string; other: string }> = {
  request: { kinds: ["ROUTER"], label: "request (ROUTER)", option: "req", other: "sub" },
  broadcast: { kinds: ["PUB", "XPUB"], label: "broadcast (PUB)", option: "sub", other: "req" },
};

/** Turn what the probe saw into one sentence that says what to fix; undefined when nothing looks wrong. */
export function explainHandshakeFailure(
  side: Side,
  address: string,
  peer: PeerDescription,
  usingCurve: boolean,
  detail: string,
): RpcError | undefined {
  if (!peer.answered) return undefined;
  const expected = EXPECTED[side];
  const swappedKinds = side === "request" ? ["PUB", "XPUB"] : ["ROUTER"];
  if (peer.socketType !== undefined && swappedKinds.includes(peer.socketType)) {
    return new RpcError(
      "UNAVAILABLE",
      `The ${expected.option} address ${address} is a ${EXPECTED[side === "request" ? "broadcast" : "request"].label} socket: the req and sub addresses look swapped`,
    );
  }
  if (peer.socketType !== undefined && !expected.kinds.includes(peer.socketType)) {
    return new RpcError(
      "UNAVAILABLE",
      `The ${expected.option} address ${address} is a ${peer.socketType} socket, not a tradewire ${expected.label} socket`,
    );
  }
  if (peer.mechanism === "CURVE" && !usingCurve) {
    return new RpcError("UNAUTHENTICATED", `The server at ${address} requires CURVE: pass curve: { serverKey }`);
  }
  if (peer.mechanism === "CURVE" && usingCurve) {
    return new RpcError("UNAUTHENTICATED", `The CURVE handshake with ${address} failed: check curve.serverKey`);
  }
  if (peer.mechanism !== undefined && peer.mechanism !== "CURVE" && usingCurve) {
    return new RpcError("UNAUTHENTICATED", `The server at ${address} does not use CURVE (its mechanism is ${peer.mechanism})`);
  }
  if (peer.mechanism === undefined) {
    return new RpcError(
      "UNAVAILABLE",
      `The ZeroMQ handshake with ${address} failed${detail ? ` (${detail})` : ""}: the peer does not speak ZMTP`,
    );
  }
  // A NULL-mechanism peer of the expected kind: the failure was passing (e.g. a server restarting).
  return undefined;
}
