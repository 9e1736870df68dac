/**
 * The README's code, as its test runs it. A ```ts block is complete unless its first line is
 * `// fragment`; a ```text block right after a complete one (nothing between but blank lines
 * and a line saying `prints`) is what that block prints. Imports of `tradewire` and its subpaths are pointed at the sources
 * (through deno.json's exports), so the test never runs a stale build.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The heading the block is under. */
  heading: string;
  code: string;
  fragment: boolean;
  /** The ```text block that follows, if any: the expected standard output. */
  output?: string;
}

const FENCE = /^```(\S*)\s*$/;

/** Every ```ts block of `markdown`, with the output block that follows it. */
export function extractBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  let last: CodeBlock | undefined;
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) {
      if (/^#+ /.test(lines[i]!)) heading = lines[i]!.replace(/^#+ /, "");
      if (lines[i]!.trim() !== "" && !/^prints:?$/.test(lines[i]!.trim())) last = undefined;
      continue;
    }
    const lang = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`README line ${start + 1}: the code block is not closed`);
    if (lang === "ts") {
      const fragment = /^\s*\/\/\s*fragment\b/.test(body[0] ?? "");
      last = { line: start + 1, heading, code: body.join("\n") + "\n", fragment };
      blocks.push(last);
      continue;
    }
    if (lang === "text" && last && !last.fragment) last.output = body.join("\n");
    last = undefined;
  }
  return blocks;
}

/** `from "tradewire/sim"` → `from "../../sim/index.ts"` (relative to `fromDir`), per deno.json's exports. */
export function pointAtSources(code: string, rootUrl: URL, fromDir: URL): string {
  const exports = (JSON.parse(readFileSync(new URL("deno.json", rootUrl), "utf8")) as { exports: Record<string, string> }).exports;
  return code.replace(/(from\s+|import\s*\(\s*)"tradewire(\/[\w-]+)?"/g, (whole, keyword: string, sub: string | undefined) => {
    const target = exports[sub === undefined ? "." : `.${sub}`];
    if (target === undefined) throw new Error(`The README imports ${whole.slice(keyword.length)}, which is not an entry point`);
    return `${keyword}${JSON.stringify(relative(fileURLToPath(fromDir), fileURLToPath(new URL(target, rootUrl))))}`;
  });
}
