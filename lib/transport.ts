/**
 * The seam between the RPC core and a carrier. A transport moves opaque frames; request ids,
 * the pending-call map, timeouts, heartbeats and retries live in the core, never here.
 *
 * Two channels, as in VeighNa's RpcService (REQ/REP + PUB/SUB):
 * - request/response: a client sends request frames; the server replies to the peer it came from;
 * - broadcast: the server publishes `(topic, frame)`; a client receives the topics whose prefix it
 *   subscribed to (ZeroMQ SUB semantics: the empty prefix means every topic).
 */

import type { Frame } from "./data-frame.ts";

/** Opaque identity of a connected client, stable for the life of its connection. */
export type PeerId = string;

/** What a server transport delivers upward. */
export interface ServerSink {
  /** A request frame arrived from `peer`. */
  request(frame: Uint8Array, peer: PeerId): void;
  /** Optional: the transport knows that `peer` went away (memory, MessagePort, WebSocket). */
  peerClosed?(peer: PeerId): void;
}

export interface ServerTransport {
  /** Bind or open, then deliver every request to `sink`. Rejects if it cannot (e.g. address in use). */
  listen(sink: ServerSink): Promise<void>;
  /** Send a reply frame to one peer. A peer that is gone is silently skipped (its calls fail on its side). */
  reply(peer: PeerId, frame: Uint8Array): void;
  /**
   * Send a frame to every peer subscribed to a prefix of `topic`. `latestValue`: only the newest
   * event of this topic matters (market data), so for a subscriber that is behind, a transport
   * may keep just the newest one of the topic instead of queueing them all (conflation); other
   * events are never dropped to make room for these.
   */
  publish(topic: string, frame: Uint8Array, latestValue?: boolean): void;
  /** Release every socket, port and timer. Idempotent. */
  close(): Promise<void>;
  /** The server transport's own counters, when it keeps any. */
  readonly stats?: Readonly<Record<string, number>>;
  /** True for a transport that moves structured data (see DataServerTransport). */
  readonly carriesData?: boolean;
}

/**
 * A server transport that moves structured data (MessagePort): the core hands it DataFrames
 * for plain messages, which it posts as data to a peer that agreed in its handshake and as
 * `frame.encoded()` bytes to any other. See lib/data-frame.ts.
 */
export interface DataServerTransport extends ServerTransport {
  readonly carriesData: true;
  listen(sink: DataServerSink): Promise<void>;
  reply(peer: PeerId, frame: Frame): void;
  publish(topic: string, frame: Frame, latestValue?: boolean): void;
}

/** What a client transport delivers upward. */
export interface ClientSink {
  /** A reply frame arrived for one of our requests. */
  reply(frame: Uint8Array): void;
  /** A broadcast frame arrived on a topic we subscribed to (or a prefix of it). */
  broadcast(topic: string, frame: Uint8Array): void;
  /** Optional: the transport knows the link is gone (the core then fails in-flight calls with UNAVAILABLE). */
  linkDown?(reason: string): void;
  /** Optional: the transport knows the link is back. */
  linkUp?(): void;
}

export interface ClientTransport {
  /** Connect (or start connecting; ZeroMQ-style transports may connect lazily) and deliver to `sink`. */
  connect(sink: ClientSink): Promise<void>;
  /** Send a request frame. Throws if the frame cannot be queued at all. */
  send(frame: Uint8Array): void;
  /**
   * Receive broadcasts whose topic starts with `prefix`. Idempotent per prefix. Subscriptions
   * outlive reconnects: a transport that re-establishes its link re-sends them itself (as
   * ZeroMQ's SUB socket does); the core never has to repeat them.
   */
  subscribe(prefix: string): void;
  /** Stop receiving `prefix`. Idempotent. */
  unsubscribe(prefix: string): void;
  /** Release every socket, port and timer. Idempotent. */
  close(): Promise<void>;
  /** True for a transport that moves structured data (see DataClientTransport). */
  readonly carriesData?: boolean;
}

/** The client side of DataServerTransport: `send` takes DataFrames too. */
export interface DataClientTransport extends ClientTransport {
  readonly carriesData: true;
  connect(sink: DataClientSink): Promise<void>;
  send(frame: Frame): void;
}

/** What a DataServerTransport delivers: DataFrames too. */
export interface DataServerSink extends ServerSink {
  request(frame: Frame, peer: PeerId): void;
}

/** What a DataClientTransport delivers: DataFrames too. */
export interface DataClientSink extends ClientSink {
  reply(frame: Frame): void;
  broadcast(topic: string, frame: Frame): void;
}
