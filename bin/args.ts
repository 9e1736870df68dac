/**
 * The command line's own parser, getopt-style: an option that takes a value takes the next word
 * whatever it starts with, so a Z85 key such as `-abc…` (the Z85 alphabet has `-`) is read as a
 * value, not refused as "ambiguous" the way `node:util` parseArgs does. Also `--name=value`,
 * `--` (everything after it is positional) and negative numbers as positionals (`call add -1 2`).
 */

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly default?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A bad command line; the message says what to change. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A word such as -1, -0.5 or -2e3: a positional, not an option. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

export function parseCommandLine(args: readonly string[], specs: OptionSpecs, allowPositionals: boolean): ParsedArgs {
  const values: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) values[name] = spec.default;
  const positionals: string[] = [];
  const positional = (word: string) => {
    if (!allowPositionals) throw new UsageError(`Unexpected argument ${JSON.stringify(word)}`);
    positionals.push(word);
  };

  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === "--") {
      for (const rest of args.slice(i + 1)) positional(rest);
      break;
    }
    if (!word.startsWith("-") || word === "-" || NEGATIVE_NUMBER.test(word)) {
      positional(word);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (word.startsWith("--")) {
      const equals = word.indexOf("=");
      name = equals === -1 ? word.slice(2) : word.slice(2, equals);
      inline = equals === -1 ? undefined : word.slice(equals + 1);
    } else {
      const short = Object.entries(specs).find(([, spec]) => spec.short === word.slice(1));
      if (short === undefined) throw new UsageError(`Unknown option ${word}`);
      name = short[0];
    }
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) throw new UsageError(`Unknown option --${name}`);
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    if (inline !== undefined) {
      values[name] = inline;
      continue;
    }
    if (i + 1 >= args.length) throw new UsageError(`--${name} needs a value`);
    values[name] = args[++i]!; // whatever it starts with: keys may begin with "-"
  }
  return { values, positionals };
}
