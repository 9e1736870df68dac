/**
 * Our engine against native libzmq running in a child Node process. Runs under Node and
 * Deno alike (the native addon never loads in the test process), and lets us kill the peer
 * for real mid-stream.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer, Publisher, Router, Subscriber } from "../../transports/zmtp/index.ts";
import { type ChildPeer, isDeno, publishUntilReceived, spawnPeer, tempDir, text } from "./helpers.ts";

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

const native = async (mode: string, address: string, arg?: string) => {
  const child = await spawnPeer("node", "native-peer.mjs", arg === undefined ? [mode, address] : [mode, address, arg]);
  children.push(child);
  return child;
};

describe("interop with native libzmq in a child Node process", () => {
  for (const transport of ["tcp", "ipc"] as const) {
    const address = (name: string) => {
      if (transport === "tcp") return "tcp://127.0.0.1:0";
      dir ??= tempDir();
      return `ipc://${dir.path}/${name}.sock`;
    };

    it(`${transport}: our Dealer keeps 128 requests in flight to a native echo Router`, async () => {
      const peer = await native("router-echo", address("echo"));
      const dealer = new Dealer(quiet);
      open.push(dealer);
      dealer.connect(peer.endpoint);
      for (let i = 0; i < 128; i++) await dealer.send(["req", String(i)]);
      for (let i = 0; i < 128; i++) expect(text(await dealer.receive())).toEqual(["req", String(i)]);
    });

    it(`${transport}: a native Dealer gets 200 echoes from our Router`, async () => {
      const router = new Router(quiet);
      open.push(router);
      await router.bind(address("our-router"));
      void (async () => {
        for await (const message of router) await router.send(message);
      })().catch(() => {});
      const peer = await native("dealer", router.lastEndpoint!, "200");
      expect(await peer.nextLine("done")).toBe("done 200");
    });

    it(`${transport}: a native Subscriber, and an XSUB that does not filter, get our Publisher's messages by prefix`, async () => {
      const pub = new Publisher(quiet);
      open.push(pub);
      await pub.bind(address("our-pub"));
      // libzmq's SUB filters again on its side; its XSUB prints whatever our Publisher sent.
      const peers = await Promise.all([native("sub", pub.lastEndpoint!, "t."), native("xsub", pub.lastEndpoint!, "t.")]);
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

  it.skipIf(!isDeno || process.platform !== "linux")("reaches a native Router on an abstract socket under Deno", async () => {
    const peer = await native("router-echo", `ipc://@zmtp-test-${process.pid}-${Date.now()}`);
    const dealer = new Dealer(quiet);
    open.push(dealer);
    dealer.connect(peer.endpoint);
    await dealer.send("abstract");
    expect(text(await dealer.receive())).toEqual(["abstract"]);
  });

  it("our Dealer reconnects to a restarted native Router and carries on", async () => {
    const first = await native("router-echo", "tcp://127.0.0.1:0");
    const dealer = new Dealer({ ...quiet, reconnectInterval: 20, reconnectMaxInterval: 200 });
    open.push(dealer);
    dealer.connect(first.endpoint);
    await dealer.send("before");
    expect(text(await dealer.receive())).toEqual(["before"]);
    const down = dealer.events.once("disconnect");
    await first.kill();
    await down;
    // Sent while the peer is down: queued below the high-water mark, delivered after reconnect.
    await dealer.send("while down");
    await native("router-echo", first.endpoint);
    expect(text(await dealer.receive())).toEqual(["while down"]);
    await dealer.send("after");
    expect(text(await dealer.receive())).toEqual(["after"]);
  });

  it("detects a frozen native peer by heartbeat timeout", async () => {
    const peer = await native("router-echo", "tcp://127.0.0.1:0");
    const dealer = new Dealer({ ...quiet, heartbeatInterval: 50, heartbeatTimeout: 300 });
    open.push(dealer);
    dealer.connect(peer.endpoint);
    await dealer.send("alive");
    expect(text(await dealer.receive())).toEqual(["alive"]);
    const gone = dealer.events.once("disconnect");
    // Frozen, its TCP stack still acknowledges: only heartbeats can notice.
    peer.signal("SIGSTOP");
    expect((await gone).reason).toMatch(/heartbeat timeout 300 ms/);
    peer.signal("SIGCONT");
  });

  it("our Subscriber re-subscribes after the native Publisher is killed and restarted", async () => {
    const first = await native("pub", "tcp://127.0.0.1:0");
    const sub = new Subscriber({ ...quiet, reconnectInterval: 20 });
    open.push(sub);
    sub.subscribe("b.");
    sub.connect(first.endpoint);
    const [topic] = text(await sub.receive());
    expect(topic).toMatch(/^b\./);
    const down = sub.events.once("disconnect");
    await first.kill();
    await down;
    const second = await native("pub", first.endpoint);
    // Messages of the new process arrive only if the subscription was re-sent; "a." never does.
    while (true) {
      const [t, body] = text(await sub.receive());
      expect(t).toMatch(/^b\./);
      if (body!.startsWith(`${second.pid}:`)) break;
    }
  });

  it("three of our Subscribers share one native Publisher", async () => {
    const peer = await native("pub", "tcp://127.0.0.1:0");
    const subs = ["a.", "b.", ""].map((prefix) => {
      const sub = new Subscriber(quiet);
      open.push(sub);
      sub.subscribe(prefix);
      sub.connect(peer.endpoint);
      return sub;
    });
    const everything = new Set<string>();
    while (everything.size < 2) everything.add(text(await subs[2]!.receive())[0]!.slice(0, 2));
    expect([...everything].sort()).toEqual(["a.", "b."]);
    for (const [index, prefix] of ["a.", "b."].entries()) {
      for (let i = 0; i < 5; i++) expect(text(await subs[index]!.receive())[0]).toMatch(new RegExp(`^${prefix}`));
    }
  });
});
