import { argumentProblem, type ArgumentLimits } from "./argument-limits.ts";
import { DEFAULT_BUDGETS } from "./budgets.ts";
import { msgpackCodec, type Codec } from "./codec.ts";
import { errorMessage, RpcError } from "./errors.ts";
import { GapDetector, type Gap } from "./gap-detector.ts";
import { IdTable } from "./id-table.ts";
import { RingQueue } from "./ring-queue.ts";
import { IncomingStream } from "./incoming-stream.ts";
import { consoleLogger, unrefTimer, type Logger } from "./logger.ts";
import type { ClientTransport, DataClientTransport } from "./transport.ts";
import { frameOf, messageOf, type Frame } from "./data-frame.ts";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { CallContext } from "./server.ts";
import type { Method, ServiceDefinition } from "./service.ts";
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  fromArray,
  HEARTBEAT_TOPIC,
  Kind,
  MAX_TIMER_MS,
  PING_FUNCTION,
  RESERVED_TOPIC_PREFIX,
  STREAMS_FUNCTION,
  toArray,
  WIRE_VERSION,
  type Message,
  type Meta,
} from "./wire.ts";

export interface CallOptions {
  /** Overrides the client's default; 0 means no deadline. */
  timeoutMs?: number;
  /** Aborting it rejects the call with CANCELLED and tells the server to abort the handler. */
  signal?: AbortSignal;
  /** String key/values delivered to the handler's context. */
  meta?: Meta;
}

export interface RpcClientOptions {
  transport: ClientTransport;
  /** Default: MessagePack. Client and server must agree. */
  codec?: Codec;
  /** Default deadline of a call. Default 10 000 ms. */
  timeoutMs?: number;
  /** Silence after which the server is deemed gone; 0 turns liveness off. Default 3000 ms. */
  heartbeatToleranceMs?: number;
  /** Calls allowed in flight at once; more are refused with RESOURCE_EXHAUSTED. Default 10 000. */
  maxInFlight?: number;
  /** Largest request this client sends. Default 4 MiB. */
  maxMessageBytes?: number;
  /**
   * Arguments per call and their nesting depth, checked before sending so a call the server
   * would refuse fails at once with INVALID_ARGUMENT. Keep them equal to the server's. Defaults
   * 1024 and 32, as the server's.
   */
  maxArgs?: number;
  maxDepth?: number;
  logger?: Logger;
}

export type ConnectionState = "idle" | "connecting" | "connected" | "disconnected";
export type TopicHandler = (topic: string, data: unknown) => void;

type ClientEvents = {
  connected: () => void;
  disconnected: (reason: string) => void;
  /** Events of a stream our subscriptions cover did not arrive (lost on the way, or skipped for a slow subscriber). */
  gap: (gap: Gap) => void;
  /** The server restarted (a new epoch): what it published before is gone. */
  restart: (epoch: number) => void;
};

export interface StreamOptions extends CallOptions {
  /**
   * Items the server may send ahead of the consumer; credit is granted back as items are taken.
   * Default 64. The deadline (`timeoutMs`) covers the whole stream; 0 for none.
   */
  credit?: number;
}

/** Credit of a stream when none is given: enough to keep a round trip's worth of items coming. */
const DEFAULT_STREAM_CREDIT = 64;

interface PendingCall {
  /** Set when it is sent. */
  id: number;
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  /** Set for a stream: its items go here. */
  stream: IncomingStream<unknown> | undefined;
  name: string;
  /** performance.now() at which the call times out; meaningful only with a group. */
  deadline: number;
  group: DeadlineGroup | undefined;
  detach: (() => void) | undefined;
}

/**
 * The calls in flight that share one timeout, oldest first. Their deadlines come in the order
 * they were made, so one timer (armed for the oldest) serves them all: a timer per call cost
 * about 10 µs of a round trip. On Node the timer is not cleared when calls settle; it is unref'd
 * while the group is empty and, when it fires, times out the expired calls and re-arms for the next.
 * A call that settles leaves the group (its `group` is unset) and its entry in `queue` is dropped
 * once it is the oldest, or when settled entries behind a slow call outnumber the live ones.
 */
interface DeadlineGroup {
  readonly timeoutMs: number;
  /** The calls of the group in the order they were made; settled ones until they are dropped. */
  readonly queue: RingQueue<PendingCall>;
  /** Calls of the group not settled yet. */
  live: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Settled entries a group's queue may hold beyond twice its live calls before it is compacted. */
const SETTLED_SLACK = 64;

/** Timers fire on a millisecond clock: a call this close to its deadline has reached it. */
const TIMER_SLACK_MS = 1;

/** Methods of T, each returning a Promise of its result: what `proxy<T>()` hands out. */
export type Remote<T> = T extends ServiceDefinition<infer F, any> ? RemoteFunctions<F> : RemoteFunctions<T>;

type RemoteFunctions<T> = {
  [K in keyof T]: T[K] extends Method<infer S, infer R>
    ? RemoteFunction<AsArgs<StandardSchemaV1.InferInput<S>>, R>
    : T[K] extends (...args: infer A) => infer R
      ? RemoteFunction<WithoutContext<A>, R>
      : never;
};

type AsArgs<T> = T extends readonly unknown[] ? [...T] : unknown[];

/** A handler's parameters as a caller passes them: without the trailing call context. */
type WithoutContext<A extends unknown[]> = A extends [...infer P, CallContext] ? P : A;

/** A function of the proxy: called, it resolves with the result; `.stream(…)` reads it item by item. */
export type RemoteFunction<A extends unknown[], R> = ((...args: A) => Promise<CallResult<R>>) & {
  stream(...args: A): AsyncIterableIterator<StreamItem<R>>;
  /** The same function with options for its calls: `api.quote.with({ timeoutMs: 500, signal })("IF2512")`. */
  with(options: StreamOptions): RemoteFunction<A, R>;
};

/** What a call resolves to: a handler's stream (async iterable, generator, ReadableStream) arrives collected in an array. */
export type CallResult<R> = Awaited<R> extends AsyncIterable<infer I> | Generator<infer I> | ReadableStream<infer I> ? I[] : Awaited<R>;

/** One item of a streamed result: a stream's items, an array's elements, or the value itself. */
export type StreamItem<R> =
  Awaited<R> extends AsyncIterable<infer I> | Generator<infer I> | ReadableStream<infer I> ? I
  : Awaited<R> extends ReadonlyArray<infer E> ? E
  : Awaited<R>;

/** Calls a server's functions and receives its broadcasts, over any ClientTransport. */
export class RpcClient {
  /** A DataClientTransport only when `#asData`: typed so, as frames are made for it. */
  readonly #transport: DataClientTransport;
  readonly #codec: Codec;
  readonly #timeoutMs: number;
  readonly #toleranceMs: number;
  readonly #maxInFlight: number;
  readonly #maxMessageBytes: number;
  readonly #argumentLimits: ArgumentLimits;
  readonly #logger: Logger;
  /** Plain messages go to the transport as DataFrames (it carries structured data, and the codec is plain MessagePack). */
  readonly #asData: boolean;
  readonly #pending = new IdTable<PendingCall>();
  readonly #deadlines = new Map<number, DeadlineGroup>();
  readonly #subscriptions = new Map<string, Set<TopicHandler>>();
  readonly #listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    connected: new Set(),
    disconnected: new Set(),
    gap: new Set(),
    restart: new Set(),
  };
  readonly #gaps = new GapDetector(
    () => this.#subscriptions.keys(),
    (gap) => this.#emit("gap", gap),
    (epoch) => this.#emit("restart", epoch),
  );
  /** Starting points being fetched for new prefixes; `synced()` waits for them. */
  readonly #syncing = new Set<Promise<void>>();
  #state: ConnectionState = "idle";
  #nextId = 1;
  #liveness: ReturnType<typeof setTimeout> | undefined;
  /** Off when the server sends no heartbeats (it says so in its ping reply). */
  #livenessOn: boolean;
  /** The transport reported its link down and not up again since. */
  #linkDown = false;
  /** Bumped by stop(), so a start() that was waiting on the transport knows it was overtaken. */
  #generation = 0;

  constructor(options: RpcClientOptions) {
    this.#transport = options.transport as DataClientTransport;
    this.#codec = options.codec ?? msgpackCodec();
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#toleranceMs = options.heartbeatToleranceMs ?? 3000;
    this.#livenessOn = this.#toleranceMs > 0;
    this.#maxInFlight = options.maxInFlight ?? 10_000;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#argumentLimits = {
      maxArgs: options.maxArgs ?? DEFAULT_BUDGETS.maxArgs,
      maxDepth: options.maxDepth ?? DEFAULT_BUDGETS.maxDepth,
    };
    this.#logger = options.logger ?? consoleLogger;
    this.#asData = this.#transport.carriesData === true && this.#codec.plainData === true;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  async start(): Promise<void> {
    if (this.#state !== "idle") return;
    this.#state = "connecting";
    const generation = this.#generation;
    try {
      await this.#connect();
    } catch (error) {
      if (generation === this.#generation) this.#state = "idle";
      // Whatever the transport opened before failing is released; start() may be tried again.
      await this.#transport.close().catch(() => {});
      throw error;
    }
    if (generation !== this.#generation) return; // stopped while connecting
    for (const prefix of [...this.#subscriptions.keys()]) {
      try {
        this.#transport.subscribe(prefix);
      } catch (error) {
        // Made before start(), and refused by the transport now (too long, too many): said, not kept.
        this.#subscriptions.delete(prefix);
        this.#logger.error(`Subscription to "${prefix}" refused: ${errorMessage(error)}`, error);
      }
    }
    const followsGaps = this.#listeners.gap.size > 0;
    if (followsGaps) this.#sync([...this.#subscriptions.keys()]);
    // Heartbeats also name the streams published lately: a client following gaps hears them even with liveness off.
    if (this.#livenessOn || followsGaps) this.#transport.subscribe(HEARTBEAT_TOPIC);
    if (!this.#livenessOn) return this.#alive();
    this.#armLiveness();
    // One round trip tells us the server is there, without waiting for its next heartbeat,
    // and how often it beats: a server that sends no heartbeats turns our liveness check off.
    this.call<{ heartbeatMs?: unknown; epoch?: unknown }>(PING_FUNCTION, [], { timeoutMs: this.#toleranceMs }).then(
      (pong) => {
        if (generation !== this.#generation) return;
        if (typeof pong?.epoch === "number") this.#gaps.epochSeen(pong.epoch);
        if (pong?.heartbeatMs === 0) {
          this.#livenessOn = false;
          clearTimeout(this.#liveness);
        } else if (typeof pong?.heartbeatMs === "number" && pong.heartbeatMs >= this.#toleranceMs) {
          this.#logger.warn(`Server heartbeat every ${pong.heartbeatMs} ms is not within heartbeatToleranceMs ${this.#toleranceMs}: expect false disconnects`);
        }
        this.#alive();
      },
      () => {}, // silence is handled by the liveness timer
    );
  }

  #connect(): Promise<void> {
    return this.#transport.connect({
      reply: (frame) => this.#onReply(frame),
      broadcast: (topic, frame) => this.#onBroadcast(topic, frame),
      linkDown: (reason) => {
        this.#linkDown = true;
        this.#lost(reason);
      },
      linkUp: () => {
        this.#linkDown = false;
        this.#alive();
      },
    });
  }

  /** Fails every call in flight with UNAVAILABLE and releases the transport. */
  async stop(): Promise<void> {
    if (this.#state === "idle") return;
    this.#state = "idle";
    this.#generation++;
    this.#linkDown = false;
    this.#livenessOn = this.#toleranceMs > 0;
    clearTimeout(this.#liveness);
    this.#failAll("UNAVAILABLE", "Client stopped");
    await this.#transport.close();
  }

  /**
   * Listen to `connected`, `disconnected`, `gap` or `restart`. While anyone listens to `gap`,
   * each new subscription asks the server where its streams stand (one `$tw.streams` call), so
   * that even the first event after subscribing can be missed and reported.
   */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    const firstGapListener = event === "gap" && this.#listeners.gap.size === 0;
    this.#listeners[event].add(listener);
    if (firstGapListener && this.#state !== "idle") this.#sync([...this.#subscriptions.keys()]);
    return () => this.#listeners[event].delete(listener);
  }

  call<R = unknown>(name: string, args: readonly unknown[] = NO_ARGS, options: CallOptions = NO_OPTIONS): Promise<R> {
    try {
      return this.#call(name, args, options) as Promise<R>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #call(name: string, args: readonly unknown[], options: CallOptions): Promise<unknown> {
    const pending: PendingCall = { id: 0, resolve: noop, reject: noop, stream: undefined, name, deadline: 0, group: undefined, detach: undefined };
    const promise = new Promise<unknown>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
    const refused = this.#request(pending, args, options, 0);
    return refused ? Promise.reject(refused) : promise;
  }

  /**
   * Call a function that returns many values: its items arrive as they are produced, at most
   * `credit` ahead of the consumer. `break` (or `return()`) cancels it on the server; a handler
   * error, the deadline or a lost connection ends it with an RpcError.
   *
   * ```ts
   * for await (const bar of client.stream<BarData>("queryHistory", [req])) chart.add(bar);
   * ```
   */
  stream<T = unknown>(name: string, args: readonly unknown[] = NO_ARGS, options: StreamOptions = NO_OPTIONS): AsyncIterableIterator<T> {
    const credit = options.credit ?? DEFAULT_STREAM_CREDIT;
    const stream = new IncomingStream<unknown>(Number.isSafeInteger(credit) && credit > 0 ? credit : 1);
    if (!Number.isSafeInteger(credit) || credit < 1) {
      stream.fail(new RangeError("credit must be a positive integer"));
      return stream as IncomingStream<T>;
    }
    const pending: PendingCall = {
      id: 0,
      resolve: (value) => stream.finishWith(value), // a server that answered with one value (an older one)
      reject: (error) => stream.fail(error),
      stream,
      name,
      deadline: 0,
      group: undefined,
      detach: undefined,
    };
    const refused = this.#request(pending, args, options, credit);
    if (refused) stream.fail(refused);
    return stream as IncomingStream<T>;
  }

  /** Check, encode and send a request, and follow it in `#pending`. Returns why it was refused, if it was. */
  #request(pending: PendingCall, args: readonly unknown[], options: CallOptions, credit: number): Error | undefined {
    const name = pending.name;
    if (this.#state === "idle") return new RpcError("UNAVAILABLE", "Client is not started");
    if (this.#state === "disconnected") return new RpcError("UNAVAILABLE", "Not connected: no heartbeat from the server");
    if (options.signal?.aborted) return new RpcError("CANCELLED", "Cancelled before it was sent");
    if (this.#pending.size >= this.#maxInFlight) return new RpcError("RESOURCE_EXHAUSTED", `Too many calls in flight (${this.#maxInFlight})`);

    const id = this.#nextId++;
    const timeoutMs = Math.min(options.timeoutMs ?? this.#timeoutMs, MAX_TIMER_MS);
    if (!(timeoutMs >= 0)) return new RangeError("timeoutMs must be a non-negative number");
    const badArguments = argumentProblem(args, this.#argumentLimits);
    if (badArguments !== undefined) return new RpcError("INVALID_ARGUMENT", badArguments);
    let frame: Frame;
    try {
      // The request array is built here rather than through toArray(): one object less per call.
      const meta = options.meta !== undefined && Object.keys(options.meta).length > 0 ? options.meta : null;
      const request = [WIRE_VERSION, Kind.request, id, name, Array.isArray(args) ? args : [...args], timeoutMs, meta];
      if (credit > 0) request.push(credit);
      frame = frameOf(request, this.#codec, this.#asData);
    } catch (error) {
      return new RpcError("INVALID_ARGUMENT", `Arguments could not be encoded: ${errorMessage(error)}`);
    }
    if (frame.byteLength > this.#maxMessageBytes) {
      return new RpcError("RESOURCE_EXHAUSTED", `Request of ${frame.byteLength} bytes exceeds maxMessageBytes ${this.#maxMessageBytes}`);
    }

    if (timeoutMs > 0) this.#addDeadline(id, pending, timeoutMs);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => {
        const settled = this.#settle(id);
        if (!settled) return;
        this.#trySend(this.#encode({ kind: "cancel", id }));
        settled.reject(new RpcError("CANCELLED", `Call to "${name}" was cancelled`, { cause: signal.reason }));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      pending.detach = () => signal.removeEventListener("abort", onAbort);
    }
    pending.stream?.attach({
      grant: (n) => {
        if (this.#pending.get(id) === pending) this.#trySend(this.#encode({ kind: "credit", id, n }));
      },
      cancel: () => {
        if (this.#settle(id)) this.#trySend(this.#encode({ kind: "cancel", id }));
      },
    });
    pending.id = id;
    this.#pending.add(pending);
    const failure = this.#trySend(frame);
    if (failure) this.#settle(id)?.reject(failure);
    return undefined;
  }

  #addDeadline(id: number, pending: PendingCall, timeoutMs: number): void {
    let group = this.#deadlines.get(timeoutMs);
    if (group === undefined) {
      group = { timeoutMs, queue: new RingQueue(), live: 0, timer: undefined };
      this.#deadlines.set(timeoutMs, group);
    }
    pending.deadline = performance.now() + timeoutMs;
    pending.group = group;
    group.queue.push(pending);
    group.live++;
    if (group.timer === undefined) this.#armDeadline(group, timeoutMs);
    else if (group.live === 1) refTimer(group.timer); // unref'd while the group was empty
  }

  #armDeadline(group: DeadlineGroup, delayMs: number): void {
    group.timer = setTimeout(() => this.#expire(group), delayMs);
  }

  /** The group's timer fired: time out every call that reached its deadline, re-arm for the rest. */
  #expire(group: DeadlineGroup): void {
    group.timer = undefined;
    const now = performance.now();
    const queue = group.queue;
    for (let pending = queue.peek(); pending !== undefined; pending = queue.peek()) {
      if (pending.group !== group) {
        queue.shift(); // settled already
        continue;
      }
      if (pending.deadline > now + TIMER_SLACK_MS) {
        this.#armDeadline(group, Math.ceil(pending.deadline - now));
        return;
      }
      queue.shift();
      // A server never heard from is "not there", not "slow".
      const code = this.#state === "connected" ? "TIMEOUT" : "UNAVAILABLE";
      this.#settle(pending.id)?.reject(new RpcError(code, `No reply to "${pending.name}" within ${group.timeoutMs} ms`));
    }
    if (this.#deadlines.get(group.timeoutMs) === group) this.#deadlines.delete(group.timeoutMs);
  }

  /** A typed stub: `client.proxy<Api>().add(1, 2)` is `client.call("add", [1, 2])`. */
  proxy<T extends object>(options: CallOptions = {}): Remote<T> {
    return new Proxy({} as Remote<T>, {
      get: (_target, property) => {
        // Not thenable, so `await client.proxy()` does not turn into a call named "then".
        if (typeof property !== "string" || property === "then") return undefined;
        return this.#remoteFunction(property, options);
      },
    });
  }

  #remoteFunction(name: string, options: StreamOptions): RemoteFunction<unknown[], unknown> {
    const remote = (...args: unknown[]) => this.call(name, args, options);
    remote.stream = (...args: unknown[]) => this.stream(name, args, options);
    remote.with = (more: StreamOptions) => this.#remoteFunction(name, { ...options, ...more });
    return remote as RemoteFunction<unknown[], unknown>;
  }

  /**
   * Receive broadcasts whose topic starts with `prefix` ("" for all). Returns a function that
   * undoes this subscription. `D` types the payload, e.g. from a service written once:
   * `client.subscribe<TopicData<typeof api, "tick.">>("tick.", (topic, tick) => …)`.
   */
  subscribe<D = unknown>(prefix: string, handler: (topic: string, data: D) => void): () => void;
  subscribe(prefix: string, handler: TopicHandler): () => void {
    if (typeof prefix !== "string") throw new TypeError("Topic prefix must be a string");
    if (typeof handler !== "function") throw new TypeError("Topic handler must be a function");
    let handlers = this.#subscriptions.get(prefix);
    if (!handlers) {
      // The transport first: one that refuses the prefix (too long, too many) throws, and then
      // nothing of it is kept here.
      if (this.#state !== "idle") this.#transport.subscribe(prefix);
      handlers = new Set();
      this.#subscriptions.set(prefix, handlers);
      this.#gaps.subscribed();
      if (this.#state !== "idle" && this.#listeners.gap.size > 0) this.#sync([prefix]);
    }
    handlers.add(handler);
    return () => this.unsubscribe(prefix, handler);
  }

  /** Remove one handler, or every handler of `prefix` when none is given. */
  unsubscribe(prefix: string, handler?: TopicHandler): void {
    const handlers = this.#subscriptions.get(prefix);
    if (!handlers) return;
    if (handler) handlers.delete(handler);
    else handlers.clear();
    if (handlers.size > 0) return;
    this.#subscriptions.delete(prefix);
    this.#gaps.unsubscribed(prefix);
    if (this.#state !== "idle" && prefix !== HEARTBEAT_TOPIC) this.#transport.unsubscribe(prefix);
  }

  /**
   * Resolves once the client knows where every subscribed stream starts, so a loss from then on
   * is reported as a `gap`. Code that loads state and then follows events (RpcGateway) awaits it
   * before loading.
   */
  async synced(): Promise<void> {
    while (this.#syncing.size > 0) await Promise.all(this.#syncing);
  }

  /** Ask the server where the streams under `prefixes` stand. A server that cannot say is let be. */
  #sync(prefixes: string[]): void {
    const user = prefixes.filter((prefix) => !prefix.startsWith(RESERVED_TOPIC_PREFIX));
    if (user.length === 0) return;
    const generation = this.#generation;
    const done: Promise<void> = this.call<{ epoch?: unknown; streams?: unknown }>(STREAMS_FUNCTION, [user], { timeoutMs: this.#timeoutMs })
      .then(
        (reply) => {
          if (generation !== this.#generation || typeof reply?.epoch !== "number" || !Array.isArray(reply.streams)) return;
          this.#gaps.baseline(reply.epoch, reply.streams, user.filter((prefix) => this.#subscriptions.has(prefix)));
        },
        () => {}, // not there (an older server) or not reachable: the first event sets the starting point
      )
      .finally(() => this.#syncing.delete(done));
    this.#syncing.add(done);
  }

  #onReply(frame: Frame): void {
    let message: Message;
    try {
      message = fromArray(messageOf(frame, this.#codec));
    } catch (error) {
      this.#logger.warn(`Dropped a malformed reply: ${errorMessage(error)}`);
      return;
    }
    if (message.kind === "item") {
      // A stream's item: the call goes on.
      this.#pending.get(message.id)?.stream?.push(message.value);
      return;
    }
    if (message.kind === "end") {
      const pending = this.#settle(message.id);
      // An end for a plain call (a faulty or hostile server) must still settle it.
      if (pending?.stream) pending.stream.end();
      else pending?.reject(new RpcError("INTERNAL", `The server ended "${pending.name}" as a stream, which it was not`));
      return;
    }
    if (message.kind !== "result" && message.kind !== "error") {
      this.#logger.warn(`Dropped a ${message.kind} frame on the reply channel`);
      return;
    }
    const pending = this.#settle(message.id);
    if (!pending) return; // late reply to a call that timed out or was cancelled
    if (message.kind === "result") pending.resolve(message.value);
    else pending.reject(new RpcError(message.code, message.message));
  }

  #onBroadcast(topic: string, frame: Frame): void {
    let message: Message;
    try {
      message = fromArray(messageOf(frame, this.#codec));
    } catch (error) {
      this.#logger.warn(`Dropped a malformed broadcast on "${topic}": ${errorMessage(error)}`);
      return;
    }
    if (message.kind === "heartbeat") {
      if (topic !== HEARTBEAT_TOPIC) return;
      // A transport that says its request link is down knows better than a heartbeat that
      // arrived over the broadcast link: calls could not go out yet.
      if (message.state === "alive") {
        if (!this.#linkDown) this.#alive();
      }
      else this.#lost("Server is stopping");
      this.#gaps.heartbeat(message.epoch, message.beat, message.recent);
      return;
    }
    if (message.kind !== "event") return;
    this.#gaps.event(topic, message.seq, message.epoch, message.streamLength);
    const reserved = topic.startsWith(RESERVED_TOPIC_PREFIX);
    for (const [prefix, handlers] of this.#subscriptions) {
      if (!topic.startsWith(prefix) || (reserved && !prefix.startsWith(RESERVED_TOPIC_PREFIX))) continue;
      for (const handler of handlers) {
        try {
          handler(topic, message.data);
        } catch (error) {
          this.#logger.error(`Handler for "${prefix}" threw on "${topic}"`, error);
        }
      }
    }
  }

  /**
   * Heartbeat (or ping reply, or the transport's word) seen: (re)arm the liveness timer. After an
   * outage the transport has re-sent our subscriptions itself on reconnecting.
   */
  #alive(): void {
    if (this.#state === "idle") return;
    this.#armLiveness();
    if (this.#state === "connected") return;
    this.#state = "connected";
    this.#emit("connected");
  }

  #lost(reason: string): void {
    if (this.#state === "idle" || this.#state === "disconnected") return;
    const what = this.#state === "connecting" ? "Server unreachable" : "Connection lost";
    this.#state = "disconnected";
    this.#failAll("UNAVAILABLE", `${what}: ${reason}`);
    this.#emit("disconnected", reason);
  }

  #armLiveness(): void {
    if (!this.#livenessOn) return;
    clearTimeout(this.#liveness);
    this.#liveness = setTimeout(() => this.#lost(`no heartbeat for ${this.#toleranceMs} ms`), this.#toleranceMs);
    unrefTimer(this.#liveness);
  }

  #settle(id: number): PendingCall | undefined {
    const pending = this.#pending.delete(id);
    if (!pending) return undefined;
    const group = pending.group;
    if (group !== undefined) {
      pending.group = undefined;
      group.live--;
      // Replies mostly come in the order of the calls: the settled call is usually the oldest.
      const queue = group.queue;
      while (queue.length > 0 && queue.peek()!.group !== group) queue.shift();
      if (queue.length > 2 * group.live + SETTLED_SLACK) queue.retain((call) => call.group === group);
      // An idle timer must not keep the process alive, as a cleared one would not. Where timers
      // cannot be unref'd (Deno, browsers: plain ids), it is cleared as before.
      if (group.live === 0 && group.timer !== undefined) {
        if (typeof group.timer === "object") unrefTimer(group.timer);
        else {
          clearTimeout(group.timer);
          group.timer = undefined;
          this.#deadlines.delete(group.timeoutMs);
        }
      }
    }
    pending.detach?.();
    return pending;
  }

  #failAll(code: RpcError["code"], message: string): void {
    for (const { id } of this.#pending.values()) this.#settle(id)?.reject(new RpcError(code, message));
    for (const group of this.#deadlines.values()) clearTimeout(group.timer);
    this.#deadlines.clear();
  }

  #emit<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<ClientEvents[E]>) => void)(...args);
      } catch (error) {
        this.#logger.error(`"${event}" listener threw`, error);
      }
    }
  }

  #encode(message: Message): Frame {
    return frameOf(toArray(message), this.#codec, this.#asData);
  }

  /**
   * Returns the failure, or undefined when the frame went out. A transport's own RpcError
   * (RESOURCE_EXHAUSTED from a full queue) keeps its code; anything else is UNAVAILABLE.
   */
  #trySend(frame: Frame): RpcError | undefined {
    try {
      this.#transport.send(frame);
      return undefined;
    } catch (error) {
      if (error instanceof RpcError) return error;
      return new RpcError("UNAVAILABLE", `Request could not be sent: ${errorMessage(error)}`, { cause: error });
    }
  }
}

// Shared defaults, read only: a call without options allocates none.
const NO_ARGS: readonly unknown[] = [];
const NO_OPTIONS: CallOptions = {};

function refuse(code: RpcError["code"], message: string): Promise<never> {
  return Promise.reject(new RpcError(code, message));
}

function noop(): void {}

/** The counterpart of unrefTimer: Node's timers have ref(); elsewhere timers have no such notion. */
function refTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "ref" in timer && typeof timer.ref === "function") timer.ref();
}
