import { describe, expect, it } from "vitest";
import { IdTable } from "../../lib/id-table.ts";
import { ActiveCall, ActiveCalls } from "../../lib/active-calls.ts";

const item = (id: number) => ({ id });

describe("IdTable", () => {
  it("holds ids that share a slot, across growth, and finds each", () => {
    const table = new IdTable<{ id: number }>();
    // 8 slots to start: these all land in slot 3, then the table grows under them.
    const ids = [3, 11, 19, 27, 35, 1_000_003, 2 ** 40 + 3, 5, 6];
    for (const id of ids) table.add(item(id));
    expect(table.size).toBe(ids.length);
    for (const id of ids) expect(table.get(id)?.id).toBe(id);
    expect(table.get(43)).toBeUndefined();
    expect(table.delete(43)).toBeUndefined();
    expect(table.delete(11)?.id).toBe(11);
    expect(table.get(11)).toBeUndefined();
    expect(table.delete(2 ** 40 + 3)?.id).toBe(2 ** 40 + 3);
    expect(table.size).toBe(ids.length - 2);
    expect(table.values().map((v) => v.id).sort((a, b) => a - b)).toEqual([3, 5, 6, 19, 27, 35, 1_000_003]);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get(3)).toBeUndefined();
  });

  it("keeps up with ids in sequence while an old one stays", () => {
    const table = new IdTable<{ id: number }>();
    table.add(item(0)); // the call that stays in flight
    for (let id = 1; id < 10_000; id++) {
      table.add(item(id));
      expect(table.delete(id)?.id).toBe(id);
    }
    expect(table.size).toBe(1);
    expect(table.get(0)?.id).toBe(0);
  });
});

describe("ActiveCalls", () => {
  it("counts peers with calls, keeps idle peers' entries within bounds, and forgets a peer that left", () => {
    const active = new ActiveCalls();
    const call = (peer: string, id: number) => new ActiveCall(peer, id, 10, 0, () => {});
    const a = call("a", 1);
    active.add(a);
    active.add(call("b", 1));
    expect([active.peers, active.count(), active.bytes(), active.count("a")]).toEqual([2, 2, 20, 1]);
    expect(active.remove(a)).toBe(true);
    expect(active.remove(a)).toBe(false);
    expect([active.peers, active.count(), active.bytes("a")]).toEqual([1, 1, 0]);
    // Many callers come and go: every one is counted right, whatever is swept.
    for (let i = 0; i < 500; i++) {
      const c = call(`p${i}`, 7);
      active.add(c);
      expect(active.peers).toBe(2);
      active.remove(c);
    }
    expect(active.takeAll("b").length).toBe(1);
    expect([active.peers, active.count(), active.bytes()]).toEqual([0, 0, 0]);
  });
});
