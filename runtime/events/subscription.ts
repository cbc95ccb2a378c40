import type { BusCounters } from "./bus-counters.js";
import type { DropPolicyName } from "./drop-policy.js";
import { EventQueue } from "./event-queue.js";
import type { Event, PullResponse } from "./gen/msf/events.js";
import type { Group } from "./group.js";
import type { PendingPull } from "./pending-pull.js";
import { DROPPED, FULL, QUEUED, type OfferResult, type Sink, type Waitable, type Waiter, type Wakeups } from "./sink.js";
import { topicMatcher } from "./topic.js";

/**
 * One subscriber's bounded queue at the bus. Events queued here are references to the published
 * Event objects (a broadcast shares one object between all its subscriptions, never a copy).
 * As a Sink it is a broadcast subscription; a group's members are Subscriptions too, but only
 * their Group is in routes.
 */
export class Subscription implements Sink, Waitable {
  readonly queue = new EventQueue<Event>();
  readonly waiters: Waiter[] = [];
  readonly matches: (topic: string) => boolean;
  /** Dropped since the previous Pull (reported and reset by take()). */
  dropped = 0;
  droppedTotal = 0;
  delivered = 0;
  /** Date.now() of the last Pull's start or end: expiry counts from here. */
  lastActive: number;
  /** The Pull waiting for events (long poll), if any. */
  pull: PendingPull | undefined = undefined;

  constructor(
    readonly id: string,
    readonly pattern: string,
    readonly group: Group | undefined,
    readonly limit: number,
    readonly policy: DropPolicyName,
    private readonly counters: BusCounters,
    private readonly wakeups: Wakeups,
    now: number,
  ) {
    this.matches = topicMatcher(pattern);
    this.lastActive = now;
  }

  hasRoom(): boolean {
    return this.queue.length < this.limit;
  }

  offer(event: Event, force: boolean): OfferResult {
    if (this.queue.length < this.limit) {
      this.push(event);
      return QUEUED;
    }
    switch (this.policy) {
      case "block":
        if (!force) return FULL;
        this.push(event);
        return QUEUED;
      case "drop_oldest":
        this.queue.shift();
        this.countDrop();
        this.push(event);
        return DROPPED;
      case "drop_newest":
        this.countDrop();
        return DROPPED;
    }
  }

  waitFor(): Waitable {
    return this;
  }

  /** Queues `event` whatever the limit (offer's room check done, or a forced requeue). */
  push(event: Event): void {
    this.queue.push(event);
    this.pull?.notify();
  }

  /**
   * Takes up to `maxEvents` events, stopping before the payloads exceed `maxBytes` (but always
   * at least one), and the drop counters; wakes publishes blocked on this queue.
   */
  take(maxEvents: number, maxBytes: number, now: number): PullResponse {
    const queue = this.queue;
    const events: Event[] = [];
    let bytes = 0;
    while (events.length < maxEvents && queue.length > 0) {
      const size = queue.peek()!.payload.length;
      if (events.length > 0 && bytes + size > maxBytes) break;
      events.push(queue.shift()!);
      bytes += size;
    }
    const dropped = this.dropped;
    this.dropped = 0;
    this.delivered += events.length;
    this.counters.delivered += events.length;
    this.lastActive = now;
    if (events.length > 0) this.roomMade();
    return { events, dropped: BigInt(dropped), droppedTotal: BigInt(this.droppedTotal), queued: queue.length };
  }

  /** Wakes what may now proceed: publishes blocked on this queue, or on its group. */
  roomMade(): void {
    this.wakeups.wakeAll(this);
    if (this.group !== undefined) this.wakeups.wakeAll(this.group);
  }

  describe(): string {
    const group = this.group === undefined ? "" : `, group "${this.group.name}"`;
    return `subscription ${this.id} (topic "${this.pattern}"${group}, ${this.queue.length} of ${this.limit} queued, policy ${this.policy})`;
  }

  private countDrop(): void {
    this.dropped++;
    this.droppedTotal++;
    this.counters.dropped++;
  }
}
