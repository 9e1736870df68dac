import type { StandardSchemaV1 } from "@standard-schema/spec";
import { msgpackCodec, type Codec } from "./codec.ts";
import { RpcError, type RpcCode } from "./errors.ts";
import { consoleLogger, unrefTimer, type Logger } from "./logger.ts";
import type { PeerId, ServerTransport } from "./transport.ts";
import {
  fromArray,
  HEARTBEAT_TOPIC,
  MalformedFrameError,
  PING_FUNCTION,
  RESERVED_FUNCTION_PREFIX,
  RESERVED_TOPIC_PREFIX,
  toArray,
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
  /** Largest frame accepted or sent. Default 16 MiB. */
  maxMessageBytes?: number;
  logger?: Logger;
}

interface Registration {
  fn: Handler;
  input: StandardSchemaV1 | undefined;
}

interface ActiveCall {
  controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Serves registered functions to every client of one transport, and publishes topics to them. */
export class RpcServer {
  readonly #transport: ServerTransport;
  readonly #codec: Codec;
  readonly #heartbeatMs: number;
  readonly #maxMessageBytes: number;
  readonly #logger: Logger;
  readonly #functions = new Map<string, Registration>([[PING_FUNCTION, { fn: () => "pong", input: undefined }]]);
  readonly #active = new Map<string, ActiveCall>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #running = false;

  constructor(options: RpcServerOptions) {
    this.#transport = options.transport;
    this.#codec = options.codec ?? msgpackCodec();
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#logger = options.logger ?? consoleLogger;
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
    return this.#running;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await this.#transport.listen({
      request: (frame, peer) => this.#onRequest(frame, peer),
      peerClosed: (peer) => this.#abortPeer(peer, "Caller disconnected"),
    });
    this.#running = true;
    if (this.#heartbeatMs > 0) {
      this.#beat("alive");
      this.#heartbeat = setInterval(() => this.#beat("alive"), this.#heartbeatMs);
      unrefTimer(this.#heartbeat);
    }
  }

  /**
   * Stop serving: clients are told at once (a "stopping" heartbeat), calls in flight are
   * aborted and answered UNAVAILABLE, then the transport is closed.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    if (this.#heartbeatMs > 0) this.#send(() => this.#transport.publish(HEARTBEAT_TOPIC, this.#encode({ kind: "heartbeat", state: "stopping" })));
    for (const [key, call] of this.#active) {
      const [peer, id] = splitKey(key);
      this.#finish(key, call);
      call.controller.abort(new RpcError("UNAVAILABLE", "Server is stopping"));
      this.#replyError(peer, id, "UNAVAILABLE", "Server is stopping");
    }
    await this.#transport.close();
  }

  /**
   * Send `data` to every client subscribed to a prefix of `topic`. Throws RpcError
   * RESOURCE_EXHAUSTED if the encoded event exceeds maxMessageBytes.
   */
  publish(topic: string, data: unknown): void {
    if (typeof topic !== "string") throw new TypeError("Topic must be a string");
    if (topic.startsWith(RESERVED_TOPIC_PREFIX)) throw new TypeError(`Topics starting with "${RESERVED_TOPIC_PREFIX}" are reserved`);
    if (!this.#running) throw new RpcError("UNAVAILABLE", "Server is not running");
    const frame = this.#encode({ kind: "event", data });
    if (frame.byteLength > this.#maxMessageBytes) {
      throw new RpcError("RESOURCE_EXHAUSTED", `Event of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
    }
    this.#transport.publish(topic, frame);
  }

  #beat(state: "alive" | "stopping"): void {
    this.#send(() => this.#transport.publish(HEARTBEAT_TOPIC, this.#encode({ kind: "heartbeat", state })));
  }

  #onRequest(frame: Uint8Array, peer: PeerId): void {
    if (!this.#running) return;
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
    if (message.kind === "request") void this.#serve(message, peer);
    else if (message.kind === "cancel") this.#cancel(peer, message.id);
    else this.#logger.warn(`Dropped a ${message.kind} frame from ${peer}: not a client message`);
  }

  async #serve(request: RequestMessage, peer: PeerId): Promise<void> {
    const registration = this.#functions.get(request.name);
    if (!registration) {
      this.#replyError(peer, request.id, "NOT_FOUND", `No function named "${request.name}"`);
      return;
    }
    const key = callKey(peer, request.id);
    if (this.#active.has(key)) {
      this.#replyError(peer, request.id, "INVALID_ARGUMENT", `Call id ${request.id} is already in flight`);
      return;
    }
    const controller = new AbortController();
    const call: ActiveCall = { controller, timer: undefined };
    if (request.timeoutMs > 0) {
      call.timer = setTimeout(() => {
        this.#finish(key, call);
        controller.abort(new RpcError("TIMEOUT", `Deadline of ${request.timeoutMs} ms exceeded`));
      }, request.timeoutMs);
    }
    this.#active.set(key, call);

    let outcome: { value: unknown } | { error: RpcError };
    try {
      const args = registration.input ? await validate(registration.input, request.args) : request.args;
      const context: CallContext = { signal: controller.signal, meta: request.meta, functionName: request.name, peer };
      outcome = { value: await registration.fn(...args, context) };
    } catch (error) {
      outcome = { error: RpcError.from(error) };
    }
    // A call that was cancelled, timed out or cut off by stop() has been answered already (or needs no answer).
    if (this.#active.get(key) !== call) return;
    this.#finish(key, call);
    if ("error" in outcome) {
      this.#replyError(peer, request.id, outcome.error.code, outcome.error.rawMessage);
      return;
    }
    let frame: Uint8Array;
    try {
      frame = this.#encode({ kind: "result", id: request.id, value: outcome.value });
    } catch (error) {
      this.#replyError(peer, request.id, "INTERNAL", `Result of "${request.name}" could not be encoded: ${errorMessage(error)}`);
      return;
    }
    if (frame.byteLength > this.#maxMessageBytes) {
      this.#replyError(peer, request.id, "RESOURCE_EXHAUSTED", `Reply of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
      return;
    }
    this.#send(() => this.#transport.reply(peer, frame));
  }

  #cancel(peer: PeerId, id: number): void {
    const key = callKey(peer, id);
    const call = this.#active.get(key);
    if (!call) return;
    this.#finish(key, call);
    call.controller.abort(new RpcError("CANCELLED", "Cancelled by the caller"));
  }

  #abortPeer(peer: PeerId, reason: string): void {
    for (const [key, call] of this.#active) {
      if (splitKey(key)[0] !== peer) continue;
      this.#finish(key, call);
      call.controller.abort(new RpcError("CANCELLED", reason));
    }
  }

  #finish(key: string, call: ActiveCall): void {
    clearTimeout(call.timer);
    this.#active.delete(key);
  }

  #replyError(peer: PeerId, id: number, code: RpcCode, message: string): void {
    this.#send(() => this.#transport.reply(peer, this.#encode({ kind: "error", id, code, message })));
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

function callKey(peer: PeerId, id: number): string {
  return `${id}:${peer}`;
}

function splitKey(key: string): [PeerId, number] {
  const colon = key.indexOf(":");
  return [key.slice(colon + 1), Number(key.slice(0, colon))];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
