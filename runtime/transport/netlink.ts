import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { connectDatagram } from "./datagram-client.js";
import { type NetlinkAddon, NetlinkSocket, formatNetlink, loadNetlinkAddon, netlinkNaming } from "./datagram-netlink-socket.js";
import { type DatagramEndpoint, parseDatagramQuery } from "./datagram-options.js";
import { DatagramListener } from "./datagram-server.js";
import { DatagramStats } from "./datagram-stats.js";
import { malformedAddress, registerTransport } from "./registry.js";
import type { Connection, Listener, Transport } from "./transport.js";

/**
 * Netlink: `netlink://<port-id>`, Linux NETLINK_USERSOCK sockets between processes of one host,
 * through the native addon native/netlink (N-API; built by npm install). Port ids are u32: a
 * server binds the one given (0: the kernel picks one, and the listener's address names it), a
 * client binds one the kernel picks. Optional parameters after "?" as for udp (datagram-options.ts).
 *
 * One msf frame per netlink message (after the struct nlmsghdr the kernel expects), over the shared
 * datagram layer. The datagram limit defaults to 65,536 bytes (65,488 body bytes per frame); the
 * kernel allows a message up to the sender's send buffer less 32 bytes, so `?maxDatagram=` may go
 * up to 1 MiB where net.core.wmem_max lets the socket's send buffer be that large.
 *
 * Unavailable (not Linux, or the addon not built): connect and listen fail UNAVAILABLE
 * "netlink transport unavailable: <why>"; parsing a netlink URI still works, and every other
 * transport is unaffected.
 */
export interface NetlinkEndpoint extends DatagramEndpoint {
  readonly port: number;
}

export const NETLINK_DEFAULT_MAX_DATAGRAM = 65_536;
export const NETLINK_MAX_MAX_DATAGRAM = 1024 * 1024;
/** What the kernel needs in the send buffer besides the frame: the nlmsghdr (16) and its own 32. */
const KERNEL_OVERHEAD = 16 + 32;

const NETLINK_PATTERN = /^netlink:\/\/(\d{1,10})\/?(?:\?([^#\s]*))?$/;

/** Counters of every netlink connection and listener of this process. */
const stats = new DatagramStats();

export const netlinkTransport: Transport & { readonly stats: DatagramStats } = {
  scheme: "netlink",
  forms: ["netlink://<port-id>"],
  stats,

  parse(uri: string): NetlinkEndpoint {
    const match = NETLINK_PATTERN.exec(uri);
    if (match === null) throw malformedAddress(uri, netlinkTransport, "expected a numeric port id");
    const port = Number(match[1]);
    if (port > 0xffffffff) throw malformedAddress(uri, netlinkTransport, `port id ${port} is above 4294967295`);
    const query = match[2];
    const options = parseDatagramQuery(uri, query, netlinkTransport, {
      defaultMaxDatagram: NETLINK_DEFAULT_MAX_DATAGRAM,
      maxMaxDatagram: NETLINK_MAX_MAX_DATAGRAM,
    });
    const base = formatNetlink(port);
    return { scheme: "netlink", uri: query ? `${base}?${query}` : base, port, options };
  },

  async connect(endpoint, options): Promise<Connection> {
    const netlink = endpoint as NetlinkEndpoint;
    const target = formatNetlink(netlink.port);
    if (netlink.port === 0) throw new RpcError(Code.INVALID_ARGUMENT, `cannot connect to ${target}: port id 0 is only for listening`);
    const addon = requireAddon();
    const maxDatagram = netlink.options.maxDatagramBytes;
    return connectDatagram(
      {
        scheme: "netlink",
        target,
        peer: netlink.port,
        options: netlink.options,
        stats,
        open: async (events) => checkedSocket(maxDatagram, target, () => NetlinkSocket.open(addon, 0, maxDatagram, events, netlink.port)),
      },
      options,
    );
  },

  async listen(endpoint, options, onConnection): Promise<Listener> {
    const netlink = endpoint as NetlinkEndpoint;
    const addon = requireAddon();
    const where = formatNetlink(netlink.port);
    let listener: DatagramListener<number> | undefined;
    let socket: NetlinkSocket;
    try {
      socket = checkedSocket(netlink.options.maxDatagramBytes, where, () =>
        NetlinkSocket.open(addon, netlink.port, netlink.options.maxDatagramBytes, DatagramListener.events(() => listener)),
      );
    } catch (error) {
      if (error instanceof RpcError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === "EADDRINUSE" ? `EADDRINUSE (another socket is bound to port id ${netlink.port})` : (error as Error).message;
      throw new RpcError(Code.UNAVAILABLE, `cannot listen on ${where}: ${reason}`, { cause: error });
    }
    listener = new DatagramListener(
      { scheme: "netlink", naming: netlinkNaming, options: netlink.options, maxBodyBytes: options.maxBodyBytes, stats },
      socket,
      formatNetlink(socket.port),
      onConnection,
    );
    return listener;
  },
};

function requireAddon(): NetlinkAddon {
  const load = loadNetlinkAddon();
  if (!load.ok) throw new RpcError(Code.UNAVAILABLE, `netlink transport unavailable: ${load.reason}`);
  return load.addon;
}

/** Opens a socket and checks that the kernel lets it send datagrams of the configured size. */
function checkedSocket(maxDatagram: number, where: string, open: () => NetlinkSocket): NetlinkSocket {
  const socket = open();
  if (maxDatagram + KERNEL_OVERHEAD > socket.sendBufferBytes) {
    socket.close();
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `${where}: maxDatagram ${maxDatagram} exceeds what this system lets a netlink socket send ` +
        `(send buffer ${socket.sendBufferBytes} bytes, less ${KERNEL_OVERHEAD}); raise net.core.wmem_max or lower maxDatagram`,
    );
  }
  return socket;
}

registerTransport(netlinkTransport);
