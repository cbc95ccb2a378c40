import { join } from "node:path";
import { checkAddress, checkControl } from "./config-address.js";
import {
  DEFAULT_CONTROL_FILE,
  DEFAULT_DROP_POLICY,
  DEFAULT_LISTEN_FILE,
  DEFAULT_LOG_LEVEL,
  DEFAULT_QUEUE_LIMIT,
  DEFAULT_RUN_DIR,
  DROP_POLICIES,
  LIMITS,
  LOG_LEVELS,
  PROC_NAME,
} from "./config-defaults.js";
import { checkPluginRoot, checkSecrets, resolvePath } from "./config-files.js";
import { childPath } from "./config-path.js";
import { readProc } from "./config-proc.js";
import { type Fields, type Reader, checkString, field, readArray, readChoice, readInteger, readObject, readString, requireString } from "./config-reader.js";
import { readService } from "./config-service.js";
import type { AuthConfig, DaemonConfig, ProcConfig, ServiceConfig } from "./config-types.js";

/**
 * msf.json (parsed, interpolated) → DaemonConfig. Every problem goes to `reader.problems`; the
 * result is meaningful only when none was reported (the caller throws ConfigError otherwise).
 * The seed's fields (proc_name, proc_author, proc_version, proc_desc, proc_svcs[{svc_name,
 * svc_libs}], msf_procs[{proc_idx, proc_name, proc_path, proc_conf}]) are all a config needs.
 */

export const TOP_FIELDS = [
  "proc_name",
  "proc_author",
  "proc_version",
  "proc_desc",
  "listen",
  "control",
  "run_dir",
  "plugin_roots",
  "auth",
  "log",
  "events",
  "proc_svcs",
  "msf_procs",
] as const;

const TEXT = { what: "a string" } as const;
const FILE_PATH = { what: "a file path", pattern: /^[^\0]+$/ } as const;

/** `file`: the absolute path of the config. Returns undefined when the top level is not an object. */
export function validateConfig(reader: Reader, value: unknown, file: string): DaemonConfig | undefined {
  const top = readObject(reader, value, "", "a JSON object with proc_name and proc_svcs", TOP_FIELDS);
  if (top === undefined) return undefined;
  const proc = {
    name: requireString(reader, top, "", "proc_name", PROC_NAME),
    author: readString(reader, top, "", "proc_author", TEXT),
    version: readString(reader, top, "", "proc_version", TEXT),
    desc: readString(reader, top, "", "proc_desc", TEXT),
  };
  const runDirRaw = readString(reader, top, "", "run_dir", { what: "a folder path", pattern: /^[^\0]+$/ });
  const runDir = resolvePath(reader, runDirRaw ?? DEFAULT_RUN_DIR);
  const pluginRoots = readPluginRoots(reader, top);
  const listen = readListen(reader, top, runDir);
  const control = readControl(reader, top, runDir, listen);
  const auth = readAuth(reader, top);
  const log = readLog(reader, top);
  const events = readEvents(reader, top);
  const services = readArray(reader, top, "", "proc_svcs", "an array of services", (entry, path, index) => {
    const service = readService(reader, entry, path, pluginRoots);
    return service === undefined ? undefined : { index, value: service };
  });
  const procs = readArray(reader, top, "", "msf_procs", "an array of processes", (entry, path, index) => {
    const proc = readProc(reader, entry, path, index);
    return proc === undefined ? undefined : { index, value: proc };
  });
  checkServices(reader, services ?? [], runDir);
  checkProcs(reader, procs ?? []);
  return {
    file,
    proc,
    listen,
    control,
    runDir,
    pluginRoots,
    auth,
    log,
    events,
    services: (services ?? []).map((entry) => entry.value),
    procs: (procs ?? []).map((entry) => entry.value),
  };
}

function readPluginRoots(reader: Reader, top: Fields): readonly string[] {
  const roots = readArray(reader, top, "", "plugin_roots", "an array of folder paths", (value, path) => {
    const raw = checkString(reader, value, path, FILE_PATH);
    return raw === undefined ? undefined : checkPluginRoot(reader, raw, path);
  });
  if (roots === undefined) {
    const own = checkPluginRoot(reader, reader.dir, "plugin_roots");
    return own === undefined ? [] : [own];
  }
  if (roots.length === 0 && (field(top, "plugin_roots") as unknown[]).length === 0) {
    reader.problems.expected("plugin_roots", "a non-empty array of folder paths (leave it out for the config's folder)", []);
  }
  return roots;
}

function readListen(reader: Reader, top: Fields, runDir: string): readonly string[] {
  const raw = field(top, "listen");
  if (raw === undefined) {
    const fallback = checkAddress(reader, `unix:${join(runDir, DEFAULT_LISTEN_FILE)}`, "listen", "an msf address (the default, unix:<run_dir>/msfd.sock: set listen or a shorter run_dir)");
    return fallback === undefined ? [] : [fallback];
  }
  const first = new Map<string, number>();
  const listen = readArray(reader, top, "", "listen", "an array of msf addresses", (value, path, index) => {
    const text = checkString(reader, value, path, { what: "an msf address" });
    const uri = text === undefined ? undefined : checkAddress(reader, text, path);
    if (uri === undefined) return undefined;
    const before = first.get(uri);
    if (before !== undefined) {
      reader.problems.expected(path, "an address not listed before", text, `listen[${before}] is the same address`);
      return undefined;
    }
    first.set(uri, index);
    return uri;
  });
  if (Array.isArray(raw) && raw.length === 0) {
    reader.problems.expected("listen", "a non-empty array of msf addresses (leave it out for unix:<run_dir>/msfd.sock)", []);
  }
  return listen ?? [];
}

function readControl(reader: Reader, top: Fields, runDir: string, listen: readonly string[]): string {
  const raw = readString(reader, top, "", "control", TEXT);
  const control =
    raw === undefined
      ? checkControl(
          reader,
          `unix:${join(runDir, DEFAULT_CONTROL_FILE)}`,
          "control",
          "a unix socket file address (the default, unix:<run_dir>/control.sock: set control or a shorter run_dir)",
        )
      : checkControl(reader, raw, "control");
  if (control !== undefined && listen.includes(control)) {
    reader.problems.expected("control", "an address that is not also in listen", raw ?? control);
  }
  return control ?? "";
}

function readAuth(reader: Reader, top: Fields): AuthConfig | undefined {
  const value = field(top, "auth");
  if (value === undefined) return undefined;
  const auth = readObject(reader, value, "auth", "an object with secrets_file and user", ["secrets_file", "user"]);
  if (auth === undefined) return undefined;
  const secrets = requireString(reader, auth, "auth", "secrets_file", FILE_PATH);
  const user = requireString(reader, auth, "auth", "user", { what: "a user name", pattern: /./ });
  if (secrets === "") return undefined;
  const secretsFile = checkSecrets(reader, secrets, "auth.secrets_file", user, "auth.user");
  return secretsFile === undefined ? undefined : { secretsFile, user };
}

function readLog(reader: Reader, top: Fields): DaemonConfig["log"] {
  const value = field(top, "log");
  const log = value === undefined ? undefined : readObject(reader, value, "log", "an object with level and file", ["level", "file"]);
  if (log === undefined) return { level: DEFAULT_LOG_LEVEL, file: undefined };
  const file = readString(reader, log, "log", "file", FILE_PATH);
  return {
    level: readChoice(reader, log, "log", "level", LOG_LEVELS, DEFAULT_LOG_LEVEL),
    file: file === undefined ? undefined : resolvePath(reader, file),
  };
}

function readEvents(reader: Reader, top: Fields): DaemonConfig["events"] {
  const value = field(top, "events");
  const events = value === undefined ? undefined : readObject(reader, value, "events", "an object with queue_limit and drop_policy", ["queue_limit", "drop_policy"]);
  if (events === undefined) return { queueLimit: DEFAULT_QUEUE_LIMIT, dropPolicy: DEFAULT_DROP_POLICY };
  return {
    queueLimit: readInteger(reader, events, "events", "queue_limit", LIMITS.queueLimit.min, LIMITS.queueLimit.max, DEFAULT_QUEUE_LIMIT),
    dropPolicy: readChoice(reader, events, "events", "drop_policy", DROP_POLICIES, DEFAULT_DROP_POLICY),
  };
}

/** sun_path holds 107 bytes and a NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** The widest `.<index>.<generation>.sock` an instance socket is expected to need (256 instances, a million reloads). */
const INSTANCE_SUFFIX = ".255.999999.sock";

/** An entry of proc_svcs or msf_procs that was an object, with its position in the array. */
interface Entry<T> {
  readonly index: number;
  readonly value: T;
}

function checkServices(reader: Reader, services: readonly Entry<ServiceConfig>[], runDir: string): void {
  unique(reader, services, "proc_svcs", "svc_name", (service) => service.name, "a unique service name");
  for (const { index, value: service } of services) {
    if (service.name === "") continue;
    const socket = join(runDir, service.name + INSTANCE_SUFFIX);
    const bytes = Buffer.byteLength(socket);
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      reader.problems.expected(
        `proc_svcs[${index}].svc_name`,
        "a name whose instance sockets fit in a unix socket path",
        service.name,
        `${socket} takes ${bytes} bytes, more than ${MAX_SOCKET_PATH_BYTES}: shorten the name or run_dir`,
      );
    }
  }
}

function checkProcs(reader: Reader, procs: readonly Entry<ProcConfig>[]): void {
  unique(reader, procs, "msf_procs", "proc_name", (proc) => proc.name, "a unique process name");
  unique(reader, procs, "msf_procs", "proc_idx", (proc) => proc.index, "a unique index (it defaults to the entry's position)");
}

/** Reports every entry whose key repeats an earlier entry's (entries whose key was invalid, "", are skipped). */
function unique<T>(reader: Reader, entries: readonly Entry<T>[], list: string, key: string, of: (entry: T) => string | number, what: string): void {
  const first = new Map<string | number, number>();
  for (const { index, value: entry } of entries) {
    const value = of(entry);
    if (value === "") continue;
    const before = first.get(value);
    if (before === undefined) {
      first.set(value, index);
      continue;
    }
    reader.problems.expected(childPath(childPath(list, index), key), what, value, `${list}[${before}] has it too`);
  }
}
