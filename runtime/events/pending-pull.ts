import type { PullResponse } from "./gen/msf/events.js";
import type { Subscription } from "./subscription.js";
import { type Timed, type TimerList, timerQueue } from "../timer-queue.js";

/**
 * A Pull waiting for events (long poll). It is answered once: in a microtask after the first
 * event is queued (so a whole published batch goes into one reply), when its wait is over
 * (with nothing), or failed when the subscription ends or the call is cancelled. The wait is an
 * entry in the process's timer queue, not a timer of its own.
 */
export class PendingPull implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;
  private scheduled = false;
  private done = false;
  private readonly fire = (): void => this.answer();

  constructor(
    private readonly subscription: Subscription,
    private readonly maxEvents: number,
    private readonly maxBytes: number,
    private readonly resolve: (response: PullResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  /** Waits until `at` (Date.now() clock) at most. */
  start(at: number, now: number): void {
    timerQueue.add(this, at, at - now);
  }

  /** An event was queued. */
  notify(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    queueMicrotask(this.fire);
  }

  onDeadline(): void {
    this.answer();
  }

  /** Replies with what is queued now (possibly nothing). */
  answer(): void {
    if (!this.finish()) return;
    this.resolve(this.subscription.take(this.maxEvents, this.maxBytes, Date.now()));
  }

  /** Replies with no events and without touching the queue or its counters (a newer Pull took over). */
  answerEmpty(): void {
    if (!this.finish()) return;
    this.resolve({ events: [], dropped: 0n, droppedTotal: BigInt(this.subscription.droppedTotal), queued: this.subscription.queue.length });
  }

  fail(error: unknown): void {
    if (!this.finish()) return;
    this.reject(error);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    timerQueue.remove(this);
    if (this.subscription.pull === this) this.subscription.pull = undefined;
    this.subscription.lastActive = Date.now();
    return true;
  }
}
