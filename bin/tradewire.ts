#!/usr/bin/env -S deno run -A
/**
 * The `tradewire` command line: serve, call, listen, keygen. Runs on Node (via bin/tradewire.js)
 * and on Deno (`deno run -A bin/tradewire.ts`). Exit codes: 0 done, 1 failed, 2 bad usage.
 * Secrets come from files or the environment, never from argv (`ps` shows argv to every user).
 */
import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { RpcClient, RpcError, RpcServer } from "../lib/index.ts";
import { FUNCTIONS_FUNCTION } from "../lib/wire.ts";
import { curveKeyPair, zmqClient, zmqServer, type EngineName } from "../transports/zeromq/index.ts";
import { parseCommandLine, UsageError, type OptionSpecs } from "./args.ts";
import { serveDemo } from "./demo-service.ts";
import { parseArgument } from "./json-arguments.ts";
import { readSecretKeyFile, serverPublicKey, writeKeyPair } from "./key-files.ts";
import { BACKTEST_HELP, BACKTEST_OPTIONS } from "./backtest-options.ts";
import { serveSimulator } from "./sim-hook.ts";
import { packageVersion } from "./version.ts";
import { signature, type FunctionDescription } from "./signature.ts";
import { namesForVeighNaValues } from "./veighna-values.ts";

const DEFAULT_REQUEST = "tcp://127.0.0.1:2014";
const DEFAULT_BROADCAST = "tcp://127.0.0.1:4102";
/** VeighNa's wire (serve --vnpy) beside ours: VeighNa's own ports (2014/4102) are tradewire's defaults, so one more each. */
const DEFAULT_VNPY_REQUEST = "tcp://127.0.0.1:2015";
const DEFAULT_VNPY_BROADCAST = "tcp://127.0.0.1:4103";

/** The longest timer Node and browsers keep (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const HELP = {
  main: `Usage: tradewire <command> [options]

Commands:
  serve             Start an RPC service on ZeroMQ (--demo: a small demo service)
  call FN [ARG…]    Call a function; prints the result as one JSON line (--stream: one per item)
  listen [TOPIC]    Print broadcasts whose topic starts with TOPIC, one JSON line each
  ls                List the functions a server serves, with their arguments where known
  keygen            Make a CURVE key pair (Z85): into files with --out DIR, or printed
  web               The web door: REST and WebSocket for browsers (web adduser NAME makes a user)
  backtest FILE.ts  Backtest a strategy on the virtual clock: statistics and an HTML report

Options:
  --version         Print the version
  -h, --help        Show this help

Run tradewire <command> --help for the options of a command.`,
  serve: `Usage: tradewire serve [--demo] [options]

Serves until SIGINT or SIGTERM either
  the simulated exchange: IF2512.CFFEX, rb2601.SHFE, BTCUSDT.GLOBAL, account SIM, with
  VeighNa's RpcEngine functions (getAllContracts, sendOrder, cancelOrder, subscribe, …)
  and topics eTick., eOrder., eTrade., ePosition., eAccount., eLog
or, with --demo, the functions add, echo, sleep(ms) and the topic tick.DEMO every 100 ms.

Options:
  --demo                 Serve the demo functions instead of the simulated exchange
  --rep ADDRESS          Request address to bind (default ${DEFAULT_REQUEST})
  --pub ADDRESS          Broadcast address to bind (default ${DEFAULT_BROADCAST})
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --vnpy                 Also serve VeighNa's RPC wire (pickle over REQ/REP + PUB), so VeighNa's
                         unchanged RpcGateway/RpcClient can connect; pickles are read by a
                         restricted decoder (VeighNa's data classes and enums only)
  --vnpy-rep ADDRESS     VeighNa request address to bind (default ${DEFAULT_VNPY_REQUEST})
  --vnpy-pub ADDRESS     VeighNa broadcast address to bind (default ${DEFAULT_VNPY_BROADCAST})
  --curve-secret-key-file PATH
                         Require CURVE; the server's secret key, from tradewire keygen --out
                         (the file must be readable by its owner only: chmod 600 PATH),
                         or set TRADEWIRE_CURVE_SECRET_KEY. Never on the command line.
  -h, --help             Show this help

An address ipc://PATH needs PATH's folder to exist.`,
  call: `Usage: tradewire call FN [ARG…] [options]

Each ARG is parsed as JSON (a word that is not JSON is taken as a string):
  tradewire call add 1 2          prints 3
  tradewire call add -1 2         prints 1
  tradewire call echo '{"a":1}'   prints {"a":1}
  tradewire call echo -- -x       prints "-x" (after --, every word is an ARG)
Numbers beyond a double (1e400) and "__proto__" keys are refused (exit 2).
With --stream the result is read as a stream and each item printed as it arrives:
  tradewire call getAllOrders --stream     one order per line

Options:
  --stream               Read the result item by item, one JSON line each
  --req ADDRESS          Server request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          Server broadcast address (default ${DEFAULT_BROADCAST})
  --timeout MS           Deadline of the call, or of the whole stream (default 5000, at most ${MAX_TIMER_MS})
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The server's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY);
                         a key starting with - is fine: --curve-server-key -abc… or =-abc…
  --curve-server-key-file PATH
                         The same, read from a file (the .pub file of tradewire keygen --out)
  -h, --help             Show this help`,
  listen: `Usage: tradewire listen [TOPIC] [options]

Prints {"topic":…,"data":…} for each broadcast whose topic starts with TOPIC (default: all).
Connection changes go to standard error.

Options:
  --req ADDRESS          Server request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          Server broadcast address (default ${DEFAULT_BROADCAST})
  --count N              Exit after N events
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The server's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY);
                         a key starting with - is fine: --curve-server-key -abc… or =-abc…
  --curve-server-key-file PATH
                         The same, read from a file (the .pub file of tradewire keygen --out)
  -h, --help             Show this help`,
  ls: `Usage: tradewire ls [options]

Lists the functions the server serves, one per line: the name, then its arguments where the
server's validator describes them (a JSON Schema), e.g.
  sendOrder(req: {symbol, exchange, direction, type, volume, price, offset?, reference?}, gatewayName?: string)
With --json, one JSON line per function: {"name":…,"input":…}.

Options:
  --json                 Print the server's description as JSON lines
  --req ADDRESS          Server request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          Server broadcast address (default ${DEFAULT_BROADCAST})
  --timeout MS           Deadline (default 5000, at most ${MAX_TIMER_MS})
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The server's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY)
  --curve-server-key-file PATH
                         The same, read from a file (the .pub file of tradewire keygen --out)
  -h, --help             Show this help`,
  keygen: `Usage: tradewire keygen [--out DIR [--name NAME]]

With --out, writes DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub (the public key),
never overwriting, and prints {"publicKey":…,"secretKeyFile":…,"publicKeyFile":…}:
  tradewire serve --curve-secret-key-file DIR/NAME.key
  tradewire call … --curve-server-key-file DIR/NAME.pub
Without --out, prints {"publicKey":…,"secretKey":…}.

Options:
  --out DIR              Write the pair into DIR (created with mode 0700 if missing)
  --name NAME            File name of the pair in DIR (default server)
  -h, --help             Show this help`,
} as const;

type Command = Exclude<keyof typeof HELP, "main"> | "backtest";

/** The backtest command's help and options live with it (loaded only when it runs). */
const BACKTEST = { help: BACKTEST_HELP, options: BACKTEST_OPTIONS };

const COMMON_CLIENT = {
  req: { type: "string", default: DEFAULT_REQUEST },
  sub: { type: "string", default: DEFAULT_BROADCAST },
  engine: { type: "string" },
  "curve-server-key": { type: "string" },
  "curve-server-key-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

const OPTIONS = {
  serve: {
    demo: { type: "boolean" },
    vnpy: { type: "boolean" },
    "vnpy-rep": { type: "string", default: DEFAULT_VNPY_REQUEST },
    "vnpy-pub": { type: "string", default: DEFAULT_VNPY_BROADCAST },
    rep: { type: "string", default: DEFAULT_REQUEST },
    pub: { type: "string", default: DEFAULT_BROADCAST },
    engine: { type: "string" },
    "curve-secret-key-file": { type: "string" },
    // Refused with an explanation: a key in argv is visible to every local user.
    "curve-secret-key": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  call: { ...COMMON_CLIENT, timeout: { type: "string", default: "5000" }, stream: { type: "boolean" } },
  listen: { ...COMMON_CLIENT, count: { type: "string" } },
  ls: { ...COMMON_CLIENT, timeout: { type: "string", default: "5000" }, json: { type: "boolean" } },
  keygen: { out: { type: "string" }, name: { type: "string", default: "server" }, help: { type: "boolean", short: "h" } },
  backtest: BACKTEST.options,
} as const satisfies Record<Command, OptionSpecs>;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function err(line: string): void {
  process.stderr.write(`${line}\n`);
}

function engineOption(value: string | undefined): EngineName | undefined {
  if (value === undefined) return undefined;
  if (value !== "native" && value !== "zmtp") throw new UsageError(`--engine must be native or zmtp, got ${value}`);
  return value;
}

function positiveInteger(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  if (number > max) throw new UsageError(`${flag} must be at most ${max}, got ${value}`);
  return number;
}

const FLAG_OF_OPTION: Record<string, string> = {
  req: "--req",
  sub: "--sub",
  rep: "--rep",
  pub: "--pub",
  "curve.serverKey": "The CURVE server key",
  "curve.secretKey": "The CURVE secret key",
};

/**
 * Build a transport; the checks it makes on its options (TypeError, RangeError: a malformed
 * address or key) are bad usage here, told in the command line's words.
 */
function configured<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message
      .replace(/^Options? ([\w.]+) and ([\w.]+)/, (_, a: string, b: string) => `${FLAG_OF_OPTION[a] ?? a} and ${FLAG_OF_OPTION[b] ?? b}`)
      .replace(/^Option ([\w.]+)/, (_, a: string) => FLAG_OF_OPTION[a] ?? a);
    throw new UsageError(message);
  }
}

/** libzmq and Node both fail obscurely (EACCES, "No such file") when an ipc socket's folder is missing. */
function assertIpcFolder(address: string): void {
  if (!address.startsWith("ipc://") || address.startsWith("ipc://@")) return;
  const folder = dirname(address.slice("ipc://".length));
  if (!existsSync(folder)) throw new Error(`Cannot bind ${address}: the folder ${folder} does not exist`);
  if (!statSync(folder).isDirectory()) throw new Error(`Cannot bind ${address}: ${folder} is not a folder`);
}

/** Resolves on the first SIGINT or SIGTERM. */
function terminationSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** The server's secret key: from --curve-secret-key-file or TRADEWIRE_CURVE_SECRET_KEY, never argv. */
function serverSecretKey(values: Record<string, unknown>): string | undefined {
  if (values["curve-secret-key"] !== undefined) {
    throw new UsageError(
      "--curve-secret-key is not accepted: a key on the command line is visible to every local user (ps). " +
        "Use --curve-secret-key-file PATH (tradewire keygen --out DIR writes one) or set TRADEWIRE_CURVE_SECRET_KEY",
    );
  }
  const file = values["curve-secret-key-file"] as string | undefined;
  if (file !== undefined) return readSecretKeyFile(file, "--curve-secret-key-file");
  return process.env.TRADEWIRE_CURVE_SECRET_KEY || undefined;
}

async function serve(values: Record<string, unknown>): Promise<number> {
  const secretKey = serverSecretKey(values);
  const engine = engineOption(values.engine as string | undefined);
  const rep = values.rep as string;
  const pub = values.pub as string;
  const transport = configured(() =>
    zmqServer({
      rep,
      pub,
      ...(engine ? { engine } : {}),
      ...(secretKey ? { curve: { secretKey } } : {}),
    }),
  );
  assertIpcFolder(rep);
  assertIpcFolder(pub);
  const vnpy = values.vnpy === true ? await vnpyWire(values, [rep, pub]) : undefined;
  const server = new RpcServer({ transport: vnpy ? vnpy.fanInServer([transport, vnpy.transport]) : transport });
  const stopped = terminationSignal();
  let stopService: () => void | Promise<void>;
  if (values.demo) {
    stopService = serveDemo(server);
    try {
      await server.start();
    } catch (error) {
      stopService();
      throw error;
    }
  } else {
    stopService = await serveSimulator(server);
  }
  out(`RPC service started: rep ${rep}, pub ${pub}${secretKey ? " (CURVE)" : ""}${values.demo ? " (demo)" : " (simulated exchange)"}`);
  if (vnpy) out(`VeighNa wire: rep ${vnpy.transport.rep}, pub ${vnpy.transport.pub}`);
  await stopped;
  await stopService();
  await server.stop();
  out("RPC service stopped");
  return 0;
}

/** `serve --vnpy`: VeighNa's wire at its own two addresses (loaded only when asked for). */
async function vnpyWire(values: Record<string, unknown>, taken: string[]) {
  const rep = values["vnpy-rep"] as string;
  const pub = values["vnpy-pub"] as string;
  for (const address of [rep, pub]) {
    if (taken.includes(address)) throw new UsageError(`--vnpy-rep and --vnpy-pub must differ from --rep and --pub (${address} is both)`);
  }
  const { vnpyServer, fanInServer } = await import("../transports/vnpy/index.ts");
  const engine = engineOption(values.engine as string | undefined);
  let transport;
  try {
    transport = vnpyServer({ rep, pub, ...(engine ? { engine } : {}) });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new UsageError(error.message.replace(/^Options rep and pub/, "--vnpy-rep and --vnpy-pub").replace(/^Option (rep|pub)\b/, "--vnpy-$1"));
  }
  assertIpcFolder(rep);
  assertIpcFolder(pub);
  return { transport, fanInServer };
}


function clientTransport(values: Record<string, unknown>) {
  const serverKey = serverPublicKey(values);
  const engine = engineOption(values.engine as string | undefined);
  return configured(() =>
    zmqClient({
      req: values.req as string,
      sub: values.sub as string,
      ...(engine ? { engine } : {}),
      ...(serverKey ? { curve: { serverKey } } : {}),
    }),
  );
}

async function call(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const [name, ...words] = positionals;
  if (name === undefined) throw new UsageError("call needs a function name: tradewire call FN [ARG…]");
  const timeoutMs = positiveInteger("--timeout", values.timeout as string, MAX_TIMER_MS);
  const args = words.map((word, index) => namesForVeighNaValues(parseArgument(word, index + 1)));
  const client = new RpcClient({ transport: clientTransport(values), timeoutMs, logger: quietLogger });
  let reached = false;
  client.on("connected", () => (reached = true));
  try {
    await client.start();
    // Never heard from the server: say where we looked.
    const explain = (error: unknown): never => {
      if (!(error instanceof RpcError && error.code === "UNAVAILABLE" && !reached)) throw error;
      throw new RpcError("UNAVAILABLE", `${error.rawMessage} (is a tradewire server running at ${values.req as string}?)`, { cause: error });
    };
    if (values.stream === true) {
      try {
        for await (const item of client.stream(name, args)) out(JSON.stringify(item ?? null));
      } catch (error) {
        explain(error);
      }
      return 0;
    }
    const result = await client.call(name, args).catch(explain);
    out(JSON.stringify(result ?? null));
    return 0;
  } finally {
    await client.stop();
  }
}

async function list(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  if (positionals.length > 0) throw new UsageError("ls takes no arguments");
  const timeoutMs = positiveInteger("--timeout", values.timeout as string, MAX_TIMER_MS);
  const client = new RpcClient({ transport: clientTransport(values), timeoutMs, logger: quietLogger });
  try {
    await client.start();
    const functions = await client.call<FunctionDescription[]>(FUNCTIONS_FUNCTION);
    for (const fn of functions) out(values.json === true ? JSON.stringify(fn) : signature(fn));
    return 0;
  } finally {
    await client.stop();
  }
}

async function listen(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  if (positionals.length > 1) throw new UsageError("listen takes at most one topic prefix");
  const prefix = positionals[0] ?? "";
  const count = values.count === undefined ? Infinity : positiveInteger("--count", values.count as string);
  const client = new RpcClient({ transport: clientTransport(values), logger: quietLogger });
  let seen = 0;
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (done = resolve));
  client.subscribe(prefix, (topic, data) => {
    if (seen >= count) return;
    seen += 1;
    out(JSON.stringify({ topic, data }));
    if (seen >= count) done(0);
  });
  client.on("connected", () => err(`Connected to ${values.req as string} and ${values.sub as string}`));
  client.on("disconnected", (reason) => err(`Disconnected: ${reason}`));
  void terminationSignal().then(() => done(0));
  try {
    await client.start();
    return await finished;
  } finally {
    await client.stop();
  }
}

async function keygen(values: Record<string, unknown>): Promise<number> {
  const pair = await curveKeyPair();
  const dir = values.out as string | undefined;
  if (dir === undefined) {
    out(JSON.stringify(pair));
    return 0;
  }
  const files = writeKeyPair(dir, values.name as string, pair);
  out(JSON.stringify({ publicKey: pair.publicKey, ...files }));
  return 0;
}

/** The CLI prints its own errors; the core's warnings about dropped frames stay quiet. */
const quietLogger = { warn: () => {}, error: (message: string) => err(message) };

function describe(error: unknown): string {
  if (error instanceof RpcError) return `${error.code}: ${error.rawMessage}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** `tradewire web …` lives in bin/web.ts, loaded only when asked for. */
async function web(args: string[]): Promise<number> {
  const { webMain, WEB_HELP } = await import("./web.ts");
  try {
    return await webMain(args);
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\n\n${WEB_HELP}`);
      return 2;
    }
    err(`Error: ${describe(error)}`);
    return 1;
  }
}

function helpOf(name: Command): string {
  return name === "backtest" ? BACKTEST.help : HELP[name];
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    out(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V" || command === "version") {
    out(packageVersion());
    return 0;
  }
  if (command === "web") return await web(rest);
  if (!(command in OPTIONS)) {
    err(`Unknown command ${JSON.stringify(command)}\n\n${HELP.main}`);
    return 2;
  }
  const name = command as Command;
  try {
    const parsed = parseCommandLine(rest, OPTIONS[name], name === "call" || name === "listen" || name === "backtest");
    const values = parsed.values as Record<string, unknown>;
    if (values.help) {
      out(helpOf(name));
      return 0;
    }
    switch (name) {
      case "serve":
        return await serve(values);
      case "call":
        return await call(values, parsed.positionals);
      case "listen":
        return await listen(values, parsed.positionals);
      case "ls":
        return await list(values, parsed.positionals);
      case "keygen":
        return await keygen(values);
      case "backtest": {
        // Loaded on demand, as sim/ is for serve: the other commands never load the simulator.
        const { backtestCommand } = await import("./backtest-command.ts");
        return await backtestCommand(values, parsed.positionals, out);
      }
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\n\n${helpOf(name)}`);
      return 2;
    }
    err(`Error: ${describe(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
