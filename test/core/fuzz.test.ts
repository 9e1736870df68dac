import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RpcClient, RpcServer, msgpackCodec, jsonCodec, type Codec } from "../../lib/index.ts";
import { memoryHub } from "../../transports/memory.ts";
import { until } from "./helpers.ts";

const quiet = { warn: () => {}, error: () => {} };

/** Arrays that look like tradewire frames but are wrong in some way: bad version, kind, id, fields. */
const wrongMessage = fc.oneof(
  fc.tuple(fc.integer({ min: -3, max: 5 }), fc.integer({ min: -2, max: 9 }), fc.anything()).map((t) => [...t]),
  fc.tuple(fc.constant(1), fc.constant(0), fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything()).map((t) => [...t]),
  fc.tuple(fc.constant(1), fc.constant(0), fc.nat(), fc.string(), fc.array(fc.anything()), fc.double(), fc.dictionary(fc.string(), fc.anything())).map((t) => [...t]),
  fc.tuple(fc.constant(1), fc.constantFrom(1, 2, 3, 4, 5), fc.anything(), fc.anything()).map((t) => [...t]),
  fc.anything(),
);

async function serverUnderAttack(codec: Codec) {
  const hub = memoryHub();
  const server = new RpcServer({ transport: hub.server, logger: quiet, codec, heartbeatMs: 0 });
  let handlerRuns = 0;
  server.register("add", (a: number, b: number) => {
    handlerRuns++;
    return a + b;
  });
  await server.start();
  const raw = hub.client();
  const replies: Uint8Array[] = [];
  await raw.connect({ reply: (f) => void replies.push(f), broadcast: () => {} });
  const good = new RpcClient({ transport: hub.client(), codec, logger: quiet, heartbeatToleranceMs: 0, timeoutMs: 2000 });
  await good.start();
  return {
    raw,
    good,
    replies,
    handlerRuns: () => handlerRuns,
    async close() {
      await raw.close();
      await good.stop();
      await server.stop();
    },
  };
}

describe("a server fed garbage keeps serving", () => {
  it("random bytes", async () => {
    const rig = await serverUnderAttack(msgpackCodec());
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 256 }), { minLength: 1, maxLength: 20 }), async (frames) => {
        for (const frame of frames) rig.raw.send(frame);
        expect(await rig.good.call("add", [2, 3])).toBe(5);
      }),
      { numRuns: 200 },
    );
    await rig.close();
  });

  for (const codec of [msgpackCodec(), jsonCodec()]) {
    it(`well-formed but wrong ${codec.name} messages`, async () => {
      const rig = await serverUnderAttack(codec);
      await fc.assert(
        fc.asyncProperty(fc.array(wrongMessage, { minLength: 1, maxLength: 10 }), async (messages) => {
          for (const message of messages) {
            let frame: Uint8Array;
            try {
              frame = codec.encode(message);
            } catch {
              continue; // not encodable in this codec (e.g. undefined in JSON): nothing to send
            }
            rig.raw.send(frame);
          }
          expect(await rig.good.call("add", [20, 22])).toBe(42);
          // Every reply the attacker got is itself a well-formed error or result frame.
          for (const reply of rig.replies.splice(0)) {
            const decoded = codec.decode(reply) as unknown[];
            expect(decoded[0]).toBe(1);
            expect([2, 3]).toContain(decoded[1]);
          }
        }),
        { numRuns: 200 },
      );
      await until(() => rig.good.inFlight === 0);
      await rig.close();
    });
  }
});
