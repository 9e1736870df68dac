import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(new URL(file, root), "utf8"));

/**
 * Bare packages (not `node:` built-ins) that the files under `dirs` import, by package name; with
 * `resolved`, also those they locate with `require.resolve` to read their files (the backtest
 * report inlines lightweight-charts), which npm must install but Deno's import map need not name.
 */
function importedPackages(dirs: string[], keep: (file: string) => boolean = () => true, resolved = false): string[] {
  const names = new Set<string>();
  for (const dir of dirs) {
    for (const file of readdirSync(new URL(dir, root), { recursive: true, encoding: "utf8" })) {
      if (!/\.(ts|js|mjs)$/.test(file) || file.endsWith(".d.ts") || !keep(`${dir}/${file}`)) continue;
      const source = readFileSync(new URL(`${dir}/${file}`, root), "utf8");
      const pattern = resolved
        ? /(?:(?<![\w."'-])(?:from|import)|\.resolve)\s*\(?\s*["']([^"'./][^"']*)["']/g
        : /(?<![\w."'-])(?:from|import)\s*\(?\s*["']([^"'./][^"']*)["']/g;
      for (const [, specifier] of source.matchAll(pattern)) {
        if (specifier!.startsWith("node:")) continue;
        const parts = specifier!.split("/");
        names.add(specifier!.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
      }
    }
  }
  return [...names].sort();
}

/** The sources of what a user installs (package.json "files" ships dist, built from these, and bin/tradewire.js). */
const SHIPPED = ["lib", "transports", "sim", "bin", "web"];

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

  it("package.json's dependencies are exactly what the shipped code imports (bench and playground libraries are devDependencies)", () => {
    const pkg = read("package.json");
    const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).sort();
    // bin/tradewire.js falls back to tsx only in a checkout, where the .ts sources are.
    expect(deps).toEqual(importedPackages(SHIPPED, (file) => file !== "bin/tradewire.js", true));
    expect(pkg.devDependencies).toHaveProperty("tsx");
  });

  it("the native zeromq addon is an optional peer: installed only by those who ask for it (CURVE)", () => {
    const pkg = read("package.json");
    expect(pkg.dependencies).not.toHaveProperty("zeromq");
    expect(pkg.peerDependenciesMeta?.zeromq?.optional).toBe(true);
    expect(pkg.devDependencies.zeromq).toBe(pkg.peerDependencies.zeromq);
  });

  it("deno.json maps exactly the packages its sources import, at package.json's versions", () => {
    const pkg = read("package.json");
    const deps: Record<string, string> = { ...pkg.dependencies, ...pkg.peerDependencies };
    const imports: Record<string, string> = read("deno.json").imports;
    // bin/tradewire.js is Node's entry (it runs dist/bin, or registers tsx in a checkout); Deno runs bin/tradewire.ts itself.
    const denoSources = importedPackages(SHIPPED, (file) => !file.startsWith("bin/") || file.endsWith(".ts"));
    expect(Object.keys(imports).sort()).toEqual(denoSources);
    for (const [name, specifier] of Object.entries(imports)) expect(specifier).toBe(`npm:${name}@${deps[name]}`);
  });
});
