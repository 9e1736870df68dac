/** `tradewire` end to end: real processes (`node bin/tradewire.js …`), real sockets. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { addresses, Child, cli, killAll, removeTempDirs, ROOT, runCli, start } from "../zeromq/helpers.ts";

afterEach(() => killAll());
afterAll(() => removeTempDirs());

async function serve(...extra: string[]): Promise<{ child: Child; rep: string; pub: string }> {
  const { rep, pub } = await addresses("tcp");
  const child = cli("serve", "--demo", "--rep", rep, "--pub", pub, ...extra);
  await child.line(/^RPC service started/);
  return { child, rep, pub };
}

describe("tradewire --help", () => {
  it.each(["serve", "call", "listen", "keygen"])("explains %s", async (command) => {
    const { code, stdout } = await runCli(command, "--help");
    expect(code).toBe(0);
    expect(stdout[0]).toMatch(new RegExp(`^Usage: tradewire ${command}\\b`));
  });

  it("lists the commands", async () => {
    const { code, stdout } = await runCli("--help");
    expect(code).toBe(0);
    for (const command of ["serve", "call", "listen", "keygen"]) expect(stdout.join("\n")).toContain(`  ${command}`);
  });

  it("refuses an unknown command or flag with exit code 2", async () => {
    expect((await runCli("frobnicate")).code).toBe(2);
    const bad = await runCli("call", "add", "--nope");
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/--nope/);
    expect((await runCli("call")).code).toBe(2);
    expect((await runCli("call", "add", "--timeout", "soon")).code).toBe(2);
  });
});

describe("tradewire keygen", () => {
  it("prints a fresh Z85 key pair as one JSON line", async () => {
    const first = await runCli("keygen");
    const second = await runCli("keygen");
    expect(first.code).toBe(0);
    expect(first.stdout).toHaveLength(1);
    const keys = JSON.parse(first.stdout[0]!) as { publicKey: string; secretKey: string };
    expect(keys.publicKey).toHaveLength(40);
    expect(keys.secretKey).toHaveLength(40);
    expect(keys.publicKey).not.toBe(keys.secretKey);
    expect(JSON.parse(second.stdout[0]!).secretKey).not.toBe(keys.secretKey);
  });
});

describe("tradewire serve, call and listen", () => {
  it("serves the demo, answers calls, streams ticks and stops on SIGINT", async () => {
    const { child, rep, pub } = await serve();
    expect(child.stdout[0]).toContain(rep);
    expect(child.stdout[0]).toContain(pub);

    const add = await runCli("call", "add", "1", "2", "--req", rep, "--sub", pub);
    expect(add).toMatchObject({ code: 0, stdout: ["3"] });
    const echo = await runCli("call", "echo", '{"a":[1,"x"]}', "--req", rep, "--sub", pub);
    expect(echo).toMatchObject({ code: 0, stdout: ['{"a":[1,"x"]}'] });
    const word = await runCli("call", "echo", "hello", "--req", rep, "--sub", pub);
    expect(word.stdout).toEqual(['"hello"']);
    const sleep = await runCli("call", "sleep", "20", "--req", rep, "--sub", pub);
    expect(sleep.stdout).toEqual(["20"]);

    const listen = await runCli("listen", "tick.", "--count", "2", "--req", rep, "--sub", pub);
    expect(listen.code).toBe(0);
    expect(listen.stdout).toHaveLength(2);
    for (const line of listen.stdout) expect(JSON.parse(line)).toMatchObject({ topic: "tick.DEMO", data: { seq: expect.any(Number) } });

    child.process.kill("SIGINT");
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toContain("RPC service stopped");
  });

  it("serves the simulated exchange without --demo", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = cli("serve", "--rep", rep, "--pub", pub);
    await server.line(/^RPC service started: .*simulated exchange/);
    const contracts = await runCli("call", "getAllContracts", "--req", rep, "--sub", pub);
    expect(contracts.code).toBe(0);
    expect((JSON.parse(contracts.stdout[0]!) as Array<{ vtSymbol: string }>).map((c) => c.vtSymbol)).toContain("IF2512.CFFEX");

    const listener = cli("listen", "eTick.IF2512", "--count", "1", "--req", rep, "--sub", pub);
    await listener.line(/^Connected/, "stderr");
    const subscribed = await runCli("call", "subscribe", '{"symbol":"IF2512","exchange":"CFFEX"}', "SIM", "--req", rep, "--sub", pub);
    expect(subscribed.code).toBe(0);
    expect((await listener.exited).code).toBe(0);
    expect(listener.json()).toEqual([{ topic: "eTick.IF2512.CFFEX", data: expect.objectContaining({ vtSymbol: "IF2512.CFFEX" }) }]);

    server.process.kill("SIGINT");
    expect((await server.exited).code).toBe(0);
    expect(server.stdout).toContain("RPC service stopped");
  });

  it("reports a function that does not exist with its code, exit 1", async () => {
    const { rep, pub } = await serve();
    const result = await runCli("call", "nope", "--req", rep, "--sub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toMatch(/^Error: NOT_FOUND: /);
  });

  it("stops on SIGTERM too", async () => {
    const { child } = await serve();
    child.process.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
    expect(child.stdout).toContain("RPC service stopped");
  });

  it("exits 1 with one line when the address is in use", async () => {
    const { rep } = await serve();
    const { pub } = await addresses("tcp");
    const second = await runCli("serve", "--demo", "--rep", rep, "--pub", pub);
    expect(second.code).toBe(1);
    expect(second.stderr.filter((line) => line.length > 0)).toEqual([`Error: Address already in use: ${rep}`]);
  });

  it("exits 1 with one line when an ipc address is in use", async () => {
    const { rep, pub } = await addresses("ipc");
    const first = cli("serve", "--demo", "--rep", rep, "--pub", pub);
    await first.line(/^RPC service started/);
    const second = await runCli("serve", "--demo", "--rep", rep, "--pub", `${pub}2`);
    expect(second.code).toBe(1);
    expect(second.stderr.filter((line) => line.length > 0)).toEqual([`Error: Address already in use: ${rep}`]);
    // The first server still owns its address.
    expect((await runCli("call", "add", "2", "2", "--req", rep, "--sub", pub)).stdout).toEqual(["4"]);
  });

  it("reports UNAVAILABLE and exits 1 when no server is there", async () => {
    const { rep, pub } = await addresses("tcp");
    const result = await runCli("call", "add", "1", "2", "--req", rep, "--sub", pub, "--timeout", "300");
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toMatch(/^Error: UNAVAILABLE: /);
  });

  it("says the addresses look swapped", async () => {
    const { rep, pub } = await serve();
    const result = await runCli("call", "add", "1", "2", "--req", pub, "--sub", rep);
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toMatch(/look swapped/);
  });

  it("serves and calls with CURVE keys from keygen", async () => {
    const keys = JSON.parse((await runCli("keygen")).stdout[0]!) as { publicKey: string; secretKey: string };
    const { rep, pub } = await serve("--curve-secret-key", keys.secretKey);
    const trusted = await runCli("call", "add", "5", "6", "--req", rep, "--sub", pub, "--curve-server-key", keys.publicKey);
    expect(trusted).toMatchObject({ code: 0, stdout: ["11"] });
    const anonymous = await runCli("call", "add", "5", "6", "--req", rep, "--sub", pub);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr[0]).toMatch(/^Error: UNAUTHENTICATED: .*requires CURVE/);
  });

  it("serves the other engine's clients: zmtp server, native client", async () => {
    const { rep, pub } = await serve("--engine", "zmtp");
    expect(await runCli("call", "add", "1", "1", "--req", rep, "--sub", pub, "--engine", "native")).toMatchObject({
      code: 0,
      stdout: ["2"],
    });
  });
});

const DENO = join(ROOT, "node_modules/deno/deno");

describe.skipIf(!existsSync(DENO))("tradewire under Deno", () => {
  const deno = (...args: string[]): Child => start(["run", "-A", "bin/tradewire.ts", ...args], DENO);

  it("serves and calls with the zmtp engine by default, makes keys, refuses the native engine at once", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = deno("serve", "--demo", "--rep", rep, "--pub", pub);
    try {
      await server.line(/^RPC service started/);
      expect(await runCli("call", "add", "20", "22", "--req", rep, "--sub", pub)).toMatchObject({ code: 0, stdout: ["42"] });
      const denoCall = deno("call", "add", "2", "3", "--req", rep, "--sub", pub);
      expect((await denoCall.exited).code).toBe(0);
      expect(denoCall.stdout).toEqual(["5"]);
      const denoKeys = deno("keygen");
      expect((await denoKeys.exited).code).toBe(0);
      expect(JSON.parse(denoKeys.stdout[0]!).publicKey).toHaveLength(40);
      const native = deno("call", "add", "1", "2", "--engine", "native", "--req", rep, "--sub", pub);
      expect((await native.exited).code).toBe(1);
      expect(native.stderr.join("\n")).toMatch(/engine: "zmtp"/);
    } finally {
      await server.kill("SIGTERM");
      expect(server.stdout).toContain("RPC service stopped");
    }
  }, 60_000);
});
