import type { Timed, TimerList } from "../timer-queue.js";
import { eventLoopClock, type TimerSource } from "./datagram-clock.js";
import { SeqTable } from "../wire/seq-table.js";
import { FIRST_RETRANSMIT_MS, RETRANSMIT_HORIZON_MS, backoff } from "./datagram-timing.js";

/** What a RequestTable asks of its connection. */
export interface RetransmitOwner {
  /** Sends `request.datagram` again (re-sealed under a new counter when the connection is tagged). */
  retransmit(request: PendingRequest): void;
}

/**
 * A request sent and not answered yet: its own entry in the shared timer queue (no per-call
 * timer), and a link in the table's send-order list (for the acknowledgement, see ackDelta).
 */
export class PendingRequest implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;
  older: PendingRequest | undefined = undefined;
  newer: PendingRequest | undefined = undefined;
  /** Wait before the next copy. */
  interval = FIRST_RETRANSMIT_MS;

  constructor(
    private readonly table: RequestTable,
    readonly seq: number,
    /** The datagram as first sent (a retransmission sends a copy). */
    readonly datagram: Uint8Array,
    readonly firstSentAt: number,
    /** Absolute (Date.now() ms); Infinity for none. */
    readonly deadline: number,
  ) {}

  onDeadline(): void {
    this.table.due(this);
  }
}

/** The acknowledgement field's value for "too far back to say" (see ackDelta). */
export const NO_ACK = 0xffff;

/**
 * A client connection's outstanding requests, by seq and in send order. A request leaves the
 * table when its reply arrives or the caller gives up (CANCEL); until then it is sent again on the
 * schedule of datagram-timing.ts. [not thread-safe; one per connection]
 */
export class RequestTable {
  private readonly bySeq = new SeqTable<PendingRequest>();
  private oldest: PendingRequest | undefined;
  private newest: PendingRequest | undefined;

  constructor(
    private readonly owner: RetransmitOwner,
    private readonly timers: TimerSource = eventLoopClock.timers,
  ) {}

  get size(): number {
    return this.bySeq.size;
  }

  /**
   * Registers a request just sent. `timeoutMs` is the header's timeout field (0: no deadline).
   * Returns false (and registers nothing) when the seq is already outstanding.
   */
  add(seq: number, datagram: Uint8Array, now: number, timeoutMs: number): boolean {
    if (this.bySeq.get(seq) !== undefined) return false;
    const deadline = timeoutMs === 0 ? Infinity : now + timeoutMs;
    const request = new PendingRequest(this, seq, datagram, now, deadline);
    this.bySeq.set(seq, request);
    request.older = this.newest;
    if (this.newest !== undefined) this.newest.newer = request;
    else this.oldest = request;
    this.newest = request;
    this.schedule(request, now);
    return true;
  }

  /**
   * The acknowledgement a REQUEST with `seq` carries in its status field: how many seqs before it
   * the oldest request still outstanding is (0 when `seq` is the oldest). It tells the server that
   * every request sent before that one has its reply (or was given up), so their cached replies
   * can go. NO_ACK when the distance does not fit.
   */
  ackDelta(seq: number): number {
    const oldest = this.oldest;
    if (oldest === undefined) return 0;
    const delta = (seq - oldest.seq) >>> 0;
    return delta >= NO_ACK ? NO_ACK : delta;
  }

  /** Removes and returns the request `seq` (its reply arrived, or it was cancelled); undefined when not outstanding. */
  take(seq: number): PendingRequest | undefined {
    const request = this.bySeq.delete(seq);
    if (request === undefined) return undefined;
    if (request.timerList !== undefined) this.timers.remove(request);
    if (request.older !== undefined) request.older.newer = request.newer;
    else this.oldest = request.newer;
    if (request.newer !== undefined) request.newer.older = request.older;
    else this.newest = request.older;
    request.older = undefined;
    request.newer = undefined;
    return request;
  }

  /** The outstanding seqs, oldest first. */
  seqs(): number[] {
    const seqs: number[] = [];
    for (let request = this.oldest; request !== undefined; request = request.newer) seqs.push(request.seq);
    return seqs;
  }

  /** Stops every timer and forgets every request (the connection closed). */
  clear(): void {
    for (let request = this.oldest; request !== undefined; request = request.newer) {
      if (request.timerList !== undefined) this.timers.remove(request);
    }
    this.bySeq.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  /** The timer of `request` ran out: send it again if its deadline and the horizon allow, and schedule the next. */
  due(request: PendingRequest): void {
    if (this.bySeq.get(request.seq) !== request) return;
    const now = Date.now();
    // A timer that fired late (a busy or descheduled process) must not send a copy the server would only drop.
    if (now >= request.deadline) return;
    this.owner.retransmit(request);
    // Sending may have ended it (the connection closed): then it is no longer here.
    if (this.bySeq.get(request.seq) !== request) return;
    request.interval = backoff(request.interval);
    this.schedule(request, now);
  }

  private schedule(request: PendingRequest, now: number): void {
    const at = now + request.interval;
    // A copy sent when the deadline is about to pass could only bring a reply too late; none is
    // sent after the horizon (the server's de-duplication window must cover every copy).
    if (at >= request.deadline || at - request.firstSentAt > RETRANSMIT_HORIZON_MS) return;
    this.timers.add(request, at, request.interval);
  }
}
