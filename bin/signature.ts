/**
 * `tradewire ls` in words: a function's name and its arguments, read from the JSON Schema its
 * server's validator gives (`$tw.functions`): `sendOrder(req: {symbol, exchange, …}, gatewayName?: string)`.
 */

export interface FunctionDescription {
  name: string;
  input?: Record<string, unknown>;
}

type Schema = Record<string, unknown>;

export function signature(fn: FunctionDescription): string {
  const input = fn.input;
  if (input === undefined) return fn.name;
  const items = Array.isArray(input["prefixItems"]) ? (input["prefixItems"] as Schema[]) : Array.isArray(input["items"]) ? (input["items"] as Schema[]) : undefined;
  if (items === undefined) return `${fn.name}(…${describe(input)})`;
  const required = typeof input["minItems"] === "number" ? input["minItems"] : items.length;
  // A validator's title names the argument (sim/schema.ts gives them); otherwise its position does.
  const args = items.map((item, i) => `${typeof item["title"] === "string" ? item["title"] : `arg${i + 1}`}${i >= required ? "?" : ""}: ${describe(item)}`);
  return `${fn.name}(${args.join(", ")})`;
}

function describe(schema: Schema): string {
  if (Array.isArray(schema["enum"])) return (schema["enum"] as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  for (const union of ["anyOf", "oneOf"]) {
    if (Array.isArray(schema[union])) return (schema[union] as Schema[]).map(describe).join(" | ");
  }
  const type = schema["type"];
  if (type === "object" && typeof schema["properties"] === "object" && schema["properties"] !== null) {
    const required = new Set(Array.isArray(schema["required"]) ? (schema["required"] as string[]) : []);
    const keys = Object.keys(schema["properties"] as Schema).map((key) => (required.has(key) ? key : `${key}?`));
    return `{${keys.join(", ")}}`;
  }
  if (type === "array") return `${typeof schema["items"] === "object" && schema["items"] !== null ? describe(schema["items"] as Schema) : "unknown"}[]`;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.join(" | ");
  return "unknown";
}
