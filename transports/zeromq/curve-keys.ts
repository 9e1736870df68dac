/**
 * CURVE key pairs without the native addon: CurveZMQ keys are X25519 keys (32 bytes each),
 * written in Z85 (ZeroMQ RFC 32) as 40 characters. WebCrypto has X25519 on Node ≥ 20 and Deno,
 * so `tradewire keygen` works on either engine.
 */

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** Z85-encode bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError("Z85 encodes a multiple of 4 bytes");
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

function base64UrlDecode(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** A fresh CURVE key pair, Z85-encoded: `secretKey` for the server, `publicKey` for its clients. */
export async function generateCurveKeyPair(): Promise<{ publicKey: string; secretKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "X25519" }, true, ["deriveBits"])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const secretJwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  if (typeof secretJwk.d !== "string") throw new Error("X25519 key export returned no private key");
  return { publicKey: z85Encode(publicRaw), secretKey: z85Encode(base64UrlDecode(secretJwk.d)) };
}
