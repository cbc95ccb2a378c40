import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import { FrameKind, type FrameHeader, HEADER_BYTES, readU32 } from "../wire/header.js";
import { DatagramConnection } from "./datagram-connection.js";
import {
  CONTROL_KIND,
  ControlType,
  DATAGRAM_OVERHEAD,
  decodeConnectBody,
  decodeDatagramHeader,
  encodeConnectBody,
  encodeControl,
  encodeResetBody,
  equalBytes,
} from "./datagram-frame.js";
import type { DatagramOptions } from "./datagram-options.js";
import { DatagramLink, type DatagramSocket, type DatagramSocketEvents, type PeerNaming } from "./datagram-socket.js";
import { DatagramStats } from "./datagram-stats.js";
import { SWEEP_INTERVAL_MS } from "./datagram-timing.js";
import type { Connection, Listener } from "./transport.js";

/** Peers one listener serves at once; a CONNECT beyond is refused (RESET). */
export const MAX_PEERS = 10_000;

export interface DatagramListenSpec<P> {
  readonly scheme: string;
  readonly naming: PeerNaming<P>;
  readonly options: DatagramOptions;
  /** The server's maxBodyBytes (largest request body). */
  readonly maxBodyBytes: number;
  /** The transport's counters. */
  readonly stats: DatagramStats;
}

/**
 * A datagram server socket seen as a listener of connections: one DatagramConnection per peer
 * address, created by the peer's CONNECT (answered ACCEPT; a copy of the CONNECT gets the ACCEPT
 * again), handed to onConnection like an accepted stream, and forgotten when it closes or idles
 * out (sweep). A datagram from an address with no connection is answered RESET (unless it is
 * itself a control frame), so a client that the server forgot or that talks to a restarted
 * server learns it at once instead of waiting out its deadlines.
 *
 * A CONNECT from an address whose connection is authenticated (a session is bound) is dropped
 * and counted as spoofed: an unauthenticated datagram must not end an authenticated connection.
 * A new client on the same address (the old one died without CLOSE) gets through once the old
 * connection idles out; msf clients open a fresh socket, hence a fresh address, per attempt.
 */
export class DatagramListener<P> implements Listener {
  readonly stats: DatagramStats;
  private readonly peers = new Map<string | number, DatagramConnection<P>>();
  private readonly link: DatagramLink<P>;
  private readonly receiveMaxBody: number;
  private readonly header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };
  private readonly sweeper: NodeJS.Timeout;
  private accepting = true;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly spec: DatagramListenSpec<P>,
    private readonly socket: DatagramSocket<P>,
    /** The address bound, as a URI. */
    readonly address: string,
    private readonly onConnection: (connection: Connection) => void,
  ) {
    this.stats = new DatagramStats(spec.stats);
    this.link = new DatagramLink(socket, spec.options.faults, this.stats);
    this.receiveMaxBody = Math.min(spec.maxBodyBytes, spec.options.maxDatagramBytes - DATAGRAM_OVERHEAD);
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** The events to install on the socket (the transport opens it before it can construct this, so it forwards). */
  static events<P>(target: () => DatagramListener<P> | undefined): DatagramSocketEvents<P> {
    return {
      onDatagram(datagram, peer, receivedAt) {
        target()?.receive(datagram, peer, receivedAt);
      },
      onUnreachable(error, peer) {
        target()?.peerGone(peer, error);
      },
      onSendFailures(count) {
        target()?.stats.count("sendFailures", count);
      },
    };
  }

  /** Connections open now. */
  get connections(): number {
    return this.peers.size;
  }

  /** `peer` is gone for good (netlink: no socket is bound to its port id any more): its connection closes. */
  peerGone(peer: P, error: Error): void {
    this.peers.get(this.spec.naming.key(peer))?.unreachable(error);
  }

  receive(datagram: Uint8Array, peer: P, receivedAt: number): void {
    const key = this.spec.naming.key(peer);
    if (datagram.length >= HEADER_BYTES && datagram[3] === CONTROL_KIND && readU32(datagram, 12) === ControlType.CONNECT) {
      this.connect(datagram, peer, key);
      return;
    }
    const connection = this.peers.get(key);
    if (connection !== undefined) {
      connection.receive(datagram, receivedAt);
      return;
    }
    const defect = decodeDatagramHeader(datagram, this.header);
    if (defect !== undefined) {
      this.stats.count("droppedMalformed");
      return;
    }
    // A control frame from a stranger is not answered (two forgetful peers would RESET each other forever).
    if (this.header.kind === CONTROL_KIND) return;
    this.reset(datagram, peer);
  }

  /**
   * Stops accepting (a CONNECT is answered RESET from now on). The connections already open stay
   * open; the socket is closed, and the promise resolves, once the last of them has closed.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.accepting = false;
    this.closing = new Promise<void>((resolve) => {
      this.drained = resolve;
      this.release();
    });
    return this.closing;
  }

  private connect(datagram: Uint8Array, peer: P, key: string | number): void {
    const header = this.header;
    const body = decodeDatagramHeader(datagram, header) === undefined
      ? decodeConnectBody(datagram.subarray(HEADER_BYTES, HEADER_BYTES + header.length))
      : undefined;
    if (body === undefined) {
      this.stats.count("droppedMalformed");
      return;
    }
    const existing = this.peers.get(key);
    if (existing !== undefined) {
      if (equalBytes(existing.connectionId, body.connectionId)) {
        // The ACCEPT was lost (or the CONNECT sent twice): answer again.
        this.stats.count("duplicates");
        this.accept(body.connectionId, peer);
        return;
      }
      if (existing.sealed) {
        this.stats.count("droppedSpoofed");
        return;
      }
      existing.destroy(new RpcError(Code.UNAVAILABLE, `a new connection from ${existing.peerAddress} replaced this one`));
    }
    if (!this.accepting || this.peers.size >= MAX_PEERS) {
      this.reset(datagram, peer);
      return;
    }
    const connection = new DatagramConnection<P>({
      role: "server",
      scheme: this.spec.scheme,
      link: this.link,
      peer,
      peerAddress: this.spec.naming.uri(peer),
      connectionId: body.connectionId,
      maxDatagramBytes: this.spec.options.maxDatagramBytes,
      receiveMaxBody: this.receiveMaxBody,
      peerMaxBody: body.maxBodyBytes,
      parentStats: this.stats,
      released: (closed) => {
        if (this.peers.get(key) === closed) this.peers.delete(key);
        this.release();
      },
    });
    this.peers.set(key, connection);
    this.accept(body.connectionId, peer);
    this.onConnection(connection);
  }

  private accept(connectionId: Uint8Array, peer: P): void {
    this.link.transmit(encodeControl(ControlType.ACCEPT, encodeConnectBody(connectionId, this.receiveMaxBody), false), peer);
  }

  private reset(offending: Uint8Array, peer: P): void {
    this.link.transmit(encodeControl(ControlType.RESET, encodeResetBody(offending), false), peer);
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of [...this.peers.values()]) connection.sweep(now);
  }

  /** After a connection closed, or on close(): once closing and no connection is left, the socket goes. */
  private release(): void {
    if (this.drained === undefined || this.peers.size > 0) return;
    const drained = this.drained;
    this.drained = undefined;
    clearInterval(this.sweeper);
    this.socket.close();
    drained();
  }
}
