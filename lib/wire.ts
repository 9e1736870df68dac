/**
 * tradewire's own wire format, version 1. Every frame is one codec-encoded array whose first
 * two elements are the format version and the message kind:
 *
 *   [1, 0, id, name, args, timeoutMs, meta, credit?]   request    (client → server)
 *   [1, 1, id]                                cancel     (client → server)
 *   [1, 8, id, n]                             credit     (client → server: n more stream items)
 *   [1, 2, id, value]                         result     (server → client)
 *   [1, 3, id, code, message]                 error      (server → client; also ends a stream)
 *   [1, 6, id, value]                         item       (server → client: one item of a stream)
 *   [1, 7, id]                                end        (server → client: the stream is complete)
 *   [1, 4, data, seq, epoch, streamLength?]   event      (broadcast; the topic travels beside it)
 *   [1, 5, state, epoch, recent, beat]        heartbeat  (broadcast on HEARTBEAT_TOPIC)
 *
 * `id` is a non-negative integer chosen by the client; `timeoutMs` is the time left until the
 * caller's deadline (relative, so clocks need not agree), 0 for none; `meta` is a map of strings.
 *
 * Events are numbered per stream: `seq` counts from 1 within the server's `epoch` (a random
 * number per server start). A stream is the topic itself, or a prefix of it the publisher chose
 * (`eOrder.SIM.` for every order of one account): `streamLength` is that prefix's length in
 * UTF-16 units, absent when the stream is the whole topic. A heartbeat carries the epoch and the
 * last `seq` of each stream published in the last ANNOUNCED_BEATS beats (`[stream, seq, …]`, or
 * nil), so a subscriber also learns of a lost event that nothing followed, and its own number
 * `beat`, so a subscriber that missed more beats than that knows it may have missed an
 * announcement too.
 * A request with `credit` > 0 asks for a stream: the server sends at most that many items, then
 * waits for credit frames (flow control), and ends with `end` or `error`. Parsing checks the
 * shape and returns plain data only.
 */
import { DEFAULT_BUDGETS } from "./budgets.ts";
import { isRpcCode, type RpcCode } from "./errors.ts";

export const WIRE_VERSION = 1;

export const Kind = {
  request: 0,
  cancel: 1,
  result: 2,
  error: 3,
  event: 4,
  heartbeat: 5,
  item: 6,
  end: 7,
  credit: 8,
} as const;

/** Broadcast topics starting with `$` are the framework's; user topics may not start with it. */
export const RESERVED_TOPIC_PREFIX = "$";
export const HEARTBEAT_TOPIC = "$tw.heartbeat";
/** Function names starting with `$` are the framework's too; `$tw.ping` answers "pong". */
export const RESERVED_FUNCTION_PREFIX = "$";
export const PING_FUNCTION = "$tw.ping";
/** Heartbeats that name a stream after its last event. */
export const ANNOUNCED_BEATS = 3;
/** `$tw.functions()` lists what the server serves: `[{ name, input? }]`, `input` a JSON Schema of the arguments where the validator can give one. */
export const FUNCTIONS_FUNCTION = "$tw.functions";
/** `$tw.streams(prefixes)` answers `{ epoch, streams: [stream, seq, …] }`: where a new subscriber starts counting. */
export const STREAMS_FUNCTION = "$tw.streams";

export type Meta = Record<string, string>;

/**
 * Largest frame accepted or sent by default. Decoding can take many times a frame's size in
 * memory (an empty map is one byte on the wire), so this stays well below what a socket allows.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = DEFAULT_BUDGETS.maxMessageBytes;

/** Longest delay timers accept (2^31 - 1 ms, about 24.8 days); longer ones would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

export type RequestMessage = {
  kind: "request";
  id: number;
  name: string;
  args: unknown[];
  timeoutMs: number;
  meta: Meta;
  /** Stream items the caller takes before it grants more; 0 for a plain call. */
  credit: number;
};
export type CancelMessage = { kind: "cancel"; id: number };
export type CreditMessage = { kind: "credit"; id: number; n: number };
export type ItemMessage = { kind: "item"; id: number; value: unknown };
export type EndMessage = { kind: "end"; id: number };
export type ResultMessage = { kind: "result"; id: number; value: unknown };
export type ErrorMessage = { kind: "error"; id: number; code: RpcCode; message: string };
export type EventMessage = {
  kind: "event";
  data: unknown;
  /** The event's number in its stream, from 1; 0 from a server that does not number events. */
  seq: number;
  epoch: number;
  /** Length of the stream's prefix of the topic; undefined when the stream is the whole topic. */
  streamLength: number | undefined;
};
export type HeartbeatMessage = {
  kind: "heartbeat";
  state: "alive" | "stopping";
  /** 0 from a server that does not say. */
  epoch: number;
  /** The heartbeat's number in its epoch, from 0. */
  beat: number;
  /** Last seq of the streams published lately, by stream (on the wire `[stream, seq, stream, seq…]`, as a topic may be any string, "__proto__" too). */
  recent: Map<string, number> | undefined;
};

export type ClientToServer = RequestMessage | CancelMessage | CreditMessage;
export type ServerToClient = ResultMessage | ErrorMessage | ItemMessage | EndMessage;
export type Broadcast = EventMessage | HeartbeatMessage;
export type Message = ClientToServer | ServerToClient | Broadcast;

/** A frame that is not a valid message of the expected direction. */
export class MalformedFrameError extends Error {
  override name = "MalformedFrameError";
  /** The request id, when it could be read: the server then answers INVALID_ARGUMENT to it. */
  readonly id: number | undefined;
  constructor(message: string, id?: number) {
    super(message);
    this.id = id;
  }
}

export function toArray(message: Message): unknown[] {
  switch (message.kind) {
    case "request": {
      const meta = Object.keys(message.meta).length > 0 ? message.meta : null;
      const frame = [WIRE_VERSION, Kind.request, message.id, message.name, message.args, message.timeoutMs, meta];
      if (message.credit > 0) frame.push(message.credit);
      return frame;
    }
    case "cancel":
      return [WIRE_VERSION, Kind.cancel, message.id];
    case "credit":
      return [WIRE_VERSION, Kind.credit, message.id, message.n];
    case "item":
      return [WIRE_VERSION, Kind.item, message.id, message.value];
    case "end":
      return [WIRE_VERSION, Kind.end, message.id];
    case "result":
      return [WIRE_VERSION, Kind.result, message.id, message.value];
    case "error":
      return [WIRE_VERSION, Kind.error, message.id, message.code, message.message];
    case "event":
      return message.streamLength === undefined
        ? [WIRE_VERSION, Kind.event, message.data, message.seq, message.epoch]
        : [WIRE_VERSION, Kind.event, message.data, message.seq, message.epoch, message.streamLength];
    case "heartbeat":
      return [WIRE_VERSION, Kind.heartbeat, message.state, message.epoch, message.recent ? [...message.recent].flat() : null, message.beat];
  }
}

/** Read the version/kind header and the fields of any message; throws MalformedFrameError. */
export function fromArray(value: unknown): Message {
  if (!Array.isArray(value) || value.length < 3) throw new MalformedFrameError("Frame is not a message array");
  // Indexed reads rather than destructuring: array destructuring goes through the iterator
  // protocol, an object per frame where the optimizer does not remove it.
  const version: unknown = value[0];
  const kind: unknown = value[1];
  if (version !== WIRE_VERSION) throw new MalformedFrameError(`Unsupported wire version ${String(version)}`);
  switch (kind) {
    case Kind.request: {
      const id = readId(value[2]);
      const name: unknown = value[3];
      const args: unknown = value[4];
      const timeoutMs: unknown = value[5];
      const credit: unknown = value[7];
      if (typeof name !== "string" || name.length === 0) throw new MalformedFrameError("Request has no function name", id);
      if (!Array.isArray(args)) throw new MalformedFrameError("Request arguments are not an array", id);
      if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
        throw new MalformedFrameError("Request timeout is not a finite non-negative number", id);
      }
      let streamCredit = 0;
      if (credit !== undefined && credit !== null) {
        if (typeof credit !== "number" || !Number.isSafeInteger(credit) || credit < 0) throw new MalformedFrameError("Request credit is not a non-negative integer", id);
        streamCredit = credit;
      }
      return { kind: "request", id, name, args, timeoutMs, meta: readMeta(value[6], id), credit: streamCredit };
    }
    case Kind.cancel:
      return { kind: "cancel", id: readId(value[2]) };
    case Kind.credit: {
      const id = readId(value[2]);
      const n = value[3];
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) throw new MalformedFrameError("Credit is not a positive integer", id);
      return { kind: "credit", id, n };
    }
    case Kind.item:
      return { kind: "item", id: readId(value[2]), value: value[3] };
    case Kind.end:
      return { kind: "end", id: readId(value[2]) };
    case Kind.result:
      return { kind: "result", id: readId(value[2]), value: value[3] };
    case Kind.error: {
      const id = readId(value[2]);
      const code: unknown = value[3];
      const message: unknown = value[4];
      if (!isRpcCode(code) || typeof message !== "string") throw new MalformedFrameError("Error reply has no valid code", id);
      return { kind: "error", id, code, message };
    }
    case Kind.event: {
      const streamLength: unknown = value[5];
      return {
        kind: "event",
        data: value[2],
        seq: readCount(value[3], "Event sequence"),
        epoch: readCount(value[4], "Event epoch"),
        streamLength: streamLength === undefined || streamLength === null ? undefined : readCount(streamLength, "Event stream length"),
      };
    }
    case Kind.heartbeat: {
      const [, , state, epoch, recent, beat] = value;
      if (state !== "alive" && state !== "stopping") throw new MalformedFrameError("Heartbeat has an unknown state");
      return {
        kind: "heartbeat",
        state,
        epoch: readCount(epoch, "Heartbeat epoch"),
        recent: readRecent(recent),
        beat: readCount(beat, "Heartbeat number"),
      };
    }
    default:
      throw new MalformedFrameError(`Unknown message kind ${String(kind)}`);
  }
}

function readId(id: unknown): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0) throw new MalformedFrameError("Message id is not a non-negative integer");
  return id;
}

/** A non-negative integer, or 0 when absent (a server that does not number its events). */
function readCount(value: unknown, what: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new MalformedFrameError(`${what} is not a non-negative integer`);
  return value;
}

function readRecent(recent: unknown): Map<string, number> | undefined {
  if (recent === undefined || recent === null) return undefined;
  if (!Array.isArray(recent) || recent.length % 2 !== 0) throw new MalformedFrameError("Heartbeat streams are not [stream, seq] pairs");
  const out = new Map<string, number>();
  for (let i = 0; i < recent.length; i += 2) {
    const stream: unknown = recent[i];
    if (typeof stream !== "string") throw new MalformedFrameError("Heartbeat stream is not a string");
    out.set(stream, readCount(recent[i + 1], "Heartbeat stream sequence"));
  }
  return out;
}

function readMeta(meta: unknown, id: number): Meta {
  if (meta === null || meta === undefined) return {};
  if (typeof meta !== "object" || Array.isArray(meta) || ArrayBuffer.isView(meta)) throw new MalformedFrameError("Request meta is not a map", id);
  const out: Meta = {};
  for (const [key, v] of Object.entries(meta)) {
    if (typeof v !== "string") throw new MalformedFrameError(`Request meta "${key}" is not a string`, id);
    out[key] = v;
  }
  return out;
}
