import type { FaultPlan } from "./datagram-options.js";
import type { DatagramStats } from "./datagram-stats.js";

/**
 * What a datagram transport (udp.ts, netlink.ts) gives the shared datagram layer: a socket that
 * sends one datagram to a peer and reports the datagrams it receives. `P` is the transport's peer
 * address (an {address, port} for udp, a port id for netlink).
 */
export interface DatagramSocket<P> {
  /**
   * Sends `datagram` to `peer` without waiting (it may leave later in the tick's batch; the caller
   * does not touch it again). False when the socket refused it at once. Never throws.
   */
  send(datagram: Uint8Array, peer: P): boolean;
  /** Whether this socket keeps the process alive. */
  setRef(ref: boolean): void;
  /** Closes the socket; no event follows. Idempotent. */
  close(): void;
}

/** What a datagram socket reports; installed when the socket is opened. None of these may throw. */
export interface DatagramSocketEvents<P> {
  /** One datagram. `datagram` is the caller's to keep; `receivedAt` is Date.now() when it was read. */
  onDatagram(datagram: Uint8Array, peer: P, receivedAt: number): void;
  /**
   * The socket learnt that nobody listens at `peer` any more: an ICMP port unreachable on a
   * connected udp socket (client sockets only), ECONNREFUSED when sending on netlink (no socket
   * is bound to that port id: the peer process is gone).
   */
  onUnreachable(error: Error, peer: P): void;
  /** Datagrams the socket accepted and then failed to send (buffer full, ...): counted, retransmission covers them. */
  onSendFailures?(count: number): void;
}

/** How a transport names its peers: a key for maps, and a URI for peerAddress and messages. */
export interface PeerNaming<P> {
  key(peer: P): string | number;
  uri(peer: P): string;
}

/**
 * Where a connection's (or a listener's) datagrams go out: the socket, with the fault-injection
 * knobs of the URI applied (datagram-options.ts: dropEvery, duplicate) and refusals counted.
 *
 * dropEvery=N drops one datagram in N, chosen by a pseudo-random sequence with a fixed seed (so a
 * run can be reproduced) rather than strictly every Nth: with a strict period, the same requests
 * sent again in the same order each round would meet the same drops every round and never get
 * through, which real loss never does.
 */
export class DatagramLink<P> {
  private random = 0x2545f491;

  constructor(
    readonly socket: DatagramSocket<P>,
    private readonly faults: FaultPlan | undefined,
    private readonly stats: DatagramStats,
  ) {}

  transmit(datagram: Uint8Array, peer: P): void {
    const faults = this.faults;
    if (faults !== undefined) {
      if (faults.dropEvery > 0 && this.next() % faults.dropEvery === 0) {
        this.stats.count("faultDropped");
        return;
      }
      if (faults.duplicate && !this.socket.send(datagram, peer)) this.stats.count("sendFailures");
    }
    if (!this.socket.send(datagram, peer)) this.stats.count("sendFailures");
  }

  /** xorshift32: a non-zero u32, uniform enough for choosing drops. */
  private next(): number {
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }
}
