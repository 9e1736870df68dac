/**
 * The exchange's record of one order: the engine's `SimOrder` (its own book entry) plus whose it
 * is and where it trades. Its id strings are made from `id` (its sequence number) when a report
 * needs them, not kept: resting orders outlive collections, and each scavenge copies all they hold.
 */
import type { AccountState } from "./account.ts";
import type { Instrument } from "./instrument.ts";
import type { SimOrder } from "./matching.ts";

export interface OrderRecord extends SimOrder {
  readonly account: AccountState;
  readonly inst: Instrument;
  /**
   * The price a rejected order was sent with, reported as sent (not rounded to the tick);
   * undefined otherwise (not NaN: a number field would box a double in every record).
   */
  sentPrice: number | undefined;
  /** Made once, by `vtOrderId()`. */
  vtOrderId: string | undefined;
}

/** The order's `orderid`. */
export function orderId(o: OrderRecord): string {
  return String(o.id);
}

/** The order's `vtOrderId`: `gatewayName.orderid`, made by the first report that needs it. */
export function vtOrderId(o: OrderRecord): string {
  return (o.vtOrderId ??= `${o.account.gatewayName}.${o.id}`);
}
