import type { LogLevel, ServedService } from "./host-types.js";

/**
 * The protocol between an instance (instance-main.ts, in a worker thread or a child process) and
 * its parent (instance.ts, spare.ts). Worker: workerData + parentPort (structured clone).
 * Process: the spec as argv[2] (JSON; `ps` then shows which service a process runs) + the IPC
 * channel (JSON).
 *
 * An instance started without a slot is a spare: it loads the plugin (and derives the CHAP keys),
 * reports { t: "spare" } and waits; { t: "assign", slot } turns it into that slot's instance,
 * which then starts exactly as one spawned with the slot would (init, listen, start, ready).
 */

/** What every instance of one service shares. Plain data: it crosses a thread or process boundary. */
export interface ServiceSpec {
  /** The configured service name (svc_name). */
  readonly service: string;
  /** Absolute path of the plugin module. */
  readonly module: string;
  /** svc_conf, handed to init() as `options`. JSON data. */
  readonly options: unknown;
  /** CHAP on the instance's socket, with the daemon's secrets file. */
  readonly secretsFile: string | undefined;
  readonly idempotentMethods: readonly string[];
  /** Period of the { t: "memory" } reports, in ms. */
  readonly sampleMs: number;
}

/** What makes an instance one slot's. */
export interface SlotSpec {
  readonly index: number;
  readonly generation: number;
  /** `${service}#${index}.${generation}` */
  readonly id: string;
  /** The one address the instance serves on: `unix:<runDir>/<service>.<index>.<generation>.sock`. */
  readonly endpoint: string;
}

export interface InstanceSpec extends ServiceSpec {
  /** undefined: start as a spare and wait for { t: "assign" }. */
  readonly slot: SlotSpec | undefined;
}

/** Parent → instance. */
export type ParentMessage = { readonly t: "stop"; readonly graceMs: number } | { readonly t: "assign"; readonly slot: SlotSpec };

/** Instance → parent. */
export type ChildMessage =
  /** A spare loaded its plugin and waits for { t: "assign" }. */
  | { readonly t: "spare" }
  | { readonly t: "ready"; readonly services: readonly ServedService[] }
  | { readonly t: "memory"; readonly rss: number; readonly heapUsed: number; readonly heapTotal: number; readonly external: number }
  | { readonly t: "log"; readonly level: LogLevel; readonly msg: string; readonly fields: Record<string, unknown> | undefined }
  /** The instance could not start (load, init, listen or start failed); it exits with code 1 next. */
  | { readonly t: "error"; readonly message: string }
  /** Stopped as told (stop hook, server closed, deinit); it exits next. */
  | { readonly t: "stopped" };

const CHILD_MESSAGE_TYPES = new Set(["spare", "ready", "memory", "log", "error", "stopped"]);

/**
 * Narrows what arrived on the channel. Plugin code in a child process could call process.send
 * itself; anything that is not one of ours is ignored rather than trusted.
 */
export function isChildMessage(value: unknown): value is ChildMessage {
  return typeof value === "object" && value !== null && CHILD_MESSAGE_TYPES.has((value as { t?: unknown }).t as string);
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (typeof value !== "object" || value === null) return false;
  const t = (value as { t?: unknown }).t;
  return t === "stop" || t === "assign";
}
