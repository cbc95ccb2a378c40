// Real msfd processes for tests: a config written to a temp dir, `msfd -c` run from source (tsx
// + the msf-source condition), ready when it prints "msfd ready", stopped with SIGTERM (then
// SIGKILL) when the test ends. Its JSON log lines (stderr) are kept for assertions.
import type { ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { createChannel, type Channel } from "msf";
import { controlClientAuth } from "../../runtime/daemon/control-credentials.js";
import { ControlClient } from "../../runtime/daemon/gen/control.client.js";

export const repoRoot = resolve(import.meta.dirname, "../..");
/** The flight example's plugin, as msf-gen's scaffold made it (examples/flight/src). */
export const flightPluginSource = join(repoRoot, "examples/flight/src/flight_service.impl.ts");
/**
 * svc_libs for the flight plugin: startMsfd writes this module into the daemon's dir (the plugin
 * root by default), re-exporting the example's plugin.
 */
export const flightPlugin = "./flight_service.impl.ts";
export const msfdScript = join(repoRoot, "runtime/daemon/msfd.ts");

export interface Msfd {
  readonly process: ChildProcess;
  readonly dir: string;
  readonly configFile: string;
  readonly runDir: string;
  /** The broker's addresses, from the ready line. */
  readonly listen: readonly string[];
  readonly control: string;
  /** stderr lines (JSON log records when parseable). */
  readonly logs: Array<Record<string, unknown>>;
  /** A control client (channel closed with the test). */
  controlClient(): ControlClient;
  /** A channel to the broker (closed with the test). */
  broker(options?: Parameters<typeof createChannel>[1]): Channel;
  /** Rewrites the config file (the daemon notices the change and reloads). */
  writeConfig(config: object): void;
  /** Waits until a log record matches; returns it. */
  waitLog(predicate: (record: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); returns the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** A temp dir for a daemon's config, sockets and plugins; removed at the end of the test. */
export function daemonDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "msfd-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs msfd on `config` (written as JSON into `dir`, or a fresh temp dir); resolves once it is ready. */
export async function startMsfd(
  t: ExecutionContext,
  config: object,
  options: { dir?: string; readyTimeoutMs?: number; env?: NodeJS.ProcessEnv; args?: readonly string[] } = {},
): Promise<Msfd> {
  const dir = options.dir ?? daemonDir(t);
  const configFile = join(dir, "msf.json");
  writeFileSync(join(dir, "flight_service.impl.ts"), `export { default } from ${JSON.stringify(flightPluginSource)};\n`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawnMsfd(configFile, options.env, options.args);
  const logs: Array<Record<string, unknown>> = [];
  const stdout: string[] = [];
  const wakers = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    stdout.push(line);
    for (const wake of wakers) wake();
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of wakers) wake();
  });
  const exited = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  const channels: Channel[] = [];
  const stop = async (timeoutMs = 10_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return child.exitCode;
  };
  t.teardown(async () => {
    await Promise.all(channels.map((channel) => channel.close()));
    await stop();
  });
  const waitFor = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolveWait, reject) => {
      const attempt = (): boolean => {
        const value = check();
        if (value === undefined) return false;
        finish();
        resolveWait(value);
        return true;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stdout: ${stdout.join(" | ")}; logs: ${JSON.stringify(logs.slice(-20))}`));
      }, timeoutMs);
      const onExit = (): void => {
        if (attempt()) return;
        finish();
        reject(new Error(`msfd exited (${String(child.exitCode)}) while waiting for ${what}; logs: ${JSON.stringify(logs.slice(-20))}`));
      };
      const finish = (): void => {
        clearTimeout(timer);
        wakers.delete(wake);
        child.off("exit", onExit);
      };
      const wake = (): void => void attempt();
      if (attempt()) return;
      wakers.add(wake);
      child.once("exit", onExit);
    });
  const ready = await waitFor(() => stdout.find((line) => line.startsWith("msfd ready")), options.readyTimeoutMs ?? 50_000, "msfd ready");
  const listen = ready.split(" ").slice(2);
  const runDir = join(dir, "run");
  const control = `unix:${join(runDir, "control.sock")}`;
  const controlConfig = config as { auth?: { secrets_file: string; user: string }; control?: string; run_dir?: string };
  const access = {
    runDir: controlConfig.run_dir === undefined ? runDir : resolve(dir, controlConfig.run_dir),
    auth: controlConfig.auth === undefined ? undefined : { secretsFile: resolve(dir, controlConfig.auth.secrets_file), user: controlConfig.auth.user },
  };
  return {
    process: child,
    dir,
    configFile,
    runDir: access.runDir,
    listen,
    control: controlConfig.control ?? control,
    logs,
    controlClient() {
      const channel = createChannel(controlConfig.control ?? control, { auth: controlClientAuth(access), timeoutMs: 10_000 });
      channels.push(channel);
      return new ControlClient(channel);
    },
    broker(channelOptions) {
      const channel = createChannel(listen[0]!, channelOptions);
      channels.push(channel);
      return channel;
    },
    writeConfig(next) {
      writeFileSync(configFile, JSON.stringify(next, null, 2));
    },
    waitLog(predicate, timeoutMs = 15_000) {
      return waitFor(() => logs.find(predicate), timeoutMs, "a log record");
    },
    stop,
  };
}

/** Spawns msfd without waiting (for tests of start failures). */
export function spawnMsfd(configFile: string, env?: NodeJS.ProcessEnv, args: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "--conditions=msf-source", msfdScript, "-c", configFile, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: env ?? process.env,
  });
}
