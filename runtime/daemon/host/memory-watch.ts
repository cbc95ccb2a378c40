import type { MemoryPolicy } from "./host-config.js";

/**
 * Threshold crossings of one instance's (or process's) memory, sample by sample. Pure.
 *
 * alert: the sample reached alertBytes while the previous ones were below; it fires once per
 * crossing and re-arms only when memory falls below 90% of the threshold, so a figure hovering
 * around it does not flood the operator. restart: the sample reached restartBytes; it fires once
 * for the watch's lifetime (the instance is being replaced, a new instance gets a new watch).
 */
export interface MemoryCrossing {
  readonly alert: boolean;
  readonly restart: boolean;
}

/** Below this fraction of alertBytes, the alert re-arms. */
const REARM_FRACTION = 0.9;

export class MemoryWatch {
  private alerted = false;
  private restartFired = false;

  constructor(private readonly policy: MemoryPolicy) {}

  sample(bytes: number): MemoryCrossing {
    const { alertBytes, restartBytes } = this.policy;
    let alert = false;
    if (alertBytes !== undefined) {
      if (!this.alerted && bytes >= alertBytes) {
        this.alerted = true;
        alert = true;
      } else if (this.alerted && bytes < alertBytes * REARM_FRACTION) {
        this.alerted = false;
      }
    }
    let restart = false;
    if (restartBytes !== undefined && !this.restartFired && bytes >= restartBytes) {
      this.restartFired = true;
      restart = true;
    }
    return { alert, restart };
  }
}
