import type { AuthConfig, Isolation, ServiceConfig } from "./host-config.js";
import type { ServiceSpec } from "./host-messages.js";
import type { HostLog } from "./host-types.js";
import { startProcess, startWorker, type Carrier, type CarrierEvents } from "./instance-carrier.js";
import { serviceSpec } from "./service-slot.js";

/**
 * A spare instance: a worker or process that already loaded the plugin module (and msf, and the
 * CHAP keys) and waits to be assigned a slot. Starting node and loading modules is most of an
 * instance's start time (about a second when msf runs from source under tsx); with a spare, a
 * crashed instance is replaced by assigning the spare, which then only runs init, binds its
 * socket and runs start: serving again a few tens of ms after the crash.
 *
 * A spare has run the module's top-level code, nothing else: no hook, no socket. It is handed to
 * an Instance once (take()); the supervisor then spawns the next one.
 */
export interface SpareOptions {
  readonly isolation: Isolation;
  readonly env: Readonly<Record<string, string>>;
  readonly log: HostLog;
  /** Called once if the spare dies before it is taken (its module failed to load, it was killed). */
  readonly onLost?: (reason: string) => void;
}

type SpareStatus = "loading" | "waiting" | "taken" | "gone";

export class Spare {
  private status: SpareStatus = "loading";
  private readonly carrier: Carrier | undefined;
  private readonly gone: Promise<void>;
  private error: string | undefined;

  constructor(
    readonly spec: ServiceSpec,
    options: SpareOptions,
  ) {
    let markGone!: () => void;
    this.gone = new Promise((resolve) => (markGone = resolve));
    const source = `${spec.service} (spare)`;
    const events: CarrierEvents = {
      onMessage: (message) => {
        if (message.t === "spare" && this.status === "loading") this.status = "waiting";
        else if (message.t === "error") this.error = message.message;
        else if (message.t === "log") options.log(message.level, message.msg, { ...message.fields, instance: source });
      },
      onOutput: (stream, line) => options.log(stream === "stderr" ? "warn" : "info", line, { instance: source, stream }),
      onExit: (code, signal, error) => {
        const lost = this.status === "loading" || this.status === "waiting";
        this.status = "gone";
        markGone();
        if (lost) options.onLost?.(this.error ?? error ?? (signal !== null ? `killed by ${signal}` : `exited with code ${code}`));
      },
    };
    const instanceSpec = { ...spec, slot: undefined };
    try {
      this.carrier =
        options.isolation === "worker" ? startWorker(instanceSpec, options.env, events) : startProcess(instanceSpec, options.env, undefined, events);
    } catch (error) {
      this.status = "gone";
      markGone();
      options.log("warn", `cannot start a spare of ${spec.service}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The spare's pid (msfd's for a worker); 0 when it could not be spawned. */
  get pid(): number {
    return this.carrier?.pid ?? 0;
  }

  /** True while it waits, loaded, for a slot. */
  get ready(): boolean {
    return this.status === "waiting";
  }

  /** Hands the loaded carrier over, once; undefined while it is still loading or when it is gone. */
  take(): Carrier | undefined {
    if (this.status !== "waiting" || this.carrier === undefined) return undefined;
    this.status = "taken";
    return this.carrier;
  }

  /** Kills it unless it was taken; resolves when it is gone (at once when taken). */
  async kill(): Promise<void> {
    if (this.status === "taken") return;
    if (this.status !== "gone") {
      this.status = "gone";
      this.carrier?.kill();
    }
    await this.gone;
  }
}

/**
 * The one spare a supervisor keeps: made for one config (a spare of an older config is never
 * handed out), replaced only after an instance became ready, so a spare that dies at load does
 * not turn into a spawn loop.
 */
export class SpareKeeper {
  private entry: { readonly spare: Spare; readonly config: ServiceConfig } | undefined;

  constructor(private readonly options: { readonly enabled: boolean; readonly auth: AuthConfig | undefined; readonly log: HostLog }) {}

  /** True while a loaded spare waits. */
  get ready(): boolean {
    return this.entry?.spare.ready === true;
  }

  /** The loaded spare, if there is one made for `config`; the keeper lets go of it. */
  take(config: ServiceConfig): Spare | undefined {
    const entry = this.entry;
    if (entry === undefined || entry.config !== config || !entry.spare.ready) return undefined;
    this.entry = undefined;
    return entry.spare;
  }

  /** Spawns a spare for `config` unless one is kept already (or spares are off). */
  replenish(config: ServiceConfig): void {
    if (!this.options.enabled || this.entry !== undefined) return;
    const { log } = this.options;
    const entry = {
      config,
      spare: new Spare(serviceSpec(config, this.options.auth), {
        isolation: config.isolation,
        env: config.env,
        log,
        onLost: (reason) => {
          if (this.entry === entry) this.entry = undefined;
          log("warn", `the spare instance of ${config.name} is gone: ${reason}`, { service: config.name });
        },
      }),
    };
    this.entry = entry;
  }

  /** Kills the spare kept, if any. */
  async discard(): Promise<void> {
    const entry = this.entry;
    this.entry = undefined;
    await entry?.spare.kill();
  }
}
