import type { Backend } from "./backend.js";
import { createConsistentHash } from "./balancer-consistent-hash.js";
import { createDynamicWeight } from "./balancer-dynamic-weight.js";
import { createLeastInflight } from "./balancer-least-inflight.js";
import { createRandom } from "./balancer-random.js";
import { createRoundRobin } from "./balancer-round-robin.js";
import type { CallOutcome } from "./call-outcome.js";

/**
 * A load-balancing strategy: picks the backend a call goes to. One balancer object per service
 * (it may keep state: a counter, a ring, weights); the callers (Forwarder, named channel) are
 * single-threaded, so a balancer needs no locking.
 *
 * Contract of pick():
 * - `backends` are the service's backends that may take a call now (ejected ones already left
 *   out), in a stable order (the order they came up); it may be empty (return undefined).
 * - `key` is the call's hash key (consistent_hash; undefined when the call has none or the
 *   strategy needs none).
 * - It returns one of `backends`, never another object; it must not throw.
 * report(), when present, is told how each call sent to a backend it picked ended, so a strategy
 * can learn (dynamic_weight). Counters (inFlight, calls, errors) are kept by the caller.
 *
 * How to add a strategy (3 steps):
 * 1. Write `balancer-<name>.ts` exporting `create<Name>(options: BalancerOptions): Balancer`.
 * 2. Register it below: `registerBalancer("<name>", create<Name>)` (or call registerBalancer from
 *    your own code before the daemon starts).
 * 3. Add the name to BalanceStrategy (agent-types.ts, and the config's validation) so msf.json
 *    can select it with `"balance": { "strategy": "<name>" }`; test its distribution in
 *    test/daemon/agent-balancers.test.ts.
 */
export interface Balancer {
  pick(backends: readonly Backend[], key: string | undefined): Backend | undefined;
  report?(backend: Backend, outcome: CallOutcome): void;
}

export interface BalancerOptions {
  /** Uniform numbers in [0, 1): Math.random by default; a seeded generator in tests. */
  readonly random: () => number;
}

export type BalancerFactory = (options: BalancerOptions) => Balancer;

const factories = new Map<string, BalancerFactory>();

/** Makes `name` selectable as a strategy. A name registered twice with another factory is a programming error. */
export function registerBalancer(name: string, factory: BalancerFactory): void {
  const existing = factories.get(name);
  if (existing !== undefined && existing !== factory) throw new Error(`a balancer named "${name}" is already registered`);
  factories.set(name, factory);
}

/** The registered strategy names, in registration order. */
export function balancerNames(): string[] {
  return [...factories.keys()];
}

/** A new balancer of strategy `name`. Throws an Error naming the strategy and the known ones. */
export function createBalancer(name: string, options: Partial<BalancerOptions> = {}): Balancer {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new Error(`unknown load-balancing strategy "${name}": expected one of ${balancerNames().join(", ")}`);
  }
  return factory({ random: options.random ?? Math.random });
}

registerBalancer("round_robin", createRoundRobin);
registerBalancer("random", createRandom);
registerBalancer("consistent_hash", createConsistentHash);
registerBalancer("least_inflight", createLeastInflight);
registerBalancer("dynamic_weight", createDynamicWeight);
