import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";

const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"));

describe("entry points", () => {
  it("package.json and deno.json export the same modules from the same sources", () => {
    const npm: Record<string, { default: string; types: string }> = read("package.json").exports;
    const deno: Record<string, string> = read("deno.json").exports;
    expect(Object.keys(npm).sort()).toEqual(Object.keys(deno).sort());
    for (const [name, target] of Object.entries(npm)) {
      // ./dist/lib/index.js is built from ./lib/index.ts
      expect(target.default.replace(/^\.\/dist\//, "./").replace(/\.js$/, ".ts")).toBe(deno[name]);
      expect(target.types).toBe(target.default.replace(/\.js$/, ".d.ts"));
    }
  });

  it("deno.json maps every runtime dependency it needs with an npm: specifier", () => {
    const deps = Object.keys(read("package.json").dependencies ?? {});
    const imports: Record<string, string> = read("deno.json").imports;
    for (const [name, specifier] of Object.entries(imports)) {
      expect(specifier.startsWith(`npm:${name}@`)).toBe(true);
      expect(deps).toContain(name);
    }
  });
});
