/**
 * The README runs: each complete ```ts block (see extract.ts) is written out, type-checked, and
 * run as written, in its own Node process (through tsx) — or, when it is a vitest test file, as
 * tests of this file. Where a ```text block follows, the block must print exactly that.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { extractBlocks, pointAtSources } from "./extract.ts";

const root = new URL("../../", import.meta.url);
const dir = new URL("./.blocks/", import.meta.url);
const blocks = extractBlocks(readFileSync(new URL("README.md", root), "utf8"));
const complete = blocks.filter((b) => !b.fragment);

rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const files = complete.map((block) => {
  const file = new URL(`readme-line-${block.line}.ts`, dir);
  writeFileSync(file, `// README.md line ${block.line}, as written (tradewire imports point at the sources)\n${pointAtSources(block.code, root, dir)}`);
  return { block, file };
});

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: fileURLToPath(root), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("README.md", () => {
  it("has complete blocks, and marks the rest as fragments", () => {
    expect(complete.length).toBeGreaterThan(3);
    for (const block of blocks) {
      if (block.fragment) expect(block.output, `README line ${block.line}: a fragment has no output to check`).toBeUndefined();
    }
  });

  it("type-checks every complete block", async () => {
    writeFileSync(new URL("tsconfig.json", dir), JSON.stringify({ extends: "../../../tsconfig.json", include: ["*.ts"], compilerOptions: { noEmit: true } }));
    const tsc = fileURLToPath(new URL("node_modules/typescript/bin/tsc", root));
    const { code, stdout, stderr } = await run(process.execPath, [tsc, "-p", fileURLToPath(dir)], 60_000);
    expect(stdout + stderr, "tsc").toBe("");
    expect(code).toBe(0);
  }, 60_000);
});

for (const { block, file } of files) {
  if (/from\s+"vitest"/.test(block.code)) {
    // A test file in the README: its describe/it become tests of this file.
    describe(`${block.heading} (README line ${block.line}, a vitest file)`, async () => {
      await import(file.href);
    });
    continue;
  }
  it(`${block.heading} (README line ${block.line}) runs${block.output === undefined ? "" : " and prints what the README says"}`, async () => {
    const { code, stdout, stderr } = await run(process.execPath, ["--import", "tsx", fileURLToPath(file)], 30_000);
    expect(stderr, "stderr").toBe("");
    expect(code, stderr).toBe(0);
    if (block.output !== undefined) expect(stdout.trimEnd()).toBe(block.output.trimEnd());
  }, 40_000);
}
