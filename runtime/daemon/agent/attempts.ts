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
  /**
   * How many backends the service has now. Without it no attempt is cut short (attemptBudget):
   * cutting only helps when there is another backend to move on to.
   */
  readonly backendCount?: () => number;
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
 * - an idempotent call with a deadline gives each attempt but the last only part of the time left
 *   (attemptBudget): a backend that takes it and never answers (a paused or hung process: the
 *   connection stays up, nothing comes back) costs that part, not the whole deadline. The attempt
 *   that ran out of its part counts as "unreachable" (toward ejection, so the silent backend is
 *   soon taken out) and the call moves on to another backend;
 * - when every backend was tried, or the attempts are used up, the last error is the result.
 */
export async function attempt<T>(plan: CallPlan<T>): Promise<T> {
  let tried: Set<Backend> | undefined;
  let lastError: RpcError | undefined;
  for (let count = 0; count < plan.maxAttempts; count++) {
    const picked = start(plan, tried, count, lastError);
    const budget = attemptBudget(plan, count, tried);
    const sentAt = Date.now();
    let result: T;
    try {
      result = await plan.send(picked.backend, budget.timeoutMs);
    } catch (reason) {
      lastError = failed(plan, picked, attemptError(reason, budget, sentAt));
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
    const budget = attemptBudget(plan, count, tried);
    const sentAt = Date.now();
    let result: T;
    try {
      result = plan.send(picked.backend, budget.timeoutMs);
    } catch (reason) {
      lastError = failed(plan, picked, attemptError(reason, budget, sentAt));
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

/** The time one attempt may take: `cut` when it is less than what is left of the call's deadline. */
interface AttemptBudget {
  readonly timeoutMs: number | undefined;
  readonly cut: boolean;
}

/** An attempt never gets less than this when it is cut (below it, cutting saves nothing). */
const MIN_CUT_ATTEMPT_MS = 50;

/**
 * The timeout of attempt number `count` (0 = the first): the whole time left, except for an
 * idempotent call with a deadline, attempts to spare and a backend it has not tried besides this
 * one, whose attempt gets half of what is left (at least MIN_CUT_ATTEMPT_MS), so a silent backend
 * leaves time for another. With 3 attempts, 3 backends and 1500 ms: 750, then 375, then the rest.
 */
function attemptBudget(plan: AttemptRules, count: number, tried: ReadonlySet<Backend> | undefined): AttemptBudget {
  const left = timeLeft(plan.deadline);
  const untried = (plan.backendCount?.() ?? 0) - (tried?.size ?? 0);
  if (left === undefined || !plan.idempotent || count >= plan.maxAttempts - 1 || untried < 2) return { timeoutMs: left, cut: false };
  const part = Math.max(MIN_CUT_ATTEMPT_MS, Math.floor(left / 2));
  return part < left ? { timeoutMs: part, cut: true } : { timeoutMs: left, cut: false };
}

/**
 * The error of a failed attempt. When the attempt was cut short and failed DEADLINE_EXCEEDED
 * having used its whole part, its own timer fired (the backend did not answer in time; a
 * handler's own DEADLINE_EXCEEDED answer would come sooner): it becomes UNAVAILABLE, so it counts
 * toward ejection and the (idempotent) call moves on.
 */
function attemptError(reason: unknown, budget: AttemptBudget, sentAt: number): RpcError {
  const error = RpcError.from(reason);
  if (!budget.cut || error.code !== Code.DEADLINE_EXCEEDED || Date.now() - sentAt < budget.timeoutMs!) return error;
  return new RpcError(Code.UNAVAILABLE, `no answer within this attempt's ${budget.timeoutMs!} ms (${error.message})`, { cause: error });
}

/** Records a failed attempt; returns its error when the call may go on, throws it when that was final. */
function failed(plan: AttemptRules, picked: Picked, error: RpcError): RpcError {
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
