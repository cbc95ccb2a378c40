// Real child processes for tests: a TypeScript script run from source (tsx + the msf-source
// condition, like the tests), its stdout read line by line, killed at the end of the test.
import type { ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const repoRoot = resolve(import.meta.dirname, "../..");

export interface Child {
  readonly process: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Waits for a stdout line matching `pattern` (seen before or after the call); returns its match. */
  line(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits for the process to exit on its own; returns its exit code (null when killed). */
  exit(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

/** Starts `script` (a path from the repository root) with `args`; killed when the test ends. */
export function spawnScript(t: ExecutionContext, script: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=msf-source", resolve(repoRoot, script), ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(line);
    for (const listener of listeners) listener();
  });
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  t.teardown(kill);
  const describe = (): string => `${script} ${args.join(" ")}; stdout: ${lines.join(" | ")}; stderr: ${stderr.join("").trim()}`;
  return {
    process: child,
    lines,
    line(pattern, timeoutMs = 15_000) {
      return new Promise((resolveLine, reject) => {
        const check = (): boolean => {
          for (const line of lines) {
            const match = pattern.exec(line);
            if (match !== null) {
              finish();
              resolveLine(match);
              return true;
            }
          }
          return false;
        };
        const onExit = (): void => {
          if (check()) return;
          finish();
          reject(new Error(`child exited before printing ${pattern}: ${describe()}`));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms: ${describe()}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
          child.removeListener("exit", onExit);
        };
        const listener = (): void => void check();
        if (check()) return;
        listeners.add(listener);
        child.once("exit", onExit);
      });
    },
    async exit(timeoutMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await once(child, "exit");
        clearTimeout(timer);
        if (child.signalCode === "SIGKILL") throw new Error(`child did not exit within ${timeoutMs} ms: ${describe()}`);
      }
      return child.exitCode;
    },
    kill,
  };
}
