import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";

/**
 * Turns a message (plain data) into bytes and back. Decoders build plain data only: nothing
 * from the wire is ever executed or turned into class instances.
 */
export interface Codec {
  readonly name: string;
  /**
   * True when the codec carries exactly plain data (MessagePack): a transport that moves
   * structured data (MessagePort) may then hand plain messages over unencoded, to a peer that agreed.
   */
  readonly plainData?: boolean;
  encode(value: unknown): Uint8Array;
  /** Throws on malformed input. */
  decode(bytes: Uint8Array): unknown;
}

/** Bounds on what one decoded message may hold, so a hostile peer cannot exhaust memory. */
export interface DecodeLimits {
  maxStrLength?: number;
  maxBinLength?: number;
  maxArrayLength?: number;
  maxMapLength?: number;
}

const DEFAULT_LIMITS: Required<DecodeLimits> = {
  maxStrLength: 16 * 1024 * 1024,
  maxBinLength: 64 * 1024 * 1024,
  maxArrayLength: 1_000_000,
  maxMapLength: 100_000,
};

/** Extensions decode to class instances (ExtData); only the timestamp (type -1, a Date) is let in. */
class TimestampOnly extends ExtensionCodec {
  override decode(data: Uint8Array, type: number, context: undefined): unknown {
    if (type !== -1) throw new RangeError(`MessagePack extension type ${type} is not accepted`);
    return super.decode(data, type, context);
  }
}

/** The default codec: MessagePack. `__proto__` keys are refused by the decoder. */
export function msgpackCodec(limits: DecodeLimits = {}): Codec {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const encoder = new Encoder({ ignoreUndefined: true });
  const decoder = new Decoder({
    extensionCodec: new TimestampOnly(),
    maxStrLength: l.maxStrLength,
    maxBinLength: l.maxBinLength,
    maxArrayLength: l.maxArrayLength,
    maxMapLength: l.maxMapLength,
    maxExtLength: 12, // the longest timestamp extension
  });
  const pool = new FramePool();
  return {
    name: "msgpack",
    plainData: true,
    encode: (value) => pool.copy(encoder.encodeSharedRef(value)),
    decode: (bytes) => decoder.decode(bytes),
  };
}

/** Slab size of the frame pool: Node's Buffer pool size, and the same trade. */
const POOL_BYTES = 8 * 1024;

/**
 * Small frames are cut from a shared slab, as Node's Buffer pool does, instead of each getting an
 * ArrayBuffer of its own. A frame of its own is either an off-heap allocation, or (64 bytes and
 * less, most requests and replies) an on-heap array whose buffer V8 must move off the heap the
 * first time it is read, which the decoder's DataView does: that allocation plus the GC work it
 * causes was the largest single cost of a round trip over the memory transport (about a third).
 * A frame keeps its slab alive while it is held, as a pooled Node Buffer does; frames over half a
 * slab get their own buffer. Frames are views (byteOffset may be non-zero): a transport that
 * posts or transfers one must use the view, not `frame.buffer`.
 */
class FramePool {
  #slab = new ArrayBuffer(POOL_BYTES);
  #used = 0;

  /** A copy of `bytes` (the encoder's reused buffer) that the caller may keep. */
  copy(bytes: Uint8Array): Uint8Array {
    const size = bytes.byteLength;
    if (size > POOL_BYTES >>> 1) return bytes.slice();
    if (this.#used + size > POOL_BYTES) {
      this.#slab = new ArrayBuffer(POOL_BYTES);
      this.#used = 0;
    }
    const frame = new Uint8Array(this.#slab, this.#used, size); // cheaper than subarray(): no species lookup
    frame.set(bytes);
    this.#used += (size + 7) & ~7; // 8-byte aligned, as Node's pool
    return frame;
  }
}

/** Refuses `__proto__` keys, as the MessagePack decoder does. */
function refuseProto(key: string, value: unknown): unknown {
  if (key === "__proto__") throw new SyntaxError("The key __proto__ is not allowed");
  return value;
}

/**
 * JSON as UTF-8: human-readable on the wire, for debugging and non-msgpack peers. Like the
 * MessagePack codec, the decoder refuses `__proto__` keys (written plainly or with \u escapes).
 */
export function jsonCodec(): Codec {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  return {
    name: "json",
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => {
      const text = decoder.decode(bytes);
      // A key can only spell __proto__ plainly or through \u escapes; without either, skip the
      // reviver (it makes JSON.parse several times slower).
      if (!text.includes("__proto__") && !text.includes("\\u")) return JSON.parse(text) as unknown;
      return JSON.parse(text, refuseProto) as unknown;
    },
  };
}
