import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";

/**
 * Turns a message (plain data) into bytes and back. Decoders build plain data only: nothing
 * from the wire is ever executed or turned into class instances.
 */
export interface Codec {
  readonly name: string;
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
  return {
    name: "msgpack",
    encode: (value) => encoder.encode(value),
    decode: (bytes) => decoder.decode(bytes),
  };
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
