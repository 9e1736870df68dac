/**
 * The playground's Backtest panel in Chromium: the MA crossover run by sim/sweep's runner in its
 * own worker through comlink, with the progress bar, charts, trades and VeighNa's statistics.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { openReadyPlayground, SCREENSHOTS, type Playground } from "./harness.ts";

let playground: Playground;
let page: Page;

beforeAll(async () => {
  playground = await openReadyPlayground();
  page = playground.page;
}, 120_000);

afterAll(async () => {
  await playground?.close();
});

describe("Backtest panel", () => {
  it("runs a short MA-crossover backtest in its worker and shows statistics, trades and charts", async () => {
    // Keyboard only: the toggle, then the form's fields and Enter.
    await page.focus("#backtest-toggle");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#backtest:not([hidden])");
    await page.selectOption("#bt-symbol", "IF2512.CFFEX");
    await page.fill("#bt-fast", "3");
    await page.fill("#bt-slow", "12");
    await page.fill("#bt-days", "1");
    await page.fill("#bt-seed", "7");
    await page.focus("#bt-seed");
    // Progress values seen by the page while it runs (the runner's callback, over comlink).
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { btProgress: number[] }).btProgress = seen;
      const bar = document.querySelector<HTMLProgressElement>("#bt-progress")!;
      new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true });
      const observe = () => {
        seen.push(bar.value);
        if (document.querySelector(".bt-body")?.getAttribute("data-state") === "running") requestAnimationFrame(observe);
      };
      requestAnimationFrame(observe);
    });
    await page.keyboard.press("Enter");
    await page.waitForSelector('.bt-body[data-state="done"], .bt-body[data-state="failed"]', { timeout: 60_000 });
    expect(await page.textContent("#bt-status")).not.toMatch(/^Failed/);

    const stat = (name: string) => page.getAttribute(`.bt-stats tr[data-stat="${name}"]`, "data-value").then(Number);
    for (const name of ["total_net_pnl", "end_balance", "max_drawdown", "sharpe_ratio", "total_return", "total_commission"]) {
      expect(Number.isFinite(await stat(name)), name).toBe(true);
    }
    expect(await stat("capital")).toBe(1_000_000);
    expect(await stat("max_drawdown")).toBeLessThanOrEqual(0);
    const tradeCount = await stat("total_trade_count");
    expect(tradeCount).toBeGreaterThan(0);
    expect(await page.locator(".bt-trades tbody tr").count()).toBe(Math.min(tradeCount, 500));
    expect(Number(await page.getAttribute("#bt-price", "data-markers"))).toBe(tradeCount);
    expect(Number(await page.getAttribute(".bt-trades", "data-total"))).toBe(tradeCount);
    // The bar moved through intermediate values before it finished.
    const progress = await page.evaluate(() => (window as unknown as { btProgress: number[] }).btProgress);
    expect(await page.getAttribute("#bt-progress", "value")).toBe("1");
    expect(progress.some((f) => f > 0 && f < 1), JSON.stringify(progress.slice(0, 20))).toBe(true);
    // Both charts drew (lightweight-charts paints canvases).
    expect(await page.locator("#bt-price canvas").count()).toBeGreaterThan(0);
    expect(await page.locator("#bt-equity canvas").count()).toBeGreaterThan(0);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "backtest-1280x800.png") });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, "backtest-420-narrow.png"), fullPage: true });
    const overflow = await page.evaluate(() => document.querySelector("#backtest")!.scrollWidth - document.querySelector("#backtest")!.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Escape closes it and gives focus back to its toggle.
    await page.keyboard.press("Escape");
    await page.waitForSelector("#backtest", { state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("backtest-toggle");
    expect(playground.errors).toEqual([]);
  });

  it("runs the edited strategy source, and says why a broken one failed", async () => {
    await page.click("#backtest-toggle");
    await page.click(".bt-code summary");
    let runs = Number(await page.getAttribute(".bt-body", "data-runs"));
    const runWith = async (source: string) => {
      await page.fill("#bt-source", source);
      await page.focus("#bt-source");
      await page.keyboard.press("Control+Enter");
      // Every run, done or failed, counts itself in data-runs when it ends.
      await page.waitForFunction((n) => Number(document.querySelector(".bt-body")?.getAttribute("data-runs")) === n, runs + 1, { timeout: 60_000 });
      runs += 1;
      return (await page.textContent("#bt-status")) ?? "";
    };
    // Buy once, on the first bar with a price: one trade.
    const status = await runWith(`export function Strategy() {
  let done = false;
  return { onBar(bar, ctx) { if (!done && ctx.lastTick) { done = true; void ctx.buy(ctx.lastTick.askPrice1 + 1, 1); } } };
}`);
    expect(status).toMatch(/ 1 trades in /);
    expect(await page.getAttribute('.bt-stats tr[data-stat="total_trade_count"]', "data-value")).toBe("1");
    expect(await page.locator(".bt-trades tbody tr").count()).toBe(1);
    expect(await page.getAttribute("#bt-price", "data-markers")).toBe("1");
    expect(await runWith("export class Strategy { constructor() { throw new Error('boom'); } }")).toBe("Failed: boom");
    expect(await page.isHidden(".bt-results")).toBe(true);
    await page.click('#backtest button:text-is("Reset source")');
    expect(await page.inputValue("#bt-source")).toContain("export class Strategy");
    await page.keyboard.press("Escape");
    expect(playground.errors).toEqual([]);
  });
});
