import { constants as osConstants } from "node:os";
import type { DatagramSocket, DatagramSocketEvents } from "./datagram-socket.js";

/**
 * The datagram addon (native/netlink/netlink.c, whose header comment is the contract): batched
 * netlink and udp sockets on this thread's event loop.
 */
export interface DatagramAddon {
  open(
    portId: number,
    maxFrameBytes: number,
    bufferBytes: number,
    onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
    onError: (code: string) => void,
  ): NativeHandle;
  /**
   * A udp socket bound to `bindAddress`:`bindPort` (numeric; port 0: the kernel picks) and, unless
   * `peerAddress` is "", connected to `peerAddress`:`peerPort`. In a batch, the UDP_PREFIX bytes
   * before each frame hold its sender's address. Absent from addons built before udp support.
   */
  openUdp?(
    bindAddress: string,
    bindPort: number,
    peerAddress: string,
    peerPort: number,
    maxFrameBytes: number,
    bufferBytes: number,
    onBatch: (data: Buffer, meta: Uint32Array, count: number) => void,
    onError: (code: string) => void,
  ): NativeHandle;
  /**
   * Sends frames[i] to ports[i] (a netlink port id, a udp port) for i < count (≤ 256) in one
   * sendmmsg; an unconnected udp socket also takes `addresses` (UDP_PREFIX bytes per frame, laid
   * out as in batches). results[i] = 0 or the errno; returns how many failed.
   */
  sendBatch(handle: NativeHandle, ports: Uint32Array, frames: Uint8Array[], count: number, results: Int32Array, addresses?: Uint8Array): number;
  ref(handle: NativeHandle, ref: boolean): void;
  close(handle: NativeHandle): void;
}

export interface NativeHandle {
  /** The netlink port id, or the udp port, bound. */
  readonly port: number;
  readonly sendBufferBytes: number;
  readonly receiveBufferBytes: number;
}

/**
 * Bytes before each udp frame in a batch, and per frame in sendBatch's addresses: 16 address
 * bytes (IPv4: the first 4), the IPv6 scope id (u32 little-endian), 4 unused.
 */
export const UDP_PREFIX = 24;
/** Most messages one sendBatch call takes (the addon's MAX_BATCH). */
export const MAX_SEND_BATCH = 256;

/**
 * A socket of the datagram addon behind the DatagramSocket contract. The addon reads every
 * datagram waiting when the socket turns readable and hands them over in one call (the subclass
 * turns each into a peer and a frame). Datagrams sent during one tick leave together in one
 * sendmmsg(2), flushed from process.nextTick (as a stream connection batches its writes): the
 * replies to a batch of requests cost one system call and wake the peer once, not once each.
 */
export abstract class NativeDatagramSocket<P> implements DatagramSocket<P> {
  protected closed = false;
  protected handle!: NativeHandle;
  private readonly queued: Uint8Array[] = [];
  private readonly queuedPeers: (P | undefined)[] = [];
  protected readonly queuedPorts = new Uint32Array(MAX_SEND_BATCH);
  private readonly results = new Int32Array(MAX_SEND_BATCH);
  private flushPending = false;
  private readonly flushNow = (): void => this.flush();

  constructor(
    protected readonly addon: DatagramAddon,
    protected readonly events: DatagramSocketEvents<P>,
  ) {}

  get port(): number {
    return this.handle.port;
  }

  get sendBufferBytes(): number {
    return this.handle.sendBufferBytes;
  }

  /** Queues `datagram` for this tick's batch. Failures the kernel reports are counted through onSendFailures. */
  send(datagram: Uint8Array, peer: P): boolean {
    if (this.closed) return false;
    const count = this.queued.length;
    if (!this.destination(peer, count)) return false;
    this.queuedPeers[count] = peer;
    this.queued.push(datagram);
    if (count + 1 === MAX_SEND_BATCH) {
      this.flush();
    } else if (!this.flushPending) {
      this.flushPending = true;
      process.nextTick(this.flushNow);
    }
    return true;
  }

  setRef(ref: boolean): void {
    if (!this.closed) this.addon.ref(this.handle, ref);
  }

  /** Sends what is queued, then closes. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.addon.close(this.handle);
  }

  /** Writes where queued datagram `index` goes (queuedPorts, and addresses for udp); false when `peer` cannot be sent to. */
  protected abstract destination(peer: P, index: number): boolean;
  /** The addresses argument of sendBatch (unconnected udp), else undefined. */
  protected abstract addresses(): Uint8Array | undefined;
  /** The error saying nobody is bound at `peer` (ECONNREFUSED). */
  protected abstract refusal(peer: P): Error;
  /** Whether two peers are one (one unreachable report per peer and batch). */
  protected abstract samePeer(a: P, b: P): boolean;

  private flush(): void {
    this.flushPending = false;
    const count = this.queued.length;
    if (count === 0 || this.closed) {
      this.queued.length = 0;
      return;
    }
    const failed = this.addon.sendBatch(this.handle, this.queuedPorts, this.queued, count, this.results, this.addresses());
    this.queued.length = 0;
    if (failed === 0) return;
    this.events.onSendFailures?.(failed);
    let gone: P | undefined;
    for (let i = 0; i < count; i++) {
      const peer = this.queuedPeers[i]!;
      // Nobody is bound there: the peer is gone (reported once per peer and batch).
      if (this.results[i] === ECONNREFUSED && (gone === undefined || !this.samePeer(peer, gone))) {
        gone = peer;
        this.events.onUnreachable(this.refusal(peer), peer);
      }
    }
  }
}

const ECONNREFUSED = osConstants.errno.ECONNREFUSED;
