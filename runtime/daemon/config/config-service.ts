import { DEFAULT_INSTANCES, DEFAULT_ISOLATION, ISOLATIONS, LIMITS, METHOD_NAME, SERVICE_NAME } from "./config-defaults.js";
import { readBalance } from "./config-balance.js";
import { checkModule } from "./config-files.js";
import { childPath } from "./config-path.js";
import { readMemory, readRestart } from "./config-policy.js";
import {
  type Reader,
  checkInteger,
  field,
  readArray,
  readChoice,
  readEnv,
  readInteger,
  readObject,
  readStrings,
  requireString,
} from "./config-reader.js";
import type { ServiceConfig } from "./config-types.js";

/** One entry of proc_svcs: a plugin module and how to run, supervise and balance it. */

export const SERVICE_FIELDS = [
  "svc_name",
  "svc_libs",
  "svc_conf",
  "instances",
  "isolation",
  "restart",
  "memory",
  "balance",
  "idempotent_methods",
  "cpus",
  "env",
] as const;

/**
 * The service at `path`; undefined when it is not an object (reported). `roots`: the plugin roots
 * that are valid (an empty list when none is: then svc_libs is only checked to exist).
 */
export function readService(reader: Reader, value: unknown, path: string, roots: readonly string[]): ServiceConfig | undefined {
  const svc = readObject(reader, value, path, "an object with svc_name and svc_libs", SERVICE_FIELDS);
  if (svc === undefined) return undefined;
  const name = requireString(reader, svc, path, "svc_name", SERVICE_NAME);
  const libs = requireString(reader, svc, path, "svc_libs", { what: "a module path", pattern: /./ });
  const module = libs === "" ? undefined : checkModule(reader, libs, childPath(path, "svc_libs"), roots);
  const options = field(svc, "svc_conf");
  checkFinite(reader, options, childPath(path, "svc_conf"));
  return {
    name,
    module: module?.module ?? "",
    moduleStamp: module?.moduleStamp ?? "",
    options: options === undefined ? {} : options,
    instances: readInteger(reader, svc, path, "instances", LIMITS.instances.min, LIMITS.instances.max, DEFAULT_INSTANCES),
    isolation: readChoice(reader, svc, path, "isolation", ISOLATIONS, DEFAULT_ISOLATION),
    restart: readRestart(reader, svc, path),
    memory: readMemory(reader, svc, path),
    balance: readBalance(reader, svc, path),
    idempotentMethods: readStrings(reader, svc, path, "idempotent_methods", "an array of method names", METHOD_NAME, []),
    cpus: readCpus(reader, svc, path),
    env: readEnv(reader, svc, path, "env"),
  };
}

function readCpus(reader: Reader, svc: Readonly<Record<string, unknown>>, parent: string): readonly number[] | undefined {
  const { min, max } = LIMITS.cpu;
  const path = childPath(parent, "cpus");
  const cpus = readArray(reader, svc, parent, "cpus", `an array of CPU numbers from ${min} to ${max}`, (value, at) =>
    checkInteger(reader, value, at, min, max),
  );
  if (cpus === undefined) return undefined;
  if ((field(svc, "cpus") as unknown[]).length === 0) {
    reader.problems.expected(path, "a non-empty array of CPU numbers (leave cpus out for no pinning)", []);
    return undefined;
  }
  cpus.forEach((cpu, index) => {
    if (cpus.indexOf(cpu) !== index) reader.problems.expected(childPath(path, index), "a CPU not listed before", cpu);
  });
  return cpus;
}

/**
 * svc_conf is any JSON, but a number too large for a double (1e309) would reach the plugin as
 * Infinity, which JSON cannot even write back: refused wherever it appears.
 */
function checkFinite(reader: Reader, value: unknown, path: string): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) reader.problems.expected(path, "a number a double can hold", value);
  } else if (Array.isArray(value)) {
    value.forEach((element, index) => checkFinite(reader, element, childPath(path, index)));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, element] of Object.entries(value)) checkFinite(reader, element, childPath(path, key));
  }
}
