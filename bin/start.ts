/**
 * `npm start`: the main job. The simulated exchange served over ZeroMQ (`tradewire serve`, on
 * tcp://127.0.0.1:2014 and :4102), the web door in front of it (`tradewire web`, on
 * http://127.0.0.1:8080) and the browser playground's dev server, which can point at the door:
 * an order sent from the page shows in `tradewire call getAllOrders`, and the reverse.
 *
 * The door gets a one-time user, `local`, a trader of the simulated exchange's account (`SIM`,
 * so the page shows its orders and fills) with a random password printed once: it lives
 * in a temporary folder (mode 0700, files 0600) removed when npm start stops, so nothing default
 * or guessable outlives the run. Ctrl+C stops all three; if one exits, the others are stopped too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deploymentFiles, saveUser } from "../web/config.ts";
import { hashPassword } from "../web/passwords.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const tsx = ["--import", "tsx"];
const DOOR_PORT = "8080";
const USER = "local";
/** The account `tradewire serve` trades for (sim/demo.ts). */
const ACCOUNTS = ["SIM"];

const folder = mkdtempSync(join(tmpdir(), "tradewire-start-"));
const files = deploymentFiles(join(folder, "web"));
const password = randomBytes(15).toString("base64url");
saveUser(files, USER, { role: "trader", accounts: ACCOUNTS, password: await hashPassword(password) });

const children: ChildProcess[] = [];

/** Start a child whose output is passed through line by line, each line also shown to `watch`. */
function run(args: string[], watch: (line: string) => void = () => {}): ChildProcess {
  const child = spawn(process.execPath, [...tsx, ...args], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) watch(line);
  });
  children.push(child);
  child.on("exit", (code) => {
    if (code) exitCode = code;
    stopAll();
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) finish();
  });
  return child;
}

let stopping = false;
let exitCode = 0;
function stopAll(signal: NodeJS.Signals = "SIGTERM"): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

function finish(): void {
  rmSync(folder, { recursive: true, force: true });
  process.exit(exitCode);
}

process.on("SIGINT", () => stopAll("SIGINT"));
process.on("SIGTERM", () => stopAll("SIGTERM"));

run(["bin/tradewire.ts", "serve", ...process.argv.slice(2)]);
// The door allows the playground's origin, known once the dev server has picked its port.
run(["playground/serve.ts"], (line) => {
  const page = /^Playground at (\S+)/.exec(line)?.[1];
  if (!page || stopping) return;
  const origin = new URL(page).origin;
  run(["bin/tradewire.ts", "web", "--dir", files.dir, "--port", DOOR_PORT, "--cors-origin", origin], (doorLine) => {
    const door = /^Web door at (\S+)/.exec(doorLine)?.[1];
    if (!door) return;
    // Written out rather than through URLSearchParams, which would percent-encode the door's URL.
    const pointed = `${page}${page.includes("?") ? "&" : "?"}door=${door}&user=${USER}`;
    process.stdout.write(
      `Playground on the deployment: ${pointed}\n` +
        `  log in as ${USER} with password ${password}\n` +
        "  (a one-time user: shown only now, removed when npm start stops)\n",
    );
  });
});
