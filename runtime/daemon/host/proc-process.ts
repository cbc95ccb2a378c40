import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { ProcConfig } from "./host-config.js";
import type { HostLog } from "./host-types.js";

/**
 * One run of a supervised executable (msf_procs): spawned, watched, signalled. The command line
 * is `proc_path ...args -c proc_conf` (the conf last, as msf_daemon passed it, so legacy programs
 * written for `prog -c file.json` run unchanged; without proc_conf, just the args).
 *
 * The process leads its own process group (detached), and signals go to the whole group: a shell
 * script's children stop with it, and a Ctrl-C meant for msfd does not reach it (msfd stops it).
 */
export interface ProcExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** Told to stop (stop(), memory restart). */
  readonly requested: boolean;
  /** "exited with code 1", "killed by SIGKILL", "cannot run /x: ENOENT ..." */
  readonly reason: string;
}

/** The arguments msfd passes to a proc: its args, then `-c <proc_conf>` when one is configured. */
export function procArguments(config: ProcConfig): string[] {
  return config.conf === undefined ? [...config.args] : [...config.args, "-c", config.conf];
}

export class ProcProcess {
  readonly startedAt = Date.now();
  /** Resolves once, when the process is gone (or could not be spawned). */
  readonly exited: Promise<ProcExit>;
  /** Resolves when it is running; rejects when it cannot be spawned (no such file, not executable). */
  readonly spawned: Promise<void>;
  private readonly child: ChildProcess;
  private requested = false;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: ProcConfig,
    log: HostLog,
  ) {
    let resolveExited!: (exit: ProcExit) => void;
    this.exited = new Promise((resolve) => (resolveExited = resolve));
    const finish = (exit: Omit<ProcExit, "requested">): void => {
      if (this.done) return;
      this.done = true;
      clearTimeout(this.killTimer);
      resolveExited({ ...exit, requested: this.requested });
    };
    this.child = spawn(config.path, procArguments(config), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...config.env },
      detached: true,
    });
    this.spawned = new Promise((resolve, reject) => {
      this.child.once("spawn", resolve);
      this.child.once("error", (error: NodeJS.ErrnoException) => {
        if (this.child.pid !== undefined) return;
        const reason = `cannot run ${config.path}: ${error.message}`;
        finish({ code: null, signal: null, reason });
        reject(new Error(`msf_procs ${config.name}: ${reason}`));
      });
    });
    this.spawned.catch(() => undefined);
    this.child.on("exit", (code, signal) => {
      finish({ code, signal, reason: signal !== null ? `killed by ${signal}` : `exited with code ${code}` });
    });
    const fields = { proc: config.name };
    createInterface({ input: this.child.stdout!, crlfDelay: Infinity }).on("line", (line) => log("info", line, { ...fields, stream: "stdout" }));
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on("line", (line) => log("warn", line, { ...fields, stream: "stderr" }));
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get gone(): boolean {
    return this.done;
  }

  /** SIGTERM to its process group; SIGKILL after `timeoutMs`. Resolves when it is gone. */
  stop(timeoutMs: number): Promise<ProcExit> {
    if (!this.done && !this.requested) {
      this.requested = true;
      this.signal("SIGTERM");
      this.killTimer = setTimeout(() => this.signal("SIGKILL"), timeoutMs);
    }
    return this.exited;
  }

  private signal(name: NodeJS.Signals): void {
    if (this.done || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, name);
    } catch {
      // The group is gone already (or the process is not its leader any more): signal the process.
      this.child.kill(name);
    }
  }
}
