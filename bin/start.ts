/**
 * `npm start`: the main job. The simulated exchange served over ZeroMQ (`tradewire serve`, on
 * tcp://127.0.0.1:2014 and :4102) and the browser playground's dev server, side by side; their
 * own output says where. Ctrl+C stops both; if either one exits, the other is stopped too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const tsx = ["--import", "tsx"];

const children: ChildProcess[] = [
  spawn(process.execPath, [...tsx, "bin/tradewire.ts", "serve", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" }),
  spawn(process.execPath, [...tsx, "playground/serve.ts"], { cwd: root, stdio: "inherit" }),
];

let stopping = false;
function stopAll(signal: NodeJS.Signals = "SIGTERM"): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}

let exitCode = 0;
for (const child of children) {
  child.on("exit", (code) => {
    if (code) exitCode = code;
    stopAll();
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}
process.on("SIGINT", () => stopAll("SIGINT"));
process.on("SIGTERM", () => stopAll("SIGTERM"));
