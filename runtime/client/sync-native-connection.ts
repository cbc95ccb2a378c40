import type { AuthStep } from "../auth/auth-step.js";
import type { ClientAuth } from "../auth/client-auth.js";
import { type ClientHandshake, clientHandshake } from "../auth/client-handshake.js";
import { Code } from "../code.js";
import type { Codec } from "../codec/codec.js";
import { timeoutField } from "../deadline.js";
import type { MethodDefinition } from "../definition.js";
import { RpcError } from "../rpc-error.js";
import type { ConnectionHandler } from "../transport/transport.js";
import { decodeErrorBody } from "../wire/error-body.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameFlags, type FrameHeader, FrameKind } from "../wire/header.js";
import { ProtocolError } from "../wire/protocol-error.js";
import { type ChannelOptions, normalizeChannelOptions } from "./channel-options.js";
import { loadSyncSocket, type SyncSocketAddon } from "./sync-native-addon.js";
import { DatagramWire } from "./sync-native-datagram.js";
import { type NativeAddress, nativeAddress, nativeUnsupported } from "./sync-native-target.js";
import { type BlockingWire, StreamWire, describeError } from "./sync-native-wire.js";
import { remoteError } from "./remote-error.js";

/** What a NativeSyncConnection needs to know; validated by its creator. */
export interface NativeConnectionSettings {
  /** The channel's target as given, for messages (as the async channel words them). */
  readonly target: string;
  readonly address: NativeAddress;
  readonly codecId: number;
  readonly codecName: string;
  readonly maxBodyBytes: number;
  readonly connectTimeoutMs: number;
  /** CHAP credentials: every new connection authenticates before its first call. */
  readonly auth: ClientAuth | undefined;
}

/**
 * The native engine of blocking calls: one socket owned by the calling thread, driven by the
 * sync_socket addon (blocking write, poll(2)-bounded read), speaking the same frames as the async
 * channel: a byte stream over unix and tcp (StreamWire), the datagram layer over udp and netlink
 * (DatagramWire: CONNECT, per-datagram tags, retransmission while the caller waits).
 * [not thread-safe; one call at a time, which a blocked thread guarantees.]
 *
 * Contract of call(): it sends the request and reads until the RESPONSE with its seq arrives, and
 * returns the response body (owned by the caller) or throws RpcError, worded as the async channel
 * words the same outcome:
 * - the server's status and message for an error reply (UNIMPLEMENTED also names the method);
 * - DEADLINE_EXCEEDED once `deadline` passes, never before: a CANCEL for the call is sent and the
 *   connection is kept, its late reply dropped when it comes (replies are matched by seq);
 * - UNAVAILABLE when the target cannot be reached (connect failure, connectTimeoutMs) or the
 *   connection is lost while waiting (end of stream, reset, a protocol violation); the connection
 *   is dropped and the next call opens a new one;
 * - UNAUTHENTICATED when authentication fails (settings.auth: the CHAP handshake runs on every new
 *   connection, HELLO first; re-challenges are answered while a call waits; a server that
 *   requires authentication from a connection without it says so). As on the async channel, the
 *   calls of the next AUTH_RETRY_MS then fail the same way at once, without connecting.
 * Between calls nothing reads the socket. Each call first takes what arrived meanwhile, without
 * waiting: late replies (dropped), PINGs (answered), re-challenges (answered, possibly too late:
 * a server that ended the session for it is then seen as a closed connection), GOAWAY or end of
 * stream (the connection is closed and the call opens a new one before sending anything, so a
 * server that restarted between two calls costs no failed call; over a datagram transport a
 * restarted server is only learnt from its RESET, which fails the call UNAVAILABLE as it does an
 * async call). A datagram connection idle for CLIENT_IDLE_MS is closed and a new one opened, as
 * the server may have forgotten it. A GOAWAY that arrives during a call closes the connection
 * after it; a call the server refused unstarted (FrameFlags.REFUSED) is sent once more on a new
 * connection, as the async channel does.
 *
 * The descriptor is outside libuv: it never keeps the process alive. close() releases it; so does
 * garbage collection of an unclosed connection.
 */
export class NativeSyncConnection implements ConnectionHandler {
  /** Most reads the between-calls drain makes, so a peer flooding PINGs cannot hold a call forever. */
  static readonly DRAIN_READS = 64;

  /** The open descriptor, shared with the finalizer (which must not hold this object). */
  private readonly fdCell: DescriptorCell;
  private open: OpenSocket | undefined;
  private seq = 0;
  /** The seq whose RESPONSE the running call waits for (0: none). */
  private awaitedSeq = 0;
  private reply: Reply | undefined;
  /** Set by a failed authentication: until `until` (performance.now()), calls fail at once with `message`. */
  private authRefusal: { readonly message: string; readonly until: number } | undefined;

  constructor(
    private readonly addon: SyncSocketAddon,
    private readonly settings: NativeConnectionSettings,
  ) {
    this.fdCell = { fd: -1, addon };
    descriptors.register(this, this.fdCell);
  }

  call(method: MethodDefinition, body: Uint8Array, metadataBlock: Uint8Array | undefined, deadline: number, timeoutMs: number | undefined): Uint8Array {
    const refusal = this.authRefusal;
    if (refusal !== undefined) {
      if (performance.now() < refusal.until) throw new RpcError(Code.UNAUTHENTICATED, `call to ${method.fullName}: ${refusal.message}`);
      this.authRefusal = undefined;
    }
    let resent = false;
    for (;;) {
      const open = this.ready(method, deadline, timeoutMs);
      const seq = this.nextSeq();
      this.sendRequest(open, method, seq, body, metadataBlock, deadline, timeoutMs);
      const reply = this.awaitReply(open, method, seq, deadline, timeoutMs);
      if (open.draining) this.drop(open);
      if (reply.status !== Code.OK && (reply.flags & FrameFlags.REFUSED) !== 0 && !resent) {
        // The server did not start it (it is draining): once more, on a new connection.
        resent = true;
        this.drop(open);
        continue;
      }
      return this.interpret(method, reply);
    }
  }

  /** Closes the socket (if open). The next call would open a new one; SyncCaller stops calls after close. */
  close(): void {
    if (this.open !== undefined) this.drop(this.open);
  }

  // --- frames from the server (ConnectionHandler, called from inside wire.receive()) ---

  onFrame(header: FrameHeader, body: Uint8Array): void {
    const open = this.open;
    // Frames after the connection was given up (later frames of the same read) are not looked at.
    if (open === undefined || open.lost !== undefined) return;
    const handshake = open.handshake;
    if (handshake !== undefined) {
      if (header.kind === FrameKind.AUTH) {
        this.applyAuth(open, handshake.receive(body));
        return;
      }
      if (handshake.state !== "authenticated") {
        this.applyAuth(open, handshake.unexpectedFrame(header.kind));
        return;
      }
    } else if (header.kind === FrameKind.AUTH) {
      open.authFailure = `the server at ${this.settings.address.uri} requires authentication: give the channel an auth option { name, secret }`;
      this.fail(open, new Error(open.authFailure));
      return;
    }
    switch (header.kind) {
      case FrameKind.RESPONSE:
        // A reply to an earlier call that gave up (deadline) is dropped.
        if (header.seq !== this.awaitedSeq || this.reply !== undefined) return;
        this.reply = {
          status: header.status,
          flags: header.flags,
          codec: header.codec,
          // A body in the wire's read buffer would be overwritten by the next read: the caller gets its own copy.
          body: open.wire.lasting(body) ? body : body.slice(),
        };
        return;
      case FrameKind.PING:
        this.sendControl(open, FrameKind.PONG, header.seq, body);
        return;
      case FrameKind.PONG:
        return;
      case FrameKind.GOAWAY:
        open.draining = true;
        return;
      default:
        this.fail(open, new ProtocolError(`a server must not send ${FrameKind[header.kind] ?? header.kind} frames (seq ${header.seq})`, undefined));
    }
  }

  onClose(error: Error | undefined): void {
    if (this.open !== undefined) this.fail(this.open, error);
  }

  // --- connection life ---

  /** The open, authenticated socket for the next call: the current one unless the peer ended it meanwhile. */
  private ready(method: MethodDefinition, deadline: number, timeoutMs: number | undefined): OpenSocket {
    const current = this.open;
    if (current !== undefined) {
      this.drainIdle(current);
      if (current.lost === undefined && !current.draining && !current.wire.idleTooLong()) return current;
      this.drop(current);
    }
    return this.connect(method, deadline, timeoutMs);
  }

  /** Takes in, without waiting, what arrived since the last call. */
  private drainIdle(open: OpenSocket): void {
    this.awaitedSeq = 0;
    for (let reads = 0; reads < NativeSyncConnection.DRAIN_READS && open.lost === undefined; reads++) {
      if (!this.readInto(open, 0)) return;
    }
  }

  private connect(method: MethodDefinition, deadline: number, timeoutMs: number | undefined): OpenSocket {
    const { address, connectTimeoutMs } = this.settings;
    const left = deadline - performance.now();
    if (left <= 0) throw this.deadlineError(method, timeoutMs);
    const byDeadline = left < connectTimeoutMs;
    const limit = byDeadline ? Math.ceil(left) : connectTimeoutMs;
    let wire: BlockingWire;
    try {
      wire = address.scheme === "unix" || address.scheme === "tcp"
        ? StreamWire.open(this.addon, address, this, this.settings.maxBodyBytes, limit)
        : DatagramWire.open(this.addon, address, this, this.settings.maxBodyBytes, limit);
    } catch (error) {
      if (error instanceof RpcError) throw new RpcError(error.code, `call to ${method.fullName}: ${error.rawMessage}`, { cause: error });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ETIMEDOUT" && byDeadline) throw this.deadlineError(method, timeoutMs, " (while connecting)");
      const reason = code === "ETIMEDOUT" ? `no answer within ${connectTimeoutMs} ms` : describeError(error);
      throw new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: cannot connect to ${address.uri}: ${reason}`, { cause: error, unsent: true });
    }
    const open: OpenSocket = {
      wire,
      handshake: undefined,
      draining: false,
      lost: undefined,
      authFailure: undefined,
    };
    this.open = open;
    this.fdCell.fd = wire.fd;
    if (this.settings.auth !== undefined) this.authenticate(open, this.settings.auth, method, deadline, timeoutMs);
    return open;
  }

  /** Runs the CHAP handshake on a new socket; returns once it succeeded, throws (socket dropped) otherwise. */
  private authenticate(open: OpenSocket, auth: ClientAuth, method: MethodDefinition, deadline: number, timeoutMs: number | undefined): void {
    const handshake = clientHandshake(auth);
    open.handshake = handshake;
    this.awaitedSeq = 0;
    // The server speaks first; HELLO makes one without authentication say so at once (FAILURE).
    this.sendControl(open, FrameKind.AUTH, 0, handshake.hello());
    while (handshake.state !== "authenticated") {
      if (open.lost !== undefined) throw this.handshakeLost(open, method);
      const now = performance.now();
      if (now >= deadline) {
        this.drop(open);
        throw this.deadlineError(method, timeoutMs, " (while authenticating)");
      }
      const handshakeLeft = handshake.deadline === undefined ? 0 : handshake.deadline - auth.clock.now();
      if (handshakeLeft <= 0) {
        this.applyAuth(open, handshake.expire());
        if (open.lost !== undefined) throw this.handshakeLost(open, method);
        // The handshake's clock has not reached its deadline yet: wait the last fraction of a ms.
      }
      const wait = Math.ceil(Math.max(1, Math.min(deadline - now, handshakeLeft)));
      this.readInto(open, wait);
    }
  }

  private applyAuth(open: OpenSocket, step: AuthStep): void {
    if (step.send !== undefined) this.sendControl(open, FrameKind.AUTH, 0, step.send);
    // After the send: a frame answering the server goes out as the handshake left it (untagged).
    if (step.done !== undefined && open.lost === undefined) open.wire.bindSession(step.done.session);
    if (step.fail !== undefined) {
      const where = `authenticating as ${JSON.stringify(this.settings.auth?.name)} with ${this.settings.address.uri}`;
      open.authFailure = `${step.fail.toRpcError().rawMessage} (${where})`;
      this.fail(open, new Error(open.authFailure));
    }
  }

  /**
   * One wait of at most `waitMs` (0: no waiting) for what the server sends. Returns false when
   * nothing came (time passed) or the connection was lost, which `open.lost` then records.
   */
  private readInto(open: OpenSocket, waitMs: number): boolean {
    return open.wire.receive(waitMs) && open.lost === undefined;
  }

  /** Marks the connection lost (`error` undefined: the server closed it); the caller drops it. */
  private fail(open: OpenSocket, error: Error | undefined): void {
    if (open.lost !== undefined) return;
    open.lost = { error };
  }

  private drop(open: OpenSocket): void {
    if (this.open === open) {
      this.open = undefined;
      this.fdCell.fd = -1;
    }
    open.wire.close();
    if (open.lost === undefined) open.lost = { error: undefined };
  }

  // --- one call ---

  private nextSeq(): number {
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  private sendRequest(
    open: OpenSocket,
    method: MethodDefinition,
    seq: number,
    body: Uint8Array,
    metadataBlock: Uint8Array | undefined,
    deadline: number,
    timeoutMs: number | undefined,
  ): void {
    const now = performance.now();
    const header = requestHeader;
    header.codec = this.settings.codecId;
    header.flags = metadataBlock === undefined ? FrameFlags.NONE : FrameFlags.METADATA;
    header.seq = seq;
    header.method = method.id;
    header.timeoutMs = timeoutField(deadline, now);
    let sent: boolean;
    try {
      sent = open.wire.send(header, body, metadataBlock, deadline === Infinity ? -1 : Math.ceil(deadline - now));
    } catch (error) {
      this.fail(open, new Error(describeError(error), { cause: error }));
      throw this.lostError(open, method);
    }
    if (!sent) {
      // Part of a frame went out: the stream cannot be used any more.
      this.drop(open);
      throw this.deadlineError(method, timeoutMs);
    }
  }

  private awaitReply(open: OpenSocket, method: MethodDefinition, seq: number, deadline: number, timeoutMs: number | undefined): Reply {
    this.awaitedSeq = seq;
    this.reply = undefined;
    try {
      for (;;) {
        const reply = this.reply;
        if (reply !== undefined) return reply;
        if (open.lost !== undefined) throw this.lostError(open, method);
        let wait = -1;
        if (deadline !== Infinity) {
          const left = deadline - performance.now();
          if (left <= 0) {
            this.sendControl(open, FrameKind.CANCEL, seq, EMPTY, method.id);
            if (open.lost !== undefined) this.drop(open);
            throw this.deadlineError(method, timeoutMs);
          }
          wait = Math.ceil(left);
        }
        this.readInto(open, wait);
      }
    } finally {
      this.awaitedSeq = 0;
      this.reply = undefined;
    }
  }

  /** A small frame (PONG, CANCEL, AUTH) written at once; a failure to write it loses the connection. */
  private sendControl(open: OpenSocket, kind: FrameKind, seq: number, body: Uint8Array, method = 0): void {
    if (open.lost !== undefined) return;
    controlHeader.kind = kind;
    controlHeader.seq = seq;
    controlHeader.method = method;
    try {
      // A socket with no room for a control frame is a peer that stopped reading: give it 1 s.
      if (!open.wire.send(controlHeader, body, undefined, CONTROL_WRITE_MS)) {
        this.fail(open, new Error(`the server did not take a ${FrameKind[kind]} frame within ${CONTROL_WRITE_MS} ms`));
      }
    } catch (error) {
      this.fail(open, new Error(describeError(error), { cause: error }));
    }
  }

  private interpret(method: MethodDefinition, reply: Reply): Uint8Array {
    if (reply.status === Code.OK) {
      if (reply.codec !== this.settings.codecId) {
        const expected = `${this.settings.codecId} (${this.settings.codecName})`;
        throw new RpcError(Code.INTERNAL, `reply to ${method.fullName} from ${this.settings.target} is in codec ${reply.codec}, expected ${expected}`);
      }
      return reply.body;
    }
    throw remoteError(reply.status, decodeErrorBody(reply.body), method);
  }

  // --- errors ---

  /** The error for a call whose connection was lost (the connection is dropped). */
  private lostError(open: OpenSocket, method: MethodDefinition): RpcError {
    const lost = open.lost;
    this.drop(open);
    if (open.authFailure !== undefined) {
      // As the async channel does: calls fail at once for a while, so a wrong secret is no reconnect loop.
      this.authRefusal = { message: open.authFailure, until: performance.now() + AUTH_RETRY_MS };
      return new RpcError(Code.UNAUTHENTICATED, `call to ${method.fullName}: ${open.authFailure}`);
    }
    const error = lost?.error;
    const reason = error === undefined ? "the server closed the connection" : error.message;
    return new RpcError(Code.UNAVAILABLE, `call to ${method.fullName}: connection to ${this.settings.target} lost (${reason})`, {
      cause: error,
    });
  }

  /** The error for a call whose connection ended before its handshake succeeded (the connection is dropped). */
  private handshakeLost(open: OpenSocket, method: MethodDefinition): RpcError {
    if (open.authFailure !== undefined) return this.lostError(open, method);
    const error = open.lost?.error;
    this.drop(open);
    const reason = error === undefined ? "the server closed the connection" : error.message;
    return new RpcError(
      Code.UNAVAILABLE,
      `call to ${method.fullName}: connection to ${this.settings.address.uri} closed during the authentication handshake (${reason})`,
      { cause: error },
    );
  }

  private deadlineError(method: MethodDefinition, timeoutMs: number | undefined, detail = ""): RpcError {
    return new RpcError(
      Code.DEADLINE_EXCEEDED,
      `call to ${method.fullName} on ${this.settings.target} did not complete within ${timeoutMs} ms${detail}`,
    );
  }
}

interface OpenSocket {
  /** What carries the frames; closed when the connection is dropped. */
  readonly wire: BlockingWire;
  /** Set when the channel authenticates; a connection is usable once its state is "authenticated". */
  handshake: ClientHandshake | undefined;
  /** GOAWAY received: closed after the call in progress. */
  draining: boolean;
  /** Set once the connection is unusable; `error` undefined means the server closed it. */
  lost: { readonly error: Error | undefined } | undefined;
  /** Why authentication failed here (shown to callers, code UNAUTHENTICATED); the connection is lost. */
  authFailure: string | undefined;
}

interface Reply {
  readonly status: number;
  readonly flags: number;
  readonly codec: number;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const CONTROL_WRITE_MS = 1000;
/** After a failed authentication, calls fail at once (same UNAUTHENTICATED) for this long; as the async channel. */
const AUTH_RETRY_MS = 1000;
const controlHeader: OutgoingHeader = { kind: FrameKind.PONG, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };
/** The header of every request (one call at a time per thread; each wire copies it when sending). */
const requestHeader: OutgoingHeader = { kind: FrameKind.REQUEST, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };

interface DescriptorCell {
  fd: number;
  readonly addon: SyncSocketAddon;
}

/** Closes the descriptor of a connection collected without close(). */
const descriptors = new FinalizationRegistry<DescriptorCell>((cell) => {
  if (cell.fd < 0) return;
  try {
    cell.addon.close(cell.fd);
  } catch {
    // Nothing to report to: the connection is gone.
  }
});

/**
 * The native engine for blocking calls to `target`, or a throw saying why there is none:
 * RpcError FAILED_PRECONDITION when the addon, the target or an option rules it out (see
 * nativeUnsupported), INVALID_ARGUMENT for a bad option value.
 */
export function createNativeSyncConnection(target: string, options: ChannelOptions, codec: Codec): NativeSyncConnection {
  const unsupported = nativeUnsupported(target, options);
  const load = loadSyncSocket();
  const address = nativeAddress(target);
  if (unsupported !== undefined || !load.ok || typeof address === "string") {
    throw new RpcError(Code.FAILED_PRECONDITION, `native blocking calls to ${target} are not possible: ${unsupported ?? "unsupported target"}`);
  }
  // Validates every option, and derives the auth key (none to derive when a channel passes its derived key).
  const normalized = normalizeChannelOptions(target, { ...options, codec });
  return new NativeSyncConnection(load.addon, {
    target,
    address,
    codecId: codec.id,
    codecName: codec.name,
    maxBodyBytes: normalized.maxBodyBytes,
    connectTimeoutMs: normalized.connectTimeoutMs,
    auth: normalized.auth,
  });
}
