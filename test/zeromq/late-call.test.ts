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
      // Once the request link is up a new call goes through (the broadcast link may come up
      // first: until then calls fail fast, and a failed call is never executed).
      let done = false;
      for (let attempt = 0; attempt < 200 && !done; attempt++) {
        done = await client.call("order", ["late"]).then(
          () => true,
          async () => (await new Promise((resolve) => setTimeout(resolve, 10)), false),
        );
      }
      expect(done).toBe(true);
      expect(executed).toEqual(["late"]);
    });
  }
});
