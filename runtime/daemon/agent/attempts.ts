import { Code } from "../../code.js";
import { RpcError } from "../../rpc-error.js";
import type { Backend } from "./backend.js";
import type { Balancer } from "./balancer.js";
import { outcomeOf } from "./call-outcome.js";
import { beginCall, endCall, type Picked } from "./pick.js";

/** One call to a service, as the Forwarder (broker) and the named channel (direct mode) make it. */
export interface AttemptRules {
  /** "call to pkg.svc.method (service ...)": how the errors this file makes name the call. */
  readonly label: string;
  /** Picks the backend for the next attempt, avoiding `tried` (pickBackend with the service's list). */
  pick(tried: ReadonlySet<Backend> | undefined, now: number): Picked | undefined;
  /** The balancer that is told how each attempt went. */
  readonly balancer: Balancer;
  /** Safe to send again after it may have run. */
  readonly idempotent: boolean;
  readonly maxAttempts: number;
  /** Absolute, Date.now() clock; Infinity for none. */
  readonly deadline: number;
  /** The clock of ejection (Date.now, or a test's). */
  readonly clock: () => number;
  /** The error when there is no backend at all (before any attempt failed). */
  noBackend(): RpcError;
  /** Called after an attempt failed "unreachable" (direct mode refreshes its endpoints). */
  unreachable?(backend: Backend): void;
}

export interface CallPlan<T> extends AttemptRules {
  /** Sends the call to `backend` with `timeoutMs` left (undefined: no deadline). */
  send(backend: Backend, timeoutMs: number | undefined): Promise<T>;
}

export interface SyncCallPlan<T> extends AttemptRules {
  /** Sends the call to `backend` and blocks for its result, with `timeoutMs` left. */
  send(backend: Backend, timeoutMs: number | undefined): T;
}

/**
 * Makes the attempts of one call. The retry rules, in one place:
 * - a failure that never reached a server (RpcError.unsent) is sent to another backend;
 * - one that may have run is sent again only when it is UNAVAILABLE (the connection was lost or
 *   the server went away: no answer) and the method is idempotent; an answer (the handler's own
 *   error), a deadline or a cancellation is final;
 * - each attempt goes to a backend this call has not tried; at most maxAttempts in all; none
 *   starts once the deadline has passed;
 * - when every backend was tried, or the attempts are used up, the last error is the result.
 */
export async function attempt<T>(plan: CallPlan<T>): Promise<T> {
  let tried: Set<Backend> | undefined;
  let lastError: RpcError | undefined;
  for (let count = 0; count < plan.maxAttempts; count++) {
    const picked = start(plan, tried, count, lastError);
    let result: T;
    try {
      result = await plan.send(picked.backend, timeLeft(plan.deadline));
    } catch (reason) {
      lastError = failed(plan, picked, reason);
      (tried ??= new Set()).add(picked.backend);
      continue;
    }
    endCall(picked, plan.balancer, "ok", plan.clock());
    return result;
  }
  throw lastError!;
}

/** attempt() for blocking calls: the same rules, on the calling thread. */
export function attemptSync<T>(plan: SyncCallPlan<T>): T {
  let tried: Set<Backend> | undefined;
  let lastError: RpcError | undefined;
  for (let count = 0; count < plan.maxAttempts; count++) {
    const picked = start(plan, tried, count, lastError);
    let result: T;
    try {
      result = plan.send(picked.backend, timeLeft(plan.deadline));
    } catch (reason) {
      lastError = failed(plan, picked, reason);
      (tried ??= new Set()).add(picked.backend);
      continue;
    }
    endCall(picked, plan.balancer, "ok", plan.clock());
    return result;
  }
  throw lastError!;
}

/** Picks the backend of the next attempt and counts the call as sent; throws when it cannot start. */
function start(plan: AttemptRules, tried: ReadonlySet<Backend> | undefined, attempts: number, lastError: RpcError | undefined): Picked {
  if (Date.now() >= plan.deadline) throw outOfTime(plan.label, attempts, lastError);
  const picked = plan.pick(tried, plan.clock());
  if (picked === undefined) throw lastError ?? plan.noBackend();
  beginCall(picked);
  return picked;
}

/** Records a failed attempt; returns its error when the call may go on, throws it when that was final. */
function failed(plan: AttemptRules, picked: Picked, reason: unknown): RpcError {
  const error = RpcError.from(reason);
  const outcome = outcomeOf(error);
  endCall(picked, plan.balancer, outcome, plan.clock());
  if (outcome === "unreachable") plan.unreachable?.(picked.backend);
  if (error.unsent || (outcome === "unreachable" && plan.idempotent)) return error;
  throw error;
}

function timeLeft(deadline: number): number | undefined {
  return deadline === Infinity ? undefined : Math.max(0, deadline - Date.now());
}

/** The DEADLINE_EXCEEDED of a call whose deadline passed before an attempt could start. */
function outOfTime(label: string, attempts: number, lastError: RpcError | undefined): RpcError {
  const after = lastError === undefined ? "" : ` (after ${attempts} failed attempt${attempts === 1 ? "" : "s"}, the last: ${lastError.message})`;
  return new RpcError(Code.DEADLINE_EXCEEDED, `${label} ran out of time before it could be sent${after}`, { cause: lastError });
}
