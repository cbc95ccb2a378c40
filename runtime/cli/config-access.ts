import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_CONTROL_FILE, DEFAULT_LISTEN_FILE, DEFAULT_RUN_DIR } from "../daemon/config/config-defaults.js";
import { ConfigError } from "../daemon/config/config-error.js";
import { interpolate } from "../daemon/config/config-interpolate.js";
import { parseJson } from "../daemon/config/config-json.js";
import { CliError, ExitCode } from "./cli-errors.js";

/**
 * What the CLI needs from msfd's config (msf.json): where the control socket is, how to
 * authenticate to it, and the broker's addresses.
 */
export interface DaemonAccess {
  /** The config file, as given: named in messages. */
  readonly file: string;
  /** unix:<absolute path> */
  readonly control: string;
  /** Absolute; the control cookie lives here when `auth` is not configured. */
  readonly runDir: string;
  readonly auth: { readonly secretsFile: string; readonly user: string } | undefined;
  readonly listen: readonly string[];
}

/**
 * Reads only `run_dir`, `control`, `listen` and `auth` from the config, with msfd's own JSON
 * parser, `${ENV}` interpolation and defaults (config-defaults.ts), relative paths resolved
 * against the config's folder as msfd resolves them. The rest of the file is not validated:
 * the operator may have just edited it and be about to run `msf reload`, and msfd — still
 * running the previous config — is the one to say what is wrong with it. (It also keeps the CLI
 * from loading the daemon's whole config validator on every start.)
 * A file that cannot be read or is not JSON, or whose access fields are malformed, fails with
 * exit status 1, naming the file and field.
 */
export async function readDaemonAccess(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DaemonAccess> {
  let top: Record<string, unknown>;
  try {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new ConfigError([`${file}: cannot read the config file (${(error as Error).message})`]);
    }
    const interpolation = interpolate(parseJson(text, file).value, env);
    const ours = interpolation.problems.filter(({ path }) => ACCESS_FIELDS.some((name) => path === name || path.startsWith(`${name}.`) || path.startsWith(`${name}[`)));
    if (ours.length > 0) throw new ConfigError(ours.map(({ path, message }) => `${file}: ${path}: ${message}`));
    if (!isObject(interpolation.value)) throw new ConfigError([`${file}: expected a JSON object with proc_name and proc_svcs`]);
    top = interpolation.value;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(ExitCode.FAILED, error.message, { cause: error });
    throw error;
  }
  const problem = (field: string, expected: string, got: unknown): CliError =>
    new CliError(ExitCode.FAILED, `${file}: ${field}: expected ${expected}, got ${JSON.stringify(got) ?? String(got)}`);
  // auth's value is not shown: a secret put there by mistake must not reach a terminal or a log.
  const authProblem = (): CliError => new CliError(ExitCode.FAILED, `${file}: auth: expected an object with secrets_file and user (strings)`);
  const dir = dirname(resolve(file));
  const runDirRaw = top.run_dir ?? DEFAULT_RUN_DIR;
  if (typeof runDirRaw !== "string" || runDirRaw === "") throw problem("run_dir", "a folder path", runDirRaw);
  const runDir = resolve(dir, runDirRaw);
  const control = top.control ?? `unix:${join(runDir, DEFAULT_CONTROL_FILE)}`;
  if (typeof control !== "string" || !control.startsWith("unix:")) throw problem("control", "a unix socket file address (unix:/path)", control);
  const listen = top.listen ?? [`unix:${join(runDir, DEFAULT_LISTEN_FILE)}`];
  if (!Array.isArray(listen) || !listen.every((entry) => typeof entry === "string")) throw problem("listen", "an array of msf addresses", listen);
  let auth: DaemonAccess["auth"];
  if (top.auth !== undefined) {
    const given = top.auth;
    if (!isObject(given) || typeof given.secrets_file !== "string" || typeof given.user !== "string") {
      throw authProblem();
    }
    auth = { secretsFile: resolve(dir, given.secrets_file), user: given.user };
  }
  return { file, control: absoluteUnix(dir, control), runDir, auth, listen: listen.map((entry: string) => absoluteUnix(dir, entry)) };
}

const ACCESS_FIELDS = ["run_dir", "control", "listen", "auth"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Relative unix socket paths in msf.json are relative to the config's folder, as msfd reads them. */
export function absoluteUnix(dir: string, uri: string): string {
  if (!uri.startsWith("unix:")) return uri;
  const rest = uri.slice("unix:".length);
  if (rest === "" || rest.startsWith("/") || rest.startsWith("@")) return uri;
  return `unix:${resolve(dir, rest)}`;
}
