/** Child processes, free ports and temp ipc paths for the ZeroMQ and CLI suites. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(ROOT, "bin/tradewire.js");
export const SERVER_FIXTURE = join(ROOT, "test/zeromq/fixtures/server.ts");
export const CLIENT_FIXTURE = join(ROOT, "test/zeromq/fixtures/client.ts");

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export type Protocol = "tcp" | "ipc";

const tempDirs: string[] = [];

/** Two fresh addresses (request, broadcast) for `protocol`. */
export async function addresses(protocol: Protocol): Promise<{ rep: string; pub: string }> {
  if (protocol === "tcp") {
    return { rep: `tcp://127.0.0.1:${await freePort()}`, pub: `tcp://127.0.0.1:${await freePort()}` };
  }
  const dir = mkdtempSync(join(tmpdir(), "tw-zmq-"));
  tempDirs.push(dir);
  return { rep: `ipc://${join(dir, "rep.sock")}`, pub: `ipc://${join(dir, "pub.sock")}` };
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A running child with its output collected line by line. */
export class Child {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(readonly process: ChildProcess) {
    const collect = (into: string[]) => {
      let partial = "";
      return (chunk: Buffer) => {
        const text = partial + chunk.toString("utf8");
        const lines = text.split("\n");
        partial = lines.pop() ?? "";
        into.push(...lines);
        for (const wake of this.waiters.splice(0)) wake();
      };
    };
    process.stdout?.on("data", collect(this.stdout));
    process.stderr?.on("data", collect(this.stderr));
    this.exited = new Promise((resolveExit) => {
      // "close", not "exit": by then every line of output has been collected.
      process.once("close", (code, signal) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolveExit({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  async line(pattern: RegExp, stream: "stdout" | "stderr" = "stdout", count = 1): Promise<string> {
    for (;;) {
      const matches = this[stream].filter((line) => pattern.test(line));
      if (matches.length >= count) return matches[count - 1]!;
      if (!this.running) {
        throw new Error(`Process exited before printing ${pattern}; stdout: ${this.stdout.join("\n")} stderr: ${this.stderr.join("\n")}`);
      }
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  /** Collected stdout lines that parse as JSON. */
  json(): unknown[] {
    return this.stdout.filter((line) => line.startsWith("{") || line.startsWith("[") || /^[\d"-]/.test(line)).map((line) => JSON.parse(line));
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.running) this.process.kill(signal);
    await this.exited;
  }
}

const children = new Set<Child>();

/** Spawn `command args…` (default: this Node) in the repository root; killed by killAll(). */
export function start(args: string[], command: string = process.execPath): Child {
  const child = new Child(spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

/** `node bin/tradewire.js …` */
export function cli(...args: string[]): Child {
  return start([CLI, ...args]);
}

/** Run the CLI to completion. */
export async function runCli(...args: string[]): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  const child = cli(...args);
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr };
}

export interface FixtureOptions {
  rep: string;
  pub: string;
  engine?: "native" | "zmtp";
  curve?: { secretKey: string };
  publishHighWaterMark?: number;
}

/** The test server (tradewire demo functions plus flood/stats), in its own process; resolves once it listens. */
export async function startServer(options: FixtureOptions): Promise<Child> {
  const child = start(["--import", "tsx", SERVER_FIXTURE, JSON.stringify(options)]);
  await child.line(/^ready$/);
  return child;
}

export async function killAll(): Promise<void> {
  await Promise.all([...children].map((child) => child.kill()));
}
