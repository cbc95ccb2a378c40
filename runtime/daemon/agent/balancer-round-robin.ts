import type { Backend } from "./backend.js";
import type { Balancer } from "./balancer.js";

/**
 * round_robin: each backend in turn. With a stable list of n backends, every n consecutive picks
 * reach each backend exactly once. When the list changes the rotation goes on from where it was.
 */
export function createRoundRobin(): Balancer {
  let next = 0;
  return {
    pick(backends: readonly Backend[]): Backend | undefined {
      const count = backends.length;
      if (count === 0) return undefined;
      if (next >= count) next %= count;
      return backends[next++];
    },
  };
}
