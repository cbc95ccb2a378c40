// How the driver (run.ts) talks to its server and client processes: arguments on the command
// line, one-line messages on stdin/stdout. A child whose stdin ends exits, so children never
// outlive a driver that died.
import { isImplementationName, type ImplementationName } from "./impl/load.js";
import { TRANSPORT_NAMES, type TransportName } from "./impl/implementation.js";
import type { LoadResult } from "./load-loop.js";

/** server → driver, once: `listening <target>`. */
export const LISTENING = "listening";
/** driver → server: `peak`; server → driver: `peak <bytes>`, the highest RSS sampled since listening. */
export const PEAK = "peak";
/** client → driver, once: `result <LoadResult as JSON>`. The client reads its target from stdin first. */
export const RESULT = "result";

export type CallMode = "async" | "sync";

export interface ServerArgs {
  readonly impl: ImplementationName;
  readonly transport: TransportName;
  readonly socketPath: string;
}

export interface ClientArgs {
  readonly impl: ImplementationName;
  readonly mode: CallMode;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export function serverArgv(args: ServerArgs): string[] {
  return [args.impl, args.transport, args.socketPath];
}

export function parseServerArgv(argv: readonly string[]): ServerArgs {
  const [impl = "", transport = "", socketPath = ""] = argv;
  if (!isImplementationName(impl)) throw new Error(`bench server: unknown implementation "${impl}"`);
  if (!isTransportName(transport)) throw new Error(`bench server: transport must be one of ${TRANSPORT_NAMES.join(", ")}, got "${transport}"`);
  if (transport === "unix" && socketPath === "") throw new Error("bench server: a unix server needs a socket path");
  return { impl, transport, socketPath };
}

function isTransportName(name: string): name is TransportName {
  return (TRANSPORT_NAMES as readonly string[]).includes(name);
}

export function clientArgv(args: ClientArgs): string[] {
  return [args.impl, args.mode, String(args.inFlight), String(args.warmupMs), String(args.durationMs)];
}

export function parseClientArgv(argv: readonly string[]): ClientArgs {
  const [impl = "", mode = "", inFlight = "", warmupMs = "", durationMs = ""] = argv;
  if (!isImplementationName(impl)) throw new Error(`bench client: unknown implementation "${impl}"`);
  if (mode !== "async" && mode !== "sync") throw new Error(`bench client: mode must be async or sync, got "${mode}"`);
  return {
    impl,
    mode,
    inFlight: positiveInteger("in-flight", inFlight),
    warmupMs: positiveInteger("warm-up ms", warmupMs, 0),
    durationMs: positiveInteger("duration ms", durationMs),
  };
}

function positiveInteger(what: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new Error(`bench client: ${what} must be an integer >= ${min}, got "${text}"`);
  return value;
}

export function parseResult(json: string): LoadResult {
  const value = JSON.parse(json) as Partial<LoadResult>;
  for (const key of ["calls", "seconds", "callsPerSecond", "p50Us", "p99Us"] as const) {
    if (typeof value[key] !== "number") throw new Error(`bench client result lacks a numeric "${key}": ${json}`);
  }
  return value as LoadResult;
}
