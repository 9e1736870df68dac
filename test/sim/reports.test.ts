/**
 * Position and account events: one of each per changed position and account per exchange
 * operation, after that operation's order and trade events (as a gateway's pushes).
 */
import { describe, expect, it } from "vitest";
import type { AccountData, OrderData, PositionData, TradeData } from "../../sim/index.ts";
import { setup } from "./helpers.ts";

/** Each event of `gateway` as a short label, in delivery order. */
function labels(events: Array<{ type: string; data: unknown }>, gateway: string): string[] {
  const out: string[] = [];
  for (const e of events) {
    const d = e.data as { gatewayName?: string };
    if (d?.gatewayName !== gateway) continue;
    if (e.type.startsWith("eOrder.")) out.push(`order ${(d as OrderData).status} ${(d as OrderData).traded}`);
    else if (e.type.startsWith("eTrade.")) out.push(`trade ${(d as TradeData).price}`);
    else if (e.type.startsWith("ePosition.")) out.push(`position ${(d as PositionData).direction} ${(d as PositionData).volume}`);
    else if (e.type.startsWith("eAccount.")) out.push(`account ${(d as AccountData).commission}`);
  }
  return out;
}

describe("position and account reports", () => {
  it("reports a sweep of three levels as three orders and trades, then one position and one account, per side", async () => {
    const s = await setup({ spec: { commissionRate: 0.001 } });
    const { A, B } = s.gateways as { A: NonNullable<typeof s.gateways.A>; B: NonNullable<typeof s.gateways.B> };
    s.market({ bids: [[90, 5]], asks: [[110, 5]] });
    for (const price of [101, 102, 103]) s.send(B, { direction: "SHORT", price });
    s.market({ bids: [[90, 5]], asks: [[110, 5]] });
    const before = s.events.length;
    s.send(A, { price: 103, volume: 3 });
    s.market({ bids: [[90, 5]], asks: [[110, 5]] });
    const after = s.events.slice(before);
    expect(labels(after, "A")).toEqual([
      "order SUBMITTING 0", "account 0",
      "order PARTTRADED 1", "trade 101", "order PARTTRADED 2", "trade 102", "order ALLTRADED 3", "trade 103",
      "position LONG 3", "account 3.06",
    ]);
    // The makers: three orders filled in one market event, one position and one account report.
    expect(labels(after, "B")).toEqual([
      "order ALLTRADED 1", "trade 101", "order ALLTRADED 1", "trade 102", "order ALLTRADED 1", "trade 103",
      "position SHORT 3", "account 3.06",
    ]);
  });

  it("reports what changed in an operation as it stands at the end, once", async () => {
    const s = await setup();
    const A = s.gateways.A!;
    s.market({ bids: [[99, 5]], asks: [[101, 5]] });
    s.send(A, { price: 101, volume: 2 });
    s.market({ bids: [[99, 5]], asks: [[101, 5]] });
    const before = s.events.length;
    // A closing order holds position lots: its acceptance reports the position, then the account.
    const id = s.send(A, { direction: "SHORT", price: 120, volume: 2, offset: "CLOSE" });
    expect(labels(s.events.slice(before), "A")).toEqual(["order SUBMITTING 0", "position LONG 2", "account 0"]);
    const frozen = (s.events.at(-2)!.data as PositionData).frozen;
    expect(frozen).toBe(2);
    const cancelAt = s.events.length;
    A.cancelOrder({ orderid: id.split(".")[1]!, symbol: "T1", exchange: "LOCAL" });
    expect(labels(s.events.slice(cancelAt), "A")).toEqual(["order CANCELLED 0", "position LONG 2", "account 0"]);
    expect((s.events.at(-2)!.data as PositionData).frozen).toBe(0);
  });
});
