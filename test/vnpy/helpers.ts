/**
 * What the VeighNa suites share: whether the real peer can run (VeighNa's unchanged files in
 * ../shared/peers/vnpy and Debian's python3 with pyzmq), and running Python children.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));
export const FIXTURES = join(ROOT, "test/vnpy/fixtures");
export const PYTHON = "/usr/bin/python3";
export const VNPY_PEERS = resolve(ROOT, "../shared/peers/vnpy");

function check(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  try {
    execFileSync(PYTHON, ["-c", "import zmq, msgpack"], { stdio: "ignore" });
  } catch {
    return `${PYTHON} lacks pyzmq or msgpack (Debian: apt install python3-zmq python3-msgpack)`;
  }
  return undefined;
}

/** Why Python-with-pyzmq tests cannot run here, or undefined. */
export const noPython = check();
/** Why tests against VeighNa's own code cannot run here, or undefined. */
export const noVnpy = noPython ?? (existsSync(join(VNPY_PEERS, "vnpy/rpc/server.py")) ? undefined : `VeighNa's files are absent (${VNPY_PEERS})`);

export function pythonEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: [VNPY_PEERS, join(ROOT, "python")].join(":"), PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
}

/** Run a Python script to its end with `input` on stdin; its stdout. */
export function runPython(script: string, args: string[] = [], input = ""): string {
  return execFileSync(PYTHON, [script, ...args], { env: pythonEnv(), input, encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
}

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line matching `re` (lines before it are kept in `lines`). */
  line(re: RegExp): Promise<string>;
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
}

const children = new Set<Child>();

export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  let partial = "";
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void; from: number }> = [];
  const exited = new Promise<number | null>((res) => proc.on("exit", (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`Process exited (${code}) before printing ${w.re}\nstdout:\n${lines.join("\n")}\nstderr:\n${err}`));
    res(code);
  }));
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  proc.stdout.on("data", (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  const child: Child = {
    proc,
    lines,
    stderr: () => err,
    exited,
    line: (re) => {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) {
        lines.splice(lines.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => waiters.push({ re, resolve: (l) => { lines.splice(lines.indexOf(l), 1); resolve(l); }, reject, from: lines.length }));
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export function startPython(script: string, args: string[] = []): Child {
  return startChild(PYTHON, [script, ...args], pythonEnv());
}

/** Stop every child this suite started and wait for them. */
export async function stopChildren(): Promise<void> {
  await Promise.all([...children].map(async (c) => {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGTERM");
    const timer = setTimeout(() => c.proc.kill("SIGKILL"), 5000);
    await c.exited;
    clearTimeout(timer);
  }));
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const tempDirs: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tw-vnpy-"));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
