// Shared pieces of the host tests: ServiceConfig/ProcConfig objects built in code (no config
// file), supervisors torn down with the test, a small client that follows up/down events the way
// msfd's agent does, a steady load, and bounded waiting.
import type { ExecutionContext } from "ava";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createChannel, type Channel, type ChannelOptions, type MethodDefinition } from "msf";
import type { ProcConfig, ServiceConfig } from "../../runtime/daemon/config/config-types.js";
import type { Alert, HostLog, InstanceInfo, ServedService } from "../../runtime/daemon/host/host-types.js";
import { ServiceSupervisor, type ServiceSupervisorOptions } from "../../runtime/daemon/host/service-supervisor.js";
import type { QueryFlightRequest, QueryFlightResponse } from "../helpers/flight-messages.js";

export const pluginsDir = resolve(import.meta.dirname, "../fixtures/plugins");

/** Absolute path of a fixture in test/fixtures/plugins. */
export function fixture(name: string): string {
  return join(pluginsDir, name);
}

/** A fresh directory for instance sockets and files, removed at the end of the test. */
export function runDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), "msf-host-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const restart = { maxRestarts: 5, windowMs: 60_000, backoffInitialMs: 100, backoffMaxMs: 5000, stopTimeoutMs: 5000 };
const memory = { alertBytes: undefined, restartBytes: undefined, sampleMs: 500 };

/** A normalized service config as the config loader would produce it, with test defaults. */
export function serviceConfig(fields: Partial<Omit<ServiceConfig, "restart" | "memory">> & {
  restart?: Partial<ServiceConfig["restart"]>;
  memory?: Partial<ServiceConfig["memory"]>;
}): ServiceConfig {
  return {
    name: "echo",
    module: fixture("echo-plugin.ts"),
    moduleStamp: "test",
    options: {},
    instances: 1,
    isolation: "worker",
    balance: { strategy: "round_robin", hashKey: undefined },
    idempotentMethods: [],
    cpus: undefined,
    env: {},
    ...fields,
    restart: { ...restart, ...fields.restart },
    memory: { ...memory, ...fields.memory },
  };
}

export function procConfig(fields: Partial<Omit<ProcConfig, "restart" | "memory">> & {
  restart?: Partial<ProcConfig["restart"]>;
  memory?: Partial<ProcConfig["memory"]>;
}): ProcConfig {
  return {
    index: 0,
    name: "legacy",
    path: process.execPath,
    conf: undefined,
    args: [fixture("proc-script.mjs")],
    env: {},
    ...fields,
    restart: { ...restart, ...fields.restart },
    memory: { ...memory, ...fields.memory },
  };
}

export interface Recorded {
  readonly ups: { info: InstanceInfo; services: readonly ServedService[]; at: number }[];
  readonly downs: { info: InstanceInfo; at: number }[];
  readonly alerts: Alert[];
  readonly logs: { level: string; message: string; fields: unknown }[];
}

/** Collects log lines (shown by t.log when the test fails). */
export function recordingLog(logs: Recorded["logs"]): HostLog {
  return (level, message, fields) => logs.push({ level, message, fields });
}

/**
 * A supervisor for `config` in a temp run dir, its events recorded, stopped at the end of the
 * test; any instance process still alive after that is killed.
 */
export function supervise(
  t: ExecutionContext,
  config: ServiceConfig,
  options: Partial<ServiceSupervisorOptions> = {},
): { supervisor: ServiceSupervisor; recorded: Recorded; runDir: string } {
  const dir = options.runDir ?? runDir(t);
  const recorded: Recorded = { ups: [], downs: [], alerts: [], logs: [] };
  const supervisor = new ServiceSupervisor(config, { runDir: dir, auth: undefined, log: recordingLog(recorded.logs), ...options });
  supervisor.on("up", (info, services) => recorded.ups.push({ info, services, at: performance.now() }));
  supervisor.on("down", (info) => recorded.downs.push({ info, at: performance.now() }));
  supervisor.on("alert", (alert) => recorded.alerts.push(alert));
  const pids = new Set<number>();
  supervisor.on("up", (info) => pids.add(info.pid));
  t.teardown(async () => {
    await supervisor.stop(0);
    for (const pid of pids) if (pid !== process.pid) killQuietly(pid);
    if (!t.passed) for (const line of recorded.logs) t.log(`[${line.level}] ${line.message} ${JSON.stringify(line.fields)}`);
  });
  return { supervisor, recorded, runDir: dir };
}

export function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** True while `pid` exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every `everyMs` until it returns true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

export const request = (name: string, departureCity = ""): QueryFlightRequest => ({ name, password: "", departureCity, destinationCity: "" });

/**
 * A client that routes by the supervisor's events, as msfd's agent does: calls go round-robin to
 * the instances reported up and not yet down. Channels of instances that went down are closed at
 * the end (their calls in flight still complete).
 */
export class EventRouter {
  private readonly live = new Map<string, Channel>();
  private readonly retired: Channel[] = [];
  private next = 0;

  constructor(t: ExecutionContext, supervisor: ServiceSupervisor, options: ChannelOptions = {}) {
    for (const info of supervisor.instances()) if (info.state === "ready") this.live.set(info.id, createChannel(info.endpoint, options));
    supervisor.on("up", (info) => this.live.set(info.id, createChannel(info.endpoint, options)));
    supervisor.on("down", (info) => {
      const channel = this.live.get(info.id);
      this.live.delete(info.id);
      if (channel !== undefined) this.retired.push(channel);
    });
    t.teardown(() => this.close());
  }

  /** Ids of the instances calls go to now. */
  get backends(): string[] {
    return [...this.live.keys()];
  }

  call<Req, Res>(method: MethodDefinition<Req, Res>, message: Req, timeoutMs = 2000): Promise<Res> {
    const channels = [...this.live.values()];
    if (channels.length === 0) return Promise.reject(new Error(`no instance is up for ${method.fullName}`));
    const channel = channels[this.next++ % channels.length]!;
    return channel.unary(method, message, { timeoutMs });
  }

  async close(): Promise<void> {
    await Promise.all([...this.live.values(), ...this.retired].map((channel) => channel.close()));
    this.live.clear();
  }
}

/** Calls `call` back to back with `concurrency` callers until stop(); counts outcomes. */
export class SteadyLoad {
  ok = 0;
  readonly failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(call: () => Promise<unknown>, concurrency = 2, pauseMs = 2) {
    this.loops = Array.from({ length: concurrency }, async () => {
      while (this.running) {
        try {
          await call();
          this.ok++;
        } catch (error) {
          this.failures.push(error instanceof Error ? error.message : String(error));
        }
        await sleep(pauseMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

export type { QueryFlightRequest, QueryFlightResponse };

/** The CPUs the kernel lets `pid` run on ("1", "0-1"), from /proc/<pid>/status. */
export function cpusAllowed(pid: number): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

/** A CHAP secrets file (mode 0600) naming `user`. */
export function secretsFile(dir: string, user: string, secret: string): string {
  const path = join(dir, "secrets.json");
  writeFileSync(path, JSON.stringify({ [user]: secret }), { mode: 0o600 });
  return path;
}
