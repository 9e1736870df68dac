/**
 * VeighNa's RPC wire, client side: a `ClientTransport` that lets tradewire's RpcClient (and so
 * RpcGateway, the playground, the web door) call a running VeighNa RpcServer and follow its
 * events.
 *
 * A DEALER stands in for VeighNa's REQ socket: one call on the wire at a time (`[<empty>, body]`,
 * REP answers in order), the others wait here. A call whose deadline passes has been failed by
 * the core already; its socket is replaced, so that a late answer can never be taken for the
 * next call's. Requests go out as `pickle([snake_name, args, {}])` with our objects as VeighNa's
 * classes (`sendOrder`'s request as an OrderRequest, …); answers and events are read by our
 * restricted pickle reader into plain data.
 *
 * Events: VeighNa publishes each datum twice, under the general type (`eOrder.`) and a specific
 * one (`eOrder.CTP.42`); the general copy is dropped and the topic rebuilt in tradewire's naming
 * (`eTick.` + vtSymbol, `eOrder.` + vtOrderId, `eContract.` + vtSymbol). They carry no sequence
 * numbers (a VeighNa server numbers nothing), so gaps cannot be told.
 *
 * Liveness: VeighNa's heartbeat comes every 10 s; the core expects one every second. While the
 * server is alive — its sockets connected and something heard within `toleranceMs` (VeighNa's
 * 30 s) — this transport hands the core a heartbeat every `heartbeatMs`, under an epoch that
 * changes whenever the broadcast link comes back (a restart looks like that), so RpcGateway
 * reloads. `$tw.ping` and `$tw.streams` are answered here: a VeighNa server has neither.
 */
import { msgpackCodec, type Codec } from "../../lib/codec.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { ClientSink, ClientTransport } from "../../lib/transport.ts";
import { HEARTBEAT_TOPIC, Kind, PING_FUNCTION, RESERVED_FUNCTION_PREFIX, STREAMS_FUNCTION, WIRE_VERSION } from "../../lib/wire.ts";
import { checkEngineChoice, loadEngine, type EngineName, type EngineSocket, type SubscriberSocket } from "../zeromq/engine.ts";
import { checkAddress, DEFAULTS } from "../zeromq/options.ts";
import { fromVnpy, toSnake, toVnpy, type ModelOptions, type Plain } from "./model.ts";
import { readPickle, type PickleLimits } from "./pickle-reader.ts";
import { writePickle } from "./pickle-writer.ts";
import type { VnpyObjectClass } from "./py-values.ts";

export interface VnpyClientOptions extends ModelOptions {
  /** The VeighNa server's request address (its REP). */
  req: string;
  /** The VeighNa server's broadcast address (its PUB). */
  sub: string;
  engine?: EngineName;
  /** The RpcClient's codec. Default MessagePack. */
  codec?: Codec;
  limits?: PickleLimits;
  /** Deem the server gone after this long without a word from it. Default 30 000 (VeighNa's HEARTBEAT_TOLERANCE). */
  toleranceMs?: number;
  /** Heartbeats handed to the core while the server is alive. Default 1 000 (the core's default). */
  heartbeatMs?: number;
  /** The deadline of a call that names none. Default 30 000 (VeighNa's client default). */
  defaultTimeoutMs?: number;
}

/** The VeighNa class of each request argument, by tradewire function name. */
const ARGUMENT_CLASSES: Record<string, readonly (VnpyObjectClass | undefined)[]> = {
  subscribe: ["SubscribeRequest"],
  sendOrder: ["OrderRequest"],
  cancelOrder: ["CancelRequest"],
  queryHistory: ["HistoryRequest"],
  sendQuote: ["QuoteRequest"],
};

/** General event types VeighNa also publishes under a specific type: the general copy is dropped. */
const DOUBLED = new Set(["eTick.", "eTrade.", "eOrder.", "ePosition.", "eAccount.", "eQuote."]);
/** tradewire's topic suffix for each kind. */
const OUR_SUFFIX: Record<string, string> = {
  "eTick.": "vtSymbol", "eTrade.": "vtSymbol", "eOrder.": "vtOrderId", "ePosition.": "vtSymbol",
  "eAccount.": "vtAccountId", "eQuote.": "vtSymbol", "eContract.": "vtSymbol",
};

const SUBSCRIPTION_GRACE_MS = 100;
const EMPTY = new Uint8Array(0);

/**
 * Answers VeighNa gives in another shape than tradewire's: its cancel_order returns None (a
 * refusal comes later as an order event or a log), ours a CancelResult.
 */
const RESULT_ADAPTERS: Record<string, (value: Plain) => unknown> = {
  cancelOrder: (value) => value ?? { accepted: true, reason: "" },
};

interface Pending {
  id: number;
  name: string;
  body: Uint8Array;
  timeoutMs: number;
}

export class VnpyClientTransport implements ClientTransport {
  readonly req: string;
  readonly sub: string;
  readonly #o: VnpyClientOptions;
  readonly #codec: Codec;
  readonly #prefixes = new Set<string>();
  readonly #queue: Pending[] = [];
  #current: { call: Pending; timer: ReturnType<typeof setTimeout> } | undefined;
  #sink: ClientSink | undefined;
  #engine: Awaited<ReturnType<typeof loadEngine>> | undefined;
  #dealer: EngineSocket | undefined;
  #subscriber: SubscriberSocket | undefined;
  #beatTimer: ReturnType<typeof setInterval> | undefined;
  #beat = 0;
  #epoch = newEpoch();
  #subUp = false;
  #subEverUp = false;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #whenAlive: (() => void) | undefined;
  /** `$tw.ping`s waiting for the link: the core takes the answer as "connected". */
  readonly #pings: number[] = [];
  #reqUp = false;
  #lastHeard = 0;
  #alive = false;
  #closed = false;

  constructor(options: VnpyClientOptions) {
    this.req = checkAddress("req", options.req);
    this.sub = checkAddress("sub", options.sub);
    checkEngineChoice(options.engine ?? "zmtp");
    this.#o = options;
    this.#codec = options.codec ?? msgpackCodec();
  }

  async connect(sink: ClientSink): Promise<void> {
    this.#sink = sink;
    this.#engine = await loadEngine(this.#o.engine ?? "zmtp");
    if (this.#closed) return;
    this.#openDealer();
    const subscriber = this.#engine.subscriber(this.#socketOptions());
    this.#subscriber = subscriber;
    subscriber.watch((event) => {
      if (event.type === "handshake") {
        // A broadcast link that comes back may be a restarted server: a new epoch tells the core.
        if (this.#subEverUp) this.#epoch = newEpoch();
        this.#subEverUp = true;
        // The publisher learns our subscription just after the handshake (ZeroMQ's "slow joiner"):
        // a short grace before we call the link up, so events of calls made then are not missed.
        clearTimeout(this.#graceTimer);
        this.#graceTimer = setTimeout(() => {
          this.#subUp = true;
          this.#heard();
        }, SUBSCRIPTION_GRACE_MS);
      } else if (event.type === "disconnected") {
        clearTimeout(this.#graceTimer);
        this.#subUp = false;
        this.#down("The VeighNa server's broadcast connection was lost");
      }
    });
    // VeighNa's events all travel on topic "", inside the pickle: take everything, filter here.
    subscriber.subscribe(EMPTY);
    subscriber.connect(this.sub);
    void this.#readEvents(subscriber);
    this.#beatTimer = setInterval(() => this.#tick(), this.#o.heartbeatMs ?? 1000);
    // As the zeromq transport does: wait a moment for the links, so the first calls' events are
    // not published before the server knows our subscription; a server not there yet is
    // connected to in the background.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, DEFAULTS.connectWaitMs);
      this.#whenAlive = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#whenAlive = undefined;
  }

  send(frame: Uint8Array): void {
    const message = this.#codec.decode(frame);
    if (!Array.isArray(message) || message[0] !== WIRE_VERSION) throw new TypeError("Not a tradewire request frame");
    const [, kind, id] = message as [number, number, number];
    if (kind === Kind.cancel) {
      // Cancel: a call not yet sent is dropped; one on the wire cannot be recalled (REP).
      const at = this.#queue.findIndex((p) => p.id === id);
      if (at >= 0) this.#queue.splice(at, 1);
      return;
    }
    if (kind !== Kind.request) return; // credit for streams: answers here are whole
    const [, , , name, args, timeoutMs] = message as [number, number, number, string, unknown[], number];
    if (name.startsWith(RESERVED_FUNCTION_PREFIX)) return this.#answerLocally(id, name);
    const classes = ARGUMENT_CLASSES[name] ?? [];
    let body: Uint8Array;
    try {
      const vnpyArgs = args.map((a, i) => toVnpy(a, this.#o, classes[i]));
      body = writePickle([toSnake(name), vnpyArgs, {}]);
    } catch (error) {
      this.#answer(id, undefined, ["INVALID_ARGUMENT", `Cannot send on VeighNa's wire: ${errorMessage(error)}`]);
      return;
    }
    this.#queue.push({ id, name, body, timeoutMs: timeoutMs > 0 ? timeoutMs : (this.#o.defaultTimeoutMs ?? 30_000) });
    this.#pump();
  }

  subscribe(prefix: string): void {
    this.#prefixes.add(prefix);
  }

  unsubscribe(prefix: string): void {
    this.#prefixes.delete(prefix);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#beatTimer);
    clearTimeout(this.#graceTimer);
    if (this.#current) clearTimeout(this.#current.timer);
    this.#current = undefined;
    this.#queue.length = 0;
    this.#dealer?.close();
    this.#subscriber?.close();
  }

  // --- calls ---------------------------------------------------------------------------------

  #socketOptions() {
    return {
      maxMessageSize: (this.#o.limits?.maxBytes ?? 16 * 1024 * 1024) + 1024,
      linger: 0,
      heartbeatInterval: DEFAULTS.heartbeatInterval,
      heartbeatTimeout: DEFAULTS.heartbeatInterval * 3,
    };
  }

  #openDealer(): void {
    const dealer = this.#engine!.dealer({ ...this.#socketOptions(), immediate: true });
    this.#dealer = dealer;
    dealer.watch((event) => {
      if (dealer !== this.#dealer) return;
      if (event.type === "handshake") {
        this.#reqUp = true;
        this.#heard();
      } else if (event.type === "disconnected") {
        this.#reqUp = false;
        this.#down("The VeighNa server's request connection was lost");
      }
    });
    dealer.connect(this.req);
    void this.#readReplies(dealer);
  }

  #pump(): void {
    if (this.#current || this.#closed || !this.#dealer) return;
    const call = this.#queue.shift();
    if (!call) return;
    const timer = setTimeout(() => this.#late(call), call.timeoutMs);
    this.#current = { call, timer };
    this.#dealer.send([EMPTY, call.body]).catch(() => {});
  }

  /** The core failed this call at its deadline; the socket it waits on is replaced. */
  #late(call: Pending): void {
    if (this.#current?.call !== call) return;
    this.#current = undefined;
    this.#reqUp = false;
    this.#dealer?.close();
    this.#openDealer();
    this.#pump();
  }

  async #readReplies(dealer: EngineSocket): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await dealer.receive();
      } catch {
        return;
      }
      if (dealer !== this.#dealer || !this.#current) continue;
      const { call, timer } = this.#current;
      if (frames.length !== 2 || frames[0]!.length !== 0) continue;
      clearTimeout(timer);
      this.#current = undefined;
      this.#heard();
      this.#settle(call, frames[1]!);
      this.#pump();
    }
  }

  #settle({ id, name }: Pending, body: Uint8Array): void {
    let reply: Plain;
    try {
      reply = fromVnpy(readPickle(body, this.#o.limits));
    } catch (error) {
      this.#answer(id, undefined, ["INTERNAL", `Refused the server's answer: ${errorMessage(error)}`]);
      return;
    }
    if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== "boolean") {
      this.#answer(id, undefined, ["INTERNAL", "The server's answer is not [ok, value]"]);
      return;
    }
    if (reply[0]) this.#answer(id, RESULT_ADAPTERS[name]?.(reply[1] ?? null) ?? reply[1]);
    else this.#answer(id, undefined, remoteError(String(reply[1])));
  }

  #answerLocally(id: number, name: string): void {
    const heartbeatMs = this.#o.heartbeatMs ?? 1000;
    if (name === PING_FUNCTION) {
      if (this.#alive) this.#answer(id, { heartbeatMs, epoch: this.#epoch });
      else this.#pings.push(id);
    }
    else if (name === STREAMS_FUNCTION) this.#answer(id, { epoch: this.#epoch, streams: [] });
    else this.#answer(id, undefined, ["NOT_FOUND", `No function named "${name}"`]);
  }

  #answer(id: number, value: unknown, error?: [string, string]): void {
    const frame = error ? [WIRE_VERSION, Kind.error, id, error[0], error[1]] : [WIRE_VERSION, Kind.result, id, value];
    // Answered on a later turn: the core expects replies after send() returned.
    queueMicrotask(() => this.#sink?.reply(this.#codec.encode(frame)));
  }

  // --- events and liveness -------------------------------------------------------------------

  async #readEvents(subscriber: SubscriberSocket): Promise<void> {
    for (;;) {
      let frames: Uint8Array[];
      try {
        frames = await subscriber.receive();
      } catch {
        return;
      }
      if (frames.length !== 1) continue;
      let message: Plain;
      try {
        message = fromVnpy(readPickle(frames[0]!, this.#o.limits));
      } catch {
        continue; // refused or malformed: dropped
      }
      if (!Array.isArray(message) || message.length !== 2) continue;
      this.#heard();
      const [topic, data] = message;
      if (topic === "heartbeat") continue;
      const event = isEvent(data ?? null) ? (data as { type: string; data: Plain }) : { type: String(topic), data: data ?? null };
      const ours = ourTopic(event.type, event.data);
      if (ours === undefined || !matchesAny(this.#prefixes, ours)) continue;
      this.#sink?.broadcast(ours, this.#codec.encode([WIRE_VERSION, Kind.event, event.data, 0, this.#epoch]));
    }
  }

  #heard(): void {
    this.#lastHeard = Date.now();
    this.#tick();
  }

  #tick(): void {
    if (this.#closed) return;
    const alive = this.#subUp && this.#reqUp && Date.now() - this.#lastHeard <= (this.#o.toleranceMs ?? 30_000);
    if (!alive) {
      if (this.#alive && this.#subUp && this.#reqUp) this.#down("No word from the VeighNa server within its heartbeat tolerance");
      return;
    }
    if (!this.#alive) {
      this.#alive = true;
      this.#sink?.linkUp?.();
      this.#whenAlive?.();
      for (const id of this.#pings.splice(0)) this.#answer(id, { heartbeatMs: this.#o.heartbeatMs ?? 1000, epoch: this.#epoch });
    }
    if (matchesAny(this.#prefixes, HEARTBEAT_TOPIC)) {
      this.#sink?.broadcast(HEARTBEAT_TOPIC, this.#codec.encode([WIRE_VERSION, Kind.heartbeat, "alive", this.#epoch, null, this.#beat++]));
    }
  }

  #down(reason: string): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#sink?.linkDown?.(reason);
  }
}

function newEpoch(): number {
  return Math.floor(Math.random() * 2 ** 31) + 1;
}

function isEvent(v: Plain): v is { type: string; data: Plain } {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) && typeof v["type"] === "string" && "data" in v;
}

/** tradewire's topic for a VeighNa event; undefined for the general copy of a doubled one. */
function ourTopic(type: string, data: Plain): string | undefined {
  const dot = type.indexOf(".");
  const base = dot < 0 ? type : type.slice(0, dot + 1);
  if (DOUBLED.has(type)) return undefined;
  const key = OUR_SUFFIX[base];
  if (key === undefined || data === null || typeof data !== "object" || Array.isArray(data) || data instanceof Uint8Array) return type;
  const id = data[key];
  return typeof id === "string" ? base + id : type;
}

/**
 * A VeighNa traceback as a tradewire error: an unknown function (`KeyError` from the function
 * table) is NOT_FOUND, anything else INTERNAL with the exception's line first.
 */
function remoteError(traceback: string): [string, string] {
  const lines = traceback.trim().split("\n");
  const last = lines[lines.length - 1] ?? traceback;
  if (/self\._functions\[name\]/.test(traceback) && /^KeyError: /.test(last)) {
    return ["NOT_FOUND", `No function named ${last.slice("KeyError: ".length)} on the VeighNa server`];
  }
  return ["INTERNAL", lines.length > 1 ? `${last}\n${traceback}` : last];
}

/** Whether one of `prefixes` is a prefix of `topic` (per event: no copy of the set). */
function matchesAny(prefixes: ReadonlySet<string>, topic: string): boolean {
  for (const prefix of prefixes) if (topic.startsWith(prefix)) return true;
  return false;
}
