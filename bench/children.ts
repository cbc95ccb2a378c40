// The driver's child processes: spawned through one launcher, read line by line, and all
// killed by killAll() — which run.ts calls on normal exit, on error and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

/** How to start a benchmark entry point (server-main, client-main) with node. */
export interface Launcher {
  /** node's arguments before the script: e.g. ["--import", "tsx", "--conditions=msf-source"]. */
  readonly nodeArgs: readonly string[];
  /** The script for an entry point ("server-main" → ".../bench/server-main.ts" or ".js"). */
  script(entry: "server-main" | "client-main"): string;
  readonly cwd: string;
}

const STDERR_TAIL_BYTES = 4096;
const live = new Set<ChildProcess>();

export class Child {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private stderrTail = "";
  private exitDescription: string | undefined;
  readonly process: ChildProcess;

  constructor(
    readonly name: string,
    launcher: Launcher,
    entry: "server-main" | "client-main",
    args: readonly string[],
  ) {
    this.process = spawn(process.execPath, [...launcher.nodeArgs, launcher.script(entry), ...args], {
      cwd: launcher.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    live.add(this.process);
    this.process.once("exit", (code, signal) => {
      live.delete(this.process);
      this.exitDescription = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
      this.waiter?.();
    });
    this.process.once("error", (error) => {
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

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  /** The rest of the first line that starts with `${word} `; earlier other lines are dropped. */
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

  /** SIGKILL, then wait for the exit (so the next measurement never overlaps a dying process). */
  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null || this.exitDescription !== undefined) return;
    const exited = once(this.process, "exit");
    this.process.kill("SIGKILL");
    await exited;
  }

  private failure(what: string): Error {
    const tail = this.stderrTail.trim();
    return new Error(`${this.name} ${what}${tail === "" ? "" : `; its stderr:\n${tail}`}`);
  }
}

/** Kills every child still running, synchronously: safe in exit and signal handlers. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
