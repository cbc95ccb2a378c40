import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { DatagramAddon } from "./datagram-native-socket.js";
import { loadNetlinkAddon } from "./datagram-netlink-socket.js";
import type { DatagramSocket, DatagramSocketEvents } from "./datagram-socket.js";
import { NativeUdpSocket } from "./datagram-udp-native-socket.js";
import { type UdpFamily, type UdpPeer, UdpSocket } from "./datagram-udp-socket.js";

/**
 * Which socket carries udp: the datagram addon's (NativeUdpSocket: batched sends and receives)
 * when it is built and has udp support, else node:dgram (UdpSocket). The environment variable
 * MSF_UDP_SOCKET overrides it, read at every open: "dgram" forces node:dgram, "native" forces the
 * addon (and fails UNAVAILABLE, saying why, where it cannot be loaded); for tests and benchmarks.
 */
export const UDP_SOCKET_VARIABLE = "MSF_UDP_SOCKET";

export type UdpSocketImpl = "native" | "dgram";

/** A udp socket with the port it is bound to. */
export type BoundUdpSocket = DatagramSocket<UdpPeer> & { readonly port: number };

/** The addon when udp uses it, or undefined for node:dgram. Throws RpcError for a bad MSF_UDP_SOCKET or a forced native that cannot load. */
function nativeAddon(): (DatagramAddon & Required<Pick<DatagramAddon, "openUdp">>) | undefined {
  const forced = process.env[UDP_SOCKET_VARIABLE];
  if (forced === "dgram") return undefined;
  if (forced !== undefined && forced !== "" && forced !== "native" && forced !== "auto") {
    throw new RpcError(Code.INVALID_ARGUMENT, `environment variable ${UDP_SOCKET_VARIABLE} is ${JSON.stringify(forced)}; expected "native", "dgram", "auto" or unset`);
  }
  const load = loadNetlinkAddon();
  const addon = load.ok && typeof load.addon.openUdp === "function" ? (load.addon as DatagramAddon & Required<Pick<DatagramAddon, "openUdp">>) : undefined;
  if (addon === undefined && forced === "native") {
    const reason = load.ok ? "the datagram addon was built without udp support (rebuild it: node scripts/build-native.mjs)" : load.reason;
    throw new RpcError(Code.UNAVAILABLE, `${UDP_SOCKET_VARIABLE}=native, but the native udp socket is unavailable: ${reason}`);
  }
  return addon;
}

/** The implementation a udp socket opened now would use. */
export function udpSocketImpl(): UdpSocketImpl {
  return nativeAddon() === undefined ? "dgram" : "native";
}

/** A client socket connected to `peer` (an IP literal of `family`); rejects with the system's error. */
export async function connectUdpSocket(family: UdpFamily, peer: UdpPeer, maxDatagramBytes: number, events: DatagramSocketEvents<UdpPeer>): Promise<DatagramSocket<UdpPeer>> {
  const addon = nativeAddon();
  if (addon === undefined) return UdpSocket.connect(family, peer, events);
  return NativeUdpSocket.open(addon, family, "", 0, peer, maxDatagramBytes, events);
}

/** A server socket bound to `address`:`port` (0: any free port); rejects with the system's error (code EADDRINUSE, ...). */
export async function bindUdpSocket(
  family: UdpFamily,
  address: string,
  port: number,
  maxDatagramBytes: number,
  events: DatagramSocketEvents<UdpPeer>,
): Promise<BoundUdpSocket> {
  const addon = nativeAddon();
  if (addon === undefined) return UdpSocket.bind(family, address, port, events);
  return NativeUdpSocket.open(addon, family, address, port, undefined, maxDatagramBytes, events);
}
