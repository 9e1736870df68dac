/** The engine backed by the `zeromq` package (native libzmq). Node only; see engine.ts for Deno. */
import * as zmq from "zeromq";
import type { EngineSocket, SocketEvent, SocketOptions, SubscriberSocket, ZmqEngine } from "./engine.ts";

type NativeSocket = zmq.Router | zmq.Dealer | zmq.Publisher | zmq.Subscriber;

function nativeOptions(options: SocketOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    maxMessageSize: options.maxMessageSize,
    linger: options.linger,
    heartbeatInterval: options.heartbeatInterval,
    heartbeatTimeout: options.heartbeatTimeout,
  };
  if (options.sendHighWaterMark !== undefined) out.sendHighWaterMark = options.sendHighWaterMark;
  if (options.receiveHighWaterMark !== undefined) out.receiveHighWaterMark = options.receiveHighWaterMark;
  if (options.immediate !== undefined) out.immediate = options.immediate;
  if (options.curveServerSecretKey !== undefined) {
    out.curveServer = true;
    out.curveSecretKey = options.curveServerSecretKey;
  }
  if (options.curveClient !== undefined) {
    out.curveServerKey = options.curveClient.serverKey;
    out.curvePublicKey = options.curveClient.publicKey;
    out.curveSecretKey = options.curveClient.secretKey;
  }
  return out;
}

class NativeSocketAdapter implements SubscriberSocket {
  constructor(
    private readonly socket: NativeSocket,
    readonly notifies = false,
  ) {}

  /** libzmq's ROUTER_NOTIFY message is an empty message from the peer (see EngineSocket). */
  get notifyLooksLikeEmptyMessage(): boolean {
    return this.notifies;
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  async bind(address: string): Promise<void> {
    await this.socket.bind(address);
  }

  connect(address: string): void {
    this.socket.connect(address);
  }

  /** `options.latestValue` is ignored: libzmq cannot conflate per topic (see SendOptions). */
  send(frames: Uint8Array[]): Promise<void> {
    return (this.socket as zmq.Dealer).send(frames);
  }

  receive(): Promise<Uint8Array[]> {
    return (this.socket as zmq.Dealer).receive();
  }

  subscribe(prefix: Uint8Array): void {
    (this.socket as zmq.Subscriber).subscribe(prefix as Buffer);
  }

  unsubscribe(prefix: Uint8Array): void {
    (this.socket as zmq.Subscriber).unsubscribe(prefix as Buffer);
  }

  close(lingerMs?: number): void {
    if (this.socket.closed) return;
    // libzmq reads ZMQ_LINGER at close: its I/O thread keeps sending what is queued that long.
    if (lingerMs !== undefined) this.socket.linger = lingerMs;
    this.socket.close();
  }

  watch(listener: (event: SocketEvent) => void): void {
    const events = this.socket.events;
    const address = (event: { address?: string }) => event.address ?? "";
    events.on("connect", (e) => listener({ type: "connected", address: address(e) }));
    events.on("handshake", (e) => listener({ type: "handshake", address: address(e) }));
    events.on("disconnect", (e) => listener({ type: "disconnected", address: address(e) }));
    events.on("connect:retry", (e) => listener({ type: "retry", address: address(e) }));
    for (const type of ["handshake:error:protocol", "handshake:error:auth", "handshake:error:other"] as const) {
      events.on(type, (e) => listener({ type: "handshake-failed", address: address(e), detail: e.error.message }));
    }
  }
}

/** libzmq's ZMQ_ROUTER_NOTIFY (a draft option, which zeromq.js 6 is built with) and its flags. */
const ZMQ_ROUTER_NOTIFY = 97;
const ZMQ_NOTIFY_CONNECT = 1;
const ZMQ_NOTIFY_DISCONNECT = 2;

function router(options: SocketOptions): NativeSocketAdapter {
  const socket = new zmq.Router(nativeOptions(options));
  if (!options.routerNotify) return new NativeSocketAdapter(socket);
  try {
    // zeromq.js has no named option for it; the generic setter is protected in its types.
    (socket as unknown as { setInt32Option(option: number, value: number): void })
      .setInt32Option(ZMQ_ROUTER_NOTIFY, ZMQ_NOTIFY_CONNECT | ZMQ_NOTIFY_DISCONNECT);
    return new NativeSocketAdapter(socket, true);
  } catch {
    // A libzmq built without draft APIs: the socket works, the server just never learns that a
    // peer left (its calls then end at their deadlines).
    return new NativeSocketAdapter(socket, false);
  }
}

export function nativeEngine(): ZmqEngine {
  return {
    name: "native",
    router,
    dealer: (options) => new NativeSocketAdapter(new zmq.Dealer(nativeOptions(options))),
    publisher: (options) => new NativeSocketAdapter(new zmq.Publisher(nativeOptions(options))),
    subscriber: (options) => new NativeSocketAdapter(new zmq.Subscriber(nativeOptions(options))),
  };
}

export type { EngineSocket };
