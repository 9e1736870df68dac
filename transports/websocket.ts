/**
 * Transport over WebSocket, for browsers talking to a server process (the web bridge).
 * Runtime-neutral: the client uses the standard `WebSocket` (browsers, Deno, Node 22+) or a
 * constructor you pass (the `ws` package on Node 20); the server side takes already-upgraded
 * sockets from whatever HTTP server you run (`ws`'s `WebSocketServer`, `Deno.upgradeWebSocket`,
 * hono's helpers) through `accept(socket)`.
 *
 * Every WebSocket message is binary: one type byte, then
 *   0x01 request  [frame]              client → server
 *   0x02 reply    [frame]              server → client
 *   0x03 event    [u16 topic length][topic UTF-8][frame]   server → client
 *   0x04 subscribe / 0x05 unsubscribe  [topic UTF-8]        client → server
 * Anything else (text messages, unknown types, a topic longer than its message) closes that
 * socket with code 1003 or 1007; other clients are not affected.
 *
 * Budgets (defaults in lib/budgets.ts) are kept per socket and for the whole server: message
 * size (the socket's own `maxPayload`, 1009), connections (1013), subscriptions (1008), queued
 * replies (disconnect) and queued events (missed, counted); see `WebSocketServerOptions`.
 *
 * Latest values (conflation): an event published with `latestValue` (market data) is not queued
 * for a socket that is behind — its `bufferedAmount` over `conflateAboveBytes` — but held, one
 * per topic, each newer one replacing the held one (`conflatedEvents`). A WebSocket has no drain
 * event: held events go out, in the order their topics were first held, on the next publish or
 * reply once the socket's `bufferedAmount` is low again, and on the sweep timer. Other events are
 * queued as before and never dropped to make room for held ones.
 */
import { DEFAULT_BUDGETS } from "../lib/budgets.ts";
import { unrefTimer } from "../lib/logger.ts";
import type { ClientSink, ClientTransport, PeerId, ServerSink, ServerTransport } from "../lib/transport.ts";

/** The part of the standard WebSocket interface both sides use. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // `type` is there for TypeScript: an event with none of these fields would not fit otherwise.
  addEventListener(type: "open" | "close" | "error" | "message", listener: (event: { type?: string; data?: unknown; code?: number; reason?: string }) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;
const T = { request: 1, reply: 2, event: 3, subscribe: 4, unsubscribe: 5 } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function tagged(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = type;
  out.set(body, 1);
  return out;
}

function eventMessage(topic: string, frame: Uint8Array): Uint8Array {
  const name = encoder.encode(topic);
  if (name.byteLength > 0xffff) throw new RangeError("Topic longer than 65535 bytes");
  const out = new Uint8Array(3 + name.byteLength + frame.byteLength);
  out[0] = T.event;
  out[1] = name.byteLength >> 8;
  out[2] = name.byteLength & 0xff;
  out.set(name, 3);
  out.set(frame, 3 + name.byteLength);
  return out;
}

/** Binary payload of a message event as bytes, or undefined for text. */
export function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export interface WebSocketServerOptions {
  /**
   * Largest RPC frame a peer may send; give `RpcServer` the same `maxMessageBytes`. The socket
   * itself must refuse anything larger while receiving: create it with `{ maxPayload:
   * transport.maxPayload }`. Default `DEFAULT_BUDGETS.maxMessageBytes`.
   */
  maxMessageBytes?: number;
  /** Sockets served at once; more are closed with 1013 (try again later). */
  maxConnections?: number;
  /** Sockets served at once from one address (`accept(socket, { address })`); more are closed with 1013. */
  maxConnectionsPerAddress?: number;
  /** Bytes queued for one socket past which it misses events (counted). */
  maxQueuedEventBytesPerSubscriber?: number;
  /** Reply bytes a socket may queue on top of its events; past it the socket is disconnected. */
  maxQueuedReplyBytesPerPeer?: number;
  /** Bytes queued for all sockets together past which subscribers with a backlog miss events. */
  maxQueuedEventBytes?: number;
  /** Reply bytes queued for all sockets on top of the events; past it the socket being replied to is disconnected. */
  maxQueuedReplyBytes?: number;
  /**
   * `bufferedAmount` over which a socket is behind: a `latestValue` event then replaces the
   * socket's held one of the same topic instead of being queued. Held events count against
   * `maxQueuedEventBytesPerSubscriber` (and `maxQueuedEventBytes`) and are the first to go when
   * another event needs the room. Default 256 KiB; Infinity turns conflation off.
   */
  conflateAboveBytes?: number;
  /** Prefixes one socket may subscribe to; more closes it (1008). */
  maxSubscriptionsPerPeer?: number;
  /** Longest prefix in UTF-8 bytes; longer closes the socket (1008). */
  maxPrefixBytes?: number;
  /**
   * A message must arrive whole within this time of being started, or its socket is closed
   * (1008). Best-effort: only sockets that show their receive state (the `ws` package's) can be
   * checked; elsewhere rely on the runtime's own timeouts. 0 turns the check off.
   */
  messageTimeoutMs?: number;
}

/** What a server transport has refused, dropped or closed, and what it holds now. */
export type WebSocketServerStats = {
  /** Sockets being served. */
  connections: number;
  /** Topic prefixes held for all sockets. */
  subscriptions: number;
  /** Bytes queued for all sockets, as last seen (an upper bound: buffers drain unseen). */
  queuedBytes: number;
  /** Events a subscriber missed because its queue, or the whole server's, was full (held latest values included). */
  droppedEvents: number;
  /** Latest values replaced by a newer one of their topic before they were sent. */
  conflatedEvents: number;
  /** Sockets closed at accept: too many connections, from one address or in all. */
  refusedConnections: number;
  /** Subscriptions refused (too many or too long); each closed its socket. */
  refusedSubscriptions: number;
  /** Messages larger than `maxPayload`; each closed its socket (1009). */
  oversizeMessages: number;
  /** Sockets disconnected for letting their replies pile up past a budget. */
  disconnectedSlowReaders: number;
  /** Sockets closed for a message that did not arrive whole within `messageTimeoutMs`. */
  disconnectedSlowSenders: number;
};

export interface WebSocketServerTransport extends ServerTransport {
  /**
   * Serve an upgraded socket; returns its peer id, or undefined when a connection budget
   * refused it (the socket is then closed with 1013). `address` is the remote address as your
   * HTTP server sees it (e.g. `request.socket.remoteAddress`), for `maxConnectionsPerAddress`.
   * Throws a RangeError (and closes the socket) when the socket would accept messages larger
   * than `maxPayload`: the socket's own limit is what keeps a large message from being
   * buffered whole. Only sockets that expose their limit (the `ws` package's) can be checked.
   */
  accept(socket: WebSocketLike, info?: { address?: string | undefined }): PeerId | undefined;
  /** The largest message, in bytes, a socket must accept: `maxMessageBytes` + the type byte. */
  readonly maxPayload: number;
  readonly stats: Readonly<WebSocketServerStats>;
}

interface Peer {
  readonly socket: WebSocketLike;
  readonly topics: Set<string>;
  readonly address: string | undefined;
  /** The socket's bufferedAmount when last seen; never below the real one (it only drains). */
  queued: number;
  /** Messages received, and the count when a message was first seen incomplete. */
  messages: number;
  incompleteMark: { messages: number; sweep: number } | undefined;
  /** Latest values held while the socket is behind: topic → event message, in first-held order. Undefined when none (the common case). */
  held: Map<string, Uint8Array> | undefined;
  heldBytes: number;
}

/** `bufferedAmount` over which a socket's latest values are held, not queued. */
export const CONFLATE_ABOVE_BYTES = DEFAULT_BUDGETS.conflateAboveBytes;

export function websocketServer(options: WebSocketServerOptions = {}): WebSocketServerTransport {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_BUDGETS.maxMessageBytes;
  const maxPayload = maxMessageBytes + 1;
  const maxConnections = options.maxConnections ?? DEFAULT_BUDGETS.maxConnections;
  const maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_BUDGETS.maxConnectionsPerAddress;
  const eventsPerPeer = options.maxQueuedEventBytesPerSubscriber ?? DEFAULT_BUDGETS.maxQueuedEventBytesPerSubscriber;
  const repliesPerPeer = options.maxQueuedReplyBytesPerPeer ?? DEFAULT_BUDGETS.maxQueuedReplyBytesPerPeer;
  const eventsInAll = options.maxQueuedEventBytes ?? DEFAULT_BUDGETS.maxQueuedEventBytes;
  const repliesInAll = options.maxQueuedReplyBytes ?? DEFAULT_BUDGETS.maxQueuedReplyBytes;
  const maxSubscriptions = options.maxSubscriptionsPerPeer ?? DEFAULT_BUDGETS.maxSubscriptionsPerPeer;
  const maxPrefixBytes = options.maxPrefixBytes ?? DEFAULT_BUDGETS.maxPrefixBytes;
  const messageTimeoutMs = options.messageTimeoutMs ?? DEFAULT_BUDGETS.messageTimeoutMs;
  const conflateAbove = options.conflateAboveBytes ?? CONFLATE_ABOVE_BYTES;
  const peers = new Map<PeerId, Peer>();
  const perAddress = new Map<string, number>();
  const counts = {
    droppedEvents: 0,
    conflatedEvents: 0,
    refusedConnections: 0,
    refusedSubscriptions: 0,
    oversizeMessages: 0,
    disconnectedSlowReaders: 0,
    disconnectedSlowSenders: 0,
  };
  // Sum of every peer's `queued`: a running estimate, so a reply costs O(1), not a scan.
  let queued = 0;
  // Sum of every peer's `heldBytes`.
  let heldInAll = 0;
  let sink: ServerSink | undefined;
  let nextPeer = 1;
  let sweepTimer: ReturnType<typeof setInterval> | undefined;
  let sweeps = 0;

  /** Re-read one socket's queue into the estimate; returns it. */
  function look(peer: Peer): number {
    const now = peer.socket.bufferedAmount;
    queued += now - peer.queued;
    peer.queued = now;
    return now;
  }

  /** Re-read every socket: the estimate only overstates (buffers drain unseen), so this is run only when it is over a budget. */
  function lookAll(): void {
    for (const peer of peers.values()) look(peer);
  }

  function send(peer: Peer, message: Uint8Array): void {
    peer.socket.send(message);
    look(peer);
  }

  /** Hold `message` as `peer`'s latest value of `topic` (the peer is behind), replacing an older one, within the budgets. */
  function hold(peer: Peer, topic: string, message: Uint8Array, mine: number): void {
    const old = peer.held?.get(topic);
    const growth = message.byteLength - (old?.byteLength ?? 0);
    if (mine + peer.heldBytes + growth > eventsPerPeer) {
      counts.droppedEvents++;
      return;
    }
    if (queued + heldInAll + growth > eventsInAll) {
      lookAll();
      if (queued + heldInAll + growth > eventsInAll) {
        counts.droppedEvents++;
        return;
      }
    }
    if (old !== undefined) counts.conflatedEvents++;
    // Map.set on an existing key keeps its place: topics go out in the order first held.
    (peer.held ??= new Map()).set(topic, message);
    peer.heldBytes += growth;
    heldInAll += growth;
  }

  /** Send `peer`'s held latest values, oldest topic first, while its queue stays at or under the threshold. */
  function release(peer: Peer): void {
    const held = peer.held!;
    if (peer.socket.readyState !== OPEN) return;
    for (const [topic, message] of held) {
      if (look(peer) > conflateAbove) return;
      held.delete(topic);
      peer.heldBytes -= message.byteLength;
      heldInAll -= message.byteLength;
      send(peer, message);
    }
    peer.held = undefined;
  }

  /** Held latest values give way, oldest first, until `needed` bytes fit `peer`'s event budget beside them. */
  function makeRoom(peer: Peer, needed: number): void {
    const held = peer.held!;
    for (const [topic, message] of held) {
      if (needed + peer.heldBytes <= eventsPerPeer) return;
      held.delete(topic);
      peer.heldBytes -= message.byteLength;
      heldInAll -= message.byteLength;
      counts.droppedEvents++;
    }
    peer.held = undefined;
  }

  /** Close a socket that is not reading: its queue cannot drain, so free it now where the socket allows. */
  function dropSlowReader(peer: Peer, reason: string): void {
    counts.disconnectedSlowReaders++;
    peer.socket.close(1008, reason);
    (peer.socket as { terminate?: () => void }).terminate?.();
  }

  function refuse(socket: WebSocketLike, reason: string): undefined {
    counts.refusedConnections++;
    socket.close(1013, reason);
    return undefined;
  }

  function accept(socket: WebSocketLike, info: { address?: string | undefined } = {}): PeerId | undefined {
    const limit = payloadLimitOf(socket);
    if (limit !== undefined && (limit <= 0 || limit > maxPayload)) {
      socket.close(1011, "server misconfigured");
      throw new RangeError(
        `This socket accepts messages of ${limit <= 0 ? "any size" : `up to ${limit} bytes`}, more than maxPayload ${maxPayload}: ` +
          "create the WebSocket server with { maxPayload: transport.maxPayload }",
      );
    }
    const { address } = info;
    if (peers.size >= maxConnections) return refuse(socket, "too many connections");
    if (address !== undefined && (perAddress.get(address) ?? 0) >= maxPerAddress) return refuse(socket, "too many connections from this address");
    const id = `ws-${nextPeer++}`;
    const peer: Peer = { socket, topics: new Set(), address, queued: 0, messages: 0, incompleteMark: undefined, held: undefined, heldBytes: 0 };
    socket.binaryType = "arraybuffer";
    peers.set(id, peer);
    if (address !== undefined) perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    startSweeping();
    socket.addEventListener("message", (event) => {
      peer.messages++;
      const bytes = bytesOf(event.data);
      if (!bytes || bytes.byteLength === 0) return socket.close(1003, "binary messages only");
      // A socket that does not enforce maxPayload itself has buffered it already; refuse it all the same.
      if (bytes.byteLength > maxPayload) {
        counts.oversizeMessages++;
        return socket.close(1009, "message too big");
      }
      const body = bytes.subarray(1);
      switch (bytes[0]) {
        case T.request:
          return sink?.request(body, id);
        case T.subscribe:
        case T.unsubscribe: {
          if (bytes[0] === T.subscribe && body.byteLength > maxPrefixBytes) {
            counts.refusedSubscriptions++;
            return socket.close(1008, "subscription prefix too long");
          }
          let topic: string;
          try {
            topic = decoder.decode(body);
          } catch {
            return socket.close(1007, "topic is not UTF-8");
          }
          if (bytes[0] === T.unsubscribe) peer.topics.delete(topic);
          else if (peer.topics.size < maxSubscriptions || peer.topics.has(topic)) peer.topics.add(topic);
          else {
            counts.refusedSubscriptions++;
            socket.close(1008, "too many subscriptions");
          }
          return;
        }
        default:
          return socket.close(1003, "unknown message type");
      }
    });
    socket.addEventListener("close", () => {
      if (!peers.delete(id)) return; // already forgotten by close()
      queued -= peer.queued;
      heldInAll -= peer.heldBytes;
      peer.held = undefined;
      if (address !== undefined) {
        const left = (perAddress.get(address) ?? 1) - 1;
        if (left > 0) perAddress.set(address, left);
        else perAddress.delete(address);
      }
      if (peers.size === 0) stopSweeping();
      sink?.peerClosed?.(id);
    });
    // A protocol violation surfaces as "error" (then "close"); unheard, Node would crash the process.
    socket.addEventListener("error", (event) => {
      // The ws package refuses an oversize message while receiving it and says so here.
      if ((event as { error?: { code?: unknown } }).error?.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") counts.oversizeMessages++;
    });
    return id;
  }

  /**
   * A peer that trickles a message byte by byte holds a connection for ever. A sweep every half
   * `messageTimeoutMs` closes a socket seen mid-message on two sweeps a full timeout apart
   * with no message completed in between. Only sockets that show their receive state can be
   * checked (see `receiving`); the sweep runs only while there are sockets. It also sends the
   * latest values held for sockets that caught up.
   */
  function startSweeping(): void {
    if (sweepTimer || messageTimeoutMs <= 0) return;
    sweepTimer = setInterval(sweep, messageTimeoutMs / 2);
    unrefTimer(sweepTimer);
  }

  function stopSweeping(): void {
    clearInterval(sweepTimer);
    sweepTimer = undefined;
  }

  function sweep(): void {
    sweeps++;
    for (const peer of peers.values()) {
      // No drain event on a WebSocket: held latest values also go out here once the socket caught up.
      if (peer.held !== undefined) release(peer);
      if (receiving(peer.socket) !== true) {
        peer.incompleteMark = undefined;
      } else if (!peer.incompleteMark || peer.incompleteMark.messages !== peer.messages) {
        peer.incompleteMark = { messages: peer.messages, sweep: sweeps };
      } else if (sweeps - peer.incompleteMark.sweep >= 2 && peer.socket.readyState === OPEN) {
        counts.disconnectedSlowSenders++;
        peer.socket.close(1008, "message not completed in time");
        (peer.socket as { terminate?: () => void }).terminate?.();
      }
    }
  }

  return {
    accept,
    maxPayload,
    get stats() {
      let subscriptions = 0;
      for (const peer of peers.values()) subscriptions += peer.topics.size;
      return { ...counts, connections: peers.size, subscriptions, queuedBytes: queued };
    },
    async listen(next) {
      sink = next;
    },
    reply(peerId, frame) {
      const peer = peers.get(peerId);
      if (peer?.socket.readyState !== OPEN) return;
      const size = 1 + frame.byteLength;
      // Events may fill a socket's queue up to their budget; replies have their own on top, so a
      // slow subscriber still gets its replies and a caller that reads none is cut off.
      if (look(peer) + size > eventsPerPeer + repliesPerPeer) return dropSlowReader(peer, "not reading its replies");
      if (queued + size > eventsInAll + repliesInAll) {
        lookAll();
        if (queued + size > eventsInAll + repliesInAll) return dropSlowReader(peer, "server reply budget exhausted");
      }
      send(peer, tagged(T.reply, frame));
      if (peer.held !== undefined) release(peer);
    },
    publish(topic, frame, latestValue = false) {
      let message: Uint8Array | undefined;
      let fresh = false;
      for (const peer of peers.values()) {
        // Any publish sends what is held for a socket that caught up (older, so first).
        if (peer.held !== undefined) release(peer);
        if (peer.socket.readyState !== OPEN || !matches(peer.topics, topic)) continue;
        message ??= eventMessage(topic, frame);
        const mine = look(peer);
        if (latestValue && (peer.held !== undefined || mine > conflateAbove)) {
          hold(peer, topic, message, mine);
          continue;
        }
        if (mine + message.byteLength > eventsPerPeer) {
          counts.droppedEvents++;
          continue;
        }
        // Past the whole server's budget only subscribers with a backlog miss the event: one
        // that has drained its queue is keeping up, and the same bytes are shared by every send.
        if (mine > 0 && queued + message.byteLength > eventsInAll) {
          if (!fresh) {
            lookAll(); // at most once per publish, which visits every peer anyway
            fresh = true;
          }
          if (queued + message.byteLength > eventsInAll) {
            counts.droppedEvents++;
            continue;
          }
        }
        if (peer.held !== undefined) makeRoom(peer, mine + message.byteLength);
        send(peer, message);
      }
    },
    async close() {
      stopSweeping();
      for (const { socket } of peers.values()) socket.close(1001, "server closing");
      peers.clear();
      perAddress.clear();
      queued = 0;
      heldInAll = 0;
      sink = undefined;
    },
  };
}

/**
 * The most a socket accepts in one message, where it says: the `ws` package keeps it as its
 * receiver's `_maxPayload` (0 is no limit). Undefined for sockets that do not show it.
 */
function payloadLimitOf(socket: WebSocketLike): number | undefined {
  const s = socket as { _maxPayload?: unknown; _receiver?: { _maxPayload?: unknown } };
  const limit = s._receiver?._maxPayload ?? s._maxPayload;
  return typeof limit === "number" ? limit : undefined;
}

/**
 * Whether a socket is in the middle of receiving a message (true), is not (false), or cannot
 * tell (undefined). The `ws` package's receiver shows it: bytes waiting to make a frame, a frame
 * being read (state other than GET_INFO, 0), or fragments of a message kept.
 */
function receiving(socket: WebSocketLike): boolean | undefined {
  const r = (socket as { _receiver?: { _state?: unknown; _bufferedBytes?: unknown; _fragments?: unknown } })._receiver;
  if (!r || typeof r._state !== "number" || typeof r._bufferedBytes !== "number" || !Array.isArray(r._fragments)) return undefined;
  return r._state !== 0 || r._bufferedBytes > 0 || r._fragments.length > 0;
}

export interface WebSocketClientOptions {
  /** WebSocket implementation; default the global one. */
  WebSocket?: WebSocketConstructor;
  /** First reconnect delay, doubled up to `maxReconnectMs`. Default 100. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /**
   * What the server accepts (defaults: `DEFAULT_BUDGETS`): `subscribe` throws a RangeError for
   * a longer prefix or one prefix too many, rather than send what the server closes the socket
   * for (the subscription would be re-sent, and refused, on every reconnect).
   */
  maxSubscriptionsPerPeer?: number;
  maxPrefixBytes?: number;
}

/** Connects to `url` and reconnects with backoff when the link drops, re-sending subscriptions. */
export function websocketClient(url: string, options: WebSocketClientOptions = {}): ClientTransport {
  const Found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Found) throw new TypeError("No WebSocket implementation: pass one as options.WebSocket (e.g. the ws package on Node 20)");
  const Ctor: WebSocketConstructor = Found;
  const firstDelay = options.reconnectMs ?? 100;
  const maxDelay = options.maxReconnectMs ?? 5000;
  const maxSubscriptions = options.maxSubscriptionsPerPeer ?? DEFAULT_BUDGETS.maxSubscriptionsPerPeer;
  const maxPrefixBytes = options.maxPrefixBytes ?? DEFAULT_BUDGETS.maxPrefixBytes;
  const topics = new Set<string>();
  let socket: WebSocketLike | undefined;
  let sink: ClientSink | undefined;
  let delay = firstDelay;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const sendNow = (message: Uint8Array) => {
    if (socket?.readyState === OPEN) socket.send(message);
  };

  function open(onFirstSettle?: () => void): void {
    const ws = new Ctor(url);
    socket = ws;
    ws.binaryType = "arraybuffer";
    ws.addEventListener("open", () => {
      delay = firstDelay;
      for (const topic of topics) ws.send(tagged(T.subscribe, encoder.encode(topic)));
      sink?.linkUp?.();
      onFirstSettle?.();
    });
    ws.addEventListener("message", (event) => {
      const bytes = bytesOf(event.data);
      if (!bytes || bytes.byteLength === 0) return;
      if (bytes[0] === T.reply) sink?.reply(bytes.subarray(1));
      else if (bytes[0] === T.event && bytes.byteLength >= 3) {
        const length = (bytes[1]! << 8) | bytes[2]!;
        if (bytes.byteLength < 3 + length) return;
        try {
          sink?.broadcast(decoder.decode(bytes.subarray(3, 3 + length)), bytes.subarray(3 + length));
        } catch {
          // a topic that is not UTF-8: not from a tradewire server; ignore it
        }
      }
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = undefined;
      onFirstSettle?.();
      if (closed) return;
      sink?.linkDown?.(`WebSocket closed (${event.code ?? "no code"}${event.reason ? `: ${event.reason}` : ""})`);
      retry = setTimeout(() => open(), delay);
      delay = Math.min(delay * 2, maxDelay);
    });
    ws.addEventListener("error", () => {
      // "close" follows every "error"; reconnecting happens there
    });
  }

  return {
    connect(next) {
      sink = next;
      closed = false;
      delay = firstDelay;
      // Resolves once the first attempt has opened or failed; a failure is retried in the background.
      return new Promise<void>((resolve) => open(resolve));
    },
    send(frame) {
      if (socket?.readyState !== OPEN) throw new Error("WebSocket is not open");
      socket.send(tagged(T.request, frame));
    },
    subscribe(topic) {
      if (topics.has(topic)) return;
      const name = encoder.encode(topic);
      if (name.byteLength > maxPrefixBytes) throw new RangeError(`Topic prefix of ${name.byteLength} bytes exceeds maxPrefixBytes ${maxPrefixBytes}`);
      if (topics.size >= maxSubscriptions) throw new RangeError(`More than maxSubscriptionsPerPeer ${maxSubscriptions} topic prefixes`);
      topics.add(topic);
      sendNow(tagged(T.subscribe, name));
    },
    unsubscribe(topic) {
      if (!topics.delete(topic)) return;
      sendNow(tagged(T.unsubscribe, encoder.encode(topic)));
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      socket?.close(1000, "client closing");
      socket = undefined;
      sink = undefined;
    },
  };
}

function matches(topics: Set<string>, topic: string): boolean {
  for (const prefix of topics) if (topic.startsWith(prefix)) return true;
  return false;
}
