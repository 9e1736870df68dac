/** Number and time formatting for tables: fixed decimals, so digits line up with tabular-nums. */

/** Decimals needed to show multiples of `step` (0.2 → 1, 0.01 → 2, 5 → 0). */
export function decimalsOf(step: number): number {
  if (!(step > 0)) return 2;
  for (let d = 0; d <= 8; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-9) return d;
  return 8;
}

export function fixed(value: number | undefined, decimals: number): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(decimals) : "–";
}

const grouped = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Money: thousands separators and two decimals. */
export function money(value: number | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? grouped.format(value) : "–";
}

export function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`;
}

/** HH:MM:SS of an epoch-milliseconds time, in the visitor's zone (milliseconds in `title`s). */
export function clockTime(epochMs: number, withMilliseconds = false): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const seconds = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMilliseconds ? `${seconds}.${pad(d.getMilliseconds(), 3)}` : seconds;
}

/** A compact, bounded preview of a payload for one log row. Never evaluated, only printed. */
export function preview(value: unknown, max = 160): string {
  let text: string;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
  } catch {
    text = String(value);
  }
  if (text === undefined) return "";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
