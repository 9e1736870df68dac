/**
 * CURVE keys in files, so a secret never reaches argv (where `ps` shows it to every local user).
 * `tradewire keygen --out DIR` writes `DIR/NAME.key` (the secret, created with mode 0600: it is
 * never readable by others, not even for an instant) and `DIR/NAME.pub`, and never overwrites.
 * `--curve-secret-key-file` refuses a file that group or others may open, as ssh does.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { UsageError } from "./args.ts";

/** A file name for keygen --name: no folders, no dot files. */
const KEY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function quoted(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a folder";
  return error instanceof Error ? error.message : String(error);
}

function keyIn(text: string, path: string, flag: string): string {
  const key = text.trim();
  if (key.length !== 40 || /\s/.test(key)) throw new UsageError(`${flag} ${path} does not hold one Z85 key of 40 characters`);
  return key;
}

/** The key in a file readable by its owner only (the secret key of `serve`). */
export function readSecretKeyFile(path: string, flag: string): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new UsageError(`Cannot read ${flag} ${path}: ${reason(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(`${flag} ${path} is not a file`);
    if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, "0");
      throw new UsageError(`${flag} ${path} is open to other users (mode ${mode}): a secret key must be readable by its owner only; run chmod 600 ${quoted(path)}`);
    }
    return keyIn(readFileSync(fd, "utf8"), path, flag);
  } finally {
    closeSync(fd);
  }
}

/** The key in a file anyone may read (a public key). */
export function readPublicKeyFile(path: string, flag: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${flag} ${path}: ${reason(error)}`);
  }
  return keyIn(text, path, flag);
}

function refuseExisting(path: string): Error {
  return new Error(`${path} already exists: keygen never overwrites a key (remove it, or choose another --name or --out)`);
}

/** Create `path` holding `text`, with `mode` from the start; fails if it exists. */
function createExclusive(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, "wx", mode); // O_CREAT | O_EXCL: created with this mode, never reused
  } catch (error) {
    if ((error as { code?: unknown })?.code === "EEXIST") throw refuseExisting(path);
    throw new Error(`Cannot create ${path}: ${reason(error)}`, { cause: error });
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Write DIR/NAME.key (mode 0600) and DIR/NAME.pub; returns their paths. */
export function writeKeyPair(dir: string, name: string, pair: { publicKey: string; secretKey: string }): { secretKeyFile: string; publicKeyFile: string } {
  if (!KEY_NAME.test(name)) throw new UsageError(`--name must be a plain file name (letters, digits, _ . -), got ${JSON.stringify(name)}`);
  const secretKeyFile = join(dir, `${name}.key`);
  const publicKeyFile = join(dir, `${name}.pub`);
  for (const path of [secretKeyFile, publicKeyFile]) if (existsSync(path)) throw refuseExisting(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new Error(`Cannot create the folder ${dir}: ${reason(error)}`, { cause: error });
  }
  createExclusive(secretKeyFile, `${pair.secretKey}\n`, 0o600);
  try {
    createExclusive(publicKeyFile, `${pair.publicKey}\n`, 0o644);
  } catch (error) {
    rmSync(secretKeyFile, { force: true }); // all or nothing
    throw error;
  }
  return { secretKeyFile, publicKeyFile };
}

/** The server's public key: --curve-server-key, --curve-server-key-file or TRADEWIRE_CURVE_SERVER_KEY. */
export function serverPublicKey(values: Record<string, unknown>): string | undefined {
  const key = values["curve-server-key"] as string | undefined;
  const file = values["curve-server-key-file"] as string | undefined;
  if (key !== undefined && file !== undefined) throw new UsageError("Give --curve-server-key or --curve-server-key-file, not both");
  if (file !== undefined) return readPublicKeyFile(file, "--curve-server-key-file");
  return key ?? (process.env.TRADEWIRE_CURVE_SERVER_KEY || undefined);
}
