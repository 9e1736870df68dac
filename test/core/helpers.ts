import { RpcClient, RpcServer, type Logger, type RpcClientOptions, type RpcServerOptions } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import type { ClientTransport, ServerTransport } from "../../lib/transport.ts";

/** A logger that keeps what it was told, so tests can assert on dropped frames. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
}

/** Wait until `predicate` holds, checking on every macrotask; fails after `ms`. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > ms) throw new Error("Condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export interface Rig {
  server: RpcServer;
  client: RpcClient;
  logger: ReturnType<typeof recordingLogger>;
  close(): Promise<void>;
}

/** A started server and client over the memory transport, optionally wrapped. */
export async function rig(
  options: {
    server?: Partial<RpcServerOptions>;
    client?: Partial<RpcClientOptions>;
    wrapServer?: (t: ServerTransport) => ServerTransport;
    wrapClient?: (t: ClientTransport) => ClientTransport;
    setup?: (server: RpcServer) => void;
  } = {},
): Promise<Rig> {
  const hub = memoryHub();
  const logger = recordingLogger();
  const serverTransport = options.wrapServer ? options.wrapServer(hub.server) : hub.server;
  const clientTransport = options.wrapClient ? options.wrapClient(hub.client()) : hub.client();
  const server = new RpcServer({ transport: serverTransport, logger, ...options.server });
  options.setup?.(server);
  await server.start();
  const client = new RpcClient({ transport: clientTransport, logger, ...options.client });
  await client.start();
  await until(() => client.state === "connected");
  return {
    server,
    client,
    logger,
    async close() {
      await client.stop();
      await server.stop();
    },
  };
}
