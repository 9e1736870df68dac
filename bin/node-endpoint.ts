/**
 * comlink's `Endpoint` over Node's worker_threads (a `Worker`, or `parentPort` inside one), which
 * are EventEmitters handing the message itself rather than a MessageEvent (comlink's own
 * node-adapter does the same; its typings do not resolve under NodeNext).
 */
import type { Endpoint } from "comlink";

interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: "message", listener: (data: unknown) => void): unknown;
  off(event: "message", listener: (data: unknown) => void): unknown;
  start?(): void;
}

export function nodeEndpoint(port: NodePort): Endpoint {
  const listeners = new WeakMap<object, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => port.postMessage(message, transfer),
    addEventListener(_type: string, handler: EventListenerOrEventListenerObject) {
      const l = (data: unknown) => {
        const event = { data } as MessageEvent;
        if ("handleEvent" in handler) handler.handleEvent(event);
        else handler(event);
      };
      port.on("message", l);
      listeners.set(handler, l);
    },
    removeEventListener(_type: string, handler: EventListenerOrEventListenerObject) {
      const l = listeners.get(handler);
      if (!l) return;
      port.off("message", l);
      listeners.delete(handler);
    },
    ...(port.start ? { start: () => port.start!() } : {}),
  };
}
