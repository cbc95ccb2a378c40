import type { AuthClock } from "../../../runtime/auth/index.js";

/**
 * A clock tests move by hand: timers and sleeps fire only inside advance(), in time order, and
 * the promise chains they resolve run before the next one fires.
 */
export class ManualClock implements AuthClock {
  time = 1_000_000;
  #timers: { at: number; seq: number; callback: () => void }[] = [];
  #seq = 0;

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  setTimer(ms: number, callback: () => void): () => void {
    const timer = { at: this.time + ms, seq: this.#seq++, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((other) => other !== timer);
    };
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (let fired = 0; fired < 100_000; fired++) {
      await settle();
      const next = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== next);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = target;
    await settle();
  }
}

/**
 * Lets queued work run: promise reactions, and bodies the tests' in-memory links deliver with
 * setImmediate (a handshake is at most a few such hops deep).
 */
export async function settle(rounds = 8): Promise<void> {
  for (let round = 0; round < rounds; round++) await new Promise((resolve) => setImmediate(resolve));
}
