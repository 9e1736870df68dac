/**
 * `tradewire call` takes VeighNa's own enum values where a VeighNa user would type them
 * (`{"direction":"多","offset":"开"}`, `{"interval":"1m"}`) and sends the names tradewire's wire
 * uses (`LONG`, `OPEN`, `MINUTE`): on the wire an enum is always its name. Only fields named as
 * VeighNa names them are translated, and only values that are one member's label; anything else
 * goes as typed, and the server's schema says what it expects.
 */
import { labels } from "../sim/constant.ts";

const FIELDS: Record<string, Record<string, string>> = {
  direction: labels.Direction,
  offset: labels.Offset,
  status: labels.Status,
  product: labels.Product,
  type: labels.OrderType,
  optionType: labels.OptionType,
  interval: labels.Interval,
};

/** Field → label → name, for labels that are not already a name. */
const BY_LABEL: Record<string, Map<string, string>> = Object.fromEntries(
  Object.entries(FIELDS).map(([field, byName]) => [
    field,
    new Map(Object.entries(byName).filter(([name, label]) => label !== "" && label !== name).map(([name, label]) => [label, name])),
  ]),
);

/** `value` with VeighNa's enum values in known fields replaced by their names (a copy where changed). */
export function namesForVeighNaValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(namesForVeighNaValues);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const name = typeof field === "string" ? BY_LABEL[key]?.get(field) : undefined;
    out[key] = name ?? namesForVeighNaValues(field);
  }
  return out;
}
