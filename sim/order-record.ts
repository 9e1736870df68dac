/**
 * The exchange's record of one order: the engine's `SimOrder` (its own book entry) plus whose it
 * is and where it trades. Its ids are strings made from `seq` when a report needs them, not kept:
 * resting orders outlive collections, and every field they carry is copied by each one.
 */
import type { AccountState } from "./account.ts";
import type { Instrument } from "./instrument.ts";
import type { SimOrder } from "./matching.ts";

export interface OrderRecord extends SimOrder {
  readonly account: AccountState;
  readonly inst: Instrument;
  /** The price a rejected order was sent with, reported as sent (not rounded to the tick); NaN otherwise. */
  sentPrice: number;
}

/** The order's `orderid`. */
export function orderId(o: OrderRecord): string {
  return String(o.seq);
}

/** The order's `vtOrderId`: `gatewayName.orderid`. */
export function vtOrderId(o: OrderRecord): string {
  return `${o.account.gatewayName}.${o.seq}`;
}
