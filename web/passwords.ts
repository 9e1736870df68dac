/**
 * Password hashes with scrypt (`node:crypto`, also in Deno): `scrypt$N$r$p$salt$hash`, salt and
 * hash base64url. Checks compare in constant time, and a login for a user that does not exist
 * costs the same hash, so timing tells nothing about which users exist.
 *
 * scrypt is slow on purpose (tens of milliseconds, 32 MiB), so hashes computed at once are
 * capped: a flood of logins waits in line (and is refused past the line's length) instead of
 * taking the process's memory and both cores.
 */
import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
/** 128·N·r bytes are needed; node's default maxmem is exactly that, so leave room. */
const MAX_MEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N: n, r, p, maxmem: MAX_MEM }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Hash a new password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** A stand-in hash for users that do not exist: verified against, never matching. */
const NOBODY = `scrypt$${N}$${R}$${P}$${randomBytes(16).toString("base64url")}$${randomBytes(KEY_BYTES).toString("base64url")}`;

/** Whether `password` matches `stored` (undefined: no such user, which costs the same and fails). */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = (stored ?? NOBODY).split("$");
  const [scheme, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || scheme !== "scrypt") return false;
  const cost = { n: Number(n), r: Number(r), p: Number(p) };
  // A hand-edited file must not make a login take the machine: bound the parameters.
  if (!(cost.n >= 1024 && cost.n <= 1 << 17 && cost.r >= 1 && cost.r <= 16 && cost.p >= 1 && cost.p <= 4)) return false;
  const expected = Buffer.from(hash!, "base64url");
  if (expected.byteLength !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(salt!, "base64url"), cost.n, cost.r, cost.p);
  return timingSafeEqual(key, expected) && stored !== undefined;
}

/** Runs at most `concurrency` tasks at once, with at most `queue` waiting; past that, refuses. */
export class HashGate {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    readonly concurrency = 2,
    readonly queue = 32,
  ) {}

  /** The task's result, or undefined when the line is full (the caller says "try later"). */
  async run<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.queue) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes on
      else this.#running--;
    }
  }
}
