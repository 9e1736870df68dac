/**
 * The exchange's record of one order: the engine's `SimOrder` plus whose it is, where it trades
 * and its ids (made once, not per event).
 */
import type { AccountState } from "./account.ts";
import type { Instrument } from "./instrument.ts";
import type { SimOrder } from "./matching.ts";

export interface OrderRecord extends SimOrder {
  readonly account: AccountState;
  readonly inst: Instrument;
  /** `String(seq)`. */
  readonly orderid: string;
  /** `gatewayName.orderid`. */
  readonly vtOrderId: string;
  /** The price a rejected order was sent with, reported as sent (not rounded to the tick); NaN otherwise. */
  sentPrice: number;
}
