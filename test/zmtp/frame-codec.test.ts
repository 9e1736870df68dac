import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeCommand,
  encodeMessage,
  encodeMessageChunks,
  type DecodedItem,
  FLAG_MORE,
  FrameDecoder,
  FrameError,
  writeFrameHeader,
} from "../../transports/zmtp/frame-codec.ts";
import {
  decodeProperties,
  encodeGreeting,
  encodeProperties,
  parseGreeting,
} from "../../transports/zmtp/greeting.ts";

function decodeAll(chunks: Uint8Array[], maxMessageSize = -1): DecodedItem[] {
  const decoder = new FrameDecoder({ maxMessageSize });
  const out: DecodedItem[] = [];
  for (const chunk of chunks) decoder.push(chunk, out);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Split `bytes` at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let previous = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  return chunks;
}

const frameArb = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ minLength: 250, maxLength: 600 }), // crosses the short/long boundary at 255
);
const itemArb = fc.oneof(
  { weight: 4, arbitrary: fc.array(frameArb, { minLength: 1, maxLength: 4 }).map((frames) => ({ kind: "message" as const, frames })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ name: fc.constantFrom("PING", "PONG", "SUBSCRIBE", "CANCEL"), data: fc.uint8Array({ maxLength: 300 }) })
      .map(({ name, data }) => ({ kind: "command" as const, name, data })),
  },
);

function encodeItem(item: DecodedItem): Uint8Array {
  return item.kind === "message" ? encodeMessage(item.frames) : encodeCommand(item.name, item.data);
}

describe("frame codec", () => {
  it("round-trips short, long and empty frames", () => {
    const frames = [new Uint8Array(0), new Uint8Array(255).fill(1), new Uint8Array(256).fill(2), new Uint8Array(70_000).fill(3)];
    const [item] = decodeAll([encodeMessage(frames)]);
    expect(item).toEqual({ kind: "message", frames });
  });

  it("writes 64-bit big-endian sizes for long frames", () => {
    const bytes = encodeMessage([new Uint8Array(0x1_0203)]);
    expect([...bytes.subarray(0, 9)]).toEqual([0x02, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03]);
  });

  it("encodes sizes above 2^32 exactly and decodes them back", () => {
    const header = new Uint8Array(9);
    const size = 2 ** 40 + 2 ** 32 + 0x0a0b0c0d;
    writeFrameHeader(header, 0, size, FLAG_MORE);
    expect([...header]).toEqual([0x03, 0, 0, 0x01, 0x01, 0x0a, 0x0b, 0x0c, 0x0d]);
    const decoder = new FrameDecoder({ maxMessageSize: size - 1 });
    expect(() => decoder.push(header)).toThrow(`message of at least ${size} bytes exceeds maxMessageSize ${size - 1}`);
  });

  it("puts the name length byte before a command name", () => {
    expect([...encodeCommand("READY").subarray(0, 3)]).toEqual([0x04, 6, 5]);
  });

  it("decodes the chunked encoding the same as the copying one", () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(20_000).fill(9)];
    expect(decodeAll(encodeMessageChunks(frames))).toEqual(decodeAll([encodeMessage(frames)]));
  });

  it("decodes any chunking of a valid stream to the same items", () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (items, cuts) => {
        const stream = concat(items.map(encodeItem));
        expect(decodeAll(split(stream, cuts))).toEqual(items);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects random bytes with a FrameError or decodes them, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        try {
          const items = decodeAll(split(bytes, cuts), 1 << 16);
          for (const item of items) {
            if (item.kind === "message") expect(item.frames.length).toBeGreaterThan(0);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("stays failed after an error", () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(new Uint8Array([0xff]))).toThrow(/invalid frame flags 0xff/);
    expect(() => decoder.push(encodeMessage([new Uint8Array(1)]))).toThrow(FrameError);
  });

  it("rejects a message above maxMessageSize as soon as its size is known", () => {
    const decoder = new FrameDecoder({ maxMessageSize: 100 });
    // Only the header of a 1 GiB frame: rejected without waiting for (or allocating) the body.
    const header = new Uint8Array([0x02, 0, 0, 0, 0, 0x40, 0, 0, 0]);
    expect(() => decoder.push(header)).toThrow(/exceeds maxMessageSize 100/);
    // The limit is per message, across its frames.
    const parts = encodeMessage([new Uint8Array(60), new Uint8Array(60)]);
    expect(() => new FrameDecoder({ maxMessageSize: 100 }).push(parts)).toThrow(/exceeds maxMessageSize/);
    expect(new FrameDecoder({ maxMessageSize: 120 }).push(parts)).toHaveLength(1);
  });

  it("does not allocate a huge claimed body up front when unlimited", () => {
    const decoder = new FrameDecoder();
    // Claims 2^52 bytes; only the header arrives. Must not throw a RangeError from allocation.
    expect(decoder.push(new Uint8Array([0x02, 0, 0x10, 0, 0, 0, 0, 0, 0]))).toEqual([]);
    expect(decoder.midMessage).toBe(true);
  });

  it("rejects sizes that are not exact JavaScript numbers", () => {
    expect(() => decodeAll([new Uint8Array([0x02, 0x80, 0, 0, 0, 0, 0, 0, 1])])).toThrow(/2\^53/);
  });

  it("rejects oversized commands, empty commands and commands inside a message", () => {
    expect(() => decodeAll([new Uint8Array([0x06, 0, 0, 0, 0, 0, 0x10, 0, 0])])).toThrow(/command frame/);
    expect(() => decodeAll([new Uint8Array([0x04, 0])])).toThrow(/empty command/);
    expect(() => decodeAll([new Uint8Array([0x04, 2, 9, 0x41])])).toThrow(/malformed command name/);
    expect(() => decodeAll([new Uint8Array([0x01, 0, 0x04, 1, 0])])).toThrow(/inside a multipart/);
  });

  it("in handshake mode accepts only commands until READY, then messages (even in the same chunk)", () => {
    const ready = encodeCommand("READY", encodeProperties({ "Socket-Type": "DEALER" }));
    const message = encodeMessage([new Uint8Array([7])]);
    // A data frame header (here the first of an endless MORE message) fails at once, not once
    // the whole message arrived: nothing before READY is buffered beyond one command.
    const early = new FrameDecoder({ maxMessageSize: -1, handshake: true });
    expect(() => early.push(new Uint8Array([0x03, 0, 0, 0, 0, 0, 0x10, 0, 0]))).toThrow(/message before READY/);
    const items = new FrameDecoder({ maxMessageSize: -1, handshake: true }).push(concat([ready, message]));
    expect(items.map((item) => item.kind)).toEqual(["command", "message"]);
    // Without handshake mode (the default) messages are decoded from the start.
    expect(new FrameDecoder().push(message)).toHaveLength(1);
  });

  it("rejects a message with more frames than maxFramesPerMessage at the first extra frame header", () => {
    const decoder = new FrameDecoder({ maxMessageSize: -1, maxFramesPerMessage: 3 });
    expect(decoder.push(encodeMessage([new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]))).toHaveLength(1);
    const fourth = new Uint8Array([FLAG_MORE, 0, FLAG_MORE, 0, FLAG_MORE, 0, FLAG_MORE]);
    expect(() => decoder.push(fourth)).toThrow(/more than 3 frames/);
  });
});

describe("greeting and READY metadata", () => {
  it("parses our own greeting", () => {
    expect(parseGreeting(encodeGreeting())).toEqual({ major: 3, minor: 1, mechanism: "NULL" });
  });

  it("explains what is wrong with a bad greeting", () => {
    const http = new TextEncoder().encode("GET / HTTP/1.1\r\n".padEnd(64, " "));
    expect(() => parseGreeting(http)).toThrow(/did not send a ZMTP greeting/);
    const curve = encodeGreeting();
    curve.set(new TextEncoder().encode("CURVE"), 12);
    expect(() => parseGreeting(curve)).toThrow(/CURVE security mechanism/);
    const old = encodeGreeting();
    old[10] = 2;
    expect(() => parseGreeting(old)).toThrow(/ZMTP 2\.1/);
  });

  it("round-trips properties with case-insensitive names", () => {
    const encoded = encodeProperties({ "Socket-Type": "DEALER", Identity: new Uint8Array([1, 2]) });
    const decoded = decodeProperties(encoded);
    expect(new TextDecoder().decode(decoded.get("socket-type"))).toBe("DEALER");
    expect([...decoded.get("identity")!]).toEqual([1, 2]);
    expect(() => decodeProperties(encoded.subarray(0, encoded.length - 1))).toThrow(/malformed READY/);
  });
});
