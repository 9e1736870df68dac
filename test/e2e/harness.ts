/**
 * The e2e harness: build the playground into a temp folder, serve it on a free port, and drive
 * Debian's Chromium with playwright-core. Everything it opens, `close()` closes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { build } from "vite";
import { serveStatic, type StaticServer } from "./static-server.ts";

export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface Playground {
  url: string;
  page: Page;
  /** Console errors and uncaught exceptions seen so far, in order. */
  errors: string[];
  close(): Promise<void>;
}

/** Build the page, serve it and open it in a fresh browser profile. */
export async function openPlayground(viewport = { width: 1280, height: 800 }): Promise<Playground> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/e2e/ensure-chromium.sh`);
  const work = mkdtempSync(join(tmpdir(), "tradewire-e2e-"));
  let server: StaticServer | undefined;
  let context: BrowserContext | undefined;
  try {
    const outDir = join(work, "dist");
    await build({ configFile: join(repoRoot, "playground/vite.config.ts"), logLevel: "warn", build: { outDir, emptyOutDir: true } });
    server = await serveStatic(outDir);
    context = await chromium.launchPersistentContext(join(work, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      colorScheme: "dark",
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
    const opened = { server, context };
    return {
      url: server.url,
      page,
      errors,
      async close() {
        await opened.context.close();
        await opened.server.close();
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await context?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

/** Where screenshots go: outside the repository, to be looked at after a run. */
export const SCREENSHOTS = process.env["TRADEWIRE_SCREENSHOTS"] ?? join(tmpdir(), "tradewire-playground-screenshots");

/** The playground opened and started: its page has said it is ready. */
export async function openReadyPlayground(viewport?: { width: number; height: number }): Promise<Playground> {
  const playground = await openPlayground(viewport);
  await playground.page.goto(playground.url);
  await playground.page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return playground;
}
