// What the tarball holds (node contents.mjs <unpacked package folder>): only dist/'s JavaScript and
// declarations, the bin launcher, package.json, README and LICENSE; every file package.json
// points at; every relative import inside dist/ resolving to a file that ships.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const top = process.argv[2];
const files = readdirSync(top, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name).slice(top.length + 1));
const problems = [];

const allowed = /^(dist\/.*\.(js|d\.ts)|bin\/tradewire\.js|package\.json|README\.md|LICENSE)$/;
for (const file of files) if (!allowed.test(file)) problems.push(`ships ${file}`);
if (files.includes("dist/bin/start.js")) problems.push("ships dist/bin/start.js (npm start, a command of the repository)");

const pkg = JSON.parse(readFileSync(join(top, "package.json"), "utf8"));
const targets = [...Object.values(pkg.bin), ...Object.values(pkg.exports).flatMap((e) => [e.types, e.default])];
for (const target of targets) if (!existsSync(join(top, target))) problems.push(`package.json points at ${target}, which is not shipped`);

for (const file of files) {
  if (!/\.(js|d\.ts)$/.test(file)) continue;
  const text = readFileSync(join(top, file), "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
    // Declarations keep the sources' "./x.ts", which TypeScript resolves to ./x.d.ts.
    const target = file.endsWith(".d.ts") ? spec.replace(/(?<!\.d)\.ts$/, ".d.ts") : spec;
    if (!existsSync(resolve(top, dirname(file), target))) problems.push(`${file} imports ${spec}, which is not shipped`);
  }
}

if (problems.length > 0) {
  console.error(`FAIL: the tarball:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`  ${files.length} files, each one package.json names or dist/ imports is there`);
