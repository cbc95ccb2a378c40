import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { readSecretsFile } from "../auth/credentials.js";
import type { ChannelAuthOptions } from "../client/channel-options.js";
import { controlClientAuth } from "../daemon/control-credentials.js";
import { CliError, ExitCode, UsageError } from "./cli-errors.js";
import { readDaemonAccess, type DaemonAccess } from "./config-access.js";

/**
 * Where msfd's control socket is and who to be there, from (first wins):
 *
 * - control address: `--control`, then `$MSF_CONTROL`, then the config's `control` (`-c FILE`, or
 *   ./msf.json when it exists);
 * - credentials: `--secrets-file` / `--user`, then the config's `auth`; with neither, the cookie
 *   msfd writes to `<run_dir>/control.secrets.json`. Without a config, run_dir is taken to be the
 *   control socket's folder (msfd's default layout puts both in run_dir).
 *
 * `--secrets-file` without `--user` (and no `auth.user` in the config) takes the file's only
 * name; a file of several names needs `--user`.
 */
export interface ConnectionFlags {
  readonly config: string | undefined;
  readonly control: string | undefined;
  readonly secretsFile: string | undefined;
  readonly user: string | undefined;
}

export interface ControlTarget {
  /** unix:<absolute path> */
  readonly control: string;
  readonly socketPath: string;
  /** Where the control address came from, for messages: "--control", "$MSF_CONTROL", "msf.json". */
  readonly source: string;
  /** Where the cookie is looked for when no credentials are configured. */
  readonly runDir: string;
  /** Configured credentials (flags or the config's auth); undefined: the control cookie. */
  readonly credentials: { readonly secretsFile: string; readonly user: string } | undefined;
  /** The broker addresses named by the config, if one was read (msfd's Status is preferred). */
  readonly listen: readonly string[];
}

export const DEFAULT_CONFIG_FILE = "msf.json";

export async function resolveControlTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<ControlTarget> {
  const configFile = flags.config ?? (existsSync(resolve(cwd, DEFAULT_CONFIG_FILE)) ? DEFAULT_CONFIG_FILE : undefined);
  const access: DaemonAccess | undefined = configFile === undefined ? undefined : await readDaemonAccess(resolve(cwd, configFile), env);
  const [raw, source] =
    flags.control !== undefined
      ? [flags.control, "--control"]
      : env.MSF_CONTROL !== undefined && env.MSF_CONTROL !== ""
        ? [env.MSF_CONTROL, "$MSF_CONTROL"]
        : access !== undefined
          ? [access.control, configFile!]
          : [undefined, ""];
  if (raw === undefined) {
    throw new UsageError(`no control socket given: pass -c <msf.json> (there is no ./${DEFAULT_CONFIG_FILE}), --control unix:<path>, or set MSF_CONTROL`);
  }
  const socketPath = controlSocketPath(raw, source, cwd);
  const secretsFile = flags.secretsFile !== undefined ? resolve(cwd, flags.secretsFile) : access?.auth?.secretsFile;
  let credentials: ControlTarget["credentials"];
  if (secretsFile !== undefined) {
    credentials = { secretsFile, user: flags.user ?? access?.auth?.user ?? onlyName(secretsFile) };
  } else if (flags.user !== undefined) {
    throw new UsageError("--user needs a secrets file: pass --secrets-file <file> or a config with auth.secrets_file");
  }
  return {
    control: `unix:${socketPath}`,
    socketPath,
    source,
    runDir: access?.runDir ?? dirname(socketPath),
    credentials,
    listen: access?.listen ?? [],
  };
}

/** `unix:<path>` (relative to `cwd`) → the absolute socket path; anything else is a usage error. */
export function controlSocketPath(address: string, source: string, cwd: string): string {
  if (!address.startsWith("unix:") || address.startsWith("unix:@")) {
    throw new UsageError(`control address ${JSON.stringify(address)} (${source}): expected a unix socket file, unix:<path>`);
  }
  let path = address.slice("unix:".length);
  if (path.startsWith("///")) path = path.slice(2);
  if (path === "" || path.includes("\0")) {
    throw new UsageError(`control address ${JSON.stringify(address)} (${source}): expected a unix socket file, unix:<path>`);
  }
  return resolve(cwd, path);
}

/**
 * Fails with exit status 3 when nothing listens at the control path: the usual case of a daemon
 * that is not running, told plainly instead of as a connection error (a stale socket file left
 * by a killed daemon is caught by the connection attempt: ECONNREFUSED, UNAVAILABLE).
 */
export function checkControlSocket(target: ControlTarget): void {
  let isSocket: boolean;
  try {
    isSocket = statSync(target.socketPath).isSocket();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new CliError(ExitCode.UNREACHABLE, `cannot reach msfd: no control socket at ${target.socketPath} (${code}; from ${target.source}). Is msfd running?`);
  }
  if (!isSocket) throw new CliError(ExitCode.UNREACHABLE, `cannot reach msfd: ${target.socketPath} (from ${target.source}) is not a socket`);
}

/** The channel auth for the control socket; a secrets file that cannot be used is exit status 4. */
export function controlAuth(target: ControlTarget): ChannelAuthOptions {
  try {
    return controlClientAuth({ runDir: target.runDir, auth: target.credentials });
  } catch (error) {
    throw new CliError(ExitCode.AUTH, (error as Error).message, { cause: error });
  }
}

/**
 * The channel auth for msfd's broker: the configured credentials (the broker checks the same
 * secrets file), none when only the control cookie is known (a broker without auth). The server
 * is not required to call itself "msfd": `--target` may name another server of the same secrets.
 */
export function brokerAuth(target: ControlTarget): ChannelAuthOptions | undefined {
  if (target.credentials === undefined) return undefined;
  const { serverName: _serverName, ...auth } = controlAuth(target);
  return auth;
}

function onlyName(secretsFile: string): string {
  let names: string[];
  try {
    names = Object.keys(readSecretsFile(secretsFile));
  } catch (error) {
    throw new CliError(ExitCode.AUTH, (error as Error).message, { cause: error });
  }
  if (names.length !== 1) {
    throw new UsageError(`secrets file ${secretsFile} defines ${names.length} names: choose one with --user`);
  }
  return names[0]!;
}
