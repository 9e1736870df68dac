/**
 * VeighNa's unchanged RpcGateway + EventEngine (Python, in a child process) against
 * `tradewire serve --vnpy`: connect, query all, subscribe, an order filled with its trade event,
 * a cancel, direct calls; then hostile pickles refused while VeighNa's RpcClient is still served.
 */
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FIXTURES, freePort, noVnpy, removeTempDirs, ROOT, startChild, startPython, stopChildren, tempDir, type Child } from "./helpers.ts";

afterEach(() => stopChildren());
afterAll(() => removeTempDirs());

async function serveVnpy(): Promise<{ server: Child; vnpyRep: string; vnpyPub: string }> {
  const [a, b, c, d] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const vnpyRep = `tcp://127.0.0.1:${c}`;
  const vnpyPub = `tcp://127.0.0.1:${d}`;
  const server = startChild(process.execPath, [
    "--import", "tsx", join(ROOT, "bin/tradewire.ts"), "serve", "--vnpy",
    "--rep", `tcp://127.0.0.1:${a}`, "--pub", `tcp://127.0.0.1:${b}`, "--vnpy-rep", vnpyRep, "--vnpy-pub", vnpyPub,
  ]);
  await server.line(/^VeighNa wire: /);
  return { server, vnpyRep, vnpyPub };
}

async function steps(child: Child): Promise<Record<string, any>> {
  const code = await child.exited;
  const out: Record<string, any> = {};
  for (const line of child.lines) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as { step?: string; attack?: string };
    out[parsed.step ?? parsed.attack ?? "summary"] = parsed;
  }
  if (code !== 0) throw new Error(`Python exited ${code}\n${child.lines.join("\n")}\n${child.stderr()}`);
  return out;
}

describe.skipIf(noVnpy)(`VeighNa's RpcGateway against serve --vnpy${noVnpy ? ` (skipped: ${noVnpy})` : ""}`, () => {
  it("connects, loads everything, subscribes, fills an order with its trade event, cancels", async () => {
    const { vnpyRep, vnpyPub } = await serveVnpy();
    const s = await steps(startPython(join(FIXTURES, "vnpy_gateway.py"), [vnpyRep, vnpyPub]));
    expect(s["contracts"]).toMatchObject({ product: "FUTURES", pricetick: 0.2, size: 300 });
    expect(s["contracts"].symbols).toContain("IF2512.CFFEX");
    expect(s["accounts"]).toMatchObject({ vt_accountid: "RPC.SIM", balance: 1_000_000 });
    expect(s["tick"]).toMatchObject({ vt_symbol: "IF2512.CFFEX", tz: "Asia/Shanghai" });
    expect(s["filled"]).toMatchObject({ trade_direction: "LONG", trade_volume: 1, status: "ALLTRADED", status_value: "全部成交" });
    expect(s["filled"].vt_orderid).toMatch(/^RPC\.\w+$/);
    expect(s["position"]).toMatchObject({ direction: "LONG", volume: 1 });
    expect(s["cancelled"]).toMatchObject({ status: "CANCELLED" });
    expect(s["direct"]).toMatchObject({ contract: "ContractData", tick: "TickData" });
    expect(s["direct"].missing).toMatch(/NOT_FOUND: No function named "noSuchFunction"/);
    expect(s["logs"].logs).toContain("合约信息查询成功");
    expect(s["done"]).toBeDefined();
  }, 90_000);

  it("refuses hostile pickles with a reason, runs nothing, and goes on serving a good client", async () => {
    const { vnpyRep, vnpyPub } = await serveVnpy();
    const marker = join(tempDir(), "pwned");
    const s = await steps(startPython(join(FIXTURES, "hostile.py"), [vnpyRep, vnpyPub, marker]));
    for (const name of ["os.system", "os.system in a call", "os.system protocol 0"]) {
      expect(s[name].reply).toEqual([false, "Refused: Pickle refers to posix.system, which is not allowed"]);
    }
    expect(s["eval"].reply[1]).toMatch(/builtins\.eval, which is not allowed/);
    expect(s["unknown global"].reply[1]).toMatch(/builtins\.ValueError, which is not allowed/);
    expect(s["deep nesting"].reply[1]).toMatch(/nests deeper than 32 levels/);
    expect(s["huge claimed string"].reply[1]).toMatch(/^Refused: /);
    expect(s["huge integer"].reply[1]).toMatch(/Integer of \d+ bytes is not accepted/);
    expect(s["not a call"].reply[1]).toMatch(/must be \[name, args, kwargs\]/);
    expect(s["garbage"].reply[1]).toMatch(/^Refused: /);
    // Past the socket's message size the peer is disconnected before anything is read.
    expect(s["oversized message"].reply).toBe("no reply");
    expect(s["summary"]).toEqual({ good_calls: 11, attacks: 11, marker_exists: false });
  }, 90_000);
});
