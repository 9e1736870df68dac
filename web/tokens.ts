/**
 * Access tokens: JWTs signed with HS256 (`jose`) by the deployment's own secret, naming the user
 * and its role, expiring after `ttlSeconds`. Verification accepts only HS256, our issuer and
 * audience, and a live expiry, so a token signed by another deployment or with `alg: none` is
 * refused. Tokens are never logged.
 */
import { jwtVerify, SignJWT, errors } from "jose";
import { ROLES, type Role } from "./config.ts";

const ISSUER = "tradewire-web";
const AUDIENCE = "tradewire-web";

export interface Session {
  user: string;
  role: Role;
  /** Epoch seconds at which the token expires. */
  exp: number;
}

export class Tokens {
  readonly #secret: Uint8Array;
  readonly ttlSeconds: number;

  constructor(secret: Uint8Array, ttlSeconds = 3600) {
    if (secret.byteLength < 32) throw new RangeError("The signing secret must be at least 32 bytes");
    this.#secret = secret;
    this.ttlSeconds = ttlSeconds;
  }

  async issue(user: string, role: Role): Promise<{ token: string; exp: number }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const token = await new SignJWT({ role })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(user)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.#secret);
    return { token, exp };
  }

  /** The session a token stands for, or why not (said to the caller: nothing secret in it). */
  async verify(token: string): Promise<Session | { problem: string }> {
    if (token.length > 4096) return { problem: "Token too long" };
    try {
      const { payload } = await jwtVerify(token, this.#secret, { algorithms: ["HS256"], issuer: ISSUER, audience: AUDIENCE });
      const role = payload.role;
      if (typeof payload.sub !== "string" || typeof payload.exp !== "number" || !ROLES.includes(role as Role)) {
        return { problem: "Token lacks a user, role or expiry" };
      }
      return { user: payload.sub, role: role as Role, exp: payload.exp };
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { problem: "Token expired: log in again (POST /token)" };
      return { problem: "Invalid token" };
    }
  }
}
