/**
 * Our own restricted pickle reader, for the pickles VeighNa's RPC sends (protocols 2 to 5).
 *
 * Python's `pickle.loads` imports and calls whatever the bytes name (VeighNa's server runs any
 * peer's `os.system`: vnpy#3754). This reader calls nothing: it is a small stack machine over the
 * opcodes below, and the only globals it resolves are names in an allow-list, each standing for
 * one of our own plain constructors (py-values.ts):
 *
 *   vnpy.trader.object.<data class>, vnpy.event.engine.Event   NEWOBJ with no arguments, then BUILD with a dict
 *   builtins.getattr(vnpy.trader.constant.<Enum>, "MEMBER")     an enum member (Python ≥ 3.11)
 *   vnpy.trader.constant.<Enum>(value)                           an enum member by value (older Pythons)
 *   builtins.getattr(zoneinfo.ZoneInfo, "_unpickle")(key, n)    a time zone (also the dotted protocol-4 name)
 *   datetime.datetime/date/timedelta/timezone                   their pickled state
 *   _codecs.encode(text, "latin1")                               bytes in protocol 2
 *
 * Anything else — another global, an opcode of protocol 0/1 or of persistent ids and
 * extensions, a call of an allowed global with other arguments, a size or depth past the
 * limits — throws `PickleRefused` with the reason, before anything is built from it.
 * The result is a fresh tree (shared references copied, cycles refused), bounded in nodes.
 */
import { isKnownZone } from "./zoned-time.ts";
import {
  isPyDict, PyDatetime, PyEnumMember, PyFloat, PyObject, PyTimedelta, VNPY_ENUMS, VNPY_OBJECT_CLASSES,
  type PyDict, type PyTimezone, type PyValue, type VnpyClass, type VnpyEnum,
} from "./py-values.ts";
import { enumMemberByValue, isEnumMember } from "./enums.ts";

export class PickleRefused extends Error {
  override name = "PickleRefused";
}

export interface PickleLimits {
  /** Largest pickle read, in bytes. Default 16 MiB. */
  maxBytes?: number;
  /** Deepest nesting of containers and objects. Default 32. */
  maxDepth?: number;
  /** Values in the result, counting a shared value each time it appears. Default 1 000 000. */
  maxNodes?: number;
  /** Memo entries. Default 100 000. */
  maxMemo?: number;
}

export const DEFAULT_PICKLE_LIMITS: Required<PickleLimits> = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 32,
  maxNodes: 1_000_000,
  maxMemo: 100_000,
};

// --- what may sit on the stack while reading (never in the result) ---------------------------

const MARK = Symbol("mark");
/** An allowed global, by what it stands for. */
type Global =
  | { g: "getattr" }
  | { g: "class"; name: VnpyClass }
  | { g: "enum"; name: VnpyEnum }
  | { g: "zoneinfo" }
  | { g: "zoneUnpickle" }
  | { g: "datetime" | "date" | "timedelta" | "timezone" }
  | { g: "codecsEncode" };
class GlobalRef {
  constructor(readonly ref: Global) {}
}
/** A tuple: arguments of a call; in the result it becomes a list. */
class Tuple {
  constructor(readonly items: Item[]) {}
}
/** A Python set or frozenset: becomes a list. */
class PySet {
  constructor(readonly items: Item[]) {}
}
/** The timezone object in the making; a `PyTimezone` is plain data, so it is wrapped while on the stack. */
class TzRef {
  constructor(readonly tz: PyTimezone) {}
}
type Item = PyValue | typeof MARK | GlobalRef | Tuple | PySet | TzRef | Item[] | ItemDict;
interface ItemDict {
  [key: string]: Item;
}

const CLASS_OF_MODULE: Record<string, readonly string[]> = {
  "vnpy.trader.object": VNPY_OBJECT_CLASSES,
  "vnpy.trader.constant": VNPY_ENUMS,
};

function resolveGlobal(module: string, name: string): GlobalRef {
  const allowed = (ref: Global) => new GlobalRef(ref);
  if ((module === "builtins" || module === "__builtin__") && name === "getattr") return allowed({ g: "getattr" });
  if (module === "vnpy.trader.object" && CLASS_OF_MODULE[module]!.includes(name)) return allowed({ g: "class", name: name as VnpyClass });
  if (module === "vnpy.event.engine" && name === "Event") return allowed({ g: "class", name: "Event" });
  if (module === "vnpy.trader.constant" && CLASS_OF_MODULE[module]!.includes(name)) return allowed({ g: "enum", name: name as VnpyEnum });
  if (module === "zoneinfo" && name === "ZoneInfo") return allowed({ g: "zoneinfo" });
  if (module === "zoneinfo" && name === "ZoneInfo._unpickle") return allowed({ g: "zoneUnpickle" });
  if (module === "datetime" && (name === "datetime" || name === "date" || name === "timedelta" || name === "timezone")) {
    return allowed({ g: name });
  }
  if (module === "_codecs" && name === "encode") return allowed({ g: "codecsEncode" });
  throw new PickleRefused(`Pickle refers to ${printable(module)}.${printable(name)}, which is not allowed`);
}

function printable(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return short.replace(/[^\x20-\x7e]/g, "?");
}

// --- the reader ----------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Read one pickle. Throws `PickleRefused` (refused or malformed); returns plain data only. */
export function readPickle(bytes: Uint8Array, limits: PickleLimits = {}): PyValue {
  const l = { ...DEFAULT_PICKLE_LIMITS, ...limits };
  if (bytes.length > l.maxBytes) throw new PickleRefused(`Pickle of ${bytes.length} bytes exceeds ${l.maxBytes}`);
  const top = new Reader(bytes, l.maxMemo).run();
  return freeze(top, l);
}

class Reader {
  readonly #b: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  readonly #stack: Item[] = [];
  readonly #memo = new Map<number, Item>();
  readonly #maxMemo: number;

  constructor(bytes: Uint8Array, maxMemo: number) {
    this.#b = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#maxMemo = maxMemo;
  }

  run(): Item {
    const s = this.#stack;
    for (;;) {
      const op = this.#u8();
      switch (op) {
        case 0x80: { // PROTO
          const proto = this.#u8();
          if (proto < 2 || proto > 5) throw new PickleRefused(`Pickle protocol ${proto} is not accepted (2 to 5 are)`);
          break;
        }
        case 0x95: // FRAME: a length hint only
          this.#take(8);
          break;
        case 0x2e: { // STOP
          if (s.length !== 1 || s[0] === MARK) throw new PickleRefused("Malformed pickle: the stack does not hold one value at STOP");
          return s[0]!;
        }
        case 0x28: s.push(MARK); break; // MARK
        case 0x30: this.#pop(); break; // POP
        case 0x31: this.#popMark(); break; // POP_MARK
        case 0x32: s.push(this.#peek()); break; // DUP
        case 0x4e: s.push(null); break; // NONE
        case 0x88: s.push(true); break; // NEWTRUE
        case 0x89: s.push(false); break; // NEWFALSE
        case 0x4a: s.push(this.#view.getInt32(this.#advance(4), true)); break; // BININT
        case 0x4b: s.push(this.#u8()); break; // BININT1
        case 0x4d: s.push(this.#view.getUint16(this.#advance(2), true)); break; // BININT2
        case 0x8a: s.push(this.#long(this.#u8())); break; // LONG1
        case 0x8b: s.push(this.#long(this.#view.getUint32(this.#advance(4), true))); break; // LONG4
        case 0x47: s.push(new PyFloat(this.#view.getFloat64(this.#advance(8), false))); break; // BINFLOAT
        case 0x8c: s.push(this.#text(this.#u8())); break; // SHORT_BINUNICODE
        case 0x58: s.push(this.#text(this.#view.getUint32(this.#advance(4), true))); break; // BINUNICODE
        case 0x8d: s.push(this.#text(this.#u64())); break; // BINUNICODE8
        case 0x43: s.push(this.#take(this.#u8()).slice()); break; // SHORT_BINBYTES
        case 0x42: s.push(this.#take(this.#view.getUint32(this.#advance(4), true)).slice()); break; // BINBYTES
        case 0x8e: case 0x96: s.push(this.#take(this.#u64()).slice()); break; // BINBYTES8, BYTEARRAY8
        case 0x5d: s.push([]); break; // EMPTY_LIST
        case 0x6c: s.push(this.#popMark()); break; // LIST
        case 0x61: { // APPEND
          const v = this.#pop();
          this.#list(this.#peek()).push(v);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.#popMark();
          this.#list(this.#peek()).push(...items);
          break;
        }
        case 0x29: s.push(new Tuple([])); break; // EMPTY_TUPLE
        case 0x74: s.push(new Tuple(this.#popMark())); break; // TUPLE
        case 0x85: s.push(new Tuple([this.#pop()])); break; // TUPLE1
        case 0x86: { // TUPLE2
          const b = this.#pop();
          s.push(new Tuple([this.#pop(), b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = this.#pop();
          const b = this.#pop();
          s.push(new Tuple([this.#pop(), b, c]));
          break;
        }
        case 0x7d: s.push(Object.create(null) as ItemDict); break; // EMPTY_DICT
        case 0x64: { // DICT
          const items = this.#popMark();
          s.push(this.#setItems(Object.create(null) as ItemDict, items));
          break;
        }
        case 0x73: { // SETITEM
          const v = this.#pop();
          const k = this.#pop();
          this.#setItems(this.#dict(this.#peek()), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.#popMark();
          this.#setItems(this.#dict(this.#peek()), items);
          break;
        }
        case 0x8f: s.push(new PySet([])); break; // EMPTY_SET
        case 0x90: { // ADDITEMS
          const items = this.#popMark();
          const set = this.#peek();
          if (!(set instanceof PySet)) throw new PickleRefused("Malformed pickle: ADDITEMS on a non-set");
          set.items.push(...items);
          break;
        }
        case 0x91: s.push(new PySet(this.#popMark())); break; // FROZENSET
        case 0x71: this.#put(this.#u8()); break; // BINPUT
        case 0x72: this.#put(this.#view.getUint32(this.#advance(4), true)); break; // LONG_BINPUT
        case 0x94: this.#put(this.#memo.size); break; // MEMOIZE
        case 0x68: s.push(this.#get(this.#u8())); break; // BINGET
        case 0x6a: s.push(this.#get(this.#view.getUint32(this.#advance(4), true))); break; // LONG_BINGET
        case 0x63: { // GLOBAL: "module\nname\n"
          const module = this.#line();
          s.push(resolveGlobal(module, this.#line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== "string" || typeof name !== "string") throw new PickleRefused("Malformed pickle: STACK_GLOBAL needs two strings");
          s.push(resolveGlobal(module, name));
          break;
        }
        case 0x52: { // REDUCE
          const args = this.#pop();
          const callable = this.#pop();
          if (!(args instanceof Tuple)) throw new PickleRefused("Malformed pickle: REDUCE arguments are not a tuple");
          s.push(call(callable, args.items));
          break;
        }
        case 0x81: { // NEWOBJ
          const args = this.#pop();
          s.push(newObject(this.#pop(), args, undefined));
          break;
        }
        case 0x92: { // NEWOBJ_EX
          const kwargs = this.#pop();
          const args = this.#pop();
          s.push(newObject(this.#pop(), args, kwargs));
          break;
        }
        case 0x62: { // BUILD
          const state = this.#pop();
          build(this.#peek(), state);
          break;
        }
        default:
          throw new PickleRefused(`Pickle opcode 0x${op.toString(16).padStart(2, "0")} (${OPCODE_NAMES[op] ?? "unknown"}) is not accepted`);
      }
    }
  }

  #advance(n: number): number {
    const at = this.#pos;
    if (at + n > this.#b.length) throw new PickleRefused("Malformed pickle: truncated");
    this.#pos = at + n;
    return at;
  }
  #u8(): number {
    return this.#b[this.#advance(1)]!;
  }
  #u64(): number {
    const n = this.#view.getBigUint64(this.#advance(8), true);
    if (n > BigInt(this.#b.length)) throw new PickleRefused("Malformed pickle: truncated");
    return Number(n);
  }
  #take(n: number): Uint8Array {
    const at = this.#advance(n);
    return this.#b.subarray(at, at + n);
  }
  #text(n: number): string {
    try {
      return utf8.decode(this.#take(n));
    } catch (error) {
      if (error instanceof PickleRefused) throw error;
      throw new PickleRefused("Malformed pickle: a string is not valid UTF-8");
    }
  }
  #line(): string {
    const end = this.#b.indexOf(0x0a, this.#pos);
    if (end < 0 || end - this.#pos > 256) throw new PickleRefused("Malformed pickle: GLOBAL name");
    return this.#text(end - this.#pos + 1).slice(0, -1);
  }
  /** Python ints beyond a double's exact range are refused rather than silently rounded. */
  #long(n: number): number {
    if (n > 8) throw new PickleRefused(`Integer of ${n} bytes is not accepted`);
    const bytes = this.#take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (n > 0 && (bytes[n - 1]! & 0x80) !== 0) v -= 1n << BigInt(8 * n);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new PickleRefused("Integer beyond ±2^53 is not accepted");
    }
    return Number(v);
  }
  #pop(): Item {
    const v = this.#stack.pop();
    if (v === undefined || v === MARK) throw new PickleRefused("Malformed pickle: stack underflow");
    return v;
  }
  #peek(): Item {
    const v = this.#stack[this.#stack.length - 1];
    if (v === undefined || v === MARK) throw new PickleRefused("Malformed pickle: stack underflow");
    return v;
  }
  #popMark(): Item[] {
    const at = this.#stack.lastIndexOf(MARK);
    if (at < 0) throw new PickleRefused("Malformed pickle: no MARK");
    const items = this.#stack.splice(at);
    items.shift();
    return items;
  }
  #put(index: number): void {
    if (this.#memo.size >= this.#maxMemo && !this.#memo.has(index)) throw new PickleRefused(`Pickle memo exceeds ${this.#maxMemo} entries`);
    this.#memo.set(index, this.#peek());
  }
  #get(index: number): Item {
    const v = this.#memo.get(index);
    if (v === undefined) throw new PickleRefused("Malformed pickle: memo entry missing");
    return v;
  }
  #list(target: Item): Item[] {
    if (!Array.isArray(target)) throw new PickleRefused("Malformed pickle: APPEND to a non-list");
    return target;
  }
  #dict(target: Item): ItemDict {
    if (!isItemDict(target)) throw new PickleRefused("Malformed pickle: SETITEM on a non-dict");
    return target;
  }
  #setItems(dict: ItemDict, items: Item[]): ItemDict {
    if (items.length % 2 !== 0) throw new PickleRefused("Malformed pickle: odd number of dict items");
    for (let i = 0; i < items.length; i += 2) dict[dictKey(items[i]!)] = items[i + 1]!;
    return dict;
  }
}

function isItemDict(value: Item): value is ItemDict {
  return value !== null && typeof value === "object" && Object.getPrototypeOf(value) === null;
}

/** Dict keys become strings; `__proto__` never becomes one (it would be a prototype in plain objects). */
function dictKey(key: Item): string {
  let text: string;
  if (typeof key === "string") text = key;
  else if (typeof key === "number" || typeof key === "boolean") text = String(key);
  else if (key instanceof PyFloat) text = String(key.value);
  else throw new PickleRefused("Dict keys must be strings or numbers");
  if (text === "__proto__") throw new PickleRefused("The dict key __proto__ is not accepted");
  return text;
}

// --- the few "calls" the allow-list permits: each builds plain data ------------------------

function call(callable: Item, args: Item[]): Item {
  if (!(callable instanceof GlobalRef)) throw new PickleRefused("Pickle calls something that is not an allowed global");
  const ref = callable.ref;
  switch (ref.g) {
    case "getattr": {
      const [target, name] = args;
      if (args.length !== 2 || !(target instanceof GlobalRef) || typeof name !== "string") break;
      if (target.ref.g === "enum") {
        if (!isEnumMember(target.ref.name, name)) throw new PickleRefused(`${target.ref.name} has no member ${printable(name)}`);
        return new PyEnumMember(target.ref.name, name);
      }
      if (target.ref.g === "zoneinfo" && name === "_unpickle") return new GlobalRef({ g: "zoneUnpickle" });
      throw new PickleRefused(`getattr(…, ${JSON.stringify(printable(name))}) is not allowed`);
    }
    case "enum": {
      const [value] = args;
      if (args.length !== 1 || typeof value !== "string") break;
      const member = enumMemberByValue(ref.name, value);
      if (member === undefined) throw new PickleRefused(`${ref.name} has no value ${JSON.stringify(printable(value))}`);
      return new PyEnumMember(ref.name, member);
    }
    case "zoneUnpickle": {
      const [key] = args;
      if (args.length !== 2 || typeof key !== "string") break;
      if (!isKnownZone(key)) throw new PickleRefused(`Unknown time zone ${JSON.stringify(printable(key))}`);
      return new TzRef({ kind: "zone", key });
    }
    case "datetime":
    case "date":
      return datetimeFrom(ref.g, args);
    case "timedelta": {
      const [d, s, us] = args.map(number);
      if (args.length !== 3 || d === undefined || s === undefined || us === undefined) break;
      return new PyTimedelta(d, s, us);
    }
    case "timezone": {
      const [delta, name] = args;
      if (!(delta instanceof PyTimedelta) || (args.length === 2 && typeof name !== "string") || args.length > 2) break;
      return new TzRef({ kind: "fixed", offsetSeconds: delta.totalSeconds });
    }
    case "codecsEncode": {
      const [text, encoding] = args;
      if (args.length !== 2 || typeof text !== "string" || (encoding !== "latin1" && encoding !== "latin-1")) break;
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 0xff) throw new PickleRefused("Malformed pickle: latin1 text out of range");
        out[i] = c;
      }
      return out;
    }
    default:
      break;
  }
  throw new PickleRefused(`Pickle calls ${describeGlobal(ref)} with arguments that are not allowed`);
}

function describeGlobal(ref: Global): string {
  return "name" in ref ? ref.name : ref.g;
}

function number(item: Item | undefined): number | undefined {
  if (typeof item === "number") return item;
  return undefined;
}

function datetimeFrom(kind: "datetime" | "date", args: Item[]): PyDatetime {
  const [state, tzArg] = args;
  const size = kind === "datetime" ? 10 : 4;
  if (!(state instanceof Uint8Array) || state.length !== size || args.length > (kind === "datetime" ? 2 : 1)) {
    throw new PickleRefused(`Pickle builds a ${kind} from arguments that are not allowed`);
  }
  let tz: PyTimezone | null = null;
  if (tzArg instanceof TzRef) tz = tzArg.tz;
  else if (tzArg !== undefined && tzArg !== null) throw new PickleRefused(`Pickle gives a ${kind} a tzinfo that is not allowed`);
  const year = state[0]! * 256 + state[1]!;
  if (kind === "date") return new PyDatetime(year, state[2]!, state[3]!, 0, 0, 0, 0, 0, null, true);
  const fold = (state[2]! & 0x80) !== 0 ? 1 : 0;
  const month = state[2]! & 0x7f;
  const us = (state[7]! << 16) | (state[8]! << 8) | state[9]!;
  if (month < 1 || month > 12 || state[3]! < 1 || state[3]! > 31 || state[4]! > 23 || state[5]! > 59 || state[6]! > 59 || us > 999_999) {
    throw new PickleRefused("Malformed pickle: datetime out of range");
  }
  return new PyDatetime(year, month, state[3]!, state[4]!, state[5]!, state[6]!, us, fold, tz);
}

function newObject(cls: Item, args: Item, kwargs: Item | undefined): PyObject {
  if (!(cls instanceof GlobalRef) || cls.ref.g !== "class") throw new PickleRefused("Pickle creates an object of a class that is not allowed");
  const noKwargs = kwargs === undefined || (isItemDict(kwargs) && Object.keys(kwargs).length === 0);
  if (!(args instanceof Tuple) || args.items.length !== 0 || !noKwargs) {
    throw new PickleRefused(`Pickle creates ${cls.ref.name} with constructor arguments, which is not allowed`);
  }
  return new PyObject(cls.ref.name, Object.create(null) as PyDict);
}

/** Objects whose state a BUILD has set: Python writes one BUILD per object, never more. */
const built = new WeakSet<PyObject>();

/**
 * BUILD: an allowed object's `__dict__` (a dict, or `(dict, None)` with slots). Once per object:
 * repeating BUILD on a large memoised dict would copy it again each time (3 bytes of pickle for
 * a whole dict's work).
 */
function build(target: Item, state: Item): void {
  if (!(target instanceof PyObject)) throw new PickleRefused("Pickle sets the state of something that is not an allowed object");
  if (built.has(target)) throw new PickleRefused(`Pickle sets the state of one ${target.className} twice`);
  built.add(target);
  let dict: Item = state;
  if (state instanceof Tuple && state.items.length === 2 && state.items[1] === null) dict = state.items[0]!;
  if (!isItemDict(dict)) throw new PickleRefused(`Pickle sets the state of ${target.className} to something other than a dict`);
  // Kept as items until freeze() copies them into plain values.
  Object.assign(target.state, dict as unknown as PyDict);
}

// --- from the stack machine's items to a fresh, bounded tree -------------------------------

function freeze(top: Item, limits: Required<PickleLimits>): PyValue {
  let nodes = 0;
  const walk = (item: Item, depth: number): PyValue => {
    if (++nodes > limits.maxNodes) throw new PickleRefused(`Pickle holds more than ${limits.maxNodes} values`);
    if (item === null || typeof item === "boolean" || typeof item === "number" || typeof item === "string") return item;
    if (item instanceof Uint8Array || item instanceof PyFloat || item instanceof PyEnumMember) return item;
    if (item instanceof PyDatetime || item instanceof PyTimedelta) return item;
    if (depth >= limits.maxDepth) throw new PickleRefused(`Pickle nests deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(item)) return item.map((x) => walk(x, depth + 1));
    if (item instanceof Tuple || item instanceof PySet) return item.items.map((x) => walk(x, depth + 1));
    if (item instanceof PyObject) return new PyObject(item.className, walkDict(item.state as unknown as ItemDict, depth + 1));
    if (item instanceof TzRef) return { kind: item.tz.kind, ...(item.tz.kind === "zone" ? { key: item.tz.key } : { offsetSeconds: item.tz.offsetSeconds }) };
    if (isItemDict(item)) return walkDict(item, depth + 1);
    if (item instanceof GlobalRef) throw new PickleRefused(`Pickle returns ${describeGlobal(item.ref)} itself, which is not allowed`);
    throw new PickleRefused("Malformed pickle: a MARK left in a value");
  };
  const walkDict = (dict: ItemDict, depth: number): PyDict => {
    const out: PyDict = {};
    for (const key of Object.keys(dict)) out[key] = walk(dict[key]!, depth);
    return out;
  };
  return walk(top, 0);
}

export { isPyDict };

const OPCODE_NAMES: Record<number, string> = {
  0x49: "INT", 0x4c: "LONG", 0x53: "STRING", 0x56: "UNICODE", 0x46: "FLOAT", 0x70: "PUT", 0x67: "GET",
  0x54: "BINSTRING", 0x55: "SHORT_BINSTRING", 0x69: "INST", 0x6f: "OBJ", 0x50: "PERSID", 0x51: "BINPERSID",
  0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
};
