/** A server transport and a client transport joined, for the suites every transport runs (streams, delivery). */
import type { ClientTransport, ServerTransport } from "../../lib/transport.ts";
import { memoryPair } from "../../transports/memory.ts";
import { messagePortClient, messagePortServer } from "../../transports/message-port.ts";

export interface TransportLink {
  server: ServerTransport;
  client: ClientTransport;
  /** Releases what the transports need beyond close() (ports, sockets, listeners). */
  close?(): Promise<void>;
}

export async function memoryLink(): Promise<TransportLink> {
  const [server, client] = memoryPair();
  return { server, client };
}

export async function messagePortLink(): Promise<TransportLink> {
  const channel = new MessageChannel();
  return {
    server: messagePortServer(channel.port1),
    client: messagePortClient(channel.port2),
    async close() {
      channel.port1.close();
      channel.port2.close();
    },
  };
}
