/** Login attempt windows, on an injected clock: no waiting. */
import { describe, expect, it } from "vitest";
import { LoginLimiter } from "../../web/login-limiter.ts";

describe("LoginLimiter", () => {
  it("refuses a user past its failures, and says how long to wait", () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter({ perUser: { limit: 3, windowMs: 60_000 }, perAddress: { limit: 100, windowMs: 60_000 }, now: () => now });
    for (let i = 0; i < 3; i++) expect(limiter.attempt("carol", "10.0.0.1")).toBe(0);
    expect(limiter.attempt("carol", "10.0.0.2")).toBe(60); // another address does not help
    expect(limiter.attempt("Carol", "10.0.0.2")).toBe(60); // nor another spelling
    now += 30_000;
    expect(limiter.attempt("carol", "10.0.0.1")).toBe(30);
    now += 30_000;
    expect(limiter.attempt("carol", "10.0.0.1")).toBe(0); // a new window
  });

  it("refuses an address past its attempts, whatever the user names", () => {
    const now = 5_000;
    const limiter = new LoginLimiter({ perUser: { limit: 100, windowMs: 60_000 }, perAddress: { limit: 4, windowMs: 60_000 }, now: () => now });
    for (const user of ["a", "b", "c", "d"]) expect(limiter.attempt(user, "10.0.0.9")).toBe(0);
    expect(limiter.attempt("e", "10.0.0.9")).toBeGreaterThan(0);
    expect(limiter.attempt("e", "10.0.0.10")).toBe(0);
  });

  it("gives a successful login its attempt back and clears the user's failures", () => {
    const limiter = new LoginLimiter({ perUser: { limit: 2, windowMs: 60_000 }, perAddress: { limit: 2, windowMs: 60_000 }, now: () => 0 });
    for (let i = 0; i < 10; i++) {
      expect(limiter.attempt("alice", "10.0.0.1")).toBe(0);
      limiter.succeeded("alice", "10.0.0.1");
    }
    expect(limiter.attempt("alice", "10.0.0.1")).toBe(0);
    expect(limiter.attempt("alice", "10.0.0.1")).toBe(0);
    expect(limiter.attempt("alice", "10.0.0.1")).toBeGreaterThan(0);
  });

  it("remembers a bounded number of keys: cycling names evicts the oldest", () => {
    const limiter = new LoginLimiter({ perUser: { limit: 1, windowMs: 60_000, maxKeys: 3 }, perAddress: { limit: 1_000, windowMs: 60_000 }, now: () => 0 });
    expect(limiter.attempt("u0", undefined)).toBe(0);
    expect(limiter.attempt("u0", undefined)).toBeGreaterThan(0);
    for (const user of ["u1", "u2", "u3"]) limiter.attempt(user, undefined);
    expect(limiter.attempt("u0", undefined)).toBe(0); // forgotten: the table holds 3
  });

  it("holds at most maxKeys windows however many names and addresses try, and forgets expired ones", () => {
    let now = 0;
    const limiter = new LoginLimiter({
      perUser: { limit: 5, windowMs: 60_000, maxKeys: 500 },
      perAddress: { limit: 20, windowMs: 60_000, maxKeys: 300 },
      now: () => now,
    });
    for (let i = 0; i < 20_000; i++) {
      limiter.attempt(`user${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 1000 === 0) now += 1; // a busy second: nothing expires yet
    }
    expect(limiter.size).toEqual({ users: 500, addresses: 300 });
    // A window later, the next attempt clears what expired: only its own entries are left.
    now += 60_000;
    limiter.attempt("late", "10.9.9.9");
    expect(limiter.size).toEqual({ users: 1, addresses: 1 });
  });
});
