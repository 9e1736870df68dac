/** Shared helpers for the ZMTP suites (Node and Deno). */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const isDeno = "Deno" in globalThis;
export const td = new TextDecoder();
export const text = (frames: Uint8Array[]): string[] => frames.map((frame) => td.decode(frame));

const peersDir = fileURLToPath(new URL("./peers/", import.meta.url));

export interface ChildPeer {
  /** The endpoint the peer printed in its "ready" line. */
  endpoint: string;
  pid: number;
  /** Resolves with the next stdout line that starts with `prefix`. */
  nextLine(prefix: string): Promise<string>;
  /** Lines printed so far and not taken by nextLine, that start with `prefix`. */
  unread(prefix: string): string[];
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
  /** Send a signal (SIGSTOP freezes the peer without closing its sockets). */
  signal(name: NodeJS.Signals): void;
}

/** Spawn a peer script (`node native-peer.mjs …` or `python3 pyzmq-peer.py …`) and wait for "ready". */
export async function spawnPeer(command: string, script: string, args: string[]): Promise<ChildPeer> {
  const child: ChildProcess = spawn(command, [join(peersDir, script), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve(line: string): void; reject(error: Error): void }> = [];
  const reader = createInterface({ input: child.stdout! });
  reader.on("line", (line) => {
    const index = waiters.findIndex((w) => line.startsWith(w.prefix));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(line);
    else lines.push(line);
  });
  void exited.then((code) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`${script} exited (${code}) before "${waiter.prefix}"`));
  });
  const nextLine = (prefix: string): Promise<string> => {
    const index = lines.findIndex((line) => line.startsWith(prefix));
    if (index >= 0) return Promise.resolve(lines.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => waiters.push({ prefix, resolve, reject }));
  };
  const ready = await nextLine("ready ");
  return {
    endpoint: ready.slice("ready ".length),
    pid: child.pid!,
    nextLine,
    unread: (prefix) => lines.filter((line) => line.startsWith(prefix)),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid!, "SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
      await exited;
    },
    // process.kill, not child.kill: Deno's ChildProcess records SIGSTOP as the exit signal and
    // then refuses to kill the child.
    signal: (name) => void process.kill(child.pid!, name),
  };
}

/** A fresh temp dir for ipc paths; `remove()` deletes it. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), "zmtp-"));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * PUB/SUB joins late: a subscription reaches the publisher some time after the handshake.
 * Publish `probe` every few ms until `receive` sees one (an event, not a fixed sleep).
 */
export async function publishUntilReceived(
  publish: () => Promise<void> | void,
  received: Promise<unknown>,
): Promise<void> {
  let done = false;
  void received.finally(() => (done = true));
  while (!done) {
    await publish();
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 5))]);
  }
  await received;
}

/** A hand-driven TCP peer for feeding our sockets bad input. */
export interface RawPeer {
  write(bytes: Uint8Array): void;
  /** Every byte the socket under test sent us so far. */
  received(): Uint8Array;
  /** Resolves when the socket under test closed the connection. */
  closed: Promise<void>;
  /** Called on every chunk that arrives, after it is recorded. */
  onData(listener: () => void): void;
  /** Stop reading, as a stalled peer does: TCP flow control then backs up the socket under test. */
  pause(): void;
  resume(): void;
  destroy(): void;
}

export async function rawPeer(endpoint: string): Promise<RawPeer> {
  const { createConnection } = await import("node:net");
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(endpoint);
  if (!match) throw new TypeError(`rawPeer needs a tcp endpoint, got ${endpoint}`);
  const socket = createConnection({ host: match[1]!, port: Number(match[2]) });
  socket.setNoDelay(true);
  const chunks: Uint8Array[] = [];
  socket.on("data", (chunk: Uint8Array) => chunks.push(new Uint8Array(chunk)));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  return {
    write: (bytes) => void socket.write(bytes),
    received: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
    closed,
    onData: (listener) => void socket.on("data", listener),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    destroy: () => socket.destroy(),
  };
}

/**
 * A Python with pyzmq, or undefined. Debian's python3-zmq lives in /usr/bin/python3, which a
 * pyenv or venv `python3` earlier on PATH may hide, so both are tried.
 */
export function findPythonWithZmq(): string | undefined {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = spawnSync(candidate, ["-c", "import zmq"], { stdio: "ignore" });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}
