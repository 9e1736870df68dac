/**
 * VeighNa's RPC wire, server side: a `ServerTransport` that lets VeighNa's unchanged RpcClient
 * and RpcGateway call any `RpcServer` (usually beside its own transport, see fan-in.ts).
 *
 * VeighNa's wire (vnpy/rpc): a REQ client sends one frame `pickle([name, args, kwargs])` and
 * gets one frame `pickle([True, result])` or `pickle([False, traceback_text])`; the server PUBs
 * one frame `pickle([topic, data])` (RpcEngine: every `Event` on topic "") and
 * `pickle(["heartbeat", time.time()])` every 10 s.
 *
 * Here: a ROUTER takes the REQ envelope (`[id, …, <empty>, body]`), so one transport serves many
 * clients, each one call at a time as a REP socket would (more from one peer wait in a short
 * queue). The body is read by our restricted pickle reader; a refused or malformed pickle gets
 * `[False, "Refused: …"]` and the next call is served. A call is turned into a tradewire request
 * (`get_all_contracts` → `getAllContracts`, vnpy objects → plain data, kwargs by the known
 * parameter names) and handed to the core; its answer is pickled back, objects of ours as
 * VeighNa's classes. Events the core publishes go out as `["", Event(topic, data)]`; the core's
 * own `$…` topics (its heartbeat) are not VeighNa's and stay off this wire.
 *
 * Frames between this transport and the core are the core's; `codec` must be the RpcServer's.
 */
import { msgpackCodec, type Codec } from "../../lib/codec.ts";
import { DEFAULT_BUDGETS } from "../../lib/budgets.ts";
import { errorMessage } from "../../lib/errors.ts";
import { unrefTimer } from "../../lib/logger.ts";
import type { PeerId, ServerSink, ServerTransport } from "../../lib/transport.ts";
import { Kind, WIRE_VERSION } from "../../lib/wire.ts";
import { checkEngineChoice, loadEngine, type EngineName, type EngineSocket } from "../zeromq/engine.ts";
import { checkAddress, DEFAULTS, SERVER_BUDGET_DEFAULTS } from "../zeromq/options.ts";
import { SendQueue } from "../zeromq/send-queue.ts";
import { peerIdFromBytes } from "../zeromq/server.ts";
import { toMemberName, VNPY_ENUM_VALUES } from "./enums.ts";
import { fromVnpy, toCamel, toVnpy, type ModelOptions } from "./model.ts";
import { PickleRefused, readPickle, type PickleLimits } from "./pickle-reader.ts";
import { writeEventPickles, writePickle } from "./pickle-writer.ts";
import { PyFloat, PyObject, type PyValue } from "./py-values.ts";

export interface VnpyServerOptions extends ModelOptions {
  /** Address VeighNa's REQ clients connect to (VeighNa's default tcp://*:2014). */
  rep: string;
  /** Address VeighNa's SUB clients connect to (VeighNa's default tcp://*:4102). */
  pub: string;
  /** ZeroMQ engine. Default "zmtp". */
  engine?: EngineName;
  /** The RpcServer's codec (the frames this transport exchanges with the core). Default MessagePack. */
  codec?: Codec;
  /** Bounds on each request's pickle. Default `DEFAULT_PICKLE_LIMITS`. */
  limits?: PickleLimits;
  /** Deadline the core gets for each call (VeighNa's client gives up after its own 30 s). Default 30 000. */
  callTimeoutMs?: number;
  /** VeighNa's heartbeat period. Default 10 000 (VeighNa's HEARTBEAT_INTERVAL). */
  heartbeatIntervalMs?: number;
  /** Calls one peer may have waiting behind the one being served (a REQ peer never has any). Default 8. */
  maxQueuedCallsPerPeer?: number;
  /** Where refused requests are reported. Default: nowhere (they are counted in `stats`). */
  log?: (message: string) => void;
}

/**
 * Parameter names of RpcEngine's functions (vnpy_rpcservice), so keyword arguments land where
 * tradewire's positional arguments expect them.
 */
const PARAMETERS: Record<string, readonly string[]> = {
  subscribe: ["req", "gateway_name"],
  send_order: ["req", "gateway_name"],
  cancel_order: ["req", "gateway_name"],
  query_history: ["req", "gateway_name"],
  get_tick: ["vt_symbol"],
  get_order: ["vt_orderid"],
  get_trade: ["vt_tradeid"],
  get_position: ["vt_positionid"],
  get_account: ["vt_accountid"],
  get_contract: ["vt_symbol"],
  get_all_active_orders: ["vt_symbol"],
};

/** VeighNa's identifiers name an exchange and a direction by value ("FDAX.EUX", "….多"); ours by name. */
const EXCHANGE_BY_VALUE = new Map(Object.entries(VNPY_ENUM_VALUES.Exchange).map(([n, v]) => [v, n]));
function identifierToOurs(name: string, id: unknown): unknown {
  if (typeof id !== "string") return id;
  const parts = id.split(".");
  const exchangeAt = name === "get_position" ? parts.length - 2 : name === "get_tick" || name === "get_contract" || name === "get_all_active_orders" ? parts.length - 1 : -1;
  if (exchangeAt < 1) return id;
  parts[exchangeAt] = EXCHANGE_BY_VALUE.get(parts[exchangeAt]!) ?? parts[exchangeAt]!;
  if (name === "get_position") parts[parts.length - 1] = toMemberName("Direction", parts[parts.length - 1]!) ?? parts[parts.length - 1]!;
  return parts.join(".");
}

/**
 * The event types VeighNa's gateways put for one datum (BaseGateway.on_tick and the like): the
 * general type and, for most kinds, the type suffixed by an identifier in VeighNa's naming, whose
 * choice differs from ours (a trade by vt_symbol, not by trade id). Other topics go out as they are.
 */
const SUFFIX_OF_KIND: Record<string, string | undefined> = {
  "eTick.": "vt_symbol", "eTrade.": "vt_symbol", "eOrder.": "vt_orderid", "ePosition.": "vt_symbol",
  "eAccount.": "vt_accountid", "eQuote.": "vt_symbol", "eContract.": undefined, eLog: undefined,
};
function vnpyEventTypes(topic: string, data: PyValue): string[] {
  const dot = topic.indexOf(".");
  const base = dot < 0 ? topic : topic.slice(0, dot + 1);
  if (!(base in SUFFIX_OF_KIND) || !(data instanceof PyObject)) return [topic];
  const key = SUFFIX_OF_KIND[base];
  const suffix = key === undefined ? undefined : data.state[key];
  return typeof suffix === "string" ? [base, base + suffix] : [base];
}

interface Call {
  /** `[routingId, …envelope, <empty>]`: what the reply goes behind. */
  route: Uint8Array[];
  body: Uint8Array;
}

interface PeerState {
  busy: boolean;
  waiting: Call[];
  /** Bytes of the calls in `waiting`. */
  waitingBytes: number;
}

interface InFlight {
  peer: PeerId;
  route: Uint8Array[];
  /** Answers the caller if the core never does (a request it dropped, a handler past its deadline). */
  timer: ReturnType<typeof setTimeout>;
}

/** Bytes of calls waiting behind a busy one, per peer: a REQ client sends one at a time, so more is abuse. */
const MAX_WAITING_BYTES_PER_PEER = 8 * 1024 * 1024;
/** The same for all peers together. */
const MAX_WAITING_BYTES = 64 * 1024 * 1024;

export class VnpyServerTransport implements ServerTransport {
  readonly rep: string;
  readonly pub: string;
  readonly engineName: EngineName;
  readonly #options: VnpyServerOptions;
  readonly #codec: Codec;
  readonly #peers = new Map<PeerId, PeerState>();
  /** Call id → [peer, route]: the core answers by id. */
  readonly #inFlight = new Map<number, InFlight>();
  #waitingBytes = 0;
  #nextId = 1;
  #sink: ServerSink | undefined;
  #router: EngineSocket | undefined;
  #publisher: EngineSocket | undefined;
  #replies: SendQueue | undefined;
  #broadcasts: SendQueue | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #state: "idle" | "listening" | "closed" = "idle";
  #counters = { calls: 0, refused: 0, malformedDropped: 0, queueOverflow: 0, events: 0, eventsNotSent: 0 };

  constructor(options: VnpyServerOptions) {
    this.rep = checkAddress("rep", options.rep);
    this.pub = checkAddress("pub", options.pub);
    if (this.rep === this.pub) throw new TypeError(`Options rep and pub must differ, both are ${this.rep}`);
    this.engineName = options.engine ?? "zmtp";
    checkEngineChoice(this.engineName);
    this.#options = options;
    this.#codec = options.codec ?? msgpackCodec();
  }

  get stats(): Readonly<Record<string, number>> {
    return { ...this.#counters, peers: this.#peers.size };
  }

  async listen(sink: ServerSink): Promise<void> {
    if (this.#state !== "idle") throw new Error(`This transport is already ${this.#state}`);
    this.#state = "listening";
    this.#sink = sink;
    const engine = await loadEngine(this.engineName);
    const budgets = {
      maxConnections: SERVER_BUDGET_DEFAULTS.maxConnections,
      maxConnectionsPerAddress: SERVER_BUDGET_DEFAULTS.maxConnectionsPerAddress,
      maxPartialBytes: SERVER_BUDGET_DEFAULTS.maxPartialBytes,
      messageTimeoutMs: SERVER_BUDGET_DEFAULTS.messageTimeoutMs,
      maxSubscriptionsPerPeer: SERVER_BUDGET_DEFAULTS.maxSubscriptionsPerPeer,
      maxPrefixBytes: SERVER_BUDGET_DEFAULTS.maxPrefixBytes,
    };
    const base = {
      maxMessageSize: (this.#options.limits?.maxBytes ?? DEFAULT_BUDGETS.maxMessageBytes) + 1024,
      linger: 0,
      heartbeatInterval: DEFAULTS.serverHeartbeatInterval,
      heartbeatTimeout: DEFAULTS.serverHeartbeatInterval * 3,
    };
    const router = engine.router({
      ...base,
      sendHighWaterMark: DEFAULTS.replyHighWaterMark,
      receiveHighWaterMark: DEFAULTS.serverRequestHighWaterMark,
      routerNotify: true,
      budgets: { ...budgets, maxQueuedBytesPerPeer: SERVER_BUDGET_DEFAULTS.maxQueuedReplyBytesPerPeer, maxQueuedBytes: SERVER_BUDGET_DEFAULTS.maxQueuedReplyBytes },
    });
    const publisher = engine.publisher({
      ...base,
      sendHighWaterMark: DEFAULTS.publishHighWaterMark,
      budgets: { ...budgets, maxQueuedBytesPerPeer: SERVER_BUDGET_DEFAULTS.maxQueuedEventBytesPerSubscriber, maxQueuedBytes: SERVER_BUDGET_DEFAULTS.maxQueuedEventBytes },
    });
    this.#router = router;
    this.#publisher = publisher;
    try {
      await router.bind(this.rep);
      await publisher.bind(this.pub);
    } catch (error) {
      router.close();
      publisher.close();
      this.#state = "closed";
      throw error;
    }
    if (this.#state !== "listening") return;
    this.#replies = new SendQueue(router, DEFAULTS.nonBlockingQueueLimit);
    this.#broadcasts = new SendQueue(publisher, DEFAULTS.nonBlockingQueueLimit);
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatIntervalMs ?? 10_000);
    unrefTimer(this.#heartbeat);
    void this.#receive(router);
  }

  reply(peer: PeerId, frame: Uint8Array): void {
    let message: unknown;
    try {
      message = this.#codec.decode(frame);
    } catch {
      return;
    }
    if (!Array.isArray(message) || message[0] !== WIRE_VERSION) return;
    const [, kind, id] = message as [number, number, number, ...unknown[]];
    const call = this.#inFlight.get(id);
    if (!call || call.peer !== peer) return;
    let answer: PyValue;
    if (kind === Kind.result) {
      try {
        answer = [true, toVnpy(message[3], this.#options)];
      } catch (error) {
        answer = [false, `The result cannot be sent on VeighNa's wire: ${errorMessage(error)}`];
      }
    } else if (kind === Kind.error) {
      answer = [false, `RpcError ${String(message[3])}: ${String(message[4])}`];
    } else {
      return; // stream frames: never asked for on this wire
    }
    this.#inFlight.delete(id);
    clearTimeout(call.timer);
    this.#send(peer, call.route, answer);
  }

  publish(topic: string, frame: Uint8Array): void {
    if (this.#state !== "listening" || topic.startsWith("$")) return;
    let message: unknown;
    try {
      message = this.#codec.decode(frame);
    } catch {
      return;
    }
    if (!Array.isArray(message) || message[0] !== WIRE_VERSION || message[1] !== Kind.event) return;
    this.#counters.events++;
    try {
      const data = toVnpy(message[2], this.#options);
      // RpcEngine publishes every event on topic "".
      for (const pickle of writeEventPickles(vnpyEventTypes(topic, data), data)) {
        if (!this.#broadcasts!.push([pickle])) this.#counters.eventsNotSent++;
      }
    } catch {
      this.#counters.eventsNotSent++;
    }
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearInterval(this.#heartbeat);
    this.#replies?.close();
    this.#broadcasts?.close();
    this.#router?.close();
    this.#publisher?.close();
    this.#peers.clear();
    this.#waitingBytes = 0;
    for (const call of this.#inFlight.values()) clearTimeout(call.timer);
    this.#inFlight.clear();
  }

  #beat(): void {
    if (this.#state !== "listening") return;
    this.#broadcasts?.push([writePickle(["heartbeat", new PyFloat(Date.now() / 1000)])]);
  }

  async #receive(router: EngineSocket): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await router.receive();
      } catch {
        return; // closed
      }
      try {
        this.#take(frames);
      } catch (error) {
        // One bad request must never stop the loop that serves everyone.
        this.#options.log?.(`A request could not be handled: ${errorMessage(error)}`);
      }
    }
  }

  #take(frames: Uint8Array[]): void {
    const peer = peerIdFromBytes(frames[0]!);
    if (frames.length === 2 && frames[1]!.length === 0) {
      this.#notified(peer);
      return;
    }
    // REQ envelope: [id, …hops, <empty>, body]
    const delimiter = frames.findIndex((f, i) => i > 0 && f.length === 0);
    if (delimiter < 0 || delimiter !== frames.length - 2) {
      this.#counters.malformedDropped++;
      return;
    }
    const call: Call = { route: frames.slice(0, delimiter + 1), body: frames[delimiter + 1]! };
    const state = this.#peers.get(peer) ?? { busy: false, waiting: [], waitingBytes: 0 };
    this.#peers.set(peer, state);
    if (state.busy) {
      const bytes = call.body.length;
      if (
        state.waiting.length >= (this.#options.maxQueuedCallsPerPeer ?? 8) ||
        state.waitingBytes + bytes > MAX_WAITING_BYTES_PER_PEER ||
        this.#waitingBytes + bytes > MAX_WAITING_BYTES
      ) {
        this.#counters.queueOverflow++;
        return;
      }
      state.waiting.push(call);
      state.waitingBytes += bytes;
      this.#waitingBytes += bytes;
      return;
    }
    this.#serve(peer, state, call);
  }

  /** `[routingId, <empty>]`: a peer connected, or (when we know it) left. */
  #notified(peer: PeerId): void {
    const state = this.#peers.get(peer);
    if (!state) {
      this.#peers.set(peer, { busy: false, waiting: [], waitingBytes: 0 });
      return;
    }
    this.#peers.delete(peer);
    this.#waitingBytes -= state.waitingBytes;
    for (const [id, call] of this.#inFlight) {
      if (call.peer !== peer) continue;
      clearTimeout(call.timer);
      this.#inFlight.delete(id);
    }
    try {
      this.#sink?.peerClosed?.(peer);
    } catch {
      // The core's failure must not stop the receive loop.
    }
  }

  #serve(peer: PeerId, state: PeerState, call: Call): void {
    state.busy = true;
    this.#counters.calls++;
    let name: string;
    let args: unknown[];
    try {
      ({ name, args } = this.#parse(call.body));
    } catch (error) {
      this.#counters.refused++;
      const reason = error instanceof PickleRefused || error instanceof RangeError || error instanceof TypeError ? error.message : "Malformed request";
      this.#options.log?.(`Refused a request from ${peer}: ${reason}`);
      this.#send(peer, call.route, [false, `Refused: ${reason}`]);
      return;
    }
    const timeoutMs = this.#options.callTimeoutMs ?? 30_000;
    let frame: Uint8Array;
    try {
      frame = this.#codec.encode([WIRE_VERSION, Kind.request, this.#nextId, name, args, timeoutMs, null]);
    } catch (error) {
      this.#counters.refused++;
      this.#send(peer, call.route, [false, `Refused: the arguments cannot be carried: ${errorMessage(error)}`]);
      return;
    }
    if (frame.byteLength > DEFAULT_BUDGETS.maxMessageBytes) {
      this.#counters.refused++;
      this.#send(peer, call.route, [false, `Refused: a request of ${frame.byteLength} bytes exceeds ${DEFAULT_BUDGETS.maxMessageBytes}`]);
      return;
    }
    const id = this.#nextId++;
    // The core answers every call it takes, but one it drops (stopping, over a budget it cannot
    // answer) would leave this REQ peer waiting forever: answer it past the deadline.
    const timer = setTimeout(() => {
      const stuck = this.#inFlight.get(id);
      if (!stuck) return;
      this.#inFlight.delete(id);
      this.#send(peer, stuck.route, [false, `No answer within ${timeoutMs} ms`]);
    }, timeoutMs + 1_000);
    unrefTimer(timer);
    this.#inFlight.set(id, { peer, route: call.route, timer });
    try {
      this.#sink!.request(frame, peer);
    } catch {
      // The core handles its own failures.
    }
  }

  /** `[name, args, kwargs]` → tradewire's function name and positional arguments. */
  #parse(body: Uint8Array): { name: string; args: unknown[] } {
    const request = fromVnpy(readPickle(body, this.#options.limits));
    if (!Array.isArray(request) || request.length !== 3) throw new TypeError("A request must be [name, args, kwargs]");
    const [name, args, kwargs] = request;
    if (typeof name !== "string" || !/^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(name)) throw new TypeError("A request's function name must be an identifier");
    if (!Array.isArray(args)) throw new TypeError("A request's arguments must be a tuple");
    if (kwargs === null || typeof kwargs !== "object" || Array.isArray(kwargs) || kwargs instanceof Uint8Array) {
      throw new TypeError("A request's keyword arguments must be a dict");
    }
    const positional: unknown[] = [...args];
    const names = PARAMETERS[name];
    for (const [key, value] of Object.entries(kwargs)) {
      const at = names?.indexOf(key) ?? -1;
      if (at < 0) throw new TypeError(`${name}() takes no keyword argument ${JSON.stringify(key)} here`);
      if (at < args.length) throw new TypeError(`${name}() got ${key} both by position and by keyword`);
      positional[at] = value;
    }
    for (let i = 0; i < positional.length; i++) {
      if (positional[i] === undefined) throw new TypeError(`${name}() is missing argument ${i + 1}`);
    }
    if (positional.length > 0 && names?.[0]?.startsWith("vt_")) positional[0] = identifierToOurs(name, positional[0]);
    return { name: toCamel(name), args: positional };
  }

  #send(peer: PeerId, route: Uint8Array[], answer: PyValue): void {
    if (this.#state === "listening") {
      let body: Uint8Array;
      try {
        body = writePickle(answer);
      } catch (error) {
        body = writePickle([false, `The result cannot be sent on VeighNa's wire: ${errorMessage(error)}`]);
      }
      this.#replies?.push([...route, body]);
    }
    const state = this.#peers.get(peer);
    if (!state) return;
    state.busy = false;
    const next = state.waiting.shift();
    if (!next) return;
    state.waitingBytes -= next.body.length;
    this.#waitingBytes -= next.body.length;
    this.#serve(peer, state, next);
  }
}


