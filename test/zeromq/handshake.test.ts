/** Why a ZeroMQ handshake failed, as the client explains it: unit checks and real peers. */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RpcError } from "../../lib/index.ts";
import { explainHandshakeFailure } from "../../transports/zeromq/client.ts";
import { zmqClient } from "../../transports/zeromq/index.ts";
import { describeGreeting } from "../../transports/zeromq/zmtp-probe.ts";
import { freePort } from "./helpers.ts";

const servers: Server[] = [];
const peers = new Set<Socket>();
const transports: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const peer of peers) peer.destroy();
  peers.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe("ZMTP greeting probe", () => {
  function greeting(mechanism: string): Uint8Array {
    const bytes = new Uint8Array(64);
    bytes[0] = 0xff;
    bytes[9] = 0x7f;
    bytes[10] = 3;
    bytes.set(new TextEncoder().encode(mechanism), 12);
    return bytes;
  }

  it("does not throw on a long command whose size has not all arrived", () => {
    const data = new Uint8Array(66);
    data.set(greeting("NULL"));
    data.set([0x06, 0x00], 64); // long command flag, then 1 of its 8 size bytes
    expect(describeGreeting(data)).toEqual({ answered: true, mechanism: "NULL", socketType: undefined });
  });

  it("reads the mechanism and the socket type from READY", () => {
    const ready = [0x04, 28, 5, ..."READY"].map((x) => (typeof x === "string" ? x.charCodeAt(0) : x));
    const property = [11, ..."Socket-Type", 0, 0, 0, 3, ..."PUB"].map((x) => (typeof x === "string" ? x.charCodeAt(0) : x));
    ready[1] = 1 + 5 + property.length;
    const data = new Uint8Array([...greeting("NULL"), ...ready, ...property]);
    expect(describeGreeting(data)).toEqual({ answered: true, mechanism: "NULL", socketType: "PUB" });
    expect(describeGreeting(greeting("CURVE"))).toEqual({ answered: true, mechanism: "CURVE", socketType: undefined });
    expect(describeGreeting(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n"))).toEqual({ answered: true, mechanism: undefined, socketType: undefined });
  });
});

describe("handshake failure explanations", () => {
  const quietPeer = { answered: false, mechanism: undefined, socketType: undefined };

  it("stays silent when the peer was merely gone or restarting", () => {
    expect(explainHandshakeFailure("request", "tcp://127.0.0.1:1", quietPeer, false, "")).toBeUndefined();
    const router = { answered: true, mechanism: "NULL", socketType: "ROUTER" };
    expect(explainHandshakeFailure("request", "tcp://127.0.0.1:1", router, false, "")).toBeUndefined();
  });

  it("names the fix for each real mismatch", () => {
    const at = "tcp://127.0.0.1:1";
    const explain = (side: "request" | "broadcast", mechanism: string, socketType: string | undefined, curve = false) =>
      explainHandshakeFailure(side, at, { answered: true, mechanism, socketType }, curve, "")?.message;
    expect(explain("request", "NULL", "PUB")).toMatch(/req address .* broadcast \(PUB\).*look swapped/);
    expect(explain("broadcast", "NULL", "ROUTER")).toMatch(/sub address .* request \(ROUTER\).*look swapped/);
    expect(explain("request", "NULL", "REP")).toMatch(/is a REP socket, not a tradewire request/);
    expect(explain("request", "CURVE", undefined)).toMatch(/requires CURVE/);
    expect(explain("request", "CURVE", undefined, true)).toMatch(/check curve.serverKey/);
    expect(explain("request", "NULL", "ROUTER", true)).toMatch(/does not use CURVE/);
  });

  it.each(["native", "zmtp"] as const)("rejects a peer that does not speak ZMTP (%s engine)", async (engine) => {
    const port = await freePort();
    const http = createServer((socket) => {
      peers.add(socket);
      socket.on("error", () => {});
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    servers.push(http);
    await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
    const transport = zmqClient({ req: `tcp://127.0.0.1:${port}`, sub: `tcp://127.0.0.1:${await freePort()}`, engine });
    transports.push(transport);
    const reasons: string[] = [];
    const error = await transport
      .connect({ reply: () => {}, broadcast: () => {}, linkDown: (reason) => reasons.push(reason) })
      .then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).message).toMatch(/does not speak ZMTP/);
    expect(reasons).toEqual([(error as RpcError).rawMessage]);
    expect(() => transport.send(new Uint8Array([1]))).toThrow(/does not speak ZMTP/);
  });
});
