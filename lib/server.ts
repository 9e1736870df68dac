import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ActiveCall, ActiveCalls } from "./active-calls.ts";
import { msgpackCodec, type Codec } from "./codec.ts";
import { errorMessage, RpcError, type RpcCode } from "./errors.ts";
import { consoleLogger, unrefTimer, type Logger } from "./logger.ts";
import type { PeerId, ServerTransport } from "./transport.ts";
import {
  fromArray,
  DEFAULT_MAX_MESSAGE_BYTES,
  HEARTBEAT_TOPIC,
  Kind,
  MalformedFrameError,
  PING_FUNCTION,
  RESERVED_FUNCTION_PREFIX,
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

export interface RegisterOptions {
  /** A Standard Schema validator (zod, valibot, arktype…) for the arguments array. */
  input?: StandardSchemaV1;
}

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
  logger?: Logger;
}

type ServerState = "stopped" | "starting" | "running" | "stopping";

interface Registration {
  fn: Handler;
  input: StandardSchemaV1 | undefined;
}

/** Serves registered functions to every client of one transport, and publishes topics to them. */
export class RpcServer {
  readonly #transport: ServerTransport;
  readonly #codec: Codec;
  readonly #heartbeatMs: number;
  readonly #maxMessageBytes: number;
  readonly #maxInFlightPerPeer: number;
  readonly #logger: Logger;
  readonly #functions: Map<string, Registration>;
  readonly #active = new ActiveCalls();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #state: ServerState = "stopped";
  /** The start() or stop() under way, so the other one can wait for it. */
  #transition: Promise<void> = Promise.resolve();

  constructor(options: RpcServerOptions) {
    this.#transport = options.transport;
    this.#codec = options.codec ?? msgpackCodec();
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#maxInFlightPerPeer = options.maxInFlightPerPeer ?? 1000;
    this.#logger = options.logger ?? consoleLogger;
    // The ping tells a starting client the heartbeat interval, so it can pace its liveness check.
    const ping: Registration = { fn: () => ({ heartbeatMs: this.#heartbeatMs }), input: undefined };
    this.#functions = new Map([[PING_FUNCTION, ping]]);
  }

  /** Serve `fn` under `name`. The handler gets the call's arguments, then a CallContext. */
  register(name: string, fn: Handler, options: RegisterOptions = {}): this {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("Function name must be a non-empty string");
    if (typeof fn !== "function") throw new TypeError(`Handler for "${name}" is not a function`);
    if (name.startsWith(RESERVED_FUNCTION_PREFIX)) throw new TypeError(`Function names starting with "${RESERVED_FUNCTION_PREFIX}" are reserved`);
    if (this.#functions.has(name)) throw new Error(`Function "${name}" is already registered`);
    this.#functions.set(name, { fn, input: options.input });
    return this;
  }

  unregister(name: string): boolean {
    return !name.startsWith(RESERVED_FUNCTION_PREFIX) && this.#functions.delete(name);
  }

  get functionNames(): string[] {
    return [...this.#functions.keys()].filter((name) => !name.startsWith(RESERVED_FUNCTION_PREFIX));
  }

  get running(): boolean {
    return this.#state === "running";
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
    try {
      await this.#transport.listen({
        request: (frame, peer) => this.#onRequest(frame, peer),
        peerClosed: (peer) => this.#abortPeer(peer, "Caller disconnected"),
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
   * Send `data` to every client subscribed to a prefix of `topic`. Throws RpcError
   * RESOURCE_EXHAUSTED if the encoded event exceeds maxMessageBytes.
   */
  publish(topic: string, data: unknown): void {
    if (typeof topic !== "string") throw new TypeError("Topic must be a string");
    if (topic.startsWith(RESERVED_TOPIC_PREFIX)) throw new TypeError(`Topics starting with "${RESERVED_TOPIC_PREFIX}" are reserved`);
    if (this.#state !== "running") throw new RpcError("UNAVAILABLE", "Server is not running");
    const frame = this.#codec.encode([WIRE_VERSION, Kind.event, data]); // toArray() without the message object
    if (frame.byteLength > this.#maxMessageBytes) {
      throw new RpcError("RESOURCE_EXHAUSTED", `Event of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
    }
    this.#transport.publish(topic, frame);
  }

  #beat(state: "alive" | "stopping"): void {
    this.#send(() => this.#transport.publish(HEARTBEAT_TOPIC, this.#encode({ kind: "heartbeat", state })));
  }

  #onRequest(frame: Uint8Array, peer: PeerId): void {
    if (this.#state !== "running" && this.#state !== "starting") {
      this.#logger.warn(`Dropped a frame from ${peer}: server is ${this.#state}`);
      return;
    }
    if (frame.byteLength > this.#maxMessageBytes) {
      this.#logger.warn(`Dropped a ${frame.byteLength}-byte frame from ${peer}: exceeds maxMessageBytes ${this.#maxMessageBytes}`);
      return;
    }
    let message: Message;
    try {
      message = fromArray(this.#codec.decode(frame));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#logger.warn(`Dropped a malformed frame from ${peer}: ${reason}`);
      if (error instanceof MalformedFrameError && error.id !== undefined) {
        this.#replyError(peer, error.id, "INVALID_ARGUMENT", `Malformed request: ${reason}`);
      }
      return;
    }
    if (message.kind === "request") this.#serve(message, peer);
    else if (message.kind === "cancel") this.#cancel(peer, message.id);
    else this.#logger.warn(`Dropped a ${message.kind} frame from ${peer}: not a client message`);
  }

  #serve(request: RequestMessage, peer: PeerId): void {
    const registration = this.#functions.get(request.name);
    if (!registration) {
      this.#replyError(peer, request.id, "NOT_FOUND", `No function named "${request.name}"`);
      return;
    }
    if (this.#active.get(peer, request.id)) {
      this.#replyError(peer, request.id, "INVALID_ARGUMENT", `Call id ${request.id} is already in flight`);
      return;
    }
    if (this.#active.count(peer) >= this.#maxInFlightPerPeer) {
      this.#replyError(peer, request.id, "RESOURCE_EXHAUSTED", `Too many calls in flight from one caller (${this.#maxInFlightPerPeer})`);
      return;
    }
    const call: ActiveCall = new ActiveCall(peer, request.id, request.timeoutMs, () => {
      if (this.#active.remove(call)) call.abort(new RpcError("TIMEOUT", `Deadline of ${request.timeoutMs} ms exceeded`));
    });
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

  #run(registration: Registration, args: unknown[], context: CallContext, request: RequestMessage, call: ActiveCall): void {
    // Sync handlers are answered without a detour through the microtask queue.
    const result = registration.fn(...args, context);
    if (isThenable(result)) {
      result.then(
        (value) => this.#answer(request, call, { value }),
        (error: unknown) => this.#answer(request, call, { error }),
      );
    } else {
      this.#answer(request, call, { value: result });
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
    let frame: Uint8Array;
    try {
      frame = this.#codec.encode([WIRE_VERSION, Kind.result, id, outcome.value]); // toArray() without the message object
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

  #abortPeer(peer: PeerId, reason: string): void {
    for (const call of this.#active.takeAll(peer)) call.abort(new RpcError("CANCELLED", reason));
  }

  #replyError(peer: PeerId, id: number, code: RpcCode, message: string): void {
    this.#send(() => this.#transport.reply(peer, this.#encode({ kind: "error", id, code, message })));
  }

  /** #send for the common case, without a closure per reply. */
  #sendReply(peer: PeerId, frame: Uint8Array): void {
    try {
      this.#transport.reply(peer, frame);
    } catch (error) {
      this.#logger.error(`Transport send failed: ${errorMessage(error)}`, error);
    }
  }

  #encode(message: Message): Uint8Array {
    return this.#codec.encode(toArray(message));
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
