// Steady call load for the fault tests and the soak: `concurrency` loops of calls, each call
// timed against its own timeout; outcomes kept by code, and the longest stretch of time without a
// successful call (the failure window).
import { codeName, RpcError } from "msf";

export interface LoadReport {
  readonly ok: number;
  readonly failed: number;
  /** Failed calls by code name, e.g. { UNAVAILABLE: 2 }. */
  readonly failuresByCode: Readonly<Record<string, number>>;
  /** Up to 20 failure messages, for the test's log. */
  readonly samples: readonly string[];
  /** Failures that were not an RpcError with a code (never expected). */
  readonly unclear: readonly string[];
  /** Calls that took longer than their timeout plus the allowed slack: hung past their deadline. */
  readonly overran: readonly string[];
  /** The longest call, ms. */
  readonly longestCallMs: number;
  /** The longest time between two successes (or from the start to the first), ms. */
  readonly longestGapMs: number;
}

export interface Load {
  readonly ok: number;
  stop(): Promise<LoadReport>;
}

/**
 * Starts the load. `call(i, timeoutMs)` makes one call and resolves when it succeeded (it throws
 * otherwise; a reply that is wrong must throw too). Bounded: stop() ends it, and every loop stops
 * by itself after `maxCalls` calls or `maxMs`.
 */
export function startLoad(options: {
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** How much longer than its timeout a call may take before it counts as hung, ms. */
  readonly slackMs: number;
  readonly maxCalls: number;
  readonly maxMs: number;
  /** Pause between two calls of one loop, ms (0: none). */
  readonly pauseMs?: number;
  call(index: number, timeoutMs: number): Promise<void>;
}): Load {
  let running = true;
  let ok = 0;
  let calls = 0;
  const failuresByCode: Record<string, number> = {};
  const samples: string[] = [];
  const unclear: string[] = [];
  const overran: string[] = [];
  let longestCallMs = 0;
  const startedAt = Date.now();
  let lastSuccess = startedAt;
  let longestGapMs = 0;
  const stopAt = startedAt + options.maxMs;
  const loops = Array.from({ length: options.concurrency }, async () => {
    while (running && calls < options.maxCalls && Date.now() < stopAt) {
      const index = calls++;
      const began = Date.now();
      try {
        await options.call(index, options.timeoutMs);
        const now = Date.now();
        longestGapMs = Math.max(longestGapMs, now - lastSuccess);
        lastSuccess = Math.max(lastSuccess, now);
        ok++;
      } catch (error) {
        const code = error instanceof RpcError ? codeName(error.code) : "none";
        failuresByCode[code] = (failuresByCode[code] ?? 0) + 1;
        if (samples.length < 20) samples.push(String(error));
        if (!(error instanceof RpcError) || error.message.length === 0) unclear.push(String(error));
      } finally {
        const took = Date.now() - began;
        longestCallMs = Math.max(longestCallMs, took);
        if (took > options.timeoutMs + options.slackMs) overran.push(`call ${index} took ${took} ms (timeout ${options.timeoutMs} ms)`);
      }
      if (options.pauseMs !== undefined && options.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  });
  return {
    get ok() {
      return ok;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      const now = Date.now();
      longestGapMs = Math.max(longestGapMs, now - lastSuccess);
      const failed = Object.values(failuresByCode).reduce((sum, count) => sum + count, 0);
      return { ok, failed, failuresByCode, samples, unclear, overran, longestCallMs, longestGapMs };
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it returns a value, for at most `timeoutMs`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const stopAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > stopAt) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
