import { pino, type Logger } from "pino";
import type { LogLevel } from "./config/index.js";
import type { HostLog } from "./host/host-types.js";

/**
 * msfd's structured log: one JSON object per line (pino), to stderr or to `log.file`, with the
 * level's name, the time, the daemon's name and pid. stdout is kept for the one `msfd ready` line
 * a supervisor (systemd, a test) may wait for.
 *
 * Secrets never reach the log: fields named secret, key, password, mac or response are replaced
 * by "[redacted]" wherever they appear (two levels deep), as a second line of defence behind code
 * that does not log them in the first place.
 */
export function createLogger(options: { level: LogLevel; file: string | undefined; name: string }): Logger {
  const destination = pino.destination({ dest: options.file ?? 2, sync: false, mkdir: true });
  return pino(
    {
      level: options.level,
      base: { name: options.name, pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]), censor: "[redacted]" },
    },
    destination,
  );
}

const REDACTED = ["secret", "key", "password", "mac", "response"];

/** The host's log function, written through `logger`. */
export function hostLog(logger: Logger): HostLog {
  return (level, message, fields) => {
    if (fields === undefined) logger[level](message);
    else logger[level](fields, message);
  };
}
