/** `tradewire` end to end: real processes (`node bin/tradewire.js …`), real sockets. */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";

// Every test here runs real processes, each starting TypeScript through tsx: on a loaded machine
// (CI shares two cores) a few of them in a row take longer than the default 20 s.
vi.setConfig({ testTimeout: 60_000 });
import { packageVersion } from "../../bin/version.ts";
import { generateCurveKeyPair } from "../../transports/zeromq/curve-keys.ts";
import { addresses, Child, CLI, cli, killAll, removeTempDirs, ROOT, runCli, start } from "../zeromq/helpers.ts";

const withEnv = new Set<Child>();
const ourDirs: string[] = [];

afterEach(async () => {
  await Promise.all([killAll(), ...[...withEnv].map((child) => child.kill())]);
  withEnv.clear();
});
afterAll(() => {
  removeTempDirs();
  for (const dir of ourDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tw-cli-"));
  ourDirs.push(dir);
  return dir;
}

/** `node bin/tradewire.js …` with extra environment variables. */
function cliWithEnv(env: Record<string, string>, ...args: string[]): Child {
  const child = new Child(spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
  withEnv.add(child);
  return child;
}

/** A CURVE key pair whose public key starts with "-" (one in 85 does: "-" is a Z85 digit). */
async function pairWithDashedPublicKey(): Promise<{ publicKey: string; secretKey: string }> {
  for (let i = 0; i < 10_000; i++) {
    const pair = await generateCurveKeyPair();
    if (pair.publicKey.startsWith("-")) return pair;
  }
  throw new Error("No key starting with - in 10 000 tries");
}

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
    for (const command of ["serve", "call", "listen", "ls", "keygen"]) expect(stdout.join("\n")).toContain(`  ${command}`);
  });

  it("lists every flag, the secret-key file and --version included", async () => {
    const flags: Record<string, string[]> = {
      main: ["--version", "--help"],
      serve: ["--demo", "--rep", "--pub", "--engine", "--curve-secret-key-file", "--help"],
      call: ["--req", "--sub", "--timeout", "--engine", "--curve-server-key", "--curve-server-key-file", "--help"],
      listen: ["--req", "--sub", "--count", "--engine", "--curve-server-key", "--curve-server-key-file", "--help"],
      keygen: ["--out", "--name", "--help"],
      ls: ["--json", "--req", "--sub", "--timeout", "--engine", "--curve-server-key", "--curve-server-key-file", "--help"],
    };
    for (const [command, expected] of Object.entries(flags)) {
      const { stdout } = await runCli(...(command === "main" ? [] : [command]), "--help");
      const help = stdout.join("\n");
      for (const flag of expected) expect(help, `${command} --help`).toMatch(new RegExp(`^\\s+(-h, )?${flag}\\b`, "m"));
    }
    // The secret never goes on the command line, so its flag is not offered.
    expect((await runCli("serve", "--help")).stdout.join("\n")).not.toMatch(/--curve-secret-key\b(?!-file)/);
  });

  it("prints the version of package.json, from the sources or a built dist/bin", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(await runCli("--version")).toMatchObject({ code: 0, stdout: [version] });
    const root = tempDir();
    mkdirSync(join(root, "dist/bin"), { recursive: true });
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "tradewire", version: "9.8.7" }));
    writeFileSync(join(root, "dist/package.json"), JSON.stringify({ name: "not-tradewire", version: "0.0.0" }));
    expect(packageVersion(pathToFileURL(join(root, "dist/bin/tradewire.js")))).toBe("9.8.7");
    expect(packageVersion(pathToFileURL(join(root, "bin/tradewire.ts")))).toBe("9.8.7");
  });

  it("refuses an unknown command or flag with exit code 2", async () => {
    expect((await runCli("frobnicate")).code).toBe(2);
    const bad = await runCli("call", "add", "--nope");
    expect(bad.code).toBe(2);
    expect(bad.stderr[0]).toMatch(/--nope/);
    expect((await runCli("call")).code).toBe(2);
    expect((await runCli("call", "add", "--timeout", "soon")).code).toBe(2);
  });

  it("exits 2, saying which flag, for an address that is not a ZeroMQ address", async () => {
    const runs = await Promise.all([
      runCli("call", "add", "1", "2", "--req", "tcp://nope"),
      runCli("call", "add", "1", "2", "--req", "http://x:1"),
      runCli("listen", "--sub", "tcp://nope"),
      runCli("serve", "--demo", "--rep", "http://x:1"),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2]);
    expect(runs.map((run) => run.stderr[0])).toEqual([
      '--req must be a ZeroMQ address such as tcp://127.0.0.1:2014 or ipc:///tmp/tradewire.sock, got "tcp://nope"',
      '--req must be a ZeroMQ address such as tcp://127.0.0.1:2014 or ipc:///tmp/tradewire.sock, got "http://x:1"',
      '--sub must be a ZeroMQ address such as tcp://127.0.0.1:2014 or ipc:///tmp/tradewire.sock, got "tcp://nope"',
      '--rep must be a ZeroMQ address such as tcp://127.0.0.1:2014 or ipc:///tmp/tradewire.sock, got "http://x:1"',
    ]);
  });

  it.each([
    ["1e400", ["add", "1e400", "2"]],
    ["-1e400 in an array", ["echo", "[1,-1e400]"]],
  ])("refuses a number a double cannot hold (%s) with exit 2, sending nothing", async (_, words) => {
    const { rep, pub } = await addresses("tcp"); // nobody there: a call that went out would say UNAVAILABLE
    const result = await runCli("call", ...words, "--req", rep, "--sub", pub);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr[0]).toMatch(/^Argument \d \(.*1e400.*\) holds a number beyond the range of a double/);
  });

  it("refuses __proto__ keys in an argument at once with exit 2, however they are written", async () => {
    const { rep, pub } = await serve();
    for (const word of ['{"__proto__":{"x":1}}', '[{"a":{"__proto__":1}}]', '{"\\u005f_proto__":1}']) {
      const result = await runCli("call", "echo", "ok", word, "--req", rep, "--sub", pub);
      expect(result.code, word).toBe(2);
      expect(result.stderr[0]).toBe(`Argument 2 (${word}) has a "__proto__" key, which tradewire never sends (servers refuse it)`);
    }
    // A "__proto__" value is plain data.
    expect((await runCli("call", "echo", '{"a":"__proto__"}', "--req", rep, "--sub", pub)).stdout).toEqual(['{"a":"__proto__"}']);
  });

  it("refuses the secret key on the command line (ps shows it), without repeating it", async () => {
    const { secretKey } = await generateCurveKeyPair();
    const result = await runCli("serve", "--demo", "--curve-secret-key", secretKey);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr[0]).toMatch(/^--curve-secret-key is not accepted: .*visible to every local user.*--curve-secret-key-file PATH.*TRADEWIRE_CURVE_SECRET_KEY/);
    expect(result.stderr.join("\n")).not.toContain(secretKey);
  });
});

describe("tradewire keygen", () => {
  it("writes DIR/NAME.key with mode 0600 and DIR/NAME.pub with --out, and never overwrites them", async () => {
    const dir = join(tempDir(), "keys"); // does not exist yet
    const made = await runCli("keygen", "--out", dir);
    expect(made.code).toBe(0);
    const secretKeyFile = join(dir, "server.key");
    const publicKeyFile = join(dir, "server.pub");
    const printed = JSON.parse(made.stdout[0]!) as Record<string, string>;
    expect(printed).toEqual({ publicKey: expect.stringMatching(/^.{40}$/), secretKeyFile, publicKeyFile });
    const secretKey = readFileSync(secretKeyFile, "utf8").trim();
    expect(secretKey).toHaveLength(40);
    expect(made.stdout.join("\n")).not.toContain(secretKey);
    expect(readFileSync(publicKeyFile, "utf8")).toBe(`${printed.publicKey}\n`);
    expect(statSync(secretKeyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);

    const again = await runCli("keygen", "--out", dir);
    expect(again.code).toBe(1);
    expect(again.stderr[0]).toBe(`Error: ${secretKeyFile} already exists: keygen never overwrites a key (remove it, or choose another --name or --out)`);
    expect(readFileSync(secretKeyFile, "utf8").trim()).toBe(secretKey);

    const other = await runCli("keygen", "--out", dir, "--name", "gateway");
    expect(other.code).toBe(0);
    expect(statSync(join(dir, "gateway.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "gateway.key"), "utf8").trim()).not.toBe(secretKey);
    expect((await runCli("keygen", "--out", dir, "--name", "../escape")).code).toBe(2);
  });

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

  it("serves and calls with CURVE key files from keygen --out", async () => {
    const dir = tempDir();
    expect((await runCli("keygen", "--out", dir)).code).toBe(0);
    const { rep, pub } = await serve("--curve-secret-key-file", join(dir, "server.key"));
    const trusted = await runCli("call", "add", "5", "6", "--req", rep, "--sub", pub, "--curve-server-key-file", join(dir, "server.pub"));
    expect(trusted).toMatchObject({ code: 0, stdout: ["11"] });
    const anonymous = await runCli("call", "add", "5", "6", "--req", rep, "--sub", pub);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr[0]).toMatch(/^Error: UNAUTHENTICATED: .*requires CURVE/);
  });

  it.each(["0644", "0640", "0604"])("refuses a secret key file with mode %s, saying which chmod to run", async (shown) => {
    const mode = Number.parseInt(shown, 8);
    const dir = tempDir();
    const path = join(dir, "server.key");
    writeFileSync(path, `${(await generateCurveKeyPair()).secretKey}\n`);
    chmodSync(path, mode);
    const { rep, pub } = await addresses("tcp");
    const result = await runCli("serve", "--demo", "--rep", rep, "--pub", pub, "--curve-secret-key-file", path);
    expect(result.code).toBe(2);
    expect(result.stdout).toEqual([]);
    expect(result.stderr[0]).toBe(
      `--curve-secret-key-file ${path} is open to other users (mode ${shown}): a secret key must be readable by its owner only; run chmod 600 ${path}`,
    );
  });

  it("takes the secret key from TRADEWIRE_CURVE_SECRET_KEY and a server key starting with - in either flag form", async () => {
    const keys = await pairWithDashedPublicKey();
    const { rep, pub } = await addresses("tcp");
    const server = cliWithEnv({ TRADEWIRE_CURVE_SECRET_KEY: keys.secretKey }, "serve", "--demo", "--rep", rep, "--pub", pub);
    await server.line(/^RPC service started: .*\(CURVE\)/);
    const spaced = await runCli("call", "add", "5", "6", "--curve-server-key", keys.publicKey, "--req", rep, "--sub", pub);
    expect(spaced).toMatchObject({ code: 0, stdout: ["11"] });
    const joined = await runCli("call", "add", "1", "2", `--curve-server-key=${keys.publicKey}`, `--req=${rep}`, `--sub=${pub}`);
    expect(joined).toMatchObject({ code: 0, stdout: ["3"] });
  });

  it("reads negative numbers as arguments, and every word after --", async () => {
    const { rep, pub } = await serve();
    expect(await runCli("call", "add", "-1", "-2.5", "--req", rep, "--sub", pub)).toMatchObject({ code: 0, stdout: ["-3.5"] });
    expect(await runCli("call", "echo", "--req", rep, "--sub", pub, "--", "-x")).toMatchObject({ code: 0, stdout: ['"-x"'] });
  });

  it("says the folder of an ipc address is missing, once, exit 1", async () => {
    const folder = join(tempDir(), "missing");
    const rep = `ipc://${join(folder, "rep.sock")}`;
    const { pub } = await addresses("tcp");
    const result = await runCli("serve", "--demo", "--rep", rep, "--pub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr.filter((line) => line.length > 0)).toEqual([`Error: Cannot bind ${rep}: the folder ${folder} does not exist`]);
  });

  it("ls lists what a server serves, with arguments named from its schemas", async () => {
    const { rep, pub } = await addresses("tcp");
    const server = cli("serve", "--rep", rep, "--pub", pub);
    await server.line(/^RPC service started/);
    const listed = await runCli("ls", "--req", rep, "--sub", pub);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("getAllContracts()");
    expect(listed.stdout).toContainEqual(expect.stringMatching(/^sendOrder\(req: \{symbol, exchange, direction, type, volume, price\?, offset\?, reference\?\}, gatewayName/));
    expect(listed.stdout.some((line) => line.startsWith("$tw."))).toBe(false);
    const json = await runCli("ls", "--json", "--req", rep, "--sub", pub);
    const sendOrder = json.stdout.map((line) => JSON.parse(line) as { name: string; input?: { prefixItems?: unknown[] } }).find((f) => f.name === "sendOrder");
    expect(sendOrder?.input?.prefixItems).toHaveLength(2);
    // A VeighNa name is answered with the nearest of ours.
    const vnpyName = await runCli("call", "get_all_contracts", "--req", rep, "--sub", pub);
    expect(vnpyName.code).toBe(1);
    expect(vnpyName.stderr[0]).toBe('Error: NOT_FOUND: No function named "get_all_contracts": did you mean "getAllContracts"?');
  });

  it("call --stream prints one JSON line per item", async () => {
    const { rep, pub } = await serve();
    const streamed = await runCli("call", "echo", '[1,{"a":2},"three"]', "--stream", "--req", rep, "--sub", pub);
    expect(streamed).toMatchObject({ code: 0, stdout: ["1", '{"a":2}', '"three"'] });
    const whole = await runCli("call", "echo", '[1,{"a":2},"three"]', "--req", rep, "--sub", pub);
    expect(whole).toMatchObject({ code: 0, stdout: ['[1,{"a":2},"three"]'] });
  });

  it("the demo's sleep refuses more than the longest timer, with no TimeoutOverflowWarning", async () => {
    const { child, rep, pub } = await serve();
    const result = await runCli("call", "sleep", "1e12", "--req", rep, "--sub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toBe("Error: INVALID_ARGUMENT: sleep takes at most 2147483647 ms (about 24.8 days), got 1000000000000");
    child.process.kill("SIGINT");
    expect((await child.exited).code).toBe(0);
    expect(child.stderr.join("\n")).not.toMatch(/TimeoutOverflowWarning/);
  });

  // The server's side of this limit (a foreign client sending 1M arguments) is in test/core/budgets.test.ts.
  it("refuses a call with 5 000 arguments with INVALID_ARGUMENT (maxArgs 1024), not a stack overflow", async () => {
    const { rep, pub } = await serve();
    const result = await runCli("call", "echo", ...new Array<string>(5_000).fill("0"), "--req", rep, "--sub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr[0]).toMatch(/^Error: INVALID_ARGUMENT: Too many arguments/);
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
