/**
 * What every ZMTP socket shares: bind/connect with reconnect, connections, events, the
 * receive queue with its high-water mark, and close with linger. Routing is the subclasses'.
 */
import { createConnection, createServer, type Server, type Socket as NetSocket } from "node:net";
import { lstatSync, unlinkSync } from "node:fs";
import { Connection, type CloseKind, type ConnectionHandler, type ConnectionOptions, SocketBudget } from "./connection.ts";
import { type Endpoint, formatTcp, parseEndpoint } from "./endpoint.ts";
import { SocketEvents } from "./events.ts";
import type { SocketType } from "./socket-types.ts";

export interface SocketOptions {
  /** Identity sent in READY (DEALER/ROUTER); a ROUTER peer routes replies by it. */
  routingId?: Uint8Array | string;
  /** Messages queued per peer (and for a Dealer with no peer yet) before send waits or drops. Default 1000. */
  sendHighWaterMark?: number;
  /** Messages received and not yet read before reading from peers pauses. Default 1000. */
  receiveHighWaterMark?: number;
  /**
   * Milliseconds to flush pending messages on close: 0 drops them, -1 waits. Covers messages
   * still queued for a peer that has not connected yet: dialers keep retrying until they are
   * delivered or the linger time ends. Default 0.
   */
  linger?: number;
  /** Send ZMTP PING every this many ms (0 = off). Default 0. */
  heartbeatInterval?: number;
  /** Drop a peer silent for this many ms once heartbeats are on. Default: heartbeatInterval. */
  heartbeatTimeout?: number;
  /** First reconnect delay in ms. Default 100. */
  reconnectInterval?: number;
  /** Upper bound of the doubling reconnect delay; 0 keeps it constant (libzmq). Default 0. */
  reconnectMaxInterval?: number;
  /** Largest message accepted from a peer, in bytes; larger drops that peer. -1 = no limit. */
  maxMessageSize?: number;
  /** Most frames in one message accepted from a peer; more drops that peer. -1 = no limit. Default 1000. */
  maxFramesPerMessage?: number;
  /** Queue messages only to peers whose handshake completed. Default false. */
  immediate?: boolean;
  /** Drop a peer that does not complete the handshake in this many ms. Default 30000. */
  handshakeInterval?: number;
  /** Drop a peer whose message is not complete this many ms after its first byte (a trickler). 0 = no limit. Default 0. */
  messageTimeout?: number;
  /**
   * Bytes of incomplete received messages, all connections of this socket together (a frame's
   * claimed size counts once its header arrived); the connection that pushes past it is dropped.
   * Default: no limit.
   */
  maxPartialBytes?: number;
  /** Accepted connections (bound sockets; handshakes under way included); more are refused at once. Default: no limit. */
  maxConnections?: number;
  /** Accepted tcp connections from one remote IP address; more are refused at once. Not for ipc. Default: no limit. */
  maxConnectionsPerAddress?: number;
  /** Where peer misbehaviour is reported. Default `console.warn`. */
  log?: (message: string) => void;
}

export type MessageLike = Array<Uint8Array | string> | Uint8Array | string;

const textEncoder = new TextEncoder();

export function toFrames(message: MessageLike): Uint8Array[] {
  const list = Array.isArray(message) ? message : [message];
  if (list.length === 0) throw new TypeError("A message needs at least one frame");
  return list.map((frame) => {
    if (typeof frame === "string") return textEncoder.encode(frame);
    if (frame instanceof Uint8Array) return frame;
    throw new TypeError("Frames must be Uint8Array or string");
  });
}

/** Error with a zeromq.js-style `code`, for operations on a closed socket. */
export function closedError(): Error & { code: string } {
  return Object.assign(new Error("Socket is closed"), { code: "EBADF" });
}

interface Dialer {
  endpoint: Endpoint;
  socket: NetSocket | undefined;
  connection: Connection | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  interval: number;
  lastReason: string;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export abstract class ZmtpSocket implements AsyncIterable<Uint8Array[]> {
  readonly events = new SocketEvents((message) => this.log(message));
  /** The address the last `bind` listened on, with the real port for port 0. */
  lastEndpoint: string | undefined;
  readonly sendHighWaterMark: number;
  readonly receiveHighWaterMark: number;
  /** Set at construction; `close(lingerMs)` may replace it for that close. */
  linger: number;

  /** Accepted connections refused by `maxConnections` or `maxConnectionsPerAddress`. */
  refusedConnections = 0;
  /** Peers dropped because a message did not complete within `messageTimeout`. */
  droppedTricklers = 0;
  /** Peers dropped because incomplete messages exceeded `maxPartialBytes`. */
  droppedPartial = 0;
  /** Peers dropped by the heartbeat (no complete frame within the timeout). */
  heartbeatTimeouts = 0;

  protected readonly connectionOptions: ConnectionOptions;
  /** Byte totals of all this socket's connections (partial messages received, writes queued). */
  protected readonly budget: SocketBudget;
  /** Connections whose handshake completed. */
  protected readonly peers = new Set<Connection>();
  readonly #allConnections = new Set<Connection>();
  /** Accepted (not dialed) connections → the remote address they count against ("" for ipc). */
  readonly #accepted = new Map<Connection, string>();
  readonly #perAddress = new Map<string, number>();
  readonly #maxConnections: number;
  readonly #maxConnectionsPerAddress: number;
  readonly #options: Required<Pick<SocketOptions, "reconnectInterval" | "reconnectMaxInterval">>;
  readonly #log: (message: string) => void;
  readonly #servers = new Map<string, { server: Server; endpoint: Endpoint }>();
  readonly #dialers = new Map<string, Dialer>();
  readonly #incoming: Uint8Array[][] = [];
  #incomingHead = 0;
  readonly #receivers: Waiter<Uint8Array[]>[] = [];
  readonly #paused = new Set<Connection>();
  /** close() was called: the API refuses new work. */
  #closed = false;
  /** Listeners, dialers and connections are gone (at close, or when linger ends). */
  #shutDown = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #closeRequestedAt = 0;

  readonly #handler: ConnectionHandler = {
    ready: (connection) => {
      const refusal = this.admitPeer(connection);
      if (refusal) {
        connection.fail("handshake", refusal);
        return;
      }
      this.peers.add(connection);
      this.events.emit({ type: "handshake", address: connection.address });
      this.onPeerReady(connection);
    },
    message: (connection, frames) => this.onPeerMessage(connection, frames),
    command: (connection, name, data) => this.onPeerCommand(connection, name, data),
    drain: (connection) => this.onPeerDrain(connection),
    closed: (connection, kind, reason) => this.#onConnectionClosed(connection, kind, reason),
  };

  protected constructor(type: SocketType, options: SocketOptions) {
    this.sendHighWaterMark = positiveOr(options.sendHighWaterMark, 1000);
    this.receiveHighWaterMark = positiveOr(options.receiveHighWaterMark, 1000);
    this.linger = options.linger ?? 0;
    this.#log = options.log ?? ((message) => console.warn(`zmtp: ${message}`));
    this.#options = {
      reconnectInterval: options.reconnectInterval ?? 100,
      reconnectMaxInterval: options.reconnectMaxInterval ?? 0,
    };
    const routingId = typeof options.routingId === "string" ? textEncoder.encode(options.routingId) : options.routingId;
    if (routingId && (routingId.length === 0 || routingId.length > 255 || routingId[0] === 0)) {
      throw new RangeError("routingId must be 1 to 255 bytes and must not start with a zero byte");
    }
    this.budget = new SocketBudget(limitOr("maxPartialBytes", options.maxPartialBytes));
    this.#maxConnections = limitOr("maxConnections", options.maxConnections);
    this.#maxConnectionsPerAddress = limitOr("maxConnectionsPerAddress", options.maxConnectionsPerAddress);
    this.connectionOptions = {
      socketType: type,
      routingId,
      maxMessageSize: options.maxMessageSize ?? -1,
      maxFramesPerMessage: options.maxFramesPerMessage ?? 1000,
      heartbeatInterval: options.heartbeatInterval ?? 0,
      heartbeatTimeout: options.heartbeatTimeout ?? 0,
      handshakeInterval: options.handshakeInterval ?? 30_000,
      messageTimeout: options.messageTimeout ?? 0,
      budget: this.budget,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages received and not yet read. */
  get queuedIncoming(): number {
    return this.#incoming.length - this.#incomingHead;
  }

  // --- hooks for the socket types -------------------------------------------------------

  /** A reason to refuse a peer whose handshake is otherwise fine (a ROUTER's duplicate id). */
  protected admitPeer(_connection: Connection): string | undefined {
    return undefined;
  }
  protected abstract onPeerReady(connection: Connection): void;
  protected abstract onPeerMessage(connection: Connection, frames: Uint8Array[]): void;
  protected onPeerCommand(_connection: Connection, _name: string, _data: Uint8Array): void {}
  protected onPeerDrain(_connection: Connection): void {}
  protected onPeerGone(_connection: Connection): void {}
  /** close() was called: refuse waiting senders. I/O may go on while linger flushes. */
  protected onClosing(): void {}
  /** Listeners, dialers and connections are gone. */
  protected onClose(): void {}
  /** Messages accepted by `send` and not yet handed to any connection (a Dealer's outbox). */
  protected hasUnsentMessages(): boolean {
    return false;
  }
  /** A subclass calls this when its unsent messages went out, so a lingering close can finish. */
  protected unsentFlushed(): void {
    if (this.#closed && !this.#shutDown) this.#shutdown();
  }

  protected log(message: string): void {
    this.#log(message);
  }

  // --- binding and connecting -----------------------------------------------------------

  bind(address: string): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    const endpoint = parseEndpoint(address);
    if (endpoint.kind === "ipc") removeStaleIpcFile(endpoint.path);
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#accept(socket, endpoint));
      server.once("error", (error: Error & { code?: string }) => {
        this.events.emit({ type: "bind:error", address, error, reason: error.message });
        reject(Object.assign(new Error(`Cannot bind ${address}: ${error.message}`), { code: error.code, cause: error }));
      });
      const onListening = () => {
        if (this.#closed) {
          server.close();
          reject(closedError());
          return;
        }
        const bound = server.address();
        const real =
          endpoint.kind === "tcp" && bound && typeof bound === "object" ? formatTcp(endpoint.host, bound.port) : address;
        this.#servers.set(real, { server, endpoint });
        this.lastEndpoint = real;
        server.on("error", (error: Error) => this.log(`listener ${real} failed: ${error.message}`));
        this.events.emit({ type: "bind", address: real });
        resolve();
      };
      if (endpoint.kind === "tcp") server.listen(endpoint.port, endpoint.host, onListening);
      else server.listen(endpoint.path, onListening);
    });
  }

  /** Stop listening on an address `bind` returned (existing connections stay). */
  unbind(address: string): void {
    const entry = this.#servers.get(address);
    if (!entry) return;
    this.#servers.delete(address);
    closeServer(entry.server, entry.endpoint);
  }

  /** Connect, retrying in the background until it succeeds and after every disconnect. */
  connect(address: string): void {
    if (this.#closed) throw closedError();
    const endpoint = parseEndpoint(address);
    if (this.#dialers.has(address)) return;
    const dialer: Dialer = {
      endpoint,
      socket: undefined,
      connection: undefined,
      timer: undefined,
      interval: this.#options.reconnectInterval,
      lastReason: "",
    };
    this.#dialers.set(address, dialer);
    this.#dial(dialer);
  }

  /** Stop connecting to `address` and drop that connection. */
  disconnect(address: string): void {
    const dialer = this.#dialers.get(address);
    if (!dialer) return;
    this.#dialers.delete(address);
    this.#stopDialer(dialer);
  }

  #dial(dialer: Dialer): void {
    const { endpoint } = dialer;
    const socket =
      endpoint.kind === "tcp"
        ? createConnection({ host: endpoint.host, port: endpoint.port })
        : createConnection({ path: endpoint.path });
    dialer.socket = socket;
    const onError = (error: Error) => {
      socket.destroy();
      this.#scheduleRedial(dialer, `cannot connect: ${error.message}`);
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      if (this.#shutDown || this.#dialers.get(endpoint.address) !== dialer) {
        socket.destroy();
        return;
      }
      this.events.emit({ type: "connect", address: endpoint.address });
      dialer.connection = this.#attach(socket, endpoint.address);
    });
  }

  #scheduleRedial(dialer: Dialer, reason: string): void {
    dialer.socket = undefined;
    dialer.connection = undefined;
    if (this.#shutDown || this.#dialers.get(dialer.endpoint.address) !== dialer) return;
    const interval = dialer.interval;
    const max = this.#options.reconnectMaxInterval;
    if (max > interval) dialer.interval = Math.min(max, interval * 2);
    dialer.lastReason = reason;
    this.events.emit({ type: "connect:retry", address: dialer.endpoint.address, interval, reason });
    dialer.timer = setTimeout(() => {
      dialer.timer = undefined;
      this.#dial(dialer);
    }, interval);
  }

  #stopDialer(dialer: Dialer, linger = this.linger): void {
    clearTimeout(dialer.timer);
    dialer.timer = undefined;
    if (dialer.connection) dialer.connection.close(linger);
    else dialer.socket?.destroy();
  }

  #accept(socket: NetSocket, endpoint: Endpoint): void {
    if (this.#shutDown) {
      socket.destroy();
      return;
    }
    // Refused before any byte is read or any state is kept: the cheapest answer to a flood.
    const from = endpoint.kind === "tcp" ? socket.remoteAddress ?? "?" : "";
    const fromCount = from === "" ? 0 : this.#perAddress.get(from) ?? 0;
    if (this.#accepted.size >= this.#maxConnections || fromCount >= this.#maxConnectionsPerAddress) {
      this.refusedConnections++;
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    const address = endpoint.kind === "tcp" ? formatTcp(from, socket.remotePort ?? 0) : endpoint.address;
    this.events.emit({ type: "accept", address });
    const connection = this.#attach(socket, address);
    if (connection.closed) return;
    this.#accepted.set(connection, from);
    if (from !== "") this.#perAddress.set(from, fromCount + 1);
  }

  #attach(socket: NetSocket, address: string): Connection {
    const connection = new Connection(socket, address, this.connectionOptions, this.#handler);
    this.#allConnections.add(connection);
    return connection;
  }

  #onConnectionClosed(connection: Connection, kind: CloseKind, reason: string): void {
    this.#allConnections.delete(connection);
    const from = this.#accepted.get(connection);
    if (from !== undefined) {
      this.#accepted.delete(connection);
      const left = (this.#perAddress.get(from) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(from, left);
      else this.#perAddress.delete(from);
    }
    if (kind === "timeout") this.droppedTricklers++;
    else if (kind === "budget") this.droppedPartial++;
    else if (kind === "heartbeat") this.heartbeatTimeouts++;
    this.#paused.delete(connection);
    const wasPeer = this.peers.delete(connection);
    if (wasPeer) this.onPeerGone(connection);
    const dialer = [...this.#dialers.values()].find((d) => d.connection === connection);
    if (kind !== "local" && kind !== "peer") {
      const error = new Error(reason);
      // Log a repeating handshake failure (a dialer retrying a wrong peer) once, not every retry.
      const repeated = dialer !== undefined && !wasPeer && dialer.lastReason === reason;
      if (!repeated) this.log(`${connection.address}: ${reason}`);
      if (!wasPeer) this.events.emit({ type: "handshake:error:protocol", address: connection.address, error, reason });
      else this.events.emit({ type: "disconnect", address: connection.address, error, reason });
    } else if (wasPeer) {
      this.events.emit({ type: "disconnect", address: connection.address, reason });
    }
    if (dialer) {
      // A connection that got through the handshake resets the backoff.
      if (wasPeer) dialer.interval = this.#options.reconnectInterval;
      this.#scheduleRedial(dialer, reason);
    }
  }

  // --- receiving --------------------------------------------------------------------------

  /** Called by subclasses with a message for the application. */
  protected deliver(connection: Connection | undefined, frames: Uint8Array[]): void {
    const receiver = this.#receivers.shift();
    if (receiver) {
      receiver.resolve(frames);
      return;
    }
    this.#incoming.push(frames);
    if (connection && this.queuedIncoming >= this.receiveHighWaterMark) {
      connection.pause();
      this.#paused.add(connection);
    }
  }

  receive(): Promise<Uint8Array[]> {
    if (this.queuedIncoming > 0) {
      const frames = this.#incoming[this.#incomingHead]!;
      this.#incoming[this.#incomingHead++] = EMPTY_MESSAGE;
      if (this.#incomingHead > 1024 && this.#incomingHead * 2 > this.#incoming.length) {
        this.#incoming.splice(0, this.#incomingHead);
        this.#incomingHead = 0;
      }
      if (this.#paused.size > 0 && this.queuedIncoming < this.receiveHighWaterMark) {
        for (const connection of this.#paused) connection.resume();
        this.#paused.clear();
      }
      return Promise.resolve(frames);
    }
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => this.#receivers.push({ resolve, reject }));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array[]> {
    while (true) {
      try {
        yield await this.receive();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  // --- closing ----------------------------------------------------------------------------

  /**
   * Close every listener, dialer and connection; pending receives reject with code EBADF.
   * With a non-zero linger and messages not yet handed to a peer, listeners and dialers keep
   * running (the API already refuses new work) until those messages are out or linger ends.
   * `lingerMs`, when given, is the linger of this close (as setting ZMQ_LINGER before zmq_close).
   */
  close(lingerMs?: number): void {
    if (this.#closed) return;
    if (lingerMs !== undefined) this.linger = lingerMs;
    this.#closed = true;
    this.#closeRequestedAt = Date.now();
    this.onClosing();
    for (const receiver of this.#receivers.splice(0)) receiver.reject(closedError());
    this.events.emit({ type: "close" });
    this.events.emit({ type: "end" });
    if (this.linger !== 0 && this.hasUnsentMessages()) {
      if (this.linger > 0) this.#lingerTimer = setTimeout(() => this.#shutdown(), this.linger);
      return;
    }
    this.#shutdown();
  }

  #shutdown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    clearTimeout(this.#lingerTimer);
    // What is left of the linger time bounds the flush of each connection.
    const linger = this.linger > 0 ? Math.max(1, this.linger - (Date.now() - this.#closeRequestedAt)) : this.linger;
    for (const { server, endpoint } of this.#servers.values()) closeServer(server, endpoint);
    this.#servers.clear();
    for (const dialer of this.#dialers.values()) this.#stopDialer(dialer, linger);
    this.#dialers.clear();
    for (const connection of [...this.#allConnections]) connection.close(linger);
    this.#allConnections.clear();
    this.#accepted.clear();
    this.#perAddress.clear();
    this.peers.clear();
    this.onClose();
  }
}

const EMPTY_MESSAGE: Uint8Array[] = [];

/** A budget option: a non-negative number, undefined = no limit. */
export function limitOr(name: string, value: number | undefined): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) throw new RangeError(`${name} must be a non-negative number`);
  return value;
}

function positiveOr(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError("High-water marks must be non-negative numbers");
  // 0 means "no limit" in libzmq.
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}

function closeServer(server: Server, endpoint: Endpoint): void {
  server.close();
  if (endpoint.kind === "ipc" && !endpoint.path.startsWith("\0")) {
    try {
      unlinkSync(endpoint.path);
    } catch {
      // Already gone.
    }
  }
}

/** libzmq removes a leftover socket file before binding; only socket files are touched. */
function removeStaleIpcFile(path: string): void {
  if (path.startsWith("\0")) return;
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Does not exist: nothing to remove.
  }
}
