/**
 * What the web door accepts, as valibot schemas: the bodies and parameters of the REST routes,
 * and the arguments of each RPC function a browser may call over the WebSocket. The RPC
 * argument schemas are the service's own (sim/schema.ts), so a request refused here would have
 * been refused upstream too; checking here keeps bad input off the trading server's link. The
 * OpenAPI document is generated from these same schemas (openapi.ts).
 */
import * as v from "valibot";
import { Exchange, Interval } from "../sim/constant.ts";
import type { OrderRequest } from "../sim/object.ts";
import {
  cancelOrderArgs, keyArgs, noArgs, optionalKeyArgs, OrderRequestSchema, queryHistoryArgs, sendOrderArgs, subscribeArgs,
} from "../sim/schema.ts";

/**
 * `POST /order`'s body: an OrderRequest, and the account to trade for (a gateway name) when the
 * user holds several.
 */
export const RestOrderSchema = v.object({
  ...(OrderRequestSchema as unknown as v.ObjectSchema<v.ObjectEntries, undefined>).entries,
  gatewayName: v.optional(v.pipe(v.string(), v.maxLength(128), v.description("The account (gateway) to trade for; needed only when you hold several"))),
}) as unknown as v.GenericSchema<OrderRequest & { gatewayName?: string }, Required<OrderRequest> & { gatewayName?: string }>;

export const LoginSchema = v.object({
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
});

/** `IF2512.CFFEX`: the symbol, a dot, an exchange's name. */
export const VtSymbolSchema = v.pipe(
  v.string(),
  v.maxLength(160),
  v.regex(/^[^.\s]+(\.[^.\s]+)*\.[A-Z]+$/, "Expected a vtSymbol such as IF2512.CFFEX"),
  v.check((s) => Object.hasOwn(Exchange, s.slice(s.lastIndexOf(".") + 1)), "Unknown exchange"),
);

export const VtOrderIdSchema = v.pipe(v.string(), v.minLength(3), v.maxLength(256), v.regex(/^[^.]+\..+$/, "Expected a vtOrderId such as SIM.7"));

const millis = v.pipe(v.string(), v.regex(/^\d{1,16}$/, "Expected epoch milliseconds"));

/** `GET /history` query parameters (strings, as a query is). */
export const HistoryQuerySchema = v.object({
  vtSymbol: VtSymbolSchema,
  start: millis,
  end: v.optional(millis),
  interval: v.optional(v.picklist(Object.keys(Interval) as Array<keyof typeof Interval>, "Unknown interval")),
});

/** Each RPC function's arguments, checked in the bridge before it goes upstream. */
export const FUNCTION_INPUTS: Readonly<Record<string, v.GenericSchema>> = {
  subscribe: subscribeArgs,
  sendOrder: sendOrderArgs,
  cancelOrder: cancelOrderArgs,
  queryHistory: queryHistoryArgs,
  getTick: keyArgs,
  getOrder: keyArgs,
  getTrade: keyArgs,
  getPosition: keyArgs,
  getAccount: keyArgs,
  getContract: keyArgs,
  getAllTicks: noArgs,
  getAllOrders: noArgs,
  getAllTrades: noArgs,
  getAllPositions: noArgs,
  getAllAccounts: noArgs,
  getAllContracts: noArgs,
  getAllActiveOrders: optionalKeyArgs,
};

/** A validation failure in one line: `path: message; …`. */
export function issuesText(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .map((issue) => {
      const path = issue.path?.map((p) => String(p.key)).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** `IF2512.CFFEX` → `{ symbol: "IF2512", exchange: "CFFEX" }` (validated by VtSymbolSchema first). */
export function splitVtSymbol(vtSymbol: string): { symbol: string; exchange: keyof typeof Exchange } {
  const dot = vtSymbol.lastIndexOf(".");
  return { symbol: vtSymbol.slice(0, dot), exchange: vtSymbol.slice(dot + 1) as keyof typeof Exchange };
}
