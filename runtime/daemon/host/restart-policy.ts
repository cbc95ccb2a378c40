import type { RestartPolicy } from "./host-config.js";

/**
 * When to restart something that exited on its own, and when to give up. Pure: no timers, no
 * I/O; the caller passes the clock.
 *
 * Policy (PM2's exponential backoff with a crash-loop limit): the restarts of one slot within the
 * last `windowMs` are counted. With none, the restart is immediate, so a process that ran
 * cleanly and then died is serving again well under a second after the kill. With n > 0, the
 * delay is backoffInitialMs * 2^(n-1), capped at backoffMaxMs. Staying up for a whole window
 * therefore resets the backoff. When n reaches maxRestarts, the next exit is not restarted: a
 * crash loop (maxRestarts 0: never restart).
 */
export type RestartDecision =
  | { readonly t: "restart"; readonly delayMs: number; readonly recent: number }
  | { readonly t: "give_up"; readonly recent: number };

/** The delay before a restart when `recent` restarts already happened within the window. */
export function backoffMs(policy: RestartPolicy, recent: number): number {
  if (recent <= 0) return 0;
  // 2^(recent-1) overflows to Infinity long before it matters; the cap applies either way.
  return Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** (recent - 1));
}

/** How many of `times` fall within the window ending at `now` (times > now - windowMs). */
export function countInWindow(times: readonly number[], now: number, windowMs: number): number {
  let count = 0;
  for (const time of times) if (time > now - windowMs) count++;
  return count;
}

/** The restart history of one slot (an instance index, or one msf_procs entry). */
export class RestartTracker {
  private times: number[] = [];

  constructor(private readonly policy: RestartPolicy) {}

  /** Restarts recorded within the window ending at `now`. */
  recent(now: number): number {
    return countInWindow(this.times, now, this.policy.windowMs);
  }

  /** Decides about an exit at `now`; a "restart" decision is recorded as a restart at `now`. */
  decide(now: number): RestartDecision {
    this.times = this.times.filter((time) => time > now - this.policy.windowMs);
    const recent = this.times.length;
    if (recent >= this.policy.maxRestarts) return { t: "give_up", recent };
    this.times.push(now);
    return { t: "restart", delayMs: backoffMs(this.policy, recent), recent };
  }
}
