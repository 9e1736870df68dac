/**
 * The WebSocket side of the web door: tradewire's own two channels, so a browser `RpcClient`
 * with `websocketClient(url)` talks to the deployment as a strategy does over ZeroMQ.
 *
 * The bridge is an `RpcServer` (on `websocketServer()`, with its budgets) towards browsers and an
 * `RpcClient` upstream. Each RPC function of the service is registered here as a handler that
 * checks the caller's role, validates the arguments and forwards the call. Topics: a browser's
 * subscription is checked against its role's prefixes before the transport sees it, and the
 * bridge subscribes upstream only to prefixes some browser holds (counted, dropped with the last
 * one), republishing each upstream event once; the transport delivers it only to the sockets
 * whose prefixes match. Local topics: `$tw.` (the bridge's own heartbeats) and `web.` (the
 * bridge's word on the upstream link, `web.upstream`) never go upstream. When the service
 * restarts, the browser side restarts too (a new epoch), so browser gateways reload.
 */
import * as v from "valibot";
import { RpcError, RpcServer, type CallContext, type Logger, type PeerId, type RpcClient } from "../lib/index.ts";
import { publishOptions } from "../sim/rpc-service.ts";
import { websocketServer, type WebSocketLike, type WebSocketServerOptions, type WebSocketServerTransport } from "../transports/websocket.ts";
import type { Auth, Session } from "./auth.ts";
import { FUNCTION_INPUTS, issuesText } from "./schemas.ts";

/** Topics of the bridge itself. */
export const UPSTREAM_TOPIC = "web.upstream";
const LOCAL_PREFIXES = ["$", "web."];
/** The longest timer Node and browsers keep. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The door holds one upstream subscriber for all browsers, and the service caps the prefixes one
 * subscriber may hold (1 000): so one browser may hold at most a few dozen, and all browsers
 * together stay under the service's cap, or one user could silently starve the others.
 */
export const MAX_PREFIXES_PER_BROWSER = 64;
export const MAX_RELAYED_PREFIXES = 900;
const SUBSCRIBE = 4;
const UNSUBSCRIBE = 5;
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface RelayOptions {
  auth: Auth;
  upstream: RpcClient;
  /** Largest frame a browser may send or be sent. Default 1 MiB. */
  maxMessageBytes?: number;
  /** The WebSocket server's budgets (connections, queues, subscriptions…). */
  websocket?: Omit<WebSocketServerOptions, "maxMessageBytes">;
  /** Deadline of a forwarded call, at most. Default 10 000 ms. */
  callTimeoutMs?: number;
  logger?: Logger;
}

interface Peer {
  session: Session;
  topics: Set<string>;
  expiry: ReturnType<typeof setTimeout> | undefined;
}

function isLocal(prefix: string): boolean {
  return LOCAL_PREFIXES.some((local) => prefix.startsWith(local));
}

function bytesOf(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export class WebSocketRelay {
  readonly transport: WebSocketServerTransport;
  readonly server: RpcServer;
  readonly #auth: Auth;
  readonly #upstream: RpcClient;
  readonly #callTimeoutMs: number;
  readonly #peers = new Map<PeerId, Peer>();
  /** Upstream prefix → how many browsers hold it, and what undoes the upstream subscription. */
  readonly #relayed = new Map<string, { holders: number; off: () => void }>();
  readonly #listeners: Array<() => void> = [];

  constructor(options: RelayOptions) {
    const maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
    this.#auth = options.auth;
    this.#upstream = options.upstream;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.transport = websocketServer({ ...options.websocket, maxMessageBytes });
    this.server = new RpcServer({ transport: this.transport, maxMessageBytes, ...(options.logger ? { logger: options.logger } : {}) });
    for (const fn of Object.keys(FUNCTION_INPUTS)) this.server.register(fn, (...args: unknown[]) => this.#forward(fn, args));
    this.server.register("webStatus", (ctx: CallContext) => {
      const peer = this.#peers.get(ctx.peer);
      return { upstream: this.#upstream.state, user: peer?.session.user ?? null, role: peer?.session.role ?? null };
    });
    const tell = (state: string, reason?: string) => this.#publish(UPSTREAM_TOPIC, { state, ...(reason ? { reason } : {}) });
    this.#listeners.push(
      this.#upstream.on("connected", () => tell("connected")),
      this.#upstream.on("disconnected", (reason) => tell("disconnected", reason)),
      this.#upstream.on("restart", () => {
        tell("restarted");
        void this.#renew();
      }),
    );
  }

  /**
   * The service restarted: what browsers hold (orders, trades, positions) came from its previous
   * run. Restarting the browser-side server gives it a new epoch, so each browser client sees a
   * restart too (an RpcGateway reloads its state); their sockets are closed (1001) and they
   * reconnect by themselves, with their tokens. Upstream gaps are not passed on this way (see
   * the README): a core change would let the relay forward them.
   */
  async #renew(): Promise<void> {
    if (!this.server.running) return;
    try {
      await this.server.stop();
      if (this.#listeners.length > 0) await this.server.start(); // not if the relay stopped meanwhile
    } catch {
      // start() failing leaves the door without a WebSocket side; its REST side is unaffected
    }
  }

  /** What the socket library must be told as its message limit (ws: `maxPayload`). */
  get maxPayload(): number {
    return this.transport.maxPayload;
  }

  get connections(): number {
    return this.#peers.size;
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    for (const off of this.#listeners.splice(0)) off();
    await this.server.stop();
    for (const peer of this.#peers.values()) clearTimeout(peer.expiry);
    this.#peers.clear();
    for (const { off } of this.#relayed.values()) off();
    this.#relayed.clear();
  }

  /**
   * Serve an upgraded socket for an authenticated session; returns its peer id, or undefined
   * when a connection budget refused it. The socket is closed (1008) when the token expires;
   * a client that reconnects with a fresh token goes on.
   */
  accept(socket: WebSocketLike, info: { address?: string | undefined; session: Session }): PeerId | undefined {
    let id: PeerId | undefined;
    const peerState: Peer = { session: info.session, topics: new Set(), expiry: undefined };
    const guarded = this.#guard(socket, () => id);
    id = this.transport.accept(guarded, { address: info.address });
    if (id === undefined) return undefined;
    const peerId = id;
    this.#peers.set(peerId, peerState);
    const left = Math.min(info.session.exp * 1000 - Date.now(), MAX_TIMER_MS);
    peerState.expiry = setTimeout(() => socket.close(1008, "token expired"), Math.max(left, 0));
    (peerState.expiry as { unref?: () => void }).unref?.();
    socket.addEventListener("close", () => this.#forget(peerId));
    return peerId;
  }

  /**
   * The socket as the transport sees it, with subscriptions checked first: one the role may not
   * hold closes the socket (1008) before the transport records it; one the transport keeps is
   * counted for the upstream subscription. Everything else passes through untouched (the
   * transport reads the `ws` socket's own limits through it too).
   */
  #guard(socket: WebSocketLike, peerId: () => PeerId | undefined): WebSocketLike {
    const onMessage = (listener: (event: { data?: unknown }) => void) => (event: { data?: unknown }) => {
      const bytes = bytesOf(event.data);
      const kind = bytes?.[0];
      if (!bytes || (kind !== SUBSCRIBE && kind !== UNSUBSCRIBE)) return listener(event);
      let topic: string;
      try {
        topic = decoder.decode(bytes.subarray(1));
      } catch {
        return listener(event); // the transport closes it for that
      }
      const id = peerId();
      const peer = id === undefined ? undefined : this.#peers.get(id);
      if (!peer) return socket.close(1008, "not accepted");
      if (kind === SUBSCRIBE && !isLocal(topic) && !this.#auth.maySubscribe(peer.session.role, topic)) {
        return socket.close(1008, `role ${peer.session.role} may not subscribe to "${topic.slice(0, 64)}"`);
      }
      if (kind === SUBSCRIBE && !isLocal(topic) && !peer.topics.has(topic)) {
        if (peer.topics.size >= MAX_PREFIXES_PER_BROWSER) {
          return socket.close(1008, `at most ${MAX_PREFIXES_PER_BROWSER} topic prefixes per socket at this door`);
        }
        if (!this.#relayed.has(topic) && this.#relayed.size >= MAX_RELAYED_PREFIXES) {
          return socket.close(1013, "the door holds as many distinct topic prefixes as it may: try again later");
        }
      }
      listener(event);
      if (kind === UNSUBSCRIBE) this.#drop(peer, topic);
      else if (socket.readyState === 1) this.#hold(peer, topic); // still open: the transport kept it
    };
    return new Proxy(socket, {
      get(target, property) {
        if (property === "addEventListener") {
          return (type: string, listener: (event: { data?: unknown }) => void) =>
            target.addEventListener(type as "message", type === "message" ? onMessage(listener) : listener);
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
      set(target, property, value) {
        return Reflect.set(target, property, value, target);
      },
    });
  }

  #hold(peer: Peer, topic: string): void {
    if (peer.topics.has(topic)) return;
    peer.topics.add(topic);
    if (isLocal(topic)) return;
    const relayed = this.#relayed.get(topic);
    if (relayed) {
      relayed.holders++;
      return;
    }
    const off = this.#upstream.subscribe(topic, (name, data) => this.#relay(topic, name, data));
    this.#relayed.set(topic, { holders: 1, off });
  }

  #drop(peer: Peer, topic: string): void {
    if (!peer.topics.delete(topic) || isLocal(topic)) return;
    const relayed = this.#relayed.get(topic);
    if (!relayed) return;
    if (--relayed.holders > 0) return;
    relayed.off();
    this.#relayed.delete(topic);
  }

  #forget(id: PeerId): void {
    const peer = this.#peers.get(id);
    if (!peer) return;
    this.#peers.delete(id);
    clearTimeout(peer.expiry);
    for (const topic of [...peer.topics]) this.#drop(peer, topic);
  }

  /**
   * An upstream event arrives once for each of our prefixes it matches: publish it from the
   * shortest of them only. The transport then sends it to every socket whose prefixes match.
   */
  #relay(prefix: string, topic: string, data: unknown): void {
    for (let length = 0; length < prefix.length; length++) if (this.#relayed.has(prefix.slice(0, length))) return;
    this.#publish(topic, data);
  }

  #publish(topic: string, data: unknown): void {
    if (!this.server.running) return;
    try {
      this.server.publish(topic, data, publishOptions({ type: topic, data }));
    } catch {
      // Too large for the browser side's maxMessageBytes: that event is not relayed; the rest go on.
    }
  }

  async #forward(fn: string, argsAndContext: unknown[]): Promise<unknown> {
    const ctx = argsAndContext.at(-1) as CallContext;
    const args = argsAndContext.slice(0, -1);
    const peer = this.#peers.get(ctx.peer);
    if (!peer) throw new RpcError("UNAUTHENTICATED", "Not logged in");
    const { session } = peer;
    if (session.exp * 1000 <= Date.now()) throw new RpcError("UNAUTHENTICATED", "Token expired: log in again");
    if (!this.#auth.mayCall(session.role, fn)) throw new RpcError("PERMISSION_DENIED", `Role ${session.role} may not call ${fn}`);
    const parsed = v.safeParse(FUNCTION_INPUTS[fn]!, args);
    if (!parsed.success) throw new RpcError("INVALID_ARGUMENT", issuesText(parsed.issues));
    // The user rides along in the metadata, for the service's audit; the browser cannot set it.
    const meta = { ...ctx.meta, webUser: session.user };
    return this.#upstream.call(fn, parsed.output as unknown[], { signal: ctx.signal, timeoutMs: this.#callTimeoutMs, meta });
  }
}
