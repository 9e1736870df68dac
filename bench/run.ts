/**
 * `npm run bench [-- --quick] [-- --only web,sim]`: every benchmark (or the suites named) in one
 * run, each row beside its raw baseline. Prints a table and writes bench/results.json.
 */
import { writeFileSync } from "node:fs";
import { benchCore } from "./core.ts";
import { benchSim } from "./sim.ts";
import { benchZeromq } from "./zeromq.ts";
import { benchWeb } from "./web.ts";
import { runZmtpBench, runZmtpBenchDeno } from "./zmtp.ts";
import type { BenchRow } from "./stats.ts";

const quick = process.argv.includes("--quick");
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? "").split(",")) : undefined;

type Suite = { name: string; run: (options: { quick: boolean }) => Promise<BenchRow[]> };

const suites: Suite[] = [
  { name: "core", run: benchCore },
  { name: "zeromq", run: benchZeromq },
  { name: "zmtp", run: runZmtpBench },
  { name: "zmtp deno", run: runZmtpBenchDeno },
  { name: "sim", run: benchSim },
  { name: "web", run: benchWeb },
  { name: "vnpy", run: async (o) => (await import("./vnpy.ts")).benchVnpy(o) },
];

const rows: BenchRow[] = [];
const began = performance.now();
for (const suite of suites) {
  if (only && !only.has(suite.name)) continue;
  const started = performance.now();
  try {
    const got = await suite.run({ quick });
    for (const r of got) {
      // DESIGN.md: every figure stands beside a named baseline from the same run.
      if (!r.baselineName || !Number.isFinite(r.value) || !Number.isFinite(r.baseline)) {
        console.error(`${suite.name}: row "${r.name}" lacks a baseline name or a finite value`);
        process.exitCode = 1;
      }
    }
    rows.push(...got);
    for (const r of got) printRow(r);
  } catch (error) {
    console.error(`${suite.name}: failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  }
  console.error(`(${suite.name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

// A partial run (--only) prints its rows but leaves the whole run's results.json alone.
if (only) console.log(`\n${rows.length} rows in ${((performance.now() - began) / 1000).toFixed(1)} s (--only: bench/results.json not written)`);
else {
  writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify(rows, null, 2) + "\n");
  console.log(`\n${rows.length} rows written to bench/results.json in ${((performance.now() - began) / 1000).toFixed(1)} s`);
}

function printRow(r: BenchRow): void {
  const better = r.unit === "µs" ? "lower is better" : "higher is better";
  console.log(
    `${r.name.padEnd(48)} ${fmt(r.value).padStart(12)} ${r.unit.padEnd(9)} baseline ${fmt(r.baseline).padStart(12)}  ratio ${r.ratio.toFixed(3)}  (${better}; baseline: ${r.baselineName ?? "-"})`,
  );
}

function fmt(x: number): string {
  return x >= 1000 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}
