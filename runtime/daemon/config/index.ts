/**
 * msfd's configuration: msf.json (the seed's format, extended) read, interpolated, validated and
 * normalized; and the diff between two configs that drives a reload.
 */
export { ConfigError } from "./config-error.js";
export { loadConfig, parseConfig } from "./config-load.js";
export { diffConfig, type ConfigDiff, type ProcChange, type ServiceChange } from "./config-diff.js";
export type {
  AuthConfig,
  BalanceConfig,
  BalanceStrategy,
  DaemonConfig,
  DropPolicy,
  HashKey,
  Isolation,
  LogLevel,
  MemoryPolicy,
  ProcConfig,
  RestartPolicy,
  ServiceConfig,
} from "./config-types.js";
