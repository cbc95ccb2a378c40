import type { Backend } from "./backend.js";
import type { Balancer } from "./balancer.js";
import type { CallOutcome } from "./call-outcome.js";

/** A backend chosen for one call; `probe`: this call decides whether an ejected backend comes back (ejection.ts). */
export interface Picked {
  readonly backend: Backend;
  readonly probe: boolean;
}

/**
 * Chooses the backend for one call (attempt): the balancer picks among the backends that take
 * calls now (not ejected, not already tried by this call: `exclude`). When none does, the call
 * still goes somewhere rather than failing outright: to the backend ejected longest ago (not
 * tried yet), as a forced probe. Undefined only when every backend was tried (or there is none).
 */
export function pickBackend(
  backends: readonly Backend[],
  balancer: Balancer,
  key: string | undefined,
  exclude: ReadonlySet<Backend> | undefined,
  now: number,
): Picked | undefined {
  let candidates = backends;
  // The common case (nobody out, nothing tried) passes the list itself: balancers may cache by identity.
  if (exclude !== undefined || !backends.every((backend) => backend.ejection.admits(now))) {
    candidates = backends.filter((backend) => backend.ejection.admits(now) && exclude?.has(backend) !== true);
  }
  const picked = balancer.pick(candidates, key);
  if (picked !== undefined) return { backend: picked, probe: picked.ejection.admit(now) };
  let fallback: Backend | undefined;
  for (const backend of backends) {
    if (exclude?.has(backend) === true) continue;
    if (fallback === undefined || backend.ejection.ejectedAt < fallback.ejection.ejectedAt) fallback = backend;
  }
  if (fallback === undefined) return undefined;
  return { backend: fallback, probe: fallback.ejection.admit(now, true) };
}

/** Counts a call as sent to the picked backend (least_inflight reads inFlight). */
export function beginCall(pick: Picked): void {
  pick.backend.inFlight++;
}

/**
 * Records how a call sent with beginCall() ended: the backend's counters, its ejection state
 * and the balancer's feedback. Toward ejection only "unreachable" counts as a failure, a reply or
 * the handler's own error as a success; "overloaded" (slow, full) counts for neither, except that
 * a probe which did not answer in time has not shown the backend is back.
 */
export function endCall(pick: Picked, balancer: Balancer, outcome: CallOutcome, now: number): void {
  const backend = pick.backend;
  backend.inFlight--;
  backend.calls++;
  if (outcome !== "ok") backend.errors++;
  if (outcome === "unreachable" || (outcome === "overloaded" && pick.probe)) backend.ejection.failed(pick.probe, now);
  else if (outcome !== "overloaded") backend.ejection.succeeded(pick.probe, now);
  balancer.report?.(backend, outcome);
}
