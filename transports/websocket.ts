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
 */
import type { ClientSink, ClientTransport, PeerId, ServerSink, ServerTransport } from "../lib/transport.ts";

/** The part of the standard WebSocket interface both sides use. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "close" | "error" | "message", listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
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
function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export interface WebSocketServerOptions {
  /**
   * A subscriber whose unsent data exceeds this misses events (counted) instead of growing
   * memory; a peer that lets its replies pile up past it is disconnected. Default 8 MiB.
   */
  maxBufferedBytes?: number;
  /** Prefixes one peer may subscribe to; more closes it (1008). Default 1024. */
  maxSubscriptions?: number;
}

export interface WebSocketServerTransport extends ServerTransport {
  /** Serve an upgraded socket; returns its peer id. */
  accept(socket: WebSocketLike): PeerId;
  /** Events not sent to slow subscribers. */
  readonly stats: { droppedEvents: number };
}

export function websocketServer(options: WebSocketServerOptions = {}): WebSocketServerTransport {
  const maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const maxSubscriptions = options.maxSubscriptions ?? 1024;
  const peers = new Map<PeerId, { socket: WebSocketLike; topics: Set<string> }>();
  const stats = { droppedEvents: 0 };
  let sink: ServerSink | undefined;
  let nextPeer = 1;

  function accept(socket: WebSocketLike): PeerId {
    const id = `ws-${nextPeer++}`;
    const peer = { socket, topics: new Set<string>() };
    socket.binaryType = "arraybuffer";
    peers.set(id, peer);
    socket.addEventListener("message", (event) => {
      const bytes = bytesOf(event.data);
      if (!bytes || bytes.byteLength === 0) return socket.close(1003, "binary messages only");
      const body = bytes.subarray(1);
      switch (bytes[0]) {
        case T.request:
          return sink?.request(body, id);
        case T.subscribe:
        case T.unsubscribe: {
          let topic: string;
          try {
            topic = decoder.decode(body);
          } catch {
            return socket.close(1007, "topic is not UTF-8");
          }
          if (bytes[0] === T.unsubscribe) peer.topics.delete(topic);
          else if (peer.topics.size < maxSubscriptions || peer.topics.has(topic)) peer.topics.add(topic);
          else socket.close(1008, "too many subscriptions");
          return;
        }
        default:
          return socket.close(1003, "unknown message type");
      }
    });
    socket.addEventListener("close", () => {
      if (peers.delete(id)) sink?.peerClosed?.(id);
    });
    // A protocol violation surfaces as "error" (then "close"); unheard, Node would crash the process.
    socket.addEventListener("error", () => {});
    return id;
  }

  return {
    accept,
    stats,
    async listen(next) {
      sink = next;
    },
    reply(peerId, frame) {
      const socket = peers.get(peerId)?.socket;
      if (socket?.readyState !== OPEN) return;
      if (socket.bufferedAmount > maxBuffered) return socket.close(1008, "not reading its replies");
      socket.send(tagged(T.reply, frame));
    },
    publish(topic, frame) {
      let message: Uint8Array | undefined;
      for (const { socket, topics } of peers.values()) {
        if (socket.readyState !== OPEN || !matches(topics, topic)) continue;
        if (socket.bufferedAmount > maxBuffered) {
          stats.droppedEvents++;
          continue;
        }
        socket.send((message ??= eventMessage(topic, frame)));
      }
    },
    async close() {
      for (const { socket } of peers.values()) socket.close(1001, "server closing");
      peers.clear();
      sink = undefined;
    },
  };
}

export interface WebSocketClientOptions {
  /** WebSocket implementation; default the global one. */
  WebSocket?: WebSocketConstructor;
  /** First reconnect delay, doubled up to `maxReconnectMs`. Default 100. */
  reconnectMs?: number;
  maxReconnectMs?: number;
}

/** Connects to `url` and reconnects with backoff when the link drops, re-sending subscriptions. */
export function websocketClient(url: string, options: WebSocketClientOptions = {}): ClientTransport {
  const Found = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Found) throw new TypeError("No WebSocket implementation: pass one as options.WebSocket (e.g. the ws package on Node 20)");
  const Ctor: WebSocketConstructor = Found;
  const firstDelay = options.reconnectMs ?? 100;
  const maxDelay = options.maxReconnectMs ?? 5000;
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
      topics.add(topic);
      sendNow(tagged(T.subscribe, encoder.encode(topic)));
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
