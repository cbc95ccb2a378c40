import { Code, codeName, isCode } from "./code.js";

/**
 * The one error type of msf. Every failed call rejects (or, for blocking calls, throws) an
 * RpcError; handlers may throw one to choose the code the caller sees.
 * `message` starts with the code's name: "[DEADLINE_EXCEEDED] call to flight.flight_service.queryFlight ...".
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  /** The gRPC-numbered status code. Never Code.OK. */
  readonly code: Code;
  /** The message without the "[CODE]" prefix, as it travels on the wire. */
  readonly rawMessage: string;
  /**
   * Set by clients: true when the request was never written to any server, so it cannot have
   * run and may be sent elsewhere even if it is not idempotent (no connection could be opened,
   * authentication failed, the channel closed first, or the server refused it unstarted).
   */
  readonly unsent: boolean;

  constructor(code: Code, message: string, options?: { cause?: unknown; unsent?: boolean }) {
    super(`[${codeName(code)}] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = message;
    this.unsent = options?.unsent ?? false;
  }

  /**
   * Turns anything thrown into an RpcError: an RpcError is returned as is; anything else
   * becomes `fallbackCode` (INTERNAL by default) with the original kept as `cause`.
   */
  static from(reason: unknown, fallbackCode: Code = Code.INTERNAL): RpcError {
    if (reason instanceof RpcError) return reason;
    if (isRpcErrorLike(reason)) return new RpcError(reason.code, reason.rawMessage, { cause: reason });
    const message = reason instanceof Error ? reason.message : String(reason);
    return new RpcError(fallbackCode, message, { cause: reason });
  }
}

/**
 * An RpcError from another copy of the runtime (a second install of the package, or another
 * realm) is recognised by shape, so `instanceof` mismatches between copies do not turn a
 * deliberate code into INTERNAL.
 */
function isRpcErrorLike(value: unknown): value is { code: Code; rawMessage: string } {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown; rawMessage?: unknown };
  return (
    candidate.name === "RpcError" &&
    typeof candidate.code === "number" &&
    isCode(candidate.code) &&
    candidate.code !== Code.OK &&
    typeof candidate.rawMessage === "string"
  );
}
