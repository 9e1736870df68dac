/**
 * Standard Schema validators (valibot) for what RpcService accepts from the wire. Structural
 * faults (a missing field, a wrong type, NaN, an unknown enum member) fail validation and the
 * caller gets INVALID_ARGUMENT; values that are well-formed but wrong for the market (a negative
 * volume, an off-tick price, an unknown symbol) reach the exchange and come back as rejected
 * orders with a reason.
 *
 * Every schema validates the whole arguments array and always outputs its full length, so the
 * server's trailing call-context argument never lands in an optional parameter.
 */
import * as v from "valibot";
import { Direction, Exchange, Interval, Offset, OrderType } from "./constant.ts";
import type { CancelRequest, HistoryRequest, OrderRequest, SubscribeRequest } from "./object.ts";

const name = v.pipe(v.string(), v.maxLength(128));
const id = v.pipe(v.string(), v.maxLength(256));
/** A member of an enum, by its name; anything else is refused with the list of names. */
function member<K extends string>(what: string, names: Readonly<Record<K, K>>): v.PicklistSchema<K[], (issue: v.PicklistIssue) => string> {
  const keys = Object.keys(names) as K[];
  return v.picklist(keys, (issue) => `Unknown ${what} ${issue.received}: expected one of ${keys.join(", ")}`);
}

const exchange = member("exchange", Exchange);
const time = v.pipe(v.number(), v.finite());

export const SubscribeRequestSchema: v.GenericSchema<SubscribeRequest> = v.object({ symbol: name, exchange });

/** Outputs `price` 0, `offset` "NONE" and `reference` "" when they are left out. */
export const OrderRequestSchema: v.GenericSchema<OrderRequest, Required<OrderRequest>> = v.object({
  symbol: name,
  exchange,
  direction: member("direction", Direction),
  type: member("order type", OrderType),
  volume: v.number(),
  price: v.optional(v.number(), 0),
  offset: v.optional(member("offset", Offset), "NONE"),
  reference: v.optional(id, ""),
});

export const CancelRequestSchema: v.GenericSchema<CancelRequest> = v.object({ orderid: id, symbol: name, exchange });

/** Outputs `interval` "MINUTE" when it is left out. */
export const HistoryRequestSchema: v.GenericSchema<HistoryRequest, HistoryRequest & { interval: Interval }> = v.object({
  symbol: name,
  exchange,
  start: time,
  end: v.optional(time),
  interval: v.optional(member("interval", Interval), "MINUTE"),
});

/** `[request, gatewayName?]`, output as `[request, gatewayName]` ("" when omitted). Titles name the arguments for `tradewire ls`. */
function withGateway<S extends v.GenericSchema>(request: S) {
  return v.pipe(
    v.tuple([v.pipe(request, v.title("req")), v.optional(v.pipe(name, v.title("gatewayName")))]),
    v.transform(([req, gateway]) => [req, gateway ?? ""] as [v.InferOutput<S>, string]),
  );
}

/** `[key?]`, output as `[key]` ("" when omitted). */
export const optionalKeyArgs = v.pipe(
  v.tuple([v.optional(v.pipe(id, v.title("vtSymbol")))]),
  v.transform(([key]) => [key ?? ""] as [string]),
);

export const keyArgs = v.tuple([v.pipe(id, v.title("key"))]);
export const noArgs = v.tuple([]);
export const subscribeArgs = withGateway(SubscribeRequestSchema);
export const sendOrderArgs = withGateway(OrderRequestSchema);
/** A CancelRequest, or the order's vtOrderId ("SIM.7") as VeighNa users hold it. */
export const cancelOrderArgs = withGateway(v.union([CancelRequestSchema, id]));
export const queryHistoryArgs = withGateway(HistoryRequestSchema);
