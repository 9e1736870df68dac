import { afterAll } from "vitest";
import { zmqClient, zmqServer } from "../../transports/zeromq/index.ts";
import { describeDelivery } from "../core/delivery-suite.ts";
import { addresses, removeTempDirs } from "./helpers.ts";

afterAll(removeTempDirs);

for (const engine of ["zmtp", "native"] as const) {
  describeDelivery(`ZeroMQ tcp (${engine} engine)`, async () => {
    const { rep, pub } = await addresses("tcp");
    return { server: zmqServer({ rep, pub, engine }), client: zmqClient({ req: rep, sub: pub, engine }) };
  });
}
