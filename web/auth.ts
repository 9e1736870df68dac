/**
 * Who may do what at the web door: logins (rate-limited, constant-time password checks, a capped
 * number of hashes at once), tokens, and the per-role allow-lists of RPC functions and topic
 * prefixes from web.json. REST routes and WebSocket calls ask the same `Auth`.
 */
import { Holdings } from "./accounts.ts";
import type { Role, WebConfig } from "./config.ts";
import { LoginLimiter, type LoginLimiterOptions } from "./login-limiter.ts";
import { HashGate, verifyPassword } from "./passwords.ts";
import { Tokens, type Session as TokenSession } from "./tokens.ts";

/** A logged-in user: the token's name and expiry, with the role and accounts web.json gives it. */
export interface Session extends TokenSession {
  holdings: Holdings;
}

export type LoginResult =
  | { ok: true; token: string; exp: number; role: Role }
  | { ok: false; status: 401 | 429 | 503; message: string; retryAfter?: number };

export interface AuthOptions {
  config: WebConfig;
  secret: Uint8Array;
  /** Lifetime of a token. Default 3600 s. */
  tokenTtlSeconds?: number;
  limits?: LoginLimiterOptions;
  /** Where logins and refusals are told (never passwords or tokens). */
  log?: (line: string) => void;
}

export class Auth {
  readonly #config: WebConfig;
  readonly #tokens: Tokens;
  readonly #limiter: LoginLimiter;
  readonly #gate = new HashGate();
  readonly #log: (line: string) => void;
  /** User → the accounts it holds, made once: users with equal holdings share one object's key. */
  readonly #holdings = new Map<string, Holdings>();

  constructor(options: AuthOptions) {
    this.#config = options.config;
    for (const [user, record] of Object.entries(options.config.users)) this.#holdings.set(user, new Holdings(record.accounts));
    this.#tokens = new Tokens(options.secret, options.tokenTtlSeconds);
    this.#limiter = new LoginLimiter(options.limits);
    this.#log = options.log ?? (() => {});
  }

  get tokenTtlSeconds(): number {
    return this.#tokens.ttlSeconds;
  }

  async login(user: string, password: string, address: string | undefined): Promise<LoginResult> {
    const wait = this.#limiter.attempt(user, address);
    if (wait > 0) {
      this.#log(`Login refused for ${JSON.stringify(user)} from ${address ?? "?"}: too many attempts`);
      return { ok: false, status: 429, message: `Too many login attempts: try again in ${wait} s`, retryAfter: wait };
    }
    const record = Object.hasOwn(this.#config.users, user) ? this.#config.users[user] : undefined;
    const matches = await this.#gate.run(() => verifyPassword(password, record?.password));
    if (matches === undefined) return { ok: false, status: 503, message: "Too many logins at once: try again shortly", retryAfter: 1 };
    if (!matches || !record) {
      this.#log(`Login failed for ${JSON.stringify(user)} from ${address ?? "?"}`);
      return { ok: false, status: 401, message: "Wrong user name or password" };
    }
    this.#limiter.succeeded(user, address);
    const { token, exp } = await this.#tokens.issue(user, record.role);
    this.#log(`Login: ${user} (${record.role}) from ${address ?? "?"}`);
    return { ok: true, token, exp, role: record.role };
  }

  /** Every distinct holding of the configured users (the door serves each group of users apart). */
  get holdingGroups(): Holdings[] {
    const groups = new Map<string, Holdings>();
    for (const holdings of this.#holdings.values()) if (!groups.has(holdings.key)) groups.set(holdings.key, holdings);
    return [...groups.values()];
  }

  /**
   * The session of a token, with the role and accounts web.json gives the user now (a user
   * removed or demoted since the token was issued gets what the file says), or why not.
   */
  async authenticate(token: string | undefined): Promise<Session | { problem: string }> {
    if (!token) return { problem: "No token: log in with POST /token and send Authorization: Bearer TOKEN" };
    const result = await this.#tokens.verify(token);
    if ("problem" in result) return result;
    const record = Object.hasOwn(this.#config.users, result.user) ? this.#config.users[result.user] : undefined;
    if (!record) return { problem: "Unknown user" };
    return { ...result, role: record.role, holdings: this.#holdings.get(result.user) ?? new Holdings() };
  }

  mayCall(role: Role, fn: string): boolean {
    return this.#config.roles[role].functions.includes(fn);
  }

  /** A prefix is allowed when it lies within one the role may subscribe to. */
  maySubscribe(role: Role, prefix: string): boolean {
    return this.#config.roles[role].topics.some((allowed) => prefix.startsWith(allowed));
  }
}
