/**
 * Epoch time → VeighNa's zoned datetime: the shortcut for hours far from a change of offset
 * gives what the runtime's tz database says, DST changes (1 h, 30 min, 2 h) and repeated hours
 * (fold) included, and reads back to the same instant.
 */
import { describe, expect, it } from "vitest";
import { datetimeToEpochMs, epochMsToDatetime } from "../../transports/vnpy/zoned-time.ts";

const ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Antarctica/Troll", "UTC"];
const MINUTE = 60_000;

const formats = new Map<string, Intl.DateTimeFormat>();
function wallOf(zone: string, epochMs: number): number[] {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formats.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return ["year", "month", "day", "hour", "minute", "second"].map((k) => Number(parts[k]));
}

/** Instants to check in 2024: every few hours, and every 10 minutes within 4 hours of a change of offset. */
function instants(zone: string): number[] {
  const start = Date.UTC(2024, 0, 1);
  const end = Date.UTC(2025, 0, 1);
  const offset = (t: number) => Date.UTC(...(wallOf(zone, t) as [number, number, number, number, number, number]).map((v, i) => (i === 1 ? v - 1 : v)) as [number, number, number, number, number, number]) - t;
  const out: number[] = [];
  for (let t = start; t < end; t += 4 * 60 * MINUTE + 13 * MINUTE + 13_000) out.push(t);
  for (let t = start; t < end; t += 60 * MINUTE) {
    if (offset(t) === offset(t + 60 * MINUTE)) continue;
    for (let u = t - 4 * 60 * MINUTE; u < t + 5 * 60 * MINUTE; u += 10 * MINUTE) out.push(u, u + 59_000);
  }
  return out;
}

describe("epochMsToDatetime", () => {
  it.each(ZONES)("agrees with Intl in %s through a year, around every change of offset too", (zone) => {
    for (const t of instants(zone)) {
      for (const at of [t, t + 450]) {
        const dt = epochMsToDatetime(at, zone);
        const whole = Math.floor(at / 1000) * 1000;
        const wall = wallOf(zone, whole);
        const earlierTwin = [15, 30, 60, 90, 120, 180].some((m) => wallOf(zone, whole - m * MINUTE).join() === wall.join());
        expect({ at, wall: [dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second], fold: dt.fold }).toEqual({ at, wall, fold: earlierTwin ? 1 : 0 });
        expect(dt.microsecond).toBe(Math.round((at - whole) * 1000));
        expect(datetimeToEpochMs(dt)).toBeCloseTo(at, 6);
      }
    }
  });
});
