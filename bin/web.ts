/**
 * `tradewire web` (the web door) and `tradewire web adduser NAME`: command-line glue around
 * web/. Passwords are read from the terminal (not echoed) or from standard input, never from
 * argv; the CURVE key from a file or the environment, as `call` takes it.
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { parseCommandLine, UsageError, type OptionSpecs } from "./args.ts";
import { serverPublicKey } from "./key-files.ts";
import { packageVersion } from "./version.ts";
import { deploymentFiles, loadDeployment, parseAccounts, ROLES, saveUser, SetupError, type Role } from "../web/config.ts";
import { hashPassword } from "../web/passwords.ts";

const DEFAULT_REQUEST = "tcp://127.0.0.1:2014";
const DEFAULT_BROADCAST = "tcp://127.0.0.1:4102";
const MIN_PASSWORD = 8;

export const WEB_HELP = `Usage: tradewire web [options]
       tradewire web adduser NAME [--role viewer|trader] [--account LIST] [--dir DIR]

Starts the web door: an RPC client of the trading service over ZeroMQ that faces browsers with
REST (POST /token, POST /tick/{vtSymbol}, GET /tick, POST /order, DELETE /order/{vtOrderId},
GET /order, /trade, /position, /account, /contract, /history; the OpenAPI document at
/openapi.json) and a WebSocket at /ws carrying tradewire's own calls and topics.

It needs a user and a signing secret in DIR (web.json and secret, mode 0600): the first
tradewire web adduser NAME makes both. There is no default user, password or secret.

Options:
  --req ADDRESS          The service's request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          The service's broadcast address (default ${DEFAULT_BROADCAST})
  --host HOST            Interface to listen on (default 127.0.0.1)
  --port PORT            Port to listen on (default 8080; 0 picks a free one)
  --dir DIR              The deployment folder (default $TRADEWIRE_WEB_DIR or ~/.tradewire/web)
  --cors-origin LIST     Comma-separated browser origins allowed from other sites
                         (default none: CORS closed), e.g. http://127.0.0.1:5173
  --token-ttl SECONDS    Lifetime of a login token (default 3600)
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The service's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY)
  --curve-server-key-file PATH
                         The same, read from a file (the .pub file of tradewire keygen --out)
  -h, --help             Show this help

adduser reads the password from the terminal (twice, not echoed) or the first line of standard
input, e.g. printf '%s\\n' "$PASSWORD" | tradewire web adduser alice --role trader --account SIM
Roles: viewer (market data and the user's accounts), trader (may also send and cancel orders
on them); which functions and topics each may use is listed in DIR/web.json.
Accounts (--account): comma-separated gateway names as the service names them (SIM,SIM2), or
* for every account. A user sees only its accounts' orders, trades, positions, balances and
logs, and trades only on them; a user without accounts sees market data only. Re-adding a user
without --account keeps its accounts.`;

const SERVE_OPTIONS = {
  req: { type: "string", default: DEFAULT_REQUEST },
  sub: { type: "string", default: DEFAULT_BROADCAST },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "8080" },
  dir: { type: "string" },
  "cors-origin": { type: "string" },
  "token-ttl": { type: "string", default: "3600" },
  engine: { type: "string" },
  "curve-server-key": { type: "string" },
  "curve-server-key-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

const ADDUSER_OPTIONS = {
  role: { type: "string", default: "viewer" },
  account: { type: "string" },
  dir: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

/** `http://a:1,https://b` → the origins, each checked to be one. */
function origins(list: string | undefined): string[] {
  if (list === undefined) return [];
  return list.split(",").map((item) => {
    const origin = item.trim();
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new UsageError(`--cors-origin takes origins such as http://127.0.0.1:5173, got ${JSON.stringify(origin)}`);
    }
    if (url.origin !== origin) throw new UsageError(`--cors-origin takes origins (scheme://host[:port], no path), got ${JSON.stringify(origin)}; did you mean ${url.origin}?`);
    return origin;
  });
}

/** One line from a terminal with echo off (raw mode), or undefined on Ctrl+C / Ctrl+D. */
function promptHidden(prompt: string): Promise<string | undefined> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    let text = "";
    const finish = (value: string | undefined) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(text);
        if (ch === "\u0003" || ch === "\u0004") return finish(undefined);
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/** The first line of standard input (a pipe or file). */
async function firstLineOfStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > 64 * 1024 || chunk.includes(10)) break;
  }
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

async function readPassword(name: string): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden(`Password for ${name}: `);
    if (first === undefined) throw new Error("No password given");
    const again = await promptHidden("Again: ");
    if (again !== first) throw new Error("The passwords differ");
    return first;
  }
  return firstLineOfStdin();
}

async function adduser(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, ADDUSER_OPTIONS, true);
  if (values.help) {
    out(WEB_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("adduser takes one user name: tradewire web adduser NAME");
  const name = positionals[0]!;
  const role = values.role as string;
  if (!ROLES.includes(role as Role)) throw new UsageError(`--role must be viewer or trader, got ${role}`);
  let accounts: string[] | undefined;
  try {
    accounts = values.account === undefined ? undefined : parseAccounts(values.account as string);
  } catch (error) {
    throw new UsageError(`--account: ${(error as Error).message}`);
  }
  const password = await readPassword(name);
  if (password.length < MIN_PASSWORD) throw new UsageError(`The password must have at least ${MIN_PASSWORD} characters`);
  const files = deploymentFiles(values.dir as string | undefined);
  const saved = saveUser(files, name, { role: role as Role, password: await hashPassword(password), ...(accounts ? { accounts } : {}) });
  const { createdSecret, replaced } = saved;
  const holds = saved.accounts.length === 0 ? "no account: market data only" : saved.accounts.includes("*") ? "every account" : `account${saved.accounts.length > 1 ? "s" : ""} ${saved.accounts.join(", ")}`;
  out(`User ${name} (${role}, ${holds}) ${replaced ? "updated" : "added"} in ${files.config}`);
  if (createdSecret) out(`Signing secret created in ${files.secret} (mode 0600)`);
  return 0;
}

async function serveDoor(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, SERVE_OPTIONS, false);
  if (values.help) {
    out(WEB_HELP);
    return 0;
  }
  const engine = values.engine as string | undefined;
  if (engine !== undefined && engine !== "native" && engine !== "zmtp") throw new UsageError(`--engine must be native or zmtp, got ${engine}`);
  const port = integer("--port", values.port as string, 0, 65535);
  const tokenTtlSeconds = integer("--token-ttl", values["token-ttl"] as string, 1, 30 * 86_400);
  const corsOrigins = origins(values["cors-origin"] as string | undefined);
  const curveServerKey = serverPublicKey(values);
  const files = deploymentFiles(values.dir as string | undefined);
  const { config, secret } = loadDeployment(files);
  const host = values.host as string;
  // Loaded only here: `tradewire web --help` and adduser need no HTTP server. Each runtime serves HTTP its own way.
  const { startWebDoor } = "Deno" in globalThis ? await import("../web/deno.ts") : await import("../web/node.ts");
  let door: Awaited<ReturnType<typeof startWebDoor>>;
  try {
    door = await startWebDoor({
      req: values.req as string,
      sub: values.sub as string,
      host,
      port,
      config,
      secret,
      corsOrigins,
      tokenTtlSeconds,
      version: packageVersion(),
      log: (line) => out(line),
      ...(engine ? { engine: engine as "native" | "zmtp" } : {}),
      ...(curveServerKey ? { curveServerKey } : {}),
    });
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  out(`Web door at ${door.url} (upstream ${values.req as string}, ${values.sub as string}; ${Object.keys(config.users).length} user(s) in ${files.config})`);
  const marketOnly = Object.entries(config.users).filter(([, user]) => (user.accounts ?? []).length === 0).map(([name]) => name);
  if (marketOnly.length > 0) out(`Market data only (no accounts): ${marketOnly.join(", ")}; give accounts with tradewire web adduser NAME --account GATEWAY`);
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) out(`Listening on ${host}: the door speaks plain HTTP, so put TLS in front of it`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await door.close();
  out("Web door stopped");
  return 0;
}

/** `tradewire web …`; errors are thrown for the caller to print (UsageError → exit 2). */
export async function webMain(args: string[]): Promise<number> {
  try {
    if (args[0] === "adduser") return await adduser(args.slice(1));
    return await serveDoor(args);
  } catch (error) {
    if (error instanceof SetupError) throw new Error(error.message);
    throw error;
  }
}
