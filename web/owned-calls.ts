/**
 * Each RPC function a browser may call through the door, with the rule that keeps a user to
 * their own accounts (accounts.ts). REST routes and WebSocket calls both go through `callOwned`:
 *
 * - market data (`subscribe`, `queryHistory`, `getTick`, `getContract`, `getAllTicks`,
 *   `getAllContracts`): passed on;
 * - one object by id (`getOrder`, `getTrade`, `getPosition`, `getAccount`): null unless it is
 *   ours, so someone else's and one that does not exist look the same;
 * - lists (`getAllOrders`, `getAllTrades`, `getAllPositions`, `getAllAccounts`,
 *   `getAllActiveOrders`): filtered to ours;
 * - `sendOrder`, `cancelOrder`: sent to a gateway we hold (named, or the only one we hold);
 *   cancelling by vtOrderId, the order must be ours, else PERMISSION_DENIED whether or not it
 *   exists.
 *
 * A function without a rule is refused: a new one must be classified before it is served.
 */
import { RpcError } from "../lib/index.ts";
import type { Holdings } from "./accounts.ts";

type Rule = "market" | "one" | "list" | "send" | "cancel";

export const FUNCTION_RULES: Readonly<Record<string, Rule>> = {
  subscribe: "market",
  queryHistory: "market",
  getTick: "market",
  getContract: "market",
  getAllTicks: "market",
  getAllContracts: "market",
  getOrder: "one",
  getTrade: "one",
  getPosition: "one",
  getAccount: "one",
  getAllOrders: "list",
  getAllTrades: "list",
  getAllPositions: "list",
  getAllAccounts: "list",
  getAllActiveOrders: "list",
  sendOrder: "send",
  cancelOrder: "cancel",
};

export type UpstreamCall = (fn: string, args: unknown[]) => Promise<unknown>;

/** `fn(...args)` upstream as `holdings` may see and do it; `args` are already validated. */
export async function callOwned(holdings: Holdings, fn: string, args: unknown[], call: UpstreamCall): Promise<unknown> {
  const rule = Object.hasOwn(FUNCTION_RULES, fn) ? FUNCTION_RULES[fn] : undefined;
  switch (rule) {
    case "market":
      return call(fn, args);
    case "one": {
      if (holdings.none) return null;
      const found = await call(fn, args);
      return holdings.owns(found) ? found : null;
    }
    case "list": {
      if (holdings.none) return [];
      const found = await call(fn, args);
      return holdings.all || !Array.isArray(found) ? found : found.filter((item) => holdings.owns(item));
    }
    case "send":
      return call(fn, [args[0], holdings.gatewayFor(args[1] as string | undefined)]);
    case "cancel": {
      const [request, named] = args as [unknown, string | undefined];
      if (typeof request !== "string") return call(fn, [request, holdings.gatewayFor(named)]);
      // By vtOrderId: the service would route by the order's own gateway, so look it up first.
      const order = holdings.none ? null : ((await call("getOrder", [request])) as { gatewayName?: string } | null);
      if (!holdings.owns(order)) {
        if (holdings.all) return { accepted: false, reason: `No order ${request}` };
        throw notYours(request);
      }
      const gatewayName = order!.gatewayName!;
      if (named && named !== gatewayName) throw new RpcError("INVALID_ARGUMENT", `Order ${request} is not on gateway ${named}`);
      return call(fn, [request, gatewayName]);
    }
    default:
      throw new RpcError("PERMISSION_DENIED", `${fn} is not served at this door`);
  }
}

/** The one answer for an order that is someone else's or does not exist. */
export function notYours(vtOrderId: string): RpcError {
  return new RpcError("PERMISSION_DENIED", `No order ${vtOrderId} among your accounts' orders`);
}
