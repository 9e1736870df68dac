/**
 * Socket events, named as zeromq.js v6 names them so an adapter can treat both engines alike.
 * Error events carry `error` (an Error whose message is the reason) and `reason`.
 */

export type SocketEventType =
  | "bind"
  | "bind:error"
  | "accept"
  | "connect"
  | "connect:retry"
  | "handshake"
  | "handshake:error:protocol"
  | "disconnect"
  | "close"
  | "end";

export interface SocketEvent {
  type: SocketEventType;
  address?: string;
  /** Present on error events and on disconnects caused by the peer's misbehaviour. */
  error?: Error;
  reason?: string;
  /** On `connect:retry`: milliseconds until the next attempt. */
  interval?: number;
}

type Listener = (event: SocketEvent) => void;

export class SocketEvents {
  readonly #listeners = new Map<SocketEventType, Set<Listener>>();
  readonly #report: (message: string) => void;

  /** `report` receives listener failures (default `console.warn`). */
  constructor(report: (message: string) => void = (message) => console.warn(`zmtp: ${message}`)) {
    this.#report = report;
  }

  on(type: SocketEventType, listener: Listener): this {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return this;
  }

  off(type: SocketEventType, listener: Listener): this {
    this.#listeners.get(type)?.delete(listener);
    return this;
  }

  /** Resolves with the next event of `type`. */
  once(type: SocketEventType): Promise<SocketEvent> {
    return new Promise((resolve) => {
      const listener: Listener = (event) => {
        this.off(type, listener);
        resolve(event);
      };
      this.on(type, listener);
    });
  }

  emit(event: SocketEvent): void {
    const set = this.#listeners.get(event.type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        // A throwing listener must neither break the socket's I/O path nor, rethrown, take the
        // process down: it is reported and the other listeners still run.
        try {
          this.#report(`${event.type} listener threw: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        } catch {
          // A failing logger has nowhere left to report to.
        }
      }
    }
  }
}
