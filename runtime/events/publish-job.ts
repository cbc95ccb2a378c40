import type { CallContext } from "../call-context.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { BusCounters } from "./bus-counters.js";
import type { PublishRequest, PublishResponse } from "./gen/msf/events.js";
import { duplicatesToSkip, type PublisherState } from "./publisher-sequence.js";
import { DROPPED, FULL, removeWaiter, type Sink, type Waitable, type Waiter } from "./sink.js";
import { type Timed, type TimerList, timerQueue } from "../timer-queue.js";

/** What a PublishJob needs from the bus. */
export interface PublishRouter {
  readonly counters: BusCounters;
  /** The sinks of a checked topic (cached until subscriptions change). */
  route(topic: string): readonly Sink[];
  /** `publisher`'s head job was answered and removed: start the next one. */
  startNext(publisher: PublisherState): void;
}

const NO_SINKS: readonly Sink[] = [];
/**
 * A waiting Publish is failed after its max_wait_ms, or a little before its call's deadline (10%
 * of the time it had left, 20 ms to 500 ms), so that the caller receives the bus's explanation
 * (which queue was full) rather than its own channel's bare timeout.
 */
function deadlineMargin(left: number): number {
  return Math.min(500, Math.max(20, left / 10));
}

/**
 * One Publish call: routes its events in order, one at a time, to every sink of each event's
 * topic. When a sink is FULL (block policy) the job stops at that event, remembers which sinks
 * of the event already have it, waits on the full queue and goes on from there when woken;
 * the call's reply waits with it. The common case (room everywhere) runs synchronously inside
 * the handler: no promise, no timer, nothing allocated per event.
 */
export class PublishJob implements Waiter, Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;
  private index = 0;
  /** Sinks that already have the event at `index` (set only while blocked on it). */
  private partial: Set<Sink> | undefined = undefined;
  private waitingOn: Waitable | undefined = undefined;
  private done = false;
  private accepted = 0;
  private duplicates = 0;
  private unrouted = 0;
  private dropped = 0;
  private resolve: ((response: PublishResponse) => void) | undefined = undefined;
  private reject: ((error: unknown) => void) | undefined = undefined;

  constructor(
    private readonly router: PublishRouter,
    readonly publisher: PublisherState,
    private readonly request: PublishRequest,
    private readonly firstSeq: number,
    private readonly context: CallContext,
  ) {}

  /**
   * Called when the job heads its publisher's line: checks the sequence (throws RpcError
   * FAILED_PRECONDITION on a gap) and routes. True when every event was routed.
   */
  begin(): boolean {
    const { publisher, request } = this;
    const skip = duplicatesToSkip(publisher.id, publisher.nextSeq, this.firstSeq, request.events.length, request.resync);
    this.index = skip;
    this.duplicates = skip;
    this.router.counters.duplicates += skip;
    return this.run();
  }

  /** The reply of a job whose run() returned true. */
  response(): PublishResponse {
    return {
      nextSeq: BigInt(this.publisher.nextSeq ?? this.firstSeq),
      accepted: this.accepted,
      duplicates: this.duplicates,
      unrouted: this.unrouted,
      dropped: this.dropped,
    };
  }

  /**
   * The reply, later: the job waits behind another one of its publisher, or is blocked. Fails
   * when the call's signal aborts (deadline, cancel, connection closed) before then.
   */
  wait(): Promise<PublishResponse> {
    const promise = new Promise<PublishResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const { deadline, signal } = this.context;
    const maxWaitMs = this.request.maxWaitMs;
    if (deadline !== Infinity || maxWaitMs !== 0) {
      const now = Date.now();
      let at = deadline === Infinity ? Infinity : Math.max(now, deadline - deadlineMargin(deadline - now));
      if (maxWaitMs !== 0 && now + maxWaitMs < at) at = now + maxWaitMs;
      timerQueue.add(this, at, at - now);
    }
    // Cancelled by the caller, or its connection closed.
    if (signal.aborted) this.abort(signal.reason);
    else signal.addEventListener("abort", () => this.abort(signal.reason), { once: true });
    return promise;
  }

  onDeadline(): void {
    this.abort(new RpcError(Code.DEADLINE_EXCEEDED, "the wait allowed is over"));
  }

  /** Answers a waiting job that has finished (started from the line, or woken). */
  complete(): void {
    if (this.done) return;
    this.done = true;
    timerQueue.remove(this);
    this.resolve!(this.response());
  }

  /** Fails a waiting job (a gap found when it started, or the bus closed). */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    timerQueue.remove(this);
    this.release();
    this.reject!(error);
  }

  wake(): void {
    if (this.done || this.waitingOn === undefined) return;
    this.waitingOn = undefined;
    this.router.counters.blocked--;
    if (!this.run()) return;
    this.complete();
    this.publisher.jobs.shift();
    this.router.startNext(this.publisher);
  }

  /** True while waiting for room (for stats). */
  get blocked(): boolean {
    return this.waitingOn !== undefined;
  }

  private run(): boolean {
    const { router, publisher } = this;
    const counters = router.counters;
    const events = this.request.events;
    let topic: string | undefined;
    let route = NO_SINKS;
    for (let index = this.index; index < events.length; index++) {
      const event = events[index]!;
      if (event.topic !== topic) {
        topic = event.topic;
        route = router.route(topic);
      }
      if (route.length === 0) {
        this.unrouted++;
        counters.unrouted++;
      }
      const partial = this.partial;
      for (let at = 0; at < route.length; at++) {
        const sink = route[at]!;
        if (partial !== undefined && partial.has(sink)) continue;
        const result = sink.offer(event, false);
        if (result === FULL) {
          this.block(index, route, at, sink.waitFor(event));
          return false;
        }
        if (result === DROPPED) this.dropped++;
      }
      this.partial = undefined;
      this.accepted++;
      counters.published++;
      publisher.nextSeq = this.firstSeq + index + 1;
    }
    this.index = events.length;
    return true;
  }

  private block(index: number, route: readonly Sink[], at: number, waitable: Waitable): void {
    this.index = index;
    const partial = (this.partial ??= new Set());
    for (let done = 0; done < at; done++) partial.add(route[done]!);
    waitable.waiters.push(this);
    this.waitingOn = waitable;
    this.router.counters.blocked++;
  }

  private release(): void {
    if (this.waitingOn === undefined) return;
    removeWaiter(this.waitingOn, this);
    this.waitingOn = undefined;
    this.router.counters.blocked--;
  }

  /** The call's deadline (nearly) passed, or it was cancelled, while the job waited: it takes nothing more. */
  private abort(reason: unknown): void {
    if (this.done) return;
    const waitedOn = this.waitingOn;
    const jobs = this.publisher.jobs;
    const head = jobs[0] === this;
    const code = reason instanceof RpcError ? reason.code : Code.CANCELLED;
    const why = code === Code.DEADLINE_EXCEEDED ? "the wait it allowed was over" : `the call ended (${reason instanceof Error ? reason.message : String(reason)})`;
    let message: string;
    if (head && waitedOn !== undefined) {
      const stoppedAt = this.firstSeq + this.index;
      const events = this.request.events.length;
      message =
        `Publish from publisher "${this.publisher.id}" was blocked on ${waitedOn.describe()} until ${why}: ` +
        `events before seq ${stoppedAt} were taken; seq ${stoppedAt} and the ${events - this.index - 1} after it were not ` +
        `(seq ${stoppedAt} may have reached some subscriptions)`;
    } else {
      message = `Publish from publisher "${this.publisher.id}" waited behind an earlier blocked Publish of the same publisher until ${why}; none of its events were taken`;
    }
    this.fail(new RpcError(code, message, code === Code.DEADLINE_EXCEEDED ? undefined : { cause: reason }));
    if (head) {
      jobs.shift();
      this.router.startNext(this.publisher);
    } else {
      const index = jobs.indexOf(this);
      if (index >= 0) jobs.splice(index, 1);
    }
  }
}
