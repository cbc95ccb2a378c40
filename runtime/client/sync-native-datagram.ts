import { randomBytes } from "node:crypto";
import { constants as osConstants } from "node:os";
import type { Session } from "../auth/session.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { ManualClock } from "../transport/datagram-clock.js";
import { REFUSED, openingVerdict } from "../transport/datagram-client.js";
import { DatagramConnection } from "../transport/datagram-connection.js";
import { ControlType, DATAGRAM_OVERHEAD, encodeConnectBody, encodeControl } from "../transport/datagram-frame.js";
import { DatagramLink, type DatagramSocket } from "../transport/datagram-socket.js";
import type { DatagramStats } from "../transport/datagram-stats.js";
import { CLIENT_IDLE_MS, FIRST_RETRANSMIT_MS, MAX_EARLY_DATAGRAMS, backoff } from "../transport/datagram-timing.js";
import { netlinkTransport } from "../transport/netlink.js";
import type { ConnectionHandler } from "../transport/transport.js";
import { udpTransport } from "../transport/udp.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameKind, type FrameHeader } from "../wire/header.js";
import type { SyncSocketAddon } from "./sync-native-addon.js";
import type { DatagramAddress } from "./sync-native-target.js";
import { type BlockingWire, describeError } from "./sync-native-wire.js";

/**
 * A udp or netlink connection of the native blocking engine: the shared datagram layer
 * (DatagramConnection: sealing, acknowledgements, retransmission, the handshake relay, RESET and
 * CLOSE) on a socket of the sync_socket addon, with a ManualClock instead of the event loop. The
 * calling thread runs the clock while it waits in receive(): a wait never outlasts the next
 * retransmission, so a lost request or handshake frame goes again on the schedule of
 * datagram-timing.ts while the caller is blocked, and the server de-duplicates as it does for
 * async clients. Opening sends CONNECT (again on the same schedule) until the ACCEPT.
 *
 * Counters go to the transport's stats (udpTransport.stats, netlinkTransport.stats), as an async
 * connection's do. [not thread-safe; one per engine]
 */
export class DatagramWire implements BlockingWire {
  private readonly clock: ManualClock;
  private readonly buffer: Uint8Array;
  private readonly connection: DatagramConnection<number>;
  private closed = false;

  private constructor(
    private readonly socket: BlockingDatagramSocket,
    opened: Opened,
    address: DatagramAddress,
    stats: DatagramStats,
    handler: ConnectionHandler,
  ) {
    this.clock = opened.clock;
    this.buffer = opened.buffer;
    this.connection = new DatagramConnection<number>({
      role: "client",
      scheme: address.scheme,
      link: opened.link,
      peer: 0,
      peerAddress: address.uri,
      connectionId: opened.connectionId,
      maxDatagramBytes: address.options.maxDatagramBytes,
      receiveMaxBody: opened.receiveMaxBody,
      peerMaxBody: opened.peerMaxBody,
      parentStats: stats,
      early: opened.early,
      released: () => {},
      clock: this.clock,
    });
    // Datagrams that came before the ACCEPT are delivered by the first receive(), once the
    // engine has recorded this wire (it sends its HELLO first, as an async client does).
    this.connection.start(handler);
  }

  get fd(): number {
    return this.socket.fd;
  }

  /**
   * Opens a socket to `address` and the connection (CONNECT until ACCEPT) within `limitMs`.
   * Throws an Error: code ETIMEDOUT when no ACCEPT came in time, the system's errno code when the
   * socket cannot be opened or nobody listens (ECONNREFUSED); no code when the server refused
   * the connection (RESET). RpcError INVALID_ARGUMENT when the system's netlink send buffer is
   * smaller than the address's maxDatagram.
   */
  static open(addon: SyncSocketAddon, address: DatagramAddress, handler: ConnectionHandler, maxBodyBytes: number, limitMs: number): DatagramWire {
    const socket = address.scheme === "udp" ? UdpBlockingSocket.open(addon, address) : NetlinkBlockingSocket.open(addon, address);
    const stats = address.scheme === "udp" ? udpTransport.stats : netlinkTransport.stats;
    try {
      return new DatagramWire(socket, openConnection(socket, address, stats, maxBodyBytes, limitMs), address, stats, handler);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  send(header: OutgoingHeader, body: Uint8Array, metadataBlock: Uint8Array | undefined, _timeoutMs: number): boolean {
    // A datagram never waits for room: one the kernel refuses is counted, and retransmission covers requests.
    this.connection.send(header, body, metadataBlock);
    this.reportUnreachable();
    return true;
  }

  receive(waitMs: number): boolean {
    if (this.closed) return false;
    if (this.clock.run()) return true;
    let wait = waitMs;
    const next = this.clock.nextAt();
    if (next !== Infinity) {
      const untilTimer = Math.max(0, Math.ceil(next - Date.now()));
      if (wait < 0 || untilTimer < wait) wait = untilTimer;
    }
    let length: number;
    try {
      length = this.socket.receive(this.buffer, wait);
    } catch (error) {
      this.failed(error);
      this.clock.run();
      return true;
    }
    if (length >= 0) this.connection.receive(this.buffer.subarray(0, length), Date.now());
    this.reportUnreachable();
    return this.clock.run() || length >= 0;
  }

  lasting(body: Uint8Array): boolean {
    return body.buffer !== this.buffer.buffer;
  }

  bindSession(session: Session): void {
    this.connection.bindSession(session);
  }

  /** True once CLIENT_IDLE_MS passed since the last datagram sent: the server may have forgotten the connection (it does after SERVER_IDLE_MS). */
  idleTooLong(): boolean {
    return Date.now() - this.socket.lastSentAt >= CLIENT_IDLE_MS;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Tells the server (CLOSE, tagged when a session is bound), so it forgets the connection now.
    if (!this.connection.closed) this.connection.end();
    this.socket.close();
  }

  private failed(error: unknown): void {
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED") this.connection.unreachable(this.socket.refusal());
    else this.connection.destroy(new Error(describeError(error), { cause: error }));
  }

  private reportUnreachable(): void {
    if (this.socket.refused) {
      this.socket.refused = false;
      this.connection.unreachable(this.socket.refusal());
    }
  }
}

interface Opened {
  readonly clock: ManualClock;
  readonly link: DatagramLink<number>;
  readonly buffer: Uint8Array;
  readonly connectionId: Uint8Array;
  readonly receiveMaxBody: number;
  readonly peerMaxBody: number;
  readonly early: [Uint8Array, number][];
}

/** CONNECT, sent again on the retransmission schedule, until the ACCEPT echoing its id (see DatagramWire.open for the throws). */
function openConnection(socket: BlockingDatagramSocket, address: DatagramAddress, stats: DatagramStats, maxBodyBytes: number, limitMs: number): Opened {
  const maxDatagramBytes = address.options.maxDatagramBytes;
  const receiveMaxBody = Math.min(maxBodyBytes, maxDatagramBytes - DATAGRAM_OVERHEAD);
  const connectionId = new Uint8Array(randomBytes(8));
  const link = new DatagramLink<number>(socket, address.options.faults, stats);
  const buffer = new Uint8Array(maxDatagramBytes);
  const header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };
  const early: [Uint8Array, number][] = [];
  const connect = encodeControl(ControlType.CONNECT, encodeConnectBody(connectionId, receiveMaxBody), false);
  const start = Date.now();
  const giveUpAt = start + limitMs;
  let interval = FIRST_RETRANSMIT_MS;
  let nextAt = start + interval;
  link.transmit(connect, 0);
  for (;;) {
    if (socket.refused) throw socket.refusal();
    const now = Date.now();
    if (now >= giveUpAt) throw Object.assign(new Error(`no answer within ${limitMs} ms`), { code: "ETIMEDOUT" });
    if (now >= nextAt) {
      stats.count("retransmitted");
      link.transmit(connect, 0);
      interval = backoff(interval);
      nextAt = now + interval;
      continue;
    }
    const length = socket.receive(buffer, Math.min(nextAt, giveUpAt) - now);
    if (length < 0) continue;
    const datagram = buffer.subarray(0, length);
    const verdict = openingVerdict(datagram, header, connectionId);
    switch (verdict.t) {
      case "malformed":
        stats.count("droppedMalformed");
        break;
      case "early":
        // A copy: the buffer is read into again.
        if (early.length < MAX_EARLY_DATAGRAMS) early.push([Uint8Array.from(datagram), Date.now()]);
        break;
      case "refused":
        throw new Error(REFUSED);
      case "ignored":
        break;
      case "accepted":
        return { clock: new ManualClock(), link, buffer, connectionId, receiveMaxBody, peerMaxBody: verdict.peerMaxBody, early };
    }
  }
}

const ECONNREFUSED = osConstants.errno.ECONNREFUSED;
/** Socket buffers asked for, as the async sockets do (a netlink send buffer bounds the largest datagram). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** What the kernel needs in a netlink send buffer besides the frame: the nlmsghdr (16) and its own 32. */
const NETLINK_KERNEL_OVERHEAD = 16 + 32;

/**
 * An addon datagram socket behind the DatagramSocket contract (the connection's peer is the one
 * the socket is connected to, so `peer` is ignored). A send that finds nobody listening sets
 * `refused`; the wire reports it to the connection once the send returned.
 */
abstract class BlockingDatagramSocket implements DatagramSocket<number> {
  refused = false;
  /** Date.now() of the last datagram sent. */
  lastSentAt = Date.now();
  private closed = false;

  constructor(
    protected readonly addon: SyncSocketAddon,
    readonly fd: number,
  ) {}

  send(datagram: Uint8Array, _peer: number): boolean {
    if (this.closed) return false;
    this.lastSentAt = Date.now();
    const errno = this.sendNow(datagram);
    if (errno === 0) return true;
    if (errno === ECONNREFUSED) this.refused = true;
    return false;
  }

  setRef(_ref: boolean): void {
    // The descriptor is not libuv's: it never keeps the process alive.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.addon.close(this.fd);
    } catch {
      // EBADF cannot happen (the fd is ours and closed once); nothing else can be done about an error here.
    }
  }

  /** Waits at most `waitMs` for one datagram into `buffer`: its length, or -1. Throws the system's Error. */
  abstract receive(buffer: Uint8Array, waitMs: number): number;
  /** The error saying nobody listens at the peer. */
  abstract refusal(): Error;
  protected abstract sendNow(datagram: Uint8Array): number;
}

class UdpBlockingSocket extends BlockingDatagramSocket {
  static open(addon: SyncSocketAddon, address: Extract<DatagramAddress, { scheme: "udp" }>): UdpBlockingSocket {
    return new UdpBlockingSocket(addon, addon.openUdp(address.host, address.port));
  }

  receive(buffer: Uint8Array, waitMs: number): number {
    try {
      return this.addon.receiveUdp(this.fd, buffer, waitMs);
    } catch (error) {
      // An ICMP port unreachable answered an earlier datagram.
      throw (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ? this.refusal() : error;
    }
  }

  refusal(): Error {
    return Object.assign(new Error("ECONNREFUSED (no socket is bound to that port)"), { code: "ECONNREFUSED" });
  }

  protected sendNow(datagram: Uint8Array): number {
    return this.addon.sendUdp(this.fd, datagram);
  }
}

class NetlinkBlockingSocket extends BlockingDatagramSocket {
  private constructor(
    addon: SyncSocketAddon,
    fd: number,
    private readonly ownPort: number,
    private readonly peerPort: number,
  ) {
    super(addon, fd);
  }

  static open(addon: SyncSocketAddon, address: Extract<DatagramAddress, { scheme: "netlink" }>): NetlinkBlockingSocket {
    const opened = addon.openNetlink(address.port, SOCKET_BUFFER_BYTES);
    const socket = new NetlinkBlockingSocket(addon, opened.fd, opened.port, address.port);
    const maxDatagram = address.options.maxDatagramBytes;
    if (maxDatagram + NETLINK_KERNEL_OVERHEAD > opened.sendBufferBytes) {
      socket.close();
      throw new RpcError(
        Code.INVALID_ARGUMENT,
        `${address.uri}: maxDatagram ${maxDatagram} exceeds what this system lets a netlink socket send ` +
          `(send buffer ${opened.sendBufferBytes} bytes, less ${NETLINK_KERNEL_OVERHEAD}); raise net.core.wmem_max or lower maxDatagram`,
      );
    }
    return socket;
  }

  receive(buffer: Uint8Array, waitMs: number): number {
    return this.addon.receiveNetlink(this.fd, this.peerPort, buffer, waitMs);
  }

  refusal(): Error {
    return Object.assign(new Error(`ECONNREFUSED (no netlink socket is bound to port id ${this.peerPort})`), { code: "ECONNREFUSED" });
  }

  protected sendNow(datagram: Uint8Array): number {
    return this.addon.sendNetlink(this.fd, this.ownPort, datagram);
  }
}
