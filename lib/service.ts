/**
 * A service written once: its functions with their input schemas, its topics with their payload
 * types. The server serves it (`server.serve(api)`), and its type is what the client is typed by
 * (`client.proxy<typeof api>()`, `client.subscribe<TopicData<typeof api, "tick.">>(…)`), so the
 * two sides cannot drift — as tRPC's router type and hono's `AppType` do. Handlers get their
 * argument types from the schema.
 *
 * ```ts
 * const api = defineService({
 *   functions: {
 *     add: method(v.tuple([v.number(), v.number()]), (a, b) => a + b),
 *     history: method(v.tuple([v.string()]), async function* (symbol, ctx) { … }),
 *   },
 *   topics: { "tick.": topic<{ lastPrice: number }>() },
 * });
 * ```
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { CallContext } from "./server.ts";

/** A schema for a call's arguments: it validates the arguments array. */
export type ArgumentsSchema = StandardSchemaV1<unknown, readonly unknown[]>;

/** The handler's parameters: the schema's output, then the call context. */
export type HandlerArgs<S extends ArgumentsSchema> = StandardSchemaV1.InferOutput<S> extends infer O extends readonly unknown[]
  ? [...O, CallContext]
  : never;

/** One function of a service: its input schema and its handler. */
export interface Method<S extends ArgumentsSchema = ArgumentsSchema, R = unknown> {
  readonly input: S;
  readonly handler: (...args: HandlerArgs<S>) => R;
}

/** A function with its schema; the handler's parameters are typed from the schema's output. */
export function method<S extends ArgumentsSchema, R>(input: S, handler: (...args: HandlerArgs<S>) => R): Method<S, R> {
  return { input, handler };
}

declare const payload: unique symbol;
/** A topic prefix's payload type, carried in the type only. */
export interface Topic<D> {
  readonly [payload]?: D;
}

/** `topic<TickData>()`: the payload of the events published under a prefix. */
export function topic<D>(): Topic<D> {
  return {};
}

export interface ServiceDefinition<
  F extends Record<string, Method<any, any>> = Record<string, Method<any, any>>,
  T extends Record<string, Topic<unknown>> = Record<string, Topic<unknown>>,
> {
  readonly functions: F;
  readonly topics: T;
}

/** The service, written once; `server.serve(it)` registers every function with its schema. */
export function defineService<F extends Record<string, Method<any, any>>, T extends Record<string, Topic<unknown>> = {}>(definition: {
  functions: F;
  topics?: T;
}): ServiceDefinition<F, T> {
  return { functions: definition.functions, topics: definition.topics ?? ({} as T) };
}

/** The payload published under `prefix` (or under a topic that starts with it) of a service. */
export type TopicData<S, P extends string> = S extends ServiceDefinition<any, infer T>
  ? {
      // A prefix within a declared one gets its payload; a prefix that covers several gets them all.
      [K in keyof T & string]: P extends `${K}${string}` ? PayloadOf<T[K]> : K extends `${P}${string}` ? PayloadOf<T[K]> : never;
    }[keyof T & string]
  : unknown;

type PayloadOf<T> = T extends Topic<infer D> ? D : never;

/** The topic prefixes a service publishes under. */
export type TopicPrefix<S> = S extends ServiceDefinition<any, infer T> ? keyof T & string : string;
