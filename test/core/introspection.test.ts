import { afterEach, describe, expect, it } from "vitest";
import * as v from "valibot";
import { RpcError } from "../../lib/index.ts";
import { nearestName } from "../../lib/nearest-name.ts";
import { rig, type Rig } from "./helpers.ts";

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe("an unknown function name", () => {
  it("gets NOT_FOUND that suggests the registered name it is close to", async () => {
    r = await rig({
      setup: (s) => {
        s.register("getAllContracts", () => []);
        s.register("sendOrder", () => "id");
      },
    });
    const vnpyStyle = await r.client.call("get_all_contracts").catch((e: RpcError) => e);
    expect((vnpyStyle as RpcError).code).toBe("NOT_FOUND");
    expect((vnpyStyle as RpcError).message).toContain('did you mean "getAllContracts"?');
    const typo = await r.client.call("sendOrdr").catch((e: RpcError) => e);
    expect((typo as RpcError).message).toContain('did you mean "sendOrder"?');
    const unrelated = await r.client.call("quote").catch((e: RpcError) => e);
    expect((unrelated as RpcError).message).toBe('No function named "quote"');
  });

  it("is compared within bounds: far names and long names get no suggestion", () => {
    expect(nearestName("GET-ALL-CONTRACTS", ["getAllContracts"])).toBe("getAllContracts");
    expect(nearestName("getTick", ["getTick", "getTrade"])).toBe("getTick");
    expect(nearestName("cancel", ["sendOrder"])).toBeUndefined();
    expect(nearestName("x".repeat(10_000), ["x"])).toBeUndefined();
  });
});

describe("$tw.functions", () => {
  it("lists the served functions, without the framework's, with a JSON Schema where the validator gives one", async () => {
    const described = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) => ({ value: value as [string] }),
        jsonSchema: { input: () => ({ type: "array", prefixItems: [{ type: "string" }] }), output: () => ({}) },
        types: undefined as unknown as { input: unknown; output: [string] },
      },
    } as const;
    r = await rig({
      setup: (s) => {
        s.register("plain", () => 1);
        s.register("checked", (x: string) => x, { input: v.tuple([v.string()]) });
        s.register("described", (x: string) => x, { input: described });
      },
    });
    const list = await r.client.call<Array<{ name: string; input?: unknown }>>("$tw.functions");
    expect(list).toEqual([
      { name: "plain" },
      { name: "checked" },
      { name: "described", input: { type: "array", prefixItems: [{ type: "string" }] } },
    ]);
  });

  it("describes the functions once, and again after register or unregister", async () => {
    let conversions = 0;
    const counted = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value: unknown) => ({ value: value as [string] }),
        jsonSchema: { input: () => (conversions++, { type: "array" }), output: () => ({}) },
        types: undefined as unknown as { input: unknown; output: [string] },
      },
    } as const;
    r = await rig({ setup: (s) => void s.register("counted", (x: string) => x, { input: counted }) });
    const names = async () => (await r!.client.call<Array<{ name: string }>>("$tw.functions")).map((f) => f.name);
    expect(await names()).toEqual(["counted"]);
    expect(await names()).toEqual(["counted"]);
    expect(conversions).toBe(1);
    r.server.register("later", () => 1);
    expect(await names()).toEqual(["counted", "later"]);
    expect(conversions).toBe(2);
    r.server.unregister("later");
    expect(await names()).toEqual(["counted"]);
    expect(conversions).toBe(3);
  });
});
