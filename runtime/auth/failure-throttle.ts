import { systemClock, type AuthClock } from "./auth-clock.js";

export interface FailureThrottleOptions {
  /** Failures per key answered without delay. Default 3. */
  readonly freeFailures?: number;
  /** Delay after the free failures; doubles with each further failure. Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Cap of one verdict's delay. Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** A key with no failure for this long starts afresh. Default 60 000 ms. */
  readonly quietMs?: number;
  /** Verdicts of one key queued further ahead than this are refused unchecked. Default 10 000 ms (the handshake timeout). */
  readonly maxQueueMs?: number;
  /** Keys remembered at most (the least recently failed are forgotten first). Default 10 000. */
  readonly maxKeys?: number;
  readonly clock?: AuthClock;
}

/** The verdict slot admit() hands out: wait `delayMs`, or refuse the attempt unchecked. */
export type ThrottleSlot = { readonly refused: false; readonly delayMs: number } | { readonly refused: true };

/**
 * Slows down guessing: counts failed authentications per peer key (a remote address, a uid) and
 * delays the verdict of that key's next attempts: none for the first `freeFailures`, then
 * `baseDelayMs` doubling per failure up to `maxDelayMs`.
 *
 * Every verdict of a throttled key is delayed, successes included (else "no answer yet" would
 * itself be the verdict), and the verdicts of one key are serialised: parallel connections wait
 * in one queue, so N connections do not buy N times the guesses. A key whose queue reaches
 * `maxQueueMs` is refused at once without checking its answer, which teaches it nothing and
 * bounds the connections an attacker can park. Successes do not reset the count (else one valid
 * credential would unlock unlimited guesses at others); the count decays after `quietMs`.
 *
 * Steady state after the free failures: one verdict per `maxDelayMs` per key (0.2/s by default).
 */
export class FailureThrottle {
  readonly #entries = new Map<string, { failures: number; lastFailureAt: number; nextVerdictAt: number }>();
  readonly #freeFailures: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #quietMs: number;
  readonly #maxQueueMs: number;
  readonly #maxKeys: number;
  readonly clock: AuthClock;

  constructor(options: FailureThrottleOptions = {}) {
    this.#freeFailures = nonNegative("freeFailures", options.freeFailures ?? 3);
    this.#baseDelayMs = nonNegative("baseDelayMs", options.baseDelayMs ?? 100);
    this.#maxDelayMs = nonNegative("maxDelayMs", options.maxDelayMs ?? 5000);
    this.#quietMs = nonNegative("quietMs", options.quietMs ?? 60_000);
    this.#maxQueueMs = nonNegative("maxQueueMs", options.maxQueueMs ?? 10_000);
    this.#maxKeys = Math.max(1, nonNegative("maxKeys", options.maxKeys ?? 10_000));
    this.clock = options.clock ?? systemClock;
  }

  /** Failures currently counted for `key` (after decay). */
  failures(key: string): number {
    return this.#live(key, this.clock.now())?.failures ?? 0;
  }

  /** The delay a verdict for `key` would get now, ignoring the queue. */
  delayFor(failures: number): number {
    if (failures < this.#freeFailures) return 0;
    const doublings = Math.min(failures - this.#freeFailures, 30);
    return Math.min(this.#baseDelayMs * 2 ** doublings, this.#maxDelayMs);
  }

  /** Reserves the verdict slot of one attempt by `key`. Call once per checked answer. */
  admit(key: string): ThrottleSlot {
    const now = this.clock.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return { refused: false, delayMs: 0 };
    const delay = this.delayFor(entry.failures);
    if (delay === 0) return { refused: false, delayMs: 0 };
    const verdictAt = Math.max(now, entry.nextVerdictAt) + delay;
    if (verdictAt - now > this.#maxQueueMs) return { refused: true };
    entry.nextVerdictAt = verdictAt;
    return { refused: false, delayMs: verdictAt - now };
  }

  /** Counts one failed authentication by `key`. */
  recordFailure(key: string): void {
    const now = this.clock.now();
    const entry = this.#live(key, now);
    if (entry !== undefined) {
      entry.failures += 1;
      entry.lastFailureAt = now;
      // Re-insert so Map order stays "least recently failed first" for eviction.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return;
    }
    if (this.#entries.size >= this.#maxKeys) this.#evict(now);
    this.#entries.set(key, { failures: 1, lastFailureAt: now, nextVerdictAt: now });
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number) {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.lastFailureAt >= this.#quietMs && entry.nextVerdictAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastFailureAt >= this.#quietMs && entry.nextVerdictAt <= now) this.#entries.delete(key);
    }
    while (this.#entries.size >= this.#maxKeys) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`throttle option ${name} must be a finite number >= 0, got ${value}`);
  return value;
}
