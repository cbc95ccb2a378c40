import { chmod, lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { malformedAddress, registerTransport } from "./registry.js";
import { closeStreamServer, connectStream, describeSocketError, listenStream } from "./stream-socket.js";
import type { Connection, Endpoint, Listener, ListenOptions, Transport } from "./transport.js";

/**
 * Unix domain stream sockets: `unix:/abs/path`, `unix:relative/path` (from the working
 * directory), `unix:///abs/path` (gRPC's spelling) and, on Linux, `unix:@name` in the abstract
 * namespace (no file, gone when the listener closes, no file mode).
 */
export interface UnixEndpoint extends Endpoint {
  /** What node:net is given: the file path, or "\0name" for an abstract name. */
  readonly path: string;
  readonly abstract: boolean;
}

/** sun_path holds 108 bytes, the terminating NUL included. */
const MAX_PATH_BYTES = 107;

export const unixTransport: Transport = {
  scheme: "unix",
  forms: ["unix:/abs/path", "unix:relative/path", "unix:@abstract-name"],

  parse(uri: string): UnixEndpoint {
    let rest = uri.slice("unix:".length);
    if (rest.startsWith("//")) {
      if (!rest.startsWith("///")) throw malformedAddress(uri, unixTransport, "a host part is not allowed");
      rest = rest.slice(2);
    }
    if (rest.length === 0) throw malformedAddress(uri, unixTransport, "the path is empty");
    if (rest.includes("\0")) throw malformedAddress(uri, unixTransport, "the path contains a NUL byte");
    const abstract = rest.startsWith("@");
    if (abstract) {
      if (process.platform !== "linux") {
        throw malformedAddress(uri, unixTransport, "abstract socket names exist on Linux only");
      }
      if (rest.length === 1) throw malformedAddress(uri, unixTransport, "the abstract name is empty");
    }
    const path = abstract ? `\0${rest.slice(1)}` : rest;
    if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
      throw malformedAddress(uri, unixTransport, `the path is longer than ${MAX_PATH_BYTES} bytes`);
    }
    return { scheme: "unix", uri: `unix:${rest}`, path, abstract };
  },

  connect(endpoint, options): Promise<Connection> {
    const unix = endpoint as UnixEndpoint;
    return connectStream({ path: unix.path }, unix.uri, unix.uri, options);
  },

  async listen(endpoint, options, onConnection): Promise<Listener> {
    const unix = endpoint as UnixEndpoint;
    const spec = {
      netOptions: { path: unix.path },
      noDelay: false,
      maxBodyBytes: options.maxBodyBytes,
      // A unix peer has no address of its own: handlers see the socket they were reached on.
      peerAddress: () => unix.uri,
    };
    let server;
    try {
      server = await listenStream(spec, onConnection);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || unix.abstract) throw listenFailure(unix, error);
      await removeStaleSocket(unix);
      try {
        server = await listenStream(spec, onConnection);
      } catch (retryError) {
        throw listenFailure(unix, retryError);
      }
    }
    if (!unix.abstract) await setMode(unix, options, server);
    return { address: unix.uri, close: () => closeStreamServer(server) };
  },
};

/**
 * A socket file left by a process that died without closing it blocks bind() (EADDRINUSE). It is
 * removed only when it is a socket and nothing answers on it: a live server is never displaced,
 * and a regular file is never deleted.
 */
async function removeStaleSocket(unix: UnixEndpoint): Promise<void> {
  const stats = await lstat(unix.path).catch(() => undefined);
  if (stats !== undefined && !stats.isSocket()) {
    throw new RpcError(Code.FAILED_PRECONDITION, `cannot listen on ${unix.uri}: the path exists and is not a socket`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect({ path: unix.path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", (error: NodeJS.ErrnoException) => {
      probe.destroy();
      resolve(error.code !== "ECONNREFUSED" && error.code !== "ENOENT");
    });
  });
  if (alive) {
    throw new RpcError(Code.UNAVAILABLE, `cannot listen on ${unix.uri}: another server is listening there`);
  }
  await unlink(unix.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw listenFailure(unix, error);
  });
}

async function setMode(unix: UnixEndpoint, options: ListenOptions, server: import("node:net").Server): Promise<void> {
  try {
    await chmod(unix.path, options.unixSocketMode);
  } catch (error) {
    await closeStreamServer(server);
    throw listenFailure(unix, error);
  }
}

function listenFailure(unix: UnixEndpoint, error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  return new RpcError(Code.UNAVAILABLE, `cannot listen on ${unix.uri}: ${describeSocketError(error as NodeJS.ErrnoException)}`, {
    cause: error,
  });
}

registerTransport(unixTransport);
