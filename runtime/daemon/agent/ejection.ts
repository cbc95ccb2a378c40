/**
 * Outlier ejection of one backend (Envoy's outlier detection, in its simplest form):
 *
 * - `failures` consecutive failed calls (the caller decides what a failure is: the forwarder
 *   counts UNAVAILABLE, i.e. connection refused or lost) eject the backend: no call is sent to it
 *   for an interval.
 * - When the interval is over, the next call picked for it is the probe; no other call goes to it
 *   while the probe is out. The probe succeeding restores the backend; failing ejects it again
 *   for twice the interval, up to `maxMs`.
 * - Ejections in a row double the interval (baseMs, 2×, 4×, ... up to maxMs); a backend that has
 *   stayed in service for longer than maxMs since it was restored starts again from baseMs.
 * - A probe that never reports (no deadline, the instance hung) does not block the backend
 *   forever: after maxMs another probe may go.
 *
 * All times come from the caller (`now`, ms), so a test drives it with a fake clock.
 */

export interface EjectionPolicy {
  /** Consecutive failures that eject a backend (>= 1). */
  readonly failures: number;
  /** The first ejection's interval, ms. */
  readonly baseMs: number;
  /** The longest interval, ms (>= baseMs). */
  readonly maxMs: number;
}

export const DEFAULT_EJECTION_POLICY: EjectionPolicy = { failures: 5, baseMs: 1000, maxMs: 30_000 };

export type EjectionState =
  | { readonly t: "active"; readonly failures: number }
  | { readonly t: "ejected"; readonly since: number; readonly until: number }
  /** `since`: when the probe was sent; `ejectedAt`: when the ejection it probes began. */
  | { readonly t: "probing"; readonly since: number; readonly ejectedAt: number };

const ACTIVE: EjectionState = { t: "active", failures: 0 };

/** Throws a plain Error naming the field when `policy` is not usable. */
export function checkEjectionPolicy(policy: EjectionPolicy): EjectionPolicy {
  const { failures, baseMs, maxMs } = policy;
  if (!Number.isInteger(failures) || failures < 1) throw new Error(`ejection policy: failures must be an integer >= 1, got ${String(failures)}`);
  if (typeof baseMs !== "number" || !(baseMs > 0)) throw new Error(`ejection policy: baseMs must be a number of ms > 0, got ${String(baseMs)}`);
  if (typeof maxMs !== "number" || !(maxMs >= baseMs)) {
    throw new Error(`ejection policy: maxMs must be a number of ms >= baseMs (${baseMs}), got ${String(maxMs)}`);
  }
  return policy;
}

export class Ejection {
  private current: EjectionState = ACTIVE;
  /** Ejections in a row: the next interval is baseMs * 2^level, capped at maxMs. */
  private level = 0;
  private restoredAt = -Infinity;
  /** Times this backend was ejected, for status. */
  ejections = 0;

  constructor(private readonly policy: EjectionPolicy = DEFAULT_EJECTION_POLICY) {}

  get state(): EjectionState {
    return this.current;
  }

  /** Whether a call may be picked for it now: active; or ejected with its interval over and no probe out. */
  admits(now: number): boolean {
    const state = this.current;
    switch (state.t) {
      case "active":
        return true;
      case "ejected":
        return now >= state.until;
      case "probing":
        return now >= state.since + this.policy.maxMs;
    }
  }

  /**
   * Called for the backend a call is sent to. Returns true when this call is the probe (its
   * outcome decides whether the backend comes back). `forced`: every backend is out and this one
   * gets the call anyway; it becomes the probe unless one is already out.
   */
  admit(now: number, forced = false): boolean {
    const state = this.current;
    if (state.t === "active") return false;
    if (state.t === "probing" && now < state.since + this.policy.maxMs) return false;
    if (state.t === "ejected" && now < state.until && !forced) return false;
    this.current = { t: "probing", since: now, ejectedAt: state.t === "ejected" ? state.since : state.ejectedAt };
    return true;
  }

  /** A call to it succeeded. `probe`: what admit() returned for that call. */
  succeeded(probe: boolean, now: number): void {
    const state = this.current;
    if (state.t === "active") {
      if (state.failures !== 0) this.current = ACTIVE;
      return;
    }
    // Outcomes of calls sent before the ejection do not decide; only the probe's does.
    if (state.t === "probing" && probe) {
      this.current = ACTIVE;
      this.restoredAt = now;
    }
  }

  /** A call to it failed in a way that counts (unreachable). `probe`: what admit() returned for that call. */
  failed(probe: boolean, now: number): void {
    const state = this.current;
    if (state.t === "active") {
      const failures = state.failures + 1;
      if (failures < this.policy.failures) {
        this.current = { t: "active", failures };
        return;
      }
      if (now - this.restoredAt > this.policy.maxMs) this.level = 0;
      this.eject(now);
      return;
    }
    if (state.t === "probing" && probe) this.eject(now);
  }

  /** When its current ejection began (the all-out fallback picks the earliest); -Infinity while active. */
  get ejectedAt(): number {
    const state = this.current;
    return state.t === "active" ? -Infinity : state.t === "ejected" ? state.since : state.ejectedAt;
  }

  /** The interval the next ejection would last, ms. */
  get nextIntervalMs(): number {
    return Math.min(this.policy.maxMs, this.policy.baseMs * 2 ** this.level);
  }

  private eject(now: number): void {
    const interval = this.nextIntervalMs;
    this.current = { t: "ejected", since: now, until: now + interval };
    this.ejections++;
    if (interval < this.policy.maxMs) this.level++;
  }
}
