/**
 * In-process transport for tests, the simulator and single-process apps. Frames are handed over
 * as they are (zero-copy) on a microtask, so delivery is asynchronous and in order, as on a wire.
 * Frames sent in the same turn go over together on one microtask (a batch): with many calls in
 * flight, that is one event-loop hop per burst instead of one per frame.
 *
 * Budgets: a client's topic prefixes are capped in count and UTF-8 length (defaults in
 * lib/budgets.ts). Both ends share the hub, so the refusal is immediate: `subscribe` throws a
 * RangeError, counted in `hub.server.stats.refusedSubscriptions`. Nothing is queued beyond a
 * microtask, so there are no queue budgets to keep.
 */
import { DEFAULT_BUDGETS } from "../lib/budgets.ts";
import type { ClientSink, ClientTransport, PeerId, ServerSink, ServerTransport } from "../lib/transport.ts";

export interface MemoryHubOptions {
  /** Topic prefixes one client may hold; one more throws a RangeError at `subscribe`. */
  maxSubscriptionsPerPeer?: number;
  /** Longest topic prefix in UTF-8 bytes; a longer one throws a RangeError at `subscribe`. */
  maxPrefixBytes?: number;
}

export type MemoryServerStats = {
  /** Clients connected. */
  peers: number;
  /** Topic prefixes held for all clients. */
  subscriptions: number;
  /** Subscriptions refused: too many, or too long. */
  refusedSubscriptions: number;
};

export interface MemoryHub {
  /** The server side: one per hub; it may listen again after close (a restart). */
  readonly server: ServerTransport & { readonly stats: Readonly<MemoryServerStats> };
  /** A new client side; each is its own peer. */
  client(): ClientTransport;
}

interface ClientEnd {
  sink: ClientSink | undefined;
  subscriptions: Set<string>;
}

const encoder = new TextEncoder();

export function memoryHub(options: MemoryHubOptions = {}): MemoryHub {
  const maxSubscriptions = options.maxSubscriptionsPerPeer ?? DEFAULT_BUDGETS.maxSubscriptionsPerPeer;
  const maxPrefixBytes = options.maxPrefixBytes ?? DEFAULT_BUDGETS.maxPrefixBytes;
  const clients = new Map<PeerId, ClientEnd>();
  const post = new Deliveries();
  let serverSink: ServerSink | undefined;
  let nextPeer = 1;
  let refusedSubscriptions = 0;
  // Requests sent before the server listens wait for it, as ZeroMQ queues before a bind (bounded, as its high-water mark).
  const waiting: Array<[Uint8Array, PeerId]> = [];
  const maxWaiting = 10_000;

  const server: MemoryHub["server"] = {
    get stats() {
      let subscriptions = 0;
      for (const end of clients.values()) subscriptions += end.subscriptions.size;
      return { peers: clients.size, subscriptions, refusedSubscriptions };
    },
    async listen(sink) {
      if (serverSink) throw new Error("Memory server is already listening");
      serverSink = sink;
      for (const [frame, peer] of waiting.splice(0)) post.request(sink, frame, peer);
      for (const end of clients.values()) post.action(() => end.sink?.linkUp?.());
    },
    reply(peer, frame) {
      const end = clients.get(peer);
      if (end?.sink) post.reply(end, frame);
    },
    publish(topic, frame) {
      for (const end of clients.values()) {
        if (end.sink && matches(end.subscriptions, topic)) post.broadcast(end, topic, frame);
      }
    },
    async close() {
      if (!serverSink) return;
      serverSink = undefined;
      for (const end of clients.values()) post.action(() => end.sink?.linkDown?.("server closed"));
    },
  };

  /** The hub's check of a new prefix; throws, so the caller learns at once. */
  function admit(end: ClientEnd, prefix: string): void {
    // Three UTF-8 bytes per UTF-16 unit at most: encode only prefixes that might be too long.
    const bytes = prefix.length * 3 <= maxPrefixBytes ? prefix.length : encoder.encode(prefix).byteLength;
    if (bytes > maxPrefixBytes) {
      refusedSubscriptions++;
      throw new RangeError(`Topic prefix of ${bytes} bytes exceeds maxPrefixBytes ${maxPrefixBytes}`);
    }
    if (end.subscriptions.size >= maxSubscriptions && !end.subscriptions.has(prefix)) {
      refusedSubscriptions++;
      throw new RangeError(`More than maxSubscriptionsPerPeer ${maxSubscriptions} topic prefixes`);
    }
  }

  function client(): ClientTransport {
    const peer = `memory-${nextPeer++}`;
    const end: ClientEnd = { sink: undefined, subscriptions: new Set() };
    return {
      async connect(sink) {
        end.sink = sink;
        clients.set(peer, end);
      },
      send(frame) {
        if (!end.sink) throw new Error("Memory client is not connected");
        const target = serverSink;
        if (target) post.request(target, frame, peer);
        else if (waiting.length < maxWaiting) waiting.push([frame, peer]);
        else throw new Error(`Memory server is not listening and ${maxWaiting} requests are waiting`);
      },
      subscribe(prefix) {
        admit(end, prefix);
        end.subscriptions.add(prefix);
      },
      unsubscribe: (prefix) => void end.subscriptions.delete(prefix),
      async close() {
        if (!end.sink) return;
        end.sink = undefined;
        end.subscriptions.clear();
        clients.delete(peer);
        const target = serverSink;
        if (target) post.action(() => target.peerClosed?.(peer));
      },
    };
  }

  return { server, client };
}

/** One server side and one client side, joined: `const [serverSide, clientSide] = memoryPair()`. */
export function memoryPair(options: MemoryHubOptions = {}): [MemoryHub["server"], ClientTransport] {
  const hub = memoryHub(options);
  return [hub.server, hub.client()];
}

function matches(prefixes: Set<string>, topic: string): boolean {
  for (const prefix of prefixes) if (topic.startsWith(prefix)) return true;
  return false;
}

const Op = { request: 0, reply: 1, broadcast: 2, action: 3 } as const;
type Op = (typeof Op)[keyof typeof Op];

/**
 * The hub's deliveries in the order they were posted, four slots each (no closure per frame),
 * run together on one microtask. What is posted while a batch runs goes in the next batch, so a
 * batch is bounded and other microtasks get their turn in between.
 */
const settled = Promise.resolve();

class Deliveries {
  // Two arrays taking turns, written by index and cleared with fill(): they keep their storage
  // from batch to batch (`length = 0` would give it up).
  #queue: unknown[] = [];
  #length = 0;
  #spare: unknown[] = [];
  #scheduled = false;

  request(sink: ServerSink, frame: Uint8Array, peer: PeerId): void {
    this.#post(Op.request, sink, frame, peer);
  }

  /** To a client end: its sink is read on delivery, so a client closed meanwhile gets nothing. */
  reply(end: ClientEnd, frame: Uint8Array): void {
    this.#post(Op.reply, end, frame, undefined);
  }

  broadcast(end: ClientEnd, topic: string, frame: Uint8Array): void {
    this.#post(Op.broadcast, end, frame, topic);
  }

  action(run: () => void): void {
    this.#post(Op.action, run, undefined, undefined);
  }

  #post(op: Op, target: unknown, frame: Uint8Array | undefined, extra: string | undefined): void {
    const queue = this.#queue;
    const at = this.#length;
    queue[at] = op;
    queue[at + 1] = target;
    queue[at + 2] = frame;
    queue[at + 3] = extra;
    this.#length = at + 4;
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A resolved promise's reaction rather than queueMicrotask: Node wraps each queueMicrotask
    // callback in an AsyncResource and a bound function.
    void settled.then(this.#run);
  }

  readonly #run = (): void => {
    const batch = this.#queue;
    const length = this.#length;
    this.#queue = this.#spare;
    this.#length = 0;
    this.#scheduled = false;
    for (let i = 0; i < length; i += 4) {
      try {
        deliver(batch[i] as Op, batch[i + 1], batch[i + 2] as Uint8Array, batch[i + 3] as string);
      } catch (error) {
        // As when each delivery was a microtask of its own: a throwing sink is an uncaught error, and the rest still go.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    batch.fill(undefined, 0, length); // frames and sinks are not kept alive by the queue
    this.#spare = batch;
  };
}

function deliver(op: Op, target: unknown, frame: Uint8Array, extra: string): void {
  switch (op) {
    case Op.request:
      return (target as ServerSink).request(frame, extra);
    case Op.reply:
      return (target as ClientEnd).sink?.reply(frame);
    case Op.broadcast:
      return (target as ClientEnd).sink?.broadcast(extra, frame);
    case Op.action:
      return (target as () => void)();
  }
}
