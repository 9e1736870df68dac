/**
 * A pickle writer for exactly the shapes VeighNa's client unpickles: lists, dicts, strings,
 * bytes, ints, floats, bools and None; vnpy objects as class + state dict (NEWOBJ, BUILD);
 * enums as `getattr(EnumClass, "NAME")` (what Python ≥ 3.11 writes, independent of the locale);
 * datetimes as Python writes them, with `zoneinfo.ZoneInfo._unpickle(key, 1)`. Protocol 4
 * opcodes, no memo: output is a tree, as the values given are.
 */
import {
  isPyDict, PyDatetime, PyEnumMember, PyFloat, PyObject, PyTimedelta, type PyTimezone, type PyValue,
} from "./py-values.ts";

const utf8 = new TextEncoder();

const MODULE_OF_CLASS = (name: string) => (name === "Event" ? "vnpy.event.engine" : "vnpy.trader.object");

/** Nesting of the values written; deeper is a bug upstream (or a cycle), not a pickle to send. */
const MAX_DEPTH = 64;

class Out {
  #buf = new Uint8Array(256);
  #len = 0;
  #view = new DataView(this.#buf.buffer);

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#len++] = b;
  }
  /**
   * A str of fewer than 256 characters, all ASCII (names, identifiers, modules: nearly every
   * string here), as SHORT_BINUNICODE, straight into the buffer. False, with nothing written,
   * for any other string.
   */
  shortAscii(text: string): boolean {
    const n = text.length;
    if (n >= 256) return false;
    this.#room(n + 2);
    const buf = this.#buf;
    const at = this.#len + 2;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[at + i] = c;
    }
    buf[this.#len] = 0x8c; // SHORT_BINUNICODE
    buf[this.#len + 1] = n;
    this.#len = at + n;
    return true;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  u32(n: number): void {
    this.#room(4);
    this.#view.setUint32(this.#len, n, true);
    this.#len += 4;
  }
  i32(n: number): void {
    this.#room(4);
    this.#view.setInt32(this.#len, n, true);
    this.#len += 4;
  }
  f64(n: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#len, n, false);
    this.#len += 8;
  }
  i64(n: bigint): void {
    this.#room(8);
    this.#view.setBigInt64(this.#len, n, true);
    this.#len += 8;
  }
  result(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

export function writePickle(value: PyValue): Uint8Array {
  const out = new Out();
  out.byte(0x80); // PROTO 4
  out.byte(4);
  write(out, value, 0);
  out.byte(0x2e); // STOP
  return out.result();
}

/**
 * `["", Event(type, data)]` for each type, as `writePickle` writes it, with `data` pickled once:
 * VeighNa's gateways put each datum under two event types (the general and the specific one).
 */
export function writeEventPickles(types: readonly string[], data: PyValue): Uint8Array[] {
  const body = new Out();
  write(body, data, 2); // the depth writePickle reaches it at: list → Event → its state
  const dataBytes = body.result();
  return types.map((type) => {
    const out = new Out();
    out.byte(0x80); // PROTO 4
    out.byte(4);
    out.byte(0x5d); // EMPTY_LIST
    out.byte(0x28); // MARK
    writeString(out, "");
    writeGlobal(out, MODULE_OF_CLASS("Event"), "Event");
    out.byte(0x29); // EMPTY_TUPLE
    out.byte(0x81); // NEWOBJ
    out.byte(0x7d); // EMPTY_DICT
    out.byte(0x28); // MARK
    writeString(out, "type");
    writeString(out, type);
    writeString(out, "data");
    out.bytes(dataBytes);
    out.byte(0x75); // SETITEMS
    out.byte(0x62); // BUILD
    out.byte(0x65); // APPENDS
    out.byte(0x2e); // STOP
    return out.result();
  });
}

function writeString(out: Out, text: string): void {
  if (out.shortAscii(text)) return;
  const b = utf8.encode(text);
  if (b.length < 256) {
    out.byte(0x8c); // SHORT_BINUNICODE
    out.byte(b.length);
  } else {
    out.byte(0x58); // BINUNICODE
    out.u32(b.length);
  }
  out.bytes(b);
}

function writeBytes(out: Out, b: Uint8Array): void {
  if (b.length < 256) {
    out.byte(0x43); // SHORT_BINBYTES
    out.byte(b.length);
  } else {
    out.byte(0x42); // BINBYTES
    out.u32(b.length);
  }
  out.bytes(b);
}

/** `module name` → its bytes: the same few classes, enums and functions are named in every event. */
const globalBytes = new Map<string, Uint8Array>();

function writeGlobal(out: Out, module: string, name: string): void {
  const key = `${module} ${name}`;
  let bytes = globalBytes.get(key);
  if (bytes === undefined) {
    const own = new Out();
    writeString(own, module);
    writeString(own, name);
    own.byte(0x93); // STACK_GLOBAL
    bytes = own.result();
    if (globalBytes.size >= 1024) globalBytes.clear();
    globalBytes.set(key, bytes);
  }
  out.bytes(bytes);
}

function writeInt(out: Out, n: number): void {
  if (n >= 0 && n < 256) {
    out.byte(0x4b); // BININT1
    out.byte(n);
  } else if (n >= -0x8000_0000 && n <= 0x7fff_ffff) {
    out.byte(0x4a); // BININT
    out.i32(n);
  } else {
    out.byte(0x8a); // LONG1, 8 bytes two's complement
    out.byte(8);
    out.i64(BigInt(n));
  }
}

function writeFloat(out: Out, n: number): void {
  out.byte(0x47); // BINFLOAT
  out.f64(n);
}

function writeTz(out: Out, tz: PyTimezone): void {
  if (tz.kind === "zone") {
    // getattr(zoneinfo.ZoneInfo, "_unpickle")(key, 1): what ZoneInfo.__reduce__ gives.
    writeGlobal(out, "builtins", "getattr");
    writeGlobal(out, "zoneinfo", "ZoneInfo");
    writeString(out, "_unpickle");
    out.byte(0x86); // TUPLE2
    out.byte(0x52); // REDUCE
    writeString(out, tz.key);
    writeInt(out, 1);
    out.byte(0x86);
    out.byte(0x52);
    return;
  }
  writeGlobal(out, "datetime", "timezone");
  write(out, new PyTimedelta(Math.floor(tz.offsetSeconds / 86_400), ((tz.offsetSeconds % 86_400) + 86_400) % 86_400, 0), 1);
  out.byte(0x85); // TUPLE1
  out.byte(0x52);
}

function write(out: Out, v: PyValue | undefined, depth: number): void {
  if (depth > MAX_DEPTH) throw new RangeError(`Value nests deeper than ${MAX_DEPTH} levels`);
  if (v === null || v === undefined) return out.byte(0x4e); // NONE
  if (v === true) return out.byte(0x88);
  if (v === false) return out.byte(0x89);
  if (typeof v === "number") return Number.isSafeInteger(v) ? writeInt(out, v) : writeFloat(out, v);
  if (typeof v === "string") return writeString(out, v);
  if (v instanceof Uint8Array) return writeBytes(out, v);
  if (v instanceof PyFloat) return writeFloat(out, v.value);
  if (Array.isArray(v)) {
    out.byte(0x5d); // EMPTY_LIST
    if (v.length === 0) return;
    out.byte(0x28); // MARK
    for (const item of v) write(out, item, depth + 1);
    out.byte(0x65); // APPENDS
    return;
  }
  if (v instanceof PyEnumMember) {
    writeGlobal(out, "builtins", "getattr");
    writeGlobal(out, "vnpy.trader.constant", v.enumName);
    writeString(out, v.member);
    out.byte(0x86);
    out.byte(0x52);
    return;
  }
  if (v instanceof PyDatetime) {
    writeGlobal(out, "datetime", v.dateOnly ? "date" : "datetime");
    const state = v.dateOnly
      ? Uint8Array.of(v.year >> 8, v.year & 0xff, v.month, v.day)
      : Uint8Array.of(
        v.year >> 8, v.year & 0xff, v.month | (v.fold ? 0x80 : 0), v.day, v.hour, v.minute, v.second,
        (v.microsecond >> 16) & 0xff, (v.microsecond >> 8) & 0xff, v.microsecond & 0xff,
      );
    writeBytes(out, state);
    if (v.tz && !v.dateOnly) {
      writeTz(out, v.tz);
      out.byte(0x86);
    } else {
      out.byte(0x85);
    }
    out.byte(0x52);
    return;
  }
  if (v instanceof PyTimedelta) {
    writeGlobal(out, "datetime", "timedelta");
    writeInt(out, v.days);
    writeInt(out, v.seconds);
    writeInt(out, v.microseconds);
    out.byte(0x87); // TUPLE3
    out.byte(0x52);
    return;
  }
  if (v instanceof PyObject) {
    writeGlobal(out, MODULE_OF_CLASS(v.className), v.className);
    out.byte(0x29); // EMPTY_TUPLE
    out.byte(0x81); // NEWOBJ
    writeDict(out, v.state, depth);
    out.byte(0x62); // BUILD
    return;
  }
  if (isPyDict(v)) return writeDict(out, v, depth);
  throw new TypeError(`Cannot pickle ${Object.prototype.toString.call(v)}`);
}

function writeDict(out: Out, dict: Record<string, PyValue>, depth: number): void {
  out.byte(0x7d); // EMPTY_DICT
  const keys = Object.keys(dict).filter((k) => dict[k] !== undefined);
  if (keys.length === 0) return;
  out.byte(0x28);
  for (const key of keys) {
    writeString(out, key);
    write(out, dict[key], depth + 1);
  }
  out.byte(0x75); // SETITEMS
}
