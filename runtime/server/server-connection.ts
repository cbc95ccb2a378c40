import type { AuthFailure } from "../auth/auth-failure.js";
import { AuthStepType, encodeAuthMessage, MAX_AUTH_BODY_BYTES } from "../auth/auth-messages.js";
import type { AuthSuccess } from "../auth/auth-step.js";
import { serverAuthGuard, type ServerAuthGuard } from "../auth/server-auth-guard.js";
import type { PeerInfo } from "../call-context.js";
import { Code } from "../code.js";
import { rawCodecById } from "../codec/raw.js";
import { codecById } from "../codec/registry.js";
import { deadlineFromField } from "../deadline.js";
import type { ServerUnaryCall } from "../interceptor.js";
import { EMPTY_METADATA, type Metadata } from "../metadata.js";
import { RpcError } from "../rpc-error.js";
import type { Connection, ConnectionHandler } from "../transport/transport.js";
import { encodeErrorBody } from "../wire/error-body.js";
import type { OutgoingHeader } from "../wire/frame-writer.js";
import { FrameFlags, FrameKind, type FrameHeader } from "../wire/header.js";
import { decodeMetadata } from "../wire/metadata-block.js";
import { ProtocolError } from "../wire/protocol-error.js";
import { SeqTable } from "../wire/seq-table.js";
import { hex, type Route } from "./router.js";
import { ServerCall } from "./server-call.js";
import type { ServerCore } from "./server-core.js";

const EMPTY_BODY = new Uint8Array(0);

/** AUTH frames carry codec, flags, status, seq, method and timeout 0 (docs/auth.md). */
const AUTH_HEADER: OutgoingHeader = { kind: FrameKind.AUTH, codec: 0, flags: 0, status: 0, seq: 0, method: 0, timeoutMs: 0 };

/**
 * A connection that failed authentication is ended (its FAILURE flushed first, so the client
 * reads why); a peer that keeps its side open longer than this is cut off.
 */
const AUTH_LINGER_MS = 1000;

/**
 * A server without authentication answers any AUTH frame with this, then closes: a client
 * configured with auth sends HELLO first, so it learns at once that it has the wrong expectation.
 */
const NO_AUTH_FAILURE = encodeAuthMessage({
  step: AuthStepType.FAILURE,
  message: "UNAUTHENTICATED: this server does not use authentication: create the channel without the auth option",
});

/**
 * Serves one accepted connection: turns REQUEST frames into handler calls and their results into
 * RESPONSE frames, answers PING, honours CANCEL, and aborts what is still running when the
 * connection closes. Any failure of a single call is answered on that call's seq; only a broken
 * stream (bad framing, a frame kind a client must not send) closes the connection.
 *
 * Authentication (when the server has `auth`): the guard sends the CHALLENGE as soon as the
 * connection starts, and until the client has authenticated every frame goes to it; any frame
 * but AUTH then ends the connection with a FAILURE. After success the frame path is the one of a
 * server without auth plus one boolean test, and AUTH frames (re-challenge answers) go to the
 * guard. A failed re-challenge ends the connection the same way.
 */
export class ServerConnection implements ConnectionHandler {
  /** Calls running on this connection, by seq (CANCEL and close find them here). */
  private readonly calls = new SeqTable<ServerCall>();
  /** Replaced (identity set) when the client authenticates; calls take it as their context.peer. */
  private peer: PeerInfo;
  /** The server requires authentication and this client has not passed it (or failed later): frames go to the guard. */
  private unauthenticated: boolean;
  private readonly guard: ServerAuthGuard | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Reused for every frame sent (the connection copies it). */
  private readonly out: OutgoingHeader = {
    kind: FrameKind.RESPONSE,
    codec: 0,
    flags: 0,
    status: 0,
    seq: 0,
    method: 0,
    timeoutMs: 0,
  };
  private goingAway = false;

  constructor(
    private readonly core: ServerCore,
    readonly connection: Connection,
  ) {
    this.peer = { address: connection.peerAddress, identity: undefined };
    const auth = core.auth;
    if (auth === undefined) {
      this.unauthenticated = false;
      this.guard = undefined;
      return;
    }
    this.unauthenticated = true;
    // Until the client has authenticated only AUTH frames are accepted: nothing larger is read.
    connection.limitReceive?.(MAX_AUTH_BODY_BYTES, "before authentication");
    this.guard = serverAuthGuard(
      auth,
      { peerKey: throttleKey(connection.peerAddress), peerAddress: connection.peerAddress },
      {
        send: (body) => this.connection.send(AUTH_HEADER, body),
        authenticated: (success) => this.authenticated(success),
        failed: (failure) => this.authFailed(failure),
      },
    );
  }

  /** Starts reading, and with auth sends the CHALLENGE (the server speaks first). */
  start(): void {
    this.connection.start(this);
    this.guard?.start();
  }

  get active(): number {
    return this.calls.size;
  }

  onFrame(header: FrameHeader, body: Uint8Array): void {
    if (this.unauthenticated) {
      this.handshakeFrame(header, body);
      return;
    }
    switch (header.kind) {
      case FrameKind.REQUEST:
        this.dispatch(header, body);
        return;
      case FrameKind.CANCEL: {
        const call = this.calls.get(header.seq);
        if (call !== undefined) {
          call.silenced = true;
          call.abort(new RpcError(Code.CANCELLED, `call to ${call.method.fullName} cancelled by the client`));
        }
        return;
      }
      case FrameKind.PING:
        this.send(FrameKind.PONG, 0, 0, header.seq, 0, body);
        return;
      case FrameKind.PONG:
        return;
      case FrameKind.AUTH:
        if (this.guard !== undefined) this.guard.receive(body);
        else this.refuseAuthentication();
        return;
      default:
        this.connection.destroy(
          new ProtocolError(`a client must not send ${FrameKind[header.kind]} frames (seq ${header.seq})`, undefined),
        );
    }
  }

  onClose(): void {
    this.guard?.close();
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    const reason = new RpcError(Code.CANCELLED, `the connection from ${this.peer.address} closed`);
    for (const call of this.calls.values()) {
      call.silenced = true;
      call.abort(reason);
    }
    this.calls.clear();
    this.core.connectionClosed(this);
  }

  /** Tells the client to send nothing more here (server draining). */
  goAway(): void {
    if (this.goingAway) return;
    this.goingAway = true;
    // No call runs on a connection that has not authenticated, and a GOAWAY would break its handshake.
    if (this.unauthenticated) this.connection.end();
    else this.send(FrameKind.GOAWAY, 0, 0, 0, 0, EMPTY_BODY);
  }

  /** Aborts the signals of the calls still running (server stopping after its grace period). */
  abortAll(reason: RpcError): void {
    for (const call of this.calls.values()) call.abort(reason);
  }

  /** A frame before authentication: AUTH goes to the guard; anything else fails the handshake (FAILURE, close). */
  private handshakeFrame(header: FrameHeader, body: Uint8Array): void {
    if (header.kind === FrameKind.AUTH) this.guard!.receive(body);
    else this.guard!.admit(header.kind);
  }

  private authenticated(success: AuthSuccess): void {
    this.peer = { address: this.peer.address, identity: success.identity };
    this.unauthenticated = false;
    this.connection.limitReceive?.(undefined);
    this.connection.bindSession?.(success.session);
  }

  /** The guard sent the client its FAILURE (if any): report, serve nothing more, close. */
  private authFailed(failure: AuthFailure): void {
    this.unauthenticated = true;
    this.core.authFailed({
      peer: this.peer.address,
      name: failure.claimedName,
      reason: failure.reason,
      message: failure.logMessage,
    });
    this.endAfterFailure();
  }

  /** An AUTH frame, but this server has no authentication: say so (the client fails UNAUTHENTICATED), then close. */
  private refuseAuthentication(): void {
    this.unauthenticated = true;
    this.connection.send(AUTH_HEADER, NO_AUTH_FAILURE);
    this.endAfterFailure();
  }

  /** Flushes what is queued (the FAILURE) and closes; destroys the socket if the peer lingers. */
  private endAfterFailure(): void {
    this.connection.end();
    if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => this.connection.destroy(), AUTH_LINGER_MS);
      this.lingerTimer.unref();
    }
  }

  private dispatch(header: FrameHeader, body: Uint8Array): void {
    const seq = header.seq;
    const codecId = header.codec;
    const methodId = header.method;
    const core = this.core;
    if (this.goingAway) {
      // Not started, and marked so: the client may send it again elsewhere.
      const message = "the server is shutting down: send new calls elsewhere";
      this.fail(seq, codecId, methodId, Code.UNAVAILABLE, message, FrameFlags.REFUSED);
      return;
    }
    const route = core.router.get(methodId);
    if (route === undefined) {
      const served = core.router.serviceNames.join(", ") || "none";
      this.fail(seq, codecId, methodId, Code.UNIMPLEMENTED, `unknown method id 0x${hex(methodId)} (services served here: ${served})`);
      return;
    }
    const name = route.method.fullName;
    if (core.active >= core.maxConcurrentCalls) {
      const message = `${name} refused: the server is at its limit of ${core.maxConcurrentCalls} concurrent calls`;
      this.fail(seq, codecId, methodId, Code.RESOURCE_EXHAUSTED, message);
      return;
    }
    const codec = route.raw ? rawCodecById(codecId) : codecById(codecId);
    if (codec === undefined) {
      const message = `call to ${name} uses unknown codec id ${codecId}: this server speaks 0 (protobuf), 1 (json), 2 (msgpack)`;
      this.fail(seq, codecId, methodId, Code.INVALID_ARGUMENT, message);
      return;
    }
    const deadline = deadlineFromField(header.timeoutMs, this.connection.receivedAt);
    if (deadline !== Infinity && Date.now() >= deadline) {
      this.fail(seq, codecId, methodId, Code.DEADLINE_EXCEEDED, `deadline of ${name} passed before it could be dispatched`);
      return;
    }
    if (this.calls.get(seq) !== undefined) {
      this.connection.destroy(new ProtocolError(`the client reused seq ${seq} while that call is still running`, undefined));
      return;
    }
    let metadata: Metadata = EMPTY_METADATA;
    let request: unknown;
    try {
      let message = body;
      if ((header.flags & FrameFlags.METADATA) !== 0) {
        const decoded = decodeMetadata(body);
        metadata = decoded.metadata;
        message = body.subarray(decoded.messageOffset);
      }
      request = codec.decode(route.method.requestType, message);
    } catch (error) {
      const rpcError = RpcError.from(error, Code.INVALID_ARGUMENT);
      this.fail(seq, codecId, methodId, rpcError.code, `request to ${name}: ${rpcError.rawMessage}`);
      return;
    }
    const call = new ServerCall(route.method, deadline, this.peer, metadata, seq, codec);
    this.calls.set(seq, call);
    core.active++;
    let result: unknown;
    try {
      result = core.intercepted === undefined
        ? route.handler(request, call)
        : core.intercepted(serverUnaryCall(route, request, call));
    } catch (error) {
      this.finishError(call, error);
      return;
    }
    if (isThenable(result)) void this.settle(call, result);
    else this.finishOk(call, result);
  }

  private async settle(call: ServerCall, pending: PromiseLike<unknown>): Promise<void> {
    let value: unknown;
    try {
      value = await pending;
    } catch (error) {
      this.finishError(call, error);
      return;
    }
    this.finishOk(call, value);
  }

  private finishOk(call: ServerCall, value: unknown): void {
    this.complete(call);
    if (call.silenced) return;
    const method = call.method;
    if (value === undefined || value === null) {
      const message = `the handler of ${method.fullName} returned ${value} instead of a response`;
      this.fail(call.seq, call.codec.id, method.id, Code.INTERNAL, message);
      return;
    }
    let body: Uint8Array;
    try {
      body = call.codec.encode(method.responseType, value);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.fail(call.seq, call.codec.id, method.id, Code.INTERNAL, `cannot encode the response of ${method.fullName}: ${reason}`);
      return;
    }
    this.send(FrameKind.RESPONSE, call.codec.id, Code.OK, call.seq, method.id, body);
  }

  private finishError(call: ServerCall, error: unknown): void {
    this.complete(call);
    if (call.silenced) return;
    const rpcError = RpcError.from(error, Code.INTERNAL);
    this.fail(call.seq, call.codec.id, call.method.id, rpcError.code, rpcError.rawMessage);
  }

  private complete(call: ServerCall): void {
    call.release();
    // No other call can hold this seq: a reused seq closes the connection (see dispatch).
    this.calls.delete(call.seq);
    this.core.callDone();
  }

  private fail(seq: number, codecId: number, method: number, code: Code, message: string, flags = 0): void {
    this.send(FrameKind.RESPONSE, codecId, code, seq, method, encodeErrorBody(message), flags);
  }

  private send(kind: FrameKind, codecId: number, status: number, seq: number, method: number, body: Uint8Array, flags = 0): void {
    const out = this.out;
    out.kind = kind;
    out.flags = flags;
    out.codec = codecId;
    out.status = status;
    out.seq = seq;
    out.method = method;
    this.connection.send(out, body);
  }
}

/**
 * The key the failure throttle counts under: the host of an IP peer ("ip:10.0.0.9": its port
 * changes with every connection, so it must not count), else the whole address. Every unix peer
 * of one socket shares one key: Node exposes no peer credentials (SO_PEERCRED) to tell them apart.
 * Every netlink peer shares the key "netlink:local": a netlink port id is chosen anew by the
 * kernel for each client socket (or by the peer itself), so keyed by port id every connection
 * would start with a clean record and the throttle would never slow a guesser down.
 */
export function throttleKey(peerAddress: string): string {
  if (peerAddress.startsWith("netlink:")) return "netlink:local";
  const match = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^/:]+):\d+$/i.exec(peerAddress);
  return match === null ? peerAddress : `ip:${match[1]!.replace(/^\[|\]$/g, "")}`;
}

function serverUnaryCall(route: Route, request: unknown, context: ServerCall): ServerUnaryCall {
  return { side: "server", method: route.method, request, metadata: context.metadata, context };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
