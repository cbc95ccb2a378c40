import { UsageError } from "./cli-errors.js";

/** Checks of option values yargs cannot express; a bad value is a usage error naming the option. */

export const MAX_CONCURRENCY = 4096;
export const MAX_BENCH_SECONDS = 86_400;

/** `k=v` pairs; a key given twice is a mistake, not an override. */
export function parseMetadata(pairs: readonly string[] | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new UsageError(`--metadata ${JSON.stringify(pair)}: expected key=value`);
    const key = pair.slice(0, equals);
    if (Object.hasOwn(metadata, key)) throw new UsageError(`--metadata: key ${JSON.stringify(key)} given twice`);
    metadata[key] = pair.slice(equals + 1);
  }
  return metadata;
}

/** `--count 3`, `--timeout 500`: an integer from 1 to max; undefined when not given. */
export function positiveInteger(value: number | undefined, option: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`${option} given more than once`);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`${option}: expected an integer from 1 to ${max}, got ${Number.isNaN(value) ? "something else" : String(value)}`);
  }
  return value;
}

/** `-d 0.5`: seconds (fractions allowed) → ms. */
export function durationMs(seconds: number): number {
  if (Array.isArray(seconds)) throw new UsageError("--duration given more than once");
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_BENCH_SECONDS) {
    throw new UsageError(`--duration: expected seconds, more than 0 and at most ${MAX_BENCH_SECONDS}, got ${Number.isNaN(seconds) ? "something else" : String(seconds)}`);
  }
  return Math.round(seconds * 1000);
}
