import type { GlobalFlags } from "./cli-args.js";
import { DEFAULT_TIMEOUT_MS, openDaemon, type DaemonSession } from "./daemon-session.js";

/** What every command runs with. */
export interface CommandContext {
  readonly flags: GlobalFlags;
  /** Writes to standard output. */
  readonly out: (text: string) => void;
  /** Colours in tables: stdout is a terminal and NO_COLOR is not set. */
  readonly color: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Time limit for commands that wait for instances to start or drain (reload, load, unload). */
export const SLOW_TIMEOUT_MS = 60_000;

/** Runs `body` with a session to msfd, closed afterwards whatever happens. */
export async function withDaemon<T>(context: CommandContext, body: (session: DaemonSession) => Promise<T>, defaultTimeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  const session = await openDaemon(context.flags, context.flags.timeoutMs ?? defaultTimeoutMs, context.env);
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** JSON for --json output: one value, pretty or on one line. */
export function jsonText(value: unknown, pretty: boolean): string {
  return `${JSON.stringify(value, undefined, pretty ? 2 : undefined)}\n`;
}
