// Run from a project that depends on tradewire, on Node or Deno (`smoke.mjs [package.json]`,
// default the installed one): imports every entry point that package.json exports, makes a call over the memory transport, and checks that the
// native ZeroMQ engine, an optional peer dependency, says how to get it when it is absent.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import process from "node:process";

const runtime = "Deno" in globalThis ? "Deno" : "Node";
const pkg = JSON.parse(readFileSync(process.argv[2] ?? "node_modules/tradewire/package.json", "utf8"));
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

// Whether the optional peer is there, seen from where tradewire is (a linked folder has its own node_modules).
let zeromqInstalled = true;
try {
  createRequire(import.meta.resolve("tradewire")).resolve("zeromq");
} catch {
  zeromqInstalled = false;
}
const checkNative = runtime === "Node" && !zeromqInstalled;
if (checkNative) {
  const transport = modules["tradewire/zeromq"].zmqServer({ rep: "tcp://127.0.0.1:2014", pub: "tcp://127.0.0.1:4102", engine: "native" });
  // Refused before anything is bound: loading the engine fails.
  const error = await transport.listen(() => {}).then(() => transport.close(), (e) => e);
  if (!/npm install zeromq/.test(String(error?.message))) throw new Error(`engine: "native" without zeromq gave: ${error}`);
}
const from = import.meta.resolve("tradewire").replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
const native = !checkNative ? "" : '; without zeromq, engine: "native" says npm install zeromq';
console.log(`${runtime}: imported ${Object.keys(modules).join(", ")} (tradewire: ${from}); add(1, 2) = ${sum}${native}`);
