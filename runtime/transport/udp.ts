import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { connectDatagram } from "./datagram-client.js";
import { type DatagramEndpoint, parseDatagramQuery } from "./datagram-options.js";
import { DatagramListener } from "./datagram-server.js";
import { DatagramStats } from "./datagram-stats.js";
import { type UdpFamily, type UdpPeer, formatUdp, udpNaming } from "./datagram-udp-socket.js";
import { bindUdpSocket, connectUdpSocket } from "./datagram-udp-open.js";
import { malformedAddress, registerTransport } from "./registry.js";
import { describeSocketError } from "./stream-socket.js";
import type { Connection, Listener, Transport } from "./transport.js";

/**
 * UDP: `udp://host:port`, `udp://[ipv6]:port`, with optional parameters after "?" (maxDatagram,
 * and the fault-injection knobs dropEvery and duplicate: datagram-options.ts). One msf frame per
 * datagram, over the shared datagram layer (datagram-connection.ts: retransmission,
 * de-duplication, size limits, per-datagram authentication once a session is bound). Sockets are
 * the datagram addon's batched ones when it is built, else node:dgram (datagram-udp-open.ts).
 *
 * The datagram limit defaults to 65,507 bytes, the largest UDP payload over IPv4 (65,535 less
 * the 8-byte UDP and 20-byte IP headers), hence at most 65,459 body bytes per frame. Across a
 * real network such datagrams are fragmented by IP; `?maxDatagram=1472` keeps each within one
 * Ethernet frame (1,424 body bytes).
 *
 * Port 0 listens on any free port (the listener's address names it). A host name is resolved
 * once, when connecting or listening; the socket then only sees addresses.
 */
export interface UdpEndpoint extends DatagramEndpoint {
  /** Host name or address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

export const UDP_MAX_DATAGRAM = 65_507;

const UDP_PATTERN = /^udp:\/\/(\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\]|[^:/[\]@?#\s]+):(\d{1,5})\/?(?:\?([^#\s]*))?$/;

/** Counters of every udp connection and listener of this process. */
const stats = new DatagramStats();

export const udpTransport: Transport & { readonly stats: DatagramStats } = {
  scheme: "udp",
  forms: ["udp://host:port", "udp://[ipv6]:port"],
  stats,

  parse(uri: string): UdpEndpoint {
    const match = UDP_PATTERN.exec(uri);
    if (match === null) throw malformedAddress(uri, udpTransport, "expected a host and a port");
    const port = Number(match[2]);
    if (port > 65535) throw malformedAddress(uri, udpTransport, `port ${port} is above 65535`);
    const bracketed = match[1]!;
    const host = bracketed.startsWith("[") ? bracketed.slice(1, -1) : bracketed;
    const query = match[3];
    const options = parseDatagramQuery(uri, query, udpTransport, { defaultMaxDatagram: UDP_MAX_DATAGRAM, maxMaxDatagram: UDP_MAX_DATAGRAM });
    const base = formatUdp(host, port);
    return { scheme: "udp", uri: query ? `${base}?${query}` : base, host, port, options };
  },

  async connect(endpoint, options): Promise<Connection> {
    const udp = endpoint as UdpEndpoint;
    const target = formatUdp(udp.host, udp.port);
    if (udp.port === 0) throw new RpcError(Code.INVALID_ARGUMENT, `cannot connect to ${target}: port 0 is only for listening`);
    const { address, family } = await resolve(udp.host, `cannot connect to ${target}`);
    return connectDatagram(
      {
        scheme: "udp",
        target,
        peer: { address, port: udp.port },
        options: udp.options,
        stats,
        open: (events) => connectUdpSocket(family, { address, port: udp.port }, udp.options.maxDatagramBytes, events),
      },
      options,
    );
  },

  async listen(endpoint, options, onConnection): Promise<Listener> {
    const udp = endpoint as UdpEndpoint;
    const where = `cannot listen on ${formatUdp(udp.host, udp.port)}`;
    const { address, family } = await resolve(udp.host, where);
    let listener: DatagramListener<UdpPeer> | undefined;
    let socket: Awaited<ReturnType<typeof bindUdpSocket>>;
    try {
      socket = await bindUdpSocket(family, address, udp.port, udp.options.maxDatagramBytes, DatagramListener.events(() => listener));
    } catch (error) {
      throw new RpcError(Code.UNAVAILABLE, `${where}: ${describeSocketError(error as NodeJS.ErrnoException)}`, { cause: error });
    }
    listener = new DatagramListener(
      { scheme: "udp", naming: udpNaming, options: udp.options, maxBodyBytes: options.maxBodyBytes, stats },
      socket,
      formatUdp(udp.host, socket.port),
      onConnection,
    );
    return listener;
  },
};

/** The address to use for `host` (an IP literal as is, a name through the resolver); UNAVAILABLE naming `what` when it does not resolve. */
async function resolve(host: string, what: string): Promise<{ address: string; family: UdpFamily }> {
  const literal = isIP(host);
  if (literal !== 0) return { address: host, family: literal as UdpFamily };
  try {
    const found = await lookup(host);
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (error) {
    throw new RpcError(Code.UNAVAILABLE, `${what}: host ${host} does not resolve: ${describeSocketError(error as NodeJS.ErrnoException)}`, {
      cause: error,
    });
  }
}

registerTransport(udpTransport);
