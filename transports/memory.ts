/**
 * In-process transport for tests, the simulator and single-process apps. Frames are handed over
 * as they are (zero-copy) on a microtask, so delivery is asynchronous and in order, as on a wire.
 */
import type { ClientSink, ClientTransport, PeerId, ServerSink, ServerTransport } from "../lib/transport.ts";

export interface MemoryHub {
  /** The server side: one per hub; it may listen again after close (a restart). */
  readonly server: ServerTransport;
  /** A new client side; each is its own peer. */
  client(): ClientTransport;
}

interface ClientEnd {
  sink: ClientSink | undefined;
  subscriptions: Set<string>;
}

export function memoryHub(): MemoryHub {
  const clients = new Map<PeerId, ClientEnd>();
  let serverSink: ServerSink | undefined;
  let nextPeer = 1;
  // Requests sent before the server listens wait for it, as ZeroMQ queues before a bind (bounded, as its high-water mark).
  const waiting: Array<[Uint8Array, PeerId]> = [];
  const maxWaiting = 10_000;

  const server: ServerTransport = {
    async listen(sink) {
      if (serverSink) throw new Error("Memory server is already listening");
      serverSink = sink;
      for (const [frame, peer] of waiting.splice(0)) deliver(() => sink.request(frame, peer));
      for (const end of clients.values()) deliver(() => end.sink?.linkUp?.());
    },
    reply(peer, frame) {
      const end = clients.get(peer);
      if (end?.sink) deliver(() => end.sink?.reply(frame));
    },
    publish(topic, frame) {
      for (const end of clients.values()) {
        if (end.sink && matches(end.subscriptions, topic)) deliver(() => end.sink?.broadcast(topic, frame));
      }
    },
    async close() {
      if (!serverSink) return;
      serverSink = undefined;
      for (const end of clients.values()) deliver(() => end.sink?.linkDown?.("server closed"));
    },
  };

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
        if (target) deliver(() => target.request(frame, peer));
        else if (waiting.length < maxWaiting) waiting.push([frame, peer]);
        else throw new Error(`Memory server is not listening and ${maxWaiting} requests are waiting`);
      },
      subscribe: (prefix) => void end.subscriptions.add(prefix),
      unsubscribe: (prefix) => void end.subscriptions.delete(prefix),
      async close() {
        if (!end.sink) return;
        end.sink = undefined;
        clients.delete(peer);
        const target = serverSink;
        if (target) deliver(() => target.peerClosed?.(peer));
      },
    };
  }

  return { server, client };
}

/** One server side and one client side, joined: `const [serverSide, clientSide] = memoryPair()`. */
export function memoryPair(): [ServerTransport, ClientTransport] {
  const hub = memoryHub();
  return [hub.server, hub.client()];
}

function matches(prefixes: Set<string>, topic: string): boolean {
  for (const prefix of prefixes) if (topic.startsWith(prefix)) return true;
  return false;
}

function deliver(action: () => void): void {
  queueMicrotask(action);
}
