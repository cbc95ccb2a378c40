import type { Backend } from "./backend.js";
import type { Balancer } from "./balancer.js";

/**
 * least_inflight: the backend with the fewest calls in flight (Backend.inFlight, kept by the
 * caller). Ties are broken in rotation, so idle backends share calls evenly instead of the first
 * one taking every call of a sequential client.
 */
export function createLeastInflight(): Balancer {
  let start = 0;
  return {
    pick(backends: readonly Backend[]): Backend | undefined {
      const count = backends.length;
      if (count === 0) return undefined;
      if (start >= count) start %= count;
      let best = backends[start]!;
      for (let step = 1; step < count; step++) {
        const candidate = backends[(start + step) % count]!;
        if (candidate.inFlight < best.inFlight) best = candidate;
      }
      start++;
      return best;
    },
  };
}
