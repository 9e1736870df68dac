/**
 * `tradewire --version`: the version in tradewire's own package.json, found from this file's
 * place at run time — `bin/` in the sources, `dist/bin/` once built — so it never goes stale.
 */
import { readFileSync } from "node:fs";

/** The version of the tradewire package that holds `fileUrl` (a URL or file: URL string of a bin file). */
export function packageVersion(fileUrl: string | URL = import.meta.url): string {
  for (const up of ["../package.json", "../../package.json"]) {
    let text: string;
    try {
      text = readFileSync(new URL(up, fileUrl), "utf8");
    } catch {
      continue;
    }
    const json = JSON.parse(text) as { name?: unknown; version?: unknown };
    if (json.name === "tradewire" && typeof json.version === "string") return json.version;
  }
  throw new Error(`Cannot find tradewire's package.json above ${String(fileUrl)}`);
}
