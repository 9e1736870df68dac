import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ActiveCall, ActiveCalls } from "./active-calls.ts";
import { argumentProblem, type ArgumentLimits } from "./argument-limits.ts";
import { DEFAULT_BUDGETS } from "./budgets.ts";
import { msgpackCodec, type Codec } from "./codec.ts";
import { errorMessage, RpcError, type RpcCode } from "./errors.ts";
import { EventSequences } from "./event-sequences.ts";
import { consoleLogger, unrefTimer, type Logger } from "./logger.ts";
import { nearestName } from "./nearest-name.ts";
import { PeerLogLimiter } from "./peer-log-limiter.ts";
import type { ArgumentsSchema, HandlerArgs, ServiceDefinition } from "./service.ts";
import { collect, isStreamSource, itemsOf } from "./stream-source.ts";
import type { DataServerTransport, PeerId, ServerTransport } from "./transport.ts";
import { frameOf, messageOf, type Frame } from "./data-frame.ts";
import {
  fromArray,
  HEARTBEAT_TOPIC,
  Kind,
  MalformedFrameError,
  PING_FUNCTION,
  RESERVED_FUNCTION_PREFIX,
  STREAMS_FUNCTION,
  FUNCTIONS_FUNCTION,
  RESERVED_TOPIC_PREFIX,
  toArray,
  WIRE_VERSION,
  type Message,
  type Meta,
  type RequestMessage,
} from "./wire.ts";

/** What a handler receives as its last argument. */
export interface CallContext {
  /** Aborted at the caller's deadline, when the caller cancels, or when the server stops. */
  readonly signal: AbortSignal;
  /** String key/values sent by the caller, e.g. a trace id. */
  readonly meta: Readonly<Meta>;
  readonly functionName: string;
  /** The transport's identity of the caller's connection. */
  readonly peer: PeerId;
}

// deno-lint-ignore no-explicit-any
export type Handler = (...args: any[]) => unknown;

export interface RegisterOptions<S extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined> {
  /** A Standard Schema validator (zod, valibot, arktype…) for the arguments array. */
  input?: S;
}

/** With an input schema, the handler's parameters are the schema's output (then the call context). */
export type HandlerFor<S> = S extends StandardSchemaV1
  ? S extends ArgumentsSchema
    ? (...args: HandlerArgs<S>) => unknown
    : never // a schema for the arguments validates the arguments array
  : Handler;

export interface RpcServerOptions {
  transport: ServerTransport;
  /** Default: MessagePack. Client and server must agree. */
  codec?: Codec;
  /** Interval of the liveness broadcast; 0 turns it off. Default 1000. */
  heartbeatMs?: number;
  /** Largest frame accepted or sent. Default 4 MiB. */
  maxMessageBytes?: number;
  /** Calls one peer may have in flight; more are answered RESOURCE_EXHAUSTED. Default 1000. */
  maxInFlightPerPeer?: number;
  /** Request bytes one peer's calls in flight may hold; more is answered RESOURCE_EXHAUSTED. Default 16 MiB. */
  maxInFlightBytesPerPeer?: number;
  /** Calls in flight for all peers together; more are answered RESOURCE_EXHAUSTED. Default 10 000. */
  maxInFlight?: number;
  /** Request bytes held by all calls in flight together; more is answered RESOURCE_EXHAUSTED. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Arguments one call may pass; more are answered INVALID_ARGUMENT. Default 1024. */
  maxArgs?: number;
  /** How deeply arrays and maps may nest in a call's arguments; deeper is INVALID_ARGUMENT. Default 32. */
  maxDepth?: number;
  logger?: Logger;
}

/** What a server holds and what it refused, for monitoring (README "Limits and budgets"). */
export interface RpcServerStats {
  callsInFlight: number;
  /** Request bytes held by the calls in flight. */
  requestBytesInFlight: number;
  peersWithCalls: number;
  /** Calls answered RESOURCE_EXHAUSTED because a budget was full. */
  callsRefused: number;
  /** Calls answered INVALID_ARGUMENT for too many or too deeply nested arguments. */
  argumentsRefused: number;
  /** Frames that did not decode or had the wrong shape. */
  malformedFrames: number;
  /** Frames dropped unread: over maxMessageBytes, or arriving while the server was not running. */
  framesDropped: number;
  /** Calls aborted because their caller left. */
  callsAbortedByDeparture: number;
  /** Log lines about misbehaving peers held back by the per-peer rate limit. */
  logLinesHeldBack: number;
  /** The transport's own counters (connections refused, events dropped…), when it keeps any. */
  transport: Readonly<Record<string, number>>;
}

export interface PublishOptions {
  /**
   * The stream the event is numbered in: a prefix of the topic (default: the topic itself).
   * Group per-entity topics so subscribers to the group can tell a lost event
   * (`eOrder.SIM.` for `eOrder.SIM.7`, `eOrder.SIM.8`…); the server keeps one counter per stream.
   */
  stream?: string;
  /**
   * Only the latest value counts (market data): a lost event needs no recovery, since the next one
   * replaces it. Such streams are numbered but not announced in heartbeats.
   */
  latestValue?: boolean;
}

type ServerState = "stopped" | "starting" | "running" | "stopping";

interface Registration {
  fn: Handler;
  input: StandardSchemaV1 | undefined;
}

/** Serves registered functions to every client of one transport, and publishes topics to them. */
export class RpcServer {
  /** A DataServerTransport only when `#asData`: typed so, as frames are made for it. */
  readonly #transport: DataServerTransport;
  readonly #codec: Codec;
  /** Plain messages go to the transport as DataFrames (it carries structured data, and the codec is plain MessagePack). */
  readonly #asData: boolean;
  readonly #heartbeatMs: number;
  readonly #maxMessageBytes: number;
  readonly #maxInFlightPerPeer: number;
  readonly #maxInFlightBytesPerPeer: number;
  readonly #maxInFlight: number;
  readonly #maxInFlightBytes: number;
  readonly #argumentLimits: ArgumentLimits;
  readonly #logger: Logger;
  readonly #peerLog: PeerLogLimiter;
  readonly #counts = { callsRefused: 0, argumentsRefused: 0, malformedFrames: 0, framesDropped: 0, callsAbortedByDeparture: 0 };
  readonly #functions: Map<string, Registration>;
  /** What `$tw.functions` answers, made on first ask after a change (a JSON Schema per function is not free). */
  #description: Array<{ name: string; input?: Record<string, unknown> }> | undefined;
  readonly #active = new ActiveCalls();
  readonly #sequences = new EventSequences();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #state: ServerState = "stopped";
  /** The start() or stop() under way, so the other one can wait for it. */
  #transition: Promise<void> = Promise.resolve();

  constructor(options: RpcServerOptions) {
    this.#transport = options.transport as DataServerTransport;
    this.#codec = options.codec ?? msgpackCodec();
    this.#asData = options.transport.carriesData === true && this.#codec.plainData === true;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_BUDGETS.maxMessageBytes;
    this.#maxInFlightPerPeer = options.maxInFlightPerPeer ?? DEFAULT_BUDGETS.maxInFlightPerPeer;
    this.#maxInFlightBytesPerPeer = options.maxInFlightBytesPerPeer ?? DEFAULT_BUDGETS.maxInFlightBytesPerPeer;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_BUDGETS.maxInFlight;
    this.#maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_BUDGETS.maxInFlightBytes;
    this.#argumentLimits = {
      maxArgs: options.maxArgs ?? DEFAULT_BUDGETS.maxArgs,
      maxDepth: options.maxDepth ?? DEFAULT_BUDGETS.maxDepth,
    };
    this.#logger = options.logger ?? consoleLogger;
    this.#peerLog = new PeerLogLimiter(this.#logger, DEFAULT_BUDGETS.logLinesPerPeer, DEFAULT_BUDGETS.logWindowMs);
    // The ping tells a starting client the heartbeat interval, so it can pace its liveness check.
    const ping: Registration = { fn: () => ({ heartbeatMs: this.#heartbeatMs, epoch: this.#sequences.epoch }), input: undefined };
    // A subscriber's starting point: the last seq of the streams under its prefixes.
    const streams: Registration = {
      fn: (prefixes: unknown) => {
        if (!Array.isArray(prefixes) || prefixes.length > DEFAULT_BUDGETS.maxSubscriptionsPerPeer || !prefixes.every((p) => typeof p === "string")) {
          throw new RpcError("INVALID_ARGUMENT", `Expected an array of at most ${DEFAULT_BUDGETS.maxSubscriptionsPerPeer} topic prefixes`);
        }
        return { epoch: this.#sequences.epoch, streams: this.#sequences.snapshot(prefixes) };
      },
      input: undefined,
    };
    const functions: Registration = { fn: () => this.#describeFunctions(), input: undefined };
    this.#functions = new Map([[PING_FUNCTION, ping], [STREAMS_FUNCTION, streams], [FUNCTIONS_FUNCTION, functions]]);
  }

  /**
   * Serve `fn` under `name`. The handler gets the call's arguments, then a CallContext; with an
   * `input` schema its parameters are typed from the schema's output, so the two cannot drift.
   */
  register<S extends StandardSchemaV1 | undefined = undefined>(name: string, fn: HandlerFor<S>, options: RegisterOptions<S> = {}): this {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("Function name must be a non-empty string");
    if (typeof fn !== "function") throw new TypeError(`Handler for "${name}" is not a function`);
    if (name.startsWith(RESERVED_FUNCTION_PREFIX)) throw new TypeError(`Function names starting with "${RESERVED_FUNCTION_PREFIX}" are reserved`);
    if (this.#functions.has(name)) throw new Error(`Function "${name}" is already registered`);
    this.#functions.set(name, { fn: fn as Handler, input: options.input });
    this.#description = undefined;
    return this;
  }

  /** Serve every function of a service written once with `defineService`. */
  serve(service: ServiceDefinition): this {
    for (const [name, { input, handler }] of Object.entries(service.functions)) this.register(name, handler as Handler, { input });
    return this;
  }

  unregister(name: string): boolean {
    if (name.startsWith(RESERVED_FUNCTION_PREFIX) || !this.#functions.delete(name)) return false;
    this.#description = undefined;
    return true;
  }

  get functionNames(): string[] {
    return [...this.#functions.keys()].filter((name) => !name.startsWith(RESERVED_FUNCTION_PREFIX));
  }

  /** What `$tw.functions` answers (`tradewire ls`): each function, with its arguments' JSON Schema where the validator can give one. */
  #describeFunctions(): Array<{ name: string; input?: Record<string, unknown> }> {
    return (this.#description ??= this.functionNames.map((name) => {
      const input = jsonSchemaOf(this.#functions.get(name)!.input);
      return input === undefined ? { name } : { name, input };
    }));
  }

  get running(): boolean {
    return this.#state === "running";
  }

  /** What the server holds now and what it has refused since it was made. */
  get stats(): RpcServerStats {
    return {
      callsInFlight: this.#active.count(),
      requestBytesInFlight: this.#active.bytes(),
      peersWithCalls: this.#active.peers,
      ...this.#counts,
      logLinesHeldBack: this.#peerLog.suppressed,
      transport: { ...this.#transport.stats },
    };
  }

  /** Listen on the transport. Requests that arrive while it starts are served. */
  start(): Promise<void> {
    return this.#queue(() => this.#start());
  }

  /**
   * Stop serving: clients are told at once (a "stopping" heartbeat), calls in flight are
   * aborted and answered UNAVAILABLE, then the transport is closed. Waits for a start under way.
   */
  stop(): Promise<void> {
    return this.#queue(() => this.#stop());
  }

  /** Run start/stop steps one after another, whatever became of the one before. */
  #queue(step: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(step, step);
    this.#transition = next.catch(() => {});
    return next;
  }

  async #start(): Promise<void> {
    if (this.#state !== "stopped") return;
    this.#state = "starting";
    this.#sequences.restart();
    try {
      await this.#transport.listen({
        request: (frame, peer) => this.#onRequest(frame, peer),
        peerClosed: (peer) => this.#peerGone(peer),
      });
    } catch (error) {
      this.#state = "stopped";
      throw error;
    }
    this.#state = "running";
    if (this.#heartbeatMs > 0) {
      this.#beat("alive");
      this.#heartbeat = setInterval(() => this.#beat("alive"), this.#heartbeatMs);
      unrefTimer(this.#heartbeat);
    }
  }

  async #stop(): Promise<void> {
    if (this.#state !== "running") return;
    this.#state = "stopping";
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    if (this.#heartbeatMs > 0) this.#beat("stopping");
    for (const call of this.#active.takeAll()) {
      call.abort(new RpcError("UNAVAILABLE", "Server is stopping"));
      this.#replyError(call.peer, call.id, "UNAVAILABLE", "Server is stopping");
    }
    try {
      await this.#transport.close();
    } finally {
      this.#state = "stopped";
    }
  }

  /**
   * Count `count` events of `stream` as lost without sending anything: the next event of the
   * stream jumps as many numbers, and heartbeats announce it, so subscribers report a gap. For a
   * relay that learned of a loss upstream and must not hide it from its own subscribers.
   */
  markLost(stream: string, count: number, options?: Pick<PublishOptions, "latestValue">): void {
    if (typeof stream !== "string") throw new TypeError("Stream must be a string");
    if (stream.startsWith(RESERVED_TOPIC_PREFIX)) throw new TypeError(`Topics starting with "${RESERVED_TOPIC_PREFIX}" are reserved`);
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError("count must be a positive integer");
    if (this.#state !== "running") throw new RpcError("UNAVAILABLE", "Server is not running");
    const sequences = this.#sequences;
    sequences.sent(stream, sequences.following(stream) + count - 1, options?.latestValue !== true);
  }

  /**
   * Send `data` to every client subscribed to a prefix of `topic`. Throws RpcError
   * RESOURCE_EXHAUSTED if the encoded event exceeds maxMessageBytes.
   */
  publish(topic: string, data: unknown, options?: PublishOptions): void {
    if (typeof topic !== "string") throw new TypeError("Topic must be a string");
    if (topic.startsWith(RESERVED_TOPIC_PREFIX)) throw new TypeError(`Topics starting with "${RESERVED_TOPIC_PREFIX}" are reserved`);
    const stream = options?.stream ?? topic;
    if (stream !== topic && (typeof stream !== "string" || !topic.startsWith(stream))) {
      throw new TypeError(`Stream ${JSON.stringify(stream)} is not a prefix of topic ${JSON.stringify(topic)}`);
    }
    if (this.#state !== "running") throw new RpcError("UNAVAILABLE", "Server is not running");
    const sequences = this.#sequences;
    const seq = sequences.following(stream);
    // toArray() without the message object
    const frame = this.#frame(
      stream === topic
        ? [WIRE_VERSION, Kind.event, data, seq, sequences.epoch]
        : [WIRE_VERSION, Kind.event, data, seq, sequences.epoch, stream.length],
    );
    if (frame.byteLength > this.#maxMessageBytes) {
      throw new RpcError("RESOURCE_EXHAUSTED", `Event of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
    }
    const latestValue = options?.latestValue === true;
    sequences.sent(stream, seq, !latestValue);
    this.#transport.publish(topic, frame, latestValue);
  }

  #beat(state: "alive" | "stopping"): void {
    const heartbeat = { kind: "heartbeat", state, epoch: this.#sequences.epoch, ...this.#sequences.beat() } as const;
    this.#send(() => this.#transport.publish(HEARTBEAT_TOPIC, this.#encode(heartbeat)));
  }

  #onRequest(frame: Frame, peer: PeerId): void {
    if (this.#state !== "running" && this.#state !== "starting") {
      this.#counts.framesDropped++;
      this.#peerLog.warn(peer, `Dropped a frame from ${peer}: server is ${this.#state}`);
      return;
    }
    if (frame.byteLength > this.#maxMessageBytes) {
      this.#counts.framesDropped++;
      this.#peerLog.warn(peer, `Dropped a ${frame.byteLength}-byte frame from ${peer}: exceeds maxMessageBytes ${this.#maxMessageBytes}`);
      return;
    }
    let message: Message;
    try {
      message = fromArray(messageOf(frame, this.#codec));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#counts.malformedFrames++;
      this.#peerLog.warn(peer, `Dropped a malformed frame from ${peer}: ${reason}`);
      if (error instanceof MalformedFrameError && error.id !== undefined) {
        this.#replyError(peer, error.id, "INVALID_ARGUMENT", `Malformed request: ${reason}`);
      }
      return;
    }
    if (message.kind === "request") this.#serve(message, peer, frame.byteLength);
    else if (message.kind === "cancel") this.#cancel(peer, message.id);
    else if (message.kind === "credit") this.#active.get(peer, message.id)?.grant(message.n);
    else {
      this.#counts.malformedFrames++;
      this.#peerLog.warn(peer, `Dropped a ${message.kind} frame from ${peer}: not a client message`);
    }
  }

  /** Why a call of `bytes` from `peer` does not fit the budgets now, or undefined when it does. */
  #overBudget(peer: PeerId, bytes: number): string | undefined {
    const active = this.#active;
    if (active.count(peer) >= this.#maxInFlightPerPeer) return `Too many calls in flight from one caller (${this.#maxInFlightPerPeer})`;
    if (active.bytes(peer) + bytes > this.#maxInFlightBytesPerPeer) {
      return `Calls in flight from one caller would hold more than ${this.#maxInFlightBytesPerPeer} bytes`;
    }
    if (active.count() >= this.#maxInFlight) return `Too many calls in flight on this server (${this.#maxInFlight})`;
    if (active.bytes() + bytes > this.#maxInFlightBytes) return `Calls in flight on this server would hold more than ${this.#maxInFlightBytes} bytes`;
    return undefined;
  }

  #serve(request: RequestMessage, peer: PeerId, bytes: number): void {
    const registration = this.#functions.get(request.name);
    if (!registration) {
      const near = request.name.startsWith(RESERVED_FUNCTION_PREFIX) ? undefined : nearestName(request.name, this.functionNames);
      const hint = near === undefined ? "" : `: did you mean "${near}"?`;
      this.#replyError(peer, request.id, "NOT_FOUND", `No function named "${request.name}"${hint}`);
      return;
    }
    if (this.#active.get(peer, request.id)) {
      this.#replyError(peer, request.id, "INVALID_ARGUMENT", `Call id ${request.id} is already in flight`);
      return;
    }
    const overBudget = this.#overBudget(peer, bytes);
    if (overBudget !== undefined) {
      this.#counts.callsRefused++;
      this.#replyError(peer, request.id, "RESOURCE_EXHAUSTED", overBudget);
      return;
    }
    const badArguments = argumentProblem(request.args, this.#argumentLimits);
    if (badArguments !== undefined) {
      this.#counts.argumentsRefused++;
      this.#replyError(peer, request.id, "INVALID_ARGUMENT", badArguments);
      return;
    }
    const call = new ActiveCall(peer, request.id, bytes, request.timeoutMs, this.#onDeadline);
    this.#active.add(call);
    const context = new HandlerContext(call, request);
    try {
      if (!registration.input) return this.#run(registration, request.args, context, request, call);
      validate(registration.input, request.args).then(
        (args) => {
          try {
            this.#run(registration, args, context, request, call);
          } catch (error) {
            this.#answer(request, call, { error });
          }
        },
        (error: unknown) => this.#answer(request, call, { error }),
      );
    } catch (error) {
      this.#answer(request, call, { error });
    }
  }

  /** A call's deadline passed while its handler was watching its signal. One for all calls. */
  readonly #onDeadline = (call: ActiveCall): void => {
    if (this.#active.remove(call)) call.abort(new RpcError("TIMEOUT", `Deadline of ${call.timeoutMs} ms exceeded`));
  };

  #run(registration: Registration, args: unknown[], context: CallContext, request: RequestMessage, call: ActiveCall): void {
    // Sync handlers are answered without a detour through the microtask queue.
    const result = registration.fn(...args, context);
    if (isThenable(result)) {
      result.then(
        (value) => this.#finish(request, call, value),
        (error: unknown) => this.#answer(request, call, { error }),
      );
    } else {
      this.#finish(request, call, result);
    }
  }

  /** The handler's value: streamed to a caller that asked for a stream, else answered whole. */
  #finish(request: RequestMessage, call: ActiveCall, value: unknown): void {
    if (request.credit > 0) {
      void this.#streamOut(request, call, itemsOf(value));
    } else if (isStreamSource(value)) {
      collect(itemsOf(value), MAX_COLLECTED_ITEMS, () => call.released).then(
        (items) => this.#answer(request, call, { value: items }),
        (error: unknown) => this.#answer(request, call, { error: error instanceof RangeError ? new RpcError("RESOURCE_EXHAUSTED", error.message) : error }),
      );
    } else {
      this.#answer(request, call, { value });
    }
  }

  /**
   * Send a stream's items while the caller has granted credit, then `end`; a handler error ends
   * it with an error frame. Stops, and closes the handler's iterator, when the call is cancelled,
   * times out, loses its caller or the server stops.
   */
  async #streamOut(request: RequestMessage, call: ActiveCall, items: AsyncIterator<unknown>): Promise<void> {
    call.credit = request.credit;
    void call.signal; // arms the deadline: it covers the whole stream
    let iteratorDone = false;
    try {
      for (;;) {
        if (call.released) return;
        if (call.credit <= 0) {
          await call.waitForCredit();
          continue;
        }
        const next = await items.next();
        if (next.done) iteratorDone = true;
        if (call.released) return;
        if (next.done) {
          if (this.#active.remove(call)) this.#sendReply(call.peer, this.#frame([WIRE_VERSION, Kind.end, call.id]));
          return;
        }
        let frame: Frame;
        try {
          frame = this.#frame([WIRE_VERSION, Kind.item, call.id, next.value]);
        } catch (error) {
          throw new RpcError("INTERNAL", `An item of "${request.name}" could not be encoded: ${errorMessage(error)}`);
        }
        if (frame.byteLength > this.#maxMessageBytes) {
          throw new RpcError("RESOURCE_EXHAUSTED", `Stream item of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
        }
        call.credit--;
        this.#sendReply(call.peer, frame);
      }
    } catch (error) {
      this.#answer(request, call, { error });
    } finally {
      if (!iteratorDone) void items.return?.()?.catch(() => {});
    }
  }

  #answer(request: RequestMessage, call: ActiveCall, outcome: { value: unknown } | { error: unknown }): void {
    // A call that was cancelled, timed out or cut off by stop() has been answered already (or needs no answer).
    if (!this.#active.remove(call)) return;
    try {
      this.#reply(request, call, outcome);
    } catch (error) {
      this.#logger.error(`Answering "${request.name}" failed: ${errorMessage(error)}`, error);
      this.#replyError(call.peer, call.id, "INTERNAL", `Answering "${request.name}" failed`);
    }
  }

  #reply(request: RequestMessage, call: ActiveCall, outcome: { value: unknown } | { error: unknown }): void {
    if (call.expired) return; // the caller has given up; its own deadline fired first
    const { peer, id } = call;
    if ("error" in outcome) {
      const error = RpcError.from(outcome.error);
      this.#replyError(peer, id, error.code, error.rawMessage);
      return;
    }
    let frame: Frame;
    try {
      frame = this.#frame([WIRE_VERSION, Kind.result, id, outcome.value]); // toArray() without the message object
    } catch (error) {
      this.#replyError(peer, id, "INTERNAL", `Result of "${request.name}" could not be encoded: ${errorMessage(error)}`);
      return;
    }
    if (frame.byteLength > this.#maxMessageBytes) {
      this.#replyError(peer, id, "RESOURCE_EXHAUSTED", `Reply of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
      return;
    }
    this.#sendReply(peer, frame);
  }

  #cancel(peer: PeerId, id: number): void {
    const call = this.#active.get(peer, id);
    if (call && this.#active.remove(call)) call.abort(new RpcError("CANCELLED", "Cancelled by the caller"));
  }

  /** The transport saw the caller leave: its calls are aborted and everything held for it freed. */
  #peerGone(peer: PeerId): void {
    const calls = this.#active.takeAll(peer);
    this.#counts.callsAbortedByDeparture += calls.length;
    for (const call of calls) call.abort(new RpcError("CANCELLED", "Caller disconnected"));
    this.#peerLog.forget(peer);
  }

  #replyError(peer: PeerId, id: number, code: RpcCode, message: string): void {
    this.#send(() => this.#transport.reply(peer, this.#encode({ kind: "error", id, code, message })));
  }

  /** #send for the common case, without a closure per reply. */
  #sendReply(peer: PeerId, frame: Frame): void {
    try {
      this.#transport.reply(peer, frame);
    } catch (error) {
      this.#logger.error(`Transport send failed: ${errorMessage(error)}`, error);
    }
  }

  #encode(message: Message): Frame {
    return this.#frame(toArray(message));
  }

  /** Codec bytes, or a DataFrame for a transport that carries data. */
  #frame(message: unknown[]): Frame {
    return frameOf(message, this.#codec, this.#asData);
  }

  /** A transport failure on one send must not take the server down: log it and go on. */
  #send(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.#logger.error(`Transport send failed: ${errorMessage(error)}`, error);
    }
  }
}

async function validate(schema: StandardSchemaV1, args: unknown[]): Promise<unknown[]> {
  let result = schema["~standard"].validate(args);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    const detail = result.issues.map((issue) => {
      const path = issue.path?.map((p) => (typeof p === "object" ? p.key : p)).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    });
    throw new RpcError("INVALID_ARGUMENT", detail.join("; "));
  }
  if (!Array.isArray(result.value)) throw new RpcError("INTERNAL", "Input validator did not produce an arguments array");
  return result.value;
}

/**
 * A class rather than an object literal with a getter: a literal's per-call getter closure gives
 * every context a hidden class of its own, allocated in old space, which made the server run a
 * full GC every few thousand calls.
 */
class HandlerContext implements CallContext {
  readonly #call: ActiveCall;
  readonly meta: Readonly<Meta>;
  readonly functionName: string;
  readonly peer: PeerId;

  constructor(call: ActiveCall, request: RequestMessage) {
    this.#call = call;
    this.meta = request.meta;
    this.functionName = request.name;
    this.peer = call.peer;
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }
}

/** A Standard JSON Schema validator's description of its input (zod 4, arktype…), when it has one. */
function jsonSchemaOf(schema: StandardSchemaV1 | undefined): Record<string, unknown> | undefined {
  type Converter = { input?: (options: { target: string; libraryOptions?: Record<string, unknown> }) => Record<string, unknown> };
  const converter = (schema?.["~standard"] as { jsonSchema?: Converter } | undefined)?.jsonSchema;
  if (typeof converter?.input !== "function") return undefined;
  try {
    // valibot's converter refuses transforms unless told to leave them out; others ignore the option.
    return converter.input({ target: "draft-2020-12", libraryOptions: { errorMode: "ignore" } });
  } catch {
    return undefined; // the validator cannot describe this schema
  }
}

/** Items a plain call may collect from a handler that returns a stream; more must be streamed. */
const MAX_COLLECTED_ITEMS = 100_000;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
