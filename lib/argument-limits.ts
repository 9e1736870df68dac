/**
 * The shape limits a call's arguments must meet: how many there are, how deeply arrays and maps
 * nest, and no `__proto__` keys (the decoders refuse them, so a client that sent one would wait
 * for an answer that never comes). The server checks decoded requests against them before a
 * handler runs; the client checks before sending, so a bad call fails at once.
 */

export interface ArgumentLimits {
  maxArgs: number;
  maxDepth: number;
}

/**
 * Why `args` break the limits, or undefined when they do not. Iterative, so a hostile nesting
 * cannot overflow the stack; stops at the first problem, so a huge argument costs no more than
 * the walk up to it.
 */
export function argumentProblem(args: readonly unknown[], limits: ArgumentLimits): string | undefined {
  if (args.length > limits.maxArgs) return `Too many arguments: ${args.length}, at most ${limits.maxArgs}`;
  let stack: Array<[object, number]> | undefined;
  for (const arg of args) {
    if (typeof arg === "object" && arg !== null) (stack ??= []).push([arg, 1]);
  }
  if (stack === undefined) return undefined;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (depth > limits.maxDepth) return `Arguments nest deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(value)) {
      for (const element of value) {
        if (typeof element === "object" && element !== null) stack.push([element, depth + 1]);
      }
      continue;
    }
    if (ArrayBuffer.isView(value) || value instanceof Date) continue; // opaque leaves
    if (Object.hasOwn(value, "__proto__")) return 'Arguments contain a "__proto__" key, which decoders refuse';
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
