/**
 * The web door's deployment folder: `web.json` (users with their password hashes, roles and
 * accounts, and the functions and topics each role may use) and `secret` (the token signing key). Both are
 * created with mode 0600 in a folder of mode 0700, and refused when group or others may open
 * them, as ssh refuses a private key. There is no default user, password or secret: a folder
 * without them is refused with the command that makes them.
 *
 * Uses `node:fs` and `node:crypto`, which Deno provides too.
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as v from "valibot";
import { ACCOUNT_NAME, EVERY_ACCOUNT } from "./accounts.ts";

export const ROLES = ["viewer", "trader"] as const;
export type Role = (typeof ROLES)[number];

/** What a role may do: RPC functions it may call, topic prefixes it may subscribe to. */
export interface RolePolicy {
  functions: string[];
  topics: string[];
}

export interface UserRecord {
  role: Role;
  /**
   * The accounts whose orders, trades, positions and balances the user sees (and, a trader,
   * trades): gateway names as the service names them (`SIM`), or `"*"` for every account.
   * None (or absent): market data only. See accounts.ts.
   */
  accounts?: string[];
  /** `scrypt$N$r$p$salt$hash` (base64url); see passwords.ts. */
  password: string;
}

export interface WebConfig {
  roles: Record<Role, RolePolicy>;
  users: Record<string, UserRecord>;
}

const MARKET_AND_ACCOUNT = [
  "subscribe", "queryHistory", "getTick", "getOrder", "getTrade", "getPosition", "getAccount", "getContract",
  "getAllTicks", "getAllOrders", "getAllTrades", "getAllPositions", "getAllAccounts", "getAllContracts", "getAllActiveOrders",
];
const EVENTS = ["eTick.", "eOrder.", "eTrade.", "ePosition.", "eAccount.", "eContract.", "eLog"];

/**
 * Written into a new web.json, where an operator edits them: a viewer sees market data and the
 * account; a trader may also send and cancel orders. Nothing here is a secret.
 */
export const DEFAULT_ROLES: Record<Role, RolePolicy> = {
  viewer: { functions: MARKET_AND_ACCOUNT, topics: EVENTS },
  trader: { functions: [...MARKET_AND_ACCOUNT, "sendOrder", "cancelOrder"], topics: EVENTS },
};

/** A user name: what a login form and a log line can hold safely. */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

const policySchema = v.object({
  functions: v.array(v.pipe(v.string(), v.maxLength(128))),
  topics: v.array(v.pipe(v.string(), v.maxLength(1024))),
});
const configSchema = v.object({
  roles: v.object({ viewer: policySchema, trader: policySchema }),
  users: v.record(
    v.pipe(v.string(), v.regex(USER_NAME, "Not a valid user name")),
    v.object({
      role: v.picklist(ROLES, "Unknown role"),
      accounts: v.optional(v.array(v.pipe(v.string(), v.check(isAccountName, "Not a gateway name or \"*\"")))),
      password: v.pipe(v.string(), v.startsWith("scrypt$")),
    }),
  ),
});

function isAccountName(name: string): boolean {
  return name === EVERY_ACCOUNT || ACCOUNT_NAME.test(name);
}

/** `SIM,SIM2` → the names, each checked; `*` for every account. */
export function parseAccounts(list: string): string[] {
  const names = list.split(",").map((name) => name.trim()).filter((name) => name !== "");
  const bad = names.find((name) => !isAccountName(name));
  if (bad !== undefined) throw new SetupError(`An account is a gateway name (1 to 64 characters, no spaces) or * for every account, got ${JSON.stringify(bad)}`);
  return [...new Set(names)];
}

/** The deployment is not set up: the message says which command sets it up. */
export class SetupError extends Error {
  override name = "SetupError";
}

export interface DeploymentFiles {
  dir: string;
  config: string;
  secret: string;
}

/** The folder: `--dir`, else `TRADEWIRE_WEB_DIR`, else `~/.tradewire/web`. */
export function deploymentFiles(dir?: string): DeploymentFiles {
  const folder = dir ?? (process.env.TRADEWIRE_WEB_DIR || join(homedir(), ".tradewire", "web"));
  return { dir: folder, config: join(folder, "web.json"), secret: join(folder, "secret") };
}

function quoted(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/** How to make the first user, in the words a person types. */
function adduserHint(files: DeploymentFiles): string {
  return `make one with: tradewire web adduser NAME --role trader --account GATEWAY --dir ${quoted(files.dir)} (the password is read from the terminal or standard input)`;
}

/** Text of a file readable by its owner only; undefined when it does not exist. */
function readPrivate(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") return undefined;
    throw new SetupError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SetupError(`${path} is not a file`);
    if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
      throw new SetupError(`${path} is open to other users (mode ${mode}): it must be readable by its owner only; run chmod 600 ${quoted(path)}`);
    }
    return readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
}

/** Write `text` to `path` with mode 0600 from the first byte, replacing it atomically. */
function writePrivate(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The configuration, or a SetupError that says how to make it. */
export function readConfig(files: DeploymentFiles): WebConfig {
  const text = readPrivate(files.config);
  if (text === undefined) throw new SetupError(`No users: ${files.config} does not exist; ${adduserHint(files)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SetupError(`${files.config} is not valid JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(configSchema, json);
  if (!result.success) {
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".");
    throw new SetupError(`${files.config} is not a web door configuration: ${path ? `${path}: ` : ""}${issue.message}`);
  }
  return result.output as WebConfig;
}

/** The signing secret (32 random bytes or more), or a SetupError that says how to make it. */
export function readSecret(files: DeploymentFiles): Uint8Array {
  const text = readPrivate(files.secret);
  if (text === undefined) {
    throw new SetupError(`No signing secret: ${files.secret} does not exist; tradewire web adduser makes it with the first user (${adduserHint(files)})`);
  }
  const secret = Buffer.from(text.trim(), "base64url");
  if (secret.byteLength < 32) throw new SetupError(`${files.secret} holds fewer than 32 bytes: remove it and run tradewire web adduser again to make a new one`);
  return new Uint8Array(secret);
}

/** Everything `tradewire web` needs, checked: at least one user and a secret. */
export function loadDeployment(files: DeploymentFiles): { config: WebConfig; secret: Uint8Array } {
  const config = readConfig(files);
  if (Object.keys(config.users).length === 0) throw new SetupError(`No users in ${files.config}; ${adduserHint(files)}`);
  return { config, secret: readSecret(files) };
}

/**
 * Add or replace a user, creating the folder (0700), web.json (0600, with the default roles)
 * and the signing secret (0600, 32 random bytes) when missing. A user replaced without
 * `accounts` keeps the accounts it had (a new password does not take them away). Returns
 * whether the secret was made, and the accounts the user now holds.
 */
export function saveUser(files: DeploymentFiles, name: string, user: UserRecord): { createdSecret: boolean; replaced: boolean; accounts: string[] } {
  if (!USER_NAME.test(name)) throw new SetupError(`A user name is 1 to 64 letters, digits and _ . @ - (not starting with . @ -), got ${JSON.stringify(name)}`);
  const bad = user.accounts?.find((account) => !isAccountName(account));
  if (bad !== undefined) throw new SetupError(`An account is a gateway name (1 to 64 characters, no spaces) or * for every account, got ${JSON.stringify(bad)}`);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const config: WebConfig = existsSync(files.config) ? readConfig(files) : { roles: DEFAULT_ROLES, users: {} };
  const replaced = Object.hasOwn(config.users, name);
  const accounts = user.accounts ?? (replaced ? config.users[name]!.accounts : undefined) ?? [];
  config.users[name] = { role: user.role, accounts, password: user.password };
  writePrivate(files.config, `${JSON.stringify(config, null, 2)}\n`);
  let createdSecret = false;
  if (readPrivate(files.secret) === undefined) {
    const fd = openSync(files.secret, "wx", 0o600); // never replaces one: tokens signed with it stay valid
    try {
      writeSync(fd, `${randomBytes(32).toString("base64url")}\n`);
    } finally {
      closeSync(fd);
    }
    createdSecret = true;
  }
  return { createdSecret, replaced, accounts };
}
