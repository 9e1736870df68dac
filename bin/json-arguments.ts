/**
 * The arguments of `tradewire call`: each word is JSON if it parses, otherwise the word itself as
 * a string. What no server could take is refused here, at once, as bad usage: numbers JSON can
 * write but a double cannot hold (`1e400` parses to Infinity and would travel as null), and
 * `__proto__` keys (every tradewire decoder refuses them, so the call could never be answered).
 */
import { UsageError } from "./args.ts";

function shown(word: string): string {
  return word.length <= 40 ? word : `${word.slice(0, 37)}…`;
}

/** Why `value` cannot be sent, or undefined if it can. Iterative: any depth JSON.parse built. */
function refusal(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "number") {
      if (!Number.isFinite(item)) return "holds a number beyond the range of a double (±1.8e308); send it as a string";
    } else if (Array.isArray(item)) {
      for (const element of item) stack.push(element);
    } else if (typeof item === "object" && item !== null) {
      if (Object.hasOwn(item, "__proto__")) return 'has a "__proto__" key, which tradewire never sends (servers refuse it)';
      for (const key of Object.keys(item)) stack.push((item as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/** Argument `position` (1-based) of a call, from its word on the command line. */
export function parseArgument(word: string, position: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(word);
  } catch (error) {
    if (error instanceof SyntaxError) return word; // not JSON: the word itself
    throw new UsageError(`Argument ${position} (${shown(word)}) is nested too deeply to parse`);
  }
  const problem = refusal(value);
  if (problem !== undefined) throw new UsageError(`Argument ${position} (${shown(word)}) ${problem}`);
  return value;
}
