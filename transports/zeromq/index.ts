/**
 * ZeroMQ transport: `tcp://` and `ipc://`, many clients per server, many calls in flight per
 * client. Server = ROUTER bound at `rep` + PUB bound at `pub`; client = DEALER connected to
 * `req` + SUB connected to `sub`. Broadcasts travel as `[topic, frame]` so libzmq filters by
 * prefix. Two engines behind one API: "native" (libzmq via the `zeromq` package, Node) and
 * "zmtp" (pure TypeScript, Node and Deno).
 */
import { ZmqClientTransport } from "./client.ts";
import type { ZmqClientOptions, ZmqServerOptions } from "./options.ts";
import { ZmqServerTransport } from "./server.ts";

export type { CurveClientOptions, CurveServerOptions, ZmqClientOptions, ZmqServerOptions } from "./options.ts";
export type { EngineName } from "./engine.ts";
export { ZmqClientTransport, ZmqServerTransport };

/** A server transport: ROUTER at `rep`, PUB at `pub`. */
export function zmqServer(options: ZmqServerOptions): ZmqServerTransport {
  return new ZmqServerTransport(options);
}

/** A client transport: DEALER to `req`, SUB to `sub`. */
export function zmqClient(options: ZmqClientOptions): ZmqClientTransport {
  return new ZmqClientTransport(options);
}

/** A fresh CURVE key pair, Z85-encoded: give `secretKey` to the server, `publicKey` to its clients as `serverKey`. */
export { generateCurveKeyPair as curveKeyPair } from "./curve-keys.ts";
