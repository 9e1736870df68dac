/**
 * The OpenAPI 3.1 document served at `/openapi.json`, generated from the valibot schemas that
 * validate the requests (schemas.ts), so the document and the checks cannot drift. Replies are
 * VeighNa's data objects (sim/object.ts), described by name.
 */
import { toJsonSchema, type ConversionConfig } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { HistoryQuerySchema, LoginSchema, RestOrderSchema, VtOrderIdSchema, VtSymbolSchema } from "./schemas.ts";

// Checks with no JSON Schema equivalent (the exchange lookup) are left out of the document, not refused.
const CONVERT: ConversionConfig = { errorMode: "ignore", target: "draft-2020-12" };

function schema(s: v.GenericSchema): Record<string, unknown> {
  const { $schema: _, ...rest } = toJsonSchema(s, CONVERT) as Record<string, unknown>;
  return rest;
}

const json = (s: Record<string, unknown>) => ({ content: { "application/json": { schema: s } } });
const error = { $ref: "#/components/schemas/Error" };
const list = (what: string) => ({ type: "array", items: { type: "object", description: what } });
const authFailures = {
  401: { description: "No token, an expired or invalid one", ...json(error) },
  403: { description: "The user's role may not call this", ...json(error) },
  503: { description: "The trading service is unreachable; the bridge reconnects by itself", ...json(error) },
};

function get(summary: string, fn: string, reply: Record<string, unknown>) {
  return {
    get: {
      summary,
      description: `Calls \`${fn}\` on the trading service.`,
      security: [{ bearer: [] }],
      responses: { 200: { description: "OK", ...json(reply) }, ...authFailures },
    },
  };
}

export function openApiDocument(version: string): Record<string, unknown> {
  const historyQuery = schema(HistoryQuerySchema) as { properties: Record<string, unknown>; required?: string[] };
  return {
    openapi: "3.1.0",
    info: {
      title: "tradewire web door",
      version,
      description:
        "REST for the WebTrader functions; enums travel as their names (LONG, ALLTRADED). The WebSocket at /ws carries " +
        "tradewire's own request and broadcast channels (use websocketClient with the token as the Sec-WebSocket-Protocol " +
        "`bearer.TOKEN` beside `tradewire`).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: { error: { type: "object", required: ["code", "message"], properties: { code: { type: "string" }, message: { type: "string" } } } },
        },
        Login: schema(LoginSchema),
        OrderRequest: schema(RestOrderSchema),
      },
    },
    paths: {
      "/token": {
        post: {
          summary: "Log in: a bearer token for the other routes and the WebSocket",
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/Login" }) },
          responses: {
            200: {
              description: "Logged in",
              ...json({
                type: "object",
                properties: { access_token: { type: "string" }, token_type: { const: "bearer" }, expires_in: { type: "integer" }, role: { type: "string" } },
              }),
            },
            400: { description: "Bad JSON or fields", ...json(error) },
            401: { description: "Wrong user name or password", ...json(error) },
            429: { description: "Too many attempts for this user or from this address (Retry-After)", ...json(error) },
          },
        },
      },
      "/tick/{vtSymbol}": {
        post: {
          summary: "Subscribe to a symbol's market data",
          description: "Calls `subscribe` on the trading service.",
          security: [{ bearer: [] }],
          parameters: [{ name: "vtSymbol", in: "path", required: true, schema: schema(VtSymbolSchema) }],
          responses: { 200: { description: "Subscribed", ...json({ type: "object" }) }, 404: { description: "Unknown symbol", ...json(error) }, ...authFailures },
        },
      },
      "/tick": get("Latest tick of every subscribed symbol", "getAllTicks", list("TickData")),
      "/order": {
        ...get("Your accounts' orders", "getAllOrders", list("OrderData")),
        post: {
          summary: "Send an order",
          description: "Calls `sendOrder` for one of your accounts: the one named by `gatewayName`, or the only one you hold. " +
            "A well-formed order the exchange refuses is returned as REJECTED with a reason (see GET /order).",
          security: [{ bearer: [] }],
          requestBody: { required: true, ...json({ $ref: "#/components/schemas/OrderRequest" }) },
          responses: {
            ...authFailures,
            200: { description: "Sent", ...json({ type: "object", properties: { vtOrderId: { type: "string" } } }) },
            400: { description: "Bad JSON or fields, or no account named when you hold several", ...json(error) },
            403: { description: "Your role may not send orders, or the account is not yours", ...json(error) },
            404: { description: "Unknown symbol", ...json(error) },
            413: { description: "Body too large", ...json(error) },
          },
        },
      },
      "/order/{vtOrderId}": {
        delete: {
          summary: "Cancel an order",
          description: "Calls `cancelOrder`. A cancel the exchange refuses (the order is final) is `accepted: false` with a reason. " +
            "An order that is not among your accounts' orders is 403, whether or not it exists.",
          security: [{ bearer: [] }],
          parameters: [{ name: "vtOrderId", in: "path", required: true, schema: schema(VtOrderIdSchema) }],
          responses: {
            ...authFailures,
            200: { description: "The exchange's answer", ...json({ type: "object", properties: { accepted: { type: "boolean" }, reason: { type: "string" } } }) },
            403: { description: "Your role may not cancel, or the order is not among your accounts' orders", ...json(error) },
            404: { description: "Unknown order (for a user holding every account)", ...json(error) },
          },
        },
      },
      "/trade": get("Your accounts' trades", "getAllTrades", list("TradeData")),
      "/position": get("Your accounts' positions", "getAllPositions", list("PositionData")),
      "/account": get("Your accounts", "getAllAccounts", list("AccountData")),
      "/contract": get("Every contract", "getAllContracts", list("ContractData")),
      "/history": {
        get: {
          summary: "Bars of a symbol",
          description: "Calls `queryHistory`.",
          security: [{ bearer: [] }],
          parameters: Object.entries(historyQuery.properties).map(([name, s]) => ({
            name,
            in: "query",
            required: historyQuery.required?.includes(name) ?? false,
            schema: s,
          })),
          responses: { 200: { description: "OK", ...json(list("BarData")) }, 400: { description: "Bad parameters", ...json(error) }, ...authFailures },
        },
      },
      "/status": {
        get: {
          summary: "Whether the bridge reaches the trading service (no login needed)",
          responses: { 200: { description: "OK", ...json({ type: "object", properties: { upstream: { type: "string" } } }) } },
        },
      },
    },
  };
}
