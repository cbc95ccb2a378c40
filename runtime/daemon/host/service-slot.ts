import type { AuthConfig, ServiceConfig } from "./host-config.js";
import type { ServiceSpec } from "./host-messages.js";
import type { Instance } from "./instance.js";
import { RestartTracker } from "./restart-policy.js";

/**
 * One instance index of one generation of a service's config, as the supervisor keeps it: the
 * instance serving it, a replacement being started, its restart history.
 */
export interface Slot {
  readonly index: number;
  readonly config: ServiceConfig;
  /** The instance serving (or starting, during a restart). */
  current: Instance | undefined;
  /** A replacement being started while `current` keeps serving (memory restart). */
  replacement: Instance | undefined;
  /** The last instance, shown by instances() while the slot is empty. */
  last: Instance | undefined;
  /** Restarts and replacements so far. */
  restarts: number;
  readonly tracker: RestartTracker;
  /** A restart waiting out its backoff, or a replacement retry. */
  timer: NodeJS.Timeout | undefined;
  /** Replaced by an upgrade, or stopped: nothing in it is restarted any more. */
  retired: boolean;
  /** Its crash loop made the service fail. */
  gaveUp: boolean;
}

export function makeSlots(config: ServiceConfig): Slot[] {
  return Array.from({ length: config.instances }, (_, index) => ({
    index,
    config,
    current: undefined,
    replacement: undefined,
    last: undefined,
    restarts: 0,
    tracker: new RestartTracker(config.restart),
    timer: undefined,
    retired: false,
    gaveUp: false,
  }));
}

/** What every instance of `config` is started with (host-messages.ts). */
export function serviceSpec(config: ServiceConfig, auth: AuthConfig | undefined): ServiceSpec {
  return {
    service: config.name,
    module: config.module,
    options: config.options,
    secretsFile: auth?.secretsFile,
    idempotentMethods: config.idempotentMethods,
    sampleMs: config.memory.sampleMs,
  };
}
