import { describe, expect, it } from "vitest";
import { zmqClient, zmqServer } from "../../transports/zeromq/index.ts";

describe("engine choice", () => {
  it("defaults to the ZMTP engine, and to libzmq when CURVE is asked for", () => {
    const plain = { req: "tcp://127.0.0.1:1", sub: "tcp://127.0.0.1:2" };
    expect(zmqClient(plain).engineName).toBe("zmtp");
    expect(zmqServer({ rep: "tcp://127.0.0.1:1", pub: "tcp://127.0.0.1:2" }).engineName).toBe("zmtp");
    const curve = zmqClient({ ...plain, curve: { serverKey: "x".repeat(40) } });
    expect(curve.engineName).toBe("native");
    expect(zmqClient({ ...plain, engine: "native" }).engineName).toBe("native");
  });
});
