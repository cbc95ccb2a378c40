import { Code, codeName } from "../code.js";
import { RpcError } from "../rpc-error.js";

/**
 * What msf's exit status means, for scripts (also printed at the end of `msf --help`):
 *
 *   0  ok
 *   1  the operation failed: an error from the call or from msfd (e.g. an invalid config on
 *      reload, an unknown service or method), or a config file msf could not read
 *   2  usage error: unknown command or option, missing or malformed argument
 *   3  msfd is unreachable: no control socket, connection refused, or it went away (UNAVAILABLE
 *      before the request was sent)
 *   4  authentication failed: UNAUTHENTICATED, or the secrets file cannot be read
 */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  UNREACHABLE: 3,
  AUTH: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  "Exit status:",
  "  0  ok",
  "  1  the operation failed (an error from the call or from msfd, e.g. an invalid config on reload)",
  "  2  usage error (unknown command or option, malformed argument)",
  "  3  msfd is unreachable (no control socket, connection refused, UNAVAILABLE before sending)",
  "  4  authentication failed (UNAUTHENTICATED, or the secrets file cannot be read)",
].join("\n");

/** A mistake in the command line: exit 2, printed with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** The usage of the command concerned, printed after the message; "" when none applies. */
  readonly usage: string;

  constructor(message: string, usage = "") {
    super(message);
    this.usage = usage;
  }
}

/** A failure whose exit status is decided where it happens (a secrets file unreadable: 4). */
export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = exitCode;
  }
}

/**
 * The exit status for anything a command threw. An RpcError UNAVAILABLE counts as "unreachable"
 * only when the request never left (`unsent`): msfd answering UNAVAILABLE itself (a service with
 * no ready instance) is an operation that failed.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.USAGE;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof RpcError) {
    if (error.code === Code.UNAUTHENTICATED) return ExitCode.AUTH;
    if (error.code === Code.UNAVAILABLE && error.unsent) return ExitCode.UNREACHABLE;
    return ExitCode.FAILED;
  }
  return ExitCode.FAILED;
}

/**
 * The line(s) printed after "msf: ". An RpcError keeps its "[CODE]" prefix so scripts and people
 * see which status msfd or the service answered. Messages are built from codes, paths and names;
 * none of the code paths that reach here put a secret or key in a message.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof RpcError) return `[${codeName(error.code)}] ${error.rawMessage}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
