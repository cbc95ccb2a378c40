// Real processes for the msf CLI's end-to-end tests: msfd started from source on a config in a
// temp folder (the flight example as its plugin), and the msf CLI run as a child process.
import type { ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const repoRoot = resolve(import.meta.dirname, "../..");
/** tsx by absolute URL, so a CLI run from any folder (cwd) finds it. */
const tsxLoader = import.meta.resolve("tsx");
const nodeArgs = ["--import", tsxLoader, "--conditions=msf-source"];

export const FLIGHT_PLUGIN = join(repoRoot, "examples/flight/src/flight_service.impl.ts");
export const FLIGHT_REPLY = { errmsg: "success", flightsInfo: "{Spring Airlines;9C8835;RMB1230}" };
export const FLIGHT_REQUEST = '{"name":"bison","password":"123456"}';

/** A temp folder, removed by `cleanup`. Short: socket paths must fit in 107 bytes. */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), "msfcli-"));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** msf.json for the flight plugin; `extra` overrides top-level fields. */
export function writeFlightConfig(dir: string, extra: Record<string, unknown> = {}, service: Record<string, unknown> = {}): string {
  const file = join(dir, "msf.json");
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        proc_name: "cli_test",
        plugin_roots: [join(repoRoot, "examples/flight")],
        proc_svcs: [{ svc_name: "flight_service", svc_libs: FLIGHT_PLUGIN, ...service }],
        ...extra,
      },
      undefined,
      2,
    )}\n`,
  );
  return file;
}

export function writeSecrets(dir: string, name: string, content: Record<string, string>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  chmodSync(file, 0o600);
  return file;
}

export interface Msfd {
  readonly process: ChildProcess;
  readonly stderr: () => string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL at once (its sockets stay behind, as after a crash). */
  kill(): Promise<void>;
}

/** Starts `msfd -c <config> --no-watch` and waits for its `msfd ready` line. */
export async function startMsfd(config: string, timeoutMs = 40_000): Promise<Msfd> {
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, "runtime/daemon/msfd.ts"), "-c", config, "--no-watch"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    if (stderr.length < 100_000) stderr += chunk.toString();
  });
  const exited = once(child, "exit");
  const signal = async (name: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(name);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const msfd: Msfd = { process: child, stderr: () => stderr, stop: () => signal("SIGTERM", 5000), kill: () => signal("SIGKILL", 0) };
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`msfd not ready within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`msfd exited (${code}) before ready; stderr: ${stderr}`));
      });
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("msfd ready")) {
          clearTimeout(timer);
          resolveReady();
        }
      });
    });
  } catch (error) {
    await msfd.kill();
    throw error;
  }
  return msfd;
}

export interface MsfResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface MsfOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  /** From the start of the process; default 40 s. */
  readonly timeoutMs?: number;
  /**
   * For a command that runs until told (events sub): its start-up slot (see MAX_STARTING) is
   * given back once its stderr matches this, instead of when it exits.
   */
  readonly startedWhen?: RegExp;
}

/** Runs `msf <args>` to completion (SIGKILL and a test failure after timeoutMs). */
export async function runMsf(args: readonly string[], options: MsfOptions = {}): Promise<MsfResult> {
  return (await spawnMsf(args, options)).result;
}

export interface MsfChild {
  readonly process: ChildProcess;
  /** Resolves when what the child wrote to `stream` so far matches `pattern`. */
  output(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs?: number): Promise<void>;
  readonly result: Promise<MsfResult>;
}

/**
 * CLI processes starting at once, per test file. Each start costs about a CPU second (node, tsx,
 * the runtime); on this 2-core machine a dozen at once only makes each one slow enough to time
 * out, so they queue here.
 */
const MAX_STARTING = 2;
let starting = 0;
const queue: (() => void)[] = [];

async function takeSlot(): Promise<() => void> {
  if (starting >= MAX_STARTING) await new Promise<void>((resolve) => queue.push(resolve));
  starting++;
  let given = false;
  return () => {
    if (given) return;
    given = true;
    starting--;
    queue.shift()?.();
  };
}

/** Starts `msf <args>` (once a start-up slot is free). */
export async function spawnMsf(args: readonly string[], options: MsfOptions = {}): Promise<MsfChild> {
  const release = await takeSlot();
  const timeoutMs = options.timeoutMs ?? 40_000;
  const env = { ...process.env, MSF_CONTROL: "", NO_COLOR: "1", ...options.env };
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, "runtime/cli/msf.ts"), ...args], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (options.startedWhen?.test(stderr) === true) release();
    for (const waiter of waiters) waiter();
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const result = new Promise<MsfResult>((resolveResult, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`msf ${args.join(" ")} did not finish within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("close", (code) => {
      clearTimeout(timer);
      release();
      resolveResult({ code, stdout, stderr });
    });
  });
  result.catch(() => undefined);
  return {
    process: child,
    result,
    output(stream, pattern, waitMs = 30_000) {
      return new Promise((resolveLine, reject) => {
        const check = (): boolean => {
          if (!pattern.test(stream === "stdout" ? stdout : stderr)) return false;
          finish();
          resolveLine();
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no ${stream} output matching ${pattern} within ${waitMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
        }, waitMs);
        const onClose = (): void => {
          if (check()) return;
          finish();
          reject(new Error(`msf exited before printing ${pattern}; stdout: ${stdout}; stderr: ${stderr}`));
        };
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(listener);
          child.removeListener("close", onClose);
        };
        const listener = (): void => void check();
        if (check()) return;
        waiters.add(listener);
        child.once("close", onClose);
      });
    },
  };
}

/** Kills `child` if it still runs when the test ends. */
export function killAtEnd(t: ExecutionContext, child: MsfChild): void {
  t.teardown(async () => {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill("SIGKILL");
      await child.result.catch(() => undefined);
    }
  });
}
