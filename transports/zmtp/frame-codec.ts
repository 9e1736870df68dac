/**
 * ZMTP 3.x framing (rfc.zeromq.org 23/ZMTP): a pure encoder and an incremental decoder.
 * No I/O here, so the decoder can be fed any chunking of a byte stream and property-tested.
 *
 * A frame is `flags size body`: flags bit 0 = MORE, bit 1 = LONG (8-byte big-endian size,
 * else 1 byte), bit 2 = COMMAND; bits 3–7 are reserved and must be zero.
 */

export const FLAG_MORE = 0x01;
export const FLAG_LONG = 0x02;
export const FLAG_COMMAND = 0x04;
const FLAGS_RESERVED = 0xf8;

/** Commands are small (READY, PING, SUBSCRIBE…); a larger one is a hostile or broken peer. */
export const MAX_COMMAND_SIZE = 64 * 1024;

/** Size of the header (flags + size field) for a body of `size` bytes. */
export function frameHeaderSize(size: number): number {
  return size > 255 ? 9 : 2;
}

/** Write a frame header at `offset`; returns the offset after it. */
export function writeFrameHeader(target: Uint8Array, offset: number, size: number, flags: number): number {
  if (size > 255) {
    target[offset] = flags | FLAG_LONG;
    // Sizes above 2^32 are split because JavaScript bit operations are 32-bit.
    const high = Math.floor(size / 0x1_0000_0000);
    const low = size >>> 0;
    target[offset + 1] = high >>> 24;
    target[offset + 2] = (high >>> 16) & 0xff;
    target[offset + 3] = (high >>> 8) & 0xff;
    target[offset + 4] = high & 0xff;
    target[offset + 5] = low >>> 24;
    target[offset + 6] = (low >>> 16) & 0xff;
    target[offset + 7] = (low >>> 8) & 0xff;
    target[offset + 8] = low & 0xff;
    return offset + 9;
  }
  target[offset] = flags;
  target[offset + 1] = size;
  return offset + 2;
}

/** Encode a whole multipart message into one buffer (one write keeps Nagle and syscalls away). */
export function encodeMessage(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const frame of frames) total += frameHeaderSize(frame.length) + frame.length;
  const out = new Uint8Array(total);
  let offset = 0;
  const last = frames.length - 1;
  for (let i = 0; i <= last; i++) {
    const frame = frames[i]!;
    offset = writeFrameHeader(out, offset, frame.length, i < last ? FLAG_MORE : 0);
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

/**
 * Encode a message as a list of chunks: headers are fresh, bodies are the caller's buffers
 * (no copy). Used for large messages, written with a corked socket.
 */
export function encodeMessageChunks(frames: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  const last = frames.length - 1;
  for (let i = 0; i <= last; i++) {
    const frame = frames[i]!;
    const header = new Uint8Array(frameHeaderSize(frame.length));
    writeFrameHeader(header, 0, frame.length, i < last ? FLAG_MORE : 0);
    out.push(header);
    if (frame.length > 0) out.push(frame);
  }
  return out;
}

/** Encode a command frame: name-length byte, name, data. */
export function encodeCommand(name: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (name.length === 0 || name.length > 255) throw new RangeError("Command name must be 1 to 255 characters");
  const bodySize = 1 + name.length + data.length;
  const out = new Uint8Array(frameHeaderSize(bodySize) + bodySize);
  let offset = writeFrameHeader(out, 0, bodySize, FLAG_COMMAND);
  out[offset++] = name.length;
  for (let i = 0; i < name.length; i++) out[offset++] = name.charCodeAt(i) & 0x7f;
  out.set(data, offset);
  return out;
}

export type DecodedItem =
  | { kind: "message"; frames: Uint8Array[] }
  | { kind: "command"; name: string; data: Uint8Array };

export interface DecoderLimits {
  /** Largest message (sum of its frames) accepted; negative means no limit. */
  maxMessageSize: number;
  /** Most frames in one message; negative means no limit. Default: no limit. */
  maxFramesPerMessage?: number;
  /**
   * Accept only commands until a READY command has been decoded (ZMTP's NULL handshake), as
   * libzmq does: a data frame before READY is an error, so an unauthenticated peer can make
   * us hold at most one command (≤ MAX_COMMAND_SIZE). Default false.
   */
  handshake?: boolean;
}

/** Thrown (and then sticky) when the byte stream is not valid ZMTP framing. */
export class FrameError extends Error {
  override name = "FrameError";
}

/** Decoder states (plain constants: enums are not erasable syntax). */
const State = { Flags: 0, Size: 1, Body: 2, Failed: 3 } as const;
type State = (typeof State)[keyof typeof State];

/**
 * Incremental decoder. Feed chunks with `push`; complete messages and commands come back in
 * order. After the first error every further `push` throws the same error: a stream that
 * lost framing cannot be resynchronised, so the connection must be dropped.
 * Frame bodies are copied: the caller's chunk may be a buffer the runtime reuses.
 */
export class FrameDecoder {
  readonly #limits: DecoderLimits;
  #state: State = State.Flags;
  #flags = 0;
  #sizeBytes = new Uint8Array(8);
  #sizeNeeded = 0;
  #sizeHave = 0;
  #body: Uint8Array = new Uint8Array(0);
  #bodySize = 0;
  #bodyHave = 0;
  /** Parts of a body too large to allocate before its bytes arrive. */
  #bodyParts: Uint8Array[] | undefined;
  #frames: Uint8Array[] = [];
  #messageSize = 0;
  #error: FrameError | undefined;
  #awaitingReady: boolean;
  readonly #maxFrames: number;

  constructor(limits: DecoderLimits = { maxMessageSize: -1 }) {
    this.#limits = limits;
    this.#awaitingReady = limits.handshake ?? false;
    this.#maxFrames = limits.maxFramesPerMessage ?? -1;
  }

  /** True between frames of a multipart message or inside a frame. */
  get midMessage(): boolean {
    return this.#state !== State.Flags || this.#frames.length > 0;
  }

  /**
   * Bytes held for the data message being received: its complete frames plus the size the
   * current frame claims (its buffer is allocated when the size is read). 0 between messages.
   * Commands (at most MAX_COMMAND_SIZE) are not counted.
   */
  get partialBytes(): number {
    return this.#messageSize;
  }

  push(chunk: Uint8Array, out: DecodedItem[] = []): DecodedItem[] {
    if (this.#error) throw this.#error;
    try {
      this.#consume(chunk, out);
    } catch (error) {
      this.#state = State.Failed;
      this.#error = error instanceof FrameError ? error : new FrameError(String(error));
      throw this.#error;
    }
    return out;
  }

  #consume(chunk: Uint8Array, out: DecodedItem[]): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case State.Flags: {
          const flags = chunk[i++]!;
          if (flags & FLAGS_RESERVED) throw new FrameError(`invalid frame flags 0x${flags.toString(16).padStart(2, "0")}`);
          if (flags & FLAG_COMMAND && this.#frames.length > 0) {
            throw new FrameError("command frame inside a multipart message");
          }
          if (!(flags & FLAG_COMMAND) && this.#awaitingReady) throw new FrameError("peer sent a message before READY");
          if (!(flags & FLAG_COMMAND) && this.#maxFrames >= 0 && this.#frames.length >= this.#maxFrames) {
            throw new FrameError(`message has more than ${this.#maxFrames} frames (maxFramesPerMessage)`);
          }
          this.#flags = flags;
          this.#sizeNeeded = flags & FLAG_LONG ? 8 : 1;
          this.#sizeHave = 0;
          this.#state = State.Size;
          break;
        }
        case State.Size: {
          if (this.#sizeNeeded === 1) {
            this.#beginBody(chunk[i++]!);
          } else {
            const take = Math.min(this.#sizeNeeded - this.#sizeHave, n - i);
            this.#sizeBytes.set(chunk.subarray(i, i + take), this.#sizeHave);
            this.#sizeHave += take;
            i += take;
            if (this.#sizeHave === 8) this.#beginBody(this.#readLongSize());
          }
          if ((this.#state as State) === State.Body && this.#bodySize === 0) this.#endFrame(out);
          break;
        }
        case State.Body: {
          const take = Math.min(this.#bodySize - this.#bodyHave, n - i);
          if (this.#bodyParts) this.#bodyParts.push(new Uint8Array(chunk.subarray(i, i + take)));
          else this.#body.set(chunk.subarray(i, i + take), this.#bodyHave);
          this.#bodyHave += take;
          i += take;
          if (this.#bodyHave === this.#bodySize) this.#endFrame(out);
          break;
        }
        case State.Failed:
          throw this.#error ?? new FrameError("decoder failed");
      }
    }
  }

  #readLongSize(): number {
    const b = this.#sizeBytes;
    // Top 11 bits must be clear: larger sizes cannot be exact JavaScript numbers (2^53).
    if (b[0] !== 0 || (b[1]! & 0xe0) !== 0) throw new FrameError("frame size exceeds 2^53 bytes");
    const high = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
    const low = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
    return high * 0x1_0000_0000 + low;
  }

  #beginBody(size: number): void {
    if (this.#flags & FLAG_COMMAND) {
      if (size > MAX_COMMAND_SIZE) throw new FrameError(`command frame of ${size} bytes exceeds ${MAX_COMMAND_SIZE}`);
    } else {
      const max = this.#limits.maxMessageSize;
      if (max >= 0 && this.#messageSize + size > max) {
        throw new FrameError(`message of at least ${this.#messageSize + size} bytes exceeds maxMessageSize ${max}`);
      }
      this.#messageSize += size;
    }
    // A claimed size is not trusted with memory: bodies above 16 MiB are collected as their
    // bytes arrive and joined at the end.
    this.#bodySize = size;
    this.#bodyHave = 0;
    if (size <= UPFRONT_LIMIT) {
      this.#body = size === 0 ? EMPTY_BODY() : new Uint8Array(size);
      this.#bodyParts = undefined;
    } else {
      this.#bodyParts = [];
    }
    this.#state = State.Body;
  }

  #endFrame(out: DecodedItem[]): void {
    const body = this.#bodyParts ? concat(this.#bodyParts, this.#bodySize) : this.#body;
    this.#state = State.Flags;
    this.#body = EMPTY;
    this.#bodyParts = undefined;
    if (this.#flags & FLAG_COMMAND) {
      if (body.length === 0) throw new FrameError("empty command frame");
      const nameLength = body[0]!;
      if (nameLength === 0 || nameLength + 1 > body.length) throw new FrameError("malformed command name");
      let name = "";
      for (let k = 1; k <= nameLength; k++) name += String.fromCharCode(body[k]!);
      // Messages may follow READY in the same chunk; a bad READY drops the peer before they matter.
      if (name === "READY") this.#awaitingReady = false;
      out.push({ kind: "command", name, data: body.subarray(1 + nameLength) });
      return;
    }
    this.#frames.push(body);
    if (!(this.#flags & FLAG_MORE)) {
      out.push({ kind: "message", frames: this.#frames });
      this.#frames = [];
      this.#messageSize = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
/** Each empty frame gets its own array so receivers may not alias one another's frames. */
const EMPTY_BODY = (): Uint8Array => new Uint8Array(0);
const UPFRONT_LIMIT = 1 << 24;

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
