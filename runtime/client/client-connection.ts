import type { AuthFailure } from "../auth/auth-failure.js";
import type { AuthSuccess } from "../auth/auth-step.js";
import type { ClientAuth } from "../auth/client-auth.js";
import { clientAuthGuard, type ClientAuthGuard } from "../auth/client-auth-guard.js";
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
  /** Only with auth: the handshake on `connection` succeeded; calls may now be written on it. */
  authenticated(connection: ClientConnection): void;
  /**
   * Authentication failed on `connection`: its handshake or a later re-challenge, a server that
   * requires authentication from a channel without auth, or one without authentication asked
   * to authenticate. `calls` were in flight on it (none during a handshake); `message` says why
   * and is safe to show (code UNAUTHENTICATED). The connection is closing; lost() follows with
   * no calls.
   */
  authFailed(connection: ClientConnection, message: string, calls: ClientCall[]): void;
}

const EMPTY_BODY = new Uint8Array(0);

/** AUTH frames carry codec, flags, status, seq, method and timeout 0 (docs/auth.md). */
const AUTH_HEADER: OutgoingHeader = { kind: FrameKind.AUTH, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };

/**
 * A channel's side of one connection: assigns seqs, keeps the in-flight table (seq → call), and
 * routes replies back. The socket is ref'd only while calls are in flight, so an idle channel
 * never keeps the process alive.
 *
 * With auth the connection first runs the CHAP handshake (HELLO out, then the server's
 * CHALLENGE answered): until owner.authenticated() the channel writes no call on it, every frame
 * goes to the guard, and the socket stays ref'd (calls are waiting for it). After success the
 * frame path costs one boolean test more than without auth; re-challenges (AUTH frames) are
 * answered as they come, without holding calls back.
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
  /** True while the handshake runs: every frame goes to the guard. */
  private handshaking: boolean;
  private readonly guard: ClientAuthGuard | undefined;
  private readonly authName: string | undefined;
  /** Set once authentication failed here: the connection is closing. */
  private authFailure: string | undefined;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly connection: Connection,
    auth?: ClientAuth,
  ) {
    this.done = new Promise((resolve) => (this.markDone = resolve));
    this.out = { kind: FrameKind.REQUEST, codec: owner.codecId, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };
    if (auth === undefined) {
      this.handshaking = false;
      this.guard = undefined;
      this.authName = undefined;
      connection.setRef(false);
      connection.start(this);
      return;
    }
    this.handshaking = true;
    this.authName = auth.name;
    this.guard = clientAuthGuard(auth, {
      send: (body) => this.connection.send(AUTH_HEADER, body),
      authenticated: (success) => this.authenticated(success),
      failed: (failure) => this.guardFailed(failure),
    });
    // Calls wait for this handshake: it keeps the process alive like a connection attempt.
    connection.setRef(true);
    connection.start(this);
    this.guard.start();
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
    if (this.handshaking) {
      if (header.kind === FrameKind.AUTH) this.guard!.receive(body);
      else this.guard!.admit(header.kind);
      return;
    }
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
      case FrameKind.AUTH:
        if (this.guard !== undefined) this.guard.receive(body);
        else this.fail(`the server at ${this.connection.peerAddress} requires authentication: give the channel an auth option { name, secret }`);
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
    this.guard?.close();
    const calls = this.calls.values();
    this.calls.clear();
    this.owner.lost(this, calls, error);
    this.markDone();
  }

  private authenticated(success: AuthSuccess): void {
    this.handshaking = false;
    this.connection.bindSession?.(success.session);
    // From now on the socket is ref'd only while calls are in flight (write() refs it).
    this.connection.setRef(false);
    this.owner.authenticated(this);
  }

  private guardFailed(failure: AuthFailure): void {
    const where = `authenticating as ${JSON.stringify(this.authName)} with ${this.connection.peerAddress}`;
    this.fail(`${failure.toRpcError().rawMessage} (${where})`);
  }

  /**
   * Authentication failed: nothing more is handled here. end() flushes what is queued (a FAILURE
   * telling the server why this client refused it) before closing; the calls in flight go to the
   * owner with the reason.
   */
  private fail(message: string): void {
    if (this.authFailure !== undefined) return;
    this.authFailure = message;
    if (this.guard !== undefined) {
      // Any frame still delivered goes to the closed guard, which ignores it.
      this.handshaking = true;
      this.guard.close();
    }
    const calls = this.abandon();
    this.connection.end();
    this.owner.authFailed(this, message, calls);
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
