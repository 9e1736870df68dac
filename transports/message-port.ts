/**
 * Transport over anything that posts structured messages: a MessagePort (one end of a
 * MessageChannel), a Worker, a worker's global scope, Node `worker_threads` ports and workers,
 * Deno workers. One endpoint is one peer; a server may own many.
 *
 * Envelope on the port (the RPC frame itself is the opaque `f`):
 *   { tw: 1, k: "req", f }  { tw: 1, k: "rep", f }  { tw: 1, k: "pub", t, f }
 *   { tw: 1, k: "sub", t }  { tw: 1, k: "unsub", t }  { tw: 1, k: "bye" }  { tw: 1, k: "hi" }
 * Subscriptions are kept on the server side, so a worker posts only what a page asked for.
 */
import type { ClientSink, ClientTransport, PeerId, ServerTransport } from "../lib/transport.ts";

/** The `postMessage` + listener pair of a port or worker: Web style or Node EventEmitter style. */
export type Endpoint =
  | {
      postMessage(message: unknown): void;
      addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
      removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
      start?(): void;
    }
  | {
      postMessage(message: unknown): void;
      on(type: "message", listener: (data: unknown) => void): unknown;
      off(type: "message", listener: (data: unknown) => void): unknown;
    };

type Envelope =
  | { tw: 1; k: "req" | "rep"; f: Uint8Array }
  | { tw: 1; k: "pub"; t: string; f: Uint8Array }
  | { tw: 1; k: "sub" | "unsub"; t: string }
  | { tw: 1; k: "bye" | "hi" };

/** Listen on `endpoint`; returns the function that stops listening. */
function listen(endpoint: Endpoint, onEnvelope: (envelope: Envelope) => void): () => void {
  const accept = (data: unknown) => {
    // Messages that are not ours (other libraries may share a worker) are ignored.
    if (isEnvelope(data)) onEnvelope(data);
  };
  // Node ports offer both styles; its EventEmitter style skips building a MessageEvent per message.
  if ("on" in endpoint) {
    endpoint.on("message", accept);
    return () => void endpoint.off("message", accept);
  }
  const listener = (event: MessageEvent) => accept(event.data);
  endpoint.addEventListener("message", listener);
  endpoint.start?.();
  return () => endpoint.removeEventListener("message", listener);
}

function isEnvelope(data: unknown): data is Envelope {
  if (typeof data !== "object" || data === null || (data as { tw?: unknown }).tw !== 1) return false;
  const { k, f, t } = data as { k?: unknown; f?: unknown; t?: unknown };
  switch (k) {
    case "req":
    case "rep":
      return f instanceof Uint8Array;
    case "pub":
      return f instanceof Uint8Array && typeof t === "string";
    case "sub":
    case "unsub":
      return typeof t === "string";
    case "bye":
    case "hi":
      return true;
    default:
      return false;
  }
}

export interface MessagePortServer extends ServerTransport {
  /** Serve one more endpoint (e.g. a port a new page sent over); returns its peer id. */
  addEndpoint(endpoint: Endpoint): PeerId;
  /**
   * close() keeps listening on the ports (requests are ignored until listen() again), so a
   * restarted server serves the same clients; detach() removes its listeners for good.
   */
  detach(): Promise<void>;
}

interface Peer {
  endpoint: Endpoint;
  subscriptions: Set<string>;
  /** Removes the port's listener; undefined until listen() attaches it. */
  stop: (() => void) | undefined;
}

export function messagePortServer(endpoints: Endpoint | Endpoint[] = []): MessagePortServer {
  // Peers outlive close(): a restarted server serves the same ports, subscriptions included.
  const peers = new Map<PeerId, Peer>();
  let sink: Parameters<ServerTransport["listen"]>[0] | undefined;
  let nextPeer = 1;

  function addEndpoint(endpoint: Endpoint): PeerId {
    const id = `port-${nextPeer++}`;
    peers.set(id, { endpoint, subscriptions: new Set(), stop: undefined });
    if (sink) attach(id);
    return id;
  }

  /**
   * Start taking messages from a port. Deferred to listen(): a port queues what arrives before
   * its listener exists, so no request is lost to a server that is not listening yet.
   */
  function attach(id: PeerId): void {
    const peer = peers.get(id);
    if (!peer || peer.stop) return;
    peer.stop = listen(peer.endpoint, (envelope) => {
      switch (envelope.k) {
        case "req":
          sink?.request(envelope.f, id);
          break;
        case "sub":
          peer.subscriptions.add(envelope.t);
          break;
        case "unsub":
          peer.subscriptions.delete(envelope.t);
          break;
        case "bye":
          // The client left; the port stays served, as a client may start again on it.
          peer.subscriptions.clear();
          sink?.peerClosed?.(id);
          break;
      }
    });
  }

  for (const endpoint of Array.isArray(endpoints) ? endpoints : [endpoints]) addEndpoint(endpoint);

  return {
    addEndpoint,
    async listen(next) {
      sink = next;
      for (const id of peers.keys()) attach(id);
      // Tell clients the server is (back) here: a client that heard "bye" waits for this.
      for (const peer of peers.values()) peer.endpoint.postMessage({ tw: 1, k: "hi" } satisfies Envelope);
    },
    reply(peer, frame) {
      if (sink) peers.get(peer)?.endpoint.postMessage({ tw: 1, k: "rep", f: frame } satisfies Envelope);
    },
    publish(topic, frame) {
      if (!sink) return;
      for (const peer of peers.values()) {
        for (const prefix of peer.subscriptions) {
          if (!topic.startsWith(prefix)) continue;
          peer.endpoint.postMessage({ tw: 1, k: "pub", t: topic, f: frame } satisfies Envelope);
          break;
        }
      }
    },
    async close() {
      if (!sink) return;
      sink = undefined;
      for (const peer of peers.values()) peer.endpoint.postMessage({ tw: 1, k: "bye" } satisfies Envelope);
    },
    /** Stop listening on every port for good (the ports themselves belong to the caller). */
    async detach() {
      sink = undefined;
      for (const peer of peers.values()) peer.stop?.();
      peers.clear();
    },
  };
}

export function messagePortClient(endpoint: Endpoint): ClientTransport {
  let stop: (() => void) | undefined;
  let sink: ClientSink | undefined;
  const post = (envelope: Envelope) => endpoint.postMessage(envelope);
  return {
    async connect(next) {
      sink = next;
      stop = listen(endpoint, (envelope) => {
        if (envelope.k === "rep") sink?.reply(envelope.f);
        else if (envelope.k === "pub") sink?.broadcast(envelope.t, envelope.f);
        else if (envelope.k === "bye") sink?.linkDown?.("server closed the port");
        else if (envelope.k === "hi") sink?.linkUp?.();
      });
    },
    send(frame) {
      if (!stop) throw new Error("MessagePort client is not connected");
      post({ tw: 1, k: "req", f: frame });
    },
    subscribe: (prefix) => post({ tw: 1, k: "sub", t: prefix }),
    unsubscribe: (prefix) => post({ tw: 1, k: "unsub", t: prefix }),
    async close() {
      if (!stop) return;
      post({ tw: 1, k: "bye" });
      stop();
      stop = undefined;
      sink = undefined;
    },
  };
}
