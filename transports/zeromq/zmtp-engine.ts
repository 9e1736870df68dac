/**
 * The engine backed by our pure-TypeScript ZMTP 3.1 implementation (`transports/zmtp/`), which
 * runs on Node and Deno. Its socket classes mimic zeromq.js v6, so this adapter is thin.
 * It speaks the NULL mechanism only: CURVE needs the native engine.
 */
import * as zmtp from "../zmtp/index.ts";
import type { EngineBudgets, EngineSocket, SendOptions, SocketEvent, SocketOptions, SubscriberSocket, ZmqEngine } from "./engine.ts";

type Socket = zmtp.Dealer | zmtp.Router | zmtp.Publisher | zmtp.Subscriber;

function zmtpOptions(options: SocketOptions): zmtp.RouterOptions & zmtp.PublisherOptions {
  if (options.curveServerSecretKey !== undefined || options.curveClient !== undefined) {
    throw new Error('CURVE is not supported by the "zmtp" engine yet: use engine: "native" (Node)');
  }
  return {
    ...(options.sendHighWaterMark !== undefined ? { sendHighWaterMark: options.sendHighWaterMark } : {}),
    ...(options.receiveHighWaterMark !== undefined ? { receiveHighWaterMark: options.receiveHighWaterMark } : {}),
    ...(options.immediate !== undefined ? { immediate: options.immediate } : {}),
    maxMessageSize: options.maxMessageSize,
    linger: options.linger,
    heartbeatInterval: options.heartbeatInterval,
    heartbeatTimeout: options.heartbeatTimeout,
    ...(options.routerNotify ? { notify: true } : {}),
    ...(options.budgets ? budgetOptions(options.budgets) : {}),
    // Peer misbehaviour is counted and dropped by the transport; keep stderr quiet.
    log: () => {},
  };
}

function budgetOptions(b: EngineBudgets): zmtp.RouterOptions & zmtp.PublisherOptions {
  return {
    maxConnections: b.maxConnections,
    maxConnectionsPerAddress: b.maxConnectionsPerAddress,
    maxPartialBytes: b.maxPartialBytes,
    messageTimeout: b.messageTimeoutMs,
    // Router and Publisher each read the pair they know.
    maxQueuedBytesPerPeer: b.maxQueuedBytesPerPeer,
    maxQueuedBytesPerSubscriber: b.maxQueuedBytesPerPeer,
    maxQueuedBytes: b.maxQueuedBytes,
    ...(b.conflateAboveBytes !== undefined ? { conflateAboveBytes: b.conflateAboveBytes } : {}),
    maxSubscriptionsPerPeer: b.maxSubscriptionsPerPeer,
    maxPrefixBytes: b.maxPrefixBytes,
  };
}

class ZmtpSocketAdapter implements SubscriberSocket {
  constructor(
    private readonly socket: Socket,
    readonly notifies = false,
  ) {}

  get closed(): boolean {
    return this.socket.closed;
  }

  bind(address: string): Promise<void> {
    return this.socket.bind(address);
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  send(frames: Uint8Array[], options?: SendOptions): Promise<void> {
    // Only the Publisher takes options (latestValue); the adapter of every other socket passes none.
    if (options !== undefined && this.socket instanceof zmtp.Publisher) return this.socket.send(frames, options);
    return (this.socket as zmtp.Dealer).send(frames);
  }

  receive(): Promise<Uint8Array[]> {
    return this.socket.receive();
  }

  subscribe(prefix: Uint8Array): void {
    (this.socket as zmtp.Subscriber).subscribe(prefix);
  }

  unsubscribe(prefix: Uint8Array): void {
    (this.socket as zmtp.Subscriber).unsubscribe(prefix);
  }

  close(lingerMs?: number): void {
    if (!this.socket.closed) this.socket.close(lingerMs);
  }

  stats(): Readonly<Record<string, number>> {
    const s = this.socket;
    const common = {
      refusedConnections: s.refusedConnections,
      droppedTricklers: s.droppedTricklers,
      droppedPartial: s.droppedPartial,
      heartbeatTimeouts: s.heartbeatTimeouts,
    };
    if (s instanceof zmtp.Router) {
      return { ...common, droppedMessages: s.droppedMessages, disconnectedSlowReaders: s.disconnectedSlowReaders, droppedIncoming: s.droppedIncoming };
    }
    if (s instanceof zmtp.Publisher) {
      return { ...common, droppedMessages: s.droppedMessages, refusedSubscriptions: s.refusedSubscriptions, conflatedEvents: s.conflatedEvents };
    }
    return common;
  }

  watch(listener: (event: SocketEvent) => void): void {
    const events = this.socket.events;
    const address = (event: zmtp.SocketEvent) => event.address ?? "";
    events.on("connect", (e) => listener({ type: "connected", address: address(e) }));
    events.on("handshake", (e) => listener({ type: "handshake", address: address(e) }));
    events.on("disconnect", (e) => listener({ type: "disconnected", address: address(e) }));
    events.on("connect:retry", (e) => listener({ type: "retry", address: address(e) }));
    events.on("handshake:error:protocol", (e) =>
      listener({ type: "handshake-failed", address: address(e), detail: e.error?.message ?? e.reason ?? "" }));
  }
}

export function zmtpEngine(): ZmqEngine {
  return {
    name: "zmtp",
    router: (options) => new ZmtpSocketAdapter(new zmtp.Router(zmtpOptions(options)), options.routerNotify === true),
    dealer: (options) => new ZmtpSocketAdapter(new zmtp.Dealer(zmtpOptions(options))),
    publisher: (options) => new ZmtpSocketAdapter(new zmtp.Publisher(zmtpOptions(options))),
    subscriber: (options) => new ZmtpSocketAdapter(new zmtp.Subscriber(zmtpOptions(options))),
  };
}

export type { EngineSocket };
