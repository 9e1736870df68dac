/** The web door's REST side, logins and setup: real `tradewire serve` and `tradewire web` processes, real fetch. */
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { addresses, killAll, removeTempDirs, runCli, type Child } from "../zeromq/helpers.ts";
import { adduser, api, deployment, door, latestTick, login, PASSWORDS, removeDirs, secretOf, service, signedToken, tempDir, tokenFor } from "./helpers.ts";

// Every case starts processes or hashes passwords: on a shared 2-core machine that takes a while.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
let url: string;
let doorChild: Child;
let alice: string;
let bob: string;

beforeAll(async () => {
  dir = await deployment();
  const upstream = await service();
  ({ url, child: doorChild } = await door(dir, upstream));
  [alice, bob] = await Promise.all([tokenFor(url, "alice"), tokenFor(url, "bob")]);
}, 90_000);

afterAll(async () => {
  await killAll();
  removeTempDirs();
  removeDirs();
});

describe("tradewire web: setup", () => {
  it("explains itself with --help, and refuses bad flags with exit 2", async () => {
    const help = await runCli("web", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout[0]).toBe("Usage: tradewire web [options]");
    for (const flag of ["--req", "--sub", "--host", "--port", "--dir", "--cors-origin", "--token-ttl", "--engine", "--curve-server-key", "--curve-server-key-file"]) {
      expect(help.stdout.join("\n")).toMatch(new RegExp(`^\\s+${flag}\\b`, "m"));
    }
    expect((await runCli("--help")).stdout.join("\n")).toMatch(/^  web\s/m);
    const path = await runCli("web", "--dir", dir, "--cors-origin", "http://127.0.0.1:5173/app");
    expect(path.code).toBe(2);
    expect(path.stderr[0]).toMatch(/^--cors-origin takes origins .*did you mean http:\/\/127\.0\.0\.1:5173\?/);
    expect((await runCli("web", "--port", "http")).code).toBe(2);
    expect((await runCli("web", "adduser")).code).toBe(2);
  });

  it("refuses to start without users, and says how to make one", async () => {
    const empty = join(tempDir(), "nobody");
    const { rep, pub } = await addresses("tcp");
    const result = await runCli("web", "--dir", empty, "--port", "0", "--req", rep, "--sub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr.join("\n")).toMatch(/No users: .*web\.json does not exist; make one with: tradewire web adduser NAME --role trader --account GATEWAY --dir /);
  });

  it("refuses a secret or user file that others may read, and says chmod 600", async () => {
    const copy = join(tempDir(), "web");
    cpSync(dir, copy, { recursive: true });
    chmodSync(join(copy, "secret"), 0o644);
    const { rep, pub } = await addresses("tcp");
    const result = await runCli("web", "--dir", copy, "--port", "0", "--req", rep, "--sub", pub);
    expect(result.code).toBe(1);
    expect(result.stderr.join("\n")).toMatch(/secret is open to other users \(mode 0644\).*chmod 600/);
  });

  it("adduser reads the password from standard input and writes owner-only files with a scrypt hash, never the password", async () => {
    const where = join(tempDir(), "made-by-cli");
    const first = await adduser(where, "alice", "trader", PASSWORDS.alice, "--account", "SIM,SIM2");
    expect(first).toMatchObject({ code: 0, stdout: [`User alice (trader, accounts SIM, SIM2) added in ${where}/web.json`, `Signing secret created in ${where}/secret (mode 0600)`] });
    const second = await adduser(where, "bob", "viewer", PASSWORDS.bob);
    expect(second).toMatchObject({ code: 0, stdout: [`User bob (viewer, no account: market data only) added in ${where}/web.json`] }); // the secret is kept
    // A new password without --account keeps the accounts.
    const again = await adduser(where, "alice", "trader", PASSWORDS.carol);
    expect(again).toMatchObject({ code: 0, stdout: [`User alice (trader, accounts SIM, SIM2) updated in ${where}/web.json`] });
    expect(statSync(join(where, "web.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(where, "secret")).mode & 0o777).toBe(0o600);
    expect(statSync(where).mode & 0o777).toBe(0o700);
    const text = readFileSync(join(where, "web.json"), "utf8");
    for (const password of Object.values(PASSWORDS)) expect(text).not.toContain(password);
    const config = JSON.parse(text) as { users: Record<string, { role: string; accounts?: string[]; password: string }>; roles: Record<string, { functions: string[] }> };
    expect(config.users.alice).toMatchObject({ role: "trader", accounts: ["SIM", "SIM2"], password: expect.stringMatching(/^scrypt\$/) });
    expect(config.users.bob).toMatchObject({ role: "viewer", accounts: [] });
    expect(config.roles.viewer!.functions).not.toContain("sendOrder");
    expect(config.roles.trader!.functions).toContain("cancelOrder");
  });

  it("adduser refuses a short password and an unknown role", async () => {
    const where = join(tempDir(), "web");
    expect((await adduser(where, "dave", "trader", "short")).code).toBe(2);
    const role = await adduser(where, "dave", "admin", "long-enough-password");
    expect(role.code).toBe(2);
    expect(role.stderr[0]).toBe("--role must be viewer or trader, got admin");
    const account = await adduser(where, "dave", "trader", "long-enough-password", "--account", "SIM,two words");
    expect(account.code).toBe(2);
    expect(account.stderr[0]).toMatch(/^--account: An account is a gateway name .*got "two words"$/);
  });

  it("never logs a password or a token", () => {
    const output = [...doorChild.stdout, ...doorChild.stderr].join("\n");
    expect(output).toMatch(/Login: alice \(trader\) from 127\.0\.0\.1/);
    for (const password of Object.values(PASSWORDS)) expect(output).not.toContain(password);
    expect(output).not.toContain(alice);
    expect(output).not.toContain(alice.split(".")[2]!);
  });
});

describe("tradewire web: logins and tokens", () => {
  it("gives a token for the right password only", async () => {
    const good = await login(url, "alice", PASSWORDS.alice);
    expect(good.status).toBe(200);
    expect(good.headers.get("cache-control")).toBe("no-store");
    expect(await good.json()).toMatchObject({ token_type: "bearer", expires_in: 3600, role: "trader" });
    const bad = await login(url, "alice", "not-her-password");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Wrong user name or password" } });
    // The same answer for a user that does not exist.
    expect(await (await login(url, "mallory", "whatever-it-is")).json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Wrong user name or password" } });
  });

  it("takes OAuth2's password form as WebTrader does", async () => {
    const response = await fetch(`${url}/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username: "bob", password: PASSWORDS.bob }).toString(),
    });
    expect(response.status).toBe(200);
    expect((await response.json()) as unknown).toMatchObject({ role: "viewer" });
  });

  it("answers bad JSON and missing fields with 400", async () => {
    expect(await api(url, undefined, "POST", "/token", "{not json")).toMatchObject({ status: 400, body: { error: { code: "INVALID_ARGUMENT", message: "Body is not valid JSON" } } });
    const missing = await api(url, undefined, "POST", "/token", { username: "alice" });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/password/);
  });

  it("refuses a call with no token, a garbled one, one signed by another secret, or an expired one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const none = await api(url, undefined, "GET", "/account");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(none.body.error.message).toMatch(/^No token/);
    expect((await api(url, "garbage", "GET", "/account")).body).toEqual({ error: { code: "UNAUTHENTICATED", message: "Invalid token" } });
    const forged = await signedToken(new Uint8Array(randomBytes(32)), { sub: "alice", role: "trader", exp: now + 600 });
    expect((await api(url, forged, "GET", "/account")).body).toEqual({ error: { code: "UNAUTHENTICATED", message: "Invalid token" } });
    const expired = await signedToken(secretOf(dir), { sub: "alice", role: "trader", exp: now - 60 });
    const late = await api(url, expired, "GET", "/account");
    expect(late.status).toBe(401);
    expect(late.body.error.message).toMatch(/^Token expired/);
    // A token of our own secret but for someone who is not a user, or of another issuer.
    expect((await api(url, await signedToken(secretOf(dir), { sub: "mallory", role: "trader", exp: now + 600 }), "GET", "/account")).status).toBe(401);
    expect((await api(url, await signedToken(secretOf(dir), { sub: "alice", role: "trader", exp: now + 600, iss: "elsewhere" }), "GET", "/account")).status).toBe(401);
    // The same secret and claims are accepted: the refusals above are for what they say.
    expect((await api(url, await signedToken(secretOf(dir), { sub: "alice", role: "trader", exp: now + 600 }), "GET", "/account")).status).toBe(200);
  });

  it("takes the role from web.json, not from the token", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claimsTrader = await signedToken(secretOf(dir), { sub: "bob", role: "trader", exp: now + 600 });
    const order = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", price: 3000, volume: 1, offset: "OPEN" };
    expect((await api(url, claimsTrader, "POST", "/order", order)).status).toBe(403);
  });

  it("refuses the sixth wrong password for one user with 429 and Retry-After, even with the right one", async () => {
    for (let i = 0; i < 5; i++) expect((await login(url, "carol", `wrong-${i}-password`)).status).toBe(401);
    const refused = await login(url, "carol", PASSWORDS.carol);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^Too many login attempts/);
    // Other users are not locked out by carol's.
    expect((await login(url, "alice", PASSWORDS.alice)).status).toBe(200);
  });
});

describe("tradewire web: REST", () => {
  const order = { symbol: "IF2512", exchange: "CFFEX", direction: "LONG", type: "LIMIT", volume: 1, offset: "OPEN" } as const;

  it("serves the WebTrader queries as JSON with enum names", async () => {
    const contracts = await api(url, bob, "GET", "/contract");
    expect(contracts.status).toBe(200);
    expect(contracts.body.map((c: { vtSymbol: string }) => c.vtSymbol)).toEqual(expect.arrayContaining(["IF2512.CFFEX", "rb2601.SHFE"]));
    expect(contracts.body[0].product).toMatch(/^[A-Z]+$/);
    const accounts = await api(url, bob, "GET", "/account");
    expect(accounts.body).toEqual([expect.objectContaining({ vtAccountId: "SIM.SIM", balance: expect.any(Number) })]);
    for (const path of ["/order", "/trade", "/position", "/tick"]) {
      const response = await api(url, bob, "GET", path);
      expect(response.status, path).toBe(200);
      expect(Array.isArray(response.body), path).toBe(true);
    }
    expect((await api(url, bob, "POST", "/tick/IF2512.CFFEX")).body).toEqual({ vtSymbol: "IF2512.CFFEX", subscribed: true });
    const history = await api(url, bob, "GET", `/history?vtSymbol=IF2512.CFFEX&start=${Date.now() - 3_600_000}`);
    expect(history.status).toBe(200);
    expect(Array.isArray(history.body)).toBe(true);
  });

  it("lets a trader send and cancel an order; the order shows with its status", async () => {
    const tick = await latestTick(url, alice, "IF2512.CFFEX");
    // Far below the market, so it rests until cancelled.
    const price = Math.round((tick.bidPrice1 - 100) * 5) / 5;
    const sent = await api(url, alice, "POST", "/order", { ...order, price });
    expect(sent.status).toBe(200);
    expect(sent.body.vtOrderId).toMatch(/^SIM\.\d+$/);
    const orders = (await api(url, alice, "GET", "/order")).body as Array<{ vtOrderId: string; status: string; direction: string }>;
    expect(orders.find((o) => o.vtOrderId === sent.body.vtOrderId)).toMatchObject({ status: expect.stringMatching(/^(SUBMITTING|NOTTRADED)$/), direction: "LONG" });
    const cancelled = await api(url, alice, "DELETE", `/order/${sent.body.vtOrderId}`);
    expect(cancelled).toMatchObject({ status: 200, body: { accepted: true } });
    // Cancelling it again: the exchange's refusal, with a reason.
    const again = await api(url, alice, "DELETE", `/order/${sent.body.vtOrderId}`);
    expect(again.body).toMatchObject({ accepted: false, reason: expect.any(String) });
  });

  it("refuses send and cancel to a viewer (403) before anything reaches the service", async () => {
    const refused = await api(url, bob, "POST", "/order", { ...order, price: 3000 });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "PERMISSION_DENIED", message: "Role viewer may not call sendOrder" } } });
    expect((await api(url, bob, "DELETE", "/order/SIM.1")).status).toBe(403);
  });

  it("answers bad input with 400, unknown symbols and orders with 404", async () => {
    expect((await api(url, alice, "POST", "/order", "{oops")).body.error).toEqual({ code: "INVALID_ARGUMENT", message: "Body is not valid JSON" });
    const badEnum = await api(url, alice, "POST", "/order", { ...order, price: 3000, direction: "多" });
    expect(badEnum.status).toBe(400);
    expect(badEnum.body.error.message).toMatch(/direction: Unknown direction/);
    expect((await api(url, alice, "POST", "/order", { ...order, price: 3000, volume: "1" })).status).toBe(400);
    const unknown = await api(url, alice, "POST", "/order", { ...order, symbol: "NOPE", price: 3000 });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND", message: "Unknown symbol NOPE.CFFEX" } } });
    expect((await api(url, alice, "POST", "/tick/NOPE.CFFEX")).status).toBe(404);
    expect((await api(url, alice, "POST", "/tick/IF2512.NOWHERE")).status).toBe(400);
    expect((await api(url, alice, "DELETE", "/order/SIM.999999")).status).toBe(404);
    expect((await api(url, alice, "GET", "/history?vtSymbol=IF2512.CFFEX&start=yesterday")).status).toBe(400);
    expect((await api(url, alice, "GET", "/nowhere")).status).toBe(404);
  });

  it("refuses a body over the limit with 413, reading no more of it", async () => {
    const big = await api(url, alice, "POST", "/order", { ...order, price: 3000, reference: "x".repeat(64 * 1024) });
    expect(big).toMatchObject({ status: 413, body: { error: { code: "RESOURCE_EXHAUSTED" } } });
  });

  it("serves an OpenAPI document generated from the request schemas", async () => {
    const { status, body } = await api(url, undefined, "GET", "/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.1.0");
    for (const path of ["/token", "/tick/{vtSymbol}", "/tick", "/order", "/order/{vtOrderId}", "/trade", "/position", "/account", "/contract", "/history"]) {
      expect(body.paths[path], path).toBeDefined();
    }
    const orderSchema = body.components.schemas.OrderRequest;
    expect(orderSchema.properties.direction.enum).toEqual(["LONG", "SHORT", "NET"]);
    expect(orderSchema.required).toEqual(expect.arrayContaining(["symbol", "exchange", "direction", "type", "volume"]));
    expect(body.paths["/history"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["vtSymbol", "start", "end", "interval"]);
  });

  it("sends no CORS headers by default", async () => {
    const preflight = await fetch(`${url}/order`, { method: "OPTIONS", headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    const plain = await fetch(`${url}/status`, { headers: { Origin: "http://evil.example" } });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    expect(await plain.json()).toEqual({ upstream: "connected" });
  });
});
