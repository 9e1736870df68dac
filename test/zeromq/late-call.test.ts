/**
 * A call that failed must not run later. A request made before the client's first handshake is
 * refused at once, not queued for a server that might come up after the caller gave up.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RpcClient, RpcServer } from "../../lib/index.ts";
import { zmqClient, zmqServer } from "../../transports/zeromq/index.ts";
import { addresses } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a call made before any server exists", () => {
  for (const engine of ["zmtp", "native"] as const) {
    it(`${engine}: fails UNAVAILABLE and is never executed by a server that starts later`, async () => {
      const { rep, pub } = await addresses("tcp");
      const client = new RpcClient({ transport: zmqClient({ req: rep, sub: pub, engine }), timeoutMs: 300, logger: quiet });
      await client.start();
      cleanups.push(() => client.stop());
      const early = await client.call("order", ["early"]).catch((e: unknown) => e);
      expect(early).toMatchObject({ code: "UNAVAILABLE" });

      const executed: string[] = [];
      const server = new RpcServer({ transport: zmqServer({ rep, pub, engine }), heartbeatMs: 50, logger: quiet });
      server.register("order", (tag: string) => void executed.push(tag));
      await server.start();
      cleanups.push(() => server.stop());
      // Once the client reports connected, its request link is up: the next call goes through.
      await new Promise<void>((resolve) => (client.state === "connected" ? resolve() : client.on("connected", resolve)));
      await client.call("order", ["late"], { timeoutMs: 10_000 }); // the 300 ms default is for the early call
      expect(executed).toEqual(["late"]);
    });
  }
});
