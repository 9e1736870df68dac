/**
 * Requests found by review to stop or stall a VeighNa-wire server: a built-in name as the
 * function, a pickle that repeats BUILD on one object, and a request the core cannot take.
 * Each must be answered, and the server go on serving others.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RpcServer } from "../../lib/index.ts";
import { toCamel, toSnake } from "../../transports/vnpy/model.ts";
import { PickleRefused, readPickle } from "../../transports/vnpy/pickle-reader.ts";
import { writePickle } from "../../transports/vnpy/pickle-writer.ts";
import { VnpyServerTransport } from "../../transports/vnpy/server.ts";
import { loadEngine, type EngineSocket } from "../../transports/zeromq/engine.ts";
import { readPickleReply } from "./review-helpers.ts";
import { freePort } from "../zeromq/helpers.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** TickData built once, then BUILD repeated on it `repeats` times from a memoised dict of `keys` keys. */
function repeatedBuild(keys: number, repeats: number): Uint8Array {
  const out: number[] = [0x80, 4];
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    out.push(0x8c, b.length, ...b);
  };
  str("vnpy.trader.object");
  str("TickData");
  out.push(0x93, 0x29, 0x81); // STACK_GLOBAL, EMPTY_TUPLE, NEWOBJ
  out.push(0x7d, 0x71, 0, 0x28); // EMPTY_DICT, BINPUT 0, MARK
  for (let i = 0; i < keys; i++) {
    str(`k${i}`);
    out.push(0x4e); // NONE
  }
  out.push(0x75, 0x62); // SETITEMS, BUILD
  for (let i = 0; i < repeats; i++) out.push(0x68, 0, 0x62); // BINGET 0, BUILD
  out.push(0x2e);
  return Uint8Array.from(out);
}

describe("hostile requests on VeighNa's wire", () => {
  it("maps names without looking up built-ins", () => {
    expect(toCamel("constructor")).toBe("constructor");
    expect(toCamel("to_string")).toBe("toString");
    expect(toSnake("hasOwnProperty")).toBe("has_own_property");
    expect(toCamel("vt_orderid")).toBe("vtOrderId");
  });

  it("refuses a pickle that sets one object's state twice (each BUILD would copy a large dict again)", () => {
    expect(() => readPickle(repeatedBuild(3, 0))).not.toThrow();
    expect(() => readPickle(repeatedBuild(50_000, 2))).toThrow(PickleRefused);
  });

  it("answers a built-in name and an oversized request, and goes on serving everyone", async () => {
    const rep = `tcp://127.0.0.1:${await freePort()}`;
    const pub = `tcp://127.0.0.1:${await freePort()}`;
    const transport = new VnpyServerTransport({ rep, pub, limits: { maxBytes: 8 * 1024 * 1024 } });
    const server = new RpcServer({ transport, heartbeatMs: 0, logger: { warn: () => {}, error: () => {} } });
    server.register("getTick", () => ({ vtSymbol: "IF2512.CFFEX" }));
    server.register("echo", (value: unknown) => value);
    await server.start();
    cleanups.push(() => server.stop());
    const engine = await loadEngine("zmtp");
    const dealer = (): EngineSocket => {
      const socket = engine.dealer({ maxMessageSize: 16 << 20, linger: 0, heartbeatInterval: 0, heartbeatTimeout: 0 });
      socket.connect(rep);
      cleanups.push(() => socket.close());
      return socket;
    };
    const call = async (socket: EngineSocket, request: unknown[]) => {
      await socket.send([new Uint8Array(0), writePickle(request as never)]);
      return readPickleReply(await socket.receive());
    };
    const a = dealer();
    const b = dealer();
    expect((await call(a, ["constructor", [], {}]))[0]).toBe(false);
    expect((await call(a, ["to_string", [], {}]))[0]).toBe(false);
    // A request larger than the core takes once re-encoded (4 MiB) is refused, not left unanswered.
    const big = await call(a, ["echo", ["x".repeat(5 * 1024 * 1024)], {}]);
    expect(big[0]).toBe(false);
    expect(String(big[1])).toMatch(/exceeds/);
    // The same peer, and another, are served after all that.
    expect((await call(a, ["get_tick", ["IF2512.CFFEX"], {}]))[0]).toBe(true);
    expect((await call(b, ["get_tick", ["IF2512.CFFEX"], {}]))[0]).toBe(true);
  }, 30_000);
});
