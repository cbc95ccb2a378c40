import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { ServiceConfig } from "./host-config.js";

/**
 * CPU pinning (the config's `cpus`). Instance i of a service is pinned to cpus[i % cpus.length],
 * so N instances spread over the listed cores. Processes are pinned by running them through
 * `taskset -c <cpu>` (util-linux), which sets the affinity and then execs node, so the pid is
 * node's. Worker threads cannot be pinned: Node exposes no per-thread affinity, and a thread
 * inherits msfd's; the supervisor logs a warning and runs them unpinned. A spare process (spawned
 * before it knows its slot) is pinned when it is assigned one, with `taskset -a -p -c`.
 */

/** Where a process instance runs: the taskset binary and the CPU. */
export interface Pinning {
  readonly taskset: string;
  readonly cpu: number;
}

let taskset: string | null | undefined;

/** The taskset binary on PATH, looked up once per process; undefined when there is none. */
export function tasksetPath(): string | undefined {
  if (taskset === undefined) {
    taskset = null;
    for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
      if (dir === "") continue;
      const candidate = join(dir, "taskset");
      try {
        accessSync(candidate, constants.X_OK);
        taskset = candidate;
        break;
      } catch {
        // Not in this directory.
      }
    }
  }
  return taskset ?? undefined;
}

/** The CPU instance `index` is pinned to, or undefined without pinning. */
export function cpuFor(cpus: readonly number[] | undefined, index: number): number | undefined {
  if (cpus === undefined || cpus.length === 0) return undefined;
  return cpus[index % cpus.length];
}

/** Pins every thread of the running process `pid` to `pinning.cpu`. Rejects with taskset's complaint. */
export function repin(pid: number, pinning: Pinning): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(pinning.taskset, ["-a", "-p", "-c", String(pinning.cpu), String(pid)], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`taskset -a -p -c ${pinning.cpu} ${pid} failed: ${stderr.trim() || error.message}`));
    });
  });
}

/**
 * How instance `index` of `config` is pinned: its Pinning, or none, with a warning when cpus was
 * configured but cannot be honoured (a worker; no taskset on this machine).
 */
export function instancePinning(
  config: Pick<ServiceConfig, "name" | "isolation" | "cpus">,
  index: number,
): { readonly pinning: Pinning | undefined; readonly warning: string | undefined } {
  const cpu = cpuFor(config.cpus, index);
  if (cpu === undefined) return { pinning: undefined, warning: undefined };
  if (config.isolation === "worker") {
    return {
      pinning: undefined,
      warning: `service ${config.name}: cpus is ignored with isolation "worker" (a thread cannot be pinned from Node); use isolation "process" to pin`,
    };
  }
  const taskset = tasksetPath();
  if (taskset === undefined) {
    return { pinning: undefined, warning: `service ${config.name}: cpus is ignored, taskset (util-linux) was not found on PATH; instances run unpinned` };
  }
  return { pinning: { taskset, cpu }, warning: undefined };
}
