// The daemon benchmark's child processes: node scripts run from source (tsx, msf from runtime/),
// read line by line, killed with everything they started. msfd spawns its instances detached
// (their own process groups), so a group kill would miss them: each child's descendants are
// found in /proc (by parent pid) and killed with it. killAllProcesses() is synchronous, for exit
// and signal handlers.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** node's arguments that run a TypeScript entry with msf resolved to its sources. */
export const SOURCE_NODE_ARGS: readonly string[] = ["--import", "tsx", "--conditions=msf-source"];

const STDERR_TAIL_BYTES = 4096;
const live = new Set<BenchProcess>();

export class BenchProcess {
  readonly process: ChildProcess;
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private stderrTail = "";
  private exitDescription: string | undefined;
  /** Descendants seen while it ran (instances of msfd and their spares): killed with it. */
  private readonly descendants = new Set<number>();

  /** Runs `node [nodeArgs] script [args]` in `cwd`; `name` labels its errors. */
  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    options: { readonly cwd: string; readonly nodeArgs?: readonly string[]; readonly env?: NodeJS.ProcessEnv },
  ) {
    this.process = spawn(process.execPath, [...(options.nodeArgs ?? SOURCE_NODE_ARGS), script, ...args], {
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    live.add(this);
    this.process.once("exit", (code, signal) => {
      live.delete(this);
      this.exitDescription = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
      this.waiter?.();
    });
    this.process.once("error", (error) => {
      live.delete(this);
      this.exitDescription = `could not start: ${error.message}`;
      this.waiter?.();
    });
    this.process.stdin!.on("error", () => {});
    this.process.stderr!.setEncoding("utf8");
    this.process.stderr!.on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    createInterface({ input: this.process.stdout! }).on("line", (line) => {
      this.lines.push(line);
      this.waiter?.();
    });
  }

  /** The last few KB it wrote to stderr. */
  get stderr(): string {
    return this.stderrTail;
  }

  get running(): boolean {
    return this.exitDescription === undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  send(line: string): void {
    if (this.running) this.process.stdin!.write(`${line}\n`);
  }

  /** The rest of the first line starting with `${word} ` (earlier other lines are dropped). */
  async expect(word: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const line = this.lines.shift()!;
        if (line.startsWith(`${word} `)) return line.slice(word.length + 1);
      }
      if (this.exitDescription !== undefined) throw this.failure(`${this.exitDescription} before printing "${word} ..."`);
      const left = deadline - Date.now();
      if (left <= 0) throw this.failure(`printed no "${word} ..." line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Resolves true once the process exited, false if it still runs after `timeoutMs`. */
  async exited(timeoutMs: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const exit = once(this.process, "exit").then(() => true);
    const result = await Promise.race([exit, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Records the process's current descendants, so that a later kill reaches them too. */
  noteDescendants(): void {
    const pid = this.process.pid;
    if (pid !== undefined && this.running) for (const child of descendantsOf(pid)) this.descendants.add(child);
  }

  /**
   * Stops it and everything it started: `signal` first (SIGTERM lets msfd drain its instances
   * and write a --cpu-prof profile), SIGKILL after `graceMs`; then SIGKILL to any descendant
   * still alive. Resolves once the process exited.
   */
  async stop(signal: NodeJS.Signals = "SIGKILL", graceMs = 0): Promise<void> {
    this.noteDescendants();
    if (this.running) {
      const exited = once(this.process, "exit");
      this.process.kill(signal);
      if (signal !== "SIGKILL") {
        const timer = setTimeout(() => this.process.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      } else {
        await exited;
      }
    }
    this.killDescendants();
  }

  /** SIGKILL to the process and its descendants, without waiting. */
  killNow(): void {
    this.noteDescendants();
    if (this.running) this.process.kill("SIGKILL");
    this.killDescendants();
  }

  private killDescendants(): void {
    for (const pid of this.descendants) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    this.descendants.clear();
  }

  private failure(what: string): Error {
    const tail = this.stderrTail.trim();
    return new Error(`${this.name} ${what}${tail === "" ? "" : `; its stderr (last lines):\n${tail}`}`);
  }
}

/** Kills every child still running and its descendants, synchronously. */
export function killAllProcesses(): void {
  for (const child of [...live]) child.killNow();
  live.clear();
}

/** Every process below `root` (Linux: /proc/<pid>/stat's parent pid), deepest first not guaranteed. */
export function descendantsOf(root: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ")" ends it.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        frontier.push(pid);
      }
    }
  }
  return found;
}
