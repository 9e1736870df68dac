/** `tradewire backtest`: statistics on standard output, progress on standard error, an HTML report. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(ROOT, "bin/tradewire.js");
const dir = mkdtempSync(join(tmpdir(), "tradewire-backtest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "backtest", ...args], { cwd: dir }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("tradewire backtest", () => {
  it("prints the statistics, draws progress and writes a report with the charts' data", async () => {
    const r = await run([join(ROOT, "sim/ma-cross.ts"), "--symbol", "rb2601.SHFE", "--days", "0.1", "--seed", "3", "--params", '{"fast":3,"slow":8}']);
    expect(r.stderr).toContain("100%");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^First trading day\s+2025-01-02$/m);
    expect(r.stdout).toMatch(/^Sharpe ratio\s+-?[\d,.]+$/m);
    const html = readFileSync(join(dir, "backtest-report.html"), "utf8");
    expect(html).toContain("LightweightCharts");
    expect(html).toContain('"balance":[{"time"');
  });

  it("replays a CSV of recorded ticks from its first tick to its last", async () => {
    const lines = ["datetime,last_price,volume,bid_price_1,bid_volume_1,ask_price_1,ask_volume_1"];
    for (let i = 0; i < 600; i++) {
      const p = 3100 + Math.round(20 * Math.sin(i / 30));
      lines.push(`${Date.UTC(2025, 2, 3, 1, 30) + i * 30_000},${p},${i * 3},${p - 1},10,${p},10`);
    }
    writeFileSync(join(dir, "ticks.csv"), lines.join("\n"));
    const r = await run([join(ROOT, "sim/ma-cross.ts"), "--symbol", "rb2601.SHFE", "--csv", "ticks.csv", "--out", "csv.html"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^First trading day\s+2025-03-03$/m);
    expect(r.stdout).toMatch(/^Trading days\s+1$/m);
    expect(r.stdout).toMatch(/^Total trades\s+[1-9]/m);
  });

  it("refuses a bad option with the command's help", async () => {
    const r = await run([join(ROOT, "sim/ma-cross.ts"), "--rank", "nonsense"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--rank must be one of/);
    expect(r.stderr).toContain("Usage: tradewire backtest");
  });
});
