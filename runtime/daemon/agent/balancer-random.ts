import type { Backend } from "./backend.js";
import type { Balancer, BalancerOptions } from "./balancer.js";

/** random: each pick uniformly among the backends (options.random supplies the numbers). */
export function createRandom(options: BalancerOptions): Balancer {
  const random = options.random;
  return {
    pick(backends: readonly Backend[]): Backend | undefined {
      const count = backends.length;
      if (count === 0) return undefined;
      // min(): a generator returning 1 (outside its contract) still yields a backend.
      return backends[Math.min(count - 1, Math.floor(random() * count))];
    },
  };
}
