/**
 * A second, independent libzmq: pyzmq (Debian's python3-zmq) in a child process. Skipped,
 * with the reason, where no Python can import zmq.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer, Publisher, Router, Subscriber } from "../../transports/zmtp/index.ts";
import { type ChildPeer, findPythonWithZmq, publishUntilReceived, spawnPeer, tempDir, text } from "./helpers.ts";

const python = findPythonWithZmq();
const open: Array<{ close(): void }> = [];
const children: ChildPeer[] = [];
const quiet = { log: () => {} };
let dir: ReturnType<typeof tempDir> | undefined;

afterEach(async () => {
  for (const socket of open.splice(0)) socket.close();
  await Promise.all(children.splice(0).map((child) => child.kill()));
  dir?.remove();
  dir = undefined;
});

const py = async (mode: string, address: string, arg?: string) => {
  const child = await spawnPeer(python!, "pyzmq-peer.py", arg === undefined ? [mode, address] : [mode, address, arg]);
  children.push(child);
  return child;
};

describe.skipIf(!python)("interop with pyzmq (skipped: no python3 can import zmq; apt install python3-zmq)", () => {
  for (const transport of ["tcp", "ipc"] as const) {
    const address = (name: string) => {
      if (transport === "tcp") return "tcp://127.0.0.1:0";
      dir ??= tempDir();
      return `ipc://${dir.path}/${name}.sock`;
    };

    it(`${transport}: our Dealer keeps 128 requests in flight to a pyzmq echo Router`, async () => {
      const peer = await py("router-echo", address("echo"));
      const dealer = new Dealer(quiet);
      open.push(dealer);
      dealer.connect(peer.endpoint);
      for (let i = 0; i < 128; i++) await dealer.send(["req", String(i)]);
      for (let i = 0; i < 128; i++) expect(text(await dealer.receive())).toEqual(["req", String(i)]);
      const big = new Uint8Array(1 << 20).fill(7);
      await dealer.send(big);
      const [back] = await dealer.receive();
      expect(back!.length).toBe(1 << 20);
      expect(back!.every((byte) => byte === 7)).toBe(true);
    });

    it(`${transport}: a pyzmq Dealer gets 200 echoes from our Router`, async () => {
      const router = new Router(quiet);
      open.push(router);
      await router.bind(address("our-router"));
      void (async () => {
        for await (const message of router) await router.send(message);
      })().catch(() => {});
      const peer = await py("dealer", router.lastEndpoint!, "200");
      expect(await peer.nextLine("done")).toBe("done 200");
    });

    it(`${transport}: our Subscriber receives from a pyzmq Publisher by prefix`, async () => {
      const peer = await py("pub", address("pub"));
      const sub = new Subscriber(quiet);
      open.push(sub);
      sub.subscribe("b.");
      sub.connect(peer.endpoint);
      for (let i = 0; i < 5; i++) {
        const [topic, body] = text(await sub.receive());
        expect(topic).toMatch(/^b\./);
        expect(body).toMatch(new RegExp(`^${peer.pid}:`));
      }
    });

    it(`${transport}: a pyzmq Subscriber, and an XSUB that does not filter, get our Publisher's messages by prefix`, async () => {
      const pub = new Publisher(quiet);
      open.push(pub);
      await pub.bind(address("our-pub"));
      // libzmq's SUB filters again on its side; its XSUB prints whatever our Publisher sent.
      const peers = await Promise.all([py("sub", pub.lastEndpoint!, "t."), py("xsub", pub.lastEndpoint!, "t.")]);
      await publishUntilReceived(() => pub.send(["t.probe", "x"]), Promise.all(peers.map((peer) => peer.nextLine("msg t.probe"))));
      await pub.send(["u.skip", "no"]);
      await pub.send(["t.data", "yes"]);
      for (const peer of peers) {
        expect(await peer.nextLine("msg t.data")).toBe("msg t.data yes");
        // One connection keeps its order: a u.skip sent would have been printed before t.data.
        expect(peer.unread("msg u.")).toEqual([]);
      }
    });
  }

  it("our Dealer reconnects to a restarted pyzmq Router", async () => {
    const first = await py("router-echo", "tcp://127.0.0.1:0");
    const dealer = new Dealer({ ...quiet, reconnectInterval: 20 });
    open.push(dealer);
    dealer.connect(first.endpoint);
    await dealer.send("before");
    expect(text(await dealer.receive())).toEqual(["before"]);
    const down = dealer.events.once("disconnect");
    await first.kill();
    await down;
    await dealer.send("while down");
    await py("router-echo", first.endpoint);
    expect(text(await dealer.receive())).toEqual(["while down"]);
  });
});
