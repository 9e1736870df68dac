import { memoryPair } from "../../transports/memory.ts";
import { messagePortClient, messagePortServer } from "../../transports/message-port.ts";
import { describeDelivery } from "./delivery-suite.ts";

describeDelivery("memory", async () => {
  const [server, client] = memoryPair();
  return { server, client };
});

describeDelivery("MessagePort", async () => {
  const channel = new MessageChannel();
  return {
    server: messagePortServer(channel.port1),
    client: messagePortClient(channel.port2),
    async close() {
      channel.port1.close();
      channel.port2.close();
    },
  };
});
