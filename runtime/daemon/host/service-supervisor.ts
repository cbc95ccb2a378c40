import { EventEmitter } from "node:events";
import { join } from "node:path";
import { instancePinning, type Pinning } from "./cpu-pinning.js";
import type { AuthConfig, ServiceConfig } from "./host-config.js";
import type { Alert, HostLog, InstanceInfo, ServedService } from "./host-types.js";
import { Instance, type InstanceExit } from "./instance.js";
import { MemoryWatch } from "./memory-watch.js";
import { makeSlots, serviceSpec, type Slot } from "./service-slot.js";
import { SpareKeeper } from "./spare.js";

/**
 * Runs the `instances` copies of one configured service, each in its own worker thread or child
 * process (instance-main.ts), and keeps them running.
 *
 * Events (in this order for any instance): `up(info, services)` once it is ready and may take
 * calls (initial start, restart, replacement, upgrade); `down(info)` before it stops taking calls
 * (it crashed, or it is about to drain); `alert(alert)`.
 *
 * - Restarts (restart-policy.ts): an instance that exits on its own is restarted, at once the
 *   first time in a window, then with a doubling backoff; more than max_restarts within
 *   window_ms and the supervisor gives up: state "failed", alert crash_loop. A failed service
 *   restarts nothing any more; instances still running keep serving until it is stopped or
 *   upgraded, which starts it afresh.
 * - Spare (spare.ts, option `spare`, default on): one extra instance per service, loaded but
 *   idle, is kept so that a crashed instance is replaced without starting node: serving again
 *   tens of ms after a kill -9 instead of the ~1 s a cold start takes.
 * - Memory (memory-watch.ts): sampled every memory.sampleMs (a process: RSS from
 *   /proc/<pid>/statm; a worker: the heap it reports). Reaching alert_mb: alert memory, once per
 *   crossing. Reaching restart_mb: a replacement is started; once it is ready it is reported up,
 *   the old one down, and the old one drains: no call fails.
 * - upgrade(next): the new generation starts next to the old one; when all of it is ready it is
 *   reported up, the old one down, and the old one drains. If the new one fails to start, the old
 *   one keeps serving and upgrade() rejects.
 * - stop(): every instance is reported down, then drains (stop_timeout_ms, then killed).
 *
 * Instance i serves on `unix:<runDir>/<service>.<i>.<generation>.sock`; the generation counts
 * the instances started for slot i (restarts included), so every instance has its own socket and
 * an old one can drain while its successor serves.
 */
export type SupervisorState = "starting" | "running" | "failed" | "stopped";

export interface ServiceSupervisorOptions {
  /** Directory of the instances' unix sockets; must exist. */
  readonly runDir: string;
  /** With it, instances require CHAP with the secrets file's credentials. */
  readonly auth: AuthConfig | undefined;
  readonly log: HostLog;
  /** Time an instance has from spawn to ready before it is killed. Default 30 000 ms. */
  readonly startTimeoutMs?: number;
  /** Keep a loaded spare instance for fast crash restarts. Default true. */
  readonly spare?: boolean;
}

export interface ServiceSupervisorEvents {
  up: [info: InstanceInfo, services: readonly ServedService[]];
  down: [info: InstanceInfo];
  alert: [alert: Alert];
}

const DEFAULT_START_TIMEOUT_MS = 30_000;

export class ServiceSupervisor extends EventEmitter<ServiceSupervisorEvents> {
  private current: ServiceConfig;
  private slots: Slot[] = [];
  private status: SupervisorState = "starting";
  private started = false;
  /** Every instance not gone yet, with its slot. */
  private readonly members = new Map<Instance, Slot>();
  /** Instances reported up and not yet down. */
  private readonly announced = new Set<Instance>();
  private readonly watches = new Map<Instance, MemoryWatch>();
  private readonly generations = new Map<number, number>();
  private readonly spares: SpareKeeper;
  private upgrades: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private readonly warned = new Set<string>();

  constructor(
    config: ServiceConfig,
    private readonly options: ServiceSupervisorOptions,
  ) {
    super();
    this.current = config;
    this.spares = new SpareKeeper({ enabled: options.spare !== false, auth: options.auth, log: options.log });
  }

  get state(): SupervisorState {
    return this.status;
  }

  /** Read through a getter, so checks after an await are not narrowed away by the compiler. */
  private get isStopped(): boolean {
    return this.status === "stopped";
  }

  /** True while a loaded spare instance waits to replace a crashed one (option `spare`). */
  get spareReady(): boolean {
    return this.spares.ready;
  }

  /** The config the running generation was started with. */
  get config(): ServiceConfig {
    return this.current;
  }

  /**
   * Starts every instance and resolves when all are ready (each reported up). When one fails
   * (the plugin does not load, init or start throws, start timeout), the others are stopped, the
   * state is "failed", an alert load_failed is raised and the promise rejects with a message
   * naming the service, the instance and the reason (for a load failure: the module and what it
   * exports).
   */
  async start(): Promise<void> {
    if (this.started) throw new Error(`service ${this.current.name}: start() called twice`);
    this.started = true;
    const config = this.current;
    this.slots = makeSlots(config);
    const ready = await this.startGeneration(this.slots);
    if (this.isStopped) throw new Error(`service ${config.name}: stopped while it was starting`);
    if (ready instanceof Error) {
      this.status = "failed";
      const message = `service ${config.name} did not start: ${ready.message}`;
      this.raise({ kind: "load_failed", source: config.name, message });
      throw new Error(message, { cause: ready });
    }
    this.status = "running";
    for (const [instance, services] of ready) this.announceUp(instance, services);
    this.spares.replenish(config);
  }

  /**
   * Replaces the running generation with one started from `next` (same service name; module,
   * options, instances, isolation may all differ). Resolves once the old generation drained.
   * Upgrades run one after another.
   */
  upgrade(next: ServiceConfig): Promise<void> {
    const run = this.upgrades.then(() => this.runUpgrade(next));
    this.upgrades = run.catch(() => undefined);
    return run;
  }

  /**
   * Reports every instance down, then drains them: each runs its stop hook, finishes its calls
   * in flight within `graceMs` (default restart.stopTimeoutMs) and exits, or is killed. Nothing
   * is restarted after this. Idempotent.
   */
  stop(graceMs: number = this.current.restart.stopTimeoutMs): Promise<void> {
    this.stopped ??= this.stopAll(graceMs);
    return this.stopped;
  }

  /** Every instance, by index then generation: serving, starting, draining, and the last one of an empty slot. */
  instances(): InstanceInfo[] {
    const infos = [...this.members].map(([instance, slot]) => instance.info(slot.restarts));
    for (const slot of this.slots) {
      if (slot.current !== undefined || slot.replacement !== undefined || slot.last === undefined) continue;
      if (this.members.has(slot.last)) continue;
      const info = slot.last.info(slot.restarts);
      infos.push(slot.gaveUp ? { ...info, state: "failed" } : info);
    }
    return infos.sort((a, b) => a.index - b.index || a.generation - b.generation);
  }

  private async runUpgrade(next: ServiceConfig): Promise<void> {
    const name = this.current.name;
    if (!this.started) throw new Error(`service ${name}: upgrade() before start()`);
    if (this.isStopped) throw new Error(`service ${name}: upgrade() after stop()`);
    if (next.name !== name) throw new Error(`service ${name}: upgrade() to a config of another service (${next.name})`);
    const slots = makeSlots(next);
    const ready = await this.startGeneration(slots);
    if (this.isStopped) throw new Error(`service ${name}: stopped while it was being upgraded`);
    if (ready instanceof Error) {
      const message = `service ${name}: the upgrade did not start, the running generation keeps serving: ${ready.message}`;
      this.raise({ kind: "load_failed", source: name, message });
      throw new Error(message, { cause: ready });
    }
    const oldSlots = this.slots;
    const graceMs = this.current.restart.stopTimeoutMs;
    this.slots = slots;
    this.current = next;
    this.status = "running";
    for (const [instance, services] of ready) this.announceUp(instance, services);
    const drained = oldSlots.flatMap((slot) => this.retire(slot, graceMs));
    await Promise.all([...drained, this.spares.discard()]);
    this.spares.replenish(next);
  }

  /**
   * Starts one instance per slot; resolves with each ready instance's services, or with the
   * first failure after every instance of the generation was stopped again.
   */
  private async startGeneration(slots: readonly Slot[]): Promise<Map<Instance, readonly ServedService[]> | Error> {
    const instances = slots.map((slot) => (slot.current = this.createInstance(slot)));
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const outcomes = await Promise.allSettled(instances.map((instance) => instance.start(timeoutMs)));
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (failure !== undefined || this.isStopped) {
      for (const slot of slots) slot.retired = true;
      await Promise.all(instances.map((instance) => instance.stop(0)));
      return failure === undefined ? new Error("stopped") : asError(failure.reason);
    }
    const ready = new Map<Instance, readonly ServedService[]>();
    outcomes.forEach((outcome, index) => {
      if (outcome.status === "fulfilled") ready.set(instances[index]!, outcome.value);
    });
    return ready;
  }

  private createInstance(slot: Slot): Instance {
    const { config, index } = slot;
    const generation = (this.generations.get(index) ?? 0) + 1;
    this.generations.set(index, generation);
    const id = `${config.name}#${index}.${generation}`;
    const endpoint = `unix:${join(this.options.runDir, `${config.name}.${index}.${generation}.sock`)}`;
    const instance: Instance = new Instance(
      serviceSpec(config, this.options.auth),
      { index, generation, id, endpoint },
      {
        isolation: config.isolation,
        env: config.env,
        pinning: this.pinning(config, index),
        log: this.options.log,
        onMemory: (bytes) => this.onMemory(slot, instance, bytes),
        onExit: (exit) => this.onExit(slot, instance, exit),
      },
    );
    this.members.set(instance, slot);
    this.watches.set(instance, new MemoryWatch(config.memory));
    return instance;
  }

  private onExit(slot: Slot, instance: Instance, exit: InstanceExit): void {
    this.announceDown(instance);
    this.members.delete(instance);
    this.watches.delete(instance);
    // Stops are asked for; failed starts are handled where the start was awaited.
    if (exit.state !== "crashed") return;
    this.options.log("error", `${instance.id} crashed: ${exit.reason}`, { service: slot.config.name, instance: instance.id });
    if (slot.current !== instance) return;
    slot.current = undefined;
    slot.last = instance;
    // A replacement already starting takes the slot over when it is ready.
    if (slot.retired || this.isStopped || slot.replacement !== undefined) return;
    this.scheduleRestart(slot, `${instance.id} crashed: ${exit.reason}`);
  }

  private scheduleRestart(slot: Slot, why: string): void {
    const source = slot.last?.id ?? `${slot.config.name}#${slot.index}`;
    if (this.status === "failed") {
      this.options.log("error", `${why}; not restarted: service ${slot.config.name} has failed`, { service: slot.config.name });
      return;
    }
    const { maxRestarts, windowMs } = slot.config.restart;
    const decision = slot.tracker.decide(Date.now());
    if (decision.t === "give_up") {
      slot.gaveUp = true;
      this.status = "failed";
      this.raise({
        kind: "crash_loop",
        source,
        message: `${why}; ${decision.recent} restarts within ${windowMs} ms already (max_restarts ${maxRestarts}): not restarted again, service ${slot.config.name} failed`,
        value: decision.recent,
        threshold: maxRestarts,
      });
      return;
    }
    const { delayMs } = decision;
    this.raise({ kind: "restart", source, message: `${why}; restarting it ${delayMs === 0 ? "now" : `in ${delayMs} ms`}`, value: delayMs });
    if (delayMs === 0) {
      void this.restart(slot);
    } else {
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        void this.restart(slot);
      }, delayMs);
    }
  }

  private async restart(slot: Slot): Promise<void> {
    if (slot.retired || this.isStopped) return;
    slot.restarts++;
    const instance = this.createInstance(slot);
    slot.current = instance;
    try {
      const services = await instance.start(this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, this.spares.take(slot.config));
      if (slot.retired || this.isStopped || slot.current !== instance) {
        await instance.stop(0);
        return;
      }
      this.announceUp(instance, services);
      this.spares.replenish(slot.config);
    } catch (error) {
      if (slot.current === instance) {
        slot.current = undefined;
        slot.last = instance;
      }
      if (slot.retired || this.isStopped) return;
      this.scheduleRestart(slot, asError(error).message);
    }
  }

  private onMemory(slot: Slot, instance: Instance, bytes: number): void {
    const watch = this.watches.get(instance);
    if (watch === undefined || instance.state !== "ready") return;
    const crossing = watch.sample(bytes);
    const { alertBytes, restartBytes } = slot.config.memory;
    const what = `${instance.id} uses ${mib(bytes)} MiB of ${slot.config.isolation === "process" ? "RSS" : "heap"}`;
    if (crossing.alert && alertBytes !== undefined) {
      this.raise({ kind: "memory", source: instance.id, message: `${what}, over alert_mb (${mib(alertBytes)} MiB)`, value: bytes, threshold: alertBytes });
    }
    if (crossing.restart && restartBytes !== undefined) {
      this.raise({
        kind: "memory",
        source: instance.id,
        message: `${what}, over restart_mb (${mib(restartBytes)} MiB): replacing it`,
        value: bytes,
        threshold: restartBytes,
      });
      void this.replace(slot, instance);
    }
  }

  /** Starts a successor of `old` next to it; once it is ready, switches and drains `old`. */
  private async replace(slot: Slot, old: Instance): Promise<void> {
    if (slot.current !== old || slot.replacement !== undefined || slot.retired || this.isStopped) return;
    slot.restarts++;
    const next = this.createInstance(slot);
    slot.replacement = next;
    try {
      const services = await next.start(this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, this.spares.take(slot.config));
      slot.replacement = undefined;
      if (slot.retired || this.isStopped) {
        await next.stop(0);
        return;
      }
      slot.current = next;
      this.announceUp(next, services);
      this.spares.replenish(slot.config);
      if (!old.gone) await this.drain(old, slot.config.restart.stopTimeoutMs);
    } catch (error) {
      slot.replacement = undefined;
      if (slot.retired || this.isStopped) return;
      const why = `the replacement of ${old.id} did not start: ${asError(error).message}`;
      // The old one crashed meanwhile: the slot is empty, restart it as after any crash.
      if (slot.current === undefined) return this.scheduleRestart(slot, why);
      this.options.log("error", `${why}; ${old.id} keeps serving`, { service: slot.config.name, instance: old.id });
      const decision = slot.tracker.decide(Date.now());
      if (decision.t === "give_up") {
        this.status = "failed";
        this.raise({ kind: "crash_loop", source: next.id, message: `${why}; gave up replacing ${old.id}, service ${slot.config.name} failed`, value: decision.recent, threshold: slot.config.restart.maxRestarts });
        return;
      }
      // Try again after the backoff: a fresh watch fires again on the next sample over the limit.
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        if (slot.current === old && !old.gone) this.watches.set(old, new MemoryWatch(slot.config.memory));
      }, decision.delayMs);
    }
  }

  /** Reports `instance` down, then drains it. */
  private drain(instance: Instance, graceMs: number): Promise<InstanceExit> {
    const exited = instance.stop(graceMs);
    this.announceDown(instance);
    return exited;
  }

  /** Takes `slot` out of service: no more restarts; its instances drain. */
  private retire(slot: Slot, graceMs: number): Promise<InstanceExit>[] {
    slot.retired = true;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const drained: Promise<InstanceExit>[] = [];
    for (const [instance, owner] of this.members) if (owner === slot) drained.push(this.drain(instance, graceMs));
    return drained;
  }

  private async stopAll(graceMs: number): Promise<void> {
    this.status = "stopped";
    const drained = this.slots.flatMap((slot) => this.retire(slot, graceMs));
    // Instances of a generation still starting (start or upgrade in progress) are not in a current slot.
    for (const [instance, slot] of this.members) if (!this.slots.includes(slot)) drained.push(this.drain(instance, graceMs));
    await Promise.all([...drained, this.spares.discard()]);
  }

  private announceUp(instance: Instance, services: readonly ServedService[]): void {
    this.announced.add(instance);
    const slot = this.members.get(instance);
    this.options.log("info", `${instance.id} is up on ${instance.endpoint}`, { service: instance.service, instance: instance.id, pid: instance.pid });
    this.emit("up", instance.info(slot?.restarts ?? 0), services);
  }

  private announceDown(instance: Instance): void {
    if (!this.announced.delete(instance)) return;
    this.emit("down", instance.info(this.members.get(instance)?.restarts ?? 0));
  }

  private raise(fields: Omit<Alert, "at">): void {
    const alert: Alert = { at: Date.now(), ...fields };
    this.options.log(alert.kind === "memory" || alert.kind === "restart" ? "warn" : "error", alert.message, {
      service: this.current.name,
      alert: alert.kind,
      source: alert.source,
    });
    this.emit("alert", alert);
  }

  private pinning(config: ServiceConfig, index: number): Pinning | undefined {
    const { pinning, warning } = instancePinning(config, index);
    if (warning !== undefined && !this.warned.has(warning)) {
      this.warned.add(warning);
      this.options.log("warn", warning, { service: config.name });
    }
    return pinning;
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
