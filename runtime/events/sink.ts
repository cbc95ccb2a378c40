import type { Event } from "./gen/msf/events.js";

/**
 * Where the bus routes an event: a subscription of its own (broadcast), or a group whose
 * members share the events. The route of a topic is the list of sinks whose pattern matches it.
 */
export interface Sink {
  /**
   * Routes one event: QUEUED, DROPPED (by a drop policy; counted on the subscription that lost
   * an event), or FULL (block policy, no room: nothing was done; wait on waitFor(event), then
   * offer it again). With `force`, the block policy queues beyond the limit instead of FULL
   * (msfd's own events never wait and are never dropped).
   */
  offer(event: Event, force: boolean): OfferResult;
  /** What to wait on after FULL: the one queue the event must go to, or the whole group. */
  waitFor(event: Event): Waitable;
}

export const QUEUED = 0;
export const DROPPED = 1;
export const FULL = 2;
export type OfferResult = typeof QUEUED | typeof DROPPED | typeof FULL;

/** A queue (or a group of them) that publishes blocked on it wait for. */
export interface Waitable {
  /** Blocked publishes, oldest first; all are woken when room appears. */
  readonly waiters: Waiter[];
  /** For error messages: `subscription 3f2a… (topic "flight.*")`. */
  describe(): string;
}

/** A blocked publish. */
export interface Waiter {
  /** Room appeared in what it waited on (or the route changed): try again. Runs from a microtask. */
  wake(): void;
}

/**
 * Wakes blocked publishes in a microtask, never inside the call that made room: a Pull takes
 * its events and replies first, and the handlers never re-enter each other.
 */
export class Wakeups {
  private runnable: Waiter[] = [];
  private scheduled = false;
  private readonly drain = (): void => {
    const list = this.runnable;
    this.runnable = [];
    this.scheduled = false;
    for (const waiter of list) waiter.wake();
  };

  /** Wakes every waiter of `waitable` (they re-register if they block again). */
  wakeAll(waitable: Waitable): void {
    const waiters = waitable.waiters;
    if (waiters.length === 0) return;
    for (const waiter of waiters) this.runnable.push(waiter);
    waiters.length = 0;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drain);
    }
  }
}

/** Removes `waiter` from `waitable`'s list, if there. */
export function removeWaiter(waitable: Waitable, waiter: Waiter): void {
  const index = waitable.waiters.indexOf(waiter);
  if (index >= 0) waitable.waiters.splice(index, 1);
}
