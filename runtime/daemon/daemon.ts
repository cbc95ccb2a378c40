import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { createServer, type Server } from "../server/server.js";
import { EventBus } from "../events/index.js";
import { ALERT, SERVICE_OFFLINE, SERVICE_ONLINE } from "../events/topics.js";
import { publishLocalMessage } from "../events/typed-events.js";
import { Forwarder } from "./agent/forwarder.js";
import { Registry } from "./agent/registry.js";
import { AlertLog } from "./alert-log.js";
import { Broker } from "./broker.js";
import { type DaemonConfig, diffConfig, loadConfig, type ProcConfig, type ServiceConfig } from "./config/index.js";
import { clientCredentials, controlServerAuth, writeControlCookie } from "./control-credentials.js";
import { controlHandlers } from "./control-service.js";
import { ControlDefinition } from "./gen/control.server.js";
import type { ReloadReply } from "./gen/control.js";
import type { Alert, InstanceInfo, ServedService } from "./host/host-types.js";
import { hostLog } from "./logger.js";
import { Serial } from "./serial.js";
import { ServiceRunner, ProcRunner } from "./runners.js";

/**
 * msfd: one daemon that runs the services of its config as supervised plugin instances, routes
 * calls to them by name (Broker + Forwarder over the Registry), carries events (EventBus on the
 * broker's addresses), and answers the control API (on the control socket, CHAP always on).
 *
 * Lifecycle: start() binds the broker and control sockets, then starts every service and
 * supervised process; a service that fails to start is logged and alerted, the others run.
 * reload()/load()/unload() run one at a time (Serial). stop() drains the broker, stops every
 * instance gracefully, then closes the control socket.
 */
export class Daemon {
  readonly startedAt = Date.now();
  readonly registry = new Registry();
  readonly alerts = new AlertLog();
  readonly bus: EventBus;
  config: DaemonConfig;
  /** Incremented by every applied reload. */
  generation = 1;
  readonly services = new Map<string, ServiceRunner>();
  readonly procs = new Map<string, ProcRunner>();
  private readonly forwarder: Forwarder;
  private readonly broker: Broker;
  private readonly control: Server;
  private readonly serial = new Serial();
  private stopping: Promise<void> | undefined;

  private constructor(
    config: DaemonConfig,
    readonly log: Logger,
  ) {
    this.config = config;
    this.bus = new EventBus({ queueLimit: config.events.queueLimit, dropPolicy: config.events.dropPolicy });
    // Instances require the same credentials as the broker; msfd calls them as auth.user.
    const auth = config.auth;
    this.forwarder = new Forwarder(this.registry, {
      ...(auth === undefined ? {} : { auth: clientCredentials(auth.secretsFile, auth.user) }),
      // A call arriving while a running service has no ready instance (restarting after a crash)
      // waits for the restart instead of failing; an unloaded or failed one fails at once.
      expectsInstance: (service) => {
        const state = this.services.get(service)?.state;
        return state === "running" || state === "starting";
      },
    });
    this.broker = new Broker(config.listen, config.auth, this.registry, this.forwarder, (message) => log.warn(message));
    this.broker.server.addService(this.bus.definition, this.bus.handlers);
    this.control = createServer({ listen: [config.control], unixSocketMode: 0o600, auth: controlServerAuth(config) });
    this.control.addService(ControlDefinition, controlHandlers(this));
  }

  /** Loads the config (ConfigError on a bad one), binds the sockets, starts everything. */
  static async start(configFile: string, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Daemon> {
    const config = await loadConfig(configFile, env);
    mkdirSync(config.runDir, { recursive: true, mode: 0o700 });
    if (config.auth === undefined) writeControlCookie(config.runDir);
    const daemon = new Daemon(config, log);
    await daemon.broker.server.start();
    try {
      await daemon.control.start();
    } catch (error) {
      await daemon.broker.server.close({ graceMs: 0 });
      throw error;
    }
    await Promise.all([
      ...config.services.map((service) => daemon.startService(service)),
      ...config.procs.map((proc) => daemon.startProc(proc)),
    ]);
    log.info({ listen: daemon.broker.server.addresses, control: config.control, services: config.services.length }, "msfd ready");
    return daemon;
  }

  get listen(): readonly string[] {
    return this.broker.server.addresses;
  }

  /** Re-reads the config file and applies the difference; `only`: just that service. */
  reload(only?: string): Promise<ReloadReply> {
    return this.serial.run(() => this.applyReload(only));
  }

  load(name: string): Promise<ServiceRunner> {
    return this.serial.run(async () => {
      const runner = this.services.get(name);
      if (runner === undefined) throw unknownService(name, this.services);
      if (runner.state !== "unloaded" && runner.state !== "failed" && runner.state !== "stopped") {
        throw new RpcError(Code.FAILED_PRECONDITION, `service "${name}" is ${runner.state}: unload it first`);
      }
      await this.startRunner(runner);
      return runner;
    });
  }

  unload(name: string): Promise<ServiceRunner> {
    return this.serial.run(async () => {
      const runner = this.services.get(name);
      if (runner === undefined) throw unknownService(name, this.services);
      if (runner.state === "unloaded") throw new RpcError(Code.FAILED_PRECONDITION, `service "${name}" is already unloaded`);
      await runner.stop("unloaded");
      this.log.info({ service: name }, "service unloaded");
      return runner;
    });
  }

  /** Drains the broker, stops every instance and process, closes the control socket. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info("msfd stopping");
      const brokerClosed = this.broker.server.close({ graceMs: 5000 });
      await Promise.all([...this.services.values()].map((runner) => runner.stop("stopped")));
      await Promise.all([...this.procs.values()].map((runner) => runner.stop()));
      await brokerClosed;
      await this.forwarder.close();
      this.bus.close();
      await this.control.close({ graceMs: 1000 });
      this.log.info("msfd stopped");
      this.log.flush();
    })();
    return this.stopping;
  }

  // --- services ---

  private async startService(config: ServiceConfig): Promise<void> {
    const runner = new ServiceRunner(config, {
      runDir: this.config.runDir,
      auth: this.config.auth,
      log: hostLog(this.log),
      up: (info, services) => this.instanceUp(info, services),
      down: (info) => this.instanceDown(info),
      alert: (alert) => this.raise(alert),
    });
    this.services.set(config.name, runner);
    this.registry.configure(config.name, { balance: config.balance, idempotentMethods: config.idempotentMethods });
    await this.startRunner(runner);
  }

  private async startRunner(runner: ServiceRunner): Promise<void> {
    try {
      await runner.start();
      this.log.info({ service: runner.config.name, instances: runner.config.instances }, "service started");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error({ service: runner.config.name, err: message }, "service failed to start");
    }
  }

  private async startProc(config: ProcConfig): Promise<void> {
    const runner = new ProcRunner(config, {
      log: hostLog(this.log),
      alert: (alert) => this.raise(alert),
    });
    this.procs.set(config.name, runner);
    try {
      await runner.start();
    } catch (error) {
      this.log.error({ proc: config.name, err: error instanceof Error ? error.message : String(error) }, "process failed to start");
    }
  }

  private instanceUp(info: InstanceInfo, services: readonly ServedService[]): void {
    this.registry.up(info, services);
    this.broker.route(info.service, services);
    this.log.info({ instance: info.id, endpoint: info.endpoint, pid: info.pid }, "instance online");
    publishLocalMessage(this.bus, SERVICE_ONLINE, statusEvent(info, true, info.generation === 1 ? "started" : "restarted"));
  }

  private instanceDown(info: InstanceInfo): void {
    this.registry.down(info);
    this.log.info({ instance: info.id, state: info.state }, "instance offline");
    publishLocalMessage(this.bus, SERVICE_OFFLINE, statusEvent(info, false, info.state));
  }

  private raise(alert: Alert): void {
    this.alerts.add(alert);
    this.log.warn({ kind: alert.kind, source: alert.source, value: alert.value, threshold: alert.threshold }, `alert: ${alert.message}`);
    publishLocalMessage(this.bus, ALERT, {
      at: new Date(alert.at),
      kind: alert.kind,
      source: alert.source,
      message: alert.message,
      value: alert.value,
      threshold: alert.threshold,
    });
  }

  // --- reload ---

  private async applyReload(only: string | undefined): Promise<ReloadReply> {
    let next: DaemonConfig;
    try {
      next = await loadConfig(this.config.file);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error({ err: message }, "reload refused: the new config is invalid; the running one is kept");
      throw new RpcError(Code.FAILED_PRECONDITION, `reload refused, the running config is kept: ${message}`);
    }
    const diff = diffConfig(this.config, next);
    if (only !== undefined && ![...this.config.services, ...next.services].some((service) => service.name === only)) {
      throw unknownService(only, this.services);
    }
    const wanted = (name: string): boolean => only === undefined || name === only;
    if (only === undefined && diff.daemonChanged.length > 0) {
      this.log.warn({ fields: diff.daemonChanged }, "reload: these settings need a restart of msfd; they keep their old values");
    }
    const added = diff.added.filter((service) => wanted(service.name));
    const removed = diff.removed.filter((service) => wanted(service.name));
    const changed = diff.changed.filter((change) => wanted(change.next.name));
    await Promise.all([
      ...added.map((service) => this.startService(service)),
      ...removed.map(async (service) => {
        const runner = this.services.get(service.name);
        this.services.delete(service.name);
        await runner?.stop("stopped");
        this.registry.remove(service.name);
      }),
      ...changed.map(async ({ next: service }) => {
        const runner = this.services.get(service.name);
        if (runner === undefined) return;
        this.registry.configure(service.name, { balance: service.balance, idempotentMethods: service.idempotentMethods });
        await runner.upgrade(service);
      }),
    ]);
    if (only === undefined) {
      await this.reloadProcs(diff);
      // Settings that need a restart keep their running values.
      this.config = { ...next, listen: this.config.listen, control: this.config.control, runDir: this.config.runDir, auth: this.config.auth };
    } else {
      const services = [...this.config.services.filter((service) => service.name !== only), ...next.services.filter((service) => service.name === only)];
      this.config = { ...this.config, services };
    }
    this.generation++;
    const reply: ReloadReply = {
      configGeneration: this.generation,
      added: added.map((service) => service.name),
      removed: removed.map((service) => service.name),
      changed: changed.map((change) => change.next.name),
      unchanged: diff.unchanged.filter((service) => wanted(service.name)).map((service) => service.name),
    };
    this.log.info({ ...reply }, "config reloaded");
    return reply;
  }

  private async reloadProcs(diff: ReturnType<typeof diffConfig>): Promise<void> {
    await Promise.all([
      ...diff.procsAdded.map((proc) => this.startProc(proc)),
      ...diff.procsRemoved.map(async (proc) => {
        const runner = this.procs.get(proc.name);
        this.procs.delete(proc.name);
        await runner?.stop();
      }),
      ...diff.procsChanged.map(async ({ next }) => {
        const runner = this.procs.get(next.name);
        this.procs.delete(next.name);
        await runner?.stop();
        await this.startProc(next);
      }),
    ]);
  }
}

function unknownService(name: string, services: ReadonlyMap<string, unknown>): RpcError {
  const known = [...services.keys()].join(", ") || "none";
  return new RpcError(Code.NOT_FOUND, `no service named "${name}" in the config (services: ${known})`);
}

function statusEvent(info: InstanceInfo, online: boolean, reason: string) {
  return {
    service: info.service,
    instance: info.id,
    index: info.index,
    generation: info.generation,
    endpoint: info.endpoint,
    pid: info.pid,
    online,
    reason,
  };
}
