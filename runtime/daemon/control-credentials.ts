import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChannelAuthOptions } from "../client/channel-options.js";
import { readSecretsFile } from "../auth/credentials.js";
import type { ServerAuthOptions } from "../auth/server-auth.js";

/**
 * Who may use msfd's control socket. The socket never accepts a peer without credentials:
 *
 * - With `auth` in the config, the control socket uses its secrets file (like the broker) and the
 *   CLI authenticates as `auth.user`.
 * - Without, msfd writes a fresh random key on every start to `<run_dir>/control.secrets.json`
 *   (mode 0600, a secrets file of one entry, name "msf") and the CLI reads it: whoever can read
 *   that file may operate the daemon, as with Docker's socket or bitcoind's cookie file. A derived
 *   key, not a secret, so neither side pays the key derivation.
 */
export interface ControlAccess {
  readonly runDir: string;
  readonly auth: { readonly secretsFile: string; readonly user: string } | undefined;
}

export const CONTROL_COOKIE_FILE = "control.secrets.json";
export const CONTROL_COOKIE_USER = "msf";

/** Writes a new cookie (atomically, mode 0600) when `auth` is not configured; returns the file. */
export function writeControlCookie(runDir: string): string {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const file = join(runDir, CONTROL_COOKIE_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  const content = JSON.stringify({ [CONTROL_COOKIE_USER]: { key: randomBytes(32).toString("hex") } });
  writeFileSync(temporary, `${content}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return file;
}

/** The control server's auth option. */
export function controlServerAuth(access: ControlAccess): ServerAuthOptions {
  return { secretsFile: access.auth?.secretsFile ?? join(access.runDir, CONTROL_COOKIE_FILE), serverName: "msfd" };
}

/**
 * The CLI's credentials for the control socket, read from the configured secrets file or the
 * cookie. Throws an Error naming the file and what is wrong (never a secret).
 */
export function controlClientAuth(access: ControlAccess): ChannelAuthOptions {
  const file = access.auth?.secretsFile ?? join(access.runDir, CONTROL_COOKIE_FILE);
  return clientCredentials(file, access.auth?.user ?? CONTROL_COOKIE_USER, "msfd");
}

/**
 * A client's credentials: `user`'s entry of the secrets file `file` (a secret or a derived key).
 * `serverName`: refuse a server that names itself otherwise. Throws an Error naming the file.
 */
export function clientCredentials(file: string, user: string, serverName?: string): ChannelAuthOptions {
  const credentials = readSecretsFile(file);
  const entry = credentials[user];
  if (entry === undefined) throw new Error(`secrets file ${file} has no entry for user "${user}"`);
  const named = serverName === undefined ? {} : { serverName };
  if (typeof entry === "string" || entry instanceof Uint8Array) return { name: user, secret: entry, ...named };
  return { name: user, key: entry.key, ...named };
}
