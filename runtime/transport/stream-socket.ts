import { connect, createServer, type ListenOptions as NetListenOptions, type NetConnectOpts, type Server, type Socket } from "node:net";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { StreamConnection } from "./stream-connection.js";
import type { ConnectOptions, Connection } from "./transport.js";

/**
 * Socket plumbing shared by the stream transports (unix, tcp): connecting with a timeout and
 * Node errors mapped to UNAVAILABLE, and listening with accepted sockets wrapped as Connections.
 */

/** Opens a socket and wraps it; rejects with RpcError UNAVAILABLE naming `target`. */
export function connectStream(
  netOptions: NetConnectOpts,
  target: string,
  peerAddress: string,
  options: ConnectOptions,
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(netOptions);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: no answer within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    const onError = (error: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new RpcError(Code.UNAVAILABLE, `cannot connect to ${target}: ${describeSocketError(error)}`, { cause: error }));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeListener("error", onError);
      resolve(new StreamConnection(socket, peerAddress, options.maxBodyBytes));
    });
  });
}

export interface StreamListenSpec {
  netOptions: NetListenOptions;
  noDelay: boolean;
  maxBodyBytes: number;
  /** The URI a handler sees as `peer.address` for an accepted socket. */
  peerAddress(socket: Socket): string;
}

/**
 * Binds a net.Server and hands every accepted socket to `onConnection` as a Connection. Rejects
 * with the raw Node error (its `code`, EADDRINUSE and the like, lets the transport react).
 */
export function listenStream(spec: StreamListenSpec, onConnection: (connection: Connection) => void): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: spec.noDelay }, (socket) => {
      onConnection(new StreamConnection(socket, spec.peerAddress(socket), spec.maxBodyBytes));
    });
    const onError = (error: Error): void => {
      server.close();
      reject(error);
    };
    server.once("error", onError);
    server.listen(spec.netOptions, () => {
      server.removeListener("error", onError);
      // Accept errors (EMFILE, ...) after start are transient for a listener: Node keeps accepting.
      server.on("error", () => undefined);
      resolve(server);
    });
  });
}

/** Stops accepting now; resolves once every connection the server accepted has closed too. */
export function closeStreamServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** "ECONNREFUSED (connection refused)": Node's code first, then its words. */
export function describeSocketError(error: NodeJS.ErrnoException): string {
  return error.code === undefined ? error.message : `${error.code} (${error.message})`;
}
