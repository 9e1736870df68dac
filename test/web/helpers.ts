/**
 * The web door's suites run real processes on loopback: `tradewire serve` (the simulated
 * exchange over ZeroMQ), `tradewire web` (the door), users made with `tradewire web adduser`,
 * and real `fetch` and WebSocket clients (the `ws` package on Node 20).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { deploymentFiles, saveUser, type Role } from "../../web/config.ts";
import { hashPassword } from "../../web/passwords.ts";
import { addresses, Child, CLI, cli, ROOT } from "../zeromq/helpers.ts";

export const PASSWORDS = { alice: "alice-trades-a-lot", bob: "bob-only-watches", carol: "carol-forgets-hers" } as const;

const dirs: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tw-web-"));
  dirs.push(dir);
  return dir;
}

export function removeDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** `tradewire web adduser NAME --role ROLE --dir DIR [EXTRA…]` with the password on standard input. */
export async function adduser(dir: string, name: string, role: string, password: string, ...extra: string[]): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  const child = new Child(spawn(process.execPath, [CLI, "web", "adduser", name, "--role", role, "--dir", dir, ...extra], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] }));
  child.process.stdin!.end(`${password}\n`);
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/**
 * A deployment folder with alice (trader), bob (viewer) and carol (trader), all of account SIM
 * (`tradewire serve`'s), written in this process by the functions `tradewire web adduser` uses
 * (the command itself is tested apart: three more processes per suite are slow on a busy machine).
 */
export async function deployment(): Promise<string> {
  return deploymentOf({
    alice: { role: "trader", accounts: ["SIM"], password: PASSWORDS.alice },
    bob: { role: "viewer", accounts: ["SIM"], password: PASSWORDS.bob },
    carol: { role: "trader", accounts: ["SIM"], password: PASSWORDS.carol },
  });
}

/** A deployment folder with these users (passwords in the clear here, hashed into web.json). */
export async function deploymentOf(users: Record<string, { role: Role; accounts: string[]; password: string }>): Promise<string> {
  const dir = join(tempDir(), "web");
  const files = deploymentFiles(dir);
  const entries = Object.entries(users);
  const hashes = await Promise.all(entries.map(([, user]) => hashPassword(user.password)));
  entries.forEach(([name, user], i) => saveUser(files, name, { role: user.role, accounts: user.accounts, password: hashes[i]! }));
  return dir;
}

export function secretOf(dir: string): Uint8Array {
  return new Uint8Array(Buffer.from(readFileSync(join(dir, "secret"), "utf8").trim(), "base64url"));
}

/** `tradewire serve` (the simulated exchange) on fresh ports, or on the given ones. */
export async function service(at?: { rep: string; pub: string }): Promise<{ child: Child; rep: string; pub: string }> {
  const { rep, pub } = at ?? (await addresses("tcp"));
  const child = cli("serve", "--rep", rep, "--pub", pub);
  await child.line(/^RPC service started/);
  return { child, rep, pub };
}

/** `tradewire web` on a free port; resolves with its URL once it listens. */
export async function door(dir: string, upstream: { rep: string; pub: string }, ...extra: string[]): Promise<{ child: Child; url: string }> {
  const child = cli("web", "--dir", dir, "--port", "0", "--req", upstream.rep, "--sub", upstream.pub, ...extra);
  const line = await child.line(/^Web door at /);
  return { child, url: /^Web door at (\S+)/.exec(line)![1]! };
}

export async function login(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password }) });
}

export async function tokenFor(url: string, name: keyof typeof PASSWORDS): Promise<string> {
  const response = await login(url, name, PASSWORDS[name]);
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) throw new Error(`Login of ${name} failed: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A request with a bearer token; resolves with the status and the parsed JSON body. */
export async function api(url: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** A token the door's checks must refuse or accept, signed by whatever secret is given. */
export async function signedToken(secret: Uint8Array, claims: { sub: string; role: string; exp: number; iss?: string; aud?: string }): Promise<string> {
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? "tradewire-web")
    .setAudience(claims.aud ?? "tradewire-web")
    .setIssuedAt(claims.exp - 3600)
    .setExpirationTime(claims.exp)
    .sign(secret);
}

/**
 * Resolves with `probe()`'s first truthy result. For state that arrives by itself (the first
 * tick after subscribing): polled, never timed; the suite's timeout bounds it.
 */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Tick {
  vtSymbol: string;
  bidPrice1: number;
  askPrice1: number;
  lastPrice: number;
}

/** The latest tick of `vtSymbol` through the door (subscribing it first). */
export async function latestTick(url: string, token: string, vtSymbol: string): Promise<Tick> {
  await api(url, token, "POST", `/tick/${vtSymbol}`);
  return eventually(async () => ((await api(url, token, "GET", "/tick")).body as Tick[]).find((t) => t.vtSymbol === vtSymbol));
}
