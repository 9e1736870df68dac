/**
 * Python datetimes ↔ epoch milliseconds. VeighNa's datetimes are wall times with a
 * `zoneinfo.ZoneInfo` (its gateways use "Asia/Shanghai"); tradewire's are epoch milliseconds.
 * Zone offsets come from `Intl` (the runtime's tz database), so no zone data ships here.
 */
import { PyDatetime, type PyTimezone } from "./py-values.ts";

const formatters = new Map<string, Intl.DateTimeFormat>();

/** True for a key `Intl` knows (an IANA zone such as "Asia/Shanghai" or "UTC"). */
export function isKnownZone(key: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(key)) return false;
  try {
    formatterOf(key);
    return true;
  } catch {
    return false;
  }
}

function formatterOf(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric", era: "short",
    });
    formatters.set(zone, f);
  }
  return f;
}

interface Wall {
  year: number; month: number; day: number; hour: number; minute: number; second: number;
}

function wallIn(zone: string, epochMs: number): Wall {
  const parts: Record<string, string> = {};
  for (const p of formatterOf(zone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  let year = Number(parts["year"]);
  if (parts["era"] === "BC" || parts["era"] === "B") year = 1 - year;
  return {
    year, month: Number(parts["month"]), day: Number(parts["day"]),
    hour: Number(parts["hour"]), minute: Number(parts["minute"]), second: Number(parts["second"]),
  };
}

function utcOf(w: Wall): number {
  const d = new Date(0);
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

/** The zone's offset from UTC at an instant, in ms (whole seconds). */
function offsetAt(zone: string, epochMs: number): number {
  const whole = Math.floor(epochMs / 1000) * 1000;
  return utcOf(wallIn(zone, whole)) - whole;
}

const DAY = 86_400_000;

/** The instant a wall time names in `zone`; `fold` picks the later of two (a repeated hour), as Python's. */
function zonedToEpoch(zone: string, wallUtc: number, fold: 0 | 1): number {
  const before = offsetAt(zone, wallUtc - DAY);
  const after = offsetAt(zone, wallUtc + DAY);
  const candidates = [...new Set([wallUtc - before, wallUtc - after])]
    .filter((t) => t + offsetAt(zone, t) === wallUtc)
    .sort((a, b) => a - b);
  if (candidates.length === 0) return wallUtc - (fold === 0 ? before : after); // in a gap: Python's rule
  return fold === 1 ? candidates[candidates.length - 1]! : candidates[0]!;
}

/**
 * Epoch milliseconds of a Python datetime. A naive one is read in the process's own zone, as
 * Python's `datetime.timestamp()` reads it; microseconds survive as a fraction of a millisecond.
 */
export function datetimeToEpochMs(dt: PyDatetime): number {
  const wall = { year: dt.year, month: dt.month, day: dt.day, hour: dt.hour, minute: dt.minute, second: dt.second };
  const sub = dt.microsecond / 1000;
  if (dt.tz === null) {
    const d = new Date(0);
    d.setFullYear(dt.year, dt.month - 1, dt.day);
    d.setHours(dt.hour, dt.minute, dt.second, 0);
    return d.getTime() + sub;
  }
  const wallUtc = utcOf(wall);
  if (dt.tz.kind === "fixed") return wallUtc - dt.tz.offsetSeconds * 1000 + sub;
  return zonedToEpoch(dt.tz.key, wallUtc, dt.fold) + sub;
}

const HOUR = 3_600_000;
/** Zone → hour (epoch hours) → the zone's offset through that hour, for hours far from any change of offset. */
const steadyOffsets = new Map<string, Map<number, number>>();

/**
 * The zone's offset at `whole` when no change of offset happened from 3 hours before its hour
 * to the hour's end, else undefined. Such an instant has one wall time and no earlier twin
 * (fold 0), so its datetime needs no more of `Intl` (several formatToParts calls, tens of µs
 * each: the most expensive part of writing an event with a datetime).
 */
function steadyOffset(zone: string, whole: number): number | undefined {
  const hour = Math.floor(whole / HOUR);
  let hours = steadyOffsets.get(zone);
  const known = hours?.get(hour);
  if (known !== undefined) return known;
  const start = hour * HOUR;
  const offset = offsetAt(zone, start);
  if (offsetAt(zone, start - 3 * HOUR) !== offset || offsetAt(zone, start + HOUR - 1000) !== offset) return undefined;
  if (hours === undefined) steadyOffsets.set(zone, (hours = new Map()));
  if (hours.size >= 4096) hours.clear();
  hours.set(hour, offset);
  return offset;
}

/** A Python datetime with a `ZoneInfo(zone)` for an epoch time. */
export function epochMsToDatetime(epochMs: number, zone: string): PyDatetime {
  if (!Number.isFinite(epochMs)) throw new RangeError(`Not a time: ${epochMs}`);
  const whole = Math.floor(epochMs / 1000) * 1000;
  const microsecond = Math.min(999_999, Math.round((epochMs - whole) * 1000));
  const offset = steadyOffset(zone, whole);
  if (offset !== undefined) {
    const d = new Date(whole + offset);
    const year = d.getUTCFullYear();
    if (year >= 1 && year <= 9999) {
      return new PyDatetime(year, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), microsecond, 0, { kind: "zone", key: zone });
    }
  }
  const w = wallIn(zone, whole);
  if (w.year < 1 || w.year > 9999) throw new RangeError(`Time out of Python's datetime range: ${epochMs}`);
  // The second of two equal wall times (clocks turned back) is fold 1.
  const fold: 0 | 1 = zonedToEpoch(zone, utcOf(w), 0) === whole ? 0 : 1;
  return new PyDatetime(w.year, w.month, w.day, w.hour, w.minute, w.second, microsecond, fold, { kind: "zone", key: zone });
}

export type { PyTimezone };
