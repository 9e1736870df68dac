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

/** Above this depth limit the walk keeps its own stack rather than recursing. */
const MAX_RECURSION = 1000;

/**
 * Why `args` break the limits, or undefined when they do not. Stops at the first problem, so a
 * huge argument costs no more than the walk up to it. It recurses (no allocation: it runs twice
 * per call), at most `maxDepth` deep; a limit too deep for the stack is walked iteratively, so
 * a hostile nesting cannot overflow it.
 */
export function argumentProblem(args: readonly unknown[], limits: ArgumentLimits): string | undefined {
  if (args.length > limits.maxArgs) return `Too many arguments: ${args.length}, at most ${limits.maxArgs}`;
  if (limits.maxDepth > MAX_RECURSION) return problemIterative(args, limits.maxDepth);
  for (const arg of args) {
    if (typeof arg === "object" && arg !== null) {
      const problem = problemIn(arg, 1, limits.maxDepth);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function problemIn(value: object, depth: number, maxDepth: number): string | undefined {
  if (depth > maxDepth) return tooDeep(maxDepth);
  if (Array.isArray(value)) {
    for (const element of value) {
      if (typeof element === "object" && element !== null) {
        const problem = problemIn(element, depth + 1, maxDepth);
        if (problem !== undefined) return problem;
      }
    }
    return undefined;
  }
  if (ArrayBuffer.isView(value) || value instanceof Date) return undefined; // opaque leaves
  if (Object.hasOwn(value, "__proto__")) return PROTO_KEY;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === "object" && child !== null) {
      const problem = problemIn(child, depth + 1, maxDepth);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function problemIterative(args: readonly unknown[], maxDepth: number): string | undefined {
  const stack: Array<[object, number]> = [];
  for (const arg of args) {
    if (typeof arg === "object" && arg !== null) stack.push([arg, 1]);
  }
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (depth > maxDepth) return tooDeep(maxDepth);
    if (Array.isArray(value)) {
      for (const element of value) {
        if (typeof element === "object" && element !== null) stack.push([element, depth + 1]);
      }
      continue;
    }
    if (ArrayBuffer.isView(value) || value instanceof Date) continue; // opaque leaves
    if (Object.hasOwn(value, "__proto__")) return PROTO_KEY;
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

const PROTO_KEY = 'Arguments contain a "__proto__" key, which decoders refuse';

function tooDeep(maxDepth: number): string {
  return `Arguments nest deeper than ${maxDepth} levels`;
}
