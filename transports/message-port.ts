/**
 * Transport over anything that posts structured messages: a MessagePort (one end of a
 * MessageChannel), a Worker, a worker's global scope, Node `worker_threads` ports and workers,
 * Deno workers. One endpoint is one peer; a server may own many.
 *
 * Envelope on the port (the RPC frame itself is the opaque `f`, or the message array `m`):
 *   { tw: 1, k: "req", f | m }  { tw: 1, k: "rep", f | m }  { tw: 1, k: "pub", t, f | m }
 *   { tw: 1, k: "sub", t }  { tw: 1, k: "unsub", t }  { tw: 1, k: "bye" }  { tw: 1, k: "hi", d? }
 * Subscriptions are kept on the server side, so a worker posts only what a page asked for.
 *
 * Messages as data: the port clones what it carries anyway, so MessagePack on both sides is
 * work for nothing. The client says `{ k: "hi", d: 1 }` when it connects and the server says it
 * when it listens (and answers a client's hi with it): each side posts plain messages as `m`
 * (structured clone; lib/data-frame.ts says what counts as plain and how the budgets estimate
 * their bytes) only to a side that said `d: 1`, and MessagePack bytes `f` otherwise, so an
 * older peer, which never says it, is served as before. Either side takes both at any time.
 *
 * Budgets: topic prefixes are capped in count and UTF-8 length (defaults in lib/budgets.ts). The
 * client throws a RangeError at `subscribe` for what the server would refuse; the server
 * ignores whatever still arrives and counts it in `stats.refusedSubscriptions`. A port has no
 * send queue to watch (`postMessage` never pushes back), so there are no queue budgets here:
 * both ends are in one program or one origin.
 */
import { DEFAULT_BUDGETS } from "../lib/budgets.ts";
import { DataFrame, type Frame } from "../lib/data-frame.ts";
import type { DataClientSink, DataClientTransport, DataServerSink, DataServerTransport, PeerId } from "../lib/transport.ts";

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

/** A frame on the port: MessagePack bytes, or (to a side that said `d: 1`) the message itself. */
type Carried = { f: Uint8Array; m?: undefined } | { m: unknown[]; f?: undefined };

type Envelope =
  | ({ tw: 1; k: "req" | "rep" } & Carried)
  | ({ tw: 1; k: "pub"; t: string } & Carried)
  | { tw: 1; k: "sub" | "unsub"; t: string }
  | { tw: 1; k: "bye" }
  | { tw: 1; k: "hi"; d?: 1 };

/**
 * The envelope of a frame: its message to a side that takes data, else bytes that are the
 * frame's own (not a view of a pool slab, which the port would copy whole).
 */
function frameEnvelope(k: "req" | "rep", frame: Frame, takesData: boolean): Envelope {
  if (!(frame instanceof DataFrame)) return { tw: 1, k, f: ownBytes(frame) };
  return takesData ? { tw: 1, k, m: frame.message as unknown[] } : { tw: 1, k, f: ownBytes(frame.encoded()) };
}

function pubEnvelope(t: string, frame: Frame, takesData: boolean): Envelope {
  if (!(frame instanceof DataFrame)) return { tw: 1, k: "pub", t, f: ownBytes(frame) };
  return takesData ? { tw: 1, k: "pub", t, m: frame.message as unknown[] } : { tw: 1, k: "pub", t, f: ownBytes(frame.encoded()) };
}

function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/** The frame an envelope carries, as the core takes it. */
function frameIn(envelope: Carried): Frame {
  return envelope.f ?? new DataFrame(envelope.m);
}

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

/** Call `onClosed` when the endpoint emits "close"; returns the function that stops listening. */
function onClose(endpoint: Endpoint, onClosed: () => void): () => void {
  const target = endpoint as unknown as {
    on?(type: "close", listener: () => void): unknown;
    off?(type: "close", listener: () => void): unknown;
    addEventListener?(type: "close", listener: () => void): void;
    removeEventListener?(type: "close", listener: () => void): void;
  };
  const listener = () => onClosed();
  if (typeof target.on === "function" && typeof target.off === "function") {
    target.on("close", listener);
    return () => void target.off?.("close", listener);
  }
  if (typeof target.addEventListener === "function") {
    target.addEventListener("close", listener);
    return () => target.removeEventListener?.("close", listener);
  }
  return () => {};
}

function isEnvelope(data: unknown): data is Envelope {
  if (typeof data !== "object" || data === null || (data as { tw?: unknown }).tw !== 1) return false;
  const { k, f, m, t } = data as { k?: unknown; f?: unknown; m?: unknown; t?: unknown };
  switch (k) {
    case "req":
    case "rep":
      return f instanceof Uint8Array ? m === undefined : Array.isArray(m) && f === undefined;
    case "pub":
      return typeof t === "string" && (f instanceof Uint8Array ? m === undefined : Array.isArray(m) && f === undefined);
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

/** Topic prefix budgets, for either side; defaults from `DEFAULT_BUDGETS`. */
export interface MessagePortOptions {
  /** Topic prefixes one peer may hold. */
  maxSubscriptionsPerPeer?: number;
  /** Longest topic prefix in UTF-8 bytes. */
  maxPrefixBytes?: number;
}

export type MessagePortServerStats = {
  /** Endpoints served. */
  peers: number;
  /** Topic prefixes held for all endpoints. */
  subscriptions: number;
  /** Subscriptions ignored: one too many for the peer, or too long. */
  refusedSubscriptions: number;
};

export interface MessagePortServer extends DataServerTransport {
  /**
   * Serve one more endpoint (e.g. a port a new page sent over); returns its peer id. An
   * endpoint that emits "close" (Node's MessagePort, recent browsers' ports) is removed when it
   * does; call `removeEndpoint` for the others once they are done.
   */
  addEndpoint(endpoint: Endpoint): PeerId;
  /** Stop serving one endpoint and free its state; its calls are aborted. Unknown ids are ignored. */
  removeEndpoint(peer: PeerId): void;
  readonly stats: Readonly<MessagePortServerStats>;
  /**
   * close() keeps listening on the ports (requests are ignored until listen() again), so a
   * restarted server serves the same clients; detach() removes its listeners for good.
   */
  detach(): Promise<void>;
}

interface Peer {
  endpoint: Endpoint;
  subscriptions: Set<string>;
  /** The client said it takes messages as data (`hi` with `d: 1`). */
  takesData: boolean;
  /** Removes the port's listener; undefined until listen() attaches it. */
  stop: (() => void) | undefined;
  /** Removes the port's "close" listener. */
  forget: () => void;
}

const encoder = new TextEncoder();

/** Both sides' hello: "here, and I take messages as data". */
const HELLO: Envelope = { tw: 1, k: "hi", d: 1 };

/** UTF-8 length of a prefix, encoding only those that might be longer than `max`. */
function utf8Length(text: string, max: number): number {
  return text.length * 3 <= max ? text.length : encoder.encode(text).byteLength;
}

export function messagePortServer(endpoints: Endpoint | Endpoint[] = [], options: MessagePortOptions = {}): MessagePortServer {
  const maxSubscriptions = options.maxSubscriptionsPerPeer ?? DEFAULT_BUDGETS.maxSubscriptionsPerPeer;
  const maxPrefixBytes = options.maxPrefixBytes ?? DEFAULT_BUDGETS.maxPrefixBytes;
  // Peers outlive close(): a restarted server serves the same ports, subscriptions included.
  const peers = new Map<PeerId, Peer>();
  let sink: DataServerSink | undefined;
  let nextPeer = 1;
  let refusedSubscriptions = 0;

  function addEndpoint(endpoint: Endpoint): PeerId {
    const id = `port-${nextPeer++}`;
    const forget = onClose(endpoint, () => removeEndpoint(id));
    peers.set(id, { endpoint, subscriptions: new Set(), takesData: false, stop: undefined, forget });
    if (sink) attach(id);
    return id;
  }

  function removeEndpoint(id: PeerId): void {
    const peer = peers.get(id);
    if (!peer) return;
    peers.delete(id);
    peer.stop?.();
    peer.forget();
    sink?.peerClosed?.(id);
  }

  function subscribe(peer: Peer, prefix: string): void {
    if (peer.subscriptions.has(prefix)) return;
    if (peer.subscriptions.size >= maxSubscriptions || utf8Length(prefix, maxPrefixBytes) > maxPrefixBytes) {
      // Our client refuses these itself: whoever sent it is not our client, so it is not told.
      refusedSubscriptions++;
      return;
    }
    peer.subscriptions.add(prefix);
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
          sink?.request(frameIn(envelope), id);
          break;
        case "hi":
          // A client that connects says whether it takes data; it hears the same from us.
          peer.takesData = envelope.d === 1;
          if (sink) peer.endpoint.postMessage(HELLO);
          break;
        case "sub":
          subscribe(peer, envelope.t);
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
    carriesData: true,
    addEndpoint,
    removeEndpoint,
    get stats() {
      let subscriptions = 0;
      for (const peer of peers.values()) subscriptions += peer.subscriptions.size;
      return { peers: peers.size, subscriptions, refusedSubscriptions };
    },
    async listen(next) {
      sink = next;
      for (const id of peers.keys()) attach(id);
      // Tell clients the server is (back) here: a client that heard "bye" waits for this.
      for (const peer of peers.values()) peer.endpoint.postMessage(HELLO);
    },
    reply(id, frame) {
      if (!sink) return;
      const peer = peers.get(id);
      peer?.endpoint.postMessage(frameEnvelope("rep", frame, peer.takesData));
    },
    publish(topic, frame) {
      if (!sink) return;
      for (const peer of peers.values()) {
        for (const prefix of peer.subscriptions) {
          if (!topic.startsWith(prefix)) continue;
          peer.endpoint.postMessage(pubEnvelope(topic, frame, peer.takesData));
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
      for (const peer of peers.values()) {
        peer.stop?.();
        peer.forget();
      }
      peers.clear();
    },
  };
}

/** The client side; `subscribe` throws a RangeError for what the server's budgets (`options`) refuse. */
export function messagePortClient(endpoint: Endpoint, options: MessagePortOptions = {}): DataClientTransport {
  const maxSubscriptions = options.maxSubscriptionsPerPeer ?? DEFAULT_BUDGETS.maxSubscriptionsPerPeer;
  const maxPrefixBytes = options.maxPrefixBytes ?? DEFAULT_BUDGETS.maxPrefixBytes;
  // Our own count of the server's view: the server keeps subscriptions until "bye" or unsubscribe.
  const topics = new Set<string>();
  let stop: (() => void) | undefined;
  let sink: DataClientSink | undefined;
  /** The server said it takes messages as data. */
  let serverTakesData = false;
  const post = (envelope: Envelope) => endpoint.postMessage(envelope);
  return {
    carriesData: true,
    async connect(next) {
      sink = next;
      stop = listen(endpoint, (envelope) => {
        if (envelope.k === "rep") sink?.reply(frameIn(envelope));
        else if (envelope.k === "pub") sink?.broadcast(envelope.t, frameIn(envelope));
        else if (envelope.k === "bye") {
          serverTakesData = false;
          sink?.linkDown?.("server closed the port");
        } else if (envelope.k === "hi") {
          serverTakesData = envelope.d === 1;
          sink?.linkUp?.();
        }
      });
      post(HELLO);
    },
    send(frame) {
      if (!stop) throw new Error("MessagePort client is not connected");
      post(frameEnvelope("req", frame, serverTakesData));
    },
    subscribe(prefix) {
      if (!topics.has(prefix)) {
        const bytes = utf8Length(prefix, maxPrefixBytes);
        if (bytes > maxPrefixBytes) throw new RangeError(`Topic prefix of ${bytes} bytes exceeds maxPrefixBytes ${maxPrefixBytes}`);
        if (topics.size >= maxSubscriptions) throw new RangeError(`More than maxSubscriptionsPerPeer ${maxSubscriptions} topic prefixes`);
        topics.add(prefix);
      }
      post({ tw: 1, k: "sub", t: prefix });
    },
    unsubscribe(prefix) {
      topics.delete(prefix);
      post({ tw: 1, k: "unsub", t: prefix });
    },
    async close() {
      if (!stop) return;
      topics.clear(); // the server forgets them on "bye"
      post({ tw: 1, k: "bye" });
      stop();
      stop = undefined;
      sink = undefined;
      serverTakesData = false;
    },
  };
}
