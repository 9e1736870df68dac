// Run in a project that depends on tradewire, on Node or Deno: imports every entry point the
// installed package.json exports, makes a call over the memory transport, and checks that the
// native ZeroMQ engine, an optional peer dependency, says how to get it when it is absent.
import { readFileSync } from "node:fs";

const runtime = "Deno" in globalThis ? "Deno" : "Node";
const pkg = JSON.parse(readFileSync("node_modules/tradewire/package.json", "utf8"));
const modules = {};
for (const key of Object.keys(pkg.exports)) {
  const name = key === "." ? "tradewire" : `tradewire/${key.slice(2)}`;
  modules[name] = await import(name);
  if (Object.keys(modules[name]).length === 0) throw new Error(`${name} exports nothing`);
}

const { RpcServer, RpcClient } = modules["tradewire"];
const [serverSide, clientSide] = modules["tradewire/memory"].memoryPair();
const server = new RpcServer({ transport: serverSide });
server.register("add", (a, b) => a + b);
await server.start();
const client = new RpcClient({ transport: clientSide });
await client.start();
const sum = await client.call("add", [1, 2]);
await client.stop();
await server.stop();
if (sum !== 3) throw new Error(`add(1, 2) gave ${sum}`);
if (modules["tradewire/sim"].Direction.LONG !== "LONG") throw new Error("tradewire/sim has no Direction.LONG");

let zeromqInstalled = true;
try {
  await import("zeromq");
} catch {
  zeromqInstalled = false;
}
if (runtime === "Node" && !zeromqInstalled) {
  const transport = modules["tradewire/zeromq"].zmqServer({ rep: "tcp://127.0.0.1:0", pub: "tcp://127.0.0.1:0", engine: "native" });
  const error = await transport.listen(() => {}).then(() => undefined, (e) => e);
  if (!/npm install zeromq/.test(String(error?.message))) throw new Error(`engine: "native" without zeromq gave: ${error}`);
}
console.log(`${runtime}: imported ${Object.keys(modules).join(", ")}; add(1, 2) = ${sum}`);
