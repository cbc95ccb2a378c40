import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";

/**
 * Time as the auth code sees it, injectable so tests drive throttling, handshake timeouts and
 * re-challenges without waiting. `now()` must be monotonic (ms).
 */
export interface AuthClock {
  now(): number;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
  /** Calls `callback` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, callback: () => void): () => void;
}

/**
 * performance.now() (monotonic: wall-clock jumps do not shorten a delay) and unref'd timers
 * (a pending verdict or re-challenge never keeps a process alive on its own; the connection does).
 */
export const systemClock: AuthClock = {
  now: () => performance.now(),
  sleep: (ms) => sleep(ms, undefined, { ref: false }),
  setTimer: (ms, callback) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
