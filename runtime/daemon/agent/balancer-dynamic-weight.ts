import { type Backend, FULL_WEIGHT } from "./backend.js";
import type { Balancer } from "./balancer.js";
import { type CallOutcome, isFailure } from "./call-outcome.js";

/** A backend's weight never drops below this: it keeps a ~1% slice of calls, its way back (MSEC's probe slice). */
export const MIN_WEIGHT = 1;

/**
 * dynamic_weight (MSEC's dynamic weighted round robin): each backend's weight (Backend.weight,
 * FULL_WEIGHT = 100 at start) follows how its calls go, and calls are spread in proportion to the
 * weights by smooth weighted round robin (nginx's: deterministic, no bursts on one backend).
 *
 * - A failed call (unreachable or overloaded: call-outcome.ts) halves the weight, down to
 *   MIN_WEIGHT: a backend that keeps failing quickly gets ~1% of the calls.
 * - A successful call (a reply, or the handler's own error) raises it by a quarter (at least 1),
 *   up to FULL_WEIGHT: from the floor it is back to full after 20 successes in a row, slowly at
 *   first (its share is small) and then faster.
 * MSEC reshaped the weights every 5 s from each backend's success ratio; per-call steps follow
 * the same idea without a window to wait for.
 */
export function createDynamicWeight(): Balancer {
  /** Smooth WRR's running value per backend. */
  const current = new WeakMap<Backend, number>();
  return {
    pick(backends: readonly Backend[]): Backend | undefined {
      let total = 0;
      let best: Backend | undefined;
      let bestValue = -Infinity;
      for (const backend of backends) {
        const value = (current.get(backend) ?? 0) + backend.weight;
        current.set(backend, value);
        total += backend.weight;
        if (value > bestValue) {
          bestValue = value;
          best = backend;
        }
      }
      if (best !== undefined) current.set(best, bestValue - total);
      return best;
    },
    report(backend: Backend, outcome: CallOutcome): void {
      const weight = backend.weight;
      backend.weight = isFailure(outcome)
        ? Math.max(MIN_WEIGHT, Math.floor(weight / 2))
        : Math.min(FULL_WEIGHT, weight + Math.max(1, Math.floor(weight / 4)));
    },
  };
}
