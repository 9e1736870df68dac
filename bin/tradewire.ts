#!/usr/bin/env -S deno run -A
/**
 * The `tradewire` command line: serve, call, listen, keygen. Runs on Node (via bin/tradewire.js)
 * and on Deno (`deno run -A bin/tradewire.ts`). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import process from "node:process";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { RpcClient, RpcError, RpcServer } from "../lib/index.ts";
import { curveKeyPair, zmqClient, zmqServer, type EngineName } from "../transports/zeromq/index.ts";
import { serveDemo } from "./demo-service.ts";
import { serveSimulator } from "./sim-hook.ts";

const DEFAULT_REQUEST = "tcp://127.0.0.1:2014";
const DEFAULT_BROADCAST = "tcp://127.0.0.1:4102";

class UsageError extends Error {
  override name = "UsageError";
}

const HELP = {
  main: `Usage: tradewire <command> [options]

Commands:
  serve             Start an RPC service on ZeroMQ (--demo: a small demo service)
  call FN [ARG…]    Call a function; prints the result as one JSON line
  listen [TOPIC]    Print broadcasts whose topic starts with TOPIC, one JSON line each
  keygen            Print a new CURVE key pair (Z85) as one JSON line

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
  --curve-secret-key KEY Require CURVE; the server's secret key from tradewire keygen
                         (or set TRADEWIRE_CURVE_SECRET_KEY)
  -h, --help             Show this help`,
  call: `Usage: tradewire call FN [ARG…] [options]

Each ARG is parsed as JSON (a word that is not JSON is taken as a string):
  tradewire call add 1 2          prints 3
  tradewire call echo '{"a":1}'   prints {"a":1}

Options:
  --req ADDRESS          Server request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          Server broadcast address (default ${DEFAULT_BROADCAST})
  --timeout MS           Deadline of the call (default 5000)
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The server's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY)
  -h, --help             Show this help`,
  listen: `Usage: tradewire listen [TOPIC] [options]

Prints {"topic":…,"data":…} for each broadcast whose topic starts with TOPIC (default: all).
Connection changes go to standard error.

Options:
  --req ADDRESS          Server request address (default ${DEFAULT_REQUEST})
  --sub ADDRESS          Server broadcast address (default ${DEFAULT_BROADCAST})
  --count N              Exit after N events
  --engine NAME          ZeroMQ engine: native or zmtp (default: zmtp; native when CURVE is used)
  --curve-server-key KEY The server's CURVE public key (or set TRADEWIRE_CURVE_SERVER_KEY)
  -h, --help             Show this help`,
  keygen: `Usage: tradewire keygen

Prints {"publicKey":…,"secretKey":…}: give secretKey to tradewire serve --curve-secret-key,
publicKey to clients as --curve-server-key.

Options:
  -h, --help             Show this help`,
} as const;

type Command = Exclude<keyof typeof HELP, "main">;

const COMMON_CLIENT = {
  req: { type: "string", default: DEFAULT_REQUEST },
  sub: { type: "string", default: DEFAULT_BROADCAST },
  engine: { type: "string" },
  "curve-server-key": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const OPTIONS = {
  serve: {
    demo: { type: "boolean" },
    rep: { type: "string", default: DEFAULT_REQUEST },
    pub: { type: "string", default: DEFAULT_BROADCAST },
    engine: { type: "string" },
    "curve-secret-key": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  call: { ...COMMON_CLIENT, timeout: { type: "string", default: "5000" } },
  listen: { ...COMMON_CLIENT, count: { type: "string" } },
  keygen: { help: { type: "boolean", short: "h" } },
} as const satisfies Record<Command, ParseArgsConfig["options"]>;

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

function positiveInteger(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  return number;
}

/** A word on the command line: JSON if it parses, otherwise the word itself as a string. */
function parseArgument(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    return word;
  }
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

async function serve(values: Record<string, unknown>): Promise<number> {
  const secretKey = (values["curve-secret-key"] as string | undefined) ?? process.env.TRADEWIRE_CURVE_SECRET_KEY;
  const engine = engineOption(values.engine as string | undefined);
  const rep = values.rep as string;
  const pub = values.pub as string;
  const transport = zmqServer({
    rep,
    pub,
    ...(engine ? { engine } : {}),
    ...(secretKey ? { curve: { secretKey } } : {}),
  });
  const server = new RpcServer({ transport });
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
  await stopped;
  await stopService();
  await server.stop();
  out("RPC service stopped");
  return 0;
}

function clientTransport(values: Record<string, unknown>) {
  const serverKey = (values["curve-server-key"] as string | undefined) ?? process.env.TRADEWIRE_CURVE_SERVER_KEY;
  const engine = engineOption(values.engine as string | undefined);
  return zmqClient({
    req: values.req as string,
    sub: values.sub as string,
    ...(engine ? { engine } : {}),
    ...(serverKey ? { curve: { serverKey } } : {}),
  });
}

async function call(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const [name, ...words] = positionals;
  if (name === undefined) throw new UsageError("call needs a function name: tradewire call FN [ARG…]");
  const timeoutMs = positiveInteger("--timeout", values.timeout as string);
  const client = new RpcClient({ transport: clientTransport(values), timeoutMs, logger: quietLogger });
  let reached = false;
  client.on("connected", () => (reached = true));
  try {
    await client.start();
    const result = await client.call(name, words.map(parseArgument)).catch((error: unknown) => {
      // Never heard from the server: say where we looked.
      if (!(error instanceof RpcError && error.code === "UNAVAILABLE" && !reached)) throw error;
      throw new RpcError("UNAVAILABLE", `${error.rawMessage} (is a tradewire server running at ${values.req as string}?)`, { cause: error });
    });
    out(JSON.stringify(result ?? null));
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

async function keygen(): Promise<number> {
  out(JSON.stringify(await curveKeyPair()));
  return 0;
}

/** The CLI prints its own errors; the core's warnings about dropped frames stay quiet. */
const quietLogger = { warn: () => {}, error: (message: string) => err(message) };

function describe(error: unknown): string {
  if (error instanceof RpcError) return `${error.code}: ${error.rawMessage}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    out(HELP.main);
    return command === undefined ? 2 : 0;
  }
  if (!(command in OPTIONS)) {
    err(`Unknown command ${JSON.stringify(command)}\n\n${HELP.main}`);
    return 2;
  }
  const name = command as Command;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: OPTIONS[name], allowPositionals: name === "call" || name === "listen", strict: true });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const values = parsed.values as Record<string, unknown>;
    if (values.help) {
      out(HELP[name]);
      return 0;
    }
    switch (name) {
      case "serve":
        return await serve(values);
      case "call":
        return await call(values, parsed.positionals);
      case "listen":
        return await listen(values, parsed.positionals);
      case "keygen":
        return await keygen();
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`${error.message}\n\n${HELP[name]}`);
      return 2;
    }
    err(`Error: ${describe(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
