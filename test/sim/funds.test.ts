/**
 * Money checks: what an order holds, and what a fill may cost beyond it. Closing needs at most
 * its fee; a market order or a gapping stop is checked fill by fill and never overdraws.
 */
import { describe, expect, it } from "vitest";
import type { AccountData, PositionData } from "../../sim/index.ts";
import { setup } from "./helpers.ts";

type Setup = Awaited<ReturnType<typeof setup>>;

function account(s: Setup, name: string): AccountData {
  const all = s.events.filter((e) => e.type === `eAccount.${name}.${name}`);
  return all[all.length - 1]!.data as AccountData;
}

function position(s: Setup, name: string, direction: string): PositionData {
  const all = s.events.filter((e) => e.type.startsWith("ePosition.") &&
    (e.data as PositionData).gatewayName === name && (e.data as PositionData).direction === direction);
  return all[all.length - 1]!.data as PositionData;
}

const SPOT = { product: "SPOT", netPosition: true, marginRate: 1 } as const;
const BOOK = { bids: [[99, 50]] as Array<[number, number]>, asks: [[100, 50]] as Array<[number, number]> };

describe("net-position money checks", () => {
  it("lets an account that spent all its cash sell what it holds", async () => {
    const s = await setup({ spec: SPOT, balance: 1000 });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { offset: "NONE", price: 100, volume: 1 });
    s.market(BOOK);
    expect(account(s, "A")).toMatchObject({ margin: 1000, available: 0 });
    const sell = s.send(A, { offset: "NONE", direction: "SHORT", price: 99, volume: 1 });
    expect(s.order(sell).status).toBe("SUBMITTING");
    expect(position(s, "A", "NET")).toMatchObject({ volume: 1, frozen: 1 });
    s.market(BOOK);
    expect(s.order(sell).status).toBe("ALLTRADED");
    expect(account(s, "A")).toMatchObject({ margin: 0, balance: 990, available: 990 });
  });

  it("charges margin only for the part that grows the position, and fee for the part that closes", async () => {
    const s = await setup({ spec: { ...SPOT, commissionRate: 0.01 }, balance: 10_000 });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { offset: "NONE", price: 100, volume: 2 }); // 2000 + fee 20
    s.market(BOOK);
    const before = account(s, "A");
    expect(before.commission).toBe(20);
    // Sell 5 at 100: 2 close (fee 10 each), 3 open short (margin 1000 + fee 10 each).
    s.send(A, { offset: "NONE", direction: "SHORT", price: 100, volume: 5 });
    expect(account(s, "A").frozen - before.frozen).toBeCloseTo(2 * 10 + 3 * 1010, 6);
    // A second sell finds nothing left to close: all of it is opening.
    s.send(A, { offset: "NONE", direction: "SHORT", price: 100, volume: 1 });
    expect(account(s, "A").frozen - before.frozen).toBeCloseTo(2 * 10 + 4 * 1010, 6);
    expect(position(s, "A", "NET").frozen).toBe(2);
  });

  it("gives back the closing reservation on cancel", async () => {
    const s = await setup({ spec: SPOT, balance: 1000 });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { offset: "NONE", price: 100, volume: 1 });
    s.market(BOOK);
    const sell = s.send(A, { offset: "NONE", direction: "SHORT", price: 200, volume: 1 });
    s.market(BOOK);
    expect(s.order(sell).status).toBe("NOTTRADED");
    await A.cancelOrder({ orderid: sell.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(position(s, "A", "NET")).toMatchObject({ volume: 1, frozen: 0 });
    const again = s.send(A, { offset: "NONE", direction: "SHORT", price: 99, volume: 1 });
    expect(s.order(again).status).toBe("SUBMITTING");
  });
});

describe("fill-time money checks", () => {
  it("cancels the rest of a market order that walks deeper than its money reaches", async () => {
    const s = await setup({ spec: { marginRate: 1 }, balance: 10_000 });
    const A = s.gateways.A!;
    s.market({ bids: [[99, 50]], asks: [[100, 10]] });
    const id = s.send(A, { type: "MARKET", price: 0, volume: 10 }); // held at 100: all 10 000
    expect(s.order(id).status).toBe("SUBMITTING");
    s.market({ bids: [[99, 50]], asks: [[100, 1], [120, 2], [150, 20]] });
    // 1 × 1000 + 2 × 1200 + 4 × 1500 = 9400 of 10 000; a fifth lot at 150 would overdraw.
    expect(s.order(id)).toMatchObject({ status: "CANCELLED", traded: 7 });
    expect(s.order(id).statusMsg).toMatch(/Insufficient funds/);
    const acc = account(s, "A");
    expect(acc.margin).toBe(9400);
    expect(acc.frozen).toBe(9400);
    expect(acc.available).toBeGreaterThanOrEqual(0);
  });

  it("cancels the rest of a stop that gaps beyond its money", async () => {
    const s = await setup({ spec: { marginRate: 1 }, balance: 10_000 });
    const A = s.gateways.A!;
    s.market({ bids: [[99, 50]], asks: [[100, 10]] });
    const id = s.send(A, { type: "STOP", price: 100, volume: 10 });
    s.market({ bids: [[99, 50]], asks: [[100, 10]], last: 99 });
    s.market({ bids: [[199, 50]], asks: [[200, 50]], last: 200 });
    expect(s.order(id)).toMatchObject({ status: "CANCELLED", traded: 5 });
    expect(s.order(id).statusMsg).toMatch(/Insufficient funds/);
    expect(account(s, "A")).toMatchObject({ margin: 10_000, frozen: 10_000, available: 0 });
  });

  it("holds a closing order's fee, and checks a deeper close's fee against it", async () => {
    const s = await setup({ spec: { marginRate: 1, commissionRate: 0.01 }, balance: 1010 });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { price: 100, volume: 1 }); // margin 1000, fee 10: nothing left
    s.market(BOOK);
    expect(account(s, "A").available).toBe(0);
    // Closing needs its fee (9.9 at 99): refused with nothing free.
    const close = s.send(A, { direction: "SHORT", offset: "CLOSE", type: "MARKET", price: 0, volume: 1 });
    expect(s.order(close)).toMatchObject({ status: "REJECTED" });
    expect(s.order(close).statusMsg).toMatch(/Insufficient funds: needs 9.9/);
  });

  it("lets a fee-less close through whatever the balance", async () => {
    const s = await setup({ spec: { marginRate: 1 }, balance: 1000 });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { price: 100, volume: 1 });
    s.market(BOOK);
    s.market({ bids: [[50, 50]], asks: [[51, 50]] }); // marked down: available is negative
    expect(s.exchange.accountData(A.account).available).toBeLessThan(0);
    const close = s.send(A, { direction: "SHORT", offset: "CLOSE", type: "MARKET", price: 0, volume: 1 });
    s.market({ bids: [[50, 50]], asks: [[51, 50]] });
    expect(s.order(close).status).toBe("ALLTRADED");
  });
});
