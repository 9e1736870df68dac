/**
 * The ZMTP 3.x greeting (64 bytes) and the NULL-mechanism handshake commands.
 *
 * greeting = signature(10: FF, 8 padding, 7F) version(2: 3, 1) mechanism(20) as-server(1) filler(31)
 * READY    = properties: name-length(1) name value-length(4, big-endian) value
 */

export const GREETING_SIZE = 64;
export const SIGNATURE_SIZE = 10;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** Our greeting: ZMTP 3.1, NULL mechanism (as-server is 0 for NULL). */
export function encodeGreeting(): Uint8Array {
  const out = new Uint8Array(GREETING_SIZE);
  out[0] = 0xff;
  out[9] = 0x7f;
  out[10] = 3;
  out[11] = 1;
  out.set(textEncoder.encode("NULL"), 12);
  return out;
}

export interface PeerGreeting {
  major: number;
  minor: number;
  mechanism: string;
}

/**
 * Check the first bytes as soon as they arrive, so a non-ZMTP peer (an HTTP client, a port
 * scanner) is dropped after 10 bytes, not left waiting for 64. Returns a reason or undefined.
 */
export function checkSignature(bytes: Uint8Array): string | undefined {
  if (bytes.length > 0 && bytes[0] !== 0xff) return "peer did not send a ZMTP greeting (first byte is not 0xFF)";
  if (bytes.length >= SIGNATURE_SIZE && (bytes[9]! & 0x01) === 0) {
    return "peer speaks ZMTP 1.0, which is not supported";
  }
  return undefined;
}

/** Parse a complete 64-byte greeting; throws an Error with the reason when unusable. */
export function parseGreeting(bytes: Uint8Array): PeerGreeting {
  const signatureProblem = checkSignature(bytes);
  if (signatureProblem) throw new Error(signatureProblem);
  const major = bytes[10]!;
  const minor = bytes[11]!;
  if (major < 3) throw new Error(`peer speaks ZMTP ${major}.${minor}, version 3 or later is required`);
  let end = 12;
  while (end < 32 && bytes[end] !== 0) end++;
  const mechanism = textDecoder.decode(bytes.subarray(12, end));
  if (mechanism !== "NULL") throw new Error(`peer uses the ${mechanism || "(empty)"} security mechanism, only NULL is supported`);
  return { major, minor, mechanism };
}

/** Encode READY properties (the body after the command name). */
export function encodeProperties(properties: Record<string, Uint8Array | string>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [name, value] of Object.entries(properties)) {
    const nameBytes = textEncoder.encode(name);
    const valueBytes = typeof value === "string" ? textEncoder.encode(value) : value;
    if (nameBytes.length > 255) throw new RangeError("Property name is longer than 255 bytes");
    const part = new Uint8Array(1 + nameBytes.length + 4 + valueBytes.length);
    part[0] = nameBytes.length;
    part.set(nameBytes, 1);
    new DataView(part.buffer).setUint32(1 + nameBytes.length, valueBytes.length);
    part.set(valueBytes, 5 + nameBytes.length);
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Decode READY properties; names are case-insensitive in ZMTP, so keys come back lower-cased. */
export function decodeProperties(data: Uint8Array): Map<string, Uint8Array> {
  const properties = new Map<string, Uint8Array>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  while (offset < data.length) {
    const nameLength = data[offset]!;
    if (nameLength === 0 || offset + 1 + nameLength + 4 > data.length) throw new Error("malformed READY metadata");
    const name = textDecoder.decode(data.subarray(offset + 1, offset + 1 + nameLength)).toLowerCase();
    offset += 1 + nameLength;
    const valueLength = view.getUint32(offset);
    offset += 4;
    if (offset + valueLength > data.length) throw new Error("malformed READY metadata");
    properties.set(name, data.slice(offset, offset + valueLength));
    offset += valueLength;
  }
  return properties;
}

/** ERROR command body: one length byte and a reason (truncated to 255 bytes). */
export function encodeErrorReason(reason: string): Uint8Array {
  const bytes = textEncoder.encode(reason).subarray(0, 255);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

export function decodeErrorReason(data: Uint8Array): string {
  const length = Math.min(data[0] ?? 0, data.length - 1);
  return textDecoder.decode(data.subarray(1, 1 + length));
}
