/**
 * A client that goes away has its calls aborted (`ctx.signal`) and its state freed by the
 * server, on both engines and over tcp and ipc: killed (the OS closes its sockets) or frozen
 * (no FIN at all: the server's heartbeat reaps it). The client is a separate process; the
 * server runs here so the test can watch its handlers.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { RpcServer } from "../../lib/index.ts";
import { zmqServer, type ZmqServerOptions, type ZmqServerTransport } from "../../transports/zeromq/index.ts";
import { addresses, killAll, removeTempDirs, ROOT, start, type Protocol } from "./helpers.ts";

const HOLD_CLIENT = join(ROOT, "test/zeromq/fixtures/hold-client.ts");
const quiet = { warn: () => {}, error: () => {} };
const servers = new Set<RpcServer>();

afterEach(async () => {
  await killAll();
  await Promise.all([...servers].map((server) => server.stop()));
  servers.clear();
});
afterAll(() => removeTempDirs());

/** A server whose `hold` handler waits for its signal; counts started and aborted calls. */
async function holdingServer(options: ZmqServerOptions) {
  const transport = zmqServer(options);
  const server = new RpcServer({ transport, logger: quiet });
  servers.add(server);
  const state = { started: 0, aborted: 0, reasons: [] as unknown[] };
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const wake of waiters) wake();
  };
  server.register("hold", (_payload: Uint8Array, context: { signal: AbortSignal }) => {
    state.started += 1;
    changed();
    return new Promise((_resolve, reject) => {
      context.signal.addEventListener("abort", () => {
        state.aborted += 1;
        state.reasons.push(context.signal.reason);
        changed();
        reject(context.signal.reason);
      }, { once: true });
    });
  });
  /** Resolves once `condition` holds, re-checked whenever a call starts or aborts. */
  const until = (condition: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!condition()) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  await server.start();
  return { transport: transport as ZmqServerTransport, state, until };
}

const combos = (["native", "zmtp"] as const).flatMap((engine) =>
  (["tcp", "ipc"] as Protocol[]).map((protocol) => ({ engine, protocol })),
);

describe.each(combos)("a client that is gone, $engine engine over $protocol", ({ engine, protocol }) => {
  it("has its calls aborted and its state freed when its process is killed", async () => {
    const { rep, pub } = await addresses(protocol);
    const { transport, state, until } = await holdingServer({ rep, pub, engine });
    const calls = 200;
    const child = start(["--import", "tsx", HOLD_CLIENT, JSON.stringify({ req: rep, sub: pub, engine, calls, connections: 2 })]);
    await until(() => state.started === 2 * calls);
    expect(transport.stats.peers).toBe(2);
    expect(state.aborted).toBe(0);

    await child.kill("SIGKILL");
    await until(() => state.aborted === 2 * calls);
    expect(state.reasons[0]).toMatchObject({ code: "CANCELLED" });
    // The notification that aborted the calls also dropped the peers.
    expect(transport.stats).toMatchObject({ peers: 0, peersGone: 2, malformedDropped: 0 });
  });

  it("is reaped by the heartbeat when it freezes without closing its sockets", async () => {
    const { rep, pub } = await addresses(protocol);
    // The server PINGs every 100 ms and drops a client with no complete frame for 300 ms.
    const { transport, state, until } = await holdingServer({ rep, pub, engine, heartbeatInterval: 100 });
    const calls = 50;
    const child = start([
      "--import", "tsx", HOLD_CLIENT,
      JSON.stringify({ req: rep, sub: pub, engine, calls, heartbeatInterval: 100 }),
    ]);
    await until(() => state.started === calls);
    // Frozen, the child's kernel still holds its sockets open: only heartbeats can tell.
    child.process.kill("SIGSTOP");
    try {
      await until(() => state.aborted === calls);
      expect(transport.stats).toMatchObject({ peers: 0, peersGone: 1 });
    } finally {
      child.process.kill("SIGKILL");
    }
  });
});
