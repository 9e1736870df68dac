import type { Frame } from "./data-frame.ts";
import type { ClientTransport, DataClientTransport, DataServerTransport, PeerId, ServerTransport } from "./transport.ts";

export type Direction = "in" | "out";
/** request: client → server; reply: server → client; broadcast: server → subscribers. */
export type Channel = "request" | "reply" | "broadcast";

/** One frame passing through a wrapped transport, seen from the wrapped side. */
export interface FrameEvent {
  direction: Direction;
  channel: Channel;
  /** Codec bytes, or a DataFrame over a transport that carries data (MessagePort): `byteLength` is then an estimate. */
  frame: Frame;
  /** Broadcasts only. */
  topic?: string;
  /** Server side only: the peer the frame came from or goes to. */
  peer?: PeerId;
}

/** Decides a frame's fate: call `forward()` now, later, or never. Must not throw. */
export type FrameFilter = (event: FrameEvent, forward: () => void) => void;

export type AnyTransport = ServerTransport | ClientTransport;

export function isServerTransport(transport: AnyTransport): transport is ServerTransport {
  return "listen" in transport;
}

/**
 * Wrap a transport so every frame, in both directions, passes through `filter`. The building
 * block of the fault injector and the wire tap (an interceptor: `next => next`). Everything
 * else the transport offers (`accept`, `addEndpoint`, stats…) stays reachable on the result,
 * and `extras` are added to it.
 */
export function intercept<T extends AnyTransport, E extends object = object>(
  transport: T,
  filter: FrameFilter,
  extras?: E & { onClose?: () => void },
): T & E {
  const wrapped: AnyTransport = isServerTransport(transport) ? interceptServer(transport, filter) : interceptClient(transport, filter);
  const overrides: Record<PropertyKey, unknown> = { ...wrapped };
  const { onClose, ...rest } = extras ?? ({} as E & { onClose?: () => void });
  Object.assign(overrides, rest);
  if (onClose) {
    const close = overrides["close"] as () => Promise<void>;
    overrides["close"] = async () => {
      onClose();
      await close();
    };
  }
  return new Proxy(transport, {
    get(target, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property];
      const value: unknown = Reflect.get(target, property, target);
      // Methods run against the real transport, so classes with private fields keep working.
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as T & E;
}

// The wrappers take DataFrames as data transports do; whether the transport carries data is the
// wrapped one's to say (`carriesData` is read through the proxy in intercept()).
function interceptServer(outer: ServerTransport, filter: FrameFilter): ServerTransport {
  const inner = outer as DataServerTransport;
  const wrapped: Omit<DataServerTransport, "carriesData"> = {
    listen: (sink) =>
      inner.listen({
        request: (frame, peer) => filter({ direction: "in", channel: "request", frame, peer }, () => sink.request(frame, peer)),
        ...(sink.peerClosed ? { peerClosed: (peer: PeerId) => sink.peerClosed?.(peer) } : {}),
      }),
    reply: (peer, frame) => filter({ direction: "out", channel: "reply", frame, peer }, () => inner.reply(peer, frame)),
    publish: (topic, frame, latestValue) =>
      filter({ direction: "out", channel: "broadcast", frame, topic }, () => inner.publish(topic, frame, latestValue)),
    close: () => inner.close(),
  };
  return wrapped;
}

function interceptClient(outer: ClientTransport, filter: FrameFilter): ClientTransport {
  const inner = outer as DataClientTransport;
  const wrapped: Omit<DataClientTransport, "carriesData"> = {
    connect: (sink) =>
      inner.connect({
        reply: (frame) => filter({ direction: "in", channel: "reply", frame }, () => sink.reply(frame)),
        broadcast: (topic, frame) => filter({ direction: "in", channel: "broadcast", frame, topic }, () => sink.broadcast(topic, frame)),
        linkDown: (reason) => sink.linkDown?.(reason),
        linkUp: () => sink.linkUp?.(),
      }),
    send: (frame) => filter({ direction: "out", channel: "request", frame }, () => inner.send(frame)),
    subscribe: (prefix) => inner.subscribe(prefix),
    unsubscribe: (prefix) => inner.unsubscribe(prefix),
    close: () => inner.close(),
  };
  return wrapped;
}

