/**
 * What the host reports to the rest of msfd (.tmp/msfd-brief.md, "Host"): instances, the methods
 * they serve, alerts, and the log function it writes through. The agent declares the same shapes
 * structurally (agent/agent-types.ts), so values pass between them as they are.
 */

/** One method an instance serves. `id` = methodId(fullName), the id in the frame header. */
export interface ServedMethod {
  readonly name: string;
  readonly localName: string;
  readonly fullName: string;
  readonly id: number;
  /** From the .proto (idempotency_level) or the config's idempotent_methods: safe to send again after it may have run. */
  readonly idempotent: boolean;
}

/** One proto service an instance serves. */
export interface ServedService {
  readonly name: string;
  readonly fullName: string;
  readonly methods: readonly ServedMethod[];
}

/**
 * starting: spawned, not ready yet; ready: serving; draining: told to stop, finishing the calls
 * in flight; stopped: exited when told to; crashed: exited on its own; failed: never became
 * ready (load error, start timeout), or its slot gave up after a crash loop.
 */
export type InstanceState = "starting" | "ready" | "draining" | "stopped" | "crashed" | "failed";

/** An instance of a configured service, as the host reports it. A snapshot: it does not change. */
export interface InstanceInfo {
  /** The configured service's name (svc_name): what clients route by. */
  readonly service: string;
  /** The slot, 0 .. instances-1. */
  readonly index: number;
  /** Counts the instances started for this slot (1, 2, ...): each restart, replacement or upgrade takes the next. */
  readonly generation: number;
  /** `${service}#${index}.${generation}` */
  readonly id: string;
  /** The process the instance runs in: its own child process, or msfd itself for a worker. 0 before it spawned. */
  readonly pid: number;
  /** The worker's thread id; undefined for a process. */
  readonly threadId: number | undefined;
  /** Where the instance serves: `unix:<runDir>/<service>.<index>.<generation>.sock`. */
  readonly endpoint: string;
  readonly state: InstanceState;
  /** Date.now() when it was spawned. */
  readonly startedAt: number;
  /** Restarts and replacements of this slot so far (the slot's, not only this generation's). */
  readonly restarts: number;
  /** A process's resident set (from /proc/<pid>/statm); 0 for a worker, since a thread has no RSS of its own. */
  readonly rssBytes: number;
  /** The instance's JS heap in use plus the memory its objects hold outside it (heapUsed + external), as it last reported. */
  readonly heapBytes: number;
  /** The figure the memory thresholds apply to: rssBytes for a process, heapBytes for a worker. */
  readonly memoryBytes: number;
}

/**
 * Something an operator should know about at once (log line, event on the bus, `msf status`).
 * memory: crossed alert_mb or restart_mb; crash_loop: too many restarts in the window, gave up;
 * load_failed: the plugin did not load or start; restart: an instance or process exited on its
 * own and is being restarted (`value` = the delay in ms before it is).
 */
export interface Alert {
  readonly at: number;
  readonly kind: "memory" | "crash_loop" | "load_failed" | "restart";
  /** Instance id or proc name. */
  readonly source: string;
  readonly message: string;
  readonly value?: number;
  readonly threshold?: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/** How the host writes logs (msfd adapts its pino logger to it). Must not throw. */
export type HostLog = (level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>) => void;

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];
