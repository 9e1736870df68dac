/** The door's client of the trading service over ZeroMQ, the same on Node and Deno. */
import { RpcClient } from "../lib/index.ts";
import { zmqClient } from "../transports/zeromq/index.ts";
import type { StartWebDoorOptions } from "./node.ts";

export function zeromqUpstream(options: StartWebDoorOptions): RpcClient {
  return new RpcClient({
    transport: zmqClient({
      req: options.req,
      sub: options.sub,
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.curveServerKey ? { curve: { serverKey: options.curveServerKey } } : {}),
    }),
    logger: { warn: () => {}, error: (m) => options.log?.(`error: ${m}`) },
  });
}
