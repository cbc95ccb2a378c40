import { BYTES_PER_MB, DEFAULT_RESTART, DEFAULT_SAMPLE_MS, LIMITS } from "./config-defaults.js";
import { childPath } from "./config-path.js";
import { type Fields, type Reader, field, readInteger, readObject, readOptionalInteger } from "./config-reader.js";
import type { MemoryPolicy, RestartPolicy } from "./config-types.js";

/** `restart` and `memory` objects, shared by proc_svcs and msf_procs entries. */

const RESTART_FIELDS = ["max_restarts", "window_ms", "backoff_initial_ms", "backoff_max_ms", "stop_timeout_ms"] as const;
const MEMORY_FIELDS = ["alert_mb", "restart_mb", "sample_ms"] as const;

/** The restart policy in `fields.restart`; the defaults for what is absent. */
export function readRestart(reader: Reader, fields: Fields, parent: string): RestartPolicy {
  const value = field(fields, "restart");
  if (value === undefined) return DEFAULT_RESTART;
  const path = childPath(parent, "restart");
  const restart = readObject(reader, value, path, `an object with ${RESTART_FIELDS.join(", ")}`, RESTART_FIELDS);
  if (restart === undefined) return DEFAULT_RESTART;
  const { min, max } = LIMITS.durationMs;
  const policy: RestartPolicy = {
    maxRestarts: readInteger(reader, restart, path, "max_restarts", LIMITS.maxRestarts.min, LIMITS.maxRestarts.max, DEFAULT_RESTART.maxRestarts),
    windowMs: readInteger(reader, restart, path, "window_ms", min, max, DEFAULT_RESTART.windowMs),
    backoffInitialMs: readInteger(reader, restart, path, "backoff_initial_ms", min, max, DEFAULT_RESTART.backoffInitialMs),
    backoffMaxMs: readInteger(reader, restart, path, "backoff_max_ms", min, max, DEFAULT_RESTART.backoffMaxMs),
    stopTimeoutMs: readInteger(reader, restart, path, "stop_timeout_ms", min, max, DEFAULT_RESTART.stopTimeoutMs),
  };
  if (policy.backoffInitialMs > policy.backoffMaxMs) {
    const given = field(restart, "backoff_initial_ms") !== undefined;
    const at = childPath(path, given ? "backoff_initial_ms" : "backoff_max_ms");
    reader.problems.expected(
      at,
      given
        ? `at most backoff_max_ms (${policy.backoffMaxMs}${field(restart, "backoff_max_ms") === undefined ? ", the default" : ""})`
        : `at least backoff_initial_ms (${policy.backoffInitialMs})`,
      field(restart, given ? "backoff_initial_ms" : "backoff_max_ms"),
    );
  }
  return policy;
}

const NO_THRESHOLDS: MemoryPolicy = { alertBytes: undefined, restartBytes: undefined, sampleMs: DEFAULT_SAMPLE_MS };

/** The memory policy in `fields.memory`: thresholds in bytes, none by default. */
export function readMemory(reader: Reader, fields: Fields, parent: string): MemoryPolicy {
  const value = field(fields, "memory");
  if (value === undefined) return NO_THRESHOLDS;
  const path = childPath(parent, "memory");
  const memory = readObject(reader, value, path, `an object with ${MEMORY_FIELDS.join(", ")}`, MEMORY_FIELDS);
  if (memory === undefined) return NO_THRESHOLDS;
  const { min, max } = LIMITS.memoryMb;
  const alertMb = readOptionalInteger(reader, memory, path, "alert_mb", min, max);
  const restartMb = readOptionalInteger(reader, memory, path, "restart_mb", min, max);
  const sampleMs = readInteger(reader, memory, path, "sample_ms", LIMITS.sampleMs.min, LIMITS.sampleMs.max, DEFAULT_SAMPLE_MS);
  if (alertMb !== undefined && restartMb !== undefined && alertMb > restartMb) {
    reader.problems.expected(childPath(path, "alert_mb"), `at most restart_mb (${restartMb})`, field(memory, "alert_mb"), "the alert comes before the restart");
  }
  return {
    alertBytes: alertMb === undefined ? undefined : alertMb * BYTES_PER_MB,
    restartBytes: restartMb === undefined ? undefined : restartMb * BYTES_PER_MB,
    sampleMs,
  };
}
