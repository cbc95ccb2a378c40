import type { Session } from "../auth/session.js";
import { Code } from "../code.js";
import { RpcError } from "../rpc-error.js";
import type { Timed, TimerList } from "../timer-queue.js";
import { encodeErrorBody } from "../wire/error-body.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameFlags, FrameKind, type FrameHeader, HEADER_BYTES } from "../wire/header.js";
import { AuthRelay, type AuthRelayOwner } from "./datagram-auth-relay.js";
import { type DatagramClock, eventLoopClock } from "./datagram-clock.js";
import {
  CONTROL_KIND,
  ControlType,
  DATAGRAM_OVERHEAD,
  TRAILER_BYTES,
  copyForResend,
  decodeConnectBody,
  decodeDatagramHeader,
  encodeControl,
  encodeDatagram,
  equalBytes,
  writeStatus,
} from "./datagram-frame.js";
import { ReplyCache, ReplyState } from "./datagram-reply-cache.js";
import { NO_ACK, type PendingRequest, RequestTable, type RetransmitOwner } from "./datagram-retransmit.js";
import { DatagramSeal } from "./datagram-seal.js";
import type { DatagramLink } from "./datagram-socket.js";
import { DatagramStats } from "./datagram-stats.js";
import { CLIENT_IDLE_MS, MAX_EARLY_DATAGRAMS, SERVER_IDLE_MS } from "./datagram-timing.js";
import type { Connection, ConnectionHandler } from "./transport.js";

export type DatagramRole = "client" | "server";

export interface DatagramConnectionInit<P> {
  readonly role: DatagramRole;
  /** "udp", "netlink": for messages. */
  readonly scheme: string;
  readonly link: DatagramLink<P>;
  readonly peer: P;
  readonly peerAddress: string;
  /** The client's random id of this connection (CONNECT/ACCEPT). */
  readonly connectionId: Uint8Array;
  /** This side's datagram limit (maxDatagram). */
  readonly maxDatagramBytes: number;
  /** The largest body this side accepts: announced to the peer, and what is checked on receipt. */
  readonly receiveMaxBody: number;
  /** The largest body the peer announced it accepts. */
  readonly peerMaxBody: number;
  /** The listener's or transport's counters, counted along. */
  readonly parentStats: DatagramStats;
  /** Datagrams that arrived before the connection existed (client: between ACCEPT and now), in order. */
  readonly early?: readonly (readonly [Uint8Array, number])[];
  /** Called once, when the connection closes: the listener forgets it, the client closes its socket. */
  readonly released: (connection: DatagramConnection<P>) => void;
  /** Where its timers run and deferred work goes (datagram-clock.ts); the event loop's by default. */
  readonly clock?: DatagramClock;
}

/** The client's check for an idle connection: an entry of the shared timer queue. */
class IdleCheck implements Timed {
  timerAt = 0;
  timerPrev: Timed | undefined = undefined;
  timerNext: Timed | undefined = undefined;
  timerList: TimerList | undefined = undefined;
  constructor(private readonly connection: { idleCheck(): void }) {}
  onDeadline(): void {
    this.connection.idleCheck();
  }
}

/**
 * One connection of a datagram transport (udp, netlink), either side, behind the same Connection
 * contract as a stream: the RPC layer sends and receives frames and never learns that each went
 * in a datagram of its own. What a stream gives for free is done here:
 *
 * - Size: a frame whose body exceeds the smaller of this side's limit and the peer's announced
 *   one is never sent, never truncated: a request fails at once with RESOURCE_EXHAUSTED (a reply
 *   frame delivered locally), a reply is replaced by a RESOURCE_EXHAUSTED reply.
 * - Loss (client): every request is sent again until its reply arrives, the caller gives up, or
 *   its deadline or the horizon passes (datagram-retransmit.ts, datagram-timing.ts). REQUESTs
 *   carry an acknowledgement in their status field (RequestTable.ackDelta).
 * - Duplicates (server): a request runs at most once per seq; a copy gets the cached reply, or
 *   nothing while the first still runs (datagram-reply-cache.ts). Client: a reply to no
 *   outstanding request is dropped.
 * - The handshake's AUTH frames are made reliable by AuthRelay.
 * - Authentication: after bindSession every datagram is sealed and checked (datagram-seal.ts).
 * - Connection lifecycle: CLOSE (kind 8) both ways on end()/destroy(); a RESET from the server
 *   (it knows no connection from us) fails the connection UNAVAILABLE; a client closes itself
 *   after CLIENT_IDLE_MS without traffic, a listener forgets a server connection after
 *   SERVER_IDLE_MS (sweep).
 *
 * onClose is reported from process.nextTick (the clock's defer), never from inside send(), end()
 * or destroy().
 */
export class DatagramConnection<P> implements Connection, RetransmitOwner, AuthRelayOwner {
  closed = false;
  receivedAt = 0;
  readonly stats: DatagramStats;
  readonly peerAddress: string;
  readonly role: DatagramRole;
  readonly connectionId: Uint8Array;
  readonly peerMaxBody: number;
  private readonly scheme: string;
  private readonly link: DatagramLink<P>;
  private readonly peer: P;
  private readonly maxDatagramBytes: number;
  private readonly receiveMaxBody: number;
  private readonly sendMaxBody: number;
  private readonly released: (connection: DatagramConnection<P>) => void;
  private readonly clock: DatagramClock;
  private handler: ConnectionHandler | undefined;
  /** Datagrams received before start(); undefined once started. */
  private early: [Uint8Array, number][] | undefined;
  private seal: DatagramSeal | undefined;
  private readonly header: FrameHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0, length: 0 };
  private readonly requests: RequestTable | undefined;
  private readonly replies: ReplyCache | undefined;
  private readonly auth: AuthRelay;
  private readonly idle: IdleCheck | undefined;
  /** Set by every datagram sent or received; the idle check clears it. */
  private active = true;
  /** Local replies (oversize requests) waiting for the next tick. */
  private localReplies: [FrameHeader, Uint8Array][] | undefined;
  private closeError: Error | undefined;
  private closeReported = false;

  constructor(init: DatagramConnectionInit<P>) {
    this.role = init.role;
    this.scheme = init.scheme;
    this.link = init.link;
    this.peer = init.peer;
    this.peerAddress = init.peerAddress;
    this.connectionId = init.connectionId;
    this.maxDatagramBytes = init.maxDatagramBytes;
    this.receiveMaxBody = init.receiveMaxBody;
    this.sendMaxBody = init.maxDatagramBytes - DATAGRAM_OVERHEAD;
    this.peerMaxBody = init.peerMaxBody;
    this.released = init.released;
    this.clock = init.clock ?? eventLoopClock;
    this.stats = new DatagramStats(init.parentStats);
    this.receivedAt = Date.now();
    this.early = init.early === undefined ? [] : init.early.map(([datagram, at]) => [datagram, at]);
    this.auth = new AuthRelay(this, this.stats, this.clock.timers);
    if (init.role === "client") {
      this.requests = new RequestTable(this, this.clock.timers);
      this.idle = new IdleCheck(this);
    } else {
      this.replies = new ReplyCache(this.stats);
    }
  }

  /** Whether a session is bound (every datagram is tagged). */
  get sealed(): boolean {
    return this.seal !== undefined;
  }

  /** Calls running on the server side (handed to the RPC layer, not answered or cancelled). */
  get running(): number {
    return this.replies?.running ?? 0;
  }

  /** Requests the client is waiting for. */
  get outstanding(): number {
    return this.requests?.size ?? 0;
  }

  start(handler: ConnectionHandler): void {
    this.handler = handler;
    if (this.closed) {
      this.early = undefined;
      this.reportCloseSoon();
      return;
    }
    if (this.idle !== undefined) this.clock.timers.add(this.idle, Date.now() + CLIENT_IDLE_MS, CLIENT_IDLE_MS);
    if (this.early!.length === 0) {
      this.early = undefined;
      return;
    }
    // Like a stream's first read, what arrived early is delivered after start() returned (the
    // owner may still be setting up: a client sends its HELLO right after start()); datagrams
    // arriving meanwhile queue behind it.
    this.clock.defer(() => this.flushEarly());
  }

  bindSession(session: Session): void {
    if (this.seal !== undefined) throw new RpcError(Code.INTERNAL, `bindSession: a session is already bound to the connection with ${this.peerAddress}`);
    this.seal = this.role === "client"
      ? new DatagramSeal(session, "client-to-server", "server-to-client")
      : new DatagramSeal(session, "server-to-client", "client-to-server");
  }

  send(header: OutgoingHeader, body: Uint8Array, metadataBlock?: Uint8Array): void {
    if (this.closed) return;
    const bodyBytes = body.length + (metadataBlock === undefined ? 0 : metadataBlock.length);
    const limit = this.sendMaxBody < this.peerMaxBody ? this.sendMaxBody : this.peerMaxBody;
    if (bodyBytes > limit) {
      this.oversize(header, bodyBytes, limit);
      return;
    }
    const tagged = this.seal !== undefined;
    const datagram = encodeDatagram(header, body, metadataBlock, tagged);
    switch (header.kind) {
      case FrameKind.REQUEST:
        if (this.requests !== undefined) {
          const now = Date.now();
          if (!this.requests.add(header.seq, datagram, now, header.timeoutMs)) {
            this.destroy(new RpcError(Code.INTERNAL, `the RPC layer reused seq ${header.seq} while that request is outstanding`));
            return;
          }
          writeStatus(datagram, this.requests.ackDelta(header.seq));
        }
        break;
      case FrameKind.CANCEL:
        this.requests?.take(header.seq);
        break;
      case FrameKind.RESPONSE:
        this.replies?.answer(header.seq, datagram, Date.now());
        break;
    }
    this.transmit(datagram);
    if (header.kind === FrameKind.AUTH) this.auth.sent(datagram, tagged, Date.now());
  }

  end(): void {
    this.close(undefined, true);
  }

  destroy(error?: Error): void {
    this.close(error, true);
  }

  setRef(ref: boolean): void {
    if (this.role === "client") this.link.socket.setRef(ref);
  }

  /** One datagram from the peer (the listener or the client socket routes it here). */
  receive(datagram: Uint8Array, receivedAt: number): void {
    if (this.closed) return;
    this.receivedAt = receivedAt;
    this.active = true;
    const early = this.early;
    if (early !== undefined) {
      if (early.length < MAX_EARLY_DATAGRAMS) early.push([datagram, receivedAt]);
      return;
    }
    const header = this.header;
    if (decodeDatagramHeader(datagram, header) !== undefined) {
      this.stats.count("droppedMalformed");
      return;
    }
    const seal = this.seal;
    if ((header.flags & FrameFlags.TAGGED) !== 0) {
      if (seal === undefined) {
        this.stats.count("droppedSpoofed");
        return;
      }
      const verdict = seal.open(datagram);
      if (verdict !== "ok") {
        this.stats.count(verdict === "spoofed" ? "droppedSpoofed" : "droppedReplayed");
        return;
      }
    } else if (seal !== undefined) {
      this.untaggedAfterBinding(header, datagram);
      return;
    }
    if (header.kind === CONTROL_KIND) {
      this.control(header.method, datagram);
      return;
    }
    if (header.length > this.receiveMaxBody) {
      this.stats.count("droppedMalformed");
      return;
    }
    const body = datagram.subarray(HEADER_BYTES, HEADER_BYTES + header.length);
    if (this.role === "client") this.clientFrame(header, body);
    else this.serverFrame(header, body, receivedAt);
  }

  /** The socket learnt nobody listens at the peer (client), or the peer is gone (server, netlink). */
  unreachable(error: Error): void {
    if (this.closed) return;
    const reason = new RpcError(Code.UNAVAILABLE, `${this.peerAddress} is unreachable: ${error.message}`, { cause: error });
    this.close(reason, false);
  }

  /** Listener sweep (server side): forgets old cached replies; closes the connection when idle for SERVER_IDLE_MS. */
  sweep(now: number): void {
    const replies = this.replies;
    if (replies === undefined || this.closed) return;
    replies.sweep(now);
    if (replies.running === 0 && now - this.receivedAt > SERVER_IDLE_MS) this.close(undefined, true);
  }

  /** The client's idle timer ran out. */
  idleCheck(): void {
    if (this.closed) return;
    if (this.active || this.requests!.size > 0) {
      this.active = false;
      this.clock.timers.add(this.idle!, Date.now() + CLIENT_IDLE_MS, CLIENT_IDLE_MS);
      return;
    }
    this.close(undefined, true);
  }

  private flushEarly(): void {
    const early = this.early!;
    this.early = undefined;
    for (const [datagram, at] of early) this.receive(datagram, at);
  }

  // --- RetransmitOwner, AuthRelayOwner ---

  retransmit(request: PendingRequest): void {
    if (this.closed) return;
    const tagged = (request.datagram[5]! & FrameFlags.TAGGED) !== 0;
    const copy = copyForResend(request.datagram, tagged);
    writeStatus(copy, this.requests!.ackDelta(request.seq));
    this.stats.count("retransmitted");
    this.transmitSealed(copy, tagged);
  }

  resendAuth(datagram: Uint8Array, tagged: boolean): void {
    if (this.closed) return;
    this.stats.count("retransmitted");
    // An AUTH frame that went out untagged (before binding) goes again as it was: the peer may
    // not have bound yet. A tagged one needs a new counter.
    if (tagged) this.transmitSealed(copyForResend(datagram, true), true);
    else this.link.transmit(datagram, this.peer);
  }

  // --- receiving ---

  private clientFrame(header: FrameHeader, body: Uint8Array): void {
    switch (header.kind) {
      case FrameKind.RESPONSE:
        if (this.requests!.take(header.seq) === undefined) {
          // A copy of a reply already delivered (its request was sent twice), or one the caller gave up on.
          this.stats.count("duplicates");
          return;
        }
        break;
      case FrameKind.AUTH:
        if (!this.auth.received(body)) return;
        break;
    }
    this.deliver(header, body);
  }

  private serverFrame(header: FrameHeader, body: Uint8Array, receivedAt: number): void {
    const replies = this.replies!;
    switch (header.kind) {
      case FrameKind.REQUEST: {
        const ack = header.status;
        header.status = 0;
        if (ack !== NO_ACK) replies.acknowledge((header.seq - ack) >>> 0);
        const entry = replies.get(header.seq);
        if (entry !== undefined) {
          this.stats.count("duplicates");
          if (entry.state === ReplyState.ANSWERED) this.resendReply(entry.datagram!);
          return;
        }
        if (replies.isStale(header.seq)) {
          // A late copy of a request the client has finished with: its entry is gone, it must not run again.
          this.stats.count("duplicates");
          return;
        }
        replies.begin(header.seq);
        break;
      }
      case FrameKind.CANCEL:
        replies.cancel(header.seq, receivedAt);
        break;
      case FrameKind.AUTH:
        if (!this.auth.received(body)) return;
        break;
    }
    this.deliver(header, body);
  }

  private control(type: number, datagram: Uint8Array): void {
    switch (type) {
      case ControlType.CLOSE:
        // The peer closed: nothing is sent back.
        this.close(undefined, false);
        return;
      case ControlType.RESET:
        this.reset(datagram);
        return;
      case ControlType.ACCEPT:
      case ControlType.CONNECT:
        // A copy of the opening exchange (the listener answers CONNECT copies itself).
        this.stats.count("duplicates");
        return;
      default:
        this.stats.count("droppedMalformed");
    }
  }

  /** After binding, an untagged datagram is a late copy of a handshake frame or of the ACCEPT, a RESET, or forged. */
  private untaggedAfterBinding(header: FrameHeader, datagram: Uint8Array): void {
    if (header.kind === FrameKind.AUTH) {
      const body = datagram.subarray(HEADER_BYTES, HEADER_BYTES + header.length);
      if (this.auth.isRecent(body)) {
        this.auth.received(body);
        return;
      }
    } else if (header.kind === CONTROL_KIND && header.method === ControlType.RESET) {
      this.reset(datagram);
      return;
    } else if (header.kind === CONTROL_KIND && header.method === ControlType.ACCEPT && this.isOurAccept(datagram, header.length)) {
      // A late copy of the opening exchange (CONNECT was sent more than once): harmless.
      this.stats.count("duplicates");
      return;
    }
    this.stats.count("droppedSpoofed");
  }

  private isOurAccept(datagram: Uint8Array, length: number): boolean {
    const accept = decodeConnectBody(datagram.subarray(HEADER_BYTES, HEADER_BYTES + length));
    return accept !== undefined && equalBytes(accept.connectionId, this.connectionId);
  }

  /**
   * The server knows no connection from us. Believed when it echoes a datagram we sent: after
   * binding, the trailer (counter and tag) of one of our last datagrams, which only someone who
   * saw it can know.
   */
  private reset(datagram: Uint8Array): void {
    if (this.role !== "client") {
      this.stats.count("droppedMalformed");
      return;
    }
    const echo = datagram.subarray(HEADER_BYTES, datagram.length - ((datagram[5]! & FrameFlags.TAGGED) !== 0 ? TRAILER_BYTES : 0));
    if (this.seal !== undefined && !this.seal.sentRecently(echo.subarray(HEADER_BYTES))) {
      this.stats.count("droppedSpoofed");
      return;
    }
    if (echo.length < HEADER_BYTES) {
      this.stats.count("droppedMalformed");
      return;
    }
    const reason = `${this.peerAddress} reset the connection: the server has no connection from this client ` +
      `(it restarted, or forgot an idle connection after ${SERVER_IDLE_MS / 1000} s); calls in flight may have run`;
    this.close(new RpcError(Code.UNAVAILABLE, reason), false);
  }

  private deliver(header: FrameHeader, body: Uint8Array): void {
    try {
      this.handler!.onFrame(header, body);
    } catch (error) {
      // The handler broke its no-throw contract: this connection cannot go on, no other is affected.
      this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // --- sending ---

  private transmit(datagram: Uint8Array): void {
    this.active = true;
    if (this.seal !== undefined) this.seal.seal(datagram);
    this.link.transmit(datagram, this.peer);
  }

  /** Sends a copy made by copyForResend: sealed under a new counter when it was tagged (a session, once bound, stays). */
  private transmitSealed(datagram: Uint8Array, tagged: boolean): void {
    if (tagged) this.seal!.seal(datagram);
    this.link.transmit(datagram, this.peer);
  }

  private resendReply(datagram: Uint8Array): void {
    const tagged = (datagram[5]! & FrameFlags.TAGGED) !== 0;
    this.stats.count("retransmitted");
    this.transmitSealed(tagged ? copyForResend(datagram, true) : datagram, tagged);
  }

  /** A frame too large for one datagram: never sent, never truncated. */
  private oversize(header: OutgoingHeader, bodyBytes: number, limit: number): void {
    this.stats.count("droppedOversize");
    const why = limit === this.sendMaxBody
      ? `maxDatagram ${this.maxDatagramBytes} bytes less ${DATAGRAM_OVERHEAD} of header and authentication trailer`
      : `the largest body ${this.role === "client" ? "the server" : "the client"} accepts`;
    const what = `${bodyBytes} bytes does not fit in one ${this.scheme} datagram to ${this.peerAddress}: at most ${limit} body bytes (${why})`;
    if (header.kind === FrameKind.REQUEST && this.role === "client") {
      const reply: FrameHeader = { ...header, kind: FrameKind.RESPONSE, flags: 0, status: Code.RESOURCE_EXHAUSTED, timeoutMs: 0, length: 0 };
      const body = encodeErrorBody(`request of ${what}`);
      reply.length = body.length;
      if (this.localReplies === undefined) {
        this.localReplies = [];
        this.clock.defer(() => this.flushLocalReplies());
      }
      this.localReplies.push([reply, body]);
      return;
    }
    if (header.kind === FrameKind.RESPONSE && header.status === Code.OK) {
      this.send({ ...header, flags: 0, status: Code.RESOURCE_EXHAUSTED }, encodeErrorBody(`reply of ${what}`));
      return;
    }
    if (header.kind === FrameKind.RESPONSE) {
      // An error reply too long: its message is cut to what fits (a reply always reaches the caller).
      const message = encodeErrorBody(`error reply of ${what}; the error was ${header.status}`);
      this.send({ ...header, flags: 0 }, message.subarray(0, Math.min(message.length, limit)));
    }
  }

  private flushLocalReplies(): void {
    const replies = this.localReplies!;
    this.localReplies = undefined;
    for (const [header, body] of replies) {
      if (this.closed || this.handler === undefined) return;
      this.deliver(header, body);
    }
  }

  // --- closing ---

  /** Closes once: tells the peer (CLOSE) when `notify`, releases timers and the socket, reports onClose on the next tick. */
  private close(error: Error | undefined, notify: boolean): void {
    if (this.closed) return;
    if (notify) this.transmit(encodeControl(ControlType.CLOSE, new Uint8Array(0), this.seal !== undefined));
    this.closed = true;
    if (error !== undefined) this.closeError ??= error;
    this.requests?.clear();
    this.replies?.clear();
    this.auth.stop();
    if (this.idle?.timerList !== undefined) this.clock.timers.remove(this.idle);
    this.released(this);
    this.reportCloseSoon();
  }

  private reportCloseSoon(): void {
    if (this.handler === undefined || this.closeReported) return;
    this.closeReported = true;
    this.clock.defer(() => this.handler!.onClose(this.closeError));
  }
}
