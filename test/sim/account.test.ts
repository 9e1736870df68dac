import { describe, expect, it } from "vitest";
import type { AccountData, PositionData } from "../../sim/index.ts";
import { setup } from "./helpers.ts";

const BOOK = { bids: [[99, 50]] as Array<[number, number]>, asks: [[100, 50]] as Array<[number, number]> };

function last<T>(s: Awaited<ReturnType<typeof setup>>, prefix: string, pick: (d: T) => boolean = () => true): T {
  const all = s.events.filter((e) => e.type.startsWith(prefix)).map((e) => e.data as T).filter(pick);
  if (!all.length) throw new Error(`No ${prefix} events`);
  return all[all.length - 1]!;
}

describe("accounts and positions", () => {
  it("opens and closes a long position, realising profit and charging commission and slippage", async () => {
    const s = await setup({ spec: { commissionRate: 0.001, slippage: 0.5 } });
    const A = s.gateways.A!;
    s.send(A, { price: 100, volume: 2 });
    s.market(BOOK);
    let pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    expect(pos).toMatchObject({ volume: 2, price: 100, ydVolume: 0, frozen: 0 });
    // 2 lots × 100 × size 10: turnover 2000 → fee 2; slippage 0.5 × 10 × 2 = 10.
    let acc = last<AccountData>(s, "eAccount.A.");
    expect(acc).toMatchObject({ commission: 12, margin: 200, preBalance: 1_000_000 });
    expect(acc.balance).toBeCloseTo(1_000_000 - 12 + (100 - 100) * 20, 6);

    s.send(A, { direction: "SHORT", offset: "CLOSE", price: 105, volume: 1 });
    expect(last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG").frozen).toBe(1);
    s.market({ bids: [[105, 10]], asks: [[106, 10]], last: 105 });
    pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    expect(pos).toMatchObject({ volume: 1, frozen: 0, price: 100 });
    acc = last<AccountData>(s, "eAccount.A.");
    // Realised (105 − 100) × 1 × 10 = 50; fees 12 + 1.05 + 5.
    expect(acc.closeProfit).toBe(50);
    expect(acc.commission).toBeCloseTo(18.05, 6);
    expect(acc.holdingProfit).toBe(50);
    expect(acc.balance).toBeCloseTo(1_000_000 + 50 + 50 - 18.05, 6);
    expect(acc.available).toBeCloseTo(acc.balance - acc.frozen, 6);
  });

  it("holds money for opening orders and gives it back on cancel", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    s.market(BOOK);
    const id = s.send(A, { price: 90, volume: 3 });
    expect(last<AccountData>(s, "eAccount.A.").frozen).toBe(270);
    await A.cancelOrder({ orderid: id.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(last<AccountData>(s, "eAccount.A.")).toMatchObject({ frozen: 0, available: 1_000_000 });
  });

  it("keeps today's and yesterday's volumes and checks them for CLOSETODAY and CLOSEYESTERDAY", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    s.send(A, { price: 100, volume: 3 });
    s.market(BOOK);
    s.exchange.settle();
    s.send(A, { price: 100, volume: 2 });
    s.market(BOOK);
    let pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    expect(pos).toMatchObject({ volume: 5, ydVolume: 3 });
    const tooMuch = s.send(A, { direction: "SHORT", offset: "CLOSETODAY", price: 99, volume: 3 });
    expect(s.order(tooMuch).statusMsg).toMatch(/Insufficient position to close: 2 available/);
    s.send(A, { direction: "SHORT", offset: "CLOSEYESTERDAY", price: 99, volume: 1 });
    s.send(A, { direction: "SHORT", offset: "CLOSE", price: 99, volume: 3 });
    const over = s.send(A, { direction: "SHORT", offset: "CLOSE", price: 99, volume: 2 });
    expect(s.order(over).statusMsg).toMatch(/1 available/);
    s.market(BOOK);
    pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    // CLOSE takes yesterday's first: 1 + 2 yesterday, then 1 today.
    expect(pos).toMatchObject({ volume: 1, ydVolume: 0, frozen: 0 });
  });

  it("nets positions of net-position contracts and realises profit when crossing zero", async () => {
    const s = await setup({ spec: { netPosition: true, product: "SPOT", marginRate: 1 } });
    const A = s.gateways.A!;
    s.send(A, { offset: "NONE", price: 100, volume: 2 });
    s.market(BOOK);
    s.send(A, { offset: "NONE", direction: "SHORT", price: 99, volume: 5 });
    s.market(BOOK);
    const pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A");
    expect(pos).toMatchObject({ direction: "NET", volume: -3, price: 99 });
    expect(last<AccountData>(s, "eAccount.A.").closeProfit).toBe(-20);
  });

  it("carries what a closing order holds across the daily settlement", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    s.send(A, { price: 100, volume: 2 });
    s.market(BOOK);
    s.send(A, { direction: "SHORT", offset: "CLOSE", price: 120, volume: 2 }); // holds 2 of today's lots
    s.market(BOOK);
    s.exchange.settle();
    let pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    expect(pos).toMatchObject({ volume: 2, ydVolume: 2, frozen: 2 });
    expect(s.order(s.send(A, { direction: "SHORT", offset: "CLOSEYESTERDAY", price: 120, volume: 1 })).statusMsg)
      .toMatch(/Insufficient position to close: 0 available/);
    s.market({ bids: [[120, 5]], asks: [[121, 5]], last: 120 });
    pos = last<PositionData>(s, "ePosition.", (p) => p.gatewayName === "A" && p.direction === "LONG");
    expect(pos).toMatchObject({ volume: 0, ydVolume: 0, frozen: 0 });
  });
});
