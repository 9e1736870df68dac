/** Who holds what, and each function's ownership rule, without processes (the suites with them are ownership.test.ts). */
import { describe, expect, it } from "vitest";
import { RpcError } from "../../lib/index.ts";
import { Holdings } from "../../web/accounts.ts";
import { callOwned, FUNCTION_RULES } from "../../web/owned-calls.ts";
import { FUNCTION_INPUTS } from "../../web/schemas.ts";

const orders = [
  { vtOrderId: "SIM.1", orderid: "1", gatewayName: "SIM" },
  { vtOrderId: "SIM.1.2", orderid: "2", gatewayName: "SIM.1" }, // a gateway name with a dot
  { vtOrderId: "SIM2.3", orderid: "3", gatewayName: "SIM2" },
];
const accounts = [{ gatewayName: "SIM" }, { gatewayName: "SIM.1" }, { gatewayName: "SIM2" }];

/** A stand-in for the service: answers from the lists above and records what was sent. */
function service() {
  const sent: Array<[string, unknown[]]> = [];
  const call = async (fn: string, args: unknown[]): Promise<unknown> => {
    sent.push([fn, args]);
    if (fn === "getAllOrders") return orders;
    if (fn === "getAllAccounts") return accounts;
    if (fn === "getOrder") return orders.find((o) => o.vtOrderId === args[0]) ?? null;
    if (fn === "getContract") return { gatewayName: "SIM2" };
    return "ok";
  };
  return { sent, call };
}

describe("the web door's ownership rules", () => {
  it("classifies every function the door serves", () => {
    expect(Object.keys(FUNCTION_RULES).sort()).toEqual(Object.keys(FUNCTION_INPUTS).sort());
  });

  it("filters lists and single objects to the user's gateways, dotted names apart", async () => {
    const { call } = service();
    expect(await callOwned(new Holdings(["SIM"]), "getAllOrders", [], call)).toEqual([orders[0]]);
    expect(await callOwned(new Holdings(["SIM.1"]), "getAllOrders", [], call)).toEqual([orders[1]]);
    expect(await callOwned(new Holdings(["*"]), "getAllOrders", [], call)).toEqual(orders);
    expect(await callOwned(new Holdings([]), "getAllOrders", [], call)).toEqual([]);
    expect(await callOwned(new Holdings(["SIM"]), "getOrder", ["SIM.1.2"], call)).toBeNull();
    expect(await callOwned(new Holdings(["SIM.1"]), "getOrder", ["SIM.1.2"], call)).toEqual(orders[1]);
  });

  it("sends to the account named if it is the user's, else to the only one it holds", async () => {
    const { sent, call } = service();
    const order = { symbol: "IF2512" };
    await callOwned(new Holdings(["SIM"]), "sendOrder", [order, ""], call);
    await callOwned(new Holdings(["SIM", "SIM2"]), "sendOrder", [order, "SIM2"], call);
    await callOwned(new Holdings(["*"]), "sendOrder", [order, ""], call);
    expect(sent.map(([, args]) => args[1])).toEqual(["SIM", "SIM2", ""]);
    await expect(callOwned(new Holdings(["SIM"]), "sendOrder", [order, "SIM2"], call)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(callOwned(new Holdings(["SIM", "SIM2"]), "sendOrder", [order, ""], call)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(callOwned(new Holdings([]), "sendOrder", [order, ""], call)).rejects.toBeInstanceOf(RpcError);
  });

  it("cancels by vtOrderId only the user's orders; another's and a missing one look alike", async () => {
    const { sent, call } = service();
    const sim = new Holdings(["SIM"]);
    await callOwned(sim, "cancelOrder", ["SIM.1", ""], call);
    expect(sent.at(-1)).toEqual(["cancelOrder", ["SIM.1", "SIM"]]);
    const other = callOwned(sim, "cancelOrder", ["SIM.1.2", ""], call); // SIM.1's, though it starts with "SIM."
    const missing = callOwned(sim, "cancelOrder", ["SIM2.99", ""], call);
    await expect(other).rejects.toMatchObject({ code: "PERMISSION_DENIED", rawMessage: "No order SIM.1.2 among your accounts' orders" });
    await expect(missing).rejects.toMatchObject({ code: "PERMISSION_DENIED", rawMessage: "No order SIM2.99 among your accounts' orders" });
    await expect(callOwned(sim, "cancelOrder", ["SIM.1.99", ""], call)).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    // Under the user's own gateway a missing order is just missing, as the service says it.
    expect(await callOwned(sim, "cancelOrder", ["SIM.99", ""], call)).toEqual({ accepted: false, reason: "No order SIM.99" });
    expect(sent.filter(([fn]) => fn === "cancelOrder")).toHaveLength(1);
  });

  it("routes market calls through a gateway that quotes the symbol", async () => {
    const { sent, call } = service();
    const request = { symbol: "IF2512", exchange: "CFFEX" };
    await callOwned(new Holdings(["SIM"]), "subscribe", [request, ""], call);
    await callOwned(new Holdings([]), "subscribe", [request, ""], call);
    await callOwned(new Holdings([]), "queryHistory", [request, "SIM"], call);
    expect(sent.filter(([fn]) => fn !== "getContract").map(([, args]) => args[1])).toEqual(["SIM", "SIM2", "SIM"]);
  });

  it("follows an account stream only when it holds its gateway, shared streams when it holds any", () => {
    const sim = new Holdings(["SIM"]);
    expect(sim.mayFollow("eOrder.SIM.")).toBe(true);
    expect(sim.mayFollow("eOrder.SIM2.")).toBe(false);
    expect(sim.mayFollow("eAccount.SIM.SIM")).toBe(true);
    expect(sim.mayFollow("eTrade.")).toBe(true);
    expect(sim.mayFollow("eTick.IF2512.CFFEX")).toBe(true);
    expect(new Holdings([]).mayFollow("eTrade.")).toBe(false);
    expect(new Holdings([]).mayFollow("eTick.IF2512.CFFEX")).toBe(true);
    expect(new Holdings(["SIM2", "SIM"]).key).toBe(new Holdings(["SIM", "SIM2", "SIM"]).key);
  });
});
