/** A ZeroMQ server and client transport on fresh addresses, as a TransportLink. */
import { zmqClient, zmqServer, type EngineName } from "../../transports/zeromq/index.ts";
import type { TransportLink } from "../core/links.ts";
import { addresses, type Protocol } from "./helpers.ts";

export function zmqLink(engine: EngineName, protocol: Protocol): () => Promise<TransportLink> {
  return async () => {
    const { rep, pub } = await addresses(protocol);
    return { server: zmqServer({ rep, pub, engine }), client: zmqClient({ req: rep, sub: pub, engine }) };
  };
}
