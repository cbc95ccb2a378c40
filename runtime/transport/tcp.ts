import type { Socket } from "node:net";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { malformedAddress, registerTransport } from "./registry.js";
import { closeStreamServer, connectStream, describeSocketError, listenStream } from "./stream-socket.js";
import type { Connection, Endpoint, Listener, Transport } from "./transport.js";

/**
 * TCP: `tcp://host:port`, `tcp://[ipv6]:port`. Port 0 listens on any free port (the listener's
 * address then names the port chosen). Nagle is off on both ends: frames are already batched
 * per tick, and a reply must not wait for an ACK.
 */
export interface TcpEndpoint extends Endpoint {
  /** Host name or address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const TCP_PATTERN = /^tcp:\/\/(\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\]|[^:/[\]@?#\s]+):(\d{1,5})\/?$/;

export const tcpTransport: Transport = {
  scheme: "tcp",
  forms: ["tcp://host:port", "tcp://[ipv6]:port"],

  parse(uri: string): TcpEndpoint {
    const match = TCP_PATTERN.exec(uri);
    if (match === null) throw malformedAddress(uri, tcpTransport, "expected a host and a port");
    const port = Number(match[2]);
    if (port > 65535) throw malformedAddress(uri, tcpTransport, `port ${port} is above 65535`);
    const bracketed = match[1]!;
    const host = bracketed.startsWith("[") ? bracketed.slice(1, -1) : bracketed;
    return { scheme: "tcp", uri: formatTcp(host, port), host, port };
  },

  connect(endpoint, options): Promise<Connection> {
    const tcp = endpoint as TcpEndpoint;
    if (tcp.port === 0) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `cannot connect to ${tcp.uri}: port 0 is only for listening`));
    }
    return connectStream({ host: tcp.host, port: tcp.port, noDelay: true }, tcp.uri, tcp.uri, options);
  },

  async listen(endpoint, options, onConnection): Promise<Listener> {
    const tcp = endpoint as TcpEndpoint;
    let server;
    try {
      server = await listenStream(
        {
          netOptions: { host: tcp.host, port: tcp.port },
          noDelay: true,
          maxBodyBytes: options.maxBodyBytes,
          peerAddress: (socket: Socket) => formatTcp(socket.remoteAddress ?? "unknown", socket.remotePort ?? 0),
        },
        onConnection,
      );
    } catch (error) {
      throw new RpcError(Code.UNAVAILABLE, `cannot listen on ${tcp.uri}: ${describeSocketError(error as NodeJS.ErrnoException)}`, {
        cause: error,
      });
    }
    const bound = server.address();
    const port = typeof bound === "object" && bound !== null ? bound.port : tcp.port;
    return { address: formatTcp(tcp.host, port), close: () => closeStreamServer(server) };
  },
};

function formatTcp(host: string, port: number): string {
  return host.includes(":") ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}

registerTransport(tcpTransport);
