import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { curveKeyPair } from "../../transports/zeromq/index.ts";
import { z85Encode } from "../../transports/zeromq/curve-keys.ts";
import { freePort } from "./helpers.ts";

const sockets: zmq.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe("CURVE keys without the native addon", () => {
  it("encodes Z85 as ZeroMQ RFC 32 does", () => {
    expect(z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe("HelloWorld");
    expect(() => z85Encode(new Uint8Array(3))).toThrow(RangeError);
  });

  it("makes key pairs that libzmq accepts for CURVE", async () => {
    const server = await curveKeyPair();
    const client = await curveKeyPair();
    expect(server.publicKey).toMatch(/^.{40}$/);
    expect(server.secretKey).not.toBe(client.secretKey);
    const address = `tcp://127.0.0.1:${await freePort()}`;
    const router = new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, linger: 0 });
    const dealer = new zmq.Dealer({ curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey, linger: 0 });
    sockets.push(router, dealer);
    await router.bind(address);
    dealer.connect(address);
    await dealer.send("over CURVE");
    const [, message] = await router.receive();
    expect(message!.toString()).toBe("over CURVE");
  });
});
