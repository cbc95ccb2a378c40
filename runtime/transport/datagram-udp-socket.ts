import { type Socket, createSocket } from "node:dgram";
import type { DatagramSocket, DatagramSocketEvents, PeerNaming } from "./datagram-socket.js";

/**
 * A udp peer: an IP address (IPv6 without brackets) and a port; node:dgram's rinfo fits. `key`,
 * when the socket that reported the peer gives one, names it for maps (udpNaming).
 */
export interface UdpPeer {
  readonly address: string;
  readonly port: number;
  readonly key?: number | string;
}

export type UdpFamily = 4 | 6;

/**
 * Socket buffers asked for (the kernel caps them at net.core.rmem_max / wmem_max): a burst of
 * 64 calls in flight with large messages must not overflow the receive buffer.
 */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** "udp://127.0.0.1:7000", "udp://[::1]:7000". */
export function formatUdp(host: string, port: number): string {
  return host.includes(":") ? `udp://[${host}]:${port}` : `udp://${host}:${port}`;
}

export const udpNaming: PeerNaming<UdpPeer> = {
  // The native socket's peers carry a key (a number for IPv4): no string built per datagram.
  key: (peer) => peer.key ?? `${peer.address} ${peer.port}`,
  uri: (peer) => formatUdp(peer.address, peer.port),
};

/** Socket errors that mean "nobody listens there" on a connected udp socket. */
const UNREACHABLE = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * node:dgram behind the DatagramSocket contract: the fallback when the datagram addon is not
 * built (datagram-udp-native-socket.ts is the fast path). Addresses given to it are always IP literals
 * (the transport resolves names once, up front), so its lookup answers at once instead of going
 * through dns.lookup and a tick per datagram sent.
 */
export class UdpSocket implements DatagramSocket<UdpPeer> {
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    /** The peer a client socket is connected to; undefined for a server socket. */
    private readonly connected: UdpPeer | undefined,
  ) {}

  /** A client socket connected to `peer` (so only its datagrams are received, and ICMP errors are reported). */
  static connect(family: UdpFamily, peer: UdpPeer, events: DatagramSocketEvents<UdpPeer>): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = newSocket(family);
      const onError = (error: Error): void => {
        socket.close();
        reject(error);
      };
      socket.once("error", onError);
      socket.connect(peer.port, peer.address, () => {
        socket.removeListener("error", onError);
        resolve(new UdpSocket(socket, peer).listen(events));
      });
    });
  }

  /** A server socket bound to `address`:`port` (0: any free port). */
  static bind(family: UdpFamily, address: string, port: number, events: DatagramSocketEvents<UdpPeer>): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      const socket = newSocket(family);
      const onError = (error: Error): void => {
        socket.close();
        reject(error);
      };
      socket.once("error", onError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.removeListener("error", onError);
        resolve(new UdpSocket(socket, undefined).listen(events));
      });
    });
  }

  /** The port bound. */
  get port(): number {
    return this.socket.address().port;
  }

  send(datagram: Uint8Array, peer: UdpPeer): boolean {
    if (this.closed) return false;
    try {
      if (this.connected !== undefined) this.socket.send(datagram);
      else this.socket.send(datagram, peer.port, peer.address);
      return true;
    } catch {
      return false;
    }
  }

  setRef(ref: boolean): void {
    if (this.closed) return;
    if (ref) this.socket.ref();
    else this.socket.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  private listen(events: DatagramSocketEvents<UdpPeer>): this {
    try {
      this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch {
      // Some systems refuse sizes above their maximum instead of capping: the defaults then stay.
    }
    this.socket.on("message", (message: Buffer, from: UdpPeer) => {
      // Bodies are handed on as plain Uint8Array views: cheaper to slice than Buffers.
      events.onDatagram(new Uint8Array(message.buffer, message.byteOffset, message.length), from, Date.now());
    });
    // Send failures (a full buffer) surface here when no callback was given: the datagram is
    // lost, which retransmission covers. Only a connected socket learns that nobody listens.
    this.socket.on("error", (error: NodeJS.ErrnoException) => {
      const connected = this.connected;
      if (this.closed) return;
      if (connected === undefined || !UNREACHABLE.has(error.code ?? "")) {
        if (error.syscall === "send") events.onSendFailures?.(1);
        return;
      }
      const reason = error.code === "ECONNREFUSED" ? "ECONNREFUSED (no socket is bound to that port)" : `${error.code} (${error.message})`;
      events.onUnreachable(Object.assign(new Error(reason), { code: error.code }), connected);
    });
    return this;
  }
}

function newSocket(family: UdpFamily): Socket {
  return createSocket({
    type: family === 6 ? "udp6" : "udp4",
    // Addresses are IP literals already: no dns.lookup, no extra tick per datagram.
    lookup: (address: string, _options: unknown, callback: (error: Error | null, address: string, family: number) => void) =>
      callback(null, address, family),
  } as Parameters<typeof createSocket>[0]);
}
