/**
 * python/tradewire_client.py (pyzmq + msgpack, no pickle) against `tradewire serve --demo`, on tcp
 * and on ipc: calls, error codes, timeouts, many in flight, subscriptions, and the server's end
 * noticed by heartbeat liveness with the call in flight failing UNAVAILABLE.
 */
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FIXTURES, freePort, noPython, removeTempDirs, ROOT, startChild, startPython, stopChildren, tempDir } from "./helpers.ts";

afterEach(() => stopChildren());
afterAll(() => removeTempDirs());

async function addresses(protocol: "tcp" | "ipc"): Promise<[string, string]> {
  if (protocol === "ipc") {
    const dir = tempDir();
    return [`ipc://${dir}/req.sock`, `ipc://${dir}/pub.sock`];
  }
  return [`tcp://127.0.0.1:${await freePort()}`, `tcp://127.0.0.1:${await freePort()}`];
}

describe.skipIf(noPython)(`the Python client${noPython ? ` (skipped: ${noPython})` : ""}`, () => {
  // A stopping server says so in a last heartbeat, which its transport may drop as it closes (then
  // the missing heartbeats tell); a killed one is noticed by the missing heartbeats.
  it.each([
    ["tcp", "SIGTERM", /The server is stopping|No heartbeat for 3 s/],
    ["ipc", "SIGKILL", /No heartbeat for 3 s/],
  ] as const)("calls, subscribes and notices the server's end over %s (%s)", async (protocol, signal, reason) => {
    const [rep, pub] = await addresses(protocol);
    const server = startChild(process.execPath, ["--import", "tsx", join(ROOT, "bin/tradewire.ts"), "serve", "--demo", "--rep", rep, "--pub", pub]);
    await server.line(/^RPC service started/);
    const py = startPython(join(FIXTURES, "tw_client_check.py"), [rep, pub]);
    const step = async (name: string) => JSON.parse(await py.line(new RegExp(`"step": "${name}"`))) as Record<string, any>;
    expect(await step("connected")).toMatchObject({ ok: true, epoch: true });
    expect((await step("add")).result).toBe(3);
    expect((await step("echo")).result).toEqual({ a: [1, 2.5, null, true, "多"], b: { c: "d" } });
    expect(await step("error nope")).toMatchObject({ code: "NOT_FOUND" });
    expect(await step("error add")).toMatchObject({ code: "INVALID_ARGUMENT", message: "add takes two numbers" });
    expect(await step("timeout")).toMatchObject({ code: "TIMEOUT" });
    expect(await step("in flight")).toMatchObject({ ok: true });
    expect(await step("subscribed")).toMatchObject({ ok: true, topic: "tick.DEMO", increasing: true });
    await step("kill-me");
    server.proc.kill(signal);
    const gone = await step("disconnected");
    expect(gone.ok).toBe(true);
    expect(gone.reason[0]).toMatch(reason);
    expect((await step("in flight call")).code).toBe("UNAVAILABLE");
    await step("done");
    expect(await py.exited).toBe(0);
  }, 60_000);
});
