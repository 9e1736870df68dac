/**
 * The REST routes (VeighNa WebTrader's, JSON in and out), as a hono app that runs on any
 * runtime: the entry (node.ts, deno.ts) hands each request in with the remote address as the
 * `address` binding. Every route but `/token`, `/status` and `/openapi.json` needs a bearer
 * token; each calls one or two functions of the trading service, checked against the role's
 * allow-list first and kept to the user's own accounts (owned-calls.ts): the order, trade,
 * position and account lists hold only theirs, orders go to their accounts only. Errors are `{ "error": { "code", "message" } }` with the HTTP status of
 * their RpcError code (UNAVAILABLE → 503: the trading service is down, the bridge reconnects).
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import * as v from "valibot";
import { RpcError, type RpcClient, type RpcCode } from "../lib/index.ts";
import type { Auth, Session } from "./auth.ts";
import { openApiDocument } from "./openapi.ts";
import { callOwned, gatewayOfId, notYours } from "./owned-calls.ts";
import { HistoryQuerySchema, issuesText, LoginSchema, RestOrderSchema, splitVtSymbol, VtOrderIdSchema, VtSymbolSchema } from "./schemas.ts";

export type WebEnv = { Bindings: { address?: string | undefined }; Variables: { session: Session } };

export interface RestOptions {
  auth: Auth;
  upstream: RpcClient;
  /** Origins allowed to call from a browser page of another origin; none by default. */
  corsOrigins: readonly string[];
  /** Largest request body. Default 16 KiB. */
  maxBodyBytes?: number;
  /** Deadline of one upstream call. Default 5000 ms. */
  callTimeoutMs?: number;
  version: string;
}

const STATUS: Record<RpcCode, 400 | 401 | 403 | 404 | 429 | 499 | 502 | 503 | 504> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 502,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

function fail(c: Context, status: number, code: string, message: string, headers?: Record<string, string>): Response {
  return c.json({ error: { code, message } }, status as 400, headers);
}

export function restApp(options: RestOptions): Hono<WebEnv> {
  const { auth, upstream } = options;
  const timeoutMs = options.callTimeoutMs ?? 5000;
  const app = new Hono<WebEnv>();

  if (options.corsOrigins.length > 0) {
    app.use("*", cors({ origin: [...options.corsOrigins], allowHeaders: ["Authorization", "Content-Type"], allowMethods: ["GET", "POST", "DELETE"], maxAge: 600 }));
  }
  app.use("*", bodyLimit({ maxSize: options.maxBodyBytes ?? 16 * 1024, onError: (c) => fail(c, 413, "RESOURCE_EXHAUSTED", "Request body too large") }));

  app.onError((error, c) => {
    if (error instanceof RpcError) {
      const message = error.code === "UNAVAILABLE" ? `The trading service is unavailable (${error.rawMessage}); the bridge reconnects by itself, try again shortly` : error.rawMessage;
      return fail(c, STATUS[error.code], error.code, message, error.code === "UNAVAILABLE" ? { "Retry-After": "1" } : undefined);
    }
    console.error(`[web] ${c.req.method} ${c.req.path} failed:`, error);
    return fail(c, 500, "INTERNAL", "Internal error");
  });
  app.notFound((c) => fail(c, 404, "NOT_FOUND", `No route ${c.req.method} ${c.req.path}`));

  /** A body as JSON, or a 400 thrown as an RpcError. */
  async function body(c: Context): Promise<unknown> {
    try {
      return await c.req.json();
    } catch {
      throw new RpcError("INVALID_ARGUMENT", "Body is not valid JSON");
    }
  }

  function parse<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
    const result = v.safeParse(schema, value);
    if (!result.success) throw new RpcError("INVALID_ARGUMENT", issuesText(result.issues));
    return result.output;
  }

  /** Refuse (403) unless the session's role may call `fn`. */
  function must(c: Context<WebEnv>, fn: string): void {
    const { role } = c.get("session");
    if (!auth.mayCall(role, fn)) throw new RpcError("PERMISSION_DENIED", `Role ${role} may not call ${fn}`);
  }

  /** Call `fn` upstream as the session's user (role, then accounts), or refuse (403) before anything goes out. */
  async function call<T>(c: Context<WebEnv>, fn: string, args: unknown[]): Promise<T> {
    must(c, fn);
    const session = c.get("session");
    const meta = { webUser: session.user };
    return (await callOwned(session.holdings, fn, args, (name, list) => upstream.call(name, list, { timeoutMs, meta }))) as T;
  }

  /** Refuse an unknown symbol with 404 rather than pass it on (the exchange would reject it later). */
  async function knownSymbol(c: Context<WebEnv>, vtSymbol: string): Promise<void> {
    if ((await call(c, "getContract", [vtSymbol])) === null) throw new RpcError("NOT_FOUND", `Unknown symbol ${vtSymbol}`);
  }

  const authenticated: MiddlewareHandler<WebEnv> = async (c, next) => {
    const header = c.req.header("Authorization");
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
    const session = await auth.authenticate(token);
    if ("problem" in session) return fail(c, 401, "UNAUTHENTICATED", session.problem, { "WWW-Authenticate": 'Bearer realm="tradewire"' });
    c.set("session", session);
    await next();
  };

  app.get("/openapi.json", (c) => c.json(openApiDocument(options.version)));
  app.get("/status", (c) => c.json({ upstream: upstream.state }));

  app.post("/token", async (c) => {
    const type = c.req.header("Content-Type") ?? "";
    // OAuth2's password form (as WebTrader takes it) or JSON.
    const input = type.startsWith("application/x-www-form-urlencoded") ? Object.fromEntries(new URLSearchParams(await c.req.text())) : await body(c);
    const { username, password } = parse(LoginSchema, input);
    const result = await auth.login(username, password, c.env?.address);
    if (!result.ok) {
      const code = result.status === 401 ? "UNAUTHENTICATED" : "RESOURCE_EXHAUSTED";
      return fail(c, result.status, code, result.message, result.retryAfter ? { "Retry-After": String(result.retryAfter) } : undefined);
    }
    c.header("Cache-Control", "no-store");
    return c.json({ access_token: result.token, token_type: "bearer", expires_in: auth.tokenTtlSeconds, role: result.role });
  });

  app.post("/tick/:vtSymbol", authenticated, async (c) => {
    must(c, "subscribe");
    const vtSymbol = parse(VtSymbolSchema, c.req.param("vtSymbol"));
    await knownSymbol(c, vtSymbol);
    await call(c, "subscribe", [splitVtSymbol(vtSymbol)]);
    return c.json({ vtSymbol, subscribed: true });
  });
  app.get("/tick", authenticated, async (c) => c.json(await call(c, "getAllTicks", [])));

  app.post("/order", authenticated, async (c) => {
    must(c, "sendOrder");
    const { gatewayName, ...order } = parse(RestOrderSchema, await body(c));
    c.get("session").holdings.gatewayFor(gatewayName); // not ours: 403 before the symbol is looked up
    await knownSymbol(c, `${order.symbol}.${order.exchange}`);
    return c.json({ vtOrderId: await call<string>(c, "sendOrder", [order, gatewayName ?? ""]) });
  });
  app.delete("/order/:vtOrderId", authenticated, async (c) => {
    must(c, "cancelOrder");
    const vtOrderId = parse(VtOrderIdSchema, c.req.param("vtOrderId"));
    // Null for an order that is not ours too: "unknown" only under a gateway of ours, else "not yours".
    const order = await call<{ orderid: string; symbol: string; exchange: string; gatewayName: string } | null>(c, "getOrder", [vtOrderId]);
    if (order === null) {
      const { holdings } = c.get("session");
      const ours = holdings.all || holdings.holds(await gatewayOfId(vtOrderId, (fn, args) => upstream.call(fn, args, { timeoutMs })));
      if (ours) throw new RpcError("NOT_FOUND", `Unknown order ${vtOrderId}`);
      throw notYours(vtOrderId);
    }
    const request = { orderid: order.orderid, symbol: order.symbol, exchange: order.exchange };
    return c.json(await call(c, "cancelOrder", [request, order.gatewayName]));
  });
  app.get("/order", authenticated, async (c) => c.json(await call(c, "getAllOrders", [])));
  app.get("/trade", authenticated, async (c) => c.json(await call(c, "getAllTrades", [])));
  app.get("/position", authenticated, async (c) => c.json(await call(c, "getAllPositions", [])));
  app.get("/account", authenticated, async (c) => c.json(await call(c, "getAllAccounts", [])));
  app.get("/contract", authenticated, async (c) => c.json(await call(c, "getAllContracts", [])));
  app.get("/history", authenticated, async (c) => {
    const query = parse(HistoryQuerySchema, c.req.query());
    const request = {
      ...splitVtSymbol(query.vtSymbol),
      start: Number(query.start),
      ...(query.end !== undefined ? { end: Number(query.end) } : {}),
      ...(query.interval !== undefined ? { interval: query.interval } : {}),
    };
    return c.json(await call(c, "queryHistory", [request]));
  });
  return app;
}
