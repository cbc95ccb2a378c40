import { LIMITS, MSF_PROC_NAME } from "./config-defaults.js";
import { checkExecutable, resolvePath } from "./config-files.js";
import { childPath } from "./config-path.js";
import { readMemory, readRestart } from "./config-policy.js";
import { type Reader, readEnv, readInteger, readObject, readString, readStrings, requireString } from "./config-reader.js";
import type { ProcConfig } from "./config-types.js";

/** One entry of msf_procs: a plain executable msfd supervises (msf_daemon's job in the seed). */

export const PROC_FIELDS = ["proc_idx", "proc_name", "proc_path", "proc_conf", "args", "restart", "memory", "env"] as const;

/** The proc at `path` (entry `position` of msf_procs); undefined when it is not an object (reported). */
export function readProc(reader: Reader, value: unknown, path: string, position: number): ProcConfig | undefined {
  const proc = readObject(reader, value, path, "an object with proc_name and proc_path", PROC_FIELDS);
  if (proc === undefined) return undefined;
  const index = readInteger(reader, proc, path, "proc_idx", LIMITS.procIndex.min, LIMITS.procIndex.max, position);
  const name = requireString(reader, proc, path, "proc_name", MSF_PROC_NAME);
  const executable = requireString(reader, proc, path, "proc_path", { what: "an executable path", pattern: /^[^\0]+$/ });
  const conf = readString(reader, proc, path, "proc_conf", { what: "a file path", pattern: /^[^\0]+$/ });
  return {
    index,
    name,
    path: executable === "" ? "" : (checkExecutable(reader, executable, childPath(path, "proc_path")) ?? ""),
    conf: conf === undefined ? undefined : resolvePath(reader, conf),
    args: readStrings(reader, proc, path, "args", "an array of strings", { what: "a string without NUL", pattern: /^[^\0]*$/ }, []),
    restart: readRestart(reader, proc, path),
    memory: readMemory(reader, proc, path),
    env: readEnv(reader, proc, path, "env"),
  };
}
