/**
 * The normalized configuration of msfd: what the rest of the daemon uses. Produced by
 * parseConfig / loadConfig from msf.json (snake_case, seed-compatible); here every default is
 * filled in, every path is absolute, every address is a normalized msf URI and every size is in
 * bytes. Values are plain data (no classes), so a config can be compared (diffConfig), logged or
 * sent to a worker as it is.
 */

export type Isolation = "worker" | "process";
export type BalanceStrategy = "round_robin" | "random" | "consistent_hash" | "least_inflight" | "dynamic_weight";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";
export type DropPolicy = "block" | "drop_oldest" | "drop_newest";

export interface RestartPolicy {
  /** More than this many restarts within windowMs: the service (or proc) is marked failed. */
  readonly maxRestarts: number;
  readonly windowMs: number;
  readonly backoffInitialMs: number;
  /** Never below backoffInitialMs. */
  readonly backoffMaxMs: number;
  /** How long a graceful stop may take before the instance is killed. */
  readonly stopTimeoutMs: number;
}

export interface MemoryPolicy {
  /** Crossing it raises an alert; undefined: no alert. Never above restartBytes when both are set. */
  readonly alertBytes: number | undefined;
  /** Crossing it replaces the instance (start a new one, drain the old); undefined: never. */
  readonly restartBytes: number | undefined;
  readonly sampleMs: number;
}

export interface HashKey {
  readonly from: "metadata" | "field";
  readonly name: string;
}

export interface BalanceConfig {
  readonly strategy: BalanceStrategy;
  /** Set exactly when strategy is "consistent_hash". */
  readonly hashKey: HashKey | undefined;
}

export interface ServiceConfig {
  /** svc_name: the name clients route by. Unique in a config. */
  readonly name: string;
  /** svc_libs resolved: the real path (symlinks resolved) of the module, inside a plugin root. */
  readonly module: string;
  /**
   * `${mtimeMs}:${size}` of the module file when the config was read, so that a new version of
   * the plugin makes the service "changed" in diffConfig. Only the module file itself is
   * stamped, not the files it imports.
   */
  readonly moduleStamp: string;
  /** svc_conf as written (any JSON, strings interpolated); {} when absent. Passed to the plugin's init(). */
  readonly options: unknown;
  readonly instances: number;
  readonly isolation: Isolation;
  readonly restart: RestartPolicy;
  readonly memory: MemoryPolicy;
  readonly balance: BalanceConfig;
  readonly idempotentMethods: readonly string[];
  /** CPUs to pin the instances to; undefined: no pinning. */
  readonly cpus: readonly number[] | undefined;
  readonly env: Readonly<Record<string, string>>;
}

export interface ProcConfig {
  /** proc_idx: unique in a config; the position in msf_procs when absent. */
  readonly index: number;
  /** proc_name: unique among msf_procs. */
  readonly name: string;
  /** The executable, absolute: proc_path resolved against the config's folder, or looked up in PATH when it names no folder. */
  readonly path: string;
  /** proc_conf resolved against the config's folder (not required to exist). */
  readonly conf: string | undefined;
  readonly args: readonly string[];
  readonly restart: RestartPolicy;
  readonly memory: MemoryPolicy;
  readonly env: Readonly<Record<string, string>>;
}

export interface AuthConfig {
  /** Absolute; the file was readable, private (mode 0600) and named `user` when the config was read. */
  readonly secretsFile: string;
  readonly user: string;
}

export interface DaemonConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  readonly proc: {
    readonly name: string;
    readonly author: string | undefined;
    readonly version: string | undefined;
    readonly desc: string | undefined;
  };
  /** Broker addresses, normalized (unix paths absolute). At least one. */
  readonly listen: readonly string[];
  /** The control socket: always `unix:/absolute/path`. */
  readonly control: string;
  readonly runDir: string;
  /** Real paths of existing folders. */
  readonly pluginRoots: readonly string[];
  readonly auth: AuthConfig | undefined;
  readonly log: { readonly level: LogLevel; readonly file: string | undefined };
  readonly events: { readonly queueLimit: number; readonly dropPolicy: DropPolicy };
  readonly services: readonly ServiceConfig[];
  readonly procs: readonly ProcConfig[];
}
