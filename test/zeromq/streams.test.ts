import { afterAll } from "vitest";
import { zmqClient, zmqServer } from "../../transports/zeromq/index.ts";
import { describeStreams } from "../core/stream-suite.ts";
import { addresses, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

for (const [engine, protocol] of [["zmtp", "tcp"], ["zmtp", "ipc"], ["native", "tcp"]] as const) {
  describeStreams(`ZeroMQ ${protocol} (${engine} engine)`, async () => {
    const { rep, pub } = await addresses(protocol);
    return { server: zmqServer({ rep, pub, engine }), client: zmqClient({ req: rep, sub: pub, engine }) };
  });
}
