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

describe("closing reservations on a NET position", () => {
  const NET = { netPosition: true, marginRate: 1 } as const;

  /** Money before marking to market never goes below what is frozen, at any account event. */
  function neverOverdrawn(s: Setup, name: string): void {
    for (const e of s.events) {
      if (e.type !== `eAccount.${name}.${name}`) continue;
      const acc = e.data as AccountData;
      expect(acc.balance - acc.holdingProfit - acc.frozen, JSON.stringify(acc)).toBeGreaterThanOrEqual(-0.01);
    }
  }

  /**
   * Long 1 at 100; Y (sell at `above`) reserves that lot for closing and holds nothing; X (sell at
   * 99) holds an opening lot's margin, then fills first and closes the lot Y had reserved.
   */
  async function stolenReservation(balance: number, above: number) {
    const s = await setup({ spec: NET, balance });
    const A = s.gateways.A!;
    s.market(BOOK);
    s.send(A, { offset: "NONE", price: 100, volume: 1 });
    s.market(BOOK);
    const y = s.send(A, { offset: "NONE", direction: "SHORT", price: above, volume: 1 });
    const x = s.send(A, { offset: "NONE", direction: "SHORT", price: 99, volume: 1 });
    expect(account(s, "A").frozen).toBe(1000 + 990);
    s.market(BOOK);
    expect(s.order(x).status).toBe("ALLTRADED");
    expect(s.order(y).status).toBe("NOTTRADED");
    expect(position(s, "A", "NET")).toMatchObject({ volume: 0, frozen: 0 });
    return { s, A, y };
  }

  it("holds margin for a resting order once another order closed the lots it had reserved", async () => {
    const { s, A, y } = await stolenReservation(2000, 105);
    // Y now opens a short: its margin at 105 is held, so only 1990 − 1050 is free for another short.
    expect(account(s, "A")).toMatchObject({ balance: 1990, margin: 0, frozen: 1050, available: 940 });
    const z = s.send(A, { offset: "NONE", direction: "SHORT", price: 99, volume: 1 });
    expect(s.order(z)).toMatchObject({ status: "REJECTED" });
    expect(s.order(z).statusMsg).toMatch(/Insufficient funds/);
    s.market({ bids: [[105, 50]], asks: [[106, 50]] });
    expect(s.order(y).status).toBe("ALLTRADED");
    expect(position(s, "A", "NET").volume).toBe(-1);
    expect(account(s, "A")).toMatchObject({ margin: 1050, frozen: 1050 });
    neverOverdrawn(s, "A");
  });

  it("cancels a resting order that the market fills but whose opening lots the account cannot pay for", async () => {
    const { s, y } = await stolenReservation(1990, 200);
    // Y's lot now opens at 200 (margin 2000) and only 1980 is left: none of it may fill.
    expect(account(s, "A").available).toBeGreaterThanOrEqual(0);
    s.market({ bids: [[200, 50]], asks: [[201, 50]] });
    expect(s.order(y)).toMatchObject({ status: "CANCELLED", traded: 0, statusMsg: "Insufficient funds: the remainder was cancelled" });
    expect(position(s, "A", "NET").volume).toBe(0);
    expect(account(s, "A")).toMatchObject({ balance: 1980, frozen: 0, available: 1980 });
    neverOverdrawn(s, "A");
  });

  it("cancels a resting order that another account's order hits but whose lots the account cannot pay for", async () => {
    // Y's lot opens at 199 (margin 1990) and 1980 is left; B can just pay for a lot at 199.
    const { s, y } = await stolenReservation(1990, 199);
    const B = s.gateways.B!;
    const buy = s.send(B, { offset: "NONE", price: 199, volume: 1 });
    s.market({ bids: [], asks: [[199, 50]] });
    // A's order is first at 199; it is cancelled, and B takes the synthetic ask behind it.
    expect(s.order(y)).toMatchObject({ status: "CANCELLED", traded: 0, statusMsg: "Insufficient funds: the remainder was cancelled" });
    expect(s.order(buy).status).toBe("ALLTRADED");
    expect(s.trades(buy)).toEqual([expect.objectContaining({ price: 199, volume: 1 })]);
    expect(s.trades(y)).toEqual([]);
    expect(account(s, "A")).toMatchObject({ balance: 1980, frozen: 0 });
    neverOverdrawn(s, "A");
  });
});
