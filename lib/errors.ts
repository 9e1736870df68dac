/**
 * Framework failures are codes; business failures are values the handler returns.
 * There are no user-defined codes.
 */
export const RPC_CODES = [
  /** The deadline passed before a reply arrived. */
  "TIMEOUT",
  /** No function registered under that name. */
  "NOT_FOUND",
  /** Arguments failed validation or could not be decoded. */
  "INVALID_ARGUMENT",
  /** The handler threw; the message carries the handler's message. */
  "INTERNAL",
  /** Not connected, or the connection was lost with the call in flight. */
  "UNAVAILABLE",
  /** The caller's AbortSignal fired. */
  "CANCELLED",
  /** Message too large, or too many calls in flight. */
  "RESOURCE_EXHAUSTED",
  /** The caller could not be identified. */
  "UNAUTHENTICATED",
  /** The caller is known but not allowed to do this. */
  "PERMISSION_DENIED",
] as const;

export type RpcCode = (typeof RPC_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(RPC_CODES);

export function isRpcCode(value: unknown): value is RpcCode {
  return typeof value === "string" && CODE_SET.has(value);
}

/** The one error type a failed call rejects with. */
export class RpcError extends Error {
  override name = "RpcError";
  readonly code: RpcCode;
  /** The same as `message` (kept for code written against connect-es-style errors). */
  readonly rawMessage: string;

  /** The message says what happened; the code is in `code`, not repeated in the message. */
  constructor(code: RpcCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.rawMessage = message;
  }

  /** `RpcError [NOT_FOUND]: No function named "x"`, for logs and stack traces. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }

  /** Wrap anything thrown into an RpcError; an RpcError passes through unchanged. */
  static from(reason: unknown, code: RpcCode = "INTERNAL"): RpcError {
    if (reason instanceof RpcError) return reason;
    if (reason instanceof Error) return new RpcError(code, reason.message, { cause: reason });
    return new RpcError(code, errorMessage(reason), { cause: reason });
  }
}

/** The message of anything thrown; never throws itself (a null-prototype object has no toString). */
export function errorMessage(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  try {
    return String(reason);
  } catch {
    return Object.prototype.toString.call(reason);
  }
}
