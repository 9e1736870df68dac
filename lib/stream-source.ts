/**
 * What a handler may return for a stream, turned into one async iterator: an async generator or
 * any AsyncIterable, a ReadableStream, a (sync) generator, an array (each element is an item),
 * or any other value (one item). A plain call of a handler that returns a stream gets the items
 * collected into an array.
 */

/** Streamed values that MessagePack could not carry as they are: they are iterated, not encoded. */
export function isStreamSource(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> | ReadableStream<unknown> {
  if (typeof value !== "object" || value === null) return false;
  if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") return true;
  if (typeof (value as ReadableStream<unknown>).getReader === "function") return true;
  // Most results are plain objects or arrays: answered before the slower tag check.
  if (typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function" || Array.isArray(value)) return false;
  return Object.prototype.toString.call(value) === "[object Generator]";
}

/** The items of a handler's result, one at a time. */
export function itemsOf(value: unknown): AsyncIterator<unknown> {
  if (typeof value === "object" && value !== null) {
    const asyncIterable = value as AsyncIterable<unknown>;
    if (typeof asyncIterable[Symbol.asyncIterator] === "function") return asyncIterable[Symbol.asyncIterator]();
    const stream = value as ReadableStream<unknown>;
    if (typeof stream.getReader === "function") return readerIterator(stream.getReader());
    if (Array.isArray(value) || Object.prototype.toString.call(value) === "[object Generator]") {
      return syncIterator((value as Iterable<unknown>)[Symbol.iterator]());
    }
  }
  return syncIterator([value][Symbol.iterator]());
}

/**
 * Every item, into an array of at most `maxItems`; more is a RangeError ("stream it instead").
 * Stops early, closing the iterator, once `abandoned()` says nobody waits for the result.
 */
export async function collect(items: AsyncIterator<unknown>, maxItems: number, abandoned: () => boolean): Promise<unknown[]> {
  const out: unknown[] = [];
  try {
    for (let next = await items.next(); !next.done; next = await items.next()) {
      if (abandoned()) {
        await items.return?.();
        return out;
      }
      if (out.length >= maxItems) throw new RangeError(`More than ${maxItems} items: call stream() to receive them as a stream`);
      out.push(next.value);
    }
    return out;
  } catch (error) {
    await items.return?.().catch(() => {});
    throw error;
  }
}

function syncIterator(iterator: Iterator<unknown>): AsyncIterator<unknown> {
  return {
    next: async () => iterator.next(),
    return: async () => iterator.return?.() ?? { done: true, value: undefined },
  };
}

function readerIterator(reader: ReadableStreamDefaultReader<unknown>): AsyncIterator<unknown> {
  return {
    next: async () => {
      const { done, value } = await reader.read();
      return done ? { done: true, value: undefined } : { done: false, value };
    },
    return: async () => {
      await reader.cancel().catch(() => {});
      return { done: true, value: undefined };
    },
  };
}
