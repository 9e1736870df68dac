/**
 * The playground on a deployment, in Chromium: real processes on loopback — `tradewire serve`
 * (the simulated exchange over ZeroMQ), `tradewire web` (a trader made with `tradewire web
 * adduser`, password on standard input) and the built playground served statically, pointed at
 * the door. The page logs in through its Exchange switch; an order sent from the page shows in
 * `tradewire call getAllOrders`, and one sent with `tradewire call sendOrder` shows in the page.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { openPlayground, SCREENSHOTS, type Playground } from "./harness.ts";
import { adduser, door, removeDirs, service, tempDir } from "../web/helpers.ts";
import { killAll, runCli, type Child } from "../zeromq/helpers.ts";

const USER = "erin";
const PASSWORD = "erin-trades-from-the-page";

interface Order {
  vtOrderId: string;
  orderid: string;
  symbol: string;
  exchange: string;
  price: number;
  status: string;
  reference: string;
}

let playground: Playground | undefined;
let page: Page;
let upstream: { child: Child; rep: string; pub: string };
let doorUrl: string;

beforeAll(async () => {
  const dir = join(tempDir(), "web");
  // The service and the build of the page first, in parallel; the door needs the page's origin.
  const [svc, made, opened] = await Promise.all([service(), adduser(dir, USER, "trader", PASSWORD, "--account", "SIM"), openPlayground()]);
  upstream = svc;
  playground = opened;
  page = opened.page;
  expect(made.code, made.stderr.join("\n")).toBe(0);
  const origin = new URL(opened.url).origin;
  doorUrl = (await door(dir, upstream, "--cors-origin", origin)).url;
  // As `npm start` prints it: the door and the user preselected, the password typed.
  await page.goto(`${opened.url}?door=${doorUrl}&user=${USER}`);
  await page.waitForSelector("#door-password", { state: "visible", timeout: 30_000 });
}, 180_000);

afterAll(async () => {
  await playground?.close();
  await killAll();
  removeDirs();
});

/** `tradewire call FN ARG… --req` against the service; the parsed JSON it printed. */
async function call<T>(fn: string, ...args: string[]): Promise<T> {
  const { code, stdout, stderr } = await runCli("call", fn, ...args, "--req", upstream.rep, "--timeout", "20000");
  expect(code, stderr.join("\n")).toBe(0);
  return JSON.parse(stdout.join("\n")) as T;
}

async function bookPrice(row: number): Promise<number> {
  await page.waitForFunction((r) => Number(document.querySelectorAll<HTMLTableRowElement>(".book tbody tr")[r]?.dataset["price"]) > 0, row, { timeout: 30_000 });
  return page.evaluate((r) => Number(document.querySelectorAll<HTMLTableRowElement>(".book tbody tr")[r]!.dataset["price"]), row);
}

/** A LONG limit 10% under bid 1 of the ticket's instrument, on the price tick: it rests. */
async function restingPrice(): Promise<string> {
  const tick = Number(await page.getAttribute("#ticket-price", "step"));
  expect(tick).toBeGreaterThan(0);
  const bid = await bookPrice(5);
  const decimals = Math.max(0, -Math.floor(Math.log10(tick) + 1e-9));
  return (Math.round((bid * 0.9) / tick) * tick).toFixed(decimals);
}

describe("the playground on a deployment (serve + web door + page)", () => {
  it("logs in to the door from the Exchange switch and connects over its WebSocket", async () => {
    expect(await page.inputValue("#transport")).toBe("deployment");
    expect(await page.inputValue("#door-url")).toBe(doorUrl);
    expect(await page.inputValue("#door-user")).toBe(USER);
    await page.fill("#door-password", PASSWORD);
    await page.click("#door-login");
    await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 60_000 });
    expect(await page.textContent("#tagline")).toContain(doorUrl);
    await page.waitForSelector("#ticket-symbol option", { state: "attached", timeout: 30_000 });
    expect(playground!.errors).toEqual([]);
  });

  it("sends an order from the page that `tradewire call getAllOrders` sees", async () => {
    const price = await restingPrice();
    await page.selectOption("#ticket-direction", "LONG");
    await page.selectOption("#ticket-offset", "OPEN");
    await page.selectOption("#ticket-type", "LIMIT");
    await page.fill("#ticket-price", price);
    await page.fill("#ticket-volume", "1");
    await page.focus("#ticket-volume");
    await page.keyboard.press("Enter");
    // "RPC.3 NOTTRADED 0/1" once sendOrder has replied and the order's event arrived.
    await page.waitForFunction(() => /^RPC\.\d+ NOTTRADED/.test(document.querySelector(".ticket-result")?.textContent ?? ""), undefined, { timeout: 30_000 });
    const pageId = ((await page.textContent(".ticket-result")) ?? "").split(" ")[0]!;
    const orderid = pageId.slice("RPC.".length);
    const orders = await call<Order[]>("getAllOrders");
    const mine = orders.find((o) => o.orderid === orderid);
    expect(mine, JSON.stringify(orders)).toBeDefined();
    expect(mine!.vtOrderId).toBe(`SIM.${orderid}`);
    expect(mine!.status).toBe("NOTTRADED");
    expect(mine!.reference).toBe("playground");
    expect(mine!.price).toBeCloseTo(Number(price), 6);
  });

  it("shows an order sent with `tradewire call sendOrder`, and cancels it from the page", async () => {
    const vtSymbol = await page.inputValue("#ticket-symbol");
    const [symbol, exchange] = [vtSymbol.slice(0, vtSymbol.lastIndexOf(".")), vtSymbol.slice(vtSymbol.lastIndexOf(".") + 1)];
    const price = Number(await restingPrice());
    const request = { symbol, exchange, direction: "LONG", offset: "OPEN", type: "LIMIT", price, volume: 2, reference: "cli" };
    const vtOrderId = await call<string>("sendOrder", JSON.stringify(request));
    expect(vtOrderId).toMatch(/^SIM\.\d+$/);
    const pageId = `RPC.${vtOrderId.slice("SIM.".length)}`;
    // The page's RpcGateway names it under its own gateway: RPC.n here is SIM.n on the wire.
    const cancel = page.locator(`.orders button.cancel[data-order="${pageId}"]`);
    await cancel.waitFor({ state: "visible", timeout: 30_000 });
    const row = page.locator(`.orders tbody tr:has(button.cancel[data-order="${pageId}"])`);
    expect(await row.locator("td").nth(4).textContent()).toBe("0/2");

    mkdirSync(SCREENSHOTS, { recursive: true });
    const shot = join(SCREENSHOTS, "deployment.png");
    await page.screenshot({ path: shot });
    console.log(`Screenshot: ${shot}`);

    await cancel.click();
    // Rows are reused: the order is gone when no cancel button names it.
    await page.waitForFunction((id) => !document.querySelector(`.orders button.cancel[data-order="${id}"]`), pageId, { timeout: 30_000 });
    const after = await call<Order>("getOrder", vtOrderId);
    expect(after.status).toBe("CANCELLED");
    expect(playground!.errors).toEqual([]);
  });
});
