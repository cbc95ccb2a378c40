import { EventEmitter } from "node:events";
import type { ProcConfig } from "./host-config.js";
import type { Alert, HostLog } from "./host-types.js";
import { readRssBytes } from "./memory-sampler.js";
import { MemoryWatch } from "./memory-watch.js";
import { ProcProcess, type ProcExit } from "./proc-process.js";
import { RestartTracker } from "./restart-policy.js";

/**
 * Supervises one msf_procs entry: a plain executable (proc-process.ts for its command line) kept
 * running with the same policy as plugin instances (restart-policy.ts): restarted when it exits
 * on its own, whatever its exit code (at once the first time in a window, then with a doubling
 * backoff), given up after max_restarts within window_ms (state "failed", alert crash_loop).
 * Memory: its RSS (/proc/<pid>/statm) every memory.sampleMs; alert_mb raises an alert once per
 * crossing; restart_mb restarts it. A plain executable has no endpoint and may not tolerate a
 * second copy of itself, so a memory restart stops it first (SIGTERM, SIGKILL after
 * stop_timeout_ms) and then starts it again; it is not counted as a crash.
 *
 * Events: up(info) when it was spawned, down(info) when it exited or is about to be stopped,
 * alert(alert).
 */
export type ProcState = "starting" | "running" | "restarting" | "failed" | "stopped";

export interface ProcInfo {
  readonly name: string;
  readonly index: number;
  /** The executable (proc_path, absolute). */
  readonly path: string;
  /** 0 while no process runs. */
  readonly pid: number;
  readonly state: ProcState;
  readonly startedAt: number;
  readonly restarts: number;
  readonly rssBytes: number;
  /** How the last run ended; undefined before the first exit. */
  readonly lastExit: string | undefined;
}

export interface ProcSupervisorOptions {
  readonly log: HostLog;
}

export interface ProcSupervisorEvents {
  up: [info: ProcInfo];
  down: [info: ProcInfo];
  alert: [alert: Alert];
}

export class ProcSupervisor extends EventEmitter<ProcSupervisorEvents> {
  private status: ProcState = "starting";
  private run: ProcProcess | undefined;
  private restarts = 0;
  private rssBytes = 0;
  private lastExit: string | undefined;
  private watch: MemoryWatch;
  private readonly tracker: RestartTracker;
  private sampler: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped: Promise<void> | undefined;

  constructor(
    readonly config: ProcConfig,
    private readonly options: ProcSupervisorOptions,
  ) {
    super();
    this.tracker = new RestartTracker(config.restart);
    this.watch = new MemoryWatch(config.memory);
  }

  get state(): ProcState {
    return this.status;
  }

  info(): ProcInfo {
    const run = this.run;
    return {
      name: this.config.name,
      index: this.config.index,
      path: this.config.path,
      pid: run !== undefined && !run.gone ? run.pid : 0,
      state: this.status,
      startedAt: run?.startedAt ?? 0,
      restarts: this.restarts,
      rssBytes: this.rssBytes,
      lastExit: this.lastExit,
    };
  }

  /** Spawns it; resolves once it runs, rejects (state "failed") when it cannot be spawned at all. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`msf_procs ${this.config.name}: start() called twice`);
    this.started = true;
    this.sampler = setInterval(() => void this.sample(), this.config.memory.sampleMs);
    this.sampler.unref();
    try {
      await this.launch();
    } catch (error) {
      this.status = "failed";
      clearInterval(this.sampler);
      const message = error instanceof Error ? error.message : String(error);
      this.raise({ kind: "load_failed", source: this.config.name, message });
      throw error;
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs` (default restart.stopTimeoutMs); nothing is restarted after it. */
  stop(timeoutMs: number = this.config.restart.stopTimeoutMs): Promise<void> {
    this.stopped ??= (async () => {
      this.status = "stopped";
      clearInterval(this.sampler);
      clearTimeout(this.timer);
      const run = this.run;
      if (run === undefined || run.gone) return;
      this.emit("down", this.info());
      await run.stop(timeoutMs);
    })();
    return this.stopped;
  }

  private async launch(): Promise<void> {
    const run = new ProcProcess(this.config, this.options.log);
    this.run = run;
    this.rssBytes = 0;
    this.watch = new MemoryWatch(this.config.memory);
    void run.exited.then((exit) => this.onExit(run, exit));
    await run.spawned;
    if (this.isStopped) return;
    this.status = "running";
    this.options.log("info", `msf_procs ${this.config.name} running, pid ${run.pid}`, { proc: this.config.name, pid: run.pid });
    this.emit("up", this.info());
  }

  private onExit(run: ProcProcess, exit: ProcExit): void {
    if (run !== this.run) return;
    this.lastExit = exit.reason;
    if (exit.requested) return;
    // A spawn failure was reported by start() or by the restart that launched it.
    if (run.pid === 0) return;
    this.emit("down", this.info());
    if (this.isStopped || this.status === "failed") return;
    this.scheduleRestart(`msf_procs ${this.config.name} (pid ${run.pid}) ${exit.reason}`);
  }

  private scheduleRestart(why: string): void {
    const { maxRestarts, windowMs } = this.config.restart;
    const decision = this.tracker.decide(Date.now());
    if (decision.t === "give_up") {
      this.status = "failed";
      this.raise({
        kind: "crash_loop",
        source: this.config.name,
        message: `${why}; ${decision.recent} restarts within ${windowMs} ms already (max_restarts ${maxRestarts}): not restarted again`,
        value: decision.recent,
        threshold: maxRestarts,
      });
      return;
    }
    this.status = "restarting";
    this.raise({ kind: "restart", source: this.config.name, message: `${why}; restarting it ${decision.delayMs === 0 ? "now" : `in ${decision.delayMs} ms`}`, value: decision.delayMs });
    this.timer = setTimeout(() => void this.restart(), decision.delayMs);
  }

  private async restart(): Promise<void> {
    this.timer = undefined;
    if (this.isStopped) return;
    this.restarts++;
    try {
      await this.launch();
    } catch (error) {
      if (this.isStopped) return;
      this.lastExit = error instanceof Error ? error.message : String(error);
      this.scheduleRestart(this.lastExit);
    }
  }

  private async sample(): Promise<void> {
    const run = this.run;
    if (run === undefined || run.gone || this.status !== "running") return;
    const rss = await readRssBytes(run.pid);
    if (rss === undefined || run !== this.run || run.gone) return;
    this.rssBytes = rss;
    const crossing = this.watch.sample(rss);
    const { alertBytes, restartBytes } = this.config.memory;
    const what = `msf_procs ${this.config.name} (pid ${run.pid}) uses ${mib(rss)} MiB of RSS`;
    if (crossing.alert && alertBytes !== undefined) {
      this.raise({ kind: "memory", source: this.config.name, message: `${what}, over alert_mb (${mib(alertBytes)} MiB)`, value: rss, threshold: alertBytes });
    }
    if (crossing.restart && restartBytes !== undefined) {
      this.raise({ kind: "memory", source: this.config.name, message: `${what}, over restart_mb (${mib(restartBytes)} MiB): restarting it`, value: rss, threshold: restartBytes });
      await this.memoryRestart(run);
    }
  }

  private async memoryRestart(run: ProcProcess): Promise<void> {
    this.status = "restarting";
    this.emit("down", this.info());
    await run.stop(this.config.restart.stopTimeoutMs);
    await this.restart();
  }

  /** Through a getter, so checks after an await are not narrowed away by the compiler. */
  private get isStopped(): boolean {
    return this.status === "stopped";
  }

  private raise(fields: Omit<Alert, "at">): void {
    const alert: Alert = { at: Date.now(), ...fields };
    this.options.log(alert.kind === "memory" || alert.kind === "restart" ? "warn" : "error", alert.message, { proc: this.config.name, alert: alert.kind });
    this.emit("alert", alert);
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}
