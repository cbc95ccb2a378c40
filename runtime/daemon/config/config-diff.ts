import type { DaemonConfig, ProcConfig, ServiceConfig } from "./config-types.js";

/**
 * What a reload has to do: services and procs matched by name between the running config and
 * the new one. A service is changed when any field differs, moduleStamp included (a new version
 * of the plugin file is a change even when msf.json is the same).
 */
export interface ConfigDiff {
  readonly added: readonly ServiceConfig[];
  readonly removed: readonly ServiceConfig[];
  readonly changed: readonly ServiceChange[];
  readonly unchanged: readonly ServiceConfig[];
  readonly procsAdded: readonly ProcConfig[];
  readonly procsRemoved: readonly ProcConfig[];
  readonly procsChanged: readonly ProcChange[];
  readonly procsUnchanged: readonly ProcConfig[];
  /**
   * Top-level fields (as named in msf.json) that differ and take effect only when msfd restarts:
   * "listen", "control", "run_dir", "auth". A reload applies the rest and should report these.
   */
  readonly daemonChanged: readonly string[];
  /**
   * Other top-level fields that differ, applicable without a restart: "proc_name", "proc_author",
   * "proc_version", "proc_desc", "plugin_roots", "log", "events".
   */
  readonly settingsChanged: readonly string[];
}

export interface ServiceChange {
  readonly old: ServiceConfig;
  readonly next: ServiceConfig;
  /** The ServiceConfig fields that differ, in declaration order: ["instances", "moduleStamp"]. */
  readonly fields: readonly (keyof ServiceConfig)[];
}

export interface ProcChange {
  readonly old: ProcConfig;
  readonly next: ProcConfig;
  readonly fields: readonly (keyof ProcConfig)[];
}

export function diffConfig(old: DaemonConfig, next: DaemonConfig): ConfigDiff {
  const services = diffByName(old.services, next.services);
  const procs = diffByName(old.procs, next.procs);
  const daemonFields: readonly [string, (config: DaemonConfig) => unknown][] = [
    ["listen", (config) => config.listen],
    ["control", (config) => config.control],
    ["run_dir", (config) => config.runDir],
    ["auth", (config) => config.auth],
  ];
  const settingsFields: readonly [string, (config: DaemonConfig) => unknown][] = [
    ["proc_name", (config) => config.proc.name],
    ["proc_author", (config) => config.proc.author],
    ["proc_version", (config) => config.proc.version],
    ["proc_desc", (config) => config.proc.desc],
    ["plugin_roots", (config) => config.pluginRoots],
    ["log", (config) => config.log],
    ["events", (config) => config.events],
  ];
  const differing = (fields: typeof daemonFields) => fields.filter(([, get]) => !deepEqual(get(old), get(next))).map(([name]) => name);
  return {
    added: services.added,
    removed: services.removed,
    changed: services.changed,
    unchanged: services.unchanged,
    procsAdded: procs.added,
    procsRemoved: procs.removed,
    procsChanged: procs.changed,
    procsUnchanged: procs.unchanged,
    daemonChanged: differing(daemonFields),
    settingsChanged: differing(settingsFields),
  };
}

interface Named {
  readonly name: string;
}

interface NamedDiff<T extends Named> {
  added: T[];
  removed: T[];
  changed: { old: T; next: T; fields: (keyof T)[] }[];
  unchanged: T[];
}

/** Entries matched by name; the order of `next` for added/changed/unchanged, of `old` for removed. */
function diffByName<T extends Named>(old: readonly T[], next: readonly T[]): NamedDiff<T> {
  const before = new Map(old.map((entry) => [entry.name, entry]));
  const after = new Set(next.map((entry) => entry.name));
  const result: NamedDiff<T> = { added: [], removed: old.filter((entry) => !after.has(entry.name)), changed: [], unchanged: [] };
  for (const entry of next) {
    const previous = before.get(entry.name);
    if (previous === undefined) {
      result.added.push(entry);
      continue;
    }
    const fields = (Object.keys(entry) as (keyof T)[]).filter((key) => !deepEqual(previous[key], entry[key]));
    if (fields.length === 0) result.unchanged.push(entry);
    else result.changed.push({ old: previous, next: entry, fields });
  }
  return result;
}

/**
 * Structural equality of JSON-like data (the normalized config and svc_conf): arrays in order,
 * objects by their own enumerable keys in any order.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((value, index) => deepEqual(value, other[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && deepEqual(left[key], right[key]));
}
