/**
 * The playground in a real browser: the built page, served on a free port, driven in Debian's
 * Chromium. One page for the whole file; tests run in order and build on each other's state
 * (an order sent, then cancelled, then the link cut and restored).
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

/** The text of one cell of the book: row 0..4 asks (ask 5 first), 5..9 bids (bid 1 first). */
async function bookPrice(row: number): Promise<number> {
  await page.waitForFunction((r) => Number(document.querySelectorAll<HTMLTableRowElement>(".book tbody tr")[r]?.dataset["price"]) > 0, row);
  return page.evaluate((r) => Number(document.querySelectorAll<HTMLTableRowElement>(".book tbody tr")[r]!.dataset["price"]), row);
}

/** The ticket's price step is the contract's price tick. */
async function priceTick(): Promise<number> {
  const step = Number(await page.getAttribute("#ticket-price", "step"));
  expect(step).toBeGreaterThan(0);
  return step;
}

function onTick(price: number, tick: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(tick) + 1e-9));
  return (Math.round(price / tick) * tick).toFixed(decimals);
}

/** A LONG limit 10% under bid 5 (it rests), then cancelled from its button; resolves with its id once CANCELLED. */
async function placeAndCancelFarOrder(): Promise<string> {
  const tick = await priceTick();
  const bid = await bookPrice(5);
  const vtOrderId = await sendFromTicket({ direction: "LONG", offset: "OPEN", type: "LIMIT", price: onTick(bid * 0.9, tick), volume: "1" });
  const cancel = page.locator(`.orders button.cancel[data-order="${vtOrderId}"]`);
  await cancel.waitFor({ state: "visible" });
  await cancel.click();
  await page.waitForFunction((id) => document.querySelector(".ticket-result")?.textContent?.startsWith(`${id} CANCELLED`), vtOrderId);
  return vtOrderId;
}

async function sendFromTicket(order: { direction: "LONG" | "SHORT"; offset: string; type: string; price: string; volume: string }): Promise<string> {
  await page.selectOption("#ticket-direction", order.direction);
  await page.selectOption("#ticket-offset", order.offset);
  await page.selectOption("#ticket-type", order.type);
  await page.fill("#ticket-price", order.price);
  await page.fill("#ticket-volume", order.volume);
  await page.focus("#ticket-volume");
  const before = await page.textContent(".ticket-result");
  await page.keyboard.press("Enter");
  // The result line names the order once sendOrder has replied: "RPC.3 NOTTRADED 0/1".
  await page.waitForFunction((previous) => {
    const text = document.querySelector(".ticket-result")?.textContent ?? "";
    return text !== previous && /^RPC\.\d+ /.test(text);
  }, before);
  const text = (await page.textContent(".ticket-result")) ?? "";
  return text.split(" ")[0]!;
}

/** Frames recorded so far, as the wire log's footer counts them. */
async function recorded(): Promise<number> {
  return Number(/(\d+) frames recorded/.exec((await page.textContent(".wire-count")) ?? "")?.[1]);
}

/** Run `code` in the Learn panel (opened if need be) and return what it printed, once it is done. */
async function runInLearn(code: string): Promise<string> {
  if (await page.isHidden("#learn")) await page.click("#learn-toggle");
  await page.click('#learn button:text-is("Clear")');
  await page.fill("#learn-code", code);
  await page.click('#learn button:text-is("Run")');
  await page.waitForFunction(() => /— (done|stopped)$|^Error: /m.test(document.querySelector(".learn-output")?.textContent ?? ""));
  return (await page.textContent(".learn-output")) ?? "";
}

/** The server's own view of the visitor's account, asked by a Learn snippet, against the Trade panel's. */
async function expectTradePanelToMatchServer(): Promise<void> {
  const output = await runInLearn(`const mine = (x) => x.gatewayName === gatewayName;
const trades = (await client.call("getAllTrades")).filter(mine).length;
const positions = (await client.call("getAllPositions"))
  .filter((p) => mine(p) && p.volume !== 0)
  .map((p) => p.symbol + " " + p.direction + " " + p.volume).sort();
const active = (await client.call("getAllActiveOrders")).filter(mine).length;
print("SERVER " + JSON.stringify({ trades, positions, active }));`);
  await page.keyboard.press("Escape");
  const line = output.split("\n").find((l) => l.startsWith("SERVER "));
  expect(line, output).toBeDefined();
  const server = JSON.parse(line!.slice("SERVER ".length)) as { trades: number; positions: string[]; active: number };
  const shown = await page.evaluate(() => ({
    trades: Number(document.querySelector("#trades-title .count")?.textContent),
    positions: [...document.querySelectorAll<HTMLTableRowElement>(".positions tbody tr:not(.empty)")]
      .map((row) => `${row.cells[0]?.textContent} ${row.cells[1]?.textContent} ${row.cells[2]?.textContent}`)
      .sort(),
    active: Number(document.querySelector("#orders-title .count")?.textContent),
  }));
  expect(shown).toEqual(server);
}

describe("playground in Chromium", () => {
  it("loads with no console errors and connects to the worker", async () => {
    await page.waitForSelector('#status[data-state="connected"]');
    expect(await page.textContent("#status-text")).toBe("connected");
    await page.waitForSelector("#ticket-symbol option", { state: "attached" });
    expect(playground.errors).toEqual([]);
  });

  it("streams ticks into the book and the wire log", async () => {
    expect(await bookPrice(4)).toBeGreaterThan(0); // ask 1
    expect(await bookPrice(5)).toBeGreaterThan(0); // bid 1
    // One snapshot of the book, read in one go: asks above bids, each side sorted.
    const book = await page.evaluate(() => [...document.querySelectorAll<HTMLTableRowElement>(".book tbody tr")].map((row) => Number(row.dataset["price"])));
    const asks = book.slice(0, 5).filter((p) => p > 0);
    const bids = book.slice(5).filter((p) => p > 0);
    expect(asks.length).toBeGreaterThan(0);
    expect(bids.length).toBeGreaterThan(0);
    expect(Math.min(...asks)).toBeGreaterThan(Math.max(...bids));
    expect(asks).toEqual([...asks].sort((a, b) => b - a));
    expect(bids).toEqual([...bids].sort((a, b) => b - a));
    const newestSeq = () => page.evaluate(() => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent));
    const first = await newestSeq();
    await page.waitForFunction((seq) => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent) > seq, first);
    // Ticks start collapsed: a run of them is one row that counts them.
    await page.waitForFunction(() => /\b\d+ eTick\. \w+/.test(document.querySelector(".wire-table tbody tr.run:not(.empty) td:nth-child(5)")?.textContent ?? ""));
  });

  it("does not shift the layout while ticks stream", async () => {
    await page.evaluate(() => {
      const state = globalThis as unknown as { layoutShift: number };
      state.layoutShift = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) state.layoutShift += (entry as PerformanceEntry & { value: number }).value;
      }).observe({ type: "layout-shift" });
    });
    const newestSeq = () => page.evaluate(() => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent));
    const start = await newestSeq();
    // A hundred frames (ticks from every instrument, heartbeats) rendered while we watch.
    await page.waitForFunction((seq) => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent) >= seq + 100, start);
    expect(await page.evaluate(() => (globalThis as unknown as { layoutShift: number }).layoutShift)).toBe(0);
  });

  it("starts the wire log with calls and events shown, ticks counted, and a filter whose hint is read whole", async () => {
    const checked = await page.evaluate(() =>
      Object.fromEntries(["calls", "orders", "events", "ticks", "heartbeats"].map((k) => [k, (document.querySelector(`input[name="kind-${k}"]`) as HTMLInputElement).checked])),
    );
    expect(checked).toEqual({ calls: true, orders: true, events: false, ticks: false, heartbeats: false });
    const rows = await page.locator(".wire-table tbody tr:not(.empty)").evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent ?? "")));
    expect(rows.some((cells) => cells[3] === "event" && cells[4]!.startsWith("eTick."))).toBe(false);
    const fits = await page.$eval('input[name="wire-filter"]', (element) => {
      const input = element as HTMLInputElement;
      const style = getComputedStyle(input);
      const context = document.createElement("canvas").getContext("2d")!;
      context.font = `${style.fontSize} ${style.fontFamily}`;
      const room = input.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
      return { text: input.placeholder, width: context.measureText(input.placeholder).width, room };
    });
    expect(fits.width, `"${fits.text}" is ${fits.width.toFixed(0)} px in ${fits.room} px`).toBeLessThanOrEqual(fits.room);
    // Ticking "ticks" lists them one by one.
    await page.check('input[name="kind-ticks"]');
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLTableRowElement>(".wire-table tbody tr:not(.empty)")].some((tr) => tr.cells[3]?.textContent === "event" && tr.cells[4]?.textContent?.startsWith("eTick.")),
    );
    await page.uncheck('input[name="kind-ticks"]');
  });

  it("has a labelled ticket in tab order", async () => {
    for (const label of ["Instrument", "Direction", "Offset", "Type", "Price", "Volume"]) {
      expect(await page.locator("form.ticket-form").getByLabel(label, { exact: true }).count()).toBe(1);
    }
    await page.focus("#ticket-symbol");
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || ""));
    }
    expect(order).toEqual(["ticket-direction", "ticket-offset", "ticket-type", "ticket-price", "ticket-volume", "Send order"]);
  });

  it("fills a marketable order from the ticket and shows it in trades and positions", async () => {
    const symbol = (await page.inputValue("#ticket-symbol")).split(".")[0]!;
    const tick = await priceTick();
    const ask = await bookPrice(4);
    const vtOrderId = await sendFromTicket({ direction: "LONG", offset: "OPEN", type: "LIMIT", price: onTick(ask + 20 * tick, tick), volume: "1" });
    await page.waitForFunction((id) => document.querySelector(".ticket-result")?.textContent?.startsWith(`${id} ALLTRADED 1/1`), vtOrderId);
    await page.waitForFunction(
      (s) => [...document.querySelectorAll(".trades tbody tr:not(.empty)")].some((row) => row.textContent?.includes(s) && row.textContent.includes("LONG OPEN")),
      symbol,
    );
    await page.waitForFunction(
      (s) =>
        [...document.querySelectorAll<HTMLTableRowElement>(".positions tbody tr:not(.empty)")].some(
          (row) => row.cells[0]?.textContent === s && row.cells[1]?.textContent === "LONG" && Number(row.cells[2]?.textContent) >= 1,
        ),
      symbol,
    );
    expect(Number(await page.textContent("#trades-title .count"))).toBeGreaterThanOrEqual(1);

    // Where RPC.n meets SIM.n: said once, under the ticket.
    const n = vtOrderId.split(".")[1]!;
    expect(await page.textContent(".id-note")).toContain(`RPC.${n} here = SIM.${n} on the wire (eOrder.SIM.${n})`);

    // The position is marked to market: its P&L and the account's move with the price, no trade needed.
    await page.waitForFunction(
      (s) => {
        const row = [...document.querySelectorAll<HTMLTableRowElement>(".positions tbody tr:not(.empty)")].find((r) => r.cells[0]?.textContent === s && r.cells[1]?.textContent === "LONG");
        const pnl = row?.cells[5]?.textContent;
        return pnl !== undefined && pnl !== "0.00" && pnl !== "–";
      },
      symbol,
      { timeout: 30_000 },
    );
    await page.waitForFunction(() => !["0.00", "–"].includes(document.querySelectorAll(".account dd")[4]?.textContent ?? "–"));

    // The call stays in view of the wire log while ticks go on streaming (they are counted, not listed).
    const since = await recorded();
    await page.waitForFunction((n0) => Number(/(\d+) frames recorded/.exec(document.querySelector(".wire-count")?.textContent ?? "")?.[1]) >= n0 + 60, since);
    const inView = await page.evaluate(() => {
      const box = document.querySelector(".wire-scroll")!.getBoundingClientRect();
      const row = [...document.querySelectorAll<HTMLTableRowElement>(".wire-table tbody tr:not(.empty)")].find((tr) => tr.cells[4]?.textContent?.startsWith("sendOrder#"));
      const r = row?.getBoundingClientRect();
      return r !== undefined && r.top >= box.top && r.bottom <= box.bottom;
    });
    expect(inView).toBe(true);
  });

  it("cancels a resting limit order far from the market", async () => {
    const vtOrderId = await placeAndCancelFarOrder();
    await page.waitForFunction((id) => !document.querySelector(`.orders tr:not(.empty) button.cancel[data-order="${id}"]`), vtOrderId);
  });

  it("logs requests and their replies with size and round-trip time", async () => {
    await page.fill('input[name="wire-filter"]', "sendOrder");
    // Drawn on the next frame: wait until only sendOrder frames are listed, requests and results.
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll<HTMLTableRowElement>(".wire-table tbody tr:not(.empty)")];
      const kinds = rows.map((row) => row.cells[3]?.textContent);
      return rows.every((row) => row.cells[4]?.textContent?.startsWith("sendOrder#")) && kinds.includes("request") && kinds.includes("result");
    });
    const rows = await page.locator(".wire-table tbody tr:not(.empty)").evaluateAll((trs) =>
      trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((cell) => cell.textContent ?? "")),
    );
    const reply = rows.find((cells) => cells[3] === "result")!;
    expect(reply[4]).toMatch(/^sendOrder#\d+$/);
    expect(reply[5]).toMatch(/^\d+ B$/);
    expect(reply[6]).toMatch(/^\d+\.\d ms$/);
    const request = rows.find((cells) => cells[3] === "request")!;
    expect(request[2]).toBe("→");
    expect(Number(request[5]!.split(" ")[0])).toBeGreaterThan(0);
    // The sequence view follows the last call.
    expect(await page.textContent(".seq-caption")).toMatch(/sendOrder|cancelOrder/);
    // An order event names the server's id; its detail ties it to the Trade panel's.
    await page.fill('input[name="wire-filter"]', "eOrder.SIM.");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll<HTMLTableRowElement>(".wire-table tbody tr:not(.empty)")];
      return rows.length > 0 && rows.every((row) => row.cells[4]?.textContent?.startsWith("eOrder.SIM."));
    });
    const topic = (await page.textContent(".wire-table tbody tr:not(.empty) td:nth-child(5)"))!;
    const n = topic.slice("eOrder.SIM.".length);
    await page.click(".wire-table tbody tr:not(.empty)");
    expect(await page.textContent(".frame-detail")).toContain(`Order SIM.${n} here is RPC.${n} in the Trade panel`);
    await page.fill('input[name="wire-filter"]', "");
  });

  /** Move a range input as a drag would: set the value, fire `input`. */
  const setSlider = (id: string, value: number) =>
    page.$eval(
      `#${id}`,
      (input, v) => {
        (input as HTMLInputElement).value = String(v);
        input.dispatchEvent(new Event("input", { bubbles: true }));
      },
      value,
    );
  const dropped = async () => Number(/(\d+) dropped/.exec((await page.textContent(".fault-stats")) ?? "")?.[1]);

  it("drops frames at the loss slider's rate", async () => {
    const before = await dropped();
    await setSlider("loss", 50);
    await page.waitForFunction(() => document.querySelector('output[for="loss"]')?.textContent === "50 %");
    await page.waitForFunction((n) => Number(/(\d+) dropped/.exec(document.querySelector(".fault-stats")?.textContent ?? "")?.[1]) >= n + 10, before);
    await setSlider("loss", 0);
    await page.waitForFunction(() => document.querySelector('output[for="loss"]')?.textContent === "0 %");
    // Three heartbeats lost in a row would have cut the link: it is back once they flow again.
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });
  });

  it("marks lost events in the wire log, shows a banner until the gateway has reloaded, and ends as the server is", async () => {
    await setSlider("loss", 50);
    await page.waitForFunction(() => document.querySelector('output[for="loss"]')?.textContent === "50 %");
    // A marketable order while events are being lost: whatever reached the page, its trade and
    // position must be there once the reload is done. (The reply may be lost: a timeout, then.)
    const tick = await priceTick();
    const ask = await bookPrice(4);
    await page.selectOption("#ticket-direction", "LONG");
    await page.selectOption("#ticket-offset", "OPEN");
    await page.selectOption("#ticket-type", "LIMIT");
    await page.fill("#ticket-price", onTick(ask + 20 * tick, tick));
    await page.fill("#ticket-volume", "1");
    await page.focus("#ticket-volume");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => !/^Sending/.test(document.querySelector(".ticket-result")?.textContent ?? ""), undefined, { timeout: 20_000 });

    const marker = page.locator(".wire-table tbody tr.marker:not(.empty)").first();
    await marker.waitFor({ timeout: 30_000 });
    expect(await marker.locator("td:nth-child(4)").textContent()).toMatch(/^(gap|restart)$/);
    expect(await marker.locator("td:nth-child(5)").textContent()).toMatch(/ (\d+|\?) lost\b|^server restarted/);
    await page.waitForSelector("#reload-banner:not([hidden])", { timeout: 30_000 });
    expect(await page.textContent("#reload-banner")).toMatch(/: reloading orders, trades, positions and account…$/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "gap-banner-1280x800.png") });

    await setSlider("loss", 0);
    await page.waitForFunction(() => document.querySelector('output[for="loss"]')?.textContent === "0 %");
    await page.waitForSelector("#reload-banner", { state: "hidden", timeout: 45_000 });
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });
    await expectTradePanelToMatchServer();
  }, 120_000);

  it("delays requests and replies by the latency slider, both ways", async () => {
    const setLatency = (ms: number) => setSlider("latency", ms);
    await setLatency(300);
    await page.waitForFunction(() => document.querySelector('output[for="latency"]')?.textContent === "300 ms");
    await page.fill('input[name="wire-filter"]', "cancelOrder");
    const vtOrderId = await placeAndCancelFarOrder();
    const rtt = await page.evaluate(() => {
      const row = [...document.querySelectorAll<HTMLTableRowElement>(".wire-table tbody tr:not(.empty)")].find((tr) => tr.cells[3]?.textContent === "result");
      return Number.parseFloat(row?.cells[6]?.textContent ?? "NaN");
    });
    // 300 ms out to the worker and 300 ms back, at least.
    expect(rtt).toBeGreaterThanOrEqual(600);
    await setLatency(0);
    await page.fill('input[name="wire-filter"]', "");
  });

  it("shows the heartbeat loss when disconnected, and the recovery", async () => {
    await page.click("label.switch");
    expect(await page.isChecked("#disconnect")).toBe(true);
    await page.waitForSelector('#status[data-state="disconnected"]', { timeout: 10_000 });
    expect(await page.textContent("#status-text")).toMatch(/^disconnected \(no heartbeat/);
    // A call while down fails at once with UNAVAILABLE instead of hanging.
    await page.fill("#ticket-volume", "1");
    await page.focus("#ticket-volume");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => /^Not sent: .*UNAVAILABLE.*Not connected/.test(document.querySelector(".ticket-result")?.textContent ?? ""));
    // The market shows the last data received, dimmed and labelled stale.
    expect(await page.isVisible(".market.stale .stale-badge")).toBe(true);
    // The long status line does not widen the page.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, "disconnected-1280x800.png") });
    await page.click("label.switch");
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 10_000 });
    // Back: the failure of the link is no longer news, and the market is live again.
    await page.waitForFunction(() => !/^Not sent/.test(document.querySelector(".ticket-result")?.textContent ?? ""));
    await page.waitForSelector(".market:not(.stale)");
    expect(await page.isHidden(".stale-badge")).toBe(true);
    // Ticks flow again after the client resubscribed.
    const seq = await page.evaluate(() => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent));
    await page.waitForFunction((s) => Number(document.querySelector(".wire-table tbody tr:not(.empty) td")?.textContent) > s, seq);
  });

  it("runs a Learn snippet against the live server", async () => {
    await page.click("#learn-toggle");
    await page.waitForSelector("#learn:not([hidden])");
    await page.click('#learn [data-snippet="call"]');
    await page.click('#learn button:text-is("Run")');
    await page.waitForFunction(() => /NOT_FOUND/.test(document.querySelector(".learn-output")?.textContent ?? ""));
    const output = (await page.textContent(".learn-output")) ?? "";
    expect(output).toContain(await page.inputValue("#ticket-symbol"));
    expect(output).toMatch(/RpcError NOT_FOUND No function named "noSuchFunction"/);

    // Subscribing: five ticks of the chosen instrument, then the snippet stops itself.
    await page.click('#learn button:text-is("Clear")');
    await page.click('#learn [data-snippet="subscribe"]');
    await page.click('#learn button:text-is("Run")');
    await page.waitForFunction(() => /— done$/.test(document.querySelector(".learn-output")?.textContent ?? ""));
    const symbol = await page.inputValue("#ticket-symbol");
    const lines = ((await page.textContent(".learn-output")) ?? "").split("\n");
    expect(lines.filter((line) => line.startsWith(`eTick.${symbol} `))).toHaveLength(5);

    // Raw sendOrder names the server's gateway: the id is the server's, its events follow.
    await page.click('#learn button:text-is("Clear")');
    await page.click('#learn [data-snippet="order"]');
    await page.click('#learn button:text-is("Run")');
    await page.waitForFunction(() => /— done$/.test(document.querySelector(".learn-output")?.textContent ?? ""));
    const orderOutput = (await page.textContent(".learn-output")) ?? "";
    const sent = /^sent (SIM\.\d+)$/m.exec(orderOutput);
    expect(sent).not.toBeNull();
    expect(orderOutput).toContain(`eOrder.${sent![1]} `);

    // A strategy keeps running until Stop, which undoes what it set up.
    await page.click('#learn [data-snippet="strategy"]');
    await page.click('#learn button:text-is("Run")');
    await page.waitForFunction(() => /momentum running on/.test(document.querySelector(".learn-output")?.textContent ?? ""));
    expect(await page.isEnabled('#learn button:text-is("Stop")')).toBe(true);
    await page.click('#learn button:text-is("Stop")');
    await page.waitForFunction(() => /stopped with position -?\d+ after \d+ trades/.test(document.querySelector(".learn-output")?.textContent ?? ""));
    expect(await page.isEnabled('#learn button:text-is("Stop")')).toBe(false);
    await page.keyboard.press("Escape");
    await page.waitForSelector("#learn", { state: "hidden" });
  });

  it("takes screenshots of the main view, wide and narrow", async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "playground-1280x800.png") });
    await page.click("#learn-toggle");
    await page.screenshot({ path: join(SCREENSHOTS, "learn-1280x800.png") });
    // Wide: the Learn panel covers the Market panel, not the wire log it tells the reader to watch.
    const wideOverlap = await page.evaluate(() => {
      const learn = document.querySelector("#learn")!.getBoundingClientRect();
      const wire = document.querySelector(".wire-panel")!.getBoundingClientRect();
      return Math.max(0, Math.min(learn.right, wire.right) - Math.max(learn.left, wire.left));
    });
    expect(wideOverlap).toBe(0);
    await page.keyboard.press("Escape");
    await page.setViewportSize({ width: 420, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, "playground-420-narrow.png"), fullPage: true });
    // Narrow: the panels stack and nothing is wider than the window.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("at 420 px keeps prices whole and puts the Learn panel in the page, with its code inside its box", async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    const tick = await priceTick();
    const bid = await bookPrice(5);
    const vtOrderId = await sendFromTicket({ direction: "LONG", offset: "OPEN", type: "LIMIT", price: onTick(bid * 0.9, tick), volume: "1" });
    await page.waitForSelector(`.orders button.cancel[data-order="${vtOrderId}"]`);
    // Every price cell shows its whole text (no "399…").
    const cut = await page.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLTableCellElement>(".orders tbody tr:not(.empty) td:nth-child(4), .trades tbody tr:not(.empty) td:nth-child(5), .positions tbody tr:not(.empty) td:nth-child(5)"),
      ]
        .filter((cell) => cell.scrollWidth > cell.clientWidth)
        .map((cell) => cell.textContent),
    );
    expect(cut).toEqual([]);
    expect(await page.$$eval(".orders tbody tr:not(.empty) td:nth-child(4)", (cells) => cells.length)).toBeGreaterThan(0);

    await page.click("#learn-toggle");
    await page.waitForSelector("#learn:not([hidden])");
    const placement = await page.evaluate(() => {
      const learn = document.querySelector("#learn")!.getBoundingClientRect();
      const overlaps = [".market-panel", ".trade-panel", ".wire-panel"].filter((selector) => {
        const r = document.querySelector(selector)!.getBoundingClientRect();
        return learn.top < r.bottom && r.top < learn.bottom && learn.left < r.right && r.left < learn.right;
      });
      return { position: getComputedStyle(document.querySelector("#learn")!).position, overlaps };
    });
    expect(placement).toEqual({ position: "static", overlaps: [] });
    for (const id of ["call", "subscribe", "order", "strategy"]) {
      await page.click(`#learn [data-snippet="${id}"]`);
      const box = await page.$eval("#learn-code", (el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      expect(box.scroll, `snippet ${id}`).toBeLessThanOrEqual(box.client);
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, "learn-420-narrow.png"), fullPage: true });
    await page.locator("#learn").screenshot({ path: join(SCREENSHOTS, "learn-panel-420.png") });
    await page.locator(".trade-panel").screenshot({ path: join(SCREENSHOTS, "trade-panel-420.png") });
    await page.keyboard.press("Escape");
    await page.click(`.orders button.cancel[data-order="${vtOrderId}"]`);
    await page.waitForFunction((id) => document.querySelector(".ticket-result")?.textContent?.startsWith(`${id} CANCELLED`), vtOrderId);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("replays a seed in a fresh worker, keeping the instrument on show", async () => {
    const symbols = await page.locator("#market-symbol option").evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(symbols.length).toBeGreaterThan(1);
    const other = symbols[1]!;
    await page.selectOption("#market-symbol", other);
    await page.waitForFunction((s) => (document.querySelector("#ticket-symbol") as HTMLSelectElement).value === s, other);
    await page.fill("#seed", "7");
    await page.press("#seed", "Enter");
    await page.waitForFunction(() => new URL(location.href).searchParams.get("seed") === "7");
    await page.waitForSelector('#status[data-state="connected"]');
    await page.waitForFunction(() => document.querySelector("#trades-title .count")?.textContent === "0");
    await page.waitForFunction((s) => (document.querySelector("#market-symbol") as HTMLSelectElement).value === s, other);
    expect(await bookPrice(4)).toBeGreaterThan(0);
    // The chart draws on canvases.
    expect(await page.locator(".chart canvas").count()).toBeGreaterThan(0);
  });

  it("offers red-up colours, as Chinese futures traders read them, and remembers the choice", async () => {
    const colours = () =>
      page.evaluate(() => ({
        bid: getComputedStyle(document.querySelector(".book tr.bid td:nth-child(2)")!).color,
        ask: getComputedStyle(document.querySelector(".book tr.ask td:nth-child(2)")!).color,
        connected: getComputedStyle(document.querySelector(".status .dot")!).backgroundColor,
      }));
    const GREEN = "rgb(38, 166, 154)";
    const RED = "rgb(239, 83, 80)";
    expect(await page.inputValue("#colours")).toBe("green-up");
    expect(await colours()).toEqual({ bid: GREEN, ask: RED, connected: GREEN });
    await page.selectOption("#colours", "red-up");
    // Prices turn; what means "ok" (the connection dot) does not.
    expect(await colours()).toEqual({ bid: RED, ask: GREEN, connected: GREEN });
    await page.screenshot({ path: join(SCREENSHOTS, "red-up-1280x800.png") });
    await page.reload();
    await page.waitForSelector('body[data-ready] #status[data-state="connected"]', { timeout: 30_000 });
    expect(await page.inputValue("#colours")).toBe("red-up");
    expect(await colours()).toEqual({ bid: RED, ask: GREEN, connected: GREEN });
  });

  it("logged no console errors in the whole run", () => {
    expect(playground.errors).toEqual([]);
  });
});
