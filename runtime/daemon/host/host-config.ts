/**
 * The config types the host reads, from the config loader (config/config-types.ts): one import
 * point, so the host's files name no other folder's internals.
 */
export type { AuthConfig, Isolation, MemoryPolicy, ProcConfig, RestartPolicy, ServiceConfig } from "../config/config-types.js";
