/**
 * Our ZMTP engine against real libzmq (zeromq.js) in the same Node process. Skipped under
 * Deno, where native zeromq hangs; interop-child.test.ts covers Deno with a child Node peer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Dealer, Publisher, Router, Subscriber } from "../../transports/zmtp/index.ts";
import { isDeno, publishUntilReceived, tempDir, text } from "./helpers.ts";

type Closable = { close(): void };
const zmq = isDeno ? undefined : await import("zeromq");
const open: Closable[] = [];
const track = <T extends Closable>(socket: T): T => (open.push(socket), socket);
const quiet = { log: () => {} };

afterEach(() => {
  for (const socket of open.splice(0)) socket.close();
});

async function receiveData(socket: { receive(): Promise<Uint8Array[]> }, skipTopic: string): Promise<string[]> {
  while (true) {
    const message = text(await socket.receive());
    if (message[0] !== skipTopic) return message;
  }
}

describe.skipIf(isDeno)("interop with native libzmq in process", () => {
  for (const transport of ["tcp", "ipc"] as const) {
    describe(transport, () => {
      let dir: ReturnType<typeof tempDir> | undefined;
      afterEach(() => {
        dir?.remove();
        dir = undefined;
      });
      const address = (name: string) => {
        if (transport === "tcp") return "tcp://127.0.0.1:0";
        dir ??= tempDir();
        return `ipc://${dir.path}/${name}.sock`;
      };

      it("our Dealer talks to a native Router, multipart both ways", async () => {
        const router = track(new zmq!.Router({ linger: 0 }));
        await router.bind(address("router"));
        const dealer = track(new Dealer(quiet));
        dealer.connect(router.lastEndpoint!);
        await dealer.send(["hello", new Uint8Array([0, 1, 2]), ""]);
        const [id, ...frames] = await router.receive();
        expect(frames.map((f) => [...f])).toEqual([[...new TextEncoder().encode("hello")], [0, 1, 2], []]);
        await router.send([id!, "reply", "two"]);
        expect(text(await dealer.receive())).toEqual(["reply", "two"]);
      });

      it("a native Dealer talks to our Router, which routes replies by identity", async () => {
        const router = track(new Router(quiet));
        await router.bind(address("our-router"));
        const named = track(new zmq!.Dealer({ routingId: "alice", linger: 0 }));
        const anonymous = track(new zmq!.Dealer({ linger: 0 }));
        named.connect(router.lastEndpoint!);
        anonymous.connect(router.lastEndpoint!);
        await named.send("from alice");
        await anonymous.send("from anonymous");
        const first = await router.receive();
        const second = await router.receive();
        const byBody = new Map([first, second].map((m) => [text(m)[1], m[0]!]));
        expect(text([byBody.get("from alice")!])).toEqual(["alice"]);
        // A generated id is 5 bytes starting with zero, as libzmq makes them.
        expect(byBody.get("from anonymous")![0]).toBe(0);
        expect(byBody.get("from anonymous")!.length).toBe(5);
        await router.send([byBody.get("from anonymous")!, "to anonymous"]);
        await router.send(["alice", "to alice"]);
        await router.send(["nobody", "dropped"]);
        expect(text(await named.receive())).toEqual(["to alice"]);
        expect(text(await anonymous.receive())).toEqual(["to anonymous"]);
        expect(router.droppedMessages).toBe(1);
      });

      it("keeps 128 requests in flight and gets every reply in order", async () => {
        const router = track(new zmq!.Router({ linger: 0 }));
        await router.bind(address("echo"));
        void (async () => {
          for await (const message of router) await router.send(message);
        })().catch(() => {});
        const dealer = track(new Dealer(quiet));
        dealer.connect(router.lastEndpoint!);
        for (let i = 0; i < 128; i++) await dealer.send(String(i));
        const replies: string[] = [];
        for (let i = 0; i < 128; i++) replies.push(text(await dealer.receive())[0]!);
        expect(replies).toEqual(Array.from({ length: 128 }, (_, i) => String(i)));
      });

      it("carries a 1 MiB message both ways", async () => {
        const router = track(new zmq!.Router({ linger: 0 }));
        await router.bind(address("big"));
        const dealer = track(new Dealer(quiet));
        dealer.connect(router.lastEndpoint!);
        const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
        await dealer.send(["big", big]);
        const [id, , body] = await router.receive();
        expect(body!.length).toBe(1 << 20);
        expect(Buffer.compare(body!, big)).toBe(0);
        await router.send([id!, body!]);
        const [back] = await dealer.receive();
        expect(back!.length).toBe(1 << 20);
        expect(Buffer.compare(back!, big)).toBe(0);
      });

      it("a native Publisher reaches our Subscriber, filtered by prefix", async () => {
        const pub = track(new zmq!.Publisher({ linger: 0 }));
        await pub.bind(address("pub"));
        const sub = track(new Subscriber(quiet));
        sub.subscribe("t.");
        sub.connect(pub.lastEndpoint!);
        await publishUntilReceived(() => pub.send(["t.probe", ""]), receiveData(sub, "nothing"));
        await pub.send(["u.other", "no"]);
        await pub.send(["t.data", "yes"]);
        expect(await receiveData(sub, "t.probe")).toEqual(["t.data", "yes"]);
      });

      it("our Publisher reaches 3 native Subscribers, each by its own prefixes", async () => {
        const pub = track(new Publisher(quiet));
        await pub.bind(address("our-pub"));
        const subs = ["a.", "b.", ""].map((prefix) => {
          const sub = track(new zmq!.Subscriber({ linger: 0 }));
          sub.subscribe(prefix, "probe");
          sub.connect(pub.lastEndpoint!);
          return sub;
        });
        // libzmq's SUB filters again on its side; its XSUB hands over whatever our Publisher sent.
        const xsub = track(new zmq!.XSubscriber({ linger: 0 }));
        xsub.connect(pub.lastEndpoint!);
        await xsub.send("\x01a.");
        await xsub.send("\x01probe");
        for (const sub of [...subs, xsub]) await publishUntilReceived(() => pub.send(["probe", ""]), receiveData(sub, "nothing"));
        for (const topic of ["a.1", "b.1", "c.1", "a.2"]) await pub.send([topic, topic]);
        await pub.send(["end", ""]);
        const seen = async (sub: { receive(): Promise<Uint8Array[]> }, count: number) => {
          const topics: string[] = [];
          while (topics.length < count) {
            const [topic] = text(await sub.receive());
            if (topic !== "probe") topics.push(topic!);
          }
          return topics;
        };
        expect(await seen(subs[0]!, 2)).toEqual(["a.1", "a.2"]);
        expect(await seen(subs[1]!, 1)).toEqual(["b.1"]);
        expect(await seen(subs[2]!, 5)).toEqual(["a.1", "b.1", "c.1", "a.2", "end"]);
        expect(await seen(xsub, 2)).toEqual(["a.1", "a.2"]);
      });
    });
  }

  it("our Router connects out to a native Dealer that binds", async () => {
    const dealer = track(new zmq!.Dealer({ routingId: "worker-1", linger: 0 }));
    await dealer.bind("tcp://127.0.0.1:0");
    const router = track(new Router(quiet));
    router.connect(dealer.lastEndpoint!);
    await dealer.send("ready");
    expect(text(await router.receive())).toEqual(["worker-1", "ready"]);
    await router.send(["worker-1", "job"]);
    expect(text(await dealer.receive())).toEqual(["job"]);
  });

  it("refuses abstract ipc addresses under Node, whose padded names libzmq cannot reach", () => {
    const dealer = track(new Dealer(quiet));
    expect(() => dealer.connect("ipc://@zmtp-abstract")).toThrow(/do not interoperate with libzmq under Node/);
  });

  it("reports a clear reason when a Dealer connects to a Publisher", async () => {
    const pub = track(new zmq!.Publisher({ linger: 0 }));
    await pub.bind("tcp://127.0.0.1:0");
    const logged: string[] = [];
    const dealer = track(new Dealer({ log: (m) => logged.push(m) }));
    const failure = dealer.events.once("handshake:error:protocol");
    dealer.connect(pub.lastEndpoint!);
    const event = await failure;
    expect(event.reason).toBe("peer is a PUB socket, expected ROUTER, DEALER or REP: are the request and broadcast addresses swapped?");
    expect(event.error?.message).toBe(event.reason);
    expect(logged[0]).toContain("are the request and broadcast addresses swapped?");
  });

  it("re-subscribes after the native Publisher is closed and bound again", async () => {
    const first = new zmq!.Publisher({ linger: 0 });
    await first.bind("tcp://127.0.0.1:0");
    const endpoint = first.lastEndpoint!;
    const sub = track(new Subscriber({ ...quiet, reconnectInterval: 20 }));
    sub.subscribe("t.");
    sub.connect(endpoint);
    await publishUntilReceived(() => first.send(["t.first", ""]), receiveData(sub, "nothing"));
    const gone = sub.events.once("disconnect");
    first.close();
    await gone;
    const second = track(new zmq!.Publisher({ linger: 0 }));
    await second.bind(endpoint);
    // Only a re-sent subscription lets the new publisher's messages through.
    await publishUntilReceived(() => second.send(["t.second", ""]), receiveData(sub, "t.first"));
  });
});
