/**
 * A message carried as structured data rather than codec bytes. A transport that moves
 * structured data itself (MessagePort: structured clone) says so with `carriesData`; the core
 * then hands it plain messages as DataFrames instead of MessagePack bytes, and the transport
 * posts them as they are to a peer that agreed in its handshake, or their bytes (`encoded()`)
 * to one that did not (an older peer).
 *
 * Only plain data goes as data: values that MessagePack carries exactly as structured clone
 * does. Everything else (undefined, -0, Map, Set, class instances, typed arrays other than a
 * whole Uint8Array, functions, BigInt, cycles, nesting deeper than MAX_DATA_DEPTH, `__proto__`
 * keys) is encoded with the codec as before, so it fails or is converted exactly as it was.
 * A receiver checks the same on what it gets, so nothing else crosses as data either.
 *
 * A DataFrame refers to the message, it does not copy it: a transport posts it (the port clones
 * it) when the core hands it over, so what is sent is what was passed; only a frame held back on
 * purpose (withFaults latency) would carry a change made to the arguments meanwhile.
 *
 * `byteLength` is an estimate of the MessagePack size, for the budgets and maxMessageBytes: a
 * string counts its UTF-16 length (exact for ASCII, low by up to 3× for other text) plus 5, a
 * number 9, a boolean or null 1, a Uint8Array its length plus 5, a Date 15, an array 5 plus
 * its elements, a map 5 plus each key's length plus 5 plus its value.
 */
import type { Codec } from "./codec.ts";
import { MalformedFrameError } from "./wire.ts";

/** Deepest nesting sent as data, counting the message array itself; deeper goes encoded. */
export const MAX_DATA_DEPTH = 64;

/** `plainSize` of a value that is not plain data. */
const NOT_PLAIN = -1;

export class DataFrame {
  /** The message array, as `toArray` makes it. */
  readonly message: readonly unknown[];
  /** Estimated bytes; -2 until measured, NOT_PLAIN when it is not plain data. */
  #bytes: number;
  readonly #codec: Codec | undefined;
  #encoded: Uint8Array | undefined;

  /** `bytes` from a sender that measured the message; a received one is measured when asked. */
  constructor(message: readonly unknown[], bytes = -2, codec?: Codec) {
    this.message = message;
    this.#bytes = bytes;
    this.#codec = codec;
  }

  /** Estimated MessagePack size (see the module comment); 0 for a frame that is not plain data. */
  get byteLength(): number {
    return Math.max(0, this.#measure());
  }

  /** Holds plain data only (a received frame is checked here). */
  get plain(): boolean {
    return this.#measure() !== NOT_PLAIN;
  }

  /** The frame as codec bytes, for a peer that takes bytes only; made once. */
  encoded(): Uint8Array {
    if (this.#codec === undefined) throw new Error("A received data frame has no codec to encode it with");
    return (this.#encoded ??= this.#codec.encode(this.message));
  }

  #measure(): number {
    if (this.#bytes === -2) this.#bytes = plainSize(this.message, MAX_DATA_DEPTH);
    return this.#bytes;
  }
}

/** What the core hands a transport: codec bytes, or (to a transport that `carriesData`) a DataFrame. */
export type Frame = Uint8Array | DataFrame;

/**
 * The frame of `message`: a DataFrame when `asData` and the message is plain data, else its
 * codec bytes (which may throw, as encoding always could).
 */
export function frameOf(message: unknown[], codec: Codec, asData: boolean): Frame {
  if (asData) {
    const bytes = plainSize(message, MAX_DATA_DEPTH);
    if (bytes !== NOT_PLAIN) return new DataFrame(message, bytes, codec);
  }
  return codec.encode(message);
}

/**
 * The message a frame holds: decoded bytes, or a data frame's message once checked to be plain
 * data. Throws as decoding does; a request that is not plain data is a MalformedFrameError
 * with its id, so the server answers it INVALID_ARGUMENT.
 */
export function messageOf(frame: Frame, codec: Codec): unknown {
  if (!(frame instanceof DataFrame)) return codec.decode(frame);
  if (frame.plain) return frame.message;
  const id = frame.message[2];
  throw new MalformedFrameError("Frame holds more than plain data", typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined);
}

/**
 * Estimated MessagePack size of `value`, or NOT_PLAIN. Recursive: at most `depth` deep, so the
 * stack is never at risk.
 */
export function plainSize(value: unknown, depth: number): number {
  switch (typeof value) {
    case "string":
      return value.length + 5;
    case "number":
      return value === 0 && 1 / value < 0 ? NOT_PLAIN : 9; // MessagePack turns -0 into 0
    case "boolean":
      return 1;
    case "object":
      break;
    default:
      return NOT_PLAIN; // undefined (MessagePack drops or nulls it), function, symbol, bigint
  }
  if (value === null) return 1;
  if (depth <= 0) return NOT_PLAIN;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Array.prototype) {
    let size = 5;
    for (const element of value as unknown[]) {
      const s = plainSize(element, depth - 1); // a hole reads as undefined: not plain
      if (s === NOT_PLAIN) return NOT_PLAIN;
      size += s;
    }
    return size;
  }
  if (proto === Object.prototype || proto === null) {
    let size = 5;
    for (const key in value) {
      if (key === "__proto__") return NOT_PLAIN; // decoders refuse it
      const s = plainSize((value as Record<string, unknown>)[key], depth - 1);
      if (s === NOT_PLAIN) return NOT_PLAIN;
      size += key.length + 5 + s;
    }
    return size;
  }
  if (proto === Uint8Array.prototype) {
    // A view of a larger buffer would clone the whole buffer;
    // A shared buffer would be shared, not copied.
    const bytes = value as Uint8Array;
    const buffer = bytes.buffer;
    return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? bytes.byteLength + 5 : NOT_PLAIN;
  }
  if (proto === Date.prototype) return Number.isNaN((value as Date).getTime()) ? NOT_PLAIN : 15;
  return NOT_PLAIN;
}
