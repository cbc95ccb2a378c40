/**
 * The one timer behind every call deadline of the process (client calls and server handlers).
 *
 * A per-call setTimeout costs a native timer handle, a closure and a heap update per call, and
 * almost every call completes before its deadline. Here a call is linked into a list in O(1)
 * (no allocation: the call object carries the links, see Timed) and unlinked in O(1) when it
 * completes; one unref'd setTimeout is armed for the earliest deadline.
 *
 * Lists are kept per timeout duration, as Node's own timers do: calls with the same timeout are
 * added in deadline order, so each list stays sorted by appending at its tail (a late-comer with
 * an earlier deadline walks back from the tail, usually zero steps). The earliest deadline is the
 * smallest list head; there are as many lists as distinct timeouts in use, which is few.
 * Deadlines are absolute ms on the Date.now() clock, the clock of CallContext.deadline.
 */
export interface Timed {
  /** Absolute deadline (Date.now() ms); written by TimerQueue.add. */
  timerAt: number;
  timerPrev: Timed | undefined;
  timerNext: Timed | undefined;
  /** The list it waits in; undefined when not queued. */
  timerList: TimerList | undefined;
  /** Runs once when the deadline passes, after the entry has been unlinked. Must not throw. */
  onDeadline(): void;
}

/** setTimeout's largest delay; longer waits are re-armed when it fires. */
const MAX_DELAY_MS = 0x7fffffff;
/** Empty lists are kept (a list that empties and refills on every call should not churn) up to this many. */
const MAX_IDLE_LISTS = 32;

export class TimerList {
  head: Timed | undefined = undefined;
  tail: Timed | undefined = undefined;
  constructor(readonly durationMs: number) {}
}

export class TimerQueue {
  private readonly lists = new Map<number, TimerList>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity when none is armed). */
  private armedAt = Infinity;
  private size = 0;
  private readonly fire = (): void => this.expire();

  /** Entries waiting. */
  get pending(): number {
    return this.size;
  }

  /** Queues `entry` to run onDeadline at `deadline`, `durationMs` after now. The entry must not be queued. */
  add(entry: Timed, deadline: number, durationMs: number): void {
    const key = Math.round(durationMs);
    let list = this.lists.get(key);
    if (list === undefined) {
      if (this.lists.size >= MAX_IDLE_LISTS) this.dropIdleLists();
      list = new TimerList(key);
      this.lists.set(key, list);
    }
    entry.timerAt = deadline;
    entry.timerList = list;
    let after = list.tail;
    while (after !== undefined && after.timerAt > deadline) after = after.timerPrev;
    entry.timerPrev = after;
    if (after === undefined) {
      entry.timerNext = list.head;
      if (list.head !== undefined) list.head.timerPrev = entry;
      else list.tail = entry;
      list.head = entry;
    } else {
      entry.timerNext = after.timerNext;
      if (after.timerNext !== undefined) after.timerNext.timerPrev = entry;
      else list.tail = entry;
      after.timerNext = entry;
    }
    this.size++;
    if (deadline < this.armedAt) this.arm(deadline, Date.now());
  }

  /** Unlinks `entry` if queued; a no-op otherwise. The armed timer is left alone (it fires, finds nothing due, re-arms or stops). */
  remove(entry: Timed): void {
    const list = entry.timerList;
    if (list === undefined) return;
    const prev = entry.timerPrev;
    const next = entry.timerNext;
    if (prev === undefined) list.head = next;
    else prev.timerNext = next;
    if (next === undefined) list.tail = prev;
    else next.timerPrev = prev;
    entry.timerPrev = undefined;
    entry.timerNext = undefined;
    entry.timerList = undefined;
    this.size--;
  }

  /**
   * Runs every entry due, in deadline order across lists (when the event loop was held up, entries
   * of several durations may be due at once: the earliest deadline still runs first).
   */
  private expire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = Date.now();
    let earliest = Infinity;
    for (;;) {
      let next: Timed | undefined;
      for (const list of this.lists.values()) {
        const head = list.head;
        if (head !== undefined && (next === undefined || head.timerAt < next.timerAt)) next = head;
      }
      if (next === undefined) break;
      if (next.timerAt > now) {
        earliest = next.timerAt;
        break;
      }
      this.remove(next);
      next.onDeadline();
    }
    // onDeadline may have added entries (and armed the timer); keep the earlier of both.
    if (earliest < this.armedAt) this.arm(earliest, now);
  }

  private arm(at: number, now: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(this.fire, Math.min(Math.max(at - now, 1), MAX_DELAY_MS));
    this.timer.unref();
  }

  private dropIdleLists(): void {
    for (const [key, list] of this.lists) if (list.head === undefined) this.lists.delete(key);
  }
}

/** The process-wide queue every channel and server uses. */
export const timerQueue = new TimerQueue();
