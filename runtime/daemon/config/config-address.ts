import { resolve } from "node:path";
import { RpcError } from "../../rpc-error.js";
import { resolveAddress } from "../../transport/builtin.js";
import type { Reader } from "./config-reader.js";

/**
 * listen and control addresses: msf URIs checked by the transport registry (so any scheme a
 * transport registers is accepted, and nothing else), normalized, with relative unix paths made
 * absolute against the config's folder (the unix transport alone would take them from the
 * working directory, which for a daemon is an accident).
 */

/** A broker address, normalized; undefined (reported) when no transport accepts it. */
export function checkAddress(reader: Reader, raw: string, path: string, what = "an msf address"): string | undefined {
  const uri = absoluteUnix(reader.dir, raw);
  try {
    return resolveAddress(uri).endpoint.uri;
  } catch (error) {
    reader.problems.expected(path, what, raw, error instanceof RpcError ? error.rawMessage : String(error));
    return undefined;
  }
}

/**
 * The control address: a unix socket file. Not tcp (the control API stays on the machine), not an
 * abstract name (it has no file mode, and msfd makes the socket 0600).
 */
export function checkControl(reader: Reader, raw: string, path: string, what = "a unix socket file address (unix:/path)"): string | undefined {
  const uri = absoluteUnix(reader.dir, raw);
  if (!uri.startsWith("unix:") || uri.startsWith("unix:@")) {
    const why = uri.startsWith("unix:@")
      ? "an abstract socket has no file mode to keep other users out"
      : "the control socket is local: a unix socket file";
    reader.problems.expected(path, what, raw, why);
    return undefined;
  }
  return checkAddress(reader, raw, path, what);
}

function absoluteUnix(dir: string, uri: string): string {
  if (!uri.startsWith("unix:")) return uri;
  const rest = uri.slice("unix:".length);
  if (rest === "" || rest.startsWith("/") || rest.startsWith("@")) return uri;
  return `unix:${resolve(dir, rest)}`;
}
