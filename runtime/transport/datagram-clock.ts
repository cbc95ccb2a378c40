import { TimerList, timerQueue, type Timed } from "../timer-queue.js";

/**
 * Where a datagram connection's timers run (retransmission, the handshake relay, the idle check)
 * and where the work it defers goes (delivering what arrived before start(), local replies,
 * onClose). A connection on the event loop uses eventLoopClock: the process-wide timer queue and
 * process.nextTick. A connection driven by a thread that blocks instead of running its event loop
 * (the native engine of blocking calls, runtime/client/sync-native-datagram.ts) uses a
 * ManualClock and runs it while it waits.
 */
export interface DatagramClock {
  readonly timers: TimerSource;
  /** Runs `task` later, after the current operation (send, receive, close) returned. */
  defer(task: () => void): void;
}

/** The part of TimerQueue a datagram connection uses (deadlines on the Date.now() clock). */
export interface TimerSource {
  /** Queues `entry` to run onDeadline at `deadline`; the entry must not be queued. */
  add(entry: Timed, deadline: number, durationMs: number): void;
  /** Unqueues `entry` if queued; a no-op otherwise. */
  remove(entry: Timed): void;
}

export const eventLoopClock: DatagramClock = {
  timers: timerQueue,
  defer: (task) => process.nextTick(task),
};

/** The list every entry of every ManualClock is marked with (timerList !== undefined means queued). */
const MANUAL = new TimerList(0);

/**
 * A clock that runs only when told to (run()): timers whose deadline passed fire then, deferred
 * tasks run then. For a connection owned by one blocked thread, which holds few timers (a
 * request, the handshake relay, the idle check), hence the plain array. [not thread-safe]
 */
export class ManualClock implements DatagramClock, TimerSource {
  readonly timers: TimerSource = this;
  private readonly entries: Timed[] = [];
  private tasks: (() => void)[] = [];

  add(entry: Timed, deadline: number, _durationMs: number): void {
    entry.timerAt = deadline;
    entry.timerList = MANUAL;
    this.entries.push(entry);
  }

  remove(entry: Timed): void {
    if (entry.timerList !== MANUAL) return;
    entry.timerList = undefined;
    const at = this.entries.indexOf(entry);
    if (at >= 0) this.entries.splice(at, 1);
  }

  defer(task: () => void): void {
    this.tasks.push(task);
  }

  /** The earliest deadline queued (Date.now() clock); 0 when tasks are deferred; Infinity when nothing is pending. */
  nextAt(): number {
    if (this.tasks.length > 0) return 0;
    let earliest = Infinity;
    for (const entry of this.entries) if (entry.timerAt < earliest) earliest = entry.timerAt;
    return earliest;
  }

  /**
   * Runs the deferred tasks, then the timers due at `now`, until none is left (a task or timer
   * may defer or queue more). Returns whether anything ran.
   */
  run(now: number = Date.now()): boolean {
    let ran = false;
    for (;;) {
      if (this.tasks.length > 0) {
        const tasks = this.tasks;
        this.tasks = [];
        for (const task of tasks) task();
        ran = true;
        continue;
      }
      const due = this.entries.find((entry) => entry.timerAt <= now);
      if (due === undefined) return ran;
      this.remove(due);
      due.onDeadline();
      ran = true;
    }
  }
}
