import type { ServiceConfig, ProcConfig } from "./config/index.js";
import type { Alert, HostLog, InstanceInfo, ServedService } from "./host/host-types.js";
import { type ProcInfo, ProcSupervisor } from "./host/proc-supervisor.js";
import { ServiceSupervisor, type SupervisorState } from "./host/service-supervisor.js";

export interface ServiceRunnerHooks {
  readonly runDir: string;
  readonly auth: { readonly secretsFile: string; readonly user: string } | undefined;
  readonly log: HostLog;
  up(info: InstanceInfo, services: readonly ServedService[]): void;
  down(info: InstanceInfo): void;
  alert(alert: Alert): void;
}

/** unloaded: stopped by `msf unload` (or never loaded); `msf load` starts it again. */
export type ServiceRunnerState = SupervisorState | "unloaded";

/**
 * One configured service in msfd: its supervisor while it runs, and what is left of it while it
 * is unloaded. A supervisor runs once (start → stop); loading a service again makes a new one.
 */
export class ServiceRunner {
  private supervisor: ServiceSupervisor | undefined;
  private parked: ServiceRunnerState = "stopped";

  constructor(
    private configuration: ServiceConfig,
    private readonly hooks: ServiceRunnerHooks,
  ) {}

  get config(): ServiceConfig {
    return this.configuration;
  }

  get state(): ServiceRunnerState {
    return this.supervisor?.state ?? this.parked;
  }

  instances(): InstanceInfo[] {
    return this.supervisor?.instances() ?? [];
  }

  /** A spare instance is loaded and idle, ready to replace a crashed one at once. */
  get spareReady(): boolean {
    return this.supervisor?.spareReady ?? false;
  }

  /** Starts the instances; rejects (state "failed") when they do not start. */
  async start(): Promise<void> {
    const supervisor = new ServiceSupervisor(this.configuration, { runDir: this.hooks.runDir, auth: this.hooks.auth, log: this.hooks.log });
    supervisor.on("up", (info, services) => this.hooks.up(info, services));
    supervisor.on("down", (info) => this.hooks.down(info));
    supervisor.on("alert", (alert) => this.hooks.alert(alert));
    this.supervisor = supervisor;
    try {
      await supervisor.start();
    } catch (error) {
      await supervisor.stop(0);
      this.supervisor = undefined;
      this.parked = "failed";
      throw error;
    }
  }

  /** Replaces the running instances with ones of `next`, without a failed call; starts it if it is not running. */
  async upgrade(next: ServiceConfig): Promise<void> {
    this.configuration = next;
    const supervisor = this.supervisor;
    if (supervisor === undefined || supervisor.state === "failed" || supervisor.state === "stopped") {
      if (supervisor !== undefined) await supervisor.stop(0);
      this.supervisor = undefined;
      if (this.parked === "unloaded") return;
      await this.start();
      return;
    }
    await supervisor.upgrade(next);
  }

  /** Drains and stops every instance; the runner then shows `as`. */
  async stop(as: "stopped" | "unloaded"): Promise<void> {
    const supervisor = this.supervisor;
    this.supervisor = undefined;
    this.parked = as;
    await supervisor?.stop();
  }
}

export interface ProcRunnerHooks {
  readonly log: HostLog;
  alert(alert: Alert): void;
}

export class ProcRunner {
  private readonly supervisor: ProcSupervisor;

  constructor(
    readonly config: ProcConfig,
    hooks: ProcRunnerHooks,
  ) {
    this.supervisor = new ProcSupervisor(config, { log: hooks.log });
    this.supervisor.on("alert", (alert) => hooks.alert(alert));
  }

  start(): Promise<void> {
    return this.supervisor.start();
  }

  stop(): Promise<void> {
    return this.supervisor.stop();
  }

  info(): ProcInfo {
    return this.supervisor.info();
  }
}
