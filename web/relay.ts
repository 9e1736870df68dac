/**
 * The WebSocket side of the web door: tradewire's own two channels, so a browser `RpcClient`
 * with `websocketClient(url)` talks to the deployment as a strategy does over ZeroMQ.
 *
 * Towards browsers the bridge is one `RpcServer` (on its own `websocketServer()`, with its
 * budgets) per group of users holding the same accounts (accounts.ts), and upstream one
 * `RpcClient`. Each group's server numbers only the events its users may see, so a browser's
 * gap detection, heartbeats and `$tw.streams` snapshots hold its own accounts' streams only:
 * nobody sees a jump for someone else's orders, or learns that they exist.
 *
 * Calls: each RPC function of the service is registered as a handler that checks the caller's
 * role, validates the arguments and forwards the call as the user's accounts allow
 * (owned-calls.ts). Topics: a browser's subscription is checked against its role's prefixes
 * before the transport sees it, and the bridge subscribes upstream only to prefixes some browser
 * holds (counted, dropped with the last one), republishing each upstream event once into each
 * group that may see it (market data: every group; orders, trades, positions, accounts and logs:
 * the groups holding their gateway); each group's transport delivers it only to the sockets
 * whose prefixes match. Local topics: `$tw.` (heartbeats) and `web.` (the bridge's word on the
 * upstream link, `web.upstream`) never go upstream.
 *
 * Losses upstream reach browsers as losses: a gap the upstream client reports (and an upstream
 * outage) skips as many sequence numbers of that stream in each group that follows it, so a
 * browser's client reports a gap of its own and an RpcGateway there reloads. When the service
 * restarts, the browser side restarts too (a new epoch), so browser gateways reload.
 */
import * as v from "valibot";
import { DEFAULT_BUDGETS, RpcError, RpcServer, type CallContext, type Logger, type PeerId, type RpcClient } from "../lib/index.ts";
import { EVENT_TICK } from "../sim/event.ts";
import { publishOptions } from "../sim/rpc-service.ts";
import { bytesOf, websocketServer, type WebSocketLike, type WebSocketServerOptions, type WebSocketServerTransport } from "../transports/websocket.ts";
import { EVERY_ACCOUNT, Holdings } from "./accounts.ts";
import type { Auth, Session } from "./auth.ts";
import { callOwned } from "./owned-calls.ts";
import { FUNCTION_INPUTS, issuesText } from "./schemas.ts";

/** Topics of the bridge itself. */
export const UPSTREAM_TOPIC = "web.upstream";
const LOCAL_PREFIXES = ["$", "web."];
/** Most sequence numbers one upstream gap skips on a stream (the count a browser is told is at most this). */
export const MAX_SKIPPED_PER_GAP = 10_000;
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
  /**
   * The WebSocket budgets: connections in all and per address count every socket of the door;
   * the queue and subscription budgets hold per group of users with the same accounts.
   */
  websocket?: Omit<WebSocketServerOptions, "maxMessageBytes">;
  /** Deadline of a forwarded call, at most. Default 10 000 ms. */
  callTimeoutMs?: number;
  logger?: Logger;
}

interface Peer {
  session: Session;
  address: string | undefined;
  topics: Set<string>;
  expiry: ReturnType<typeof setTimeout> | undefined;
}

/** The browsers of users holding the same accounts, with the server that numbers their events. */
interface Audience {
  readonly holdings: Holdings;
  readonly transport: WebSocketServerTransport;
  readonly server: RpcServer;
  readonly peers: Map<PeerId, Peer>;
}

function isLocal(prefix: string): boolean {
  return LOCAL_PREFIXES.some((local) => prefix.startsWith(local));
}

export class WebSocketRelay {
  readonly #auth: Auth;
  readonly #upstream: RpcClient;
  readonly #callTimeoutMs: number;
  readonly #maxConnections: number;
  readonly #maxPerAddress: number;
  /** Holdings key → the group's browsers and server. */
  readonly #audiences = new Map<string, Audience>();
  /** Upstream prefix → how many browsers hold it, and what undoes the upstream subscription. */
  readonly #relayed = new Map<string, { holders: number; off: () => void }>();
  readonly #perAddress = new Map<string, number>();
  readonly #listeners: Array<() => void> = [];
  #upstreamLost = false;

  constructor(options: RelayOptions) {
    const maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
    this.#auth = options.auth;
    this.#upstream = options.upstream;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#maxConnections = options.websocket?.maxConnections ?? DEFAULT_BUDGETS.maxConnections;
    this.#maxPerAddress = options.websocket?.maxConnectionsPerAddress ?? DEFAULT_BUDGETS.maxConnectionsPerAddress;
    const groups = options.auth.holdingGroups;
    for (const holdings of groups.length > 0 ? groups : [new Holdings()]) {
      this.#audiences.set(holdings.key, this.#audience(holdings, maxMessageBytes, options));
    }
    const tell = (state: string, reason?: string) => this.#publishAll(UPSTREAM_TOPIC, { state, ...(reason ? { reason } : {}) });
    this.#listeners.push(
      this.#upstream.on("connected", () => {
        tell("connected");
        // What was published while the link was down is gone: every prefix followed may have lost events.
        if (this.#upstreamLost) for (const prefix of this.#relayed.keys()) this.#passGap(prefix, undefined);
        this.#upstreamLost = false;
      }),
      this.#upstream.on("disconnected", (reason) => {
        this.#upstreamLost = true;
        tell("disconnected", reason);
      }),
      this.#upstream.on("gap", ({ stream, missed }) => this.#passGap(stream, missed)),
      this.#upstream.on("restart", () => {
        tell("restarted");
        void this.#renew();
      }),
    );
  }

  #audience(holdings: Holdings, maxMessageBytes: number, options: RelayOptions): Audience {
    const inner = websocketServer({ ...options.websocket, maxMessageBytes });
    const server = new RpcServer({ transport: inner, maxMessageBytes, ...(options.logger ? { logger: options.logger } : {}) });
    const peers = new Map<PeerId, Peer>();
    const audience: Audience = {
      holdings,
      transport: inner,
      server,
      peers,
    };
    for (const fn of Object.keys(FUNCTION_INPUTS)) server.register(fn, (...args: unknown[]) => this.#forward(audience, fn, args));
    server.register("webStatus", (ctx: CallContext) => {
      const peer = peers.get(ctx.peer);
      const accounts = holdings.all ? [EVERY_ACCOUNT] : [...holdings.names];
      return { upstream: this.#upstream.state, user: peer?.session.user ?? null, role: peer?.session.role ?? null, accounts };
    });
    return audience;
  }

  /**
   * The service restarted: what browsers hold (orders, trades, positions) came from its previous
   * run. Restarting the browser-side servers gives them a new epoch, so each browser client sees
   * a restart too (an RpcGateway reloads its state); their sockets are closed (1001) and they
   * reconnect by themselves, with their tokens.
   */
  async #renew(): Promise<void> {
    await Promise.all(
      [...this.#audiences.values()].map(async ({ server }) => {
        if (!server.running) return;
        try {
          await server.stop();
          if (this.#listeners.length > 0) await server.start(); // not if the relay stopped meanwhile
        } catch {
          // start() failing leaves that group without a WebSocket side; REST is unaffected
        }
      }),
    );
  }

  /**
   * Events of `stream` were lost upstream (`missed` of them, or an unknown number): each group
   * that follows the stream skips as many sequence numbers of it, so its browsers' clients see
   * the jump (at once in the next heartbeat, which announces the stream) and report a gap.
   */
  #passGap(stream: string, missed: number | undefined): void {
    const count = Math.min(Math.max(missed ?? 1, 1), MAX_SKIPPED_PER_GAP);
    for (const audience of this.#audiences.values()) {
      if (audience.peers.size === 0 || !audience.server.running || !audience.holdings.mayFollow(stream)) continue;
      try {
        audience.server.markLost(stream, count, { latestValue: stream.startsWith(EVENT_TICK) });
      } catch {
        // A stream name the server refuses ($tw.): nothing of ours to tell
      }
    }
  }

  /** What the socket library must be told as its message limit (ws: `maxPayload`). */
  get maxPayload(): number {
    return this.#audiences.values().next().value!.transport.maxPayload;
  }

  get connections(): number {
    let count = 0;
    for (const audience of this.#audiences.values()) count += audience.peers.size;
    return count;
  }

  async start(): Promise<void> {
    await Promise.all([...this.#audiences.values()].map(({ server }) => server.start()));
  }

  async stop(): Promise<void> {
    for (const off of this.#listeners.splice(0)) off();
    await Promise.all([...this.#audiences.values()].map(({ server }) => server.stop()));
    for (const audience of this.#audiences.values()) {
      for (const peer of audience.peers.values()) clearTimeout(peer.expiry);
      audience.peers.clear();
    }
    this.#perAddress.clear();
    for (const { off } of this.#relayed.values()) off();
    this.#relayed.clear();
  }

  /**
   * Serve an upgraded socket for an authenticated session; returns its peer id, or undefined
   * when a connection budget refused it. The socket is closed (1008) when the token expires;
   * a client that reconnects with a fresh token goes on.
   */
  accept(socket: WebSocketLike, info: { address?: string | undefined; session: Session }): PeerId | undefined {
    const audience = this.#audiences.get(info.session.holdings.key);
    if (!audience) {
      socket.close(1011, "no group for this user's accounts: restart the door after editing web.json");
      return undefined;
    }
    // The door's connection budgets count every group's sockets.
    const { address } = info;
    if (this.connections >= this.#maxConnections) return void socket.close(1013, "too many connections");
    if (address !== undefined && (this.#perAddress.get(address) ?? 0) >= this.#maxPerAddress) {
      return void socket.close(1013, "too many connections from this address");
    }
    let id: PeerId | undefined;
    const peerState: Peer = { session: info.session, address, topics: new Set(), expiry: undefined };
    const guarded = this.#guard(socket, () => (id === undefined ? undefined : audience.peers.get(id)));
    id = audience.transport.accept(guarded, { address });
    if (id === undefined) return undefined;
    const peerId = id;
    audience.peers.set(peerId, peerState);
    if (address !== undefined) this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    const left = Math.min(info.session.exp * 1000 - Date.now(), MAX_TIMER_MS);
    peerState.expiry = setTimeout(() => socket.close(1008, "token expired"), Math.max(left, 0));
    (peerState.expiry as { unref?: () => void }).unref?.();
    socket.addEventListener("close", () => this.#forget(audience, peerId));
    return peerId;
  }

  /**
   * The socket as the transport sees it, with subscriptions checked first: one the role may not
   * hold closes the socket (1008) before the transport records it; one the transport keeps is
   * counted for the upstream subscription. Everything else passes through untouched (the
   * transport reads the `ws` socket's own limits through it too).
   */
  #guard(socket: WebSocketLike, peerOf: () => Peer | undefined): WebSocketLike {
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
      const peer = peerOf();
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

  #forget(audience: Audience, id: PeerId): void {
    const peer = audience.peers.get(id);
    if (!peer) return;
    audience.peers.delete(id);
    clearTimeout(peer.expiry);
    if (peer.address !== undefined) {
      const left = (this.#perAddress.get(peer.address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(peer.address, left);
      else this.#perAddress.delete(peer.address);
    }
    for (const topic of [...peer.topics]) this.#drop(peer, topic);
  }

  /**
   * An upstream event arrives once for each of our prefixes it matches: publish it from the
   * shortest of them only, into each group that may see it. Each group's transport then sends
   * it to every socket whose prefixes match.
   */
  #relay(prefix: string, topic: string, data: unknown): void {
    for (let length = 0; length < prefix.length; length++) if (this.#relayed.has(prefix.slice(0, length))) return;
    for (const audience of this.#audiences.values()) {
      if (audience.peers.size > 0 && audience.holdings.sees(topic, data)) this.#publish(audience, topic, data);
    }
  }

  #publishAll(topic: string, data: unknown): void {
    for (const audience of this.#audiences.values()) this.#publish(audience, topic, data);
  }

  #publish(audience: Audience, topic: string, data: unknown): void {
    if (!audience.server.running) return;
    try {
      audience.server.publish(topic, data, publishOptions({ type: topic, data }));
    } catch {
      // Too large for the browser side's maxMessageBytes: that event is not relayed; the rest go on.
    }
  }

  async #forward(audience: Audience, fn: string, argsAndContext: unknown[]): Promise<unknown> {
    const ctx = argsAndContext.at(-1) as CallContext;
    const args = argsAndContext.slice(0, -1);
    const peer = audience.peers.get(ctx.peer);
    if (!peer) throw new RpcError("UNAUTHENTICATED", "Not logged in");
    const { session } = peer;
    if (session.exp * 1000 <= Date.now()) throw new RpcError("UNAUTHENTICATED", "Token expired: log in again");
    if (!this.#auth.mayCall(session.role, fn)) throw new RpcError("PERMISSION_DENIED", `Role ${session.role} may not call ${fn}`);
    const parsed = v.safeParse(FUNCTION_INPUTS[fn]!, args);
    if (!parsed.success) throw new RpcError("INVALID_ARGUMENT", issuesText(parsed.issues));
    // The user rides along in the metadata, for the service's audit; the browser cannot set it.
    const meta = { ...ctx.meta, webUser: session.user };
    const options = { signal: ctx.signal, timeoutMs: this.#callTimeoutMs, meta };
    return callOwned(session.holdings, fn, parsed.output as unknown[], (name, list) => this.#upstream.call(name, list, options));
  }
}
