import { afterEach, describe, expect, it } from "vitest";
import { Worker } from "node:worker_threads";
import { RpcClient, RpcServer, type CallContext } from "../../lib/index.ts";
import { messagePortClient, messagePortServer } from "../../transports/message-port.ts";
import { workerClient } from "../../transports/worker.ts";
import { until } from "./helpers.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("MessagePort transport", () => {
  it("calls and broadcasts over a MessageChannel", async () => {
    const channel = new MessageChannel();
    const server = new RpcServer({ transport: messagePortServer(channel.port1) });
    server.register("add", (a: number, b: number) => a + b);
    await server.start();
    const client = new RpcClient({ transport: messagePortClient(channel.port2) });
    await client.start();
    cleanups.push(() => server.stop(), () => client.stop(), () => channel.port1.close(), () => channel.port2.close());
    expect(await client.call("add", [40, 2])).toBe(42);
    const got: unknown[] = [];
    client.subscribe("tick.", (_t, d) => got.push(d));
    // The port is ordered: once a later call is answered, the server has the subscription.
    await client.call("add", [0, 0]);
    server.publish("tick.A", 1);
    server.publish("other", 2);
    server.publish("tick.B", 3);
    await until(() => got.length === 2);
    expect(got).toEqual([1, 3]);
  });

  it("serves several ports, each its own peer, and tells the client when the server closes", async () => {
    const channels = [new MessageChannel(), new MessageChannel()];
    const transport = messagePortServer();
    const server = new RpcServer({ transport });
    server.register("me", (ctx: CallContext) => ctx.peer);
    await server.start();
    for (const c of channels) transport.addEndpoint(c.port1);
    const clients = channels.map((c) => new RpcClient({ transport: messagePortClient(c.port2) }));
    await Promise.all(clients.map((c) => c.start()));
    cleanups.push(...clients.map((c) => () => c.stop()), ...channels.flatMap((c) => [() => c.port1.close(), () => c.port2.close()]));
    const peers = await Promise.all(clients.map((c) => c.call("me")));
    expect(new Set(peers).size).toBe(2);
    await until(() => clients.every((c) => c.state === "connected"));
    await server.stop();
    await until(() => clients.every((c) => c.state === "disconnected"));
  });

  it("ignores foreign messages on a shared port", async () => {
    const channel = new MessageChannel();
    const server = new RpcServer({ transport: messagePortServer(channel.port1) });
    server.register("ok", () => "ok");
    await server.start();
    const client = new RpcClient({ transport: messagePortClient(channel.port2) });
    await client.start();
    cleanups.push(() => server.stop(), () => client.stop(), () => channel.port1.close(), () => channel.port2.close());
    channel.port2.postMessage({ hello: "from another library" });
    channel.port2.postMessage({ tw: 1, k: "req", f: "not bytes" });
    expect(await client.call("ok")).toBe("ok");
  });

  it("talks to a server in a Node worker thread", async () => {
    const entry = new URL("./fixtures/worker-server.ts", import.meta.url);
    // Deno runs TypeScript workers natively; Node needs tsx's loader registered first.
    const worker =
      "Deno" in globalThis
        ? new Worker(entry)
        : new Worker(new URL("./fixtures/node-ts-worker.mjs", import.meta.url), { workerData: { entry: entry.href } });
    cleanups.push(() => worker.terminate());
    const client = new RpcClient({ transport: workerClient(worker) });
    await client.start();
    cleanups.push(() => client.stop());
    // A worker that compiles TypeScript first can take longer than the heartbeat tolerance on a
    // loaded machine: the client then reports disconnected, and connected once the server says hi.
    await until(() => client.state === "connected", 15_000);
    expect(await client.call("add", [1, 2])).toBe(3);
    const got: unknown[] = [];
    client.subscribe("tick.", (_t, d) => got.push(d));
    await client.call("publish", ["tick.W", "hello"]);
    await until(() => got.length === 1);
    expect(got).toEqual(["hello"]);
  });

  // Web Workers exist in Deno and browsers, not in Node; the playground's e2e suite covers Chromium.
  it.skipIf(!("Deno" in globalThis))("talks to a server in a Web Worker (Deno)", async () => {
    const WebWorker = (globalThis as unknown as { Worker: new (url: URL, options: { type: "module" }) => Worker }).Worker;
    const worker = new WebWorker(new URL("./fixtures/web-worker-server.ts", import.meta.url), { type: "module" });
    cleanups.push(() => worker.terminate());
    const client = new RpcClient({ transport: workerClient(worker) });
    await client.start();
    cleanups.push(() => client.stop());
    expect(await client.call("add", [2, 2])).toBe(4);
    expect(await client.call("where")).toBe("function");
  });
});
