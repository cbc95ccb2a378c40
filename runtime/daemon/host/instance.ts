import { lstat, unlink } from "node:fs/promises";
import { repin, type Pinning } from "./cpu-pinning.js";
import type { ChildMessage, ServiceSpec, SlotSpec } from "./host-messages.js";
import type { Isolation } from "./host-config.js";
import type { HostLog, InstanceInfo, InstanceState, ServedService } from "./host-types.js";
import { startProcess, startWorker, type Carrier, type CarrierEvents } from "./instance-carrier.js";
import { readRssBytes } from "./memory-sampler.js";
import type { Spare } from "./spare.js";

/**
 * One running instance of a plugin service: a worker thread or a child process running
 * instance-main, its lifecycle, its exit and its memory. It never restarts itself: that is the
 * supervisor's job (service-supervisor.ts).
 *
 *   new ─start()─▶ starting ─ready─▶ ready ─stop()─▶ draining ─▶ stopped
 *                     │                 │                 └─(kill after the timeout)─▶ stopped
 *                     │                 └─exits on its own─▶ crashed
 *                     └─error / exit / start timeout─▶ failed
 */
export interface InstanceOptions {
  readonly isolation: Isolation;
  /** Extra environment (the service's `env`) over msfd's. */
  readonly env: Readonly<Record<string, string>>;
  /** Process isolation only: run through taskset pinned to this CPU. */
  readonly pinning: Pinning | undefined;
  readonly log: HostLog;
  /** Called for every memory figure (see InstanceInfo.memoryBytes), every spec.sampleMs. */
  readonly onMemory?: (bytes: number) => void;
  /** Called once when the instance is gone, whatever the reason. */
  readonly onExit?: (exit: InstanceExit) => void;
}

/** How an instance ended. */
export interface InstanceExit {
  /** stopped: as told (stop/kill); crashed: on its own after it was ready; failed: before it was ready. */
  readonly state: "stopped" | "crashed" | "failed";
  readonly code: number | null;
  readonly signal: string | null;
  /** One line for logs and alerts: what the instance said, or how it exited. */
  readonly reason: string;
}

/** An instance that did not become ready; the message names the instance and why. */
export class InstanceStartError extends Error {
  override readonly name = "InstanceStartError";
  constructor(
    readonly instance: string,
    message: string,
  ) {
    super(message);
  }
}

/** Time between the drain deadline and the kill: the stop and deinit hooks run in it. */
export const STOP_MARGIN_MS = 1000;

type Status =
  | { readonly t: "new" }
  | { readonly t: "starting"; readonly carrier: Carrier; readonly ready: Deferred<readonly ServedService[]> }
  | { readonly t: "ready"; readonly carrier: Carrier; readonly services: readonly ServedService[] }
  | { readonly t: "draining"; readonly carrier: Carrier; readonly killTimer: NodeJS.Timeout }
  | { readonly t: "exited"; readonly exit: InstanceExit };

export class Instance {
  readonly id: string;
  readonly service: string;
  readonly index: number;
  readonly generation: number;
  readonly endpoint: string;
  startedAt = 0;
  pid = 0;
  threadId: number | undefined;
  rssBytes = 0;
  heapBytes = 0;
  /** Resolves when the instance is gone. */
  readonly exited: Promise<InstanceExit>;

  private status: Status = { t: "new" };
  /** The last { t: "error" } message: the reason a start failed. */
  private reportedError: string | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private stopRequested = false;
  private resolveExited!: (exit: InstanceExit) => void;

  constructor(
    readonly spec: ServiceSpec,
    readonly slot: SlotSpec,
    private readonly options: InstanceOptions,
  ) {
    this.id = slot.id;
    this.service = spec.service;
    this.index = slot.index;
    this.generation = slot.generation;
    this.endpoint = slot.endpoint;
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
  }

  get state(): InstanceState {
    switch (this.status.t) {
      case "new":
      case "starting":
        return "starting";
      case "ready":
        return "ready";
      case "draining":
        return "draining";
      case "exited":
        return this.status.exit.state;
    }
  }

  /** True once the instance exited. */
  get gone(): boolean {
    return this.status.t === "exited";
  }

  /** The memory figure thresholds apply to: RSS for a process, heap for a worker. */
  get memoryBytes(): number {
    return this.options.isolation === "process" ? this.rssBytes : this.heapBytes;
  }

  /** The services it serves, once ready. */
  get services(): readonly ServedService[] | undefined {
    return this.status.t === "ready" ? this.status.services : undefined;
  }

  info(restarts: number): InstanceInfo {
    return {
      service: this.service,
      index: this.index,
      generation: this.generation,
      id: this.id,
      pid: this.pid,
      threadId: this.threadId,
      endpoint: this.endpoint,
      state: this.state,
      startedAt: this.startedAt,
      restarts,
      rssBytes: this.options.isolation === "process" ? this.rssBytes : 0,
      heapBytes: this.heapBytes,
      memoryBytes: this.memoryBytes,
    };
  }

  /**
   * Spawns the instance, or adopts `spare` when it is loaded (same service spec), and resolves
   * with what it serves once it reported ready. Rejects with an InstanceStartError when it
   * reports an error, exits, or is not ready within `timeoutMs` (it is killed then). Call once.
   */
  start(timeoutMs: number, spare?: Spare): Promise<readonly ServedService[]> {
    if (this.status.t !== "new") return Promise.reject(new InstanceStartError(this.id, `${this.id}: start() called twice`));
    const ready = deferred<readonly ServedService[]>();
    const events: CarrierEvents = {
      onMessage: (message) => this.onMessage(message),
      onOutput: (stream, line) => this.options.log(stream === "stderr" ? "warn" : "info", line, { instance: this.id, stream }),
      onExit: (code, signal, error) => this.onExit(code, signal, error),
    };
    this.startedAt = Date.now();
    let carrier: Carrier | undefined = spare?.take();
    if (carrier !== undefined) {
      carrier.setEvents(events);
      carrier.send({ t: "assign", slot: this.slot });
      const { pinning } = this.options;
      if (pinning !== undefined && this.options.isolation === "process") {
        repin(carrier.pid, pinning).catch((error: Error) => this.options.log("warn", `${this.id} runs unpinned: ${error.message}`, { instance: this.id }));
      }
    } else {
      const spec = { ...this.spec, slot: this.slot };
      try {
        carrier =
          this.options.isolation === "worker" ? startWorker(spec, this.options.env, events) : startProcess(spec, this.options.env, this.options.pinning, events);
      } catch (error) {
        const reason = `cannot start a ${this.options.isolation}: ${error instanceof Error ? error.message : String(error)}`;
        this.finish({ state: "failed", code: null, signal: null, reason });
        return Promise.reject(new InstanceStartError(this.id, `${this.id} failed to start: ${reason}`));
      }
    }
    this.pid = carrier.pid;
    this.threadId = carrier.threadId;
    this.status = { t: "starting", carrier, ready };
    if (this.options.isolation === "process") {
      this.sampler = setInterval(() => void this.sampleRss(), this.spec.sampleMs);
      this.sampler.unref();
    }
    const started = carrier;
    const timer = setTimeout(() => {
      if (this.status.t !== "starting") return;
      this.reportedError ??= `not ready within ${timeoutMs} ms (start timeout)`;
      started.kill();
    }, timeoutMs);
    timer.unref();
    return ready.promise.finally(() => clearTimeout(timer));
  }

  /**
   * Drains and stops: the instance runs its stop hook, closes its server giving calls in flight
   * up to `graceMs`, runs deinit and exits. Still there after `killAfterMs`: killed. An instance
   * still starting has served nothing and is killed at once. Resolves when it is gone.
   */
  stop(graceMs: number, killAfterMs = graceMs + STOP_MARGIN_MS): Promise<InstanceExit> {
    const status = this.status;
    if (status.t === "ready") {
      const killTimer = setTimeout(() => {
        this.options.log("warn", `${this.id} did not stop within ${killAfterMs} ms: killed`, { instance: this.id });
        status.carrier.kill();
      }, killAfterMs);
      this.status = { t: "draining", carrier: status.carrier, killTimer };
      status.carrier.send({ t: "stop", graceMs });
    } else if (status.t === "starting") {
      this.stopRequested = true;
      this.reportedError ??= "stopped before it was ready";
      status.carrier.kill();
    } else if (status.t === "new") {
      this.finish({ state: "stopped", code: null, signal: null, reason: "stopped before it was started" });
    }
    return this.exited;
  }

  /** Kills at once (SIGKILL / terminate). Resolves when it is gone. */
  kill(): Promise<InstanceExit> {
    const status = this.status;
    if (status.t === "new") return this.stop(0);
    this.stopRequested = true;
    if (status.t !== "exited") status.carrier.kill();
    return this.exited;
  }

  private onMessage(message: ChildMessage): void {
    const status = this.status;
    switch (message.t) {
      case "ready":
        if (status.t !== "starting") return;
        this.status = { t: "ready", carrier: status.carrier, services: message.services };
        status.ready.resolve(message.services);
        return;
      case "memory":
        this.heapBytes = message.heapUsed + message.external;
        if (this.options.isolation === "worker") this.options.onMemory?.(this.heapBytes);
        return;
      case "log":
        this.options.log(message.level, message.msg, { ...message.fields, instance: this.id });
        return;
      case "error":
        this.reportedError = message.message;
        if (status.t === "ready") this.options.log("error", message.message, { instance: this.id });
        return;
      case "stopped":
        // instance-main exits right after; the exit ends the draining state.
        return;
    }
  }

  private async sampleRss(): Promise<void> {
    if (this.gone || this.pid === 0) return;
    const rss = await readRssBytes(this.pid);
    // The process may have exited while the file was read (and its pid been reused since).
    if (rss === undefined || this.gone) return;
    this.rssBytes = rss;
    this.options.onMemory?.(rss);
  }

  private onExit(code: number | null, signal: string | null, error: string | undefined): void {
    const status = this.status;
    const how = signal !== null ? `killed by ${signal}` : code === null ? "gone" : `exited with code ${code}`;
    const withHow = (what: string | undefined, otherwise: string): string => (what !== undefined ? `${what} (${how})` : otherwise);
    switch (status.t) {
      case "starting": {
        const reason = this.reportedError ?? withHow(error, `${how} before it was ready`);
        this.finish({ state: this.stopRequested ? "stopped" : "failed", code, signal, reason });
        status.ready.reject(new InstanceStartError(this.id, `${this.id} failed to start: ${reason}`));
        return;
      }
      case "ready":
        this.finish({ state: this.stopRequested ? "stopped" : "crashed", code, signal, reason: withHow(error, how) });
        return;
      case "draining":
        clearTimeout(status.killTimer);
        this.finish({ state: "stopped", code, signal, reason: code === 0 ? "stopped" : `stopped: ${how}` });
        return;
      case "new":
      case "exited":
        return;
    }
  }

  private finish(exit: InstanceExit): void {
    clearInterval(this.sampler);
    this.status = { t: "exited", exit };
    void removeSocketFile(this.endpoint).finally(() => {
      this.resolveExited(exit);
      this.options.onExit?.(exit);
    });
  }
}

/** A killed instance leaves its socket file behind; remove it (only if it is a socket). */
async function removeSocketFile(endpoint: string): Promise<void> {
  if (!endpoint.startsWith("unix:") || endpoint.startsWith("unix:@")) return;
  const path = endpoint.slice("unix:".length);
  const stats = await lstat(path).catch(() => undefined);
  if (stats?.isSocket() === true) await unlink(path).catch(() => undefined);
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The caller may drop the promise after a failed start; its rejection is then not unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
