import { timeoutField } from "../deadline.js";
import type { Connection, ConnectionHandler } from "../transport/transport.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameKind, type FrameHeader } from "../wire/header.js";
import { ProtocolError } from "../wire/protocol-error.js";
import { SeqTable } from "../wire/seq-table.js";
import type { ClientCall } from "./client-call.js";

/** What a ClientConnection reports to its channel. */
export interface ConnectionOwner {
  readonly codecId: number;
  /** The reply to `call` arrived (the call is already out of the in-flight table). */
  settle(call: ClientCall, header: FrameHeader, body: Uint8Array): void;
  /** The server sent GOAWAY on `connection`: new calls must go elsewhere. */
  goAway(connection: ClientConnection): void;
  /** `connection` closed; `calls` were in flight on it (written, unanswered). */
  lost(connection: ClientConnection, calls: Iterable<ClientCall>, error: Error | undefined): void;
}

const EMPTY_BODY = new Uint8Array(0);

/**
 * A channel's side of one connection: assigns seqs, keeps the in-flight table (seq → call), and
 * routes replies back. The socket is ref'd only while calls are in flight, so an idle channel
 * never keeps the process alive.
 */
export class ClientConnection implements ConnectionHandler {
  private readonly calls = new SeqTable<ClientCall>();
  private nextSeq = 1;
  /** True once seqs wrapped around 2^32: from then on a seq still in flight is skipped. */
  private wrapped = false;
  /** GOAWAY received: no new calls here; closed once the last one completes. */
  draining = false;
  closed = false;
  /** Resolves when the connection has closed (for Channel.close). */
  readonly done: Promise<void>;
  private markDone: () => void = () => undefined;
  /** Reused for every frame sent (the connection copies it). */
  private readonly out: OutgoingHeader;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly connection: Connection,
  ) {
    this.done = new Promise((resolve) => (this.markDone = resolve));
    this.out = { kind: FrameKind.REQUEST, codec: owner.codecId, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };
    connection.setRef(false);
    connection.start(this);
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** Sends `call`'s request, `body` encoded. `now` is Date.now() when the call has a deadline (the header carries the ms left). */
  write(call: ClientCall, body: Uint8Array, now: number): void {
    let seq = this.nextSeq;
    if (this.wrapped) while (this.calls.get(seq) !== undefined) seq = seq === 0xffffffff ? 1 : seq + 1;
    if (seq === 0xffffffff) {
      this.nextSeq = 1;
      this.wrapped = true;
    } else {
      this.nextSeq = seq + 1;
    }
    call.seq = seq;
    call.connection = this;
    if (this.calls.size === 0) this.connection.setRef(true);
    this.calls.set(seq, call);
    const out = this.out;
    out.kind = FrameKind.REQUEST;
    out.seq = seq;
    out.method = call.method.id;
    out.timeoutMs = call.deadline === Infinity ? 0 : timeoutField(call.deadline, now);
    this.connection.send(out, body, call.metadataBlock);
  }

  /** Gives up on `call` (deadline or abort): forgets it and tells the server with CANCEL. */
  cancel(call: ClientCall): void {
    if (this.calls.get(call.seq) !== call) return;
    this.calls.delete(call.seq);
    this.forget(call);
    const out = this.out;
    out.kind = FrameKind.CANCEL;
    out.seq = call.seq;
    out.method = call.method.id;
    out.timeoutMs = 0;
    this.connection.send(out, EMPTY_BODY);
  }

  onFrame(header: FrameHeader, body: Uint8Array): void {
    switch (header.kind) {
      case FrameKind.RESPONSE: {
        const call = this.calls.delete(header.seq);
        // A reply to a call that gave up (deadline, abort) is dropped.
        if (call === undefined) return;
        this.forget(call);
        this.owner.settle(call, header, body);
        return;
      }
      case FrameKind.PING: {
        const out = this.out;
        out.kind = FrameKind.PONG;
        out.seq = header.seq;
        out.method = 0;
        out.timeoutMs = 0;
        this.connection.send(out, body);
        return;
      }
      case FrameKind.PONG:
        return;
      case FrameKind.GOAWAY:
        if (!this.draining) {
          this.draining = true;
          this.owner.goAway(this);
          if (this.calls.size === 0) this.connection.end();
        }
        return;
      default:
        this.connection.destroy(
          new ProtocolError(`a server must not send ${FrameKind[header.kind]} frames (seq ${header.seq})`, undefined),
        );
    }
  }

  /** Takes every call in flight off this connection (for Channel.close, which fails them itself). */
  abandon(): ClientCall[] {
    const calls = this.calls.values();
    this.calls.clear();
    for (const call of calls) call.connection = undefined;
    return calls;
  }

  onClose(error: Error | undefined): void {
    this.closed = true;
    const calls = this.calls.values();
    this.calls.clear();
    this.owner.lost(this, calls, error);
    this.markDone();
  }

  /** After `call` left the table: the socket is unref'd when idle, or closed when draining. */
  private forget(call: ClientCall): void {
    call.connection = undefined;
    if (this.calls.size === 0) {
      if (this.draining) this.connection.end();
      else this.connection.setRef(false);
    }
  }
}
