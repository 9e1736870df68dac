/**
 * Each RPC function a browser may call through the door, with the rule that keeps a user to
 * their own accounts (accounts.ts). REST routes and WebSocket calls both go through `callOwned`:
 *
 * - market data (`subscribe`, `queryHistory`, `getTick`, `getContract`, `getAllTicks`,
 *   `getAllContracts`): passed on; `subscribe` and `queryHistory` through any gateway that
 *   quotes the symbol (the one named, else one of ours, else the contract's own), since a
 *   symbol several accounts trade would otherwise need a name the user may not know;
 * - one object by id (`getOrder`, `getTrade`, `getPosition`, `getAccount`): null unless it is
 *   ours, so someone else's and one that does not exist look the same;
 * - lists (`getAllOrders`, `getAllTrades`, `getAllPositions`, `getAllAccounts`,
 *   `getAllActiveOrders`): filtered to ours;
 * - `sendOrder`, `cancelOrder`: sent to a gateway we hold (named, or the only one we hold);
 *   cancelling by vtOrderId, the order must be ours, else PERMISSION_DENIED whether or not it
 *   exists (an id under one of our own gateways that names no order is "not found", as usual).
 *
 * A function without a rule is refused: a new one must be classified before it is served.
 */
import { RpcError } from "../lib/index.ts";
import type { Holdings } from "./accounts.ts";

type Rule = "market" | "routed" | "one" | "list" | "send" | "cancel";

export const FUNCTION_RULES: Readonly<Record<string, Rule>> = {
  subscribe: "routed",
  queryHistory: "routed",
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
    case "routed": {
      const [request, named] = args as [{ symbol: string; exchange: string }, string | undefined];
      if (named || holdings.names.length === 1) return call(fn, [request, named || holdings.names[0]]);
      const contract = (await call("getContract", [`${request.symbol}.${request.exchange}`])) as { gatewayName?: unknown } | null;
      return call(fn, [request, typeof contract?.gatewayName === "string" ? contract.gatewayName : ""]);
    }
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
        if (order === null && (holdings.all || holdings.holds(await gatewayOfId(request, call)))) return { accepted: false, reason: `No order ${request}` };
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

/**
 * The gateway whose ids `vtId` (`GATEWAY.orderid`) lies among: the longest gateway name of the
 * service's accounts that it starts with (names may hold dots: `SIM` and `SIM.1`). Undefined
 * when none. Used only for an id that names nothing, to say "not found" to the gateway's owners
 * and "not yours" to everyone else, which tells neither anything about other accounts.
 */
export async function gatewayOfId(vtId: string, call: UpstreamCall): Promise<string | undefined> {
  const accounts = await call("getAllAccounts", []);
  let found: string | undefined;
  for (const account of Array.isArray(accounts) ? accounts : []) {
    const name = (account as { gatewayName?: unknown } | null)?.gatewayName;
    if (typeof name === "string" && vtId.startsWith(`${name}.`) && name.length > (found?.length ?? -1)) found = name;
  }
  return found;
}

/** The one answer for an order that is someone else's, or does not exist on an account of ours. */
export function notYours(vtOrderId: string): RpcError {
  return new RpcError("PERMISSION_DENIED", `No order ${vtOrderId} among your accounts' orders`);
}
