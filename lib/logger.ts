/** Where the core reports what it dropped and why. Defaults to the console. */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

export const consoleLogger: Logger = {
  warn: (message, detail) => console.warn(`[tradewire] ${message}`, ...(detail === undefined ? [] : [detail])),
  error: (message, detail) => console.error(`[tradewire] ${message}`, ...(detail === undefined ? [] : [detail])),
};

/** A timer that does not keep Node or Deno alive by itself; a no-op where timers have no unref. */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer && typeof timer.unref === "function") timer.unref();
}
