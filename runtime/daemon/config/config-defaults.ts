import type { BalanceStrategy, DropPolicy, Isolation, LogLevel, RestartPolicy } from "./config-types.js";

/**
 * Defaults and limits of msf.json, in one place: what a seed config (proc_name, proc_svcs with
 * svc_name and svc_libs only) runs with. Paths that default relative to the config (run_dir,
 * plugin_roots, listen, control) are computed in config-validate.ts from the config's folder.
 */

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace"];
export const DROP_POLICIES: readonly DropPolicy[] = ["block", "drop_oldest", "drop_newest"];
export const ISOLATIONS: readonly Isolation[] = ["worker", "process"];
export const STRATEGIES: readonly BalanceStrategy[] = ["round_robin", "random", "consistent_hash", "least_inflight", "dynamic_weight"];

export const DEFAULT_LOG_LEVEL: LogLevel = "info";
export const DEFAULT_QUEUE_LIMIT = 1024;
export const DEFAULT_DROP_POLICY: DropPolicy = "block";
export const DEFAULT_INSTANCES = 1;
export const DEFAULT_ISOLATION: Isolation = "worker";
export const DEFAULT_STRATEGY: BalanceStrategy = "round_robin";
export const DEFAULT_SAMPLE_MS = 500;
export const DEFAULT_RESTART: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  backoffInitialMs: 100,
  backoffMaxMs: 5_000,
  stopTimeoutMs: 5_000,
};

/** Socket files under run_dir when listen / control are not given. */
export const DEFAULT_LISTEN_FILE = "msfd.sock";
export const DEFAULT_CONTROL_FILE = "control.sock";
export const DEFAULT_RUN_DIR = "run";

export const LIMITS = {
  instances: { min: 1, max: 256 },
  sampleMs: { min: 50, max: 60_000 },
  /** window_ms, backoff_initial_ms, backoff_max_ms, stop_timeout_ms. */
  durationMs: { min: 0, max: 3_600_000 },
  maxRestarts: { min: 0, max: 1000 },
  queueLimit: { min: 1, max: 1_000_000 },
  /** alert_mb, restart_mb. */
  memoryMb: { min: 1, max: 1_048_576 },
  procIndex: { min: 0, max: 65_535 },
  cpu: { min: 0, max: 1023 },
} as const;

export const BYTES_PER_MB = 1024 * 1024;

/** Names (config-validate.ts) and their patterns, as shown in messages. */
export const PROC_NAME = { what: "a name of [a-z0-9_.-]", pattern: /^[a-z0-9_.-]+$/ } as const;
export const SERVICE_NAME = { what: "a service name ([A-Za-z_][A-Za-z0-9_.-]*)", pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/ } as const;
export const MSF_PROC_NAME = { what: "a name of [A-Za-z0-9_.-]", pattern: /^[A-Za-z0-9_.-]+$/ } as const;
export const METHOD_NAME = { what: "a method name ([A-Za-z_][A-Za-z0-9_.]*)", pattern: /^[A-Za-z_][A-Za-z0-9_.]*$/ } as const;
