// Runs msf-gen from source as a real child process (node --import tsx codegen/cli.ts), the way
// a user's shell would, and collects its exit code and output.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `msf-gen ...args` in `cwd` (the repo root by default); kills it after `timeoutMs`.
 * At most one process per core runs at a time (the others queue), so a test file that starts
 * many does not thrash the machine and each one's time limit measures its own run.
 */
export async function runCli(args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  while (running >= maxRunning) await new Promise<void>((wake) => waiting.push(wake));
  running++;
  try {
    return await spawnCli(args, options.cwd ?? repoRoot, options.timeoutMs ?? 30_000);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const maxRunning = Math.max(1, availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

function spawnCli(args: readonly string[], cwd: string, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", resolve(repoRoot, "codegen/cli.ts"), ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`msf-gen ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
